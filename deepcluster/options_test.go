package deepcluster

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// TestDefaultOptionsAreTheOldDefaults pins DefaultOptions to the values the
// removed Config.WithDefaults gave a Config with only K set (K = 10), which
// are also `oddity cluster`'s flag defaults, so results with DefaultOptions
// are those of before. The one field whose zero still means "derived" is
// AlphaSteps: WithDefaults wrote max(1, MaxSteps/5) into it, Fit now
// derives the same value from 0.
func TestDefaultOptionsAreTheOldDefaults(t *testing.T) {
	// Config{K: 10}.WithDefaults(), as it was.
	old := Options{K: 10, Embedding: 10, PretrainEpochs: 200, BatchSize: 256, LR: 1e-3, FinetuneLR: 1e-3,
		KMeansInit: 20, MaxSteps: 20000, UpdateInterval: 140, Tol: 1e-3, Alpha: 1, Loss: "kl", Schedule: "gamma",
		Gamma: 0.1, AlphaFrom: 0, AlphaTo: 0.5, AlphaSteps: 4000, Final: "argmax", Score: "distance"}
	got := DefaultOptions()
	if got.AlphaSteps != 0 || got.alphaSteps() != old.AlphaSteps {
		t.Errorf("alpha-steps %d resolves to %d, want 0 resolving to %d", got.AlphaSteps, got.alphaSteps(), old.AlphaSteps)
	}
	got.AlphaSteps = old.AlphaSteps
	if !reflect.DeepEqual(got, old) {
		t.Errorf("DefaultOptions() = %+v\nold defaults     %+v", got, old)
	}
	// A suite cell that sets max-steps: the old WithDefaults derived
	// alpha-steps from the value set; so does Fit.
	o := DefaultOptions()
	o.MaxSteps = 60
	if o.alphaSteps() != 12 {
		t.Errorf("max-steps 60: alpha-steps resolves to %d, want 12", o.alphaSteps())
	}
	o.MaxSteps = 3
	if o.alphaSteps() != 1 {
		t.Errorf("max-steps 3: alpha-steps resolves to %d, want 1", o.alphaSteps())
	}
	o.AlphaSteps = 7
	if o.alphaSteps() != 7 {
		t.Errorf("alpha-steps 7 resolves to %d", o.alphaSteps())
	}
}

// TestOptionNames pins the option names and printed defaults to `oddity
// cluster`'s flags and the benchmark suite's settings (the suite's cache
// keys hash them).
func TestOptionNames(t *testing.T) {
	o := DefaultOptions()
	want := map[string]string{
		"k": "10", "epochs": "200", "no-pretrain": "false", "batch": "256", "lr": "0.001", "finetune-lr": "0.001",
		"z": "10", "kmeans-init": "20", "max-steps": "20000", "update-interval": "140", "tol": "0.001",
		"loss": "kl", "schedule": "gamma", "gamma": "0.1", "alpha-from": "0", "alpha-to": "0.5", "alpha-steps": "0",
		"final": "argmax", "score": "distance",
	}
	if got := option.Values(&o); !reflect.DeepEqual(got, want) {
		t.Errorf("option values\n got %v\nwant %v", got, want)
	}
	// Setting every option by name reaches its field.
	set := map[string]string{
		"k": "9", "epochs": "4", "no-pretrain": "true", "batch": "64", "lr": "0.002", "finetune-lr": "0.003",
		"z": "12", "kmeans-init": "3", "max-steps": "60", "update-interval": "20", "tol": "-1",
		"loss": "kmeans", "schedule": "alpha", "gamma": "0.2", "alpha-from": "0.1", "alpha-to": "0.9", "alpha-steps": "30",
		"final": "kmeans", "score": "maxq",
	}
	if err := option.Apply(&o, set); err != nil {
		t.Fatal(err)
	}
	wantO := Options{K: 9, Embedding: 12, PretrainEpochs: 4, NoPretrain: true, BatchSize: 64, LR: 0.002, FinetuneLR: 0.003,
		KMeansInit: 3, MaxSteps: 60, UpdateInterval: 20, Tol: -1, Alpha: 1, Loss: "kmeans", Schedule: "alpha",
		Gamma: 0.2, AlphaFrom: 0.1, AlphaTo: 0.9, AlphaSteps: 30, Final: "kmeans", Score: "maxq"}
	if !reflect.DeepEqual(o, wantO) {
		t.Errorf("after Apply %+v\nwant        %+v", o, wantO)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("valid settings refused: %v", err)
	}
}

