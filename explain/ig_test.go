package explain

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// gradOf makes a GradFunc from a score and its analytic gradient, counting
// the rows it is given.
func gradOf(f func(x []float64) float64, g func(x, grad []float64), rows *int) GradFunc {
	return func(ctx context.Context, x []float32, n int, grad []float32) ([]float64, error) {
		d := len(x) / n
		if rows != nil {
			*rows += n
		}
		out := make([]float64, n)
		xs, gs := make([]float64, d), make([]float64, d)
		for i := 0; i < n; i++ {
			for j := range xs {
				xs[j] = float64(x[i*d+j])
			}
			out[i] = f(xs)
			g(xs, gs)
			for j, v := range gs {
				grad[i*d+j] = float32(v)
			}
		}
		return out, nil
	}
}

// smooth is f = x0² − 2x1² + sin(x2) + 3x3, each term of one
// feature, so each feature's integrated gradient has a closed form:
// a(x² − b²) for a·x², sin x − sin b, 3(x − b).
func smooth(x []float64) float64 {
	return x[0]*x[0] - 2*x[1]*x[1] + math.Sin(x[2]) + 3*x[3]
}

func smoothGrad(x, g []float64) {
	g[0], g[1], g[2], g[3] = 2*x[0], -4*x[1], math.Cos(x[2]), 3
}

