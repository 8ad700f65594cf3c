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
// zero and page-fault tens of megabytes per step; recycling them through
// size-classed pools removes that. Buffers come back with stale contents:
// only operations that overwrite every entry use them.

// scratchPools[b] holds buffers of capacity exactly 1<<b.
var scratchPools [48]sync.Pool

// getScratch returns a buffer of length n with unspecified contents.
func getScratch(n int) []float32 {
	if n == 0 {
		return nil
	}
	b := bits.Len(uint(n - 1))
	if p, ok := scratchPools[b].Get().(*[]float32); ok {
		return (*p)[:n]
	}
	return make([]float32, n, 1<<b)
}

// putScratch returns buffers from getScratch for reuse; the caller must not
// touch them afterwards.
func putScratch(bufs ...[]float32) {
	for _, s := range bufs {
		c := cap(s)
		if c == 0 || c&(c-1) != 0 {
			continue // not from getScratch
		}
		s = s[:c]
		scratchPools[bits.Len(uint(c-1))].Put(&s)
	}
}
