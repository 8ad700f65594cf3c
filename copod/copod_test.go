package copod

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/ecod"
)

// brute computes COPOD's scores from the paper's definitions by counting:
// U = F̂(x) = (#{train ≤ x}+1)/(n+1), V = (#{train ≥ x}+1)/(n+1) (the
// empirical copula's margins, the new value counted among the training
// values), W by the sign of the paper's skewness b_j, and the three sums
// or PyOD's per-feature rule. It shares no code with the package.
func brute(train []float32, n, d int, test []float32, m int, mode string) []float64 {
	skew := make([]float64, d)
	for j := 0; j < d; j++ {
		var mean float64
		for i := 0; i < n; i++ {
			mean += float64(train[i*d+j])
		}
		mean /= float64(n)
		var m2, m3 float64
		for i := 0; i < n; i++ {
			dv := float64(train[i*d+j]) - mean
			m2 += dv * dv
			m3 += dv * dv * dv
		}
		if m2 > 0 {
			skew[j] = (m3 / float64(n)) / math.Pow(m2/float64(n), 1.5)
		}
	}
	out := make([]float64, m)
	for r := 0; r < m; r++ {
		var pl, pr, ps, py float64
		for j := 0; j < d; j++ {
			z := test[r*d+j]
			le, ge := 0, 0
			for i := 0; i < n; i++ {
				if train[i*d+j] <= z {
					le++
				}
				if train[i*d+j] >= z {
					ge++
				}
			}
			u := float64(le+1) / float64(n+1)
			v := float64(ge+1) / float64(n+1)
			w := v
			if skew[j] < 0 {
				w = u
			}
			pl -= math.Log(u)
			pr -= math.Log(v)
			ps -= math.Log(w)
			py += max(-math.Log(w), (-math.Log(u)-math.Log(v))/2)
		}
		out[r] = max(pl, pr, ps)
		if mode == AggregatePyOD {
			out[r] = py
		}
	}
	return out
}

func table(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, n*d)
	for i := range x {
		switch (i % d) % 3 {
		case 0:
			x[i] = float32(r.ExpFloat64())
		case 1:
			x[i] = -float32(r.ExpFloat64())
		default:
			x[i] = float32(r.IntN(4))
		}
	}
	return x
}

func ds(x []float32, n, d int) *data.Dataset {
	return &data.Dataset{Name: "t", N: n, Shape: []int{d}, X: x}
}

func fitScore(t *testing.T, o Options, train []float32, n, d int, test []float32, m int) (*Detector, []float64) {
	t.Helper()
	det := New(o)
	if err := det.Fit(context.Background(), detector.TrainSet{X: ds(train, n, d)}); err != nil {
		t.Fatal(err)
	}
	s, err := det.Score(context.Background(), ds(test, m, d))
	if err != nil {
		t.Fatal(err)
	}
	return det, s
}

func TestScoresMatchDefinition(t *testing.T) {
	for _, mode := range []string{AggregatePaper, AggregatePyOD} {
		for _, n := range []int{1, 3, 400} {
			d, m := 6, 150
			train, test := table(n, d, uint64(n)), table(m, d, 77)
			for i := range test[:60] {
				test[i] *= 3
			}
			o := DefaultOptions()
			o.Aggregate = mode
			det, got := fitScore(t, o, train, n, d, test, m)
			want := brute(train, n, d, test, m, mode)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12*max(1, want[i]) {
					t.Fatalf("%s n=%d: score %d = %v, want %v", mode, n, i, got[i], want[i])
				}
			}
			a, err := det.Explain(context.Background(), ds(test, m, d), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < m; i++ {
				var sum float64
				for _, v := range a.Row(i) {
					sum += float64(v)
				}
				if a.Offset[i] != 0 || a.Technique != "exact" || math.Abs(sum-got[i]) > 1e-6*float64(d)*max(1, got[i]) {
					t.Fatalf("%s row %d: attributions sum to %v, score %v", mode, i, sum, got[i])
				}
			}
		}
	}
}

