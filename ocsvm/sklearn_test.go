package ocsvm

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// sklearnCase is one case of testdata/sklearn_small.json (written by
// testdata/make_fixture.py with scikit-learn's OneClassSVM).
type sklearnCase struct {
	Name          string    `json:"name"`
	D             int       `json:"d"`
	Nu            float64   `json:"nu"`
	Gamma         string    `json:"gamma"`
	Tol           float64   `json:"tol"`
	Shrinking     bool      `json:"shrinking"`
	Train         []float64 `json:"train"`
	Test          []float64 `json:"test"`
	GammaUsed     float64   `json:"gamma_used"`
	Offset        float64   `json:"offset"`
	Support       []int     `json:"support"`
	DualCoef      []float64 `json:"dual_coef"`
	DecisionTrain []float64 `json:"decision_train"`
	DecisionTest  []float64 `json:"decision_test"`
	ScoreSamples  []float64 `json:"score_samples_test"`
	NIter         int       `json:"n_iter"`
}

func loadSklearnCases(t *testing.T) []sklearnCase {
	t.Helper()
	b, err := os.ReadFile("testdata/sklearn_small.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Cases []sklearnCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	return f.Cases
}

func table32(name string, v []float64, d int) *data.Dataset {
	x := &data.Dataset{Name: name, N: len(v) / d, Shape: []int{d}, X: make([]float32, len(v))}
	for i, f := range v {
		x.X[i] = float32(f)
	}
	return x
}

// sklearnStart is the starting point of scikit-learn's copy of libsvm
// (solve_one_class with unit sample weights): νl as a running sum of ν,
// one term per row, then α filled greedily from the front.
func sklearnStart(l int, nu float64) []float64 {
	nl := 0.0
	for range l {
		nl += nu
	}
	a := make([]float64, l)
	for i := 0; nl > 0 && i < l; i++ {
		a[i] = math.Min(1, nl)
		nl -= a[i]
	}
	return a
}

// From scikit-learn's starting point, the solver takes libsvm's path on
// the same float32 rows: the same working sets (so the same number of
// steps), the same support vectors and coefficients, and decision values
// that differ only by the rounding of sums taken in another order.
func TestSolverFollowsSklearnPath(t *testing.T) {
	ctx := context.Background()
	for _, c := range loadSklearnCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			train, test := table32("train", c.Train, c.D), table32("test", c.Test, c.D)
			gamma := resolveGamma(c.Gamma, train.X, c.D)
			k := newKernel(train.X, train.N, c.D, gamma, 1)
			sol, err := solveOneClass(ctx, k, sklearnStart(train.N, c.Nu), c.Tol, 1000, c.Shrinking, nil)
			if err != nil {
				t.Fatal(err)
			}
			if sol.iter != c.NIter {
				t.Errorf("%d SMO steps, scikit-learn %d", sol.iter, c.NIter)
			}
			var support []int
			for i, a := range sol.alpha {
				if a > 0 {
					support = append(support, i)
				}
			}
			if !slices.Equal(support, c.Support) {
				t.Fatalf("support vectors %v, scikit-learn %v", support, c.Support)
			}
			for k, i := range support {
				if math.Abs(sol.alpha[i]-c.DualCoef[k]) > 1e-12 {
					t.Errorf("alpha of row %d: %v, scikit-learn %v", i, sol.alpha[i], c.DualCoef[k])
				}
			}
			if math.Abs(sol.rho-c.Offset) > 1e-12*math.Max(1, c.Offset) {
				t.Errorf("rho %v, scikit-learn offset_ %v", sol.rho, c.Offset)
			}
			m := newModel(train.X, c.D, gamma, sol)
			got, err := m.score(ctx, test.X, test.N, 1)
			if err != nil {
				t.Fatal(err)
			}
			for i, s := range got {
				if math.Abs(-s-c.DecisionTest[i]) > 1e-12*math.Max(1, c.Offset) {
					t.Errorf("test row %d: −score %v, decision_function %v", i, -s, c.DecisionTest[i])
				}
			}
		})
	}
}

// The detector, from libsvm's own starting point: the same resolved γ;
// where ν·l as scikit-learn sums it is exact (ν = 0.5), the same path and
// decision values to rounding; elsewhere the two starts differ by one free
// α and the decision values agree to the order of the tolerance, as two
// ε-optimal solutions do.
func TestAgainstSklearn(t *testing.T) {
	ctx := context.Background()
	for _, c := range loadSklearnCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			o := DefaultOptions()
			o.Nu, o.Gamma, o.Tol, o.Shrinking, o.MaxSamples = c.Nu, c.Gamma, c.Tol, c.Shrinking, 0
			d := New(o)
			train, test := table32("train", c.Train, c.D), table32("test", c.Test, c.D)
			if err := d.Fit(ctx, detector.TrainSet{X: train}); err != nil {
				t.Fatal(err)
			}
			in := d.Info()
			if rel(in.Gamma, c.GammaUsed) > 1e-12 {
				t.Errorf("gamma %v, scikit-learn %v", in.Gamma, c.GammaUsed)
			}
			same := slices.Equal(startAlpha(train.N, c.Nu), sklearnStart(train.N, c.Nu))
			tol := 2 * c.Tol
			if same {
				tol = 1e-12 * math.Max(1, c.Offset)
				if in.Iterations != c.NIter || in.SupportVectors != len(c.Support) {
					t.Errorf("%d SMO steps and %d support vectors, scikit-learn %d and %d", in.Iterations, in.SupportVectors, c.NIter, len(c.Support))
				}
			}
			if math.Abs(in.Rho-c.Offset) > tol {
				t.Errorf("rho %v, scikit-learn offset_ %v (same start: %v)", in.Rho, c.Offset, same)
			}
			for _, set := range []struct {
				x    *data.Dataset
				want []float64
			}{{train, c.DecisionTrain}, {test, c.DecisionTest}} {
				got, err := d.Score(ctx, set.x)
				if err != nil {
					t.Fatal(err)
				}
				worst := 0.0
				for i, s := range got {
					// Score is −decision_function.
					worst = math.Max(worst, math.Abs(-s-set.want[i]))
				}
				if worst > tol {
					t.Errorf("%s: score differs from −decision_function by up to %g (same start: %v)", set.x.Name, worst, same)
				}
			}
			// score = offset_ − score_samples.
			got, _ := d.Score(ctx, test)
			for i, s := range got {
				if want := c.Offset - c.ScoreSamples[i]; math.Abs(s-want) > tol {
					t.Errorf("test %d: score %v, offset_ − score_samples %v", i, s, want)
					break
				}
			}
		})
	}
}

func rel(a, b float64) float64 { return math.Abs(a-b) / math.Max(math.Abs(b), 1e-300) }
