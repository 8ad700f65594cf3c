package neighbors

import (
	"hash/maphash"
	"math"
	"math/bits"
	"sync"
)

// kdTree is a k-d tree over the distinct training rows in the layout
// scikit-learn's KDTree uses: a complete binary tree stored implicitly (node
// i has children 2i+1 and 2i+2), each node holding a contiguous range of
// the rows in tree order, split at the middle position along the feature of
// widest spread, with the tight bounding box of its rows for pruning. The
// rows are copied in tree order, so that a leaf's rows are adjacent in
// memory, in blocks of lanes rows stored feature by feature, for the SIMD
// kernel of leaf.go that computes a leaf's distances 8 rows at a time. They
// stay float32 (half the memory of float64) and are widened by the kernel,
// exactly. The bounding boxes (float64, holding float32 values) of two
// siblings are stored together, padded with zeros to a multiple of 4
// features, for the kernel that computes both children's box distances
// at once.
//
// Identical training rows are stored once, with the list of the rows they
// stand for (members, ascending). Anomaly-detection tables often repeat
// rows many times (a third of the 11,183 rows of ADBench's mammography
// file are repeats), and a row repeated more than k times would otherwise
// spread over several leaves, each of which a search for its neighbours
// must open to find the copies of lowest index.
type kdTree struct {
	d, dp      int       // features, and d rounded up to a multiple of 4
	mem        []int32   // the training rows of each distinct row, ascending, in tree order
	memAt      []int32   // the row at tree position p stands for mem[memAt[p]:memAt[p+1]]
	blk        []float32 // the distinct rows in tree order, leaf by leaf in blocks (leaf.go)
	slot       []int32   // tree position → its place in blk: block slot/lanes, lane slot%lanes
	leafBlk    []int32   // leaf i (node firstLeaf+i) starts at block leafBlk[i]
	maxLeaf    int       // the most rows a leaf holds
	start, end []int32   // each node's range of tree positions
	box        []float64 // the bounding boxes of sibling nodes, 4dp values a pair (boxPairGo)
	splitDim   []int32   // each inner node's split feature
	splitVal   []float64 // and the value of its middle row there
	firstLeaf  int       // nodes at or after it are leaves
}

// treeLeafSize sets the depth of the tree: 1 + ⌊log₂((n−1)/treeLeafSize)⌋
// levels, as scikit-learn counts them, so leaves hold between about
// treeLeafSize and twice as many rows. Measured with the SIMD leaf kernels
// (CPU time of the four searches kNN and LOF run, on ADBench's cover
// file), 16 and 64 are about 10% slower than 32; before the kernels, 16
// and 32 were equal within 3%, 8 and 64 about 10% slower.
const treeLeafSize = 32

// buildTree builds the tree over n rows of d features, with up to workers
// goroutines. It is deterministic: the same rows give the same tree.
func buildTree(x []float32, n, d, workers int) *kdTree {
	members, memStart := distinct(x, n, d)
	u := len(memStart) - 1
	// The tree is built over the first row of each distinct row.
	first := make([]float32, u*d)
	for i := range u {
		r := int(members[memStart[i]])
		copy(first[i*d:(i+1)*d], x[r*d:(r+1)*d])
	}
	t, perm := shapeTree(u, d)
	b := &builder{t: t, x: first, perm: perm, lo: make([]float64, d), hi: make([]float64, d)}
	b.build(0, 0, u, workers)
	t.layLeaves(first, perm)
	// The members in tree order, so that a leaf's are adjacent.
	t.mem, t.memAt = make([]int32, 0, n), make([]int32, u+1)
	for p, r := range perm {
		t.mem = append(t.mem, members[memStart[r]:memStart[r+1]]...)
		t.memAt[p+1] = int32(len(t.mem))
	}
	return t
}