func TestIGSmoothClosedForm(t *testing.T) {
	x := &data.Dataset{N: 3, Shape: []int{4}, X: []float32{
		1, 2, 3, -1,
		-2, 0.5, -1, 2,
		0.3, -0.7, 2.5, 0,
	}}
	b := []float32{0.5, -0.5, 0.2, 1}
	a, err := IntegratedGradients(context.Background(), gradOf(smooth, smoothGrad, nil), x, b, IGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Technique != "integrated-gradients" {
		t.Errorf("technique %q", a.Technique)
	}
	f64 := func(v []float32) []float64 {
		out := make([]float64, len(v))
		for i, u := range v {
			out[i] = float64(u)
		}
		return out
	}
	bb := f64(b)
	for i := 0; i < x.N; i++ {
		xi := f64(x.Row(i))
		want := []float64{
			xi[0]*xi[0] - bb[0]*bb[0],
			-2 * (xi[1]*xi[1] - bb[1]*bb[1]),
			math.Sin(xi[2]) - math.Sin(bb[2]),
			3 * (xi[3] - bb[3]),
		}
		sum := 0.0
		for j, v := range a.Row(i) {
			sum += float64(v)
			if math.Abs(float64(v)-want[j]) > 2e-3*(1+math.Abs(want[j])) {
				t.Errorf("sample %d feature %d: %v, closed form %v", i, j, v, want[j])
			}
		}
		if a.Offset[i] != smooth(bb) {
			t.Errorf("offset %v, baseline score %v", a.Offset[i], smooth(bb))
		}
		gap := smooth(xi) - smooth(bb)
		if math.Abs(sum-gap) > 0.01*math.Abs(gap) {
			t.Errorf("sample %d: attributions sum to %v, f(x) − f(b) = %v", i, sum, gap)
		}
	}
}

// A ReLU unit relu(w·x + c) is active from α* = −u_b/(u_x − u_b) on the
// path when the baseline's pre-activation u_b is negative and the sample's
// u_x positive, so IG_j = w_j (x_j − b_j)(1 − α*). With α* a quarter into
// the 31st of 32 intervals the trapezoid rule misses it by 1/7; refinement
// to 64 steps puts the kink at an interval's middle, where the rule is
// exact.
func TestIGReLURefines(t *testing.T) {
	w := []float64{1, -2, 0.5}
	const c = -1.0
	f := func(x []float64) float64 {
		u := c
		for j, v := range x {
			u += w[j] * v
		}
		return math.Max(u, 0)
	}
	g := func(x, grad []float64) {
		u := c
		for j, v := range x {
			u += w[j] * v
		}
		for j := range grad {
			grad[j] = 0
			if u > 0 {
				grad[j] = w[j]
			}
		}
	}
	// u_b = c = −1 at b = 0, so α* = 1/(u_x + 1): u_x = 32/30.25 − 1
	// puts α* at 30.25/32; x lies along w, scaled to give that u_x.
	alpha := 30.25 / 32
	ux := 1/alpha - 1
	norm := 0.0
	for _, v := range w {
		norm += v * v
	}
	scale := (ux - c) / norm
	x := &data.Dataset{N: 1, Shape: []int{3}, X: []float32{float32(w[0] * scale), float32(w[1] * scale), float32(w[2] * scale)}}
	b := []float32{0, 0, 0}
	xs := []float64{float64(x.X[0]), float64(x.X[1]), float64(x.X[2])}
	fx := f(xs)
	sumOf := func(a *detector.Attributions) float64 {
		s := 0.0
		for _, v := range a.Values {
			s += float64(v)
		}
		return s
	}

	rows := 0
	coarse, err := IntegratedGradients(context.Background(), gradOf(f, g, &rows), x, b, IGOptions{Steps: 32, MaxSteps: 32})
	if err != nil {
		t.Fatal(err)
	}
	if gap := math.Abs(sumOf(coarse)-fx) / fx; gap < 0.1 {
		t.Errorf("32 steps, no refinement: completeness gap %.3f, expected about 1/7 (the case is built to miss)", gap)
	}
	if rows != 1+32 {
		t.Errorf("%d rows without refinement, want 33", rows)
	}

	rows = 0
	a, err := IntegratedGradients(context.Background(), gradOf(f, g, &rows), x, b, IGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 1+32+64 {
		t.Errorf("%d rows, want 1 + 32 + 64 (one refinement)", rows)
	}
	astar := -c / (ux - c)
	for j, v := range a.Values {
		want := w[j] * xs[j] * (1 - astar)
		if math.Abs(float64(v)-want) > 1e-4*(1+math.Abs(want)) {
			t.Errorf("feature %d: %v, closed form %v", j, v, want)
		}
	}
	if gap := math.Abs(sumOf(a)-fx) / fx; gap > 0.01 {
		t.Errorf("completeness gap %.4f after refinement", gap)
	}
}

// Samples that meet the tolerance are not recomputed; a batch bound splits
// the calls without changing the result.
func TestIGBatches(t *testing.T) {
	x := normalTable(10, 4, 3)
	b := []float32{0, 0, 0, 0}
	rows := 0
	a, err := IntegratedGradients(context.Background(), gradOf(smooth, smoothGrad, &rows), x, b, IGOptions{BatchRows: 64})
	if err != nil {
		t.Fatal(err)
	}
	if rows != 1+10*32 {
		t.Errorf("%d rows for 10 smooth samples, want 321 (no refinement)", rows)
	}
	whole, err := IntegratedGradients(context.Background(), gradOf(smooth, smoothGrad, nil), x, b, IGOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for k := range a.Values {
		if a.Values[k] != whole.Values[k] {
			t.Fatalf("value %d: %v in batches of 64 rows, %v in one", k, a.Values[k], whole.Values[k])
		}
	}
}

func TestIGBadInput(t *testing.T) {
	ctx := context.Background()
	good := gradOf(smooth, smoothGrad, nil)
	x := normalTable(2, 4, 1)
	b := []float32{0, 0, 0, 0}
	boom := errors.New("boom")
	cases := []struct {
		name string
		f    GradFunc
		x    *data.Dataset
		b    []float32
		want error
	}{
		{"nil samples", good, nil, b, detector.ErrInput},
		{"no samples", good, &data.Dataset{Shape: []int{4}}, b, detector.ErrInput},
		{"short baseline", good, x, b[:3], detector.ErrSchema},
		{"NaN sample", good, &data.Dataset{N: 1, Shape: []int{4}, X: []float32{0, float32(math.NaN()), 0, 0}}, b, detector.ErrInput},
		{"NaN baseline", good, x, []float32{0, float32(math.Inf(1)), 0, 0}, detector.ErrInput},
		{"failing gradient", func(context.Context, []float32, int, []float32) ([]float64, error) { return nil, boom }, x, b, boom},
		{"infinite score", gradOf(func([]float64) float64 { return math.Inf(1) }, smoothGrad, nil), x, b, detector.ErrInput},
		{"short scores", func(ctx context.Context, x []float32, n int, g []float32) ([]float64, error) {
			return make([]float64, 1), nil
		}, x, b, ErrGradient},
		{"NaN gradient", gradOf(smooth, func(x, g []float64) { g[0] = math.NaN() }, nil), x, b, ErrGradient},
	}
	for _, c := range cases {
		if _, err := IntegratedGradients(ctx, c.f, c.x, c.b, IGOptions{}); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	cancelled, stop := context.WithCancel(ctx)
	stop()
	if _, err := IntegratedGradients(cancelled, good, x, b, IGOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
