package explaintest

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/explain"
)

// The checks and benchmark bodies that every detector explained by
// integrated gradients through a hand-written input gradient (DevNet, Deep
// SAD, DPLAN) runs on its own fitted model.

// Mixed returns the table's anomalies to explain followed by its first
// 100 background rows: a batch with scores both far from and close to the
// baseline's.
func Mixed(t testing.TB, tab *Table) *data.Dataset {
	t.Helper()
	bg := &data.Dataset{N: 100, Shape: tab.Background.Shape, X: tab.Background.X[:100*D], Y: make([]int, 100)}
	x, err := data.Concat("mixed", tab.Test, bg)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// CheckGradient compares grad (the gradient pass's, n×d for the rows of
// x) with central differences of naive, a float64 re-implementation of the
// score that also returns the pattern of its hidden units (active or not).
// A difference whose two points change the pattern crosses a kink and is
// skipped; step is a power of two, so that x ± step is exact in float32.
func CheckGradient(t *testing.T, x *data.Dataset, grad []float32, step float64, naive func([]float32) (float64, []bool)) {
	t.Helper()
	d := x.Dim()
	checked, pairs := 0, 0
	for i := 0; i < x.N; i++ {
		row := slices.Clone(x.Row(i))
		_, at := naive(row)
		for k := 0; k < d; k++ {
			pairs++
			crossed := false
			num := detectortest.CentralDifference(row, k, step, func() float64 {
				s, p := naive(row)
				crossed = crossed || !slices.Equal(p, at)
				return s
			})
			if crossed {
				continue
			}
			checked++
			if g := float64(grad[i*d+k]); math.Abs(g-num) > 1e-4*max(1, math.Abs(num)) {
				t.Errorf("row %d feature %d: gradient %v, finite difference %v", i, k, g, num)
			}
		}
	}
	if checked < pairs*9/10 {
		t.Fatalf("only %d of %d derivatives away from the kinks", checked, pairs)
	}
	t.Logf("%d of %d derivatives checked", checked, pairs)
}

// CheckCompleteness fails the test unless the offset is the baseline's
// score and each row of a adds up, with its offset, to the row's score
// within 1% of |score − offset|. Where the attributions cancel out, their
// magnitude Σ|a_j| more than 4 times |score − offset| (rows scored about as
// the baseline is), the trapezoid rule's error, a fraction of Σ|a_j| that
// kinks on the path leave behind even at the driver's 256 steps, is not
// small beside |score − offset|: those rows must be within 0.5% of
// Σ|a_j| instead.
func CheckCompleteness(t *testing.T, a *detector.Attributions, scores []float64, baseScore float64) {
	t.Helper()
	worst, worstLoose, loose := 0.0, 0.0, 0
	for i := 0; i < a.N; i++ {
		if math.Abs(a.Offset[i]-baseScore) > 1e-6*max(1, math.Abs(baseScore)) {
			t.Fatalf("row %d: offset %v, baseline score %v", i, a.Offset[i], baseScore)
		}
		var sum, mag float64
		for _, v := range a.Row(i) {
			sum += float64(v)
			mag += math.Abs(float64(v))
		}
		delta := scores[i] - a.Offset[i]
		gap := math.Abs(sum - delta)
		if mag > 4*math.Abs(delta) {
			loose++
			worstLoose = max(worstLoose, gap/mag)
			if gap > 0.005*mag {
				t.Errorf("row %d: attributions sum to %v, score − baseline score = %v, Σ|attribution| %v", i, sum, delta, mag)
			}
			continue
		}
		worst = max(worst, gap/math.Abs(delta))
		if gap > 0.01*math.Abs(delta)+1e-5*mag {
			t.Errorf("row %d: attributions sum to %v, score − baseline score = %v", i, sum, delta)
		}
	}
	t.Logf("largest completeness gap: %.2g of |score − baseline score| (%d rows); %.2g of Σ|attribution| (%d rows that cancel out)",
		worst, a.N-loose, worstLoose, loose)
}

// CheckConcurrent explains x against bg from several goroutines at once
// and fails the test unless each gets want, bit for bit: Explain is safe
// for concurrent use and deterministic.
func CheckConcurrent(t *testing.T, e detector.Explainer, x, bg *data.Dataset, want *detector.Attributions) {
	t.Helper()
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			a, err := e.Explain(context.Background(), x, bg)
			switch {
			case err != nil:
				errs <- err
			case !slices.Equal(a.Values, want.Values) || !slices.Equal(a.Offset, want.Offset):
				errs <- errors.New("concurrent Explain calls gave other attributions")
			default:
				errs <- nil
			}
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// BaselineScore scores the per-feature median of bg, computed here by
// sorting each column.
func BaselineScore(t *testing.T, det detector.Detector, bg *data.Dataset) float64 {
	t.Helper()
	d := bg.Dim()
	med := &data.Dataset{N: 1, Shape: bg.Shape, X: make([]float32, d)}
	for j := 0; j < d; j++ {
		var col []float64
		for i := 0; i < bg.N; i++ {
			col = append(col, float64(bg.X[i*d+j]))
		}
		slices.Sort(col)
		med.X[j] = float32((col[(bg.N-1)/2] + col[bg.N/2]) / 2)
	}
	s, err := det.Score(context.Background(), med)
	if err != nil {
		t.Fatal(err)
	}
	return s[0]
}

// CheckBadInput checks Explain's errors: an unfitted model, samples or a
// background of another width, no or an empty background, a NaN, a
// cancelled context; and no samples to explain gives no attributions.
func CheckBadInput(t *testing.T, unfitted, m detector.Explainer, tab *Table) {
	t.Helper()
	ctx := context.Background()
	bg, x := tab.Background, tab.Test
	if _, err := unfitted.Explain(ctx, x, bg); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("unfitted: %v", err)
	}
	wide := &data.Dataset{X: make([]float32, 10), N: 2, Shape: []int{5}}
	if _, err := m.Explain(ctx, wide, bg); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("samples of another width: %v", err)
	}
	if _, err := m.Explain(ctx, x, wide); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("background of another width: %v", err)
	}
	if _, err := m.Explain(ctx, x, nil); !errors.Is(err, detector.ErrInput) {
		t.Errorf("no background: %v", err)
	}
	empty := &data.Dataset{Shape: []int{D}}
	if _, err := m.Explain(ctx, x, empty); !errors.Is(err, detector.ErrInput) {
		t.Errorf("empty background: %v", err)
	}
	nan := &data.Dataset{N: 1, Shape: []int{D}, X: make([]float32, D)}
	nan.X[3] = float32(math.NaN())
	if _, err := m.Explain(ctx, nan, bg); !errors.Is(err, detector.ErrInput) {
		t.Errorf("NaN sample: %v", err)
	}
	if _, err := m.Explain(ctx, x, nan); !errors.Is(err, detector.ErrInput) {
		t.Errorf("NaN in the background: %v", err)
	}
	a, err := m.Explain(ctx, empty, bg)
	if err != nil || a.N != 0 || len(a.Values) != 0 {
		t.Errorf("no samples: %+v, %v", a, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := m.Explain(cctx, x, bg); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// BenchRows returns 2000 normal training rows, 20 labelled anomalies, a
// background of 500 normal rows and 256 rows to score or explain (16 of
// them anomalies), of 21 features: normal rows N(0.5, 0.1²), anomalies
// moved by ±0.4 in features 2 and 5.
func BenchRows() (train, labelled, bg, x *data.Dataset) {
	r := rand.New(rand.NewPCG(9, 25))
	const d = 21
	mk := func(n, a int) *data.Dataset {
		ds := &data.Dataset{N: n, Shape: []int{d}, X: make([]float32, n*d), Y: make([]int, n)}
		for i := 0; i < n; i++ {
			row := ds.X[i*d : (i+1)*d]
			for j := range row {
				row[j] = float32(0.5 + 0.1*r.NormFloat64())
			}
			if i < a {
				row[2] += 0.4
				row[5] -= 0.4
				ds.Y[i] = 1
			}
		}
		return ds
	}
	return mk(2000, 0), mk(20, 20), mk(500, 0), mk(256, 16)
}

// BenchScore, BenchExplain, BenchIGSteps32 and BenchExplainRatio are the
// bodies of a differentiable detector's explanation benchmarks, run on the
// rows of BenchRows: plain scoring, Explain, integrated gradients at
// exactly 32 steps through grad (the detector's hand-written input
// gradient, the baseline's median included) and the interleaved ratio of
// their fastest rounds. Their ns/op ratios are the cost of integrated
// gradients in units of plain scoring; BenchIGSteps32 also reports the
// path points per sample that the default Explain computes (32 for a
// sample that needs no refinement).
func BenchScore(b *testing.B, det detector.Detector, x *data.Dataset) {
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := det.Score(context.Background(), x); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchExplain: see BenchScore.
func BenchExplain(b *testing.B, e detector.Explainer, bg, x *data.Dataset) {
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := e.Explain(context.Background(), x, bg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchIGSteps32: see BenchScore.
func BenchIGSteps32(b *testing.B, grad explain.GradFunc, bg, x *data.Dataset) {
	ctx := context.Background()
	base, err := explain.MedianBaseline(bg, x.Shape)
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	f := func(ctx context.Context, x []float32, n int, g []float32) ([]float64, error) {
		rows += n
		return grad(ctx, x, n, g)
	}
	if _, err := explain.IntegratedGradients(ctx, f, x, base, explain.IGOptions{}); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		base, err := explain.MedianBaseline(bg, x.Shape)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := explain.IntegratedGradients(ctx, grad, x, base, explain.IGOptions{MaxSteps: 32}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows-1)/float64(x.N), "points/sample")
}

// ExplainScorer is a fitted detector with attributions.
type ExplainScorer interface {
	detector.Detector
	detector.Explainer
}

// BenchExplainRatio times Score and Explain of the same rows in turn, b.N
// rounds, and reports the ratio of their fastest rounds: on a shared
// machine the interleaved minimum is steadier than two benchmarks run
// minutes apart. "steps32/score" is the same ratio for integrated
// gradients at exactly 32 steps.
func BenchExplainRatio(b *testing.B, m ExplainScorer, grad explain.GradFunc, bg, x *data.Dataset) {
	ctx := context.Background()
	const reps = 10
	best := [3]time.Duration{math.MaxInt64, math.MaxInt64, math.MaxInt64}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		for r := 0; r < reps; r++ {
			if _, err := m.Score(ctx, x); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		if _, err := m.Explain(ctx, x, bg); err != nil {
			b.Fatal(err)
		}
		t2 := time.Now()
		base, err := explain.MedianBaseline(bg, x.Shape)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := explain.IntegratedGradients(ctx, grad, x, base, explain.IGOptions{MaxSteps: 32}); err != nil {
			b.Fatal(err)
		}
		t3 := time.Now()
		best[0] = min(best[0], t1.Sub(t0)/reps)
		best[1] = min(best[1], t2.Sub(t1))
		best[2] = min(best[2], t3.Sub(t2))
	}
	b.ReportMetric(float64(best[0].Nanoseconds()), "score-ns")
	b.ReportMetric(float64(best[1])/float64(best[0]), "explain/score")
	b.ReportMetric(float64(best[2])/float64(best[0]), "steps32/score")
}