// layLeaves copies the rows (x, in the order perm) into blk, leaf by leaf,
// each leaf's rows in blocks of lanes rows (the last block padded with
// zeros).
func (t *kdTree) layLeaves(x []float32, perm []int32) {
	d := t.d
	leaves := len(t.start) - t.firstLeaf
	t.leafBlk = make([]int32, leaves+1)
	for i := range leaves {
		rows := int(t.end[t.firstLeaf+i] - t.start[t.firstLeaf+i])
		t.maxLeaf = max(t.maxLeaf, rows)
		t.leafBlk[i+1] = t.leafBlk[i] + int32((rows+lanes-1)/lanes)
	}
	t.blk = make([]float32, int(t.leafBlk[leaves])*lanes*d)
	t.slot = make([]int32, len(perm))
	for i := range leaves {
		s, e := int(t.start[t.firstLeaf+i]), int(t.end[t.firstLeaf+i])
		for p := s; p < e; p++ {
			slot := int(t.leafBlk[i])*lanes + p - s
			t.slot[p] = int32(slot)
			base := slot/lanes*lanes*d + slot%lanes
			for l, v := range x[int(perm[p])*d : (int(perm[p])+1)*d] {
				t.blk[base+l*lanes] = v
			}
		}
	}
}

// row writes the row at tree position p, widened, into dst.
func (t *kdTree) row(dst []float64, p int) {
	d, slot := t.d, int(t.slot[p])
	base := slot/lanes*lanes*d + slot%lanes
	for l := range d {
		dst[l] = float64(t.blk[base+l*lanes])
	}
}

// members returns the training rows the row at tree position p stands
// for, ascending.
func (t *kdTree) members(p int) []int32 { return t.mem[t.memAt[p]:t.memAt[p+1]] }

// distinct groups identical rows (equal bit patterns): distinct row i,
// numbered in order of first appearance, stands for the rows
// members[memStart[i]:memStart[i+1]], ascending. The rows are found in an
// open-addressing hash table of row numbers (at most half full), hashed
// with a seed drawn per call, so that which rows collide does not depend
// on the data alone; the result does not depend on the seed.
func distinct(x []float32, n, d int) (members, memStart []int32) {
	size := 2
	for size < 2*n {
		size <<= 1
	}
	mask := uint64(size - 1)
	table := make([]int32, size) // 1 + the first row of a distinct row; 0: empty
	seed := maphash.Comparable(maphash.MakeSeed(), 0) | 1
	of := make([]int32, n)
	count := []int32{0}
	for r := range n {
		row := x[r*d : (r+1)*d]
		h := seed
		for _, v := range row {
			h = (h ^ uint64(math.Float32bits(v))) * 0x9e3779b97f4a7c15
			h ^= h >> 29
		}
		for i := h & mask; ; i = (i + 1) & mask {
			f := int(table[i]) - 1
			if f < 0 {
				table[i] = int32(r + 1)
				of[r] = int32(len(count) - 1)
				count = append(count, 1)
				break
			}
			if sameBits(row, x[f*d:(f+1)*d]) {
				of[r] = of[f]
				count[of[r]+1]++
				break
			}
		}
	}
	for i := 1; i < len(count); i++ {
		count[i] += count[i-1]
	}
	memStart = append([]int32(nil), count...)
	members = make([]int32, n)
	for r, u := range of {
		members[count[u]] = int32(r)
		count[u]++
	}
	return members, memStart
}

// sameBits reports whether two rows hold the same bit patterns.
func sameBits(a, b []float32) bool {
	b = b[:len(a)]
	for l, v := range a {
		if math.Float32bits(v) != math.Float32bits(b[l]) {
			return false
		}
	}
	return true
}

// shapeTree allocates the tree's arrays for n rows of d features, and the
// identity permutation of the rows that building reorders.
func shapeTree(n, d int) (*kdTree, []int32) {
	levels := 1
	for m := (n - 1) / treeLeafSize; m > 1; m >>= 1 {
		levels++
	}
	nodes := 1<<levels - 1
	inner := 1<<(levels-1) - 1
	dp := (d + 3) &^ 3
	t := &kdTree{
		d: d, dp: dp, start: make([]int32, nodes), end: make([]int32, nodes),
		box:      make([]float64, inner*4*dp),
		splitDim: make([]int32, inner), splitVal: make([]float64, inner), firstLeaf: inner,
	}
	perm := make([]int32, n)
	for i := range perm {
		perm[i] = int32(i)
	}
	return t, perm
}

// boxAt returns where node's box (node ≥ 1) lies in t.box: the pair of
// siblings (node−1)/2 holds, for each group of 4 features, the left
// node's 4 lower bounds then the right node's, for all groups, then the
// upper bounds likewise. Feature l of the node's lower bound is at
// base + l/4·8 + l%4, of its upper bound at base + 2dp + l/4·8 + l%4.
func (t *kdTree) boxAt(node int) int {
	return (node-1)/2*4*t.dp + (node-1)%2*4
}

