package metrics

import (
	"math"
	"slices"
	"testing"
)

// fixture12x4 are 12 data sets × 4 methods drawn by NumPy (seed 3, method
// 0 given +0.15); the expected figures are scipy 1.10.1's.
var fixture12x4 = [][]float64{{0.235649, 0.236811, 0.801274, 0.582162}, {0.244129, 0.433127, 0.479051, 0.159739}, {0.884577, 0.113672, 0.391228, 0.51674}, {0.580628, 0.586799, 0.737838, 0.956267}, {0.434201, 0.648547, 0.696216, 0.292721}, {0.15149, 0.97346, 0.298401, 0.313986}, {1.041711, 0.585163, 0.47131, 0.773277}, {0.180346, 0.706965, 0.374244, 0.090853}, {0.8105, 0.931464, 0.207191, 0.63009}, {0.448163, 0.741757, 0.722165, 0.218715}, {0.979887, 0.657652, 0.682799, 0.820076}, {0.578573, 0.758705, 0.87848, 0.10232}}

func column(s [][]float64, j int) []float64 {
	c := make([]float64, len(s))
	for i, r := range s {
		c[i] = r[j]
	}
	return c
}

// Against scipy.stats.friedmanchisquare and scipy.stats.wilcoxon.
func TestFriedmanWilcoxonAgainstSciPy(t *testing.T) {
	f, err := Friedman(fixture12x4)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.ChiSquare-1.9) > 1e-9 || math.Abs(f.PChiSquare-0.593419178362415) > 1e-9 {
		t.Errorf("Friedman chi-square %v p %v, scipy 1.9 0.593419178362415", f.ChiSquare, f.PChiSquare)
	}
	for _, c := range []struct {
		a, b []float64
		p    float64
	}{
		{column(fixture12x4, 0), column(fixture12x4, 1), 0.423828125}, // exact
		{column(fixture12x4, 1), column(fixture12x4, 2), 0.9697265625},
		// A zero difference and tied magnitudes: the normal approximation.
		{[]float64{0.1, 0.2, 0.2, 0.5, 0.7, 0.3}, []float64{0.3, 0.1, 0.5, 0.2, 0.2, 0.3}, 0.5879367461735663},
	} {
		p, err := Wilcoxon(c.a, c.b)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(p-c.p) > 1e-9 {
			t.Errorf("Wilcoxon p %v, scipy %v", p, c.p)
		}
	}
}

// Ranks by hand, ties averaged; Friedman's statistic by hand for a case
// where one method always wins.
func TestRanksAndFriedmanByHand(t *testing.T) {
	r, err := Ranks([][]float64{{0.9, 0.5, 0.5}, {0.1, 0.2, 0.3}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r[0], []float64{1, 2.5, 2.5}) || !slices.Equal(r[1], []float64{3, 2, 1}) {
		t.Fatalf("ranks %v", r)
	}
	// Method 0 first, 1 second, 2 third on all 5 data sets: ranks 1, 2, 3;
	// χ² = 12·5/(3·4)·(1 + 4 + 9 − 3·16/4) = 5·2 = 10.
	s := make([][]float64, 5)
	for i := range s {
		s[i] = []float64{0.9, 0.8, 0.7}
	}
	f, err := Friedman(s)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(f.ChiSquare-10) > 1e-12 || !slices.Equal(f.AverageRanks, []float64{1, 2, 3}) {
		t.Errorf("chi-square %v ranks %v, want 10 and 1 2 3", f.ChiSquare, f.AverageRanks)
	}
	// exp(−10/2) is the chi-square(2) survival at 10.
	if math.Abs(f.PChiSquare-math.Exp(-5)) > 1e-12 {
		t.Errorf("p %v, want %v", f.PChiSquare, math.Exp(-5))
	}
	if _, err := Friedman([][]float64{{1, math.NaN()}, {1, 2}}); err == nil {
		t.Error("NaN accepted")
	}
	if _, err := Ranks([][]float64{{1, 2}, {1}}); err == nil {
		t.Error("ragged scores accepted")
	}
}

// Holm by hand: p = 0.01, 0.04, 0.03 over m = 3: sorted 0.01·3 = 0.03,
// 0.03·2 = 0.06, 0.04·1 = 0.04 → running maximum 0.03, 0.06, 0.06.
func TestHolm(t *testing.T) {
	got := Holm([]float64{0.01, 0.04, 0.03})
	want := []float64{0.03, 0.06, 0.06}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Fatalf("Holm %v, want %v", got, want)
		}
	}
}

// Cliques: four methods ranked a < b < c < d; a–b and b–c and c–d not
// different, a–c, b–d and a–d different: bars {a, b}, {b, c}, {c, d}.
// With b–d not different too, {b, c, d} replaces the last two.
func TestCliques(t *testing.T) {
	ranks := []float64{1, 2, 3, 4}
	p := [][]float64{{1, 0.5, 0.01, 0.01}, {0.5, 1, 0.5, 0.01}, {0.01, 0.5, 1, 0.5}, {0.01, 0.01, 0.5, 1}}
	got := Cliques(ranks, p, 0.05)
	if len(got) != 3 || !slices.Equal(got[0], []int{0, 1}) || !slices.Equal(got[1], []int{1, 2}) || !slices.Equal(got[2], []int{2, 3}) {
		t.Fatalf("cliques %v", got)
	}
	p[1][3], p[3][1] = 0.5, 0.5
	got = Cliques(ranks, p, 0.05)
	if len(got) != 2 || !slices.Equal(got[1], []int{1, 2, 3}) {
		t.Fatalf("cliques %v, want [0 1] [1 2 3]", got)
	}
	adj, err := PairwiseWilcoxonHolm(fixture12x4)
	if err != nil {
		t.Fatal(err)
	}
	if adj[0][1] != adj[1][0] || adj[2][2] != 1 || adj[0][1] < 0.423828125 {
		t.Errorf("adjusted p-values %v: not symmetric, or below the raw p-value", adj)
	}
}
