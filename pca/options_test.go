package pca

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// The option names and printed defaults are part of the benchmark's cache
// keys: they must not change.
func TestOptionNamesAndDefaults(t *testing.T) {
	o := DefaultOptions()
	want := map[string]string{"components": "0"}
	if got := option.Values(&o); !maps.Equal(got, want) {
		t.Errorf("option.Values(DefaultOptions()) = %v, want %v", got, want)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("DefaultOptions: %v", err)
	}
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
	for name, o := range map[string]Options{
		"components": {NComponents: -1},
		"solver":     {Solver: 3},
		"workers":    {Workers: -2},
	} {
		err := o.Validate()
		if !errors.Is(err, ErrOption) || !errors.Is(err, detector.ErrOption) || !strings.Contains(err.Error(), name+" = ") {
			t.Errorf("%+v: %v, want an ErrOption naming %s", o, err, name)
		}
	}
	if err := (Options{NComponents: 5, Solver: SVD, Workers: 2}).Validate(); err != nil {
		t.Error(err)
	}
	if s := SVD.String() + Covariance.String() + Auto.String(); s != "svdcovarianceauto" {
		t.Errorf("solver names %q", s)
	}
}
