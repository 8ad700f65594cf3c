package tensor

import "github.com/oddity-ml/oddity/kernels"

// parallelFor splits [0, n) into chunks of at least grain items run
// concurrently (kernels.Parallel); small ranges run inline.
func parallelFor(n, grain int, fn func(lo, hi int)) { kernels.Parallel(n, grain, fn) }

// elementGrain is the smallest per-goroutine share of an element-wise loop.
const elementGrain = 1 << 16
