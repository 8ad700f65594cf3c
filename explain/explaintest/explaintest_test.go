package explaintest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
	"github.com/oddity-ml/oddity/explain/explaintest"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/pca"
)

// recorder is a testing.TB that records Errorf instead of failing, to show
// that Check fails where it must.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(string, ...any) {}
func (r *recorder) Helper()             {}

// The robust z-score finds the planted features: they are extreme.
func TestZScore(t *testing.T) {
	tab := explaintest.NewTable(1)
	a, err := explain.ZScore(tab.Test, tab.Background)
	if err != nil {
		t.Fatal(err)
	}
	tab.Check(t, "zscore", a, nil)
}

// The model-agnostic Shapley estimate finds them through two detectors'
// scores, and adds up to each score.
func TestShapley(t *testing.T) {
	tab := explaintest.NewTable(1)
	ctx := context.Background()
	for _, det := range []detector.Detector{iforest.New(iforest.DefaultOptions()), pca.New(pca.Options{NComponents: 2})} {
		if err := det.Fit(ctx, detector.TrainSet{X: tab.Train}); err != nil {
			t.Fatal(err)
		}
		a, err := explain.Attribute(ctx, det, tab.Test, tab.Background, explain.Options{Agnostic: true, Shapley: explain.ShapleyOptions{Seed: 1}})
		if err != nil {
			t.Fatal(err)
		}
		s, err := det.Score(ctx, tab.Test)
		if err != nil {
			t.Fatal(err)
		}
		tab.Check(t, "shapley of "+det.Method(), a, s)
	}
}

// Check fails for attributions in random order, for a broken
// decomposition, and passes for the planted features themselves.
func TestCheckFails(t *testing.T) {
	tab := explaintest.NewTable(2)
	r, err := explain.Random(tab.Test.N, explaintest.D, 1)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{TB: t}
	tab.Check(rec, "random", r, nil)
	if len(rec.errors) != 1 {
		t.Errorf("random attributions: %d errors %q, want the rate's", len(rec.errors), rec.errors)
	}

	perfect := &detector.Attributions{N: tab.Test.N, D: explaintest.D, Values: make([]float32, tab.Test.N*explaintest.D), Offset: make([]float64, tab.Test.N)}
	scores := make([]float64, tab.Test.N)
	for i := 0; i < perfect.N; i++ {
		perfect.Row(i)[explaintest.Causes[0]] = 2
		perfect.Row(i)[explaintest.Causes[1]] = 1
		scores[i] = 3
	}
	rec = &recorder{TB: t}
	tab.Check(rec, "perfect", perfect, scores)
	if len(rec.errors) != 0 {
		t.Errorf("the planted features themselves: %q", rec.errors)
	}
	scores[7] = 3.5
	tab.Check(rec, "perfect, one score off", perfect, scores)
	if len(rec.errors) != 1 {
		t.Errorf("a decomposition off by 0.5 of 3: %q", rec.errors)
	}
	if got := tab.Rate(explaintest.Shuffled(perfect, 3)); got > 0.2 {
		t.Errorf("shuffled perfect attributions rank the planted features first for %.2f", got)
	}
}

// The table is what the package says: anomalies differ from their row
// only in the planted features, by Shift standard deviations.
func TestTable(t *testing.T) {
	a, b := explaintest.NewTable(3), explaintest.NewTable(3)
	if fmt.Sprint(a.Test.X[:16]) != fmt.Sprint(b.Test.X[:16]) {
		t.Error("the same seed drew different tables")
	}
	if a.Train.N != 2000 || a.Test.N != 100 || a.Background.N != 200 || a.Labelled.N != 30 || a.Test.Dim() != explaintest.D {
		t.Errorf("sizes %d %d %d %d", a.Train.N, a.Test.N, a.Background.N, a.Labelled.N)
	}
	mean := func(rows []float32, j int) float64 {
		s := 0.0
		for i := j; i < len(rows); i += explaintest.D {
			s += float64(rows[i])
		}
		return s / float64(len(rows)/explaintest.D)
	}
	for j := 0; j < explaintest.D; j++ {
		shift := mean(a.Test.X, j) - mean(a.Train.X, j)
		planted := j == explaintest.Causes[0] || j == explaintest.Causes[1]
		if planted && (shift < 3 || shift > 7) && (shift > -3 || shift < -7) {
			t.Errorf("feature %d: mean shift %.2f, want about ±5 standard deviations", j, shift)
		}
		if !planted && (shift > 0.5 || shift < -0.5) {
			t.Errorf("feature %d: mean shift %.2f, want about 0", j, shift)
		}
	}
}