// builder holds what building the tree needs besides the tree: the rows,
// their order, and the current node's box.
type builder struct {
	t      *kdTree
	x      []float32
	perm   []int32 // tree position → distinct row
	lo, hi []float64
}

// build sets node's range and box and, unless it is a leaf, partitions its
// rows about the middle position along its widest feature and recurses,
// the two halves in parallel while workers allow (they write disjoint
// nodes and rows, so the tree is the same whatever the workers).
func (b *builder) build(node, s, e, workers int) {
	t, x, d := b.t, b.x, b.t.d
	t.start[node], t.end[node] = int32(s), int32(e)
	lo, hi := b.lo, b.hi
	if s < e {
		widen(lo, x[int(b.perm[s])*d:(int(b.perm[s])+1)*d])
		copy(hi, lo)
	}
	for _, r := range b.perm[s:e] {
		row := x[int(r)*d : (int(r)+1)*d]
		for l, v := range row {
			lo[l] = min(lo[l], float64(v))
			hi[l] = max(hi[l], float64(v))
		}
	}
	if node > 0 {
		base := t.boxAt(node)
		for l := range d {
			t.box[base+l/4*8+l%4] = lo[l]
			t.box[base+2*t.dp+l/4*8+l%4] = hi[l]
		}
	}
	if node >= t.firstLeaf {
		return
	}
	dim, spread := 0, -1.0
	for l := range lo {
		if w := hi[l] - lo[l]; w > spread {
			dim, spread = l, w
		}
	}
	mid := s + (e-s)/2
	selectNth(b.perm[s:e], mid-s, func(r int32) float64 { return float64(x[int(r)*d+dim]) })
	t.splitDim[node], t.splitVal[node] = int32(dim), float64(x[int(b.perm[mid])*d+dim])
	if workers < 2 || e-s < 1<<14 {
		b.build(2*node+1, s, mid, 1)
		b.build(2*node+2, mid, e, 1)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		o := &builder{t: t, x: x, perm: b.perm, lo: make([]float64, d), hi: make([]float64, d)}
		o.build(2*node+1, s, mid, workers/2)
	})
	b.build(2*node+2, mid, e, workers-workers/2)
	wg.Wait()
}

