package explain

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// ShapleyOptions sets the budget of the Shapley estimate. The zero value is
// the default.
type ShapleyOptions struct {
	// Permutations is the number of feature orderings sampled per sample
	// (64 when 0), drawn in antithetic pairs: an ordering and its reverse,
	// with the same background row. Each ordering costs d−1 scored rows for
	// d features.
	Permutations int
	// BackgroundRows caps the background rows used (100 when 0): a larger
	// background is subsampled, seeded, once for all samples. Each is
	// scored once, for the Offset.
	BackgroundRows int
	// BatchRows bounds the rows given to one Score call (4096 when 0, and
	// never fewer than d−1), and so the memory beyond the result: about
	// BatchRows×d values.
	BatchRows int
	// Seed makes the estimate reproducible: the same seed, background and
	// detector give a sample the same attributions, whatever BatchRows is
	// and whichever other samples are explained with it (each sample's
	// orderings are drawn from a stream chosen by the seed and its values).
	Seed uint64
}

func (o ShapleyOptions) withDefaults() ShapleyOptions {
	if o.Permutations <= 0 {
		o.Permutations = 64
	}
	if o.BackgroundRows <= 0 {
		o.BackgroundRows = 100
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 4096
	}
	return o
}

// Shapley estimates the Shapley values of d's score of each sample of x,
// the game being the interventional one (docs/methods.md §7): a coalition
// S of features takes its values from the sample and the other features
// from a background row z, v(S) = E_z[f(x_S, z_S̄)], z uniform over the
// background rows used. Feature j's Shapley value is its marginal
// contribution v(S∪{j}) − v(S) averaged over all orderings of the features
// (S the features before j), which Shapley proves is the one split of
// v(all) − v(none) that is symmetric, ignores features that change
// nothing, and adds up over games.
//
// The average is estimated by sampling (Castro, Gómez and Tejada 2009;
// Štrumbelj and Kononenko 2014): for each ordering π and its background
// row z, the features are switched from z's values to x's one at a time in
// π's order, and each switch's change of score is the feature's
// contribution. Orderings come in antithetic pairs (π and its reverse with
// the same z), which makes the estimate exact for scores with no
// interactions of more than two features given z, and each pair takes the
// next of a shuffled cycle of the background rows, so a budget of at least
// twice as many orderings as rows covers every row evenly.
//
// Cost: Score on N·Permutations·(d−1) rows, in calls of at most BatchRows
// rows, plus the background rows once and x once. Memory: the result, its
// float64 accumulators, and one batch.
//
// Offset is the mean score of the background rows used, and the values are
// shifted equally (by a zero-mean amount) so that Offset[i] + Σ_j
// Values[i,j] equals the score of x_i up to round-off: each ordering's
// contributions add up to f(x) − f(z), so the raw estimate adds up to f(x)
// minus the mean over the rows drawn, an unbiased stand-in for Offset.
// Technique is "shapley".
func Shapley(ctx context.Context, d detector.Detector, x, background *data.Dataset, o ShapleyOptions) (*detector.Attributions, error) {
	o = o.withDefaults()
	if d == nil {
		return nil, fmt.Errorf("%w: no detector to explain", detector.ErrInput)
	}
	if err := checkPair(x, background); err != nil {
		return nil, fmt.Errorf("shapley: %w", err)
	}
	dim := x.Dim()
	bg, err := sampleRows(background, o.BackgroundRows, backgroundRand(o.Seed))
	if err != nil {
		return nil, err
	}
	bgScore, err := scoreChunks(ctx, d, bg, o.BatchRows)
	if err != nil {
		return nil, fmt.Errorf("shapley: scoring the background: %w", err)
	}
	xScore, err := scoreChunks(ctx, d, x, o.BatchRows)
	if err != nil {
		return nil, fmt.Errorf("shapley: scoring the samples: %w", err)
	}
	offset := 0.0
	for _, s := range bgScore {
		offset += s
	}
	offset /= float64(len(bgScore))

	s := &shapleyRun{
		d: d, x: x, bg: bg, bgScore: bgScore, xScore: xScore, dim: dim,
		sum:   make([]float64, x.N*dim),
		drawn: make([]float64, x.N),
		batch: &data.Dataset{Name: "shapley", Shape: slices.Clone(x.Shape)},
		cap:   max(o.BatchRows, dim-1),
	}
	s.batch.X = make([]float32, 0, s.cap*dim)
	if dim > 1 {
		perm := make([]int, dim)
		for i := 0; i < x.N; i++ {
			rng := rand.New(rand.NewPCG(o.Seed, rowHash(x.Row(i))))
			cycle := rng.Perm(bg.N)
			for p := 0; p < o.Permutations; p++ {
				if p%2 == 0 {
					for j := range perm {
						perm[j] = j
					}
					rng.Shuffle(dim, func(a, b int) { perm[a], perm[b] = perm[b], perm[a] })
				} else {
					slices.Reverse(perm)
				}
				z := cycle[(p/2)%bg.N]
				if err := s.add(ctx, i, z, perm); err != nil {
					return nil, err
				}
			}
		}
		if err := s.flush(ctx); err != nil {
			return nil, err
		}
	} else {
		// One feature: its value is the whole difference, for every
		// ordering alike.
		for i := range s.drawn {
			s.sum[i] = xScore[i] - offset
		}
	}

	a := &detector.Attributions{N: x.N, D: dim, Values: make([]float32, x.N*dim), Offset: make([]float64, x.N), Technique: "shapley"}
	for i := 0; i < x.N; i++ {
		shift := 0.0
		if dim > 1 {
			// The mean background score over the orderings' rows, less
			// the mean over all, spread over the features.
			shift = (s.drawn[i]/float64(o.Permutations) - offset) / float64(dim)
		}
		row := a.Row(i)
		for j := range row {
			v := s.sum[i*dim+j]
			if dim > 1 {
				v /= float64(o.Permutations)
			}
			row[j] = float32(v + shift)
		}
		a.Offset[i] = offset
	}
	return a, nil
}

