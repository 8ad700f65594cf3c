// Package evaluate runs a detector through an experiment protocol over
// several seeds and summarises the metrics, so the CLI's eval and baseline
// commands and the benchmark runner compute every figure the same way.
package evaluate

import (
	"context"
	"fmt"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/metrics"
)

// Run is one seed's outcome.
type Run struct {
	Seed uint64 `json:"seed"`
	// AUCROC is the exact area under the ROC curve; AUCPR is average
	// precision (step-wise, as scikit-learn's average_precision_score).
	AUCROC float64 `json:"auc_roc"`
	AUCPR  float64 `json:"auc_pr"`
	// FitSeconds and ScoreSeconds are wall times; ScoreRate is test samples
	// scored per second.
	FitSeconds   float64 `json:"fit_seconds"`
	ScoreSeconds float64 `json:"score_seconds"`
	ScoreRate    float64 `json:"score_rate"`
	// Train, Labeled and Test count the samples used.
	Train   int `json:"train"`
	Labeled int `json:"labeled"`
	Test    int `json:"test"`
	// Scores and Labels are the test scores, kept for curves when asked.
	Scores []float64 `json:"-"`
	Labels []int     `json:"-"`
}

// Result summarises the runs of one method on one data set.
type Result struct {
	Method string          `json:"method"`
	Data   string          `json:"data"`
	Runs   []Run           `json:"runs"`
	AUCROC metrics.Summary `json:"auc_roc"`
	AUCPR  metrics.Summary `json:"auc_pr"`
}

// Split is one seed's training and test data.
type Split struct {
	Train     *data.Dataset
	Anomalies *data.Dataset // labelled anomalies, or nil
	Test      *data.Dataset // labels 1 = anomaly
}

// Fresh returns a new, unfitted detector for a seed.
type Fresh func(seed uint64) (detector.Detector, error)

// Seeds runs newDet on split(seed) for every seed: fit on the training part,
// score the test part once, and measure.
func Seeds(ctx context.Context, method, dataName string, newDet Fresh, split func(seed uint64) (*Split, error), seeds []uint64) (*Result, error) {
	res := &Result{Method: method, Data: dataName}
	var rocs, prs []float64
	for _, seed := range seeds {
		sp, err := split(seed)
		if err != nil {
			return nil, err
		}
		d, err := newDet(seed)
		if err != nil {
			return nil, err
		}
		run, err := One(ctx, d, sp)
		if err != nil {
			return nil, fmt.Errorf("%s on %s, seed %d: %w", method, dataName, seed, err)
		}
		run.Seed = seed
		res.Runs = append(res.Runs, *run)
		rocs, prs = append(rocs, run.AUCROC), append(prs, run.AUCPR)
	}
	var err error
	if res.AUCROC, err = metrics.Summarize(rocs); err != nil {
		return nil, err
	}
	if res.AUCPR, err = metrics.Summarize(prs); err != nil {
		return nil, err
	}
	return res, nil
}

// One fits d on sp's training part and scores its test part.
func One(ctx context.Context, d detector.Detector, sp *Split) (*Run, error) {
	t0 := time.Now()
	if err := d.Fit(ctx, detector.TrainSet{X: sp.Train, Anomalies: sp.Anomalies}); err != nil {
		return nil, err
	}
	fit := time.Since(t0).Seconds()
	t1 := time.Now()
	scores, err := d.Score(ctx, sp.Test)
	if err != nil {
		return nil, err
	}
	sc := time.Since(t1).Seconds()
	labels := sp.Test.Y
	roc, pr, err := metrics.AUCs(scores, labels)
	if err != nil {
		return nil, err
	}
	run := &Run{AUCROC: roc, AUCPR: pr, FitSeconds: fit, ScoreSeconds: sc, ScoreRate: float64(sp.Test.N) / max(sc, 1e-9),
		Train: sp.Train.N, Test: sp.Test.N, Scores: scores, Labels: labels}
	if sp.Anomalies != nil {
		run.Labeled = sp.Anomalies.N
	}
	return run, nil
}

// ADBenchSplit returns the ADBench semi-supervised split of ds (stratified
// 70/30, min-max scaling fitted on train, a labelled fraction of the training
// anomalies) as a split function.
func ADBenchSplit(ds *data.Dataset, labeledRatio float64) func(uint64) (*Split, error) {
	return func(seed uint64) (*Split, error) {
		s, err := protocol.ADBench(ds, protocol.ADBenchOptions{LabeledRatio: labeledRatio, Seed: seed})
		if err != nil {
			return nil, err
		}
		sp := &Split{Train: s.TrainUnlabeled, Test: s.Test}
		if s.TrainLabeledAnomalies != nil && s.TrainLabeledAnomalies.N > 0 {
			sp.Anomalies = s.TrainLabeledAnomalies
		}
		return sp, nil
	}
}

// SeedList returns the seeds 0..n-1 offset by base.
func SeedList(base uint64, n int) []uint64 {
	out := make([]uint64, n)
	for i := range out {
		out[i] = base + uint64(i)
	}
	return out
}