// A hand-computed case. Training values 0, 0, 1, 5 (skewed right) and
// 0, −1, −1, −9 (skewed left); test row (5, −9).
func TestHandComputed(t *testing.T) {
	train := []float32{0, 0, 0, -1, 1, -1, 5, -9}
	test := []float32{5, -9}
	// Feature 0 at 5: U = 5/5, V = 2/5. Feature 1 at −9: U = 2/5, V = 5/5.
	// p_l = log(5/2), p_r = log(5/2), p_s = V₀·U₁ → 2·log(5/2).
	_, got := fitScore(t, DefaultOptions(), train, 4, 2, test, 1)
	if want := 2 * math.Log(2.5); math.Abs(got[0]-want) > 1e-12 {
		t.Errorf("paper score %v, want %v", got[0], want)
	}
	// PyOD: per feature max(−log W, mean) = log(5/2) each.
	o := DefaultOptions()
	o.Aggregate = AggregatePyOD
	_, got = fitScore(t, o, train, 4, 2, test, 1)
	if want := 2 * math.Log(2.5); math.Abs(got[0]-want) > 1e-12 {
		t.Errorf("pyod score %v, want %v", got[0], want)
	}
	// At (0, 0): U₀ = 3/5, V₀ = 5/5, U₁ = 5/5, V₁ = 2/5: p_l = log(5/3),
	// p_r = log(5/2), p_s = −log V₀ − log U₁ = 0.
	_, got = fitScore(t, DefaultOptions(), train, 4, 2, []float32{0, 0}, 1)
	if want := math.Log(2.5); math.Abs(got[0]-want) > 1e-12 {
		t.Errorf("paper score at the origin %v, want %v", got[0], want)
	}
}

// Degenerate training data fits and scores as the definition says: a
// constant column, identical rows, a single row.
func TestDegenerateTraining(t *testing.T) {
	for _, c := range []struct {
		x    []float32
		n, d int
	}{{[]float32{1, 7, 2, 7, 3, 7}, 3, 2}, {[]float32{4, 4, 4, 4}, 2, 2}, {[]float32{4, 4}, 1, 2}} {
		test := []float32{c.x[0], 7, c.x[0], 8, -3, 6}
		_, got := fitScore(t, DefaultOptions(), c.x, c.n, c.d, test, 3)
		want := brute(c.x, c.n, c.d, test, 3, AggregatePaper)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Errorf("%v: score %d = %v, want %v", c.x, i, got[i], want[i])
			}
		}
	}
}

func TestUnmarshalChecks(t *testing.T) {
	train := table(30, 3, 1)
	det, _ := fitScore(t, DefaultOptions(), train, 30, 3, train[:3], 1)
	p, err := det.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p.Tensors[0].Data[0], p.Tensors[0].Data[29] = p.Tensors[0].Data[29], p.Tensors[0].Data[0]
	if err := New(DefaultOptions()).Unmarshal(p); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("unsorted values: %v", err)
	}
	p.Config = []byte(`{"options":{"aggregate":"max"},"shape":[3],"n":30}`)
	if err := New(DefaultOptions()).Unmarshal(p); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("bad option: %v", err)
	}
}

func TestConformance(t *testing.T) {
	// No setting makes Fit slow (one sort of each column): the
	// cancellation check alone trains on SlowTrain, large enough that a
	// fit on one goroutine takes well over 200 ms, with garbage collected
	// early to bound its memory.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	detectortest.Conformance(t, detectortest.Case{
		Method:    Method,
		Settings:  map[string]string{},
		Slow:      map[string]string{},
		Bad:       map[string]string{"aggregate": "mean"},
		Train:     detectortest.Gaussian(500, 16, 0, 0, 1),
		SlowTrain: detectortest.Gaussian(60000, 256, 0, 0, 1),
		Test:      detectortest.Gaussian(40, 16, 0.5, 0, 2),
	})
}

func TestRegistered(t *testing.T) {
	detectortest.Registered(t, Method, detector.Unsupervised|detector.Tables)
	o := DefaultOptions()
	detectortest.OptionValues(t, &o, map[string]string{"aggregate": "paper"})
}

// As published, COPOD's score is ECOD's: with the default options the two
// detectors give the same scores, bit for bit.
func TestSameAsECODByDefault(t *testing.T) {
	train, test := table(700, 9, 1), table(300, 9, 2)
	_, got := fitScore(t, DefaultOptions(), train, 700, 9, test, 300)
	e := ecod.New(ecod.DefaultOptions())
	if err := e.Fit(context.Background(), detector.TrainSet{X: ds(train, 700, 9)}); err != nil {
		t.Fatal(err)
	}
	want, err := e.Score(context.Background(), ds(test, 300, 9))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("COPOD's default scores differ from ECOD's")
	}
}
