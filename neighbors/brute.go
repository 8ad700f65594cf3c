package neighbors

import (
	"context"
	"math"

	"github.com/oddity-ml/oddity/kernels"
)

// Block sizes of the brute-force path: queries are taken bruteQueries rows
// at a time, and each block's distances to bruteTrain training rows at a
// time fill one bruteQueries×bruteTrain float32 matrix (1 MiB), so the
// memory used is bounded by the blocks, never by n·m.
const (
	bruteQueries = 256
	bruteTrain   = 1024
)

// maxNorm bounds the squared norms (after centring) the float32 product
// may take: below it no partial sum of the product can overflow float32.
// Rows beyond it are searched by exactScan instead.
const maxNorm = 1e36

// unit is float32's unit roundoff, 2⁻²⁴.
const unit = 0x1p-24

// bruteData is what the brute-force path keeps beside the rows: the rows
// centred on their mean, in float32 for the SGEMM, and their squared norms.
// Centring makes the norms, and so the cancellation in ‖q‖² + ‖x‖² − 2q·x,
// as small as the data's spread allows.
type bruteData struct {
	mean  []float32
	xc    []float32 // centred rows, n×d
	nx    []float32 // ‖xc_j‖², computed in float64
	maxNX float64
}

func newBrute(x []float32, n, d int) *bruteData {
	b := &bruteData{mean: make([]float32, d), xc: make([]float32, n*d), nx: make([]float32, n)}
	mean := make([]float64, d)
	for j := range n {
		for l, v := range x[j*d : (j+1)*d] {
			mean[l] += float64(v)
		}
	}
	for l := range mean {
		b.mean[l] = float32(mean[l] / float64(n))
	}
	for j := range n {
		b.nx[j] = float32(centre(b.xc[j*d:(j+1)*d], x[j*d:(j+1)*d], b.mean))
		b.maxNX = max(b.maxNX, float64(b.nx[j]))
	}
	return b
}

// centre writes row − mean into dst (rounded to float32) and returns the
// squared norm of dst in float64.
func centre(dst, row, mean []float32) float64 {
	var s float64
	for l, v := range row {
		c := v - mean[l]
		dst[l] = c
		s += float64(c) * float64(c)
	}
	return s
}

// margin is B, a bound on |a − e| for one query: a the float32 estimate of
// a squared distance the scan compares, e the exact one sqDist returns.
// With u = 2⁻²⁴ and the rows centred, the errors are: centring (each value
// rounded once, at most 4u(‖q‖²+‖x‖²) on the distance), the product's
// accumulation over d terms (γ_d·2‖q‖‖x‖ ≤ γ_d(‖q‖²+‖x‖²), whatever the
// order of summation), the norms' rounding to float32 (u each) and the
// float32 addition (u(‖q‖²+2‖x‖²)); together below (d+10)u(‖q‖²+‖x‖²) for
// d·u ≪ 1. B doubles the constant, uses the largest training norm, and
// adds an absolute term for values small enough to be subnormal.
func margin(nq, maxNX float64, d int) float64 {
	return 2*float64(d+16)*unit*(nq+maxNX) + float64(4*(d+16))*0x1p-149
}

// cand is a candidate neighbour of one query: its estimated squared
// distance and its row.
type cand struct {
	a float64
	j int32
}

// queryState is one query row's streaming selection. It keeps every row
// whose estimate a is within 2B of τ, the k-th smallest estimate seen so
// far: the true k nearest rows (by exact distance, then index) are all
// among them, since each has e ≤ τ + B and so a ≤ τ + 2B. The list is
// pruned whenever it has doubled, so its length stays about k plus the
// rows tied with the k-th within the margin.
type queryState struct {
	c     []cand
	limit int
	nq    float64 // ‖q_c‖²
	b     float64 // margin
	t     float32 // a row is kept when its c + ‖x‖² ≤ t (t = τ + 2B − ‖q‖², rounded up)
	self  int32
	skip  bool // the query's norm is too large for float32: exactScan
}

func (s *queryState) reset(nq, maxNX, b float64, self int32, k int) {
	s.c = s.c[:0]
	s.limit = 2*k + 32
	s.nq, s.b, s.self = nq, b, self
	s.t = float32(math.Inf(1))
	s.skip = nq >= maxNorm || maxNX >= maxNorm
}

// prune keeps the candidates within 2B of the k-th smallest estimate and
// lowers the threshold to match.
func (s *queryState) prune(k int) {
	if len(s.c) < k {
		return
	}
	selectNth(s.c, k-1, func(c cand) float64 { return c.a })
	thr := s.c[k-1].a + 2*s.b
	cut := k
	for _, c := range s.c[k:] {
		if c.a <= thr {
			s.c[cut] = c
			cut++
		}
	}
	s.c = s.c[:cut]
	s.limit = max(2*cut, 2*k+32)
	t := thr - s.nq
	t32 := float32(t)
	if float64(t32) < t {
		t32 = math.Nextafter32(t32, float32(math.Inf(1)))
	}
	s.t = t32
}

