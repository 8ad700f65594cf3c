package dplan

import (
	"context"
	"fmt"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/explain/explaintest"
)

// explainFixture is a DPLAN fitted on the planted-cause table of package
// explaintest (its normal rows and labelled anomalies), and the table.
// With scale true the table is stretched to other units (x·50 − 7, and
// x·3 + 1 for the planted features 2 and 5) and the model learns its
// ScaleInput scaling, so that the gradients must come back through it: in
// raw units the planted features move less than the others vary, and only
// gradients taken with respect to the raw input rank them first.
func explainFixture(t testing.TB, scale bool) (*Detector, *explaintest.Table) {
	t.Helper()
	tab := explaintest.NewTable(1)
	o := fastOptions(3)
	if scale {
		o.ScaleInput = true
		for _, ds := range []*data.Dataset{tab.Train, tab.Labelled, tab.Background, tab.Test} {
			for i := range ds.X {
				if j := i % explaintest.D; j == 2 || j == 5 {
					ds.X[i] = ds.X[i]*3 + 1
				} else {
					ds.X[i] = ds.X[i]*50 - 7
				}
			}
		}
	}
	m := New(o)
	if err := m.Fit(context.Background(), detector.TrainSet{X: tab.Train, Anomalies: tab.Labelled}); err != nil {
		t.Fatal(err)
	}
	return m, tab
}

// naiveScore is Q(x, a1) of a raw row in float64 from the fitted weights
// and scaling, and which hidden units are active.
func naiveScore(m *Detector, x []float32) (float64, []bool) {
	q := m.net
	s := make([]float64, q.d)
	for k, v := range x {
		s[k] = float64(v)
		if m.lo != nil {
			s[k] = (s[k] - float64(m.lo[k])) / float64(m.span[k])
		}
	}
	score, on := float64(q.B2.Data[1]), make([]bool, q.h)
	for j := 0; j < q.h; j++ {
		a := float64(q.B1.Data[j])
		for k := 0; k < q.d; k++ {
			a += float64(q.W1.Data[j*q.d+k]) * s[k]
		}
		on[j] = a > 0
		score += float64(q.W2.Data[q.h+j]) * max(a, 0)
	}
	return score, on
}

// TestInputGradient checks the hand-written gradient of Q(x, a1) with
// respect to the raw input against central differences of a float64
// re-implementation, with and without the input scaling, and its scores
// against Score's, bit for bit.
func TestInputGradient(t *testing.T) {
	for _, scale := range []bool{false, true} {
		m, tab := explainFixture(t, scale)
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
		step := 1.0 / 1024
		if scale {
			step = 1.0 / 64 // in raw units, up to 50 times the scaled ones
		}
		explaintest.CheckGradient(t, x, grad, step, func(row []float32) (float64, []bool) { return naiveScore(m, row) })
	}
}

// TestExplainCompleteness: on anomalies and normal rows alike, the
// attributions and the offset add up to the score, the offset being the
// score of the background's median; on raw features that the model
// scales.
func TestExplainCompleteness(t *testing.T) {
	m, tab := explainFixture(t, true)
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
// (and that a random order would not pass), on the table as drawn and in
// the stretched units that the model scales.
func TestExplainPlantedFeatures(t *testing.T) {
	for _, scale := range []bool{false, true} {
		m, tab := explainFixture(t, scale)
		ctx := context.Background()
		a, err := m.Explain(ctx, tab.Test, tab.Background)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := m.Score(ctx, tab.Test)
		if err != nil {
			t.Fatal(err)
		}
		tab.Check(t, fmt.Sprintf("%s (scale-input %v)", Method, scale), a, sc)
	}
}

func TestExplainBadInput(t *testing.T) {
	m, tab := explainFixture(t, false)
	explaintest.CheckBadInput(t, New(fastOptions(1)), m, tab)
}

// benchSet is DPLAN of the default width, fitted briefly, with the
// benchRows background and rows.
func benchSet(b *testing.B) (*Detector, *data.Dataset, *data.Dataset) {
	train, lab, bg, x := explaintest.BenchRows()
	o := fastOptions(1)
	o.Episodes = 1
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
