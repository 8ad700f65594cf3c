package experiments

import (
	"github.com/oddity-ml/oddity/suite/results"

	"github.com/oddity-ml/oddity/autoencoder"
	"github.com/oddity-ml/oddity/deepcluster"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/suite"
)

// The demo suite: `oddity demo`, the README's first command. It runs the
// three methods and Isolation Forest on the data embedded in package
// data/demo (3,000 + 1,000 USPS digits at 16×16, the UCI thyroid table), so
// it needs no file beyond the repository, and finishes in about two minutes
// on two cores with short schedules. Its tables are its own, so the report
// never mixes demo figures with the benchmark's.
const (
	tableDemoImages     = "demo-images"
	tableDemoClustering = "demo-clustering"
	tableDemoTabular    = "demo-tabular"
)

func init() {
	suite.Register(tableDemoImages, runImageCell)
	suite.Register(tableDemoClustering, runClusteringCell)
	suite.Register(tableDemoTabular, runTabular)
}

// demoDigit is the held-out digit of the image task.
const demoDigit = "3"

// Demo returns the demo suite with base seed seed.
func Demo(seed uint64) suite.Suite {
	seeds := []uint64{seed}
	var specs []results.Spec
	// Leave-one-digit-out on the embedded digits: every image detector on
	// the same split.
	base := map[string]string{"abnormal": demoDigit, "max-train": "0", "max-test": "0"}
	gan := imgMerge(map[string]string{"schedule": "cpu", "recon": "1", "embed-n": "500"}, optParams(func(o *ganomaly.Options) []any {
		o.Epochs, o.MaxImages = 10, 0
		return []any{&o.Epochs, &o.MaxImages}
	}))
	img := func(method, variant string, p ...map[string]string) {
		specs = append(specs, results.Spec{Section: results.SectionCommon, Table: tableDemoImages, Method: method, Variant: variant,
			Data: "demo-digits", Task: "abnormal=" + demoDigit, Params: imgMerge(append([]map[string]string{base}, p...)...), Seeds: seeds})
	}
	img(ganomaly.Method, "", gan)
	img(deepcluster.Method, "", map[string]string{"embed-n": "500"}, optParams(func(o *deepcluster.Options) []any {
		o.K, o.PretrainEpochs, o.MaxSteps, o.UpdateInterval, o.KMeansInit, o.Score = 9, 10, 100, 20, 3, "distance"
		return []any{&o.K, &o.PretrainEpochs, &o.MaxSteps, &o.UpdateInterval, &o.KMeansInit, &o.Score}
	}))
	img(iforest.Method, "")
	img(autoencoder.Method, "", optParams(func(o *autoencoder.Options) []any { o.Epochs = 10; return []any{&o.Epochs} }))
	// Clustering the embedded digits.
	specs = append(specs, results.Spec{Section: results.SectionOwn, Table: tableDemoClustering, Method: imgMethodClustering, Data: "demo-digits",
		Task: "k=10", Params: imgMerge(map[string]string{"limit": "0", "tsne-n": "800"}, optParams(func(o *deepcluster.Options) []any {
			o.K, o.PretrainEpochs, o.MaxSteps, o.UpdateInterval, o.KMeansInit = 10, 20, 200, 20, 5
			return []any{&o.K, &o.PretrainEpochs, &o.MaxSteps, &o.UpdateInterval, &o.KMeansInit}
		})),
		Seeds: seeds})
	// DPLAN's protocol on the embedded thyroid table (hypothyroid known).
	for _, m := range []string{"dplan", "devnet", "iforest"} {
		specs = append(specs, tabSpec(results.SectionOwn, tableDemoTabular, m, "", "demo-tabular", "known=1", seeds,
			map[string]string{"protocol": "dplan", "known-class": "1"}))
	}
	return suite.Suite{Name: "demo", Seed: seed, Specs: specs,
		Description: "demo: embedded USPS digits (3,000 train, 1,000 test, 16×16) and UCI thyroid, one seed, short schedules; a tour, not a benchmark"}
}