// scan offers one row of the block product, c[j] = −2 q_c·x_c for training
// rows j0+j, whose squared norms are nx.
func (s *queryState) scan(c, nx []float32, j0, k int) {
	nx = nx[:len(c)]
	t := s.t
	for j, v := range c {
		if a := v + nx[j]; a <= t {
			jj := int32(j0 + j)
			if jj == s.self {
				continue
			}
			s.c = append(s.c, cand{float64(a) + s.nq, jj})
			if len(s.c) >= s.limit {
				s.prune(k)
				t = s.t
			}
		}
	}
}

// finish computes the exact distances of the surviving candidates of query
// q (widened to float64) and writes the k nearest, by distance and then
// index, to dist (squared) and idx.
func (s *queryState) finish(q []float64, x []float32, d, k int, dist []float64, idx []int32, h *topK) {
	s.prune(k)
	h.reset(math.Inf(1))
	for _, c := range s.c {
		e := sqDist(q, x[int(c.j)*d:(int(c.j)+1)*d])
		if e <= h.bound {
			h.push(e, c.j)
		}
	}
	copy(dist, h.d[:k])
	copy(idx, h.i[:k])
}

// bruteSearch is the blocked SGEMM search. The m query rows are q (m×d,
// original values), or, when selfBase ≥ 0, the training rows selfBase,
// selfBase+1, … themselves, each skipping its own row. It writes squared
// distances.
func (ix *Index) bruteSearch(ctx context.Context, q []float32, m, k, selfBase int, dist []float64, idx []int32) error {
	b, d, n := ix.brute, ix.d, ix.n
	bq := min(bruteQueries, m)
	qc := make([]float32, bq*d)
	prod := make([]float32, bq*bruteTrain)
	states := make([]queryState, bq)
	workers := ix.workers
	for i0 := 0; i0 < m; i0 += bq {
		mb := min(bq, m-i0)
		qb := qc[:mb*d]
		if selfBase >= 0 {
			qb = b.xc[(selfBase+i0)*d : (selfBase+i0+mb)*d]
		}
		for r := range mb {
			var nq float64
			self := int32(-1)
			if selfBase >= 0 {
				nq, self = float64(b.nx[selfBase+i0+r]), int32(selfBase+i0+r)
			} else {
				nq = centre(qb[r*d:(r+1)*d], q[(i0+r)*d:(i0+r+1)*d], b.mean)
			}
			states[r].reset(nq, b.maxNX, margin(nq, b.maxNX, d), self, k)
		}
		for j0 := 0; j0 < n; j0 += bruteTrain {
			if err := ctx.Err(); err != nil {
				return err
			}
			nb := min(bruteTrain, n-j0)
			c := prod[:mb*nb]
			kernels.Sgemm(false, true, mb, nb, d, -2, qb, d, b.xc[j0*d:(j0+nb)*d], d, 0, c, nb)
			parallel(workers, mb, 8, func(lo, hi int) {
				for r := lo; r < hi; r++ {
					if !states[r].skip {
						states[r].scan(c[r*nb:(r+1)*nb], b.nx[j0:j0+nb], j0, k)
					}
				}
			})
		}
		parallel(workers, mb, 8, func(lo, hi int) {
			q64 := make([]float64, d)
			h := newTopK(k, false)
			for r := lo; r < hi; r++ {
				i := i0 + r
				row := ix.x
				if selfBase >= 0 {
					row = row[(selfBase+i)*d : (selfBase+i+1)*d]
				} else {
					row = q[i*d : (i+1)*d]
				}
				widen(q64, row)
				out, oi := dist[i*k:(i+1)*k], idx[i*k:(i+1)*k]
				if states[r].skip {
					ix.exactScan(q64, states[r].self, h)
					copy(out, h.d[:k])
					copy(oi, h.i[:k])
					continue
				}
				states[r].finish(q64, ix.x, d, k, out, oi, h)
			}
		})
	}
	return nil
}

// exactScan offers every training row (but self) to h: the fallback for a
// query whose values are too large for the float32 product.
func (ix *Index) exactScan(q []float64, self int32, h *topK) {
	d := ix.d
	h.reset(math.Inf(1))
	for j := range ix.n {
		if int32(j) == self {
			continue
		}
		if e := sqDist(q, ix.x[j*d:(j+1)*d]); e <= h.bound {
			h.push(e, int32(j))
		}
	}
}

// widen copies the float32 row into dst as float64 values.
func widen(dst []float64, row []float32) {
	for l, v := range row {
		dst[l] = float64(v)
	}
}
