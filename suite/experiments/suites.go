// Package experiments holds oddity's comparison: every detector on its own
// ground (the papers' data and protocols: GANomaly's leave-one-class-out on
// MNIST and CIFAR-10, DPLAN's UCI thyroid and ADBench protocols, deep
// clustering on MNIST, USPS and COIL-20), on common ground (the same tasks
// for all) and under robustness sweeps. Its tables register their
// executors with the runner (package suite); Named returns the quick, full
// and demo suites.
package experiments

import (
	"fmt"
	"github.com/oddity-ml/oddity/suite"
	"github.com/oddity-ml/oddity/suite/results"
)

// Named returns the suite called name with base seed seed.
func Named(name string, seed uint64) (suite.Suite, error) {
	switch name {
	case "quick":
		return suite.Suite{Name: "quick", Seed: seed, Description: "quick suite: subsets and short schedules, for a check in minutes; not the papers' settings",
			Specs: concat(quickTabular(seed), quickImages(seed), explainSpecs(seed, true), unsupervisedSpecs(seed, true))}, nil
	case "full":
		return suite.Suite{Name: "full", Seed: seed, Description: "",
			Specs: concat(fullTabular(seed), fullImages(seed), explainSpecs(seed, false), unsupervisedSpecs(seed, false))}, nil
	case "demo":
		return Demo(seed), nil
	}
	return suite.Suite{}, fmt.Errorf("suite: unknown suite %q (want quick, full or demo)", name)
}

func concat(parts ...[]results.Spec) []results.Spec {
	var out []results.Spec
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
