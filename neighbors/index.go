package neighbors

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Algorithm names a search algorithm. Every algorithm returns the same
// neighbours and distances, bit for bit; they differ only in speed.
type Algorithm string

// Algorithms.
const (
	// Auto picks KDTree for data of at most TreeMaxDim features and Brute
	// otherwise (the crossover measured in docs/methods.md §6.1).
	Auto Algorithm = "auto"
	// Brute computes distances block by block with the engine's SGEMM and
	// re-checks the few candidates near each query's k-th distance exactly.
	Brute Algorithm = "brute"
	// KDTree searches a k-d tree with exact float64 distances.
	KDTree Algorithm = "kdtree"
)

// TreeMaxDim is the most features for which Auto picks the k-d tree. On
// the 20 ADBench files below 50,000 rows (CPU time of kNN and LOF fit and
// score, go run ./scripts/knnlof --crossover) the tree is faster on every
// file of 5 to 10 features (1.2× to 8.5×), the two tie at 12 (vowels), and
// the brute-force search is faster from 16 features on (1.6× at 16, up to
// 10× at 64). On Gaussian data, whose intrinsic dimension is its width,
// the tree already loses at 8 features (BenchmarkSearch); real tables are
// rarely that spread out.
const TreeMaxDim = 12

// ErrArgs is wrapped by the errors of a search asked for something the
// index cannot give (more neighbours than rows, rows of another width).
var ErrArgs = errors.New("neighbors: bad arguments")

// Index answers exact k-nearest-neighbour queries over a fixed set of
// training rows in Euclidean distance. It is safe for concurrent use.
type Index struct {
	x       []float32 // the training rows, n×d (not copied)
	n, d    int
	alg     Algorithm
	tree    *kdTree
	brute   *bruteData
	workers int
}

// New indexes the n rows of d features in x (row-major; kept, not copied:
// x must not change while the index is used) for the algorithm alg.
// workers bounds the goroutines a search uses besides the SGEMM's own
// (0: GOMAXPROCS); results do not depend on it.
func New(x []float32, n, d int, alg Algorithm, workers int) (*Index, error) {
	if n <= 0 || d <= 0 || len(x) != n*d {
		return nil, fmt.Errorf("%w: %d values for %d rows of %d features", ErrArgs, len(x), n, d)
	}
	if workers < 0 {
		return nil, fmt.Errorf("%w: %d workers", ErrArgs, workers)
	}
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ix := &Index{x: x, n: n, d: d, workers: workers}
	switch alg {
	case Auto:
		alg = Brute
		if d <= TreeMaxDim {
			alg = KDTree
		}
	case Brute, KDTree:
	default:
		return nil, fmt.Errorf("%w: algorithm %q (want auto, brute or kdtree)", ErrArgs, alg)
	}
	if alg == Brute {
		ix.brute = newBrute(x, n, d)
		if ix.brute.maxNX >= maxNorm {
			// Values too large for the float32 product: the tree's float64
			// distances are exact at any scale.
			alg, ix.brute = KDTree, nil
		}
	}
	if alg == KDTree {
		ix.tree = buildTree(x, n, d, workers)
	}
	ix.alg = alg
	return ix, nil
}

// Algorithm returns the algorithm the index uses (Auto resolved).
func (ix *Index) Algorithm() Algorithm { return ix.alg }

// Len returns the number of training rows.
func (ix *Index) Len() int { return ix.n }

// Dim returns the number of features.
func (ix *Index) Dim() int { return ix.d }

// Result holds the k nearest training rows of m queries: query i's are
// Index[i*K:(i+1)*K], nearest first (ties by lower row), at the Euclidean
// distances Dist[i*K:(i+1)*K].
type Result struct {
	K     int
	Dist  []float64
	Index []int32
}

// Search finds the k nearest training rows of each of the m rows of q
// (m×d, row-major). A query equal to a training row finds that row at
// distance 0, as scikit-learn's kneighbors(X) does.
func (ix *Index) Search(ctx context.Context, q []float32, m, k int) (*Result, error) {
	if len(q) != m*ix.d {
		return nil, fmt.Errorf("%w: %d values for %d queries of %d features", ErrArgs, len(q), m, ix.d)
	}
	if k < 1 || k > ix.n {
		return nil, fmt.Errorf("%w: k = %d neighbours of %d training rows", ErrArgs, k, ix.n)
	}
	return ix.search(ctx, q, m, k, -1, false)
}

// SearchTraining finds, for every training row, the k nearest other
// training rows: the leave-one-out neighbours scikit-learn's kneighbors()
// (no argument) returns. A row's duplicates count as neighbours at
// distance 0; only the row itself is left out. k must be below n.
func (ix *Index) SearchTraining(ctx context.Context, k int) (*Result, error) {
	if k < 1 || k >= ix.n {
		return nil, fmt.Errorf("%w: k = %d other rows of %d training rows", ErrArgs, k, ix.n)
	}
	return ix.search(ctx, nil, ix.n, k, 0, false)
}

