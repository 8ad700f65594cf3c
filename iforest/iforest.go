package iforest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/matrix"
)

// EulerGamma is the Euler-Mascheroni constant used in c(n).
const EulerGamma = 0.5772156649015329

// Sentinel errors. ErrOption is declared with Options.
var (
	// ErrInput reports unusable input data (shape, NaN, infinity). It
	// wraps detector.ErrInput.
	ErrInput = fmt.Errorf("iforest: %w", detector.ErrInput)
	// ErrCorrupt reports serialised bytes that do not decode to a valid forest.
	ErrCorrupt = errors.New("iforest: corrupt serialised forest")
)

// AveragePathLength returns c(n), the average path length of an
// unsuccessful search in a binary search tree of n points, as scikit-learn
// computes it: 0 for n <= 1, 1 for n = 2, else
// 2(ln(n-1) + EulerGamma) - 2(n-1)/n (the harmonic number H(n-1)
// approximated by ln(n-1) + EulerGamma).
func AveragePathLength(n int) float64 {
	switch {
	case n <= 1:
		return 0
	case n == 2:
		return 1
	}
	f := float64(n)
	return 2*(math.Log(f-1)+EulerGamma) - 2*(f-1)/f
}

// node is one tree node. For an internal node, samples with
// x[feat] <= thr go to next and the others to next+1. A leaf has
// next = its own index and thr = +Inf, so a walk that reaches it stays.
type node struct {
	thr  float32
	feat uint32
	next int32
}

// Forest is a fitted isolation forest. It is safe for concurrent scoring.
// Save it with MarshalBinary and load it with UnmarshalBinary.
type Forest struct {
	dim     int
	psi     int     // subsample size actually used
	limit   int     // height limit ceil(log2(max(psi, 2)))
	seed    uint64  // provenance only
	maxFeat float64 // provenance only
	nodes   []node
	vals    []float64 // path length of each leaf: depth + c(size)
	roots   []int32   // first node of each tree; tree t owns [roots[t], roots[t+1])
	depths  []uint8   // number of levels walked for tree t (its deepest leaf)
	workers int
	denom   float64 // NTrees * c(psi)
}

// Dim is the number of features the forest was fitted on.
func (f *Forest) Dim() int { return f.dim }

// NTrees is the number of trees.
func (f *Forest) NTrees() int { return len(f.roots) }

// MaxSamples is the subsample size each tree was grown on.
func (f *Forest) MaxSamples() int { return f.psi }

// HeightLimit is the maximum depth of a tree, ceil(log2(MaxSamples)).
func (f *Forest) HeightLimit() int { return f.limit }

// NumNodes is the total number of nodes over all trees.
func (f *Forest) NumNodes() int { return len(f.nodes) }

// SetWorkers sets the number of goroutines Score uses (0 means
// runtime.GOMAXPROCS(0)); it does not change the scores. Do not call it
// while another goroutine is scoring.
func (f *Forest) SetWorkers(w int) {
	if w <= 0 {
		w = runtime.GOMAXPROCS(0)
	}
	f.workers = w
}

func checkMatrix(x []float32, n, d int) error {
	if err := matrix.Check(x, n, d); err != nil {
		return fmt.Errorf("%w: %v", ErrInput, err)
	}
	return nil
}

// splitmix64 is a bijective mixer used to derive per-tree seeds.
func splitmix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// treeRand returns the random source of tree t.
func treeRand(seed uint64, t int) *rand.Rand {
	return rand.New(rand.NewPCG(splitmix64(seed^splitmix64(uint64(t))), 0x6966_6f72_6573_7421))
}

// Fit grows an isolation forest on the n x d row-major matrix x (Algorithm
// 1 of the paper). Every value must be finite; opt must be valid
// (Options.Validate).
func Fit(x []float32, n, d int, opt Options) (*Forest, error) {
	return fit(context.Background(), x, n, d, opt)
}

