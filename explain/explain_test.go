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

// selfExplaining is a funcDetector that explains itself with fixed values.
type selfExplaining struct {
	funcDetector
	a *detector.Attributions
}

func (s *selfExplaining) Explain(ctx context.Context, x, bg *data.Dataset) (*detector.Attributions, error) {
	return s.a, nil
}

func TestAttributeChoosesExplainer(t *testing.T) {
	ctx := context.Background()
	x, bg := normalTable(2, 3, 1), normalTable(4, 3, 2)
	own := &detector.Attributions{N: 2, D: 3, Values: []float32{1, 2, 3, 4, 5, 6}, Technique: "own"}
	self := &selfExplaining{funcDetector{f: func(r []float32) float64 { return float64(r[0]) }}, own}
	a, err := Attribute(ctx, self, x, bg, Options{})
	if err != nil || a != own {
		t.Errorf("an Explainer: got %+v, %v; want its own attributions", a, err)
	}
	a, err = Attribute(ctx, self, x, bg, Options{Agnostic: true})
	if err != nil || a.Technique != "shapley" {
		t.Errorf("Agnostic: got %+v, %v; want a Shapley estimate", a, err)
	}
	// Score = x0: feature 0 takes all of it.
	if a.Row(0)[1] != 0 || a.Row(0)[2] != 0 {
		t.Errorf("features 1 and 2 do not change the score but got %v", a.Row(0))
	}
	a, err = Attribute(ctx, &self.funcDetector, x, bg, Options{Shapley: ShapleyOptions{Permutations: 2}})
	if err != nil || a.Technique != "shapley" {
		t.Errorf("a plain detector: %+v, %v; want Shapley", a, err)
	}
	self.a = &detector.Attributions{N: 2, D: 2, Values: make([]float32, 4)}
	if _, err := Attribute(ctx, self, x, bg, Options{}); err == nil {
		t.Error("attributions of the wrong size were passed on")
	}
	if _, err := Attribute(ctx, nil, x, bg, Options{}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("no detector: %v", err)
	}
}

func TestTopK(t *testing.T) {
	a := &detector.Attributions{N: 2, D: 5, Values: []float32{
		0.5, -3, 2, 2, 0,
		1, 1, 1, 1, 1,
	}}
	for _, c := range []struct {
		i, k int
		want []int
	}{
		{0, 3, []int{2, 3, 0}},       // ties keep feature order
		{0, 5, []int{2, 3, 0, 4, 1}}, // a large negative value ranks last
		{0, 9, []int{2, 3, 0, 4, 1}},
		{1, 2, []int{0, 1}},
		{1, 0, nil},
		{2, 1, nil},
	} {
		if got := TopK(a, c.i, c.k); !slices.Equal(got, c.want) {
			t.Errorf("TopK(%d, %d) = %v, want %v", c.i, c.k, got, c.want)
		}
	}
}

func TestBySource(t *testing.T) {
	a := &detector.Attributions{N: 2, D: 4, Values: []float32{
		1, 2, 3, 4,
		-1, 0.5, 0.25, 2,
	}, Offset: []float64{7, 8}, Technique: "x"}
	names := []string{"amount", "country", "amount", "country"}
	got, cols, err := BySource(a, func(j int) string { return names[j] })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cols, []string{"amount", "country"}) {
		t.Errorf("columns %v", cols)
	}
	if !slices.Equal(got.Values, []float32{4, 6, -0.75, 2.5}) || got.D != 2 || got.N != 2 {
		t.Errorf("sums %v (%d×%d), want [4 6 -0.75 2.5]", got.Values, got.N, got.D)
	}
	if !slices.Equal(got.Offset, a.Offset) || got.Technique != "x" {
		t.Errorf("offset %v technique %q not carried", got.Offset, got.Technique)
	}
	if _, _, err := BySource(a, func(j int) string { return "" }); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("an empty source: %v", err)
	}
}

// The robust z-score by hand: background column 0 = 1..5 (median 3,
// quartiles 2 and 4, IQR 2); column 1 mostly 0 (IQR 0, mean absolute
// deviation 0.2); column 2 constant 7.
func TestZScore(t *testing.T) {
	bg := &data.Dataset{N: 5, Shape: []int{3}, X: []float32{
		1, 0, 7,
		2, 0, 7,
		3, 0, 7,
		4, 0, 7,
		5, 1, 7,
	}}
	x := &data.Dataset{N: 1, Shape: []int{3}, X: []float32{8, 1, 7.5}}
	a, err := ZScore(x, bg)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{2.5, 1 / 0.2, 0.5 / 7e-6}
	for j, v := range a.Values {
		if math.Abs(float64(v)-want[j]) > 1e-4*want[j] {
			t.Errorf("feature %d: %v, want %v", j, v, want[j])
		}
	}
	if a.Offset != nil || a.Technique != "zscore" {
		t.Errorf("offset %v technique %q", a.Offset, a.Technique)
	}
	if _, err := ZScore(x, normalTable(3, 4, 1)); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("background of 4 features: %v", err)
	}
}

func TestRandom(t *testing.T) {
	a, err := Random(200, 5, 1)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Random(200, 5, 1)
	c, _ := Random(200, 5, 2)
	if !slices.Equal(a.Values, b.Values) || slices.Equal(a.Values, c.Values) {
		t.Error("the same seed must give the same values, another seed others")
	}
	// Precision at 2 against a fixed truth is 2/5 in expectation.
	truth := make([][]int, 200)
	for i := range truth {
		truth[i] = []int{1, 3}
	}
	p, n, err := PrecisionAtR(a, truth, nil)
	if err != nil || n != 200 || math.Abs(p-0.4) > 0.07 {
		t.Errorf("random precision at 2 of 5: %v over %d rows (%v), want about 0.4", p, n, err)
	}
	if _, err := Random(1, 0, 1); !errors.Is(err, detector.ErrInput) {
		t.Errorf("no features: %v", err)
	}
}

