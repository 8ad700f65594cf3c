package devnet

import (
	"math"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

// TestOptionValuesAreTheCacheKeys: the benchmark suite's cache keys hash the
// option names with their printed defaults. This map is what the suite's
// hand-written DevNet flags printed before the options were declared on
// Options; it must not change.
func TestOptionValuesAreTheCacheKeys(t *testing.T) {
	o := DefaultOptions()
	detectortest.OptionValues(t, &o, map[string]string{
		"hidden": "20", "epochs": "50", "batches": "20", "batch": "512",
		"lr": "0.001", "rho": "0.9", "eps": "1e-07", "clipnorm": "1",
		"l2": "0.01", "margin": "5", "ref-size": "5000",
	})
}

func TestValidate(t *testing.T) {
	if err := (Options{}).Validate(); err == nil {
		t.Errorf("the zero Options validated")
	}
	detectortest.RefusesInvalid(t, DefaultOptions, ErrOption, []detectortest.Invalid[Options]{
		{Name: "hidden", Set: func(o *Options) { o.Hidden = 0 }},
		{Name: "epochs", Set: func(o *Options) { o.Epochs = 0 }},
		{Name: "batches", Set: func(o *Options) { o.BatchesPerEpoch = 0 }},
		{Name: "batch", Set: func(o *Options) { o.BatchSize = 1 }},
		{Name: "lr", Set: func(o *Options) { o.LR = math.NaN() }},
		{Name: "rho", Set: func(o *Options) { o.Rho = 1 }},
		{Name: "eps", Set: func(o *Options) { o.Eps = math.Inf(1) }},
		{Name: "clipnorm", Set: func(o *Options) { o.ClipNorm = -1 }},
		{Name: "l2", Set: func(o *Options) { o.L2 = math.NaN() }},
		{Name: "margin", Set: func(o *Options) { o.Margin = 0 }},
		{Name: "ref-size", Set: func(o *Options) { o.RefSize = 1 }},
		{Name: "workers", Set: func(o *Options) { o.Workers = -1 }},
	})
}

func TestRegistered(t *testing.T) {
	in := detectortest.Registered(t, Method, detector.WeaklySupervised|detector.Tables)
	d, err := in.Configure(map[string]string{"batch": "64", "batches": "3"}, 9)
	if err != nil {
		t.Fatal(err)
	}
	o := d.(*Detector).Options
	if o.BatchSize != 64 || o.BatchesPerEpoch != 3 || o.Seed != 9 || o.Hidden != 20 {
		t.Errorf("configured options %+v", o)
	}
	detectortest.RefusesOptions(t, Method, map[string]string{"ref-size": "1"}, ErrOption)
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
	unl, lab, test := planted(5, 4)
	detectortest.CancelAtFirstReport(t, New(fastOptions(1)), detector.TrainSet{X: unl, Anomalies: lab}, "", test)
}
