package pca

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

func TestConformance(t *testing.T) {
	// PCA has no setting that makes Fit slow: the cancellation check needs
	// training data whose covariance takes well over 200 ms (about 0.6 s
	// on two cores here). The covariance is accumulated in up to 8 parts
	// in parallel, so the test holds the goroutines to two for the fit to
	// take about as long on a machine with more cores.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"components": "3"},
		Slow:     map[string]string{},
		Bad:      map[string]string{"components": "-1"},
		Train:    detectortest.Gaussian(40000, 256, 0, 0, 1),
		Test:     detectortest.Gaussian(40, 256, 0.5, 0, 2),
	})
}

func TestDetectorSaveLoad(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Points on the plane z = x + y in 3-D: one component pair explains all.
	train := &data.Dataset{N: 300, Shape: []int{3}, X: make([]float32, 900)}
	for i := 0; i < 300; i++ {
		x, y := float32(r.NormFloat64()), float32(r.NormFloat64())
		train.X[3*i], train.X[3*i+1], train.X[3*i+2] = x, y, x+y
	}
	m, err := detector.Fit(context.Background(), New(Options{NComponents: 2}), detector.TrainSet{X: train}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	test := &data.Dataset{N: 2, Shape: []int{3}, X: []float32{1, 1, 2, 1, 1, -2}}
	loaded, a := detectortest.RoundTrip(t, m, test)
	// On the plane: no error; (1,1,-2) is 4/sqrt(3) off it, squared 16/3.
	if a[0] > 1e-6 || math.Abs(a[1]-16.0/3) > 1e-4 {
		t.Errorf("scores %v, want [0, 5.333]", a)
	}
	if o := loaded.Detector.(*Detector).Options; o != (Options{NComponents: 2}) {
		t.Errorf("loaded options %+v", o)
	}
}

// The Detector's default keeps half the features, rounded up.
func TestDetectorDefaultComponents(t *testing.T) {
	d := New(DefaultOptions())
	if err := d.Fit(context.Background(), detector.TrainSet{X: detectortest.Gaussian(100, 5, 0, 0, 3)}); err != nil {
		t.Fatal(err)
	}
	if k := d.Model().NComponents; k != 3 {
		t.Errorf("%d axes of 5 features, want 3", k)
	}
	if err := New(Options{NComponents: 6}).Fit(context.Background(), detector.TrainSet{X: detectortest.Gaussian(100, 5, 0, 0, 3)}); !errors.Is(err, ErrOption) {
		t.Errorf("6 axes of 5 features: %v, want ErrOption", err)
	}
}

// A model saved before the state had JSON names loads, and restores the
// options the detector was made with (bar Workers) whatever they were.
func TestUnmarshalOldAndNew(t *testing.T) {
	train := detectortest.Gaussian(100, 4, 0, 0, 3)
	d := New(Options{NComponents: 1, Solver: SVD})
	want := detectortest.FitScore(t, d, detector.TrainSet{X: train}, train)
	p, _ := d.Marshal()
	e := New(Options{NComponents: 3, Workers: 2})
	if err := e.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	if e.Options != (Options{NComponents: 1, Solver: SVD, Workers: 2}) {
		t.Errorf("options after loading %+v", e.Options)
	}
	old := []byte(`{"Options":{"NComponents":0,"Method":0,"Workers":0},"PCA":` + string(mustJSON(t, d.pca)) + `}`)
	f := New(DefaultOptions())
	if err := f.Unmarshal(&detector.Payload{Config: old}); err != nil {
		t.Fatal(err)
	}
	got, err := f.Score(context.Background(), train)
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("old state: scores differ (%v)", err)
	}
	bad := []byte(`{"options":{},"pca":` + string(mustJSON(t, d.pca)) + `,"shape":[2,3]}`)
	if err := f.Unmarshal(&detector.Payload{Config: bad}); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("shape [2 3] for 4 features: %v, want ErrPayload", err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countCtx is a context whose Err reports cancellation from its after+1-th
// call on: a cancellation in the middle of Fit, without timing.
type countCtx struct {
	context.Context
	calls atomic.Int64
	after int64
}

func (c *countCtx) Err() error {
	if c.calls.Add(1) > c.after {
		return context.Canceled
	}
	return nil
}

// Fit checks its context between blocks of the covariance.
func TestFitStopsBetweenBlocks(t *testing.T) {
	train := detectortest.Gaussian(20000, 4, 0, 0, 1)
	ctx := &countCtx{Context: context.Background(), after: 3}
	if err := New(DefaultOptions()).Fit(ctx, detector.TrainSet{X: train}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Fit: %v, want context.Canceled", err)
	}
	if n := ctx.calls.Load(); n < 4 {
		t.Errorf("Err called %d times", n)
	}
	if err := New(DefaultOptions()).Fit(&countCtx{Context: context.Background(), after: 1 << 40}, detector.TrainSet{X: train}); err != nil {
		t.Errorf("Fit with a live context: %v", err)
	}
}
