package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// barrier is a reusable barrier for the SGEMM workers. Arrivals spin for a
// short while (the workers of one call run in lock step, so waits are short)
// and then block.
type barrier struct {
	n     int32
	count atomic.Int32
	gen   atomic.Uint32
	mu    sync.Mutex
	cond  sync.Cond
}

func newBarrier(n int) *barrier {
	b := &barrier{n: int32(n)}
	b.cond.L = &b.mu
	return b
}

func (b *barrier) wait() {
	g := b.gen.Load()
	if b.count.Add(1) == b.n {
		b.count.Store(0)
		b.mu.Lock()
		b.gen.Add(1)
		b.cond.Broadcast()
		b.mu.Unlock()
		return
	}
	for i := 0; i < 2000; i++ {
		if b.gen.Load() != g {
			return
		}
		if i >= 100 {
			runtime.Gosched()
		}
	}
	b.mu.Lock()
	for b.gen.Load() == g {
		b.cond.Wait()
	}
	b.mu.Unlock()
}
