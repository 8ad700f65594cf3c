package experiments

import (
	"github.com/oddity-ml/oddity/dplan"
	"github.com/oddity-ml/oddity/evaluate"
	"github.com/oddity-ml/oddity/suite"
	"github.com/oddity-ml/oddity/suite/results"
)

// tableUnsupervised is every unsupervised tabular detector on every
// ADBench file: the question readers ask first ("is a deep method better
// than the simple ones?"), answered with average ranks and a Friedman
// test followed by Wilcoxon–Holm comparisons (the report draws them).
const tableUnsupervised = "unsupervised-tabular"

func init() {
	suite.Register(tableUnsupervised, runTabular)
}

// unsupervisedMethods are the detectors of tableUnsupervised, each at its
// defaults: the classic detectors, the deep ones that can train without
// labels (Deep SAD without labelled anomalies is Deep SVDD), and DPLAN
// with no labelled anomaly (p = 0). COPOD runs with PyOD's aggregation
// (variant "aggregate=pyod"): as its paper defines it, COPOD computes
// ECOD's scores exactly (package copod's tests check it), which would
// only repeat ECOD's row.
var unsupervisedMethods = []string{"iforest", "knn", "lof", "ecod", "hbos", "ocsvm", "loda", "pca", "autoencoder", "deepsad"}

// unsupervisedSpecs lists the cells: ADBench's split with no labelled
// anomaly (the training part unlabelled, anomalies included), 3 seeds,
// all 21 files (the quick suite: its 4 files, 1 seed).
func unsupervisedSpecs(seed uint64, quick bool) []results.Spec {
	files, n := tabADBenchFiles, tabSeedsADBench
	if quick {
		files, n = tabQuickFiles, 1
	}
	seeds := evaluate.SeedList(seed, n)
	proto := []string{"protocol", "adbench", "labeled-ratio", "0", "min-labeled", "0"}
	var out []results.Spec
	for _, f := range files {
		d := "adbench/" + f
		for _, m := range unsupervisedMethods {
			out = append(out, tabSpec(results.SectionCommon, tableUnsupervised, m, "", d, "unlabelled", seeds, kvMap(proto...)))
		}
		out = append(out, tabSpec(results.SectionCommon, tableUnsupervised, "copod", "aggregate=pyod", d, "unlabelled", seeds,
			kvMap(append(append([]string(nil), proto...), "aggregate", "pyod")...)))
		out = append(out, tabSpec(results.SectionCommon, tableUnsupervised, "dplan", "labeled=0", d, "unlabelled", seeds,
			kvMap(append(append([]string(nil), proto...), kvOf(optParams(func(o *dplan.Options) []any { o.P = 0; return []any{&o.P} }))...)...)))
	}
	return out
}

// kvMap turns key, value pairs into a map.
func kvMap(kv ...string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}
