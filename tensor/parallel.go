package tensor

import (
	"runtime"
	"sync"
)

// parallelFor splits [0, n) into contiguous chunks of at least grain items
// and runs fn on each chunk, using up to GOMAXPROCS goroutines. Small ranges
// run inline so tiny tensors pay no scheduling cost.
func parallelFor(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	workers := runtime.GOMAXPROCS(0)
	if grain < 1 {
		grain = 1
	}
	if w := n / grain; w < workers {
		workers = w
	}
	if workers <= 1 {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	chunk := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += chunk {
		hi := min(lo+chunk, n)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	wg.Wait()
}

// elementGrain is the smallest per-goroutine share of an element-wise loop.
const elementGrain = 1 << 16
