package detectortest

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// Registered returns the registered method, failing the test unless it is
// registered with the given kind.
func Registered(tb testing.TB, method string, kind detector.Kind) detector.Info {
	tb.Helper()
	in, err := detector.Lookup(method)
	if err != nil {
		tb.Fatal(err)
	}
	if in.Kind != kind {
		tb.Errorf("%s registered as %v, want %v", method, in.Kind, kind)
	}
	return in
}

// OptionValues fails the test unless option.Values(opts) is want, naming
// each option missing, extra or printed otherwise. opts is a pointer to a
// method's Options; the printed values are the benchmark suite's cache
// keys, so want is a contract written out by hand.
func OptionValues(tb testing.TB, opts any, want map[string]string) {
	tb.Helper()
	got := option.Values(opts)
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		g, inGot := got[k]
		w, inWant := want[k]
		switch {
		case !inWant:
			tb.Errorf("%T: option %s = %q printed, want none", opts, k, g)
		case !inGot:
			tb.Errorf("%T: option %s not printed, want %q", opts, k, w)
		case g != w:
			tb.Errorf("%T: option %s = %q, want %q", opts, k, g, w)
		}
	}
}

// RefusesOptions configures the registered method with each option of bad
// alone (name to value, as flags spell them) and fails the test unless
// every one is refused with an error that wraps detector.ErrOption and each
// of sentinels (a package's own ErrOption, say) and names the option and
// the method.
func RefusesOptions(tb testing.TB, method string, bad map[string]string, sentinels ...error) {
	tb.Helper()
	in, err := detector.Lookup(method)
	if err != nil {
		tb.Fatal(err)
	}
	if len(bad) == 0 {
		tb.Fatalf("no bad option values to check %s with", method)
	}
	for k, v := range bad {
		_, err := in.Configure(map[string]string{k: v}, 0)
		switch {
		case err == nil:
			tb.Errorf("%s: %s=%q accepted, want an error", method, k, v)
		case !errors.Is(err, detector.ErrOption):
			tb.Errorf("%s: %s=%q: %v does not wrap detector.ErrOption", method, k, v, err)
		case !strings.Contains(err.Error(), k) || !strings.Contains(err.Error(), method):
			tb.Errorf("%s: %s=%q: %q does not name the option and the method", method, k, v, err)
		}
		for _, s := range sentinels {
			if err != nil && !errors.Is(err, s) {
				tb.Errorf("%s: %s=%q: %v does not wrap %v", method, k, v, err, s)
			}
		}
	}
}

// Invalid is one invalid setting of a method's Options: the option it
// breaks, which Validate's error must name, and how it breaks it.
type Invalid[O any] struct {
	Name string
	Set  func(*O)
}

// RefusesInvalid checks an Options type's Validate: base() must validate,
// and each case applied to a fresh base() must be refused with an error
// that wraps errOption (the package's ErrOption) and detector.ErrOption
// and reads "<errOption>: <name> = <value>...". It returns the invalid
// options, one a case in order, for checks of the package's own entry
// points.
func RefusesInvalid[O detector.Options](tb testing.TB, base func() O, errOption error, cases []Invalid[O]) []O {
	tb.Helper()
	if err := base().Validate(); err != nil {
		tb.Fatalf("base options %+v refused: %v", base(), err)
	}
	if len(cases) == 0 {
		tb.Fatal("no invalid options to check Validate with")
	}
	out := make([]O, len(cases))
	for i, c := range cases {
		o := base()
		c.Set(&o)
		out[i] = o
		err := o.Validate()
		switch prefix := errOption.Error() + ": " + c.Name + " = "; {
		case err == nil:
			tb.Errorf("%s: %+v validated", c.Name, o)
		case !errors.Is(err, errOption) || !errors.Is(err, detector.ErrOption):
			tb.Errorf("%s: %v does not wrap %v and detector.ErrOption", c.Name, err, errOption)
		case !strings.HasPrefix(err.Error(), prefix):
			tb.Errorf("%s: %q does not begin %q", c.Name, err, prefix)
		}
	}
	return out
}

// FitScore fits d on ts and returns its scores of x, failing the test if
// either step fails.
func FitScore(tb testing.TB, d detector.Detector, ts detector.TrainSet, x *data.Dataset) []float64 {
	tb.Helper()
	ctx := context.Background()
	if err := d.Fit(ctx, ts); err != nil {
		tb.Fatalf("Fit: %v", err)
	}
	s, err := d.Score(ctx, x)
	if err != nil {
		tb.Fatalf("Score: %v", err)
	}
	return s
}

// WantScores fails the test unless got holds the scores of want, bit for
// bit, naming the first that differs; what says where got comes from.
func WantScores(tb testing.TB, what string, got, want []float64) {
	tb.Helper()
	if len(got) != len(want) {
		tb.Fatalf("%s: %d scores, want %d", what, len(got), len(want))
	}
	if i := firstDiff(got, want); i >= 0 {
		tb.Fatalf("%s: score %d is %v, want %v", what, i, got[i], want[i])
	}
}

