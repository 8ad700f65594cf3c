package explain

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// pairwise has interactions of at most two features.
func pairwise(x []float32) float64 {
	a, b, c, d := float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])
	return 2*a + b*c - d*d + a*d + math.Max(b, c)
}

// threeWay has an interaction of three features and a non-smooth term.
func threeWay(x []float32) float64 {
	a, b, c, d := float64(x[0]), float64(x[1]), float64(x[2]), float64(x[3])
	return 3*a*b*c + math.Abs(c-d) + math.Sin(a+d)
}

// The enumeration the tests trust: for a linear score, feature j's value is
// w_j (x_j − mean of the background's j).
func TestExactShapleyLinear(t *testing.T) {
	w := []float64{1, -2, 0.5, 3}
	f := func(x []float32) float64 {
		s := 0.0
		for j, v := range x {
			s += w[j] * float64(v)
		}
		return s
	}
	bg := normalTable(3, 4, 1)
	x := []float32{1, 2, -1, 0.5}
	phi := exactShapley(f, x, bg)
	for j := range w {
		m := 0.0
		for b := 0; b < bg.N; b++ {
			m += float64(bg.Row(b)[j])
		}
		if want := w[j] * (float64(x[j]) - m/3); math.Abs(phi[j]-want) > 1e-5 {
			t.Errorf("feature %d: %v, want %v", j, phi[j], want)
		}
	}
}