func TestPlantExtreme(t *testing.T) {
	train := &data.Dataset{N: 3, Shape: []int{4}, X: []float32{
		0, 5, 1, -1,
		2, 5, 3, 1,
		1, 5, 2, 0,
	}}
	rg, err := RangeOf(train)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rg.Min, []float32{0, 5, 1, -1}) || !slices.Equal(rg.Max, []float32{2, 5, 3, 1}) {
		t.Fatalf("range %+v", rg)
	}
	normal := normalTable(50, 4, 3)
	x, truth, err := Plant(normal, rg, 2, Extreme, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Feature 1 is constant in training: never chosen. The others move to
	// max + half the range: 3, 4, 2.
	target := []float32{3, 0, 4, 2}
	for i := 0; i < x.N; i++ {
		if len(truth[i]) != 2 || slices.Contains(truth[i], 1) || !slices.IsSorted(truth[i]) {
			t.Fatalf("row %d: truth %v", i, truth[i])
		}
		for j, v := range x.Row(i) {
			if slices.Contains(truth[i], j) {
				if v != target[j] {
					t.Errorf("row %d feature %d: %v, want %v", i, j, v, target[j])
				}
			} else if v != normal.Row(i)[j] {
				t.Errorf("row %d feature %d changed but not in the truth", i, j)
			}
		}
	}
	y, truth2, _ := Plant(normal, rg, 2, Extreme, 1)
	if !slices.Equal(x.X, y.X) || !slices.EqualFunc(truth, truth2, slices.Equal) {
		t.Error("the same seed planted differently")
	}
	if _, _, err := Plant(normal, rg, 4, Extreme, 1); !errors.Is(err, detector.ErrInput) {
		t.Errorf("4 planted of 3 varying features: %v", err)
	}
	if _, _, err := Plant(normal, rg, 1, "sideways", 1); !errors.Is(err, detector.ErrInput) {
		t.Errorf("unknown kind: %v", err)
	}
	if _, _, err := Plant(normal, Range{Min: rg.Min[:3], Max: rg.Max[:3]}, 1, Extreme, 1); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("range of 3 features: %v", err)
	}
}

func TestPlantDependency(t *testing.T) {
	// Rows that share feature 0 (so it can never be planted) and differ in
	// the others.
	normal := &data.Dataset{N: 3, Shape: []int{3}, X: []float32{
		1, 10, 100,
		1, 20, 200,
		1, 30, 300,
	}}
	x, truth, err := Plant(normal, Range{}, 2, Dependency, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if !slices.Equal(truth[i], []int{1, 2}) {
			t.Errorf("row %d: truth %v, want [1 2]", i, truth[i])
		}
		row := x.Row(i)
		donor := int(row[1]/10) - 1
		if donor == i || row[2] != normal.Row(donor)[2] || row[0] != 1 {
			t.Errorf("row %d: %v is not a copy from another row", i, row)
		}
	}
	// Three features asked, two can differ: the truth is the two.
	_, truth, err = Plant(normal, Range{}, 3, Dependency, 4)
	if err != nil || !slices.Equal(truth[0], []int{1, 2}) {
		t.Errorf("r beyond the differing features: %v, %v", truth[0], err)
	}
	same := &data.Dataset{N: 2, Shape: []int{2}, X: []float32{1, 2, 1, 2}}
	_, truth, err = Plant(same, Range{}, 1, Dependency, 4)
	if err != nil || len(truth[0]) != 0 {
		t.Errorf("identical rows: truth %v, %v; want none", truth, err)
	}
	if _, _, err := Plant(&data.Dataset{N: 1, Shape: []int{2}, X: []float32{1, 2}}, Range{}, 1, Dependency, 4); !errors.Is(err, detector.ErrInput) {
		t.Errorf("one row: %v", err)
	}
}

// Precision at r by hand: row 0's top 2 are {3, 0}, one of the truth
// {0, 1}; row 1's top 1 is 2, its truth; row 2 has no truth.
func TestPrecisionAtR(t *testing.T) {
	a := &detector.Attributions{N: 3, D: 4, Values: []float32{
		5, 1, 0, 9,
		0, 1, 3, 2,
		1, 2, 3, 4,
	}}
	truth := [][]int{{0, 1}, {2}, nil}
	p, err := PrecisionsAtR(a, truth)
	if err != nil || p[0] != 0.5 || p[1] != 1 || !math.IsNaN(p[2]) {
		t.Errorf("per row %v (%v), want [0.5 1 NaN]", p, err)
	}
	m, n, err := PrecisionAtR(a, truth, nil)
	if err != nil || m != 0.75 || n != 2 {
		t.Errorf("mean %v over %d rows (%v), want 0.75 over 2", m, n, err)
	}
	m, n, _ = PrecisionAtR(a, truth, []int{0})
	if m != 0.5 || n != 1 {
		t.Errorf("row 0 only: %v over %d", m, n)
	}
	if _, _, err := PrecisionAtR(a, truth[:2], nil); !errors.Is(err, detector.ErrInput) {
		t.Errorf("truth for 2 of 3 rows: %v", err)
	}
	if _, _, err := PrecisionAtR(a, truth, []int{3}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("row 3 of 3: %v", err)
	}
}
