package iforest

import (
	"errors"
	"math"
	"testing"

	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/option"
)

// The option names and printed defaults are part of the benchmark's cache
// keys: they must not change.
func TestOptionNamesAndDefaults(t *testing.T) {
	o := DefaultOptions()
	detectortest.OptionValues(t, &o, map[string]string{"trees": "100", "max-samples": "256", "max-features": "1"})
	// The image suite spells the subsample size "samples".
	if err := option.Set(&o, "samples", "64"); err != nil || o.MaxSamples != 64 {
		t.Errorf("alias samples: %v, MaxSamples %d", err, o.MaxSamples)
	}
}

func TestValidate(t *testing.T) {
	bad := detectortest.RefusesInvalid(t, DefaultOptions, ErrOption, []detectortest.Invalid[Options]{
		{Name: "trees", Set: func(o *Options) { o.NTrees = 0 }},
		{Name: "trees", Set: func(o *Options) { o.NTrees = -1 }},
		{Name: "trees", Set: func(o *Options) { o.NTrees = 1<<20 + 1 }},
		{Name: "max-samples", Set: func(o *Options) { o.MaxSamples = 0 }},
		{Name: "max-samples", Set: func(o *Options) { o.MaxSamples = -3 }},
		{Name: "max-features", Set: func(o *Options) { o.MaxFeatures = 0 }},
		{Name: "max-features", Set: func(o *Options) { o.MaxFeatures = 1.5 }},
		{Name: "max-features", Set: func(o *Options) { o.MaxFeatures = -0.1 }},
		{Name: "max-features", Set: func(o *Options) { o.MaxFeatures = math.NaN() }},
		{Name: "max-features", Set: func(o *Options) { o.MaxFeatures = math.Inf(1) }},
		{Name: "workers", Set: func(o *Options) { o.Workers = -1 }},
	})
	x := gaussian(20, 2, 1)
	for _, o := range bad {
		if _, err := Fit(x, 20, 2, o); !errors.Is(err, ErrOption) {
			t.Errorf("Fit with %+v: %v, want ErrOption", o, err)
		}
		if _, err := SampleRows(20, 2, o, 0); !errors.Is(err, ErrOption) {
			t.Errorf("SampleRows with %+v: %v, want ErrOption", o, err)
		}
	}
	o := DefaultOptions()
	o.MaxFeatures, o.MaxSamples, o.NTrees, o.Workers = 0.01, 1, 1, 3
	if err := o.Validate(); err != nil {
		t.Errorf("%+v: %v", o, err)
	}
}