// shapleyRun holds the state of one Shapley call: the pending orderings
// whose chains fill the batch, and the per-feature sums.
type shapleyRun struct {
	d               detector.Detector
	x, bg           *data.Dataset
	bgScore, xScore []float64
	dim, cap        int
	sum             []float64 // N×dim sums of contributions
	drawn           []float64 // per sample, the sum of f(z) over its orderings
	batch           *data.Dataset
	pending         []unit
}

// unit is one ordering of one sample whose chain is in the batch.
type unit struct {
	i, z int
	perm []int
}

// add queues the chain of sample i along perm from background row z:
// the d−1 rows in which the first k features of perm (k = 1…d−1) take x's
// values and the rest z's. The two ends, z and x, are scored already.
func (s *shapleyRun) add(ctx context.Context, i, z int, perm []int) error {
	if s.batch.N+s.dim-1 > s.cap {
		if err := s.flush(ctx); err != nil {
			return err
		}
	}
	xi, zr := s.x.Row(i), s.bg.Row(z)
	cur := slices.Clone(zr)
	for k := 0; k < s.dim-1; k++ {
		cur[perm[k]] = xi[perm[k]]
		s.batch.X = append(s.batch.X, cur...)
	}
	s.batch.N += s.dim - 1
	s.pending = append(s.pending, unit{i, z, slices.Clone(perm)})
	return nil
}

// flush scores the batch and adds each chain's contributions.
func (s *shapleyRun) flush(ctx context.Context) error {
	if s.batch.N == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	sc, err := s.d.Score(ctx, s.batch)
	if err != nil {
		return fmt.Errorf("shapley: %w", err)
	}
	if len(sc) != s.batch.N {
		return fmt.Errorf("shapley: %s returned %d scores for %d rows", s.d.Method(), len(sc), s.batch.N)
	}
	r := 0
	for _, u := range s.pending {
		prev := s.bgScore[u.z]
		s.drawn[u.i] += prev
		acc := s.sum[u.i*s.dim : (u.i+1)*s.dim]
		for k, j := range u.perm {
			next := s.xScore[u.i]
			if k < s.dim-1 {
				next = sc[r]
				r++
				if math.IsNaN(next) || math.IsInf(next, 0) {
					return fmt.Errorf("shapley: %w: %s gave a non-finite score to a mix of sample %d and background row %d", detector.ErrInput, s.d.Method(), u.i, u.z)
				}
			}
			acc[j] += next - prev
			prev = next
		}
	}
	s.batch.X, s.batch.N, s.pending = s.batch.X[:0], 0, s.pending[:0]
	return nil
}

// checkPair checks the samples to explain and their background: both
// valid, non-empty, finite sets of the same sample shape.
func checkPair(x, background *data.Dataset) error {
	if err := detector.CheckInput(x, nil); err != nil {
		return err
	}
	if x.N == 0 {
		return fmt.Errorf("%w: no samples to explain", detector.ErrInput)
	}
	if background == nil || background.N == 0 {
		return fmt.Errorf("%w: no background rows (typical normal samples) to draw replacement values from", detector.ErrInput)
	}
	if err := detector.CheckInput(background, x.Shape); err != nil {
		return fmt.Errorf("background: %w", err)
	}
	return nil
}

// backgroundRand is the stream that subsamples the background, apart from
// the samples' streams (rowHash), so that which rows serve does not depend
// on the samples.
func backgroundRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, math.MaxUint64)) }

// rowHash picks a sample's random stream from its values (FNV-1a of their
// bits), so a sample gets the same orderings whichever samples come with
// it and wherever it stands among them: a server explaining one request
// answers as a batch run does.
func rowHash(row []float32) uint64 {
	h := uint64(14695981039346656037)
	for _, v := range row {
		b := math.Float32bits(v)
		for k := 0; k < 4; k++ {
			h ^= uint64(b >> (8 * k) & 0xff)
			h *= 1099511628211
		}
	}
	return h
}

// sampleRows returns x itself when it has at most k samples, otherwise k
// of them drawn without replacement.
func sampleRows(x *data.Dataset, k int, rng *rand.Rand) (*data.Dataset, error) {
	if x.N <= k {
		return x, nil
	}
	idx := rng.Perm(x.N)[:k]
	slices.Sort(idx)
	return x.Subset(idx)
}

// scoreChunks scores x in calls of at most rows samples, checking that
// every score is finite.
func scoreChunks(ctx context.Context, d detector.Detector, x *data.Dataset, rows int) ([]float64, error) {
	dim := x.Dim()
	out := make([]float64, 0, x.N)
	for lo := 0; lo < x.N; lo += rows {
		hi := min(lo+rows, x.N)
		part := &data.Dataset{Name: x.Name, N: hi - lo, Shape: x.Shape, X: x.X[lo*dim : hi*dim]}
		sc, err := d.Score(ctx, part)
		if err != nil {
			return nil, err
		}
		if len(sc) != part.N {
			return nil, fmt.Errorf("%s returned %d scores for %d rows", d.Method(), len(sc), part.N)
		}
		for k, v := range sc {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%w: %s gave sample %d a non-finite score", detector.ErrInput, d.Method(), lo+k)
			}
		}
		out = append(out, sc...)
	}
	return out, nil
}
