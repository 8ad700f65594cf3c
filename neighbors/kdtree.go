package neighbors

import (
	"encoding/binary"
	"math"
)

// kdTree is a k-d tree over the distinct training rows in the layout
// scikit-learn's KDTree uses: a complete binary tree stored implicitly (node
// i has children 2i+1 and 2i+2), each node holding a contiguous range of
// the rows in tree order, split at the middle position along the feature of
// widest spread, with the tight bounding box of its rows for pruning. The
// rows are copied in tree order, widened to float64, so that a leaf's rows
// are adjacent in memory and its distances need no conversion.
//
// Identical training rows are stored once, with the list of the rows they
// stand for (members, ascending). Anomaly-detection tables often repeat
// rows many times (a third of the 11,183 rows of ADBench's mammography
// file are repeats), and a row repeated more than k times would otherwise
// spread over several leaves, each of which a search for its neighbours
// must open to find the copies of lowest index.
type kdTree struct {
	d          int
	perm       []int32   // tree position → distinct row
	members    []int32   // the training rows of each distinct row, ascending
	memStart   []int32   // distinct row u stands for members[memStart[u]:memStart[u+1]]
	pts        []float64 // the distinct rows in tree order, widened
	start, end []int32   // each node's range of tree positions
	lo, hi     []float64 // each node's bounding box, nodes×d (float32 values)
	splitDim   []int32   // each inner node's split feature
	splitVal   []float64 // and the value of its middle row there
	firstLeaf  int       // nodes at or after it are leaves
}

// treeLeafSize sets the depth of the tree: 1 + ⌊log₂((n−1)/treeLeafSize)⌋
// levels, as scikit-learn counts them, so leaves hold between about
// treeLeafSize and twice as many rows. Measured (CPU time of kNN and LOF
// fit+score on ADBench's shuttle and cover files), 16 and 32 are equal
// within 3%, 8 and 64 about 10% slower.
const treeLeafSize = 32

// buildTree builds the tree over n rows of d features. It is deterministic:
// the same rows give the same tree.
func buildTree(x []float32, n, d int) *kdTree {
	members, memStart := distinct(x, n, d)
	u := len(memStart) - 1
	// The tree is built over the first row of each distinct row.
	first := make([]float32, u*d)
	for i := range u {
		r := int(members[memStart[i]])
		copy(first[i*d:(i+1)*d], x[r*d:(r+1)*d])
	}
	t := shapeTree(u, d)
	t.members, t.memStart = members, memStart
	t.build(first, 0, 0, u)
	t.pts = make([]float64, u*d)
	for p, r := range t.perm {
		widen(t.pts[p*d:(p+1)*d], first[int(r)*d:(int(r)+1)*d])
	}
	return t
}

