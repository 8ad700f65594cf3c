package deepcluster

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
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
	detectortest.OptionValues(t, &o, map[string]string{
		"k": "10", "epochs": "200", "no-pretrain": "false", "batch": "256", "lr": "0.001", "finetune-lr": "0.001",
		"z": "10", "kmeans-init": "20", "max-steps": "20000", "update-interval": "140", "tol": "0.001",
		"loss": "kl", "schedule": "gamma", "gamma": "0.1", "alpha-from": "0", "alpha-to": "0.5", "alpha-steps": "0",
		"final": "argmax", "score": "distance",
	})
	// Setting every option by name reaches its field.
	set := map[string]string{
		"k": "9", "epochs": "4", "no-pretrain": "true", "batch": "64", "lr": "0.002", "finetune-lr": "0.003",
		"z": "12", "kmeans-init": "3", "max-steps": "60", "update-interval": "20", "tol": "-1",
		"loss": "kmeans", "schedule": "alpha", "gamma": "0.2", "alpha-from": "0.1", "alpha-to": "0.9", "alpha-steps": "30",
		"final": "kmeans", "score": "maxq",
		"augment": "true", "augment-shift": "0.15", "augment-rotate": "-1", "augment-flip": "true",
		"self-expressive": "true", "se-channels": "8", "se-steps": "50", "se-lr": "0.002", "se-weight": "30",
		"se-reg": "2", "se-keep": "0.1", "se-dim": "6", "se-no-identity": "true", "se-power": "4",
	}
	if err := option.Apply(&o, set); err != nil {
		t.Fatal(err)
	}
	wantO := Options{K: 9, Embedding: 12, PretrainEpochs: 4, NoPretrain: true, BatchSize: 64, LR: 0.002, FinetuneLR: 0.003,
		KMeansInit: 3, MaxSteps: 60, UpdateInterval: 20, Tol: -1, Alpha: 1, Loss: "kmeans", Schedule: "alpha",
		Gamma: 0.2, AlphaFrom: 0.1, AlphaTo: 0.9, AlphaSteps: 30, Final: "kmeans", Score: "maxq",
		Augment: true, AugmentShift: 0.15, AugmentRotate: -1, AugmentFlip: true,
		SelfExpressive: true, SEChannels: 8, SESteps: 50, SELR: 0.002, SEWeight: 30, SEReg: 2, SEKeep: 0.1, SEDim: 6,
		SENoIdentity: true, SEPower: 4}
	if !reflect.DeepEqual(o, wantO) {
		t.Errorf("after Apply %+v\nwant        %+v", o, wantO)
	}
	if err := o.Validate(); err != nil {
		t.Errorf("valid settings refused: %v", err)
	}
	// Every option beyond the papers prints nothing while it holds its
	// zero value, so the default settings (and the suite's cache keys) are
	// those of before they existed; set, each one prints.
	vals := option.Values(&o)
	for _, name := range []string{"augment", "augment-shift", "augment-rotate", "augment-flip", "self-expressive",
		"se-channels", "se-steps", "se-lr", "se-weight", "se-reg", "se-keep", "se-dim", "se-no-identity", "se-power"} {
		if _, ok := vals[name]; !ok {
			t.Errorf("option %s set but not printed", name)
		}
		if _, ok := option.Values(new(Options))[name]; ok {
			t.Errorf("option %s printed at its zero value", name)
		}
	}
}

// TestValidate: DefaultOptions is valid; every bad value is refused with an
// error wrapping ErrOption and detector.ErrOption that names the option,
// both by Validate and by the registered constructor.
func TestValidate(t *testing.T) {
	info := detectortest.Registered(t, Method, detector.Unsupervised|detector.Images)
	if _, err := info.New(info.Options()); err != nil {
		t.Errorf("registered defaults refused: %v", err)
	}
	bad := detectortest.RefusesInvalid(t, DefaultOptions, ErrOption, []detectortest.Invalid[Options]{
		{Name: "k", Set: func(o *Options) { o.K = 0 }},
		{Name: "z", Set: func(o *Options) { o.Embedding = 0 }},
		{Name: "epochs", Set: func(o *Options) { o.PretrainEpochs = -1 }},
		{Name: "batch", Set: func(o *Options) { o.BatchSize = 0 }},
		{Name: "kmeans-init", Set: func(o *Options) { o.KMeansInit = 0 }},
		{Name: "max-steps", Set: func(o *Options) { o.MaxSteps = -1 }},
		{Name: "update-interval", Set: func(o *Options) { o.UpdateInterval = 0 }},
		{Name: "alpha-steps", Set: func(o *Options) { o.AlphaSteps = -2 }},
		{Name: "lr", Set: func(o *Options) { o.LR = 0 }},
		{Name: "lr", Set: func(o *Options) { o.LR = math.Inf(1) }},
		{Name: "finetune-lr", Set: func(o *Options) { o.FinetuneLR = math.NaN() }},
		{Name: "alpha", Set: func(o *Options) { o.Alpha = -1 }},
		{Name: "gamma", Set: func(o *Options) { o.Gamma = 0 }},
		{Name: "tol", Set: func(o *Options) { o.Tol = math.NaN() }},
		{Name: "alpha-from", Set: func(o *Options) { o.AlphaFrom = -0.1 }},
		{Name: "alpha-to", Set: func(o *Options) { o.AlphaTo = 1.5 }},
		{Name: "loss", Set: func(o *Options) { o.Loss = "" }},
		{Name: "schedule", Set: func(o *Options) { o.Schedule = "cosine" }},
		{Name: "final", Set: func(o *Options) { o.Final = "dbscan" }},
		{Name: "score", Set: func(o *Options) { o.Score = "recon" }},
		{Name: "augment-shift", Set: func(o *Options) { o.AugmentShift = 0.6 }},
		{Name: "augment-rotate", Set: func(o *Options) { o.AugmentRotate = math.NaN() }},
		{Name: "se-channels", Set: func(o *Options) { o.SEChannels = -1 }},
		{Name: "se-steps", Set: func(o *Options) { o.SESteps = -1 }},
		{Name: "se-lr", Set: func(o *Options) { o.SELR = -1e-3 }},
		{Name: "se-weight", Set: func(o *Options) { o.SEWeight = math.Inf(1) }},
		{Name: "se-reg", Set: func(o *Options) { o.SEReg = -1 }},
		{Name: "se-keep", Set: func(o *Options) { o.SEKeep = 1.5 }},
		{Name: "se-dim", Set: func(o *Options) { o.SEDim = -3 }},
		{Name: "se-power", Set: func(o *Options) { o.SEPower = -2 }},
	})
	for _, o := range bad {
		if _, err := info.New(&o); !errors.Is(err, detector.ErrOption) {
			t.Errorf("Info.New accepted %+v: %v", o, err)
		}
	}
	detectortest.RefusesOptions(t, Method, map[string]string{"k": "0", "no-such": "1"})
}
