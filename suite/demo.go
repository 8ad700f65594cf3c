package suite

import (
	"github.com/oddity-ml/oddity/autoencoder"
	"github.com/oddity-ml/oddity/deepcluster"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/iforest"
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
	register(tableDemoImages, runImageCell)
	register(tableDemoClustering, runClusteringCell)
	register(tableDemoTabular, runTabular)
}

// demoDigit is the held-out digit of the image task.
const demoDigit = "3"

// Demo returns the demo suite with base seed seed.
func Demo(seed uint64) Suite {
	seeds := []uint64{seed}
	var specs []Spec
	// Leave-one-digit-out on the embedded digits: every image detector on
	// the same split.
	base := map[string]string{"abnormal": demoDigit, "max-train": "0", "max-test": "0"}
	gan := map[string]string{"schedule": "cpu", "epochs": "10", "max-images": "0", "recon": "1", "embed-n": "500"}
	img := func(method, variant string, p ...map[string]string) {
		specs = append(specs, Spec{Section: SectionCommon, Table: tableDemoImages, Method: method, Variant: variant,
			Data: "demo-digits", Task: "abnormal=" + demoDigit, Params: imgMerge(append([]map[string]string{base}, p...)...), Seeds: seeds})
	}
	img(ganomaly.Method, "", gan)
	img(deepcluster.Method, "", map[string]string{"k": "9", "epochs": "10", "max-steps": "100", "update-interval": "20", "kmeans-init": "3", "score": "distance", "embed-n": "500"})
	img(iforest.Method, "")
	img(autoencoder.Method, "", map[string]string{"epochs": "10"})
	// Clustering the embedded digits.
	specs = append(specs, Spec{Section: SectionOwn, Table: tableDemoClustering, Method: imgMethodClustering, Data: "demo-digits",
		Task: "k=10", Params: map[string]string{"k": "10", "limit": "0", "epochs": "20", "max-steps": "200", "update-interval": "20", "kmeans-init": "5", "tsne-n": "800"},
		Seeds: seeds})
	// DPLAN's protocol on the embedded thyroid table (hypothyroid known).
	for _, m := range []string{"dplan", "devnet", "iforest"} {
		specs = append(specs, tabSpec(SectionOwn, tableDemoTabular, m, "", "demo-tabular", "known=1", seeds,
			map[string]string{"protocol": "dplan", "known-class": "1"}))
	}
	return Suite{Name: "demo", Seed: seed, Specs: specs,
		Description: "demo: embedded USPS digits (3,000 train, 1,000 test, 16×16) and UCI thyroid, one seed, short schedules; a tour, not a benchmark"}
}
