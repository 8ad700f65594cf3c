package umap

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"time"

	"github.com/oddity-ml/oddity/neighbors"
)

// ErrInput is wrapped by every error about the input matrix or the options.
var ErrInput = errors.New("umap: bad input")

// Options configures Embed. The zero value of every field selects the
// default noted beside it: those of umap-learn.
type Options struct {
	// Neighbors is the size of each point's neighbourhood, the point itself
	// included (default 15). It must be below the number of points.
	Neighbors int
	// Components is the dimension of the embedding (default 2).
	Components int
	// MinDist is how close points may sit in the embedding (default 0.1;
	// 0 packs clusters tightly, which suits clustering).
	MinDist float64
	// Spread is the scale of the embedded points (default 1).
	Spread float64
	// Epochs is the number of passes of the layout (default 200 above
	// 10,000 points, 500 at or below).
	Epochs int
	// NegativeRate is the number of random points pushed away for every
	// edge sampled (default 5).
	NegativeRate int
	// LearningRate is the initial step (default 1), decaying linearly to 0.
	LearningRate float64
	// Repulsion weighs the negative samples (default 1).
	Repulsion float64
	// Seed drives the starting layout and the negative samples.
	Seed uint64
	// Workers bounds the goroutines of the neighbour search (default
	// GOMAXPROCS); the result does not depend on it.
	Workers int
	// OnEpoch, when set, is called after every epoch of the layout with the
	// number done and the total.
	OnEpoch func(done, total int)
}

// Result is a finished embedding.
type Result struct {
	// Y holds the N×Dim embedding, row-major.
	Y []float32
	// N is the number of points and Dim the embedding's dimension.
	N, Dim int
	// A and B are the fitted parameters of the low-dimensional similarity
	// 1/(1 + A·d^(2B)).
	A, B float64
	// Edges is the number of graph edges the layout sampled (both
	// directions counted).
	Edges int
	// Epochs is the number of layout epochs run.
	Epochs int
	// Graph and Layout are the run times of the neighbour graph (search
	// included) and of the layout.
	Graph, Layout time.Duration
}

// withDefaults fills zero fields and validates the rest for n points.
func (o Options) withDefaults(n int) (Options, error) {
	if o.Neighbors == 0 {
		o.Neighbors = 15
	}
	if o.Components == 0 {
		o.Components = 2
	}
	if o.Spread == 0 {
		o.Spread = 1
	}
	if o.Epochs == 0 {
		o.Epochs = 500
		if n > 10000 {
			o.Epochs = 200
		}
	}
	if o.NegativeRate == 0 {
		o.NegativeRate = 5
	}
	if o.LearningRate == 0 {
		o.LearningRate = 1
	}
	if o.Repulsion == 0 {
		o.Repulsion = 1
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case o.Neighbors < 2:
		return o, fmt.Errorf("%w: %d neighbours (the point itself counts: at least 2)", ErrInput, o.Neighbors)
	case o.Neighbors > n:
		return o, fmt.Errorf("%w: %d neighbours of %d points", ErrInput, o.Neighbors, n)
	case o.Components < 1:
		return o, fmt.Errorf("%w: %d components", ErrInput, o.Components)
	case !finite(o.MinDist) || o.MinDist < 0:
		return o, fmt.Errorf("%w: minimum distance %v", ErrInput, o.MinDist)
	case !finite(o.Spread) || o.Spread <= 0 || o.MinDist > o.Spread:
		return o, fmt.Errorf("%w: spread %v with minimum distance %v (want 0 ≤ min ≤ spread)", ErrInput, o.Spread, o.MinDist)
	case o.Epochs < 1 || o.NegativeRate < 0:
		return o, fmt.Errorf("%w: %d epochs, %d negative samples", ErrInput, o.Epochs, o.NegativeRate)
	case !finite(o.LearningRate) || o.LearningRate < 0 || !finite(o.Repulsion) || o.Repulsion < 0:
		return o, fmt.Errorf("%w: learning rate %v, repulsion %v", ErrInput, o.LearningRate, o.Repulsion)
	}
	return o, nil
}

// Embed lays the n rows of the n×d row-major matrix x out in
// o.Components dimensions. It checks ctx between epochs.
func Embed(ctx context.Context, x []float32, n, d int, o Options) (*Result, error) {
	if n < 2 || d < 1 || len(x) != n*d {
		return nil, fmt.Errorf("%w: %d values for %d points of dimension %d (need at least 2 points)", ErrInput, len(x), n, d)
	}
	for i, v := range x {
		if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%w: value %v at point %d, coordinate %d", ErrInput, v, i/d, i%d)
		}
	}
	o, err := o.withDefaults(n)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	ix, err := neighbors.New(x, n, d, neighbors.Auto, o.Workers)
	if err != nil {
		return nil, fmt.Errorf("umap: neighbour index: %w", err)
	}
	nb, err := ix.SearchTraining(ctx, o.Neighbors-1)
	if err != nil {
		return nil, fmt.Errorf("umap: neighbour search: %w", err)
	}
	g := fuzzyUnion(memberships(nb, n), n)
	res := &Result{N: n, Dim: o.Components, Graph: time.Since(start), Epochs: o.Epochs}
	res.A, res.B = fitAB(o.MinDist, o.Spread)

	start = time.Now()
	y, edges, err := layout(ctx, g, n, res.A, res.B, o)
	if err != nil {
		return nil, err
	}
	res.Y, res.Edges, res.Layout = y, edges, time.Since(start)
	return res, nil
}
