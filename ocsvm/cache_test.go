package ocsvm

import (
	"math/rand/v2"
	"testing"
)

// The cache against a model of what it must hold: after any sequence of
// fetches, partial fills and reorderings, every value a column reports as
// computed is the kernel value of the rows now at its positions, no more
// than the allowed number of buffers exists, and the most recently used
// column survives the next fetch.
func TestCacheAgainstModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for trial := range 200 {
		l := 2 + r.IntN(30)
		slots := 2 + r.IntN(l)
		c := newColCache(l, slots)
		perm := make([]int, l) // perm[p] is the row at position p
		for i := range perm {
			perm[i] = i
		}
		val := func(a, b int) float32 { return float32(perm[a]*1000 + perm[b]) }
		last := -1
		for range 300 {
			switch r.IntN(3) {
			case 0, 1:
				i := r.IntN(l)
				if last >= 0 && last != i && c.slot[last] == nil {
					t.Fatalf("trial %d: the last column used, %d, was evicted", trial, last)
				}
				col, f := c.get(i)
				for p := range f {
					if col[p] != val(p, i) {
						t.Fatalf("trial %d: column %d position %d holds %v, want %v", trial, i, p, col[p], val(p, i))
					}
				}
				n := f + r.IntN(l-f+1)
				for p := f; p < n; p++ {
					col[p] = val(p, i)
				}
				c.setFilled(i, n)
				last = i
			case 2:
				var pairs [][2]int
				for range r.IntN(4) {
					i, j := r.IntN(l), r.IntN(l)
					if i != j {
						pairs = append(pairs, [2]int{min(i, j), max(i, j)})
					}
				}
				for _, p := range pairs {
					perm[p[0]], perm[p[1]] = perm[p[1]], perm[p[0]]
				}
				c.swapAll(pairs)
				last = -1
			}
			if c.used > c.slots {
				t.Fatalf("trial %d: %d buffers for %d slots", trial, c.used, c.slots)
			}
			// The list holds exactly the cached columns.
			n := 0
			for h := c.head; h >= 0; h = c.next[h] {
				if c.slot[h] == nil {
					t.Fatalf("trial %d: column %d listed but not cached", trial, h)
				}
				n++
			}
			held := 0
			for _, s := range c.slot {
				if s != nil {
					held++
				}
			}
			if n != held || held+len(c.spare) != c.used {
				t.Fatalf("trial %d: %d listed, %d cached, %d spare, %d allocated", trial, n, held, len(c.spare), c.used)
			}
		}
	}
}
