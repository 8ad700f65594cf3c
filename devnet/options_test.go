package devnet

import (
	"context"
	"errors"
	"maps"
	"math"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/option"
)

// TestOptionValuesAreTheCacheKeys: the benchmark suite's cache keys hash the
// option names with their printed defaults. This map is what the suite's
// hand-written DevNet flags printed before the options were declared on
// Options; it must not change.
func TestOptionValuesAreTheCacheKeys(t *testing.T) {
	want := map[string]string{
		"hidden": "20", "epochs": "50", "batches": "20", "batch": "512",
		"lr": "0.001", "rho": "0.9", "eps": "1e-07", "clipnorm": "1",
		"l2": "0.01", "margin": "5", "ref-size": "5000",
	}
	o := DefaultOptions()
	if got := option.Values(&o); !maps.Equal(got, want) {
		t.Errorf("option.Values(DefaultOptions()) = %v\nwant %v", got, want)
	}
}

func TestValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("DefaultOptions: %v", err)
	}
	if err := (Options{}).Validate(); err == nil {
		t.Errorf("the zero Options validated")
	}
	for name, set := range map[string]func(*Options){
		"hidden":   func(o *Options) { o.Hidden = 0 },
		"epochs":   func(o *Options) { o.Epochs = 0 },
		"batches":  func(o *Options) { o.BatchesPerEpoch = 0 },
		"batch":    func(o *Options) { o.BatchSize = 1 },
		"lr":       func(o *Options) { o.LR = math.NaN() },
		"rho":      func(o *Options) { o.Rho = 1 },
		"eps":      func(o *Options) { o.Eps = math.Inf(1) },
		"clipnorm": func(o *Options) { o.ClipNorm = -1 },
		"l2":       func(o *Options) { o.L2 = math.NaN() },
		"margin":   func(o *Options) { o.Margin = 0 },
		"ref-size": func(o *Options) { o.RefSize = 1 },
		"workers":  func(o *Options) { o.Workers = -1 },
	} {
		o := DefaultOptions()
		set(&o)
		err := o.Validate()
		if !errors.Is(err, ErrOption) || !errors.Is(err, detector.ErrOption) || !strings.Contains(err.Error(), name+" = ") {
			t.Errorf("%s: %v, want an ErrOption naming %q", name, err, name)
		}
	}
}

func TestRegistered(t *testing.T) {
	in, err := detector.Lookup(Method)
	if err != nil {
		t.Fatal(err)
	}
	if in.Kind != detector.WeaklySupervised|detector.Tables {
		t.Errorf("kind %v", in.Kind)
	}
	d, err := in.Configure(map[string]string{"batch": "64", "batches": "3"}, 9)
	if err != nil {
		t.Fatal(err)
	}
	o := d.(*Detector).Options
	if o.BatchSize != 64 || o.BatchesPerEpoch != 3 || o.Seed != 9 || o.Hidden != 20 {
		t.Errorf("configured options %+v", o)
	}
	if _, err := in.Configure(map[string]string{"ref-size": "1"}, 0); !errors.Is(err, ErrOption) {
		t.Errorf("ref-size 1: %v", err)
	}
}

func TestConformance(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method:    Method,
		Settings:  map[string]string{"epochs": "3", "batches": "5", "batch": "64"},
		Slow:      map[string]string{"epochs": "1000000"},
		Bad:       map[string]string{"margin": "-1", "batch": "1"},
		Train:     detectortest.Gaussian(300, 5, 0, 0, 1),
		Anomalies: detectortest.Gaussian(10, 5, 3, 1, 2),
		Test:      detectortest.Gaussian(50, 5, 0, 0, 3),
	})
}

func TestCancelledFitIsNotFitted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := New(fastOptions(1))
	unl, lab, test := planted(5, 4)
	epochs := 0
	ts := detector.TrainSet{X: unl, Anomalies: lab, Progress: func(detector.Progress) { epochs++; cancel() }}
	if err := m.Fit(ctx, ts); !errors.Is(err, context.Canceled) || epochs != 1 {
		t.Fatalf("Fit cancelled after the first epoch: %v after %d epochs", err, epochs)
	}
	if _, err := m.Score(context.Background(), test); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Score after a cancelled Fit: %v, want ErrNotFitted", err)
	}
}