// fit is Fit, stopping with ctx's error between trees once ctx is done.
func fit(ctx context.Context, x []float32, n, d int, opt Options) (*Forest, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if err := checkMatrix(x, n, d); err != nil {
		return nil, fmt.Errorf("iforest fit: %w", err)
	}
	psi := min(opt.MaxSamples, n)
	limit := bits.Len(uint(max(psi, 2) - 1)) // ceil(log2(max(psi,2)))
	k := max(1, int(opt.MaxFeatures*float64(d)))
	k = min(k, d)
	nw := opt.workers()

	type built struct {
		nodes []node
		vals  []float64
		depth int
	}
	trees := make([]built, opt.NTrees)
	var next atomic.Int64
	var wg sync.WaitGroup
	workers := min(nw, opt.NTrees)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := newBuilder(psi, k, limit)
			for {
				t := int(next.Add(1) - 1)
				if t >= opt.NTrees || ctx.Err() != nil {
					return
				}
				b.grow(x, n, d, treeRand(opt.Seed, t))
				trees[t] = built{nodes: b.nodesCopy(), vals: b.valsCopy(), depth: b.maxDepth}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	f := &Forest{dim: d, psi: psi, limit: limit, seed: opt.Seed, maxFeat: opt.MaxFeatures, workers: nw}
	total := 0
	for _, t := range trees {
		total += len(t.nodes)
	}
	f.nodes = make([]node, 0, total)
	f.vals = make([]float64, 0, total)
	f.roots = make([]int32, len(trees))
	f.depths = make([]uint8, len(trees))
	for i, t := range trees {
		off := int32(len(f.nodes))
		f.roots[i] = off
		f.depths[i] = uint8(t.depth)
		for _, nd := range t.nodes {
			nd.next += off
			f.nodes = append(f.nodes, nd)
		}
		f.vals = append(f.vals, t.vals...)
	}
	f.denom = float64(len(f.roots)) * AveragePathLength(psi)
	return f, nil
}

// builder holds the scratch space of one worker growing trees.
type builder struct {
	psi, k, limit int
	feats         []int     // the k features of the current tree
	perm          []int     // scratch for drawing features
	cols          []float32 // k x psi column-major subsample
	idx           []int32   // sample positions, partitioned in place
	cand          [][]int32 // candidate (non-constant) feature slots per depth
	nodes         []node
	vals          []float64
	maxDepth      int
	chosen        []uint64 // bit set over rows, for Floyd's sampling
	rows          []int
	rng           *rand.Rand
}

func newBuilder(psi, k, limit int) *builder {
	b := &builder{psi: psi, k: k, limit: limit}
	b.cols = make([]float32, k*psi)
	b.idx = make([]int32, psi)
	b.cand = make([][]int32, limit+1)
	for i := range b.cand {
		b.cand[i] = make([]int32, 0, k)
	}
	b.nodes = make([]node, 0, 2*psi)
	b.vals = make([]float64, 0, 2*psi)
	b.rows = make([]int, 0, psi)
	return b
}

func (b *builder) nodesCopy() []node   { return append([]node(nil), b.nodes...) }
func (b *builder) valsCopy() []float64 { return append([]float64(nil), b.vals...) }

// sampleRows returns psi distinct row indices of [0, n): all rows when
// psi == n, else a uniform random subset drawn with Floyd's algorithm.
func (b *builder) sampleRows(n int) []int {
	rows := b.rows[:0]
	if b.psi == n {
		for i := 0; i < n; i++ {
			rows = append(rows, i)
		}
		return rows
	}
	if words := (n + 63) / 64; len(b.chosen) < words {
		b.chosen = make([]uint64, words)
	}
	for j := n - b.psi; j < n; j++ {
		t := b.rng.IntN(j + 1)
		if b.chosen[t>>6]&(1<<(t&63)) != 0 {
			t = j
		}
		b.chosen[t>>6] |= 1 << (t & 63)
		rows = append(rows, t)
	}
	for _, t := range rows { // leave the bit set empty for the next tree
		b.chosen[t>>6] = 0
	}
	return rows
}

func (b *builder) grow(x []float32, n, d int, rng *rand.Rand) {
	b.rng = rng
	// Features of this tree.
	if cap(b.feats) < b.k {
		b.feats = make([]int, b.k)
	}
	b.feats = b.feats[:b.k]
	if b.k == d {
		for i := range b.feats {
			b.feats[i] = i
		}
	} else {
		if cap(b.perm) < d {
			b.perm = make([]int, d)
		}
		b.perm = b.perm[:d]
		for i := range b.perm {
			b.perm[i] = i
		}
		for i := 0; i < b.k; i++ {
			j := i + rng.IntN(d-i)
			b.perm[i], b.perm[j] = b.perm[j], b.perm[i]
			b.feats[i] = b.perm[i]
		}
	}
	// Subsample, gathered column-major.
	rows := b.sampleRows(n)
	for i, r := range rows {
		row := x[r*d : r*d+d]
		for j, fj := range b.feats {
			b.cols[j*b.psi+i] = row[fj]
		}
		b.idx[i] = int32(i)
	}
	b.nodes = b.nodes[:0]
	b.vals = b.vals[:0]
	b.maxDepth = 0
	c := b.cand[0][:0]
	for j := range b.feats {
		c = append(c, int32(j))
	}
	b.cand[0] = c
	b.nodes = append(b.nodes, node{})
	b.vals = append(b.vals, 0)
	b.build(0, 0, b.psi, 0)
}

// build fills node id for the samples idx[lo:hi] at the given depth.
func (b *builder) build(id, lo, hi, depth int) {
	size := hi - lo
	if depth >= b.limit || size <= 1 {
		b.leaf(id, size, depth)
		return
	}
	cand := b.cand[depth]
	var slot int32
	var lo32, hi32 float32
	for {
		if len(cand) == 0 {
			b.cand[depth] = cand
			b.leaf(id, size, depth)
			return
		}
		ci := b.rng.IntN(len(cand))
		slot = cand[ci]
		col := b.cols[int(slot)*b.psi : int(slot+1)*b.psi]
		lo32, hi32 = col[b.idx[lo]], col[b.idx[lo]]
		for _, s := range b.idx[lo+1 : hi] {
			v := col[s]
			lo32 = min(lo32, v)
			hi32 = max(hi32, v)
		}
		if hi32 > lo32 {
			break
		}
		// Constant here, hence in every descendant: drop it.
		cand[ci] = cand[len(cand)-1]
		cand = cand[:len(cand)-1]
	}
	b.cand[depth] = cand
	thr := drawThreshold(lo32, hi32, b.rng.Float64())
	// Partition idx[lo:hi]: <= thr first.
	col := b.cols[int(slot)*b.psi : int(slot+1)*b.psi]
	i, j := lo, hi-1
	for i <= j {
		if col[b.idx[i]] <= thr {
			i++
		} else {
			b.idx[i], b.idx[j] = b.idx[j], b.idx[i]
			j--
		}
	}
	left := len(b.nodes)
	b.nodes = append(b.nodes, node{}, node{})
	b.vals = append(b.vals, 0, 0)
	b.nodes[id] = node{thr: thr, feat: uint32(b.feats[slot]), next: int32(left)}
	b.cand[depth+1] = append(b.cand[depth+1][:0], cand...)
	b.build(left, lo, i, depth+1)
	b.cand[depth+1] = append(b.cand[depth+1][:0], cand...)
	b.build(left+1, i, hi, depth+1)
}

func (b *builder) leaf(id, size, depth int) {
	b.nodes[id] = node{thr: float32(math.Inf(1)), next: int32(id)}
	b.vals[id] = float64(depth) + AveragePathLength(size)
	b.maxDepth = max(b.maxDepth, depth)
}

// drawThreshold returns a float32 threshold t with lo <= t < hi for the
// uniform draw u in [0, 1): the float64 value lo + u(hi-lo) rounded down to
// a float32, so that for float32 inputs "x <= t" decides exactly as
// scikit-learn's float64 comparison would. A draw that lands on hi becomes
// lo, as in scikit-learn.
func drawThreshold(lo, hi float32, u float64) float32 {
	t := float64(lo) + u*(float64(hi)-float64(lo))
	t32 := float32(t)
	if float64(t32) > t {
		t32 = math.Nextafter32(t32, float32(math.Inf(-1)))
	}
	if t32 >= hi || t32 < lo {
		t32 = lo
	}
	return t32
}

// Score returns the anomaly score of each row of the n x Dim() row-major
// matrix x: 2^(-E[h(x)]/c(MaxSamples)), in (0, 1) (exactly 0.5 when the
// forest was fitted on a single row), higher = more anomalous.
func (f *Forest) Score(x []float32, n int) ([]float64, error) {
	dst := make([]float64, n)
	if err := f.ScoreInto(dst, x, n); err != nil {
		return nil, err
	}
	return dst, nil
}

// MeanPathLength writes E[h(x)], the path length of each row averaged over
// the trees, into dst (length n).
func (f *Forest) MeanPathLength(dst []float64, x []float32, n int) error {
	if err := f.pathSums(dst, x, n); err != nil {
		return err
	}
	inv := 1 / float64(len(f.roots))
	for i := range dst {
		dst[i] *= inv
	}
	return nil
}

// ScoreInto is Score writing into dst, which must have length n.
func (f *Forest) ScoreInto(dst []float64, x []float32, n int) error {
	if err := f.pathSums(dst, x, n); err != nil {
		return err
	}
	if f.denom == 0 {
		for i := range dst {
			dst[i] = 0.5
		}
		return nil
	}
	inv := -1 / f.denom
	for i, s := range dst {
		dst[i] = math.Exp2(s * inv)
	}
	return nil
}

// blockRows is the number of rows scored together against each tree; a
// block of 21-feature rows (11 KiB) and one tree (at most 6 KiB for 256
// samples) stay in the L1 cache.
const blockRows = 128

func (f *Forest) pathSums(dst []float64, x []float32, n int) error {
	if f == nil || len(f.roots) == 0 {
		return fmt.Errorf("iforest score: %w: forest not fitted", ErrInput)
	}
	if len(dst) != n {
		return fmt.Errorf("iforest score: %w: dst has %d entries for %d rows", ErrInput, len(dst), n)
	}
	if n == 0 {
		return nil
	}
	if err := checkMatrix(x, n, f.dim); err != nil {
		return fmt.Errorf("iforest score: %w", err)
	}
	nb := (n + blockRows - 1) / blockRows
	workers := min(max(f.workers, 1), nb)
	if workers == 1 {
		for b := 0; b < nb; b++ {
			f.scoreBlock(dst, x, b*blockRows, min(n, (b+1)*blockRows))
		}
		return nil
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				b := int(next.Add(1) - 1)
				if b >= nb {
					return
				}
				f.scoreBlock(dst, x, b*blockRows, min(n, (b+1)*blockRows))
			}
		}()
	}
	wg.Wait()
	return nil
}

