package explain

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// Planted causes: measuring explanations where the truth is known. Normal
// test rows get an anomaly planted in r features chosen at random, and an
// explainer is judged by how many of its r largest attributions name them
// (docs/methods.md §7).

// PlantKind is how an anomaly is planted.
type PlantKind string

// The kinds of planted anomaly.
const (
	// Extreme moves each chosen feature beyond the training range: to
	// max + 0.5·(max − min) of the training data. Only features that vary
	// in training are chosen (a constant feature has no range to leave).
	Extreme PlantKind = "extreme"
	// Dependency copies the chosen features' values from another normal
	// row (a donor drawn at random): each value is typical on its own, the
	// combination is not. Only features whose value differs between the
	// row and its donor are chosen, so every planted feature did change.
	Dependency PlantKind = "dependency"
)

// Range is the per-feature minimum and maximum of training data, what
// Extreme plants beyond.
type Range struct {
	Min, Max []float32
}

// RangeOf returns the per-feature range of x's rows.
func RangeOf(x *data.Dataset) (Range, error) {
	if err := detector.CheckInput(x, nil); err != nil {
		return Range{}, err
	}
	if x.N == 0 {
		return Range{}, fmt.Errorf("%w: no rows to take a range of", detector.ErrInput)
	}
	r := Range{Min: slices.Clone(x.Row(0)), Max: slices.Clone(x.Row(0))}
	for i := 1; i < x.N; i++ {
		for j, v := range x.Row(i) {
			r.Min[j] = min(r.Min[j], v)
			r.Max[j] = max(r.Max[j], v)
		}
	}
	return r, nil
}

// donorTries bounds the donors Dependency draws for a row before it plants
// in fewer features than asked: the one that differs in the most
// features.
const donorTries = 16

// Plant returns a copy of normal (rows of normal test data) with an
// anomaly of the given kind planted in r features of every row, and, per
// row, the planted features in increasing order: the ground truth. train
// is the training range (RangeOf the training rows), used by Extreme. The
// features and donors are drawn from seed: the same seed gives the same
// rows.
//
// Extreme needs at least r features that vary in training. Dependency
// draws up to 16 donors (other rows of normal) for a row and takes the
// first that differs from it in at least r features; if none does, the one
// that differs most, and the row's truth then has fewer than r features
// (none when every donor is identical to it). PrecisionAtR divides by
// each row's own truth size.
func Plant(normal *data.Dataset, train Range, r int, kind PlantKind, seed uint64) (*data.Dataset, [][]int, error) {
	if err := detector.CheckInput(normal, nil); err != nil {
		return nil, nil, fmt.Errorf("plant: %w", err)
	}
	d := normal.Dim()
	if normal.N == 0 {
		return nil, nil, fmt.Errorf("plant: %w: no normal rows", detector.ErrInput)
	}
	if r < 1 || r > d {
		return nil, nil, fmt.Errorf("plant: %w: %d features of %d", detector.ErrInput, r, d)
	}
	out := &data.Dataset{Name: normal.Name + "-planted-" + string(kind), N: normal.N, Shape: slices.Clone(normal.Shape), X: slices.Clone(normal.X), FeatureNames: normal.FeatureNames}
	truth := make([][]int, normal.N)
	rng := rand.New(rand.NewPCG(seed, 0x91a27))
	switch kind {
	case Extreme:
		if len(train.Min) != d || len(train.Max) != d {
			return nil, nil, fmt.Errorf("plant: %w: a training range of %d features for rows of %d", detector.ErrSchema, len(train.Max), d)
		}
		var varying []int
		for j := 0; j < d; j++ {
			if train.Max[j] > train.Min[j] {
				varying = append(varying, j)
			}
		}
		if len(varying) < r {
			return nil, nil, fmt.Errorf("plant: %w: only %d features vary in training, %d asked for", detector.ErrInput, len(varying), r)
		}
		for i := 0; i < out.N; i++ {
			row := out.Row(i)
			t := choose(rng, varying, r)
			for _, j := range t {
				row[j] = train.Max[j] + 0.5*(train.Max[j]-train.Min[j])
			}
			truth[i] = t
		}
	case Dependency:
		if normal.N < 2 {
			return nil, nil, fmt.Errorf("plant: %w: a dependency needs a second normal row to copy from", detector.ErrInput)
		}
		diff := make([]int, 0, d)
		for i := 0; i < out.N; i++ {
			row := out.Row(i)
			var best []int
			donor := -1
			for try := 0; try < donorTries && len(best) < r; try++ {
				k := rng.IntN(normal.N - 1)
				if k >= i {
					k++
				}
				diff = diff[:0]
				for j, v := range normal.Row(k) {
					if v != row[j] {
						diff = append(diff, j)
					}
				}
				if donor < 0 || len(diff) > len(best) {
					best, donor = slices.Clone(diff), k
				}
			}
			t := choose(rng, best, min(r, len(best)))
			for _, j := range t {
				row[j] = normal.X[donor*d+j]
			}
			truth[i] = t
		}
	default:
		return nil, nil, fmt.Errorf("plant: %w: kind %q (want %q or %q)", detector.ErrInput, kind, Extreme, Dependency)
	}
	return out, truth, nil
}

// choose returns k of from, drawn without replacement, sorted.
func choose(rng *rand.Rand, from []int, k int) []int {
	p := rng.Perm(len(from))[:k]
	out := make([]int, k)
	for i, q := range p {
		out[i] = from[q]
	}
	slices.Sort(out)
	return out
}

// PrecisionsAtR returns, for each row of a, the share of its top r
// features (TopK, r the size of the row's truth) that are in the truth:
// |top_r ∩ truth| / r. A row with an empty truth gets NaN (nothing was
// planted, so there is nothing to find); average with PrecisionAtR.
func PrecisionsAtR(a *detector.Attributions, truth [][]int) ([]float64, error) {
	if a == nil || len(a.Values) != a.N*a.D {
		return nil, fmt.Errorf("%w: malformed attributions", detector.ErrInput)
	}
	if len(truth) != a.N {
		return nil, fmt.Errorf("%w: truth for %d rows, attributions for %d", detector.ErrInput, len(truth), a.N)
	}
	out := make([]float64, a.N)
	for i, t := range truth {
		if len(t) == 0 {
			out[i] = math.NaN()
			continue
		}
		hit := 0
		for _, j := range TopK(a, i, len(t)) {
			if slices.Contains(t, j) {
				hit++
			}
		}
		out[i] = float64(hit) / float64(len(t))
	}
	return out, nil
}

// PrecisionAtR averages PrecisionsAtR over the rows listed in rows (all
// rows when rows is nil), skipping rows with an empty truth; it returns
// the mean and the number of rows averaged (NaN and 0 when none).
func PrecisionAtR(a *detector.Attributions, truth [][]int, rows []int) (float64, int, error) {
	p, err := PrecisionsAtR(a, truth)
	if err != nil {
		return 0, 0, err
	}
	if rows == nil {
		rows = make([]int, len(p))
		for i := range rows {
			rows[i] = i
		}
	}
	sum, n := 0.0, 0
	for _, i := range rows {
		if i < 0 || i >= len(p) {
			return 0, 0, fmt.Errorf("%w: row %d of %d", detector.ErrInput, i, len(p))
		}
		if p[i] == p[i] {
			sum += p[i]
			n++
		}
	}
	if n == 0 {
		return math.NaN(), 0, nil
	}
	return sum / float64(n), n, nil
}