// An antithetic pair is exact for a score without interactions of three
// features or more, given the background row; with twice as many
// orderings as background rows every row serves once, so the estimate is
// the exact value.
func TestShapleyExactForPairwise(t *testing.T) {
	x, bg := normalTable(5, 4, 2), normalTable(4, 4, 3)
	det := &funcDetector{f: pairwise}
	a, err := Shapley(context.Background(), det, x, bg, ShapleyOptions{Permutations: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if a.Technique != "shapley" || a.N != 5 || a.D != 4 {
		t.Fatalf("attributions %+v", a)
	}
	for i := 0; i < x.N; i++ {
		want := exactShapley(pairwise, x.Row(i), bg)
		for j, v := range a.Row(i) {
			if math.Abs(float64(v)-want[j]) > 1e-4*(1+math.Abs(want[j])) {
				t.Errorf("sample %d feature %d: %v, exact %v", i, j, v, want[j])
			}
		}
	}
}

// With a three-way interaction the estimate is random; it converges to the
// enumeration, within a few standard errors, and the error shrinks with the
// budget.
func TestShapleyConverges(t *testing.T) {
	x, bg := normalTable(3, 4, 4), normalTable(6, 4, 5)
	det := &funcDetector{f: threeWay}
	errAt := func(perms int) float64 {
		a, err := Shapley(context.Background(), det, x, bg, ShapleyOptions{Permutations: perms, Seed: 7})
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for i := 0; i < x.N; i++ {
			want := exactShapley(threeWay, x.Row(i), bg)
			scale := 0.0
			for _, w := range want {
				scale = math.Max(scale, math.Abs(w))
			}
			for j, v := range a.Row(i) {
				worst = math.Max(worst, math.Abs(float64(v)-want[j])/scale)
			}
		}
		return worst
	}
	small, large := errAt(12), errAt(20000)
	t.Logf("worst relative error: %.4f with 12 orderings, %.4f with 20000", small, large)
	if large > 0.05 {
		t.Errorf("20000 orderings: worst error %.3f of the largest value, want under 0.05", large)
	}
	if large >= small {
		t.Errorf("error did not shrink with the budget: %.4f with 12, %.4f with 20000", small, large)
	}
}

// Offset is the background's mean score and completes the decomposition
// exactly, whatever the budget.
func TestShapleyOffset(t *testing.T) {
	x, bg := normalTable(6, 5, 6), normalTable(30, 5, 7)
	f := func(r []float32) float64 { return threeWay(r) + float64(r[4]*r[4]) }
	det := &funcDetector{f: f}
	a, err := Shapley(context.Background(), det, x, bg, ShapleyOptions{Permutations: 5, BackgroundRows: 20, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	sub, _ := sampleRows(bg, 20, backgroundRand(2))
	mean := 0.0
	for b := 0; b < sub.N; b++ {
		mean += f(sub.Row(b))
	}
	mean /= float64(sub.N)
	for i := 0; i < x.N; i++ {
		if math.Abs(a.Offset[i]-mean) > 1e-9 {
			t.Fatalf("offset %v, background mean %v", a.Offset[i], mean)
		}
		sum := a.Offset[i]
		for _, v := range a.Row(i) {
			sum += float64(v)
		}
		if s := f(x.Row(i)); math.Abs(sum-s) > 1e-4*(1+math.Abs(s)) {
			t.Errorf("sample %d: offset + values = %v, score %v", i, sum, s)
		}
	}
}

// The same seed gives the same values whatever the batch size and whichever
// samples are explained together; another seed gives others.
func TestShapleySeeded(t *testing.T) {
	x, bg := normalTable(4, 4, 8), normalTable(10, 4, 9)
	run := func(x *data.Dataset, o ShapleyOptions) *detector.Attributions {
		det := &funcDetector{f: threeWay}
		a, err := Shapley(context.Background(), det, x, bg, o)
		if err != nil {
			t.Fatal(err)
		}
		if o.BatchRows > 0 && det.rows > max(o.BatchRows, 3) {
			t.Errorf("a Score call of %d rows, batch %d", det.rows, o.BatchRows)
		}
		return a
	}
	a := run(x, ShapleyOptions{Permutations: 6, Seed: 3})
	b := run(x, ShapleyOptions{Permutations: 6, Seed: 3, BatchRows: 7})
	if !slices.Equal(a.Values, b.Values) {
		t.Errorf("batch size changed the values:\n%v\n%v", a.Values, b.Values)
	}
	one, _ := x.Subset([]int{2})
	c := run(one, ShapleyOptions{Permutations: 6, Seed: 3})
	if !slices.Equal(c.Row(0), a.Row(2)) {
		t.Errorf("sample 2 alone %v, among others %v", c.Row(0), a.Row(2))
	}
	if d := run(x, ShapleyOptions{Permutations: 6, Seed: 4}); slices.Equal(d.Values, a.Values) {
		t.Error("seeds 3 and 4 gave the same estimate")
	}
}

// One feature takes the whole difference from the background's mean.
func TestShapleyOneFeature(t *testing.T) {
	x := &data.Dataset{N: 2, Shape: []int{1}, X: []float32{2, -1}}
	bg := &data.Dataset{N: 2, Shape: []int{1}, X: []float32{0, 1}}
	a, err := Shapley(context.Background(), &funcDetector{f: func(r []float32) float64 { return float64(r[0] * r[0]) }}, x, bg, ShapleyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if a.Values[0] != 3.5 || a.Values[1] != 0.5 || a.Offset[0] != 0.5 {
		t.Errorf("values %v offset %v, want [3.5 0.5] 0.5", a.Values, a.Offset)
	}
}

func TestShapleyBadInput(t *testing.T) {
	ctx := context.Background()
	det := &funcDetector{f: pairwise}
	x, bg := normalTable(2, 4, 1), normalTable(3, 4, 2)
	cases := []struct {
		name  string
		det   detector.Detector
		x, bg *data.Dataset
		want  error
	}{
		{"no detector", nil, x, bg, detector.ErrInput},
		{"no samples", det, &data.Dataset{Shape: []int{4}}, bg, detector.ErrInput},
		{"nil samples", det, nil, bg, detector.ErrInput},
		{"no background", det, x, nil, detector.ErrInput},
		{"empty background", det, x, &data.Dataset{Shape: []int{4}}, detector.ErrInput},
		{"other shape", det, x, normalTable(3, 5, 2), detector.ErrSchema},
		{"NaN sample", det, &data.Dataset{N: 1, Shape: []int{4}, X: []float32{0, float32(math.NaN()), 0, 0}}, bg, detector.ErrInput},
		{"infinite score", &funcDetector{f: func(r []float32) float64 { return math.Inf(1) }}, x, bg, detector.ErrInput},
		{"NaN score inside", &funcDetector{f: func(r []float32) float64 {
			if r[0] == x.X[0] && r[1] != x.X[1] {
				return math.NaN()
			}
			return 1
		}}, x, bg, detector.ErrInput},
	}
	for _, c := range cases {
		if _, err := Shapley(ctx, c.det, c.x, c.bg, ShapleyOptions{}); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	cancelled, stop := context.WithCancel(ctx)
	stop()
	if _, err := Shapley(cancelled, det, x, bg, ShapleyOptions{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
