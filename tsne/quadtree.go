package tsne

import "math"

// qnode is one cell of the quadtree: its centre of mass, the number of
// points below it, its squared side, and its non-empty children, stored
// consecutively from index child (nchild of them; none for a leaf).
type qnode struct {
	cx, cy float64
	side2  float32
	count  int32
	child  int32
	nchild int32
}

// maxDepth bounds the tree; cells deeper than this become leaves even when
// their points differ (they are then summarised by their centre of mass).
const maxDepth = 48

// quadtree is rebuilt on every iteration from the current embedding; its
// slices are reused between builds.
type quadtree struct {
	nodes []qnode
	idx   []int32 // permutation of the points, grouped by cell
	tmp   []int32
}

// build indexes the n points of y (row-major pairs).
func (t *quadtree) build(y []float64) {
	n := len(y) / 2
	if cap(t.idx) < n {
		t.idx = make([]int32, n)
		t.tmp = make([]int32, n)
	}
	t.idx, t.tmp = t.idx[:n], t.tmp[:n]
	for i := range t.idx {
		t.idx[i] = int32(i)
	}
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for i := range n {
		minX, maxX = math.Min(minX, y[2*i]), math.Max(maxX, y[2*i])
		minY, maxY = math.Min(minY, y[2*i+1]), math.Max(maxY, y[2*i+1])
	}
	side := math.Max(maxX-minX, maxY-minY)
	// Widen a little so the maximum falls strictly inside the root cell.
	side = side*(1+1e-9) + 1e-300
	t.nodes = append(t.nodes[:0], qnode{})
	t.split(y, 0, 0, n, minX, minY, side, 0)
}

// split fills node with the points idx[lo:hi] lying in the square cell
// [x0, x0+side) × [y0, y0+side), recursing into quadrants.
func (t *quadtree) split(y []float64, node int32, lo, hi int, x0, y0, side float64, depth int) {
	var sx, sy float64
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, p := range t.idx[lo:hi] {
		px, py := y[2*p], y[2*p+1]
		sx += px
		sy += py
		minX, maxX = math.Min(minX, px), math.Max(maxX, px)
		minY, maxY = math.Min(minY, py), math.Max(maxY, py)
	}
	cnt := hi - lo
	nd := qnode{side2: float32(side * side), count: int32(cnt)}
	if cnt > 0 {
		nd.cx, nd.cy = sx/float64(cnt), sy/float64(cnt)
	}
	if cnt <= 1 || depth >= maxDepth || (minX == maxX && minY == maxY) {
		t.nodes[node] = nd
		return
	}
	// Counting sort of the cell's points into the four quadrants.
	h := side / 2
	mx, my := x0+h, y0+h
	quad := func(p int32) int {
		q := 0
		if y[2*p] >= mx {
			q |= 1
		}
		if y[2*p+1] >= my {
			q |= 2
		}
		return q
	}
	var cnts [5]int
	for _, p := range t.idx[lo:hi] {
		cnts[quad(p)+1]++
	}
	for q := range 4 {
		cnts[q+1] += cnts[q]
	}
	pos := cnts
	for _, p := range t.idx[lo:hi] {
		q := quad(p)
		t.tmp[lo+pos[q]] = p
		pos[q]++
	}
	copy(t.idx[lo:hi], t.tmp[lo:hi])

	first := int32(len(t.nodes))
	nd.child = first
	for q := range 4 {
		if cnts[q+1] > cnts[q] {
			nd.nchild++
			t.nodes = append(t.nodes, qnode{})
		}
	}
	t.nodes[node] = nd
	c := first
	for q := range 4 {
		if cnts[q+1] == cnts[q] {
			continue
		}
		cx0, cy0 := x0, y0
		if q&1 != 0 {
			cx0 = mx
		}
		if q&2 != 0 {
			cy0 = my
		}
		t.split(y, c, lo+cnts[q], lo+cnts[q+1], cx0, cy0, h, depth+1)
		c++
	}
}

// repulsion returns, for the point (px, py), the Barnes-Hut approximations of
// sum_j q_ij Z (the unnormalised Student-t kernel (1+d²)⁻¹ summed over all
// points, the point itself included with value 1) and of the force
// sum_j (q_ij Z)² (y_i - y_j). A cell is summarised by its centre of mass when
// it is a leaf or when side² < theta²·d². stack is scratch space.
func (t *quadtree) repulsion(px, py, theta2 float64, stack []int32) (sumQ, fx, fy float64, _ []int32) {
	stack = append(stack[:0], 0)
	for len(stack) > 0 {
		nd := &t.nodes[stack[len(stack)-1]]
		stack = stack[:len(stack)-1]
		dx, dy := px-nd.cx, py-nd.cy
		d2 := dx*dx + dy*dy
		if nd.nchild == 0 || float64(nd.side2) < theta2*d2 {
			q := 1 / (1 + d2)
			c := float64(nd.count)
			sumQ += c * q
			m := c * q * q
			fx += m * dx
			fy += m * dy
			continue
		}
		for c := nd.child; c < nd.child+nd.nchild; c++ {
			stack = append(stack, c)
		}
	}
	return sumQ, fx, fy, stack
}
