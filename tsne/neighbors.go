package tsne

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/oddity-ml/oddity/kernels"
)

// parallelFor calls fn(worker, lo, hi) over [0, n) in chunks of at most
// chunk items, handed out dynamically to the given number of workers. Each
// index is visited exactly once; which worker handles it does not affect the
// result as long as fn writes only per-index outputs (plus per-worker
// scratch).
func parallelFor(workers, n, chunk int, fn func(w, lo, hi int)) {
	if chunk < 1 {
		chunk = 1
	}
	if workers <= 1 || n <= chunk {
		for lo := 0; lo < n; lo += chunk {
			fn(0, lo, min(lo+chunk, n))
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				lo := int(next.Add(int64(chunk))) - chunk
				if lo >= n {
					return
				}
				fn(w, lo, min(lo+chunk, n))
			}
		}()
	}
	wg.Wait()
}

// Block sizes of the distance computation: a row block of the data against a
// column tile of its transpose. Large row blocks amortise SGEMM's packing of
// the tile; the block of products (2048 columns) stays a few MB. Variables so
// tests can force many partial blocks.
var (
	knnRowBlock = 512
	knnColBlock = 2048
)

// knn returns, for each of the n rows of the n×d matrix x, the k nearest other
// rows by Euclidean distance: nbr[i*k+m] is the index of the m-th nearest and
// dist[i*k+m] its squared distance, ascending (ties by index). Candidates are
// screened in float32 from ||x||² + ||y||² - 2x·y (block products through
// kernels.Sgemm); the chosen k distances are then recomputed in float64.
func knn(ctx context.Context, x []float32, n, d, k, workers int) ([]int32, []float64, error) {
	norms := make([]float32, n)
	for i := range n {
		var s float64
		for _, v := range x[i*d : (i+1)*d] {
			s += float64(v) * float64(v)
		}
		norms[i] = float32(s)
	}
	// xt is the d×n transpose, so each tile product reads contiguous rows.
	xt := make([]float32, d*n)
	for i := range n {
		for j, v := range x[i*d : (i+1)*d] {
			xt[j*n+i] = v
		}
	}
	nbr := make([]int32, n*k)
	dist := make([]float64, n*k)
	type scratch struct {
		c     []float32
		heaps []maxHeap
	}
	scr := make([]scratch, max(workers, 1))
	for w := range scr {
		scr[w].c = make([]float32, knnRowBlock*knnColBlock)
		scr[w].heaps = make([]maxHeap, knnRowBlock)
		for r := range scr[w].heaps {
			scr[w].heaps[r] = maxHeap{d: make([]float32, 0, k), j: make([]int32, 0, k)}
		}
	}
	var cancelled atomic.Bool
	parallelFor(workers, n, knnRowBlock, func(w, lo, hi int) {
		if cancelled.Load() || ctx.Err() != nil {
			cancelled.Store(true)
			return
		}
		s := &scr[w]
		rows := hi - lo
		for r := range rows {
			s.heaps[r].reset()
		}
		for j0 := 0; j0 < n; j0 += knnColBlock {
			cols := min(knnColBlock, n-j0)
			kernels.Sgemm(false, false, rows, cols, d, 1, x[lo*d:], d, xt[j0:], n, 0, s.c, cols)
			for r := range rows {
				i := lo + r
				h := &s.heaps[r]
				ni := norms[i]
				crow := s.c[r*cols : (r+1)*cols]
				for c, dot := range crow {
					j := j0 + c
					if j == i {
						continue
					}
					dd := ni + norms[j] - 2*dot
					if len(h.d) < k {
						h.push(dd, int32(j))
					} else if dd < h.d[0] {
						h.replaceTop(dd, int32(j))
					}
				}
			}
		}
		for r := range rows {
			i := lo + r
			h := &s.heaps[r]
			xi := x[i*d : (i+1)*d]
			type cand struct {
				d float64
				j int32
			}
			cs := make([]cand, len(h.j))
			for m, j := range h.j {
				xj := x[int(j)*d : (int(j)+1)*d]
				var s float64
				for t, v := range xi {
					e := float64(v) - float64(xj[t])
					s += e * e
				}
				cs[m] = cand{s, j}
			}
			slices.SortFunc(cs, func(a, b cand) int {
				switch {
				case a.d < b.d:
					return -1
				case a.d > b.d:
					return 1
				}
				return int(a.j - b.j)
			})
			for m, c := range cs {
				nbr[i*k+m] = c.j
				dist[i*k+m] = c.d
			}
		}
	})
	if cancelled.Load() {
		return nil, nil, ctx.Err()
	}
	return nbr, dist, nil
}

// maxHeap keeps the k smallest distances seen, largest on top.
type maxHeap struct {
	d []float32
	j []int32
}

func (h *maxHeap) reset() { h.d, h.j = h.d[:0], h.j[:0] }

// greater orders by distance, then by index, so ties resolve the same way
// whatever the block order.
func (h *maxHeap) greater(a, b int) bool {
	if h.d[a] != h.d[b] {
		return h.d[a] > h.d[b]
	}
	return h.j[a] > h.j[b]
}

func (h *maxHeap) swap(a, b int) {
	h.d[a], h.d[b] = h.d[b], h.d[a]
	h.j[a], h.j[b] = h.j[b], h.j[a]
}

func (h *maxHeap) push(d float32, j int32) {
	h.d = append(h.d, d)
	h.j = append(h.j, j)
	c := len(h.d) - 1
	for c > 0 {
		p := (c - 1) / 2
		if !h.greater(c, p) {
			break
		}
		h.swap(c, p)
		c = p
	}
}

func (h *maxHeap) replaceTop(d float32, j int32) {
	h.d[0], h.j[0] = d, j
	n := len(h.d)
	p := 0
	for {
		l := 2*p + 1
		if l >= n {
			return
		}
		c := l
		if r := l + 1; r < n && h.greater(r, l) {
			c = r
		}
		if !h.greater(c, p) {
			return
		}
		h.swap(c, p)
		p = c
	}
}
