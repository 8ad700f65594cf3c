package iforest

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

func TestConformance(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"trees": "30", "max-samples": "64"},
		Slow:     map[string]string{"trees": "200000"},
		Bad:      map[string]string{"trees": "0", "max-features": "1.5"},
		Train:    detectortest.Gaussian(300, 5, 0, 0, 1),
		Test:     detectortest.Gaussian(40, 5, 0.5, 0, 2),
	})
}

func TestDetectorSaveLoad(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	train := &data.Dataset{Name: "g", N: 500, Shape: []int{4}, X: make([]float32, 2000)}
	for i := range train.X {
		train.X[i] = float32(r.NormFloat64())
	}
	o := DefaultOptions()
	o.Seed = 9
	m, err := detector.Fit(context.Background(), New(o), detector.TrainSet{X: train}, detector.ThresholdRule{Contamination: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	test := &data.Dataset{Name: "t", N: 3, Shape: []int{4}, X: []float32{0, 0, 0, 0, 5, 5, 5, 5, 0.5, -0.2, 0.1, 1}}
	loaded, a := detectortest.RoundTrip(t, m, test)
	if !(a[1] > a[0] && a[1] > m.Threshold) {
		t.Errorf("the far point scores %v (centre %v, threshold %v)", a[1], a[0], m.Threshold)
	}
	if got := loaded.Detector.(*Detector).Options; got != o {
		t.Errorf("loaded options %+v, saved %+v", got, o)
	}
}

// Loading restores the saved options whatever the detector was made with.
func TestUnmarshalRestoresOptions(t *testing.T) {
	train := detectortest.Gaussian(200, 3, 0, 0, 5)
	o := Options{NTrees: 7, MaxSamples: 50, MaxFeatures: 0.5, Seed: 4}
	d := New(o)
	if err := d.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
		t.Fatal(err)
	}
	p, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	e := New(DefaultOptions())
	if err := e.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	if e.Options != o || !slices.Equal(e.shape, []int{3}) {
		t.Errorf("options %+v shape %v after loading, want %+v [3]", e.Options, e.shape, o)
	}
}

// A model saved before the options had JSON names stored the bare Options
// (zero fields meaning defaults); it still loads, with the forest's
// settings.
func TestUnmarshalOldConfig(t *testing.T) {
	train := detectortest.Gaussian(200, 3, 0, 0, 5)
	d := New(Options{NTrees: 12, MaxSamples: 256, MaxFeatures: 1, Seed: 6})
	if err := d.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
		t.Fatal(err)
	}
	p, _ := d.Marshal()
	p.Config = []byte(`{"NTrees":12,"MaxSamples":0,"MaxFeatures":0,"Seed":6,"Workers":0}`)
	e := New(DefaultOptions())
	if err := e.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	if want := (Options{NTrees: 12, MaxSamples: 256, MaxFeatures: 1, Seed: 6}); e.Options != want {
		t.Errorf("options %+v, want %+v", e.Options, want)
	}
	want, _ := d.Score(context.Background(), train)
	got, err := e.Score(context.Background(), train)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("scores after loading an old configuration differ (%v)", err)
	}
	p.Config = []byte(`{"options":{"n_trees":12,"max_samples":256,"max_features":1},"shape":[4]}`)
	if err := New(DefaultOptions()).Unmarshal(p); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("shape [4] for a 3-feature forest: %v, want ErrPayload", err)
	}
}

// Images are flattened: the detector keeps their shape and refuses others.
func TestDetectorImages(t *testing.T) {
	x := detectortest.Blobs(40, 6, false, 1)
	o := DefaultOptions()
	o.NTrees = 10
	d := New(o)
	detectortest.FitScore(t, d, detector.TrainSet{X: x}, x)
	flat := &data.Dataset{N: x.N, Shape: []int{36}, X: x.X}
	if _, err := d.Score(context.Background(), flat); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("rows of 36 features after fitting 1×6×6 images: %v, want ErrSchema", err)
	}
}

func TestNewFittedDetector(t *testing.T) {
	x := gaussian(100, 3, 1)
	o := Options{NTrees: 4, MaxSamples: 16, MaxFeatures: 1, Seed: 1}
	f, err := Fit(x, 100, 3, o)
	if err != nil {
		t.Fatal(err)
	}
	d, err := NewFittedDetector(o, f)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Score(context.Background(), &data.Dataset{N: 100, Shape: []int{3}, X: x}); err != nil {
		t.Error(err)
	}
	if _, err := NewFittedDetector(o, nil); !errors.Is(err, ErrInput) {
		t.Errorf("nil forest: %v, want ErrInput", err)
	}
	if _, err := NewFittedDetector(Options{}, f); !errors.Is(err, ErrOption) {
		t.Errorf("zero options: %v, want ErrOption", err)
	}
}