// distinct groups identical rows (equal bit patterns): distinct row i,
// numbered in order of first appearance, stands for the rows
// members[memStart[i]:memStart[i+1]], ascending.
func distinct(x []float32, n, d int) (members, memStart []int32) {
	id := make(map[string]int32, n)
	of := make([]int32, n)
	count := []int32{0}
	key := make([]byte, 4*d)
	for r := range n {
		for l, v := range x[r*d : (r+1)*d] {
			binary.LittleEndian.PutUint32(key[4*l:], math.Float32bits(v))
		}
		u, ok := id[string(key)]
		if !ok {
			u = int32(len(id))
			id[string(key)] = u
			count = append(count, 0)
		}
		of[r] = u
		count[u+1]++
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

// shapeTree allocates the tree's arrays for n rows of d features.
func shapeTree(n, d int) *kdTree {
	levels := 1
	for m := (n - 1) / treeLeafSize; m > 1; m >>= 1 {
		levels++
	}
	nodes := 1<<levels - 1
	inner := 1<<(levels-1) - 1
	t := &kdTree{
		d: d, perm: make([]int32, n), start: make([]int32, nodes), end: make([]int32, nodes),
		lo: make([]float64, nodes*d), hi: make([]float64, nodes*d),
		splitDim: make([]int32, inner), splitVal: make([]float64, inner), firstLeaf: inner,
	}
	for i := range t.perm {
		t.perm[i] = int32(i)
	}
	return t
}

// build sets node's range and box and, unless it is a leaf, partitions its
// rows about the middle position along its widest feature and recurses.
func (t *kdTree) build(x []float32, node, s, e int) {
	d := t.d
	t.start[node], t.end[node] = int32(s), int32(e)
	lo, hi := t.lo[node*d:(node+1)*d], t.hi[node*d:(node+1)*d]
	if s < e {
		widen(lo, x[int(t.perm[s])*d:(int(t.perm[s])+1)*d])
		copy(hi, lo)
	}
	for _, r := range t.perm[s:e] {
		row := x[int(r)*d : (int(r)+1)*d]
		for l, v := range row {
			lo[l] = min(lo[l], float64(v))
			hi[l] = max(hi[l], float64(v))
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
	selectNth(t.perm[s:e], mid-s, func(r int32) float64 { return float64(x[int(r)*d+dim]) })
	t.splitDim[node], t.splitVal[node] = int32(dim), float64(x[int(t.perm[mid])*d+dim])
	t.build(x, 2*node+1, s, mid)
	t.build(x, 2*node+2, mid, e)
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

// search adds the nearest training rows of q (its values widened to
// float64) to h, skipping the training row self (−1 for none).
func (t *kdTree) search(q []float64, h *topK, self int32) {
	t.visit(0, q, h, self)
}

func (t *kdTree) visit(node int, q []float64, h *topK, self int32) {
	d := t.d
	if node >= t.firstLeaf {
		t.scanRange(int(t.start[node]), int(t.end[node]), q, h, self)
		return
	}
	l, r := 2*node+1, 2*node+2
	dl := boxDist(q, t.lo[l*d:(l+1)*d], t.hi[l*d:(l+1)*d])
	dr := boxDist(q, t.lo[r*d:(r+1)*d], t.hi[r*d:(r+1)*d])
	if dr < dl {
		l, r, dl, dr = r, l, dr, dl
	}
	// A node is skipped only when its box lies beyond the bound: at equal
	// distance a row of lower index could still enter (unless h is strict).
	if dl <= h.bound {
		t.visit(l, q, h, self)
	}
	if dr <= h.bound {
		t.visit(r, q, h, self)
	}
}

// scanRange offers the rows at tree positions [s, e) to h, skipping the
// training row self. It is sqDistWithin written out in the loop (the same
// sums in the same order, so the same values as sqDist), as the call would
// cost as much as the arithmetic for the few features a tree serves.
func (t *kdTree) scanRange(s, e int, q []float64, h *topK, self int32) {
	d := t.d
	pts := t.pts[s*d : e*d]
rows:
	for p := range e - s {
		x := pts[p*d : (p+1)*d]
		x = x[:len(q)]
		bound := h.bound
		var s0, s1, s2, s3 float64
		l := 0
		for ; l+4 <= len(q); l += 4 {
			d0 := q[l] - x[l]
			d1 := q[l+1] - x[l+1]
			d2 := q[l+2] - x[l+2]
			d3 := q[l+3] - x[l+3]
			s0 += float64(d0 * d0)
			s1 += float64(d1 * d1)
			s2 += float64(d2 * d2)
			s3 += float64(d3 * d3)
			if (s0+s1)+(s2+s3) > bound {
				continue rows
			}
		}
		switch len(q) - l {
		case 3:
			d2 := q[l+2] - x[l+2]
			s2 += float64(d2 * d2)
			fallthrough
		case 2:
			d1 := q[l+1] - x[l+1]
			s1 += float64(d1 * d1)
			fallthrough
		case 1:
			d0 := q[l] - x[l]
			s0 += float64(d0 * d0)
		}
		if dist := (s0 + s1) + (s2 + s3); dist <= bound {
			// The copies of the row, in ascending order: once one is
			// refused, so are the rest.
			u := t.perm[s+p]
			for _, r := range t.members[t.memStart[u]:t.memStart[u+1]] {
				if r != self && !h.push(dist, r) {
					break
				}
			}
		}
	}
}
