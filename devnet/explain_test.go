package devnet

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
	"github.com/oddity-ml/oddity/explain/explaintest"
)

// explainFixture is a DevNet fitted on the planted-cause table of package
// explaintest (its normal rows and labelled anomalies), and the table.
func explainFixture(t testing.TB) (*Detector, *explaintest.Table) {
	t.Helper()
	tab := explaintest.NewTable(1)
	o := fastOptions(3)
	o.Epochs, o.BatchesPerEpoch, o.BatchSize = 20, 20, 128 // fastOptions' schedule is too short to find features 2 and 5 for some seeds
	m := New(o)
	if err := m.Fit(context.Background(), detector.TrainSet{X: tab.Train, Anomalies: tab.Labelled}); err != nil {
		t.Fatal(err)
	}
	return m, tab
}

// naivePhi is φ(x) in float64 from the fitted weights, and which hidden
// units are active.
func naivePhi(m *Detector, x []float32) (float64, []bool) {
	h, d := m.w1.Shape[0], m.d
	phi, on := float64(m.b2.Data[0]), make([]bool, h)
	for j := 0; j < h; j++ {
		a := float64(m.b1.Data[j])
		for k := 0; k < d; k++ {
			a += float64(m.w1.Data[j*d+k]) * float64(x[k])
		}
		on[j] = a > 0
		phi += float64(m.w2.Data[j]) * max(a, 0)
	}
	return phi, on
}

