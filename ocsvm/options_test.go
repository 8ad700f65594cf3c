package ocsvm

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

// The option names and printed defaults are part of the benchmark's cache
// keys: they must not change.
func TestOptionNamesAndDefaults(t *testing.T) {
	o := DefaultOptions()
	detectortest.OptionValues(t, &o, map[string]string{
		"nu": "0.5", "gamma": "scale", "tol": "0.001", "cache-mb": "200", "shrinking": "true", "max-samples": "10000",
	})
}

func TestValidate(t *testing.T) {
	bad := detectortest.RefusesInvalid(t, DefaultOptions, ErrOption, []detectortest.Invalid[Options]{
		{Name: "nu", Set: func(o *Options) { o.Nu = 0 }},
		{Name: "nu", Set: func(o *Options) { o.Nu = 1.01 }},
		{Name: "nu", Set: func(o *Options) { o.Nu = math.NaN() }},
		{Name: "gamma", Set: func(o *Options) { o.Gamma = "" }},
		{Name: "gamma", Set: func(o *Options) { o.Gamma = "Scale" }},
		{Name: "gamma", Set: func(o *Options) { o.Gamma = "0" }},
		{Name: "gamma", Set: func(o *Options) { o.Gamma = "-0.5" }},
		{Name: "gamma", Set: func(o *Options) { o.Gamma = "inf" }},
		{Name: "gamma", Set: func(o *Options) { o.Gamma = "nan" }},
		{Name: "tol", Set: func(o *Options) { o.Tol = 0 }},
		{Name: "tol", Set: func(o *Options) { o.Tol = math.Inf(1) }},
		{Name: "cache-mb", Set: func(o *Options) { o.CacheMB = 0 }},
		{Name: "max-samples", Set: func(o *Options) { o.MaxSamples = -1 }},
		{Name: "workers", Set: func(o *Options) { o.Workers = -1 }},
	})
	for _, o := range bad {
		err := New(o).Fit(context.Background(), detector.TrainSet{X: detectortest.Gaussian(10, 2, 0, 0, 1)})
		if !errors.Is(err, ErrOption) {
			t.Errorf("Fit with %+v: %v, want ErrOption", o, err)
		}
	}
	for _, g := range []string{"scale", "auto", "0.1", "1e-9", "25"} {
		o := DefaultOptions()
		o.Gamma = g
		if err := o.Validate(); err != nil {
			t.Errorf("gamma %q: %v", g, err)
		}
	}
	o := DefaultOptions()
	o.Nu, o.MaxSamples, o.Shrinking, o.CacheMB = 1, 0, false, 0.001
	if err := o.Validate(); err != nil {
		t.Errorf("%+v: %v", o, err)
	}
}

// "auto" is 1/d; a number is itself.
func TestGammaSettings(t *testing.T) {
	x := detectortest.Gaussian(30, 4, 0, 0, 2)
	for g, want := range map[string]float64{"auto": 0.25, "0.7": 0.7} {
		o := DefaultOptions()
		o.Gamma = g
		d := New(o)
		if err := d.Fit(context.Background(), detector.TrainSet{X: x}); err != nil {
			t.Fatal(err)
		}
		if d.Info().Gamma != want {
			t.Errorf("gamma %q: %v, want %v", g, d.Info().Gamma, want)
		}
	}
}

// The cache holds at least two columns, at most l, and otherwise what
// CacheMB allows.
func TestCacheColumns(t *testing.T) {
	o := DefaultOptions()
	for _, c := range []struct {
		mb   float64
		l    int
		want int
	}{{200, 1000, 1000}, {200, 100_000, 524}, {1e-6, 500, 2}, {1, 1, 2}} {
		o.CacheMB = c.mb
		if got := o.cacheColumns(c.l); got != c.want {
			t.Errorf("%v MiB, %d rows: %d columns, want %d", c.mb, c.l, got, c.want)
		}
	}
}
