package iforest

import (
	"errors"
	"maps"
	"math"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// The option names and printed defaults are part of the benchmark's cache
// keys: they must not change.
func TestOptionNamesAndDefaults(t *testing.T) {
	o := DefaultOptions()
	want := map[string]string{"trees": "100", "max-samples": "256", "max-features": "1"}
	if got := option.Values(&o); !maps.Equal(got, want) {
		t.Errorf("option.Values(DefaultOptions()) = %v, want %v", got, want)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("DefaultOptions: %v", err)
	}
	// The image suite spells the subsample size "samples".
	if err := option.Set(&o, "samples", "64"); err != nil || o.MaxSamples != 64 {
		t.Errorf("alias samples: %v, MaxSamples %d", err, o.MaxSamples)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name string
		set  func(*Options)
	}{
		{"trees", func(o *Options) { o.NTrees = 0 }},
		{"trees", func(o *Options) { o.NTrees = -1 }},
		{"trees", func(o *Options) { o.NTrees = 1<<20 + 1 }},
		{"max-samples", func(o *Options) { o.MaxSamples = 0 }},
		{"max-samples", func(o *Options) { o.MaxSamples = -3 }},
		{"max-features", func(o *Options) { o.MaxFeatures = 0 }},
		{"max-features", func(o *Options) { o.MaxFeatures = 1.5 }},
		{"max-features", func(o *Options) { o.MaxFeatures = -0.1 }},
		{"max-features", func(o *Options) { o.MaxFeatures = math.NaN() }},
		{"max-features", func(o *Options) { o.MaxFeatures = math.Inf(1) }},
		{"workers", func(o *Options) { o.Workers = -1 }},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.set(&o)
		err := o.Validate()
		if !errors.Is(err, ErrOption) || !errors.Is(err, detector.ErrOption) || !strings.Contains(err.Error(), c.name+" = ") {
			t.Errorf("%+v: %v, want an ErrOption naming %s", o, err, c.name)
		}
		x := gaussian(20, 2, 1)
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
