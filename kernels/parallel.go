package kernels

import (
	"runtime"
	"sync"
)

// Parallel is
//
//	body(0, n)
//
// with [0, n) cut into contiguous chunks of at least grain items (grain < 1
// counts as 1) that run concurrently, on at most GOMAXPROCS goroutines; the
// calling goroutine runs one chunk and Parallel returns when all have. body
// must be safe to call concurrently on disjoint ranges. With one chunk it runs
// inline, without starting a goroutine.
func Parallel(n, grain int, body func(lo, hi int)) {
	if n <= 0 {
		return
	}
	parts := min(runtime.GOMAXPROCS(0), n/max(grain, 1))
	if parts <= 1 {
		body(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Add(parts - 1)
	for i := 1; i < parts; i++ {
		lo, hi := span(n, parts, i)
		go func() {
			defer wg.Done()
			body(lo, hi)
		}()
	}
	lo, hi := span(n, parts, 0)
	body(lo, hi)
	wg.Wait()
}
