package iforest

import (
	"fmt"
	"math/bits"
	"runtime"
)

// Distributed fitting. Fit reads the whole matrix in one process; a data
// set spread over many machines cannot be handed to it. A tree, however,
// only ever reads the MaxSamples rows it draws, and which rows it draws
// depends on nothing but (Seed, tree index, n, d, Options). So a forest can
// be grown in three steps that each run anywhere:
//
//  1. SampleRows says which global row indices tree t draws, in draw order;
//  2. whoever holds those rows gathers them (in that order) and GrowTree
//     grows tree t from them, consuming exactly the random draws Fit
//     consumes for that tree;
//  3. Assemble joins the one-tree forests in tree order.
//
// The result is bit-for-bit the forest Fit returns for the same data and
// Options (distributed_test.go checks it), so a pipeline-fitted model and a
// locally fitted one are interchangeable.

// plan holds the sizes Fit derives from n, d and the options.
type plan struct {
	opt         Options
	psi, k, lim int
}

func newPlan(n, d int, opt Options, t int) (plan, error) {
	if err := opt.Validate(); err != nil {
		return plan{}, err
	}
	if n < 1 || d < 1 {
		return plan{}, fmt.Errorf("%w: %d rows of %d features", ErrInput, n, d)
	}
	if t < 0 || t >= opt.NTrees {
		return plan{}, fmt.Errorf("%w: tree %d outside [0, %d)", ErrOption, t, opt.NTrees)
	}
	psi := min(opt.MaxSamples, n)
	return plan{
		opt: opt,
		psi: psi,
		k:   min(max(1, int(opt.MaxFeatures*float64(d))), d),
		lim: bits.Len(uint(max(psi, 2) - 1)),
	}, nil
}

// SampleRows returns the global indices (in [0, n)) of the rows tree t of a
// forest fitted with opt on n rows of d features draws, in draw order: the
// rows GrowTree needs, in the order it needs them. It takes O(MaxSamples)
// memory whatever n is.
func SampleRows(n, d int, opt Options, t int) ([]int, error) {
	p, err := newPlan(n, d, opt, t)
	if err != nil {
		return nil, fmt.Errorf("iforest sample rows: %w", err)
	}
	rng := treeRand(p.opt.Seed, t)
	drawFeatures(rng, p.k, d, nil)
	rows := make([]int, 0, p.psi)
	if p.psi == n {
		for i := 0; i < n; i++ {
			rows = append(rows, i)
		}
		return rows, nil
	}
	// Floyd's algorithm with the same draws as builder.sampleRows; a set
	// replaces its bit set so that memory does not grow with n.
	chosen := make(map[int]struct{}, p.psi)
	for j := n - p.psi; j < n; j++ {
		r := rng.IntN(j + 1)
		if _, ok := chosen[r]; ok {
			r = j
		}
		chosen[r] = struct{}{}
		rows = append(rows, r)
	}
	return rows, nil
}

// drawFeatures makes the draws builder.grow makes to choose a tree's k of d
// features; it writes them to feats when feats is not nil.
func drawFeatures(rng interface{ IntN(int) int }, k, d int, feats []int) {
	if k == d {
		for i := range feats {
			feats[i] = i
		}
		return
	}
	perm := make([]int, d)
	for i := range perm {
		perm[i] = i
	}
	for i := 0; i < k; i++ {
		j := i + rng.IntN(d-i)
		perm[i], perm[j] = perm[j], perm[i]
		if feats != nil {
			feats[i] = perm[i]
		}
	}
}

// GrowTree grows tree t of a forest fitted with opt on n rows of d features
// from sub, the rows SampleRows(n, d, opt, t) names, gathered in that order
// (row-major, len(sub) = min(MaxSamples, n)·d). It returns a forest of that
// one tree; Assemble joins such forests.
func GrowTree(sub []float32, n, d int, opt Options, t int) (*Forest, error) {
	p, err := newPlan(n, d, opt, t)
	if err != nil {
		return nil, fmt.Errorf("iforest grow tree: %w", err)
	}
	if err := checkMatrix(sub, p.psi, d); err != nil {
		return nil, fmt.Errorf("iforest grow tree %d (subsample of %d rows): %w", t, p.psi, err)
	}
	b := newBuilder(p.psi, p.k, p.lim)
	rng := treeRand(p.opt.Seed, t)
	b.rng = rng
	b.feats = make([]int, p.k)
	drawFeatures(rng, p.k, d, b.feats)
	if p.psi < n {
		// Replay the subsample draws so that the split draws that follow
		// are the ones Fit makes.
		for j := n - p.psi; j < n; j++ {
			rng.IntN(j + 1)
		}
	}
	for i := 0; i < p.psi; i++ {
		row := sub[i*d : i*d+d]
		for j, fj := range b.feats {
			b.cols[j*b.psi+i] = row[fj]
		}
		b.idx[i] = int32(i)
	}
	c := b.cand[0][:0]
	for j := range b.feats {
		c = append(c, int32(j))
	}
	b.cand[0] = c
	b.nodes = append(b.nodes[:0], node{})
	b.vals = append(b.vals[:0], 0)
	b.maxDepth = 0
	b.build(0, 0, b.psi, 0)

	f := &Forest{dim: d, psi: p.psi, limit: p.lim, seed: p.opt.Seed, maxFeat: p.opt.MaxFeatures, workers: 1}
	f.nodes = b.nodesCopy()
	f.vals = b.valsCopy()
	f.roots = []int32{0}
	f.depths = []uint8{uint8(b.maxDepth)}
	f.denom = AveragePathLength(p.psi)
	return f, nil
}

// Assemble joins forests grown on the same data with the same options (for
// example the one-tree forests GrowTree returns) into one forest whose trees
// are those of parts, in order. Parts that disagree on the number of
// features, the subsample size, the seed or the feature fraction are an
// error.
func Assemble(parts []*Forest) (*Forest, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("iforest assemble: %w: no trees", ErrInput)
	}
	first := parts[0]
	total := 0
	for i, p := range parts {
		if p == nil || len(p.roots) == 0 {
			return nil, fmt.Errorf("iforest assemble: %w: part %d is empty", ErrInput, i)
		}
		if p.dim != first.dim || p.psi != first.psi || p.limit != first.limit || p.seed != first.seed || p.maxFeat != first.maxFeat {
			return nil, fmt.Errorf("iforest assemble: %w: part %d (dim %d, psi %d, seed %d, max features %g) does not match part 0 (dim %d, psi %d, seed %d, max features %g)",
				ErrInput, i, p.dim, p.psi, p.seed, p.maxFeat, first.dim, first.psi, first.seed, first.maxFeat)
		}
		total += len(p.nodes)
	}
	f := &Forest{dim: first.dim, psi: first.psi, limit: first.limit, seed: first.seed, maxFeat: first.maxFeat, workers: runtime.GOMAXPROCS(0)}
	f.nodes = make([]node, 0, total)
	f.vals = make([]float64, 0, total)
	for _, p := range parts {
		off := int32(len(f.nodes))
		for _, r := range p.roots {
			f.roots = append(f.roots, r+off)
		}
		f.depths = append(f.depths, p.depths...)
		for _, nd := range p.nodes {
			nd.next += off
			f.nodes = append(f.nodes, nd)
		}
		f.vals = append(f.vals, p.vals...)
	}
	f.denom = float64(len(f.roots)) * AveragePathLength(f.psi)
	return f, nil
}
