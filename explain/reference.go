package explain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// The reference explainers: what a measurement of explanations compares
// against. Random is the floor (its expected precision at r is r/d); the
// robust z-score is what a user gets without any detector, and what a
// detector's explanation must beat where the anomaly is not in any single
// feature's value.

// ZScore attributes each sample's deviation to its features by the robust
// z-score |x_j − median_j| / IQR_j, the median and the interquartile range
// (the 75th less the 25th percentile, interpolated linearly between order
// statistics as NumPy's default) taken over background's rows. The floor
// for a feature whose IQR is 0 (a binary or mostly constant feature): its
// mean absolute deviation from the median, and where that is 0 too (the
// feature is constant in the background) 1e-6·max(1, |median|), so a
// change in a constant feature ranks first and nothing divides by zero.
// Offset is nil; Technique is "zscore".
func ZScore(x, background *data.Dataset) (*detector.Attributions, error) {
	if err := checkPair(x, background); err != nil {
		return nil, fmt.Errorf("zscore: %w", err)
	}
	d := x.Dim()
	med, scale := make([]float64, d), make([]float64, d)
	col := make([]float64, background.N)
	for j := 0; j < d; j++ {
		for i := range col {
			col[i] = float64(background.X[i*d+j])
		}
		slices.Sort(col)
		m := quantile(col, 0.5)
		s := quantile(col, 0.75) - quantile(col, 0.25)
		if s <= 0 {
			for _, v := range col {
				s += math.Abs(v - m)
			}
			s /= float64(len(col))
		}
		if s <= 0 {
			s = 1e-6 * math.Max(1, math.Abs(m))
		}
		med[j], scale[j] = m, s
	}
	a := &detector.Attributions{N: x.N, D: d, Values: make([]float32, x.N*d), Technique: "zscore"}
	for i := 0; i < x.N; i++ {
		row, xi := a.Row(i), x.Row(i)
		for j, v := range xi {
			row[j] = float32(math.Abs(float64(v)-med[j]) / scale[j])
		}
	}
	return a, nil
}

// quantile returns the q-quantile of sorted (not empty) by linear
// interpolation between the order statistics at positions q·(n−1).
func quantile(sorted []float64, q float64) float64 {
	p := q * float64(len(sorted)-1)
	lo := int(math.Floor(p))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (p-float64(lo))*(sorted[hi]-sorted[lo])
}

// Random returns attributions drawn uniformly from [0, 1) for n samples of
// d features: a random ranking, whose precision at r is r/d in
// expectation. The same seed gives the same values. Technique is
// "random".
func Random(n, d int, seed uint64) (*detector.Attributions, error) {
	if n < 0 || d < 1 {
		return nil, fmt.Errorf("%w: random attributions for %d samples of %d features", detector.ErrInput, n, d)
	}
	rng := rand.New(rand.NewPCG(seed, 0x7a11d0))
	a := &detector.Attributions{N: n, D: d, Values: make([]float32, n*d), Technique: "random"}
	for i := range a.Values {
		a.Values[i] = rng.Float32()
	}
	return a, nil
}