// Distances is Search for callers that need only the distances (Result.
// Index is nil): the k smallest distances are the same whichever rows tied
// at the k-th are taken, so the tree need not open nodes at exactly the
// k-th distance to look for a row of lower index, which on data of few
// distinct values (integer features) is common. The distances equal
// Search's, bit for bit.
func (ix *Index) Distances(ctx context.Context, q []float32, m, k int) (*Result, error) {
	if len(q) != m*ix.d {
		return nil, fmt.Errorf("%w: %d values for %d queries of %d features", ErrArgs, len(q), m, ix.d)
	}
	if k < 1 || k > ix.n {
		return nil, fmt.Errorf("%w: k = %d neighbours of %d training rows", ErrArgs, k, ix.n)
	}
	return ix.search(ctx, q, m, k, -1, true)
}

// DistancesTraining is SearchTraining for callers that need only the
// distances (see Distances).
func (ix *Index) DistancesTraining(ctx context.Context, k int) (*Result, error) {
	if k < 1 || k >= ix.n {
		return nil, fmt.Errorf("%w: k = %d other rows of %d training rows", ErrArgs, k, ix.n)
	}
	return ix.search(ctx, nil, ix.n, k, 0, true)
}

func (ix *Index) search(ctx context.Context, q []float32, m, k, selfBase int, distOnly bool) (*Result, error) {
	res := &Result{K: k, Dist: make([]float64, m*k), Index: make([]int32, m*k)}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var err error
	if ix.alg == Brute {
		err = ix.bruteSearch(ctx, q, m, k, selfBase, res.Dist, res.Index)
	} else {
		err = ix.treeSearch(ctx, q, m, k, selfBase >= 0, distOnly, res.Dist, res.Index)
	}
	if err != nil {
		return nil, err
	}
	if distOnly {
		res.Index = nil
	}
	for i, s := range res.Dist {
		res.Dist[i] = math.Sqrt(s)
	}
	return res, nil
}

// treeChunk is how many queries a tree worker takes at a time; the context
// is checked between chunks.
const treeChunk = 64

// treeSearch searches the tree for m queries, spread over the workers in
// chunks taken in turn (queries differ in cost). Queries are taken in tree
// order, the training rows (self) by their position in the tree and other
// queries sorted by the leaf they descend to, so that consecutive queries
// are near each other and touch the same nodes while they are in cache.
// The order changes how fast the answer is found, never the answer.
//
// For the training rows, each distinct row is searched once, for its k+1
// nearest rows with none left out, and each of its copies r takes those
// but itself: the k nearest rows other than r are the k+1 nearest without
// r when r is among them, and the first k otherwise (r is at distance 0,
// so only its own copies can push it out). For distances alone, a copy
// drops one of the distances 0.
func (ix *Index) treeSearch(ctx context.Context, q []float32, m, k int, self, strict bool, dist []float64, idx []int32) error {
	t, d := ix.tree, ix.d
	var order []int32 // external queries in leaf order
	if self {
		m = len(t.memAt) - 1
	} else {
		leaf := make([]int32, m)
		count := make([]int32, len(t.start)-t.firstLeaf+1)
		for i := range m {
			leaf[i] = int32(t.leafOf(q[i*d:(i+1)*d]) - t.firstLeaf)
			count[leaf[i]+1]++
		}
		for l := 1; l < len(count); l++ {
			count[l] += count[l-1]
		}
		order = make([]int32, m)
		for i, l := range leaf {
			order[count[l]] = int32(i)
			count[l]++
		}
	}
	var next atomic.Int64
	var failed atomic.Bool
	var wg sync.WaitGroup
	workers := min(ix.workers, (m+treeChunk-1)/treeChunk)
	work := func() {
		defer wg.Done()
		kq := k
		if self {
			kq = k + 1
		}
		sr := t.newSearcher(kq, strict)
		h := sr.h
		for !failed.Load() {
			lo := int(next.Add(treeChunk)) - treeChunk
			if lo >= m {
				return
			}
			if ctx.Err() != nil {
				failed.Store(true)
				return
			}
			for p := lo; p < min(lo+treeChunk, m); p++ {
				if !self {
					i := int(order[p])
					widen(sr.q, q[i*d:(i+1)*d])
					sr.search()
					copy(dist[i*k:(i+1)*k], h.d[:k])
					copy(idx[i*k:(i+1)*k], h.i[:k])
					continue
				}
				t.row(sr.q, p)
				sr.search()
				for _, r := range t.members(p) {
					od, oi := dist[int(r)*k:int(r+1)*k], idx[int(r)*k:int(r+1)*k]
					if strict {
						copy(od, h.d[1:])
						continue
					}
					j := 0
					for c := range kq {
						if h.i[c] != r && j < k {
							od[j], oi[j] = h.d[c], h.i[c]
							j++
						}
					}
				}
			}
		}
	}
	wg.Add(workers)
	for range workers - 1 {
		go work()
	}
	work()
	wg.Wait()
	return ctx.Err()
}

// parallel runs body over [0, n) cut into at most workers contiguous
// parts of at least grain items each, the calling goroutine running one.
func parallel(workers, n, grain int, body func(lo, hi int)) {
	parts := min(workers, n/max(grain, 1))
	if parts <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		go func() {
			defer wg.Done()
			body(i*n/parts, (i+1)*n/parts)
		}()
	}
	body(0, n/parts)
	wg.Wait()
}