// SameScores reports whether a and b hold the same scores, bit for bit.
func SameScores(a, b []float64) bool { return firstDiff(a, b) < 0 }

// ScoresConcurrently scores x with d from several goroutines at once and
// fails the test unless each gets want, bit for bit.
func ScoresConcurrently(tb testing.TB, d detector.Detector, x *data.Dataset, want []float64) {
	tb.Helper()
	const n = 4
	type result struct {
		scores []float64
		err    error
	}
	results := make(chan result, n)
	for range n {
		go func() {
			s, err := d.Score(context.Background(), x)
			results <- result{s, err}
		}()
	}
	for range n {
		r := <-results
		if r.err != nil {
			tb.Fatalf("concurrent Score: %v", r.err)
		}
		if i := firstDiff(r.scores, want); i >= 0 {
			tb.Fatalf("concurrent Score differs from the sequential one at score %d of %d", i, len(want))
		}
	}
}

// CancelAtFirstReport fits d on ts, cancelling the context at the first
// progress report of phase ("" for any phase), and fails the test unless
// Fit returns context.Canceled after that one report and d then refuses to
// score test with detector.ErrNotFitted: a cancelled Fit leaves no
// half-trained model. It replaces ts.Progress.
func CancelAtFirstReport(tb testing.TB, d detector.Detector, ts detector.TrainSet, phase string, test *data.Dataset) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reports := 0
	ts.Progress = func(p detector.Progress) {
		if phase == "" || p.Phase == phase {
			reports++
			cancel()
		}
	}
	if err := d.Fit(ctx, ts); !errors.Is(err, context.Canceled) || reports != 1 {
		tb.Fatalf("Fit cancelled at the first %q report: %v after %d reports", phase, err, reports)
	}
	if _, err := d.Score(context.Background(), test); !errors.Is(err, detector.ErrNotFitted) {
		tb.Errorf("Score after a cancelled Fit: %v, want ErrNotFitted", err)
	}
}

// Planted returns tables of d features drawn in turn from one stream of
// seed, one a size {n, a}: n rows of 0.5 plus normal noise of deviation
// sd, the first a of them anomalies (label 1) shifted by 0.4 in features 0
// and 1.
func Planted(seed uint64, d int, sd float64, sizes ...[2]int) []*data.Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]*data.Dataset, len(sizes))
	for s, size := range sizes {
		n, anomalies := size[0], size[1]
		ds := &data.Dataset{N: n, Shape: []int{d}, X: make([]float32, 0, n*d), Y: make([]int, n)}
		for i := 0; i < n; i++ {
			for j := 0; j < d; j++ {
				v := 0.5 + sd*r.NormFloat64()
				if i < anomalies && j < 2 {
					v += 0.4
				}
				ds.X = append(ds.X, float32(v))
			}
			if i < anomalies {
				ds.Y[i] = 1
			}
		}
		out[s] = ds
	}
	return out
}

// SavedWithout marshals d and removes key from its payload's JSON
// configuration, as a model saved before the key was stored lacks it. It
// fails the test unless the configuration holds key.
func SavedWithout(tb testing.TB, d detector.Detector, key string) *detector.Payload {
	tb.Helper()
	p, err := d.Marshal()
	if err != nil {
		tb.Fatalf("Marshal: %v", err)
	}
	var c map[string]json.RawMessage
	if err := json.Unmarshal(p.Config, &c); err != nil {
		tb.Fatalf("config %s: %v", p.Config, err)
	}
	if _, ok := c[key]; !ok {
		tb.Fatalf("config %s stores no %s", p.Config, key)
	}
	delete(c, key)
	if p.Config, err = json.Marshal(c); err != nil {
		tb.Fatal(err)
	}
	return p
}

// CentralDifference returns (f(x[i]+h) − f(x[i]−h)) / 2h, the numerical
// derivative of f in x[i] for checking a backward pass, and restores x[i].
func CentralDifference(x []float32, i int, h float64, f func() float64) float64 {
	old := x[i]
	x[i] = old + float32(h)
	fp := f()
	x[i] = old - float32(h)
	fm := f()
	x[i] = old
	return (fp - fm) / (2 * h)
}

// BenchFit benchmarks fitting a fresh detector from fresh on x, reporting
// the float32 input as bytes per operation (so -bench prints MB/s).
func BenchFit(b *testing.B, fresh func() detector.Detector, x *data.Dataset) {
	b.Helper()
	b.SetBytes(int64(4 * len(x.X)))
	for b.Loop() {
		if err := fresh().Fit(context.Background(), detector.TrainSet{X: x}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchScore benchmarks scoring test with a detector from fresh fitted on
// train once.
func BenchScore(b *testing.B, fresh func() detector.Detector, train, test *data.Dataset) {
	b.Helper()
	d := fresh()
	if err := d.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(4 * len(test.X)))
	for b.Loop() {
		if _, err := d.Score(context.Background(), test); err != nil {
			b.Fatal(err)
		}
	}
}
