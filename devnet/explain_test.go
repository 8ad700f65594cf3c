package devnet

import (
	"context"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
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
	x := explaintest.Mixed(t, tab)
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
	explaintest.CheckGradient(t, x, grad, 1.0/1024, func(row []float32) (float64, []bool) { return naivePhi(m, row) })
}

// TestExplainCompleteness: on anomalies and normal rows alike, the
// attributions and the offset add up to the score, the offset being the
// score of the background's median.
func TestExplainCompleteness(t *testing.T) {
	m, tab := explainFixture(t)
	x := explaintest.Mixed(t, tab)
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
	explaintest.CheckCompleteness(t, a, sc, explaintest.BaselineScore(t, m, tab.Background))
	explaintest.CheckConcurrent(t, m, x, tab.Background, a)
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
	explaintest.CheckBadInput(t, New(fastOptions(1)), m, tab)
}

// benchSet is DevNet of the default width, fitted briefly, with the
// benchRows background and rows.
func benchSet(b *testing.B) (*Detector, *data.Dataset, *data.Dataset) {
	train, lab, bg, x := explaintest.BenchRows()
	o := fastOptions(1)
	o.Epochs = 2
	m := New(o)
	if err := m.Fit(context.Background(), detector.TrainSet{X: train, Anomalies: lab}); err != nil {
		b.Fatal(err)
	}
	return m, bg, x
}

// BenchmarkScore256, BenchmarkExplain256, BenchmarkExplain256Steps32 and
// BenchmarkExplainRatio256 score and explain the same 256 rows (21
// features, a background of 500 rows): the cost of integrated gradients in
// units of plain scoring (explaintest.BenchScore says how to read them).
func BenchmarkScore256(b *testing.B) {
	m, _, x := benchSet(b)
	explaintest.BenchScore(b, m, x)
}

// BenchmarkExplain256: see BenchmarkScore256.
func BenchmarkExplain256(b *testing.B) {
	m, bg, x := benchSet(b)
	explaintest.BenchExplain(b, m, bg, x)
}

// BenchmarkExplain256Steps32: see BenchmarkScore256.
func BenchmarkExplain256Steps32(b *testing.B) {
	m, bg, x := benchSet(b)
	explaintest.BenchIGSteps32(b, m.gradFunc, bg, x)
}

// BenchmarkExplainRatio256: see BenchmarkScore256.
func BenchmarkExplainRatio256(b *testing.B) {
	m, bg, x := benchSet(b)
	explaintest.BenchExplainRatio(b, m, m.gradFunc, bg, x)
}
