package pca

import (
	"testing"

	"github.com/oddity-ml/oddity/detector/detectortest"
)

// The option names and printed defaults are part of the benchmark's cache
// keys: they must not change.
func TestOptionNamesAndDefaults(t *testing.T) {
	o := DefaultOptions()
	detectortest.OptionValues(t, &o, map[string]string{"components": "0"})
}

// Components 0 keeps half the features, rounded up, in Fit as in the
// Detector.
func TestComponentsDefault(t *testing.T) {
	for d, want := range map[int]int{1: 1, 2: 1, 7: 4, 8: 4} {
		if got := DefaultOptions().Components(d); got != want {
			t.Errorf("Components(%d) = %d, want %d", d, got, want)
		}
	}
	x := randomData(50, 7, 1)
	p, err := Fit(x, 50, 7, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	if p.NComponents != 4 {
		t.Errorf("%d axes of 7 features kept, want 4", p.NComponents)
	}
	if got := (Options{NComponents: 2}).Components(7); got != 2 {
		t.Errorf("Components(7) with NComponents 2 = %d", got)
	}
}

func TestValidate(t *testing.T) {
	detectortest.RefusesInvalid(t, DefaultOptions, ErrOption, []detectortest.Invalid[Options]{
		{Name: "components", Set: func(o *Options) { o.NComponents = -1 }},
		{Name: "solver", Set: func(o *Options) { o.Solver = 3 }},
		{Name: "workers", Set: func(o *Options) { o.Workers = -2 }},
	})
	if err := (Options{NComponents: 5, Solver: SVD, Workers: 2}).Validate(); err != nil {
		t.Error(err)
	}
	if s := SVD.String() + Covariance.String() + Auto.String(); s != "svdcovarianceauto" {
		t.Errorf("solver names %q", s)
	}
}
