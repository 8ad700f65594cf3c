package deepsad

import (
	"context"
	"math"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain/explaintest"
)

// explainFixture is a Deep SAD fitted on the planted-cause table of
// package explaintest (its normal rows and labelled anomalies), and the
// table. The table is min-max scaled with the training rows' ranges, as
// the benchmark protocol scales every table: Deep SAD's pretraining
// autoencoder ends in a sigmoid, and on the raw table (values to ±6) the
// network fitted here ranks the anomalies little above chance (AUC-ROC
// 0.65), with nothing right to explain.
func explainFixture(t testing.TB) (*Detector, *explaintest.Table) {
	t.Helper()
	tab := explaintest.NewTable(1)
	mm, err := protocol.FitMinMax(tab.Train, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, ds := range []*data.Dataset{tab.Train, tab.Labelled, tab.Background, tab.Test} {
		if err := mm.Apply(ds); err != nil {
			t.Fatal(err)
		}
	}
	o := fastOptions(3)
	o.AEEpochs, o.Epochs = 20, 30 // fastOptions' schedule separates the anomalies only partly
	m := New(o)
	if err := m.Fit(context.Background(), detector.TrainSet{X: tab.Train, Anomalies: tab.Labelled}); err != nil {
		t.Fatal(err)
	}
	return m, tab
}

// naiveScore is ‖φ(x) − c‖² in float64 from the fitted weights, and
// which hidden units are active (positive before the LeakyReLU).
func naiveScore(m *Detector, x []float32) (float64, []bool) {
	a := make([]float64, len(x))
	for i, v := range x {
		a[i] = float64(v)
	}
	var on []bool
	for l, ly := range m.enc {
		out, in := ly.Weight.Shape[0], ly.Weight.Shape[1]
		z := make([]float64, out)
		for j := range z {
			for k := 0; k < in; k++ {
				z[j] += float64(ly.Weight.Data[j*in+k]) * a[k]
			}
			if l < len(m.enc)-1 {
				on = append(on, z[j] > 0)
				if z[j] <= 0 {
					z[j] *= slope
				}
			}
		}
		a = z
	}
	var score float64
	for j, v := range a {
		score += (v - float64(m.c[j])) * (v - float64(m.c[j]))
	}
	return score, on
}

// TestInputGradient checks the hand-written input gradient of the fitted
// network against central differences of a float64 re-implementation of
// the score, and its scores against Score's.
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
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-6*max(1, math.Abs(want[i])) {
			t.Fatalf("row %d: gradient pass scores %v, Score %v", i, got[i], want[i])
		}
	}
	explaintest.CheckGradient(t, x, grad, 1.0/1024, func(row []float32) (float64, []bool) { return naiveScore(m, row) })
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

// benchSet is Deep SAD of the default architecture (32, 16, 8), fitted
// briefly, with the benchRows background and rows.
func benchSet(b *testing.B) (*Detector, *data.Dataset, *data.Dataset) {
	train, lab, bg, x := explaintest.BenchRows()
	o := fastOptions(1)
	o.AEEpochs, o.Epochs = 2, 5
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
