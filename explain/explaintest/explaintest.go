// Package explaintest checks per-feature explanations against a planted
// cause, for the tests of every package whose detector implements
// detector.Explainer (and of package explain's own explainers).
//
// The table (NewTable): d = 8 features in two groups, {0,1,2,3} and
// {4,5,6,7}, each group driven by one standard normal factor (loadings
// between 0.7 and 1.3) plus independent noise of standard deviation 0.3,
// so a normal row's features agree within their group. An anomaly is a
// normal row with feature 2 moved up and feature 5 moved down by Shift
// times the feature's standard deviation: only features 2 and 5 carry it,
// and it is visible both marginally (an extreme value) and jointly (the
// group's agreement broken), so every kind of explainer can find it. The
// groups keep reconstruction-based explanations fair: a model that
// reconstructs a feature from its group blames a broken member three times
// more than each of the three others (residual 3/4 against 1/4 of the
// shift), where a dense random structure would spread it.
//
// The check (Table.Check) asks that features 2 and 5 be the two largest
// attributions for at least MinRate of the anomalies, and, as a negative
// control showing the check can fail, that the same attributions shuffled
// within each row do not pass it.
package explaintest

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
)

// The table's sizes and its planted cause.
const (
	// D is the number of features.
	D = 8
	// Shift is how far each anomaly moves its two features, in standard
	// deviations of the feature.
	Shift = 5
	// MinRate is the fraction of anomalies whose top two attributions must
	// be exactly the planted features.
	MinRate = 0.9
)

// Causes are the features that carry every anomaly of the table.
var Causes = [2]int{2, 5}

// Table is the synthetic table: normal rows to fit on and to draw a
// background from, a few labelled anomalies for weakly supervised
// detectors (DevNet, Deep SAD, DPLAN), and the anomalies to explain.
type Table struct {
	// Train holds 2000 normal rows (unlabelled training data).
	Train *data.Dataset
	// Labelled holds 30 anomalies, planted as Test's, for detectors that
	// learn from labelled anomalies; others ignore it.
	Labelled *data.Dataset
	// Background holds 200 normal rows not in Train: the typical rows an
	// Explain call takes.
	Background *data.Dataset
	// Test holds 100 anomalies to explain.
	Test *data.Dataset
}

// NewTable draws the table from seed; the same seed gives the same table.
func NewTable(seed uint64) *Table {
	r := rand.New(rand.NewPCG(seed, 0xe4b1a1))
	var load [D]float64
	for j := range load {
		load[j] = 0.7 + 0.6*r.Float64()
	}
	normal := func(name string, n int) *data.Dataset {
		x := &data.Dataset{Name: name, N: n, Shape: []int{D}, X: make([]float32, n*D), Y: make([]int, n)}
		for i := 0; i < n; i++ {
			f := [2]float64{r.NormFloat64(), r.NormFloat64()}
			for j := 0; j < D; j++ {
				x.X[i*D+j] = float32(load[j]*f[j/4] + 0.3*r.NormFloat64())
			}
		}
		return x
	}
	anomalies := func(name string, n int) *data.Dataset {
		x := normal(name, n)
		for i := 0; i < n; i++ {
			sd2 := math.Sqrt(load[2]*load[2] + 0.09)
			sd5 := math.Sqrt(load[5]*load[5] + 0.09)
			x.X[i*D+Causes[0]] += float32(Shift * sd2)
			x.X[i*D+Causes[1]] -= float32(Shift * sd5)
			x.Y[i] = 1
		}
		return x
	}
	return &Table{
		Train:      normal("planted-train", 2000),
		Labelled:   anomalies("planted-labelled", 30),
		Background: normal("planted-background", 200),
		Test:       anomalies("planted-test", 100),
	}
}

// Rate returns the fraction of a's samples whose two largest attributions
// (explain.TopK) are exactly the planted features, in either order.
func (t *Table) Rate(a *detector.Attributions) float64 {
	if a == nil || a.N == 0 {
		return 0
	}
	hit := 0
	for i := 0; i < a.N; i++ {
		top := explain.TopK(a, i, 2)
		if len(top) == 2 && (top[0] == Causes[0] && top[1] == Causes[1] || top[0] == Causes[1] && top[1] == Causes[0]) {
			hit++
		}
	}
	return float64(hit) / float64(a.N)
}

