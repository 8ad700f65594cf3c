package detectortest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// Case is one registered method with data and settings for the
// conformance checks.
type Case struct {
	// Method is the registered method name.
	Method string
	// Settings are option overrides that make Fit quick (a second or so).
	Settings map[string]string
	// Slow are option overrides that make Fit take several seconds, for
	// the cancellation check.
	Slow map[string]string
	// Bad is an option value that parses but Validate must refuse.
	Bad map[string]string
	// Train, Anomalies (optional) and Test are the data.
	Train, Anomalies, Test *data.Dataset
	// SlowTrain, when not nil, is the training data of the cancellation
	// check alone: for methods with no setting that makes Fit slow (one
	// pass over the data, as ECOD and HBOS make), a data set large enough
	// that Fit takes well over 200 ms, while every other check runs on
	// the small Train.
	SlowTrain *data.Dataset
}

// Conformance runs every check of the detector contract on c: the
// contract that lets the CLI, the benchmark runner and the server handle
// every method alike.
//
//   - DefaultOptions (and PaperOptions, when registered) validate; an
//     unknown option, a malformed value and c.Bad are refused with an
//     error wrapping detector.ErrOption that names the option and method.
//   - Score before Fit wraps detector.ErrNotFitted.
//   - Fit then Score gives one finite score per sample.
//   - Samples of another shape wrap detector.ErrSchema; a NaN or an Inf,
//     in Fit or Score, wraps detector.ErrInput.
//   - Concurrent Score calls equal a sequential one, bit for bit (run the
//     tests with -race to check the sharing too).
//   - A saved and loaded model scores bit for bit as the original.
//   - The same seed gives the same scores.
//   - A cancelled context stops Fit within a second.
func Conformance(t *testing.T, c Case) {
	t.Helper()
	ctx := context.Background()
	in, err := detector.Lookup(c.Method)
	if err != nil {
		t.Fatal(err)
	}
	ts := detector.TrainSet{X: c.Train, Anomalies: c.Anomalies}

	t.Run("options", func(t *testing.T) {
		if _, err := in.New(in.Options()); err != nil {
			t.Errorf("DefaultOptions refused: %v", err)
		}
		if in.Paper != nil {
			if _, err := in.New(in.Paper()); err != nil {
				t.Errorf("PaperOptions refused: %v", err)
			}
		}
		_, err := in.Configure(map[string]string{"no-such-option": "1"}, 0)
		wantOptionError(t, err, "no-such-option", c.Method)
		if len(c.Bad) == 0 {
			t.Errorf("the case gives no bad option value to check Validate with")
		}
		for k, v := range c.Bad {
			_, err := in.Configure(map[string]string{k: v}, 0)
			wantOptionError(t, err, k, c.Method)
		}
		for k := range c.Settings {
			_, err := in.Configure(map[string]string{k: "not-a-value-\x00"}, 0)
			// A string option may take any text; the others must refuse it.
			if err != nil {
				wantOptionError(t, err, k, c.Method)
			}
		}
	})

	fresh := func(seed uint64, settings map[string]string) detector.Detector {
		t.Helper()
		d, err := in.Configure(settings, seed)
		if err != nil {
			t.Fatalf("configure %s %v: %v", c.Method, settings, err)
		}
		return d
	}

	t.Run("not fitted", func(t *testing.T) {
		_, err := fresh(1, c.Settings).Score(ctx, c.Test)
		if !errors.Is(err, detector.ErrNotFitted) {
			t.Errorf("Score before Fit: %v, want ErrNotFitted", err)
		}
	})

	d := fresh(1, c.Settings)
	if err := d.Fit(ctx, ts); err != nil {
		t.Fatalf("Fit: %v", err)
	}
	want, err := d.Score(ctx, c.Test)
	if err != nil {
		t.Fatalf("Score: %v", err)
	}
	if len(want) != c.Test.N {
		t.Fatalf("%d scores for %d samples", len(want), c.Test.N)
	}
	for i, s := range want {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			t.Fatalf("score %d is %v", i, s)
		}
	}

	t.Run("bad input", func(t *testing.T) {
		wrong := reshaped(c.Test)
		if _, err := d.Score(ctx, wrong); !errors.Is(err, detector.ErrSchema) {
			t.Errorf("Score of shape %v after Fit on %v: %v, want ErrSchema", wrong.Shape, c.Train.Shape, err)
		}
		for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
			x := withValue(c.Test, bad)
			if _, err := d.Score(ctx, x); !errors.Is(err, detector.ErrInput) {
				t.Errorf("Score with %v: %v, want ErrInput", bad, err)
			}
			ts2 := ts
			ts2.X = withValue(c.Train, bad)
			if err := fresh(1, c.Settings).Fit(ctx, ts2); !errors.Is(err, detector.ErrInput) {
				t.Errorf("Fit with %v: %v, want ErrInput", bad, err)
			}
		}
	})

	t.Run("concurrent score", func(t *testing.T) { ScoresConcurrently(t, d, c.Test, want) })

	t.Run("save and load", func(t *testing.T) {
		m, err := detector.Fit(ctx, fresh(1, c.Settings), ts, detector.ThresholdRule{Contamination: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		RoundTrip(t, m, c.Test)
	})

	t.Run("same seed", func(t *testing.T) {
		d2 := fresh(1, c.Settings)
		if err := d2.Fit(ctx, ts); err != nil {
			t.Fatal(err)
		}
		got, err := d2.Score(ctx, c.Test)
		if err != nil {
			t.Fatal(err)
		}
		if i := firstDiff(got, want); i >= 0 {
			t.Errorf("second fit with seed 1: score %d is %v, first %v", i, got[i], want[i])
		}
	})

	t.Run("cancel", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if err := fresh(1, c.Settings).Fit(cctx, ts); !errors.Is(err, context.Canceled) {
			t.Errorf("Fit with a cancelled context: %v, want context.Canceled", err)
		}
		if c.Slow == nil {
			t.Fatalf("the case gives no slow settings to check cancellation with")
		}
		cctx, cancel = context.WithCancel(ctx)
		defer cancel()
		done := make(chan error, 1)
		slow := fresh(1, c.Slow)
		sts := ts
		if c.SlowTrain != nil {
			sts = detector.TrainSet{X: c.SlowTrain}
		}
		start := time.Now()
		go func() { done <- slow.Fit(cctx, sts) }()
		time.Sleep(200 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Fit cancelled after 200ms returned %v after %v, want context.Canceled (are the slow settings slow enough?)", err, time.Since(start))
			}
		case <-time.After(time.Second):
			t.Errorf("Fit still running a second after cancellation")
			<-done
		}
	})
}

