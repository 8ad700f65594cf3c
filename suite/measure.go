package suite

import (
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/suite/results"
)

// Limits on what a cell stores for its pictures, so results.json stays a
// few megabytes for the full suite.
const (
	maxCurvePoints = 300
	maxScoreSample = 2000
)

// Ranking is what a detector's test scores give a cell: the two areas and
// the pictures' raw material.
type Ranking struct {
	AUCROC, AUCPR float64
	ROC, PR       *results.XY
	Scores        *results.ScoreSample
}

// Rank measures scores against labels (1 = anomaly) as scikit-learn does
// and thins the curves and the score sample for storage. seed picks the
// score subsample.
func Rank(scores []float64, labels []int, seed uint64) (*Ranking, error) {
	roc, ap, err := metrics.AUCs(scores, labels)
	if err != nil {
		return nil, err
	}
	rc, err := metrics.ROC(scores, labels, true)
	if err != nil {
		return nil, err
	}
	pc, err := metrics.PR(scores, labels, true)
	if err != nil {
		return nil, err
	}
	r := &Ranking{AUCROC: roc, AUCPR: ap,
		ROC: thin(rc.FPR, rc.TPR), PR: thin(pc.Recall, pc.Precision)}
	var normal, anomaly []float64
	for i, s := range scores {
		if labels[i] == 1 {
			anomaly = append(anomaly, s)
		} else {
			normal = append(normal, s)
		}
	}
	rng := rand.New(rand.NewPCG(seed, 0x5c0e5))
	r.Scores = &results.ScoreSample{Normal: sample(normal, maxScoreSample, rng), Anomaly: sample(anomaly, maxScoreSample, rng)}
	return r, nil
}

// thin keeps at most maxCurvePoints points of a curve, always the first and
// the last, evenly spaced by index in between.
func thin(x, y []float64) *results.XY {
	n := len(x)
	if n <= maxCurvePoints {
		return &results.XY{X: append([]float64(nil), x...), Y: append([]float64(nil), y...)}
	}
	out := &results.XY{}
	for i := 0; i < maxCurvePoints; i++ {
		j := i * (n - 1) / (maxCurvePoints - 1)
		out.X = append(out.X, x[j])
		out.Y = append(out.Y, y[j])
	}
	return out
}

// sample returns at most k values of xs drawn without replacement, sorted.
func sample(xs []float64, k int, rng *rand.Rand) []float64 {
	out := append([]float64(nil), xs...)
	if len(out) > k {
		rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
		out = out[:k]
	}
	sort.Float64s(out)
	return out
}

// Summarize turns per-seed measures into mean and spread by name. Every
// seed must have the same measures.
func Summarize(perSeed []map[string]float64) (map[string]metrics.Summary, error) {
	if len(perSeed) == 0 {
		return nil, fmt.Errorf("suite: no runs to summarise")
	}
	out := map[string]metrics.Summary{}
	for name := range perSeed[0] {
		xs := make([]float64, len(perSeed))
		for i, m := range perSeed {
			v, ok := m[name]
			if !ok {
				return nil, fmt.Errorf("suite: seed %d lacks measure %q", i, name)
			}
			xs[i] = v
		}
		s, err := metrics.Summarize(xs)
		if err != nil {
			return nil, fmt.Errorf("suite: measure %q: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
}