// TestValidate: DefaultOptions is valid; every bad value is refused with an
// error wrapping ErrOption and detector.ErrOption that names the option,
// both by Validate and by the registered constructor.
func TestValidate(t *testing.T) {
	if err := DefaultOptions().Validate(); err != nil {
		t.Fatalf("DefaultOptions: %v", err)
	}
	info, err := detector.Lookup(Method)
	if err != nil {
		t.Fatal(err)
	}
	if info.Kind != detector.Unsupervised|detector.Images {
		t.Errorf("kind %v", info.Kind)
	}
	if _, err := info.New(info.Options()); err != nil {
		t.Errorf("registered defaults refused: %v", err)
	}
	cases := []struct {
		name string
		f    func(*Options)
	}{
		{"k", func(o *Options) { o.K = 0 }},
		{"z", func(o *Options) { o.Embedding = 0 }},
		{"epochs", func(o *Options) { o.PretrainEpochs = -1 }},
		{"batch", func(o *Options) { o.BatchSize = 0 }},
		{"kmeans-init", func(o *Options) { o.KMeansInit = 0 }},
		{"max-steps", func(o *Options) { o.MaxSteps = -1 }},
		{"update-interval", func(o *Options) { o.UpdateInterval = 0 }},
		{"alpha-steps", func(o *Options) { o.AlphaSteps = -2 }},
		{"lr", func(o *Options) { o.LR = 0 }},
		{"lr", func(o *Options) { o.LR = math.Inf(1) }},
		{"finetune-lr", func(o *Options) { o.FinetuneLR = math.NaN() }},
		{"alpha", func(o *Options) { o.Alpha = -1 }},
		{"gamma", func(o *Options) { o.Gamma = 0 }},
		{"tol", func(o *Options) { o.Tol = math.NaN() }},
		{"alpha-from", func(o *Options) { o.AlphaFrom = -0.1 }},
		{"alpha-to", func(o *Options) { o.AlphaTo = 1.5 }},
		{"loss", func(o *Options) { o.Loss = "" }},
		{"schedule", func(o *Options) { o.Schedule = "cosine" }},
		{"final", func(o *Options) { o.Final = "dbscan" }},
		{"score", func(o *Options) { o.Score = "recon" }},
	}
	for _, c := range cases {
		o := DefaultOptions()
		c.f(&o)
		err := o.Validate()
		if !errors.Is(err, ErrOption) || !errors.Is(err, detector.ErrOption) {
			t.Errorf("%s: %v, want an ErrOption", c.name, err)
			continue
		}
		if !strings.Contains(err.Error(), c.name+" = ") {
			t.Errorf("%s: error %q does not name the option", c.name, err)
		}
		if _, err := info.New(&o); !errors.Is(err, detector.ErrOption) {
			t.Errorf("%s: Info.New accepted it: %v", c.name, err)
		}
	}
	if _, err := info.Configure(map[string]string{"k": "0"}, 1); !errors.Is(err, detector.ErrOption) {
		t.Errorf("Configure k=0: %v", err)
	}
	if _, err := info.Configure(map[string]string{"no-such": "1"}, 1); !errors.Is(err, detector.ErrOption) {
		t.Errorf("Configure of an unknown option: %v", err)
	}
}