func wantOptionError(t *testing.T, err error, option, method string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("option %s accepted, want an error", option)
	case !errors.Is(err, detector.ErrOption):
		t.Errorf("option %s: %v does not wrap detector.ErrOption", option, err)
	case !strings.Contains(err.Error(), option) || !strings.Contains(err.Error(), method):
		t.Errorf("option %s: %q does not name the option and the method %s", option, err, method)
	}
}

// reshaped returns x with one more feature (rows) or one more column
// (images): the same number of samples in another shape.
func reshaped(x *data.Dataset) *data.Dataset {
	shape := append([]int(nil), x.Shape...)
	shape[len(shape)-1]++
	y := &data.Dataset{Name: x.Name + "-reshaped", N: x.N, Shape: shape}
	d := y.Dim()
	y.X = make([]float32, x.N*d)
	for i := range y.X {
		y.X[i] = x.X[(i/d*x.Dim()+i%d)%len(x.X)]
	}
	return y
}

// withValue returns a copy of x whose middle value is v.
func withValue(x *data.Dataset, v float32) *data.Dataset {
	y := *x
	y.X = append([]float32(nil), x.X...)
	y.X[len(y.X)/2] = v
	return &y
}

func firstDiff(a, b []float64) int {
	if len(a) != len(b) {
		return 0
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return i
		}
	}
	return -1
}

// Gaussian returns n rows of d standard normal features drawn from seed,
// shifted by shift, all labelled label: a table for conformance cases.
func Gaussian(n, d int, shift float32, label int, seed uint64) *data.Dataset {
	x := &data.Dataset{Name: fmt.Sprintf("gauss%d", seed), N: n, Shape: []int{d}, X: make([]float32, n*d), Y: make([]int, n)}
	r := newRand(seed)
	for i := range x.X {
		x.X[i] = float32(r.NormFloat64()) + shift
	}
	for i := range x.Y {
		x.Y[i] = label
	}
	return x
}

// Blobs returns n grey images of side×side pixels in [0, 1] drawn from
// seed: a bright square in one of four places for normal images (label
// 0), or a bright diagonal stroke for anomalies (label 1). An image case
// for conformance checks.
func Blobs(n, side int, anomalous bool, seed uint64) *data.Dataset {
	x := &data.Dataset{Name: fmt.Sprintf("blobs%d", seed), N: n, Shape: []int{1, side, side}, X: make([]float32, n*side*side), Y: make([]int, n)}
	r := newRand(seed)
	for i := 0; i < n; i++ {
		img := x.X[i*side*side : (i+1)*side*side]
		for p := range img {
			img[p] = 0.1 * float32(r.Float64())
		}
		if anomalous {
			x.Y[i] = 1
			for k := 0; k < side; k++ {
				img[k*side+k] = 1
			}
			continue
		}
		q := side / 2
		oy, ox := (i%2)*q, (i/2%2)*q
		for y := oy + q/4; y < oy+3*q/4; y++ {
			for xx := ox + q/4; xx < ox+3*q/4; xx++ {
				img[y*side+xx] = 0.9
			}
		}
	}
	return x
}
