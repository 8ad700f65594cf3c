package deepsad

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

// TestOptionValuesAreTheCacheKeys: the benchmark suite's cache keys hash the
// option names with their printed defaults. This map is what the suite's
// hand-written Deep SAD flags printed before the options were declared on
// Options; it must not change.
func TestOptionValuesAreTheCacheKeys(t *testing.T) {
	o := DefaultOptions()
	detectortest.OptionValues(t, &o, map[string]string{
		"hidden": "32,16", "rep": "8", "ae-epochs": "100", "epochs": "50",
		"batch": "128", "max-batches": "0", "lr": "0.001", "weight-decay": "1e-06",
		"eta": "1",
	})
}

func TestValidate(t *testing.T) {
	if err := (Options{}).Validate(); err == nil {
		t.Errorf("the zero Options validated")
	}
	detectortest.RefusesInvalid(t, DefaultOptions, ErrOption, []detectortest.Invalid[Options]{
		{Name: "hidden", Set: func(o *Options) { o.Hidden = []int{32, 0} }},
		{Name: "rep", Set: func(o *Options) { o.Rep = 0 }},
		{Name: "ae-epochs", Set: func(o *Options) { o.AEEpochs = -1 }},
		{Name: "epochs", Set: func(o *Options) { o.Epochs = -1 }},
		{Name: "batch", Set: func(o *Options) { o.BatchSize = 0 }},
		{Name: "max-batches", Set: func(o *Options) { o.MaxBatches = -1 }},
		{Name: "lr", Set: func(o *Options) { o.LR = math.Inf(1) }},
		{Name: "weight-decay", Set: func(o *Options) { o.WeightDecay = math.NaN() }},
		{Name: "eta", Set: func(o *Options) { o.Eta = -0.5 }},
	})
}

func TestRegistered(t *testing.T) {
	in := detectortest.Registered(t, Method, detector.WeaklySupervised|detector.Tables)
	d, err := in.Configure(map[string]string{"hidden": "10,5,3", "batch": "64"}, 9)
	if err != nil {
		t.Fatal(err)
	}
	o := d.(*Detector).Options
	if len(o.Hidden) != 3 || o.Hidden[2] != 3 || o.BatchSize != 64 || o.Seed != 9 || o.Rep != 8 {
		t.Errorf("configured options %+v", o)
	}
	detectortest.RefusesOptions(t, Method, map[string]string{"rep": "0"}, ErrOption)
	if _, ok := d.(detector.Embedder); !ok {
		t.Errorf("Deep SAD is not a detector.Embedder")
	}
}

func TestConformance(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method:    Method,
		Settings:  map[string]string{"ae-epochs": "2", "epochs": "3", "batch": "32"},
		Slow:      map[string]string{"ae-epochs": "1000000"},
		Bad:       map[string]string{"rep": "0", "eta": "-1"},
		Train:     detectortest.Gaussian(300, 5, 0, 0, 1),
		Anomalies: detectortest.Gaussian(10, 5, 3, 1, 2),
		Test:      detectortest.Gaussian(50, 5, 0, 0, 3),
	})
}

// TestEmbed: the codes are φ(x), and the score is their squared distance
// to the centre.
func TestEmbed(t *testing.T) {
	ctx := context.Background()
	unl, lab, test := planted(6, 5)
	m := New(fastOptions(2))
	if _, _, err := m.Embed(ctx, test); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Embed before Fit: %v", err)
	}
	if err := m.Fit(ctx, detector.TrainSet{X: unl, Anomalies: lab}); err != nil {
		t.Fatal(err)
	}
	codes, dim, err := m.Embed(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	if dim != m.Options.Rep || len(codes) != test.N*dim {
		t.Fatalf("%d codes of dim %d for %d samples", len(codes), dim, test.N)
	}
	sc, err := m.Score(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < test.N; i++ {
		var s float64
		for j := 0; j < dim; j++ {
			d := float64(codes[i*dim+j] - m.c[j])
			s += d * d
		}
		if math.Float64bits(s) != math.Float64bits(sc[i]) {
			t.Fatalf("sample %d: ‖code − c‖² = %v, score %v", i, s, sc[i])
		}
	}
	wide := &data.Dataset{X: make([]float32, 6), N: 1, Shape: []int{6}}
	if _, _, err := m.Embed(ctx, wide); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("Embed of another width: %v", err)
	}
}

func TestCancelledFitIsNotFitted(t *testing.T) {
	m := New(fastOptions(1))
	unl, lab, test := planted(5, 4)
	detectortest.CancelAtFirstReport(t, m, detector.TrainSet{X: unl, Anomalies: lab}, "epoch", test)
	if len(m.AELosses) != 5 {
		t.Errorf("Fit cancelled after the first training epoch: %d pretraining epochs, want 5", len(m.AELosses))
	}
}