// TestInputGradient checks the hand-written input gradient of the fitted
// network against central differences of a float64 re-implementation of
// φ, and its scores against Score's, bit for bit.
func TestInputGradient(t *testing.T) {
	m, tab := explainFixture(t)
	x := mixed(t, tab)
	ctx := context.Background()
	grad := make([]float32, len(x.X))
	got, err := m.gradFunc(ctx, x.X, x.N, grad)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Score(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	detectortest.WantScores(t, "gradient pass", got, want)
	checkGradient(t, x, grad, 1.0/1024, func(row []float32) (float64, []bool) { return naivePhi(m, row) })
}

// TestExplainCompleteness: on anomalies and normal rows alike, the
// attributions and the offset add up to the score, the offset being the
// score of the background's median.
func TestExplainCompleteness(t *testing.T) {
	m, tab := explainFixture(t)
	x := mixed(t, tab)
	ctx := context.Background()
	a, err := m.Explain(ctx, x, tab.Background)
	if err != nil {
		t.Fatal(err)
	}
	if a.N != x.N || a.D != explaintest.D || len(a.Values) != x.N*a.D || a.Technique != "integrated-gradients" {
		t.Fatalf("attributions %d×%d (%d values), %q", a.N, a.D, len(a.Values), a.Technique)
	}
	sc, err := m.Score(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	checkCompleteness(t, a, sc, baselineScore(t, m, tab.Background))
	checkConcurrent(t, m, x, tab.Background, a)
}

// TestExplainPlantedFeatures: the table's anomalies differ from normal
// rows in features 2 and 5 only; explaintest checks that those come first
// (and that a random order would not pass).
func TestExplainPlantedFeatures(t *testing.T) {
	m, tab := explainFixture(t)
	ctx := context.Background()
	a, err := m.Explain(ctx, tab.Test, tab.Background)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := m.Score(ctx, tab.Test)
	if err != nil {
		t.Fatal(err)
	}
	tab.Check(t, Method, a, sc)
}

func TestExplainBadInput(t *testing.T) {
	m, tab := explainFixture(t)
	checkBadInput(t, New(fastOptions(1)), m, tab)
}

// benchSet is DevNet of the default width, fitted briefly, with the
// benchRows background and rows.
func benchSet(b *testing.B) (*Detector, *data.Dataset, *data.Dataset) {
	train, lab, bg, x := benchRows()
	o := fastOptions(1)
	o.Epochs = 2
	m := New(o)
	if err := m.Fit(context.Background(), detector.TrainSet{X: train, Anomalies: lab}); err != nil {
		b.Fatal(err)
	}
	return m, bg, x
}

// mixed returns the table's anomalies to explain followed by its first
// 100 background rows: a batch with scores both far from and close to the
// baseline's.
func mixed(t testing.TB, tab *explaintest.Table) *data.Dataset {
	t.Helper()
	bg := &data.Dataset{N: 100, Shape: tab.Background.Shape, X: tab.Background.X[:100*explaintest.D], Y: make([]int, 100)}
	x, err := data.Concat("mixed", tab.Test, bg)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// checkGradient compares grad (the gradient pass's, n×d for the rows of
// x) with central differences of naive, a float64 re-implementation of the
// score that also returns the pattern of its hidden units (active or not).
// A difference whose two points change the pattern crosses a kink and is
// skipped; step is a power of two, so that x ± step is exact in float32.
func checkGradient(t *testing.T, x *data.Dataset, grad []float32, step float64, naive func([]float32) (float64, []bool)) {
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

// checkCompleteness fails the test unless the offset is the baseline's
// score and each row of a adds up, with its offset, to the row's score
// within 1% of |score − offset|. Where the attributions cancel out, their
// magnitude Σ|a_j| more than 4 times |score − offset| (rows scored about as
// the baseline is), the trapezoid rule's error, a fraction of Σ|a_j| that
// kinks on the path leave behind even at the driver's 256 steps, is not
// small beside |score − offset|: those rows must be within 0.5% of
// Σ|a_j| instead.
func checkCompleteness(t *testing.T, a *detector.Attributions, scores []float64, baseScore float64) {
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

// checkConcurrent explains x against bg from several goroutines at once
// and fails the test unless each gets want, bit for bit: Explain is safe
// for concurrent use and deterministic.
func checkConcurrent(t *testing.T, e detector.Explainer, x, bg *data.Dataset, want *detector.Attributions) {
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

// baselineScore scores the per-feature median of bg, computed here by
// sorting each column.
func baselineScore(t *testing.T, det detector.Detector, bg *data.Dataset) float64 {
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

// checkBadInput checks Explain's errors: an unfitted model, samples or a
// background of another width, no or an empty background, a NaN, a
// cancelled context; and no samples to explain gives no attributions.
func checkBadInput(t *testing.T, unfitted, m detector.Explainer, tab *explaintest.Table) {
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
	empty := &data.Dataset{Shape: []int{explaintest.D}}
	if _, err := m.Explain(ctx, x, empty); !errors.Is(err, detector.ErrInput) {
		t.Errorf("empty background: %v", err)
	}
	nan := &data.Dataset{N: 1, Shape: []int{explaintest.D}, X: make([]float32, explaintest.D)}
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

// benchRows returns 2000 normal training rows, 20 labelled anomalies, a
// background of 500 normal rows and 256 rows to score or explain (16 of
// them anomalies), of 21 features: normal rows N(0.5, 0.1²), anomalies
// moved by ±0.4 in features 2 and 5.
func benchRows() (train, labelled, bg, x *data.Dataset) {
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

// BenchmarkScore256 and BenchmarkExplain256 score and explain the same 256
// rows (21 features, a background of 500 rows); their ns/op ratio is the
// cost of integrated gradients in units of plain scoring.
// BenchmarkExplain256Steps32 is integrated gradients at exactly 32 steps
// (no refinement), the baseline's median included.
func BenchmarkScore256(b *testing.B) {
	m, _, x := benchSet(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Score(context.Background(), x); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExplain256: see BenchmarkScore256.
func BenchmarkExplain256(b *testing.B) {
	m, bg, x := benchSet(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Explain(context.Background(), x, bg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExplain256Steps32: see BenchmarkScore256. It also reports the
// path points per sample that the default Explain computes (32 for a
// sample that needs no refinement).
func BenchmarkExplain256Steps32(b *testing.B) {
	m, bg, x := benchSet(b)
	ctx := context.Background()
	base, err := explain.MedianBaseline(bg, x.Shape)
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	f := func(ctx context.Context, x []float32, n int, grad []float32) ([]float64, error) {
		rows += n
		return m.gradFunc(ctx, x, n, grad)
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
		if _, err := explain.IntegratedGradients(ctx, m.gradFunc, x, base, explain.IGOptions{MaxSteps: 32}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows-1)/float64(x.N), "points/sample")
}

// BenchmarkExplainRatio256 times Score and Explain of the same 256 rows in
// turn, b.N rounds, and reports the ratio of their fastest rounds: on a
// shared machine the interleaved minimum is steadier than two benchmarks
// run minutes apart. "steps32/score" is the same ratio for integrated
// gradients at exactly 32 steps.
func BenchmarkExplainRatio256(b *testing.B) {
	m, bg, x := benchSet(b)
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
		if _, err := explain.IntegratedGradients(ctx, m.gradFunc, x, base, explain.IGOptions{MaxSteps: 32}); err != nil {
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
