package suite

import "fmt"

// Named returns the suite called name with base seed seed.
func Named(name string, seed uint64) (Suite, error) {
	switch name {
	case "quick":
		return Suite{Name: "quick", Seed: seed, Description: "quick suite: subsets and short schedules, for a check in minutes; not the papers' settings",
			Specs: concat(quickTabular(seed), quickImages(seed))}, nil
	case "full":
		return Suite{Name: "full", Seed: seed, Description: "",
			Specs: concat(fullTabular(seed), fullImages(seed))}, nil
	case "demo":
		return Demo(seed), nil
	}
	return Suite{}, fmt.Errorf("suite: unknown suite %q (want quick, full or demo)", name)
}

func concat(parts ...[]Spec) []Spec {
	var out []Spec
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