// selectNth reorders p so that p[k] holds the element of rank k by key,
// with no larger key before it and no smaller one after (quickselect with
// a median-of-three pivot and a three-way partition, so runs of equal keys
// cost no more than distinct ones).
func selectNth[E any](p []E, k int, key func(E) float64) {
	lo, hi := 0, len(p)
	for hi-lo > 1 {
		a, b, c := key(p[lo]), key(p[lo+(hi-lo)/2]), key(p[hi-1])
		pivot := max(min(a, b), min(max(a, b), c))
		// Three-way partition: [lo, lt) < pivot, [lt, i) == pivot, (gt, hi) > pivot.
		lt, i, gt := lo, lo, hi-1
		for i <= gt {
			v := key(p[i])
			switch {
			case v < pivot:
				p[lt], p[i] = p[i], p[lt]
				lt++
				i++
			case v > pivot:
				p[i], p[gt] = p[gt], p[i]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt
		case k > gt:
			lo = gt + 1
		default:
			return
		}
	}
}

// leafOf returns the leaf a query descends to by the split values: where
// its search starts, and so the key by which queries are ordered to search
// neighbouring queries one after another.
func (t *kdTree) leafOf(q []float32) int {
	node := 0
	for node < t.firstLeaf {
		if float64(q[t.splitDim[node]]) < t.splitVal[node] {
			node = 2*node + 1
		} else {
			node = 2*node + 2
		}
	}
	return node
}

// searcher is one worker's state for searching the tree: the query
// (widened, zero-padded to dp values), the neighbours found so far, and
// the buffers for a leaf's distances and its mask of rows within the bound.
type searcher struct {
	t    *kdTree
	q    []float64
	h    *topK
	dist []float64
	mask []uint8
	// The previous query and its k-th squared distance (+Inf before the
	// first), from which seedBound bounds the next query's.
	prev  []float64
	prevK float64
}

func (t *kdTree) newSearcher(k int, strict bool) *searcher {
	nb := (t.maxLeaf + lanes - 1) / lanes
	return &searcher{t: t, q: make([]float64, t.dp), h: newTopK(k, strict),
		dist: make([]float64, nb*lanes), mask: make([]uint8, nb),
		prev: make([]float64, t.d), prevK: math.Inf(1)}
}

// search finds the k nearest training rows of s.q, with none left out,
// into s.h.
func (s *searcher) search() {
	s.h.reset(s.seedBound())
	if s.t.firstLeaf == 0 {
		s.scanLeaf(0)
	} else {
		s.visit(0)
	}
	copy(s.prev, s.q)
	s.prevK = s.h.d[s.h.k-1]
}

// seedBound returns an upper bound on the k-th smallest squared distance
// of s.q, as sqDist computes them, from the previous query's: its k
// nearest rows are within √prevK of it, so within √prevK + ‖q − prev‖ of
// q. Queries come in tree order, so the previous one is usually near, and
// the bound prunes from the first node on, where without it the search
// would take every row of the first leaf it opens and many of the next.
// It changes which nodes are opened, never the result.
//
// The bound must hold for the computed distances, not only for exact
// ones: with γ = (d+16)·2⁻⁵² bounding the relative error of a computed
// squared distance (a subtraction and a square per feature and at most d
// additions on any term's path, each rounded by at most 2⁻⁵³: below
// (d+3)·2⁻⁵³) and s = (d+16)·2⁻¹⁰⁷⁰ its absolute error in the subnormal
// range, an exact squared distance T and its computed value D satisfy
// D ≤ (1+γ)T + s and T ≤ (D + s)/(1−γ). So with E the computed
// ‖q − prev‖², every one of the previous query's k rows is within
// (1+γ)/(1−γ)·(√(prevK+s) + √(E+s))² + s of q as computed; the result
// is rounded up by a further factor 1+γ, which covers the few roundings
// of this formula.
func (s *searcher) seedBound() float64 {
	d := s.t.d
	var e float64
	for l, v := range s.prev {
		g := s.q[l] - v
		e += g * g
	}
	gamma := float64(d+16) * 0x1p-52
	slack := float64(d+16) * 0x1p-1070
	a := math.Sqrt(s.prevK+slack) + math.Sqrt(e+slack)
	b := a * a * (1 + gamma) / (1 - gamma) * (1 + gamma)
	if !(b < math.Inf(1)) { // +Inf, or NaN from values beyond float64's squares
		return math.Inf(1)
	}
	return b + slack
}

// visit searches the children of the inner node, the nearer first.
func (s *searcher) visit(node int) {
	t := s.t
	l, r := 2*node+1, 2*node+2
	dl, dr := boxPair(s.q, t.box[node*4*t.dp:(node+1)*4*t.dp], t.dp)
	if dr < dl {
		l, r, dl, dr = r, l, dr, dl
	}
	// A node is skipped only when its box lies beyond the bound: at equal
	// distance a row of lower index could still enter (unless h is strict).
	if dl <= s.h.bound {
		if l >= t.firstLeaf {
			s.scanLeaf(l)
		} else {
			s.visit(l)
		}
	}
	if dr <= s.h.bound {
		if r >= t.firstLeaf {
			s.scanLeaf(r)
		} else {
			s.visit(r)
		}
	}
}

// scanLeaf offers the rows of a leaf to h. The kernel computes all the
// leaf's distances, as sqDist does, bit for bit, and marks those within
// the bound; the marked rows are then offered in tree order (the bound
// only falls as rows are taken).
func (s *searcher) scanLeaf(node int) {
	t, h := s.t, s.h
	st, e := int(t.start[node]), int(t.end[node])
	b0, b1 := int(t.leafBlk[node-t.firstLeaf]), int(t.leafBlk[node-t.firstLeaf+1])
	nb := b1 - b0
	dist, mask := s.dist[:nb*lanes], s.mask[:nb]
	leafDists(s.q, t.blk[b0*lanes*t.d:b1*lanes*t.d], t.d, h.bound, dist, mask)
	if pad := nb*lanes - (e - st); pad > 0 {
		mask[nb-1] &= 0xff >> pad // the padding rows of the last block
	}
	for b, m := range mask {
		for ; m != 0; m &= m - 1 {
			p := b*lanes + bits.TrailingZeros8(m)
			d := dist[p]
			if d > h.bound {
				continue
			}
			// The copies of the row, in ascending order: once one is
			// refused, so are the rest.
			for _, r := range t.members(st + p) {
				if !h.push(d, r) {
					break
				}
			}
		}
	}
}
