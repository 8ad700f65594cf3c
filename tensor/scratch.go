package tensor

import (
	"math/bits"
	"sync"
)

// Scratch buffers. A convolution's lowered patches and its transposed
// output are as large as a feature map times the kernel area (16 MB per
// layer for GANomaly at batch 64), live only until the operation's backward
// pass (or, without a tape, until the forward pass returns), and come back
// with the same sizes every step. Allocating them fresh made the runtime
// zero and page-fault tens of megabytes per step, and a sync.Pool loses its
// contents at every garbage collection, which training triggers several
// times a step. So they are kept in free lists by power-of-two size class,
// at most scratchKeep buffers a class (the most one training step of the
// project's networks has in flight at once is a few per class); a buffer
// beyond that goes to the garbage collector. Buffers come back with stale
// contents: only operations that overwrite every entry use them.

// scratchKeep caps the free buffers kept per size class.
const scratchKeep = 16

var scratch struct {
	mu   sync.Mutex
	free [48][][]float32 // free[b]: buffers of capacity exactly 1<<b
}

// getScratch returns a buffer of length n with unspecified contents.
func getScratch(n int) []float32 {
	if n == 0 {
		return nil
	}
	b := bits.Len(uint(n - 1))
	scratch.mu.Lock()
	if l := scratch.free[b]; len(l) > 0 {
		s := l[len(l)-1]
		l[len(l)-1] = nil
		scratch.free[b] = l[:len(l)-1]
		scratch.mu.Unlock()
		return s[:n]
	}
	scratch.mu.Unlock()
	return make([]float32, n, 1<<b)
}

// putScratch returns buffers from getScratch for reuse; the caller must not
// touch them afterwards.
func putScratch(bufs ...[]float32) {
	scratch.mu.Lock()
	defer scratch.mu.Unlock()
	for _, s := range bufs {
		c := cap(s)
		if c == 0 || c&(c-1) != 0 {
			continue // not from getScratch
		}
		b := bits.Len(uint(c - 1))
		if len(scratch.free[b]) < scratchKeep {
			scratch.free[b] = append(scratch.free[b], s[:c])
		}
	}
}