// walkLevel moves every row of a block one level down its tree. It is kept
// out of line so that its loop has the registers to itself, and unrolled by
// two.
//
//go:noinline
func walkLevel(idx []int32, nodes []node, xb []float32, d int) {
	off := 0
	r := 0
	for ; r+2 <= len(idx); r += 2 {
		n0, n1 := nodes[idx[r]], nodes[idx[r+1]]
		idx[r] = n0.next + b2i(xb[off+int(n0.feat)] > n0.thr)
		idx[r+1] = n1.next + b2i(xb[off+d+int(n1.feat)] > n1.thr)
		off += 2 * d
	}
	if r < len(idx) {
		nd := nodes[idx[r]]
		idx[r] = nd.next + b2i(xb[off+int(nd.feat)] > nd.thr)
	}
}

// walkRoot sends every row of a block from the root to its first level.
//
//go:noinline
func walkRoot(idx []int32, root node, xb []float32, d int) {
	off := int(root.feat)
	for r := range idx {
		idx[r] = root.next + b2i(xb[off] > root.thr)
		off += d
	}
}

// b2i converts a comparison to 0/1 without a branch (the compiler emits
// SETcc).
func b2i(b bool) int32 {
	var i int32
	if b {
		i = 1
	}
	return i
}

// scoreBlock writes into dst[lo:hi] the sum over trees of the path lengths
// of rows lo..hi-1. Each tree is walked breadth-first: one level for every
// row of the block, then the next level. The iterations of the inner loop
// are independent, so the processor overlaps their load chains, and the
// loop body is small enough to stay in registers.
func (f *Forest) scoreBlock(dst []float64, x []float32, lo, hi int) {
	d := f.dim
	acc := dst[lo:hi]
	clear(acc)
	xb := x[lo*d : hi*d]
	var idxBuf [blockRows]int32
	idx := idxBuf[:hi-lo]
	nodes := f.nodes
	vals := f.vals
	for t, root := range f.roots {
		depth := int(f.depths[t])
		if depth == 0 {
			for r := range idx {
				idx[r] = root
			}
		} else {
			walkRoot(idx, nodes[root], xb, d)
		}
		for l := 1; l < depth; l++ {
			walkLevel(idx, nodes, xb, d)
		}
		for r, i := range idx {
			acc[r] += vals[i]
		}
	}
}