// Check checks attributions a of t.Test, named name in messages: one row
// of D finite values per anomaly; when scores (the detector's scores of
// t.Test) is not nil and a.Offset is not, Offset[i] + Σ_j Values[i,j]
// within 1% of |score − Offset| of the score; the planted features first
// for at least MinRate of the rows; and, as a negative control, the same
// values shuffled within each row (seeded) scoring below MinRate, which
// shows the check fails for an explainer that orders features at random.
func (t *Table) Check(tb testing.TB, name string, a *detector.Attributions, scores []float64) {
	tb.Helper()
	if a == nil || a.N != t.Test.N || a.D != D || len(a.Values) != a.N*a.D {
		tb.Fatalf("%s: attributions %+v do not fit %d samples of %d features", name, a, t.Test.N, D)
	}
	for k, v := range a.Values {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			tb.Fatalf("%s: sample %d feature %d: attribution %v", name, k/D, k%D, v)
		}
	}
	if a.Offset != nil && scores != nil {
		if len(a.Offset) != a.N || len(scores) != a.N {
			tb.Fatalf("%s: %d offsets and %d scores for %d samples", name, len(a.Offset), len(scores), a.N)
		}
		for i := 0; i < a.N; i++ {
			sum, mag := a.Offset[i], 0.0
			for _, v := range a.Row(i) {
				sum += float64(v)
				mag += math.Abs(float64(v))
			}
			if gap := math.Abs(sum - scores[i]); gap > 0.01*math.Abs(scores[i]-a.Offset[i])+1e-5*(mag+math.Abs(scores[i])) {
				tb.Errorf("%s: sample %d: offset + attributions = %v, score %v", name, i, sum, scores[i])
				break
			}
		}
	}
	rate := t.Rate(a)
	if rate < MinRate {
		tb.Errorf("%s: features %v ranked first for %.2f of the anomalies, want at least %.2f", name, Causes, rate, MinRate)
	}
	s := Shuffled(a, 1)
	if r := t.Rate(s); r >= MinRate {
		tb.Errorf("%s: shuffled attributions pass the check (rate %.2f): it could not catch a random order", name, r)
	}
	tb.Logf("%s (%s): planted features first for %.2f of the anomalies", name, a.Technique, rate)
}

// Shuffled returns a copy of a whose values are permuted within each row
// (seeded): the ranking of an explainer that orders features at random.
func Shuffled(a *detector.Attributions, seed uint64) *detector.Attributions {
	r := rand.New(rand.NewPCG(seed, 0x5af))
	s := &detector.Attributions{N: a.N, D: a.D, Values: append([]float32(nil), a.Values...), Technique: a.Technique + "-shuffled"}
	for i := 0; i < s.N; i++ {
		row := s.Row(i)
		r.Shuffle(len(row), func(p, q int) { row[p], row[q] = row[q], row[p] })
	}
	return s
}

// PlantedFeatures fits det on a table drawn from seed 1 (Train, with
// Labelled as its labelled anomalies), explains Test with det's own
// Explain (det must implement detector.Explainer) against Background, and
// checks the attributions with Table.Check. It returns the table and the
// attributions for further checks.
func PlantedFeatures(tb testing.TB, det detector.Detector) (*Table, *detector.Attributions) {
	tb.Helper()
	e, ok := det.(detector.Explainer)
	if !ok {
		tb.Fatalf("%s does not implement detector.Explainer", det.Method())
	}
	t := NewTable(1)
	ctx := context.Background()
	if err := det.Fit(ctx, detector.TrainSet{X: t.Train, Anomalies: t.Labelled}); err != nil {
		tb.Fatalf("%s: Fit: %v", det.Method(), err)
	}
	scores, err := det.Score(ctx, t.Test)
	if err != nil {
		tb.Fatalf("%s: Score: %v", det.Method(), err)
	}
	a, err := e.Explain(ctx, t.Test, t.Background)
	if err != nil {
		tb.Fatalf("%s: Explain: %v", det.Method(), err)
	}
	t.Check(tb, det.Method(), a, scores)
	return t, a
}
