package server

import (
	"context"
	"sync/atomic"
)

// limiter bounds the scoring of one model: slots requests score at once,
// at most maxQueue wait for a slot, and any more are refused at once. It
// is kept per model name across reloads, so that a reload does not reset
// the bound while old requests still score.
type limiter struct {
	slots    chan struct{}
	queued   atomic.Int64
	maxQueue int64
}

// limiterFor returns the model's limiter, making it on first use.
func (s *Server) limiterFor(name string) *limiter {
	if l, ok := s.limiters.Load(name); ok {
		return l.(*limiter)
	}
	l, _ := s.limiters.LoadOrStore(name, &limiter{slots: make(chan struct{}, s.opt.MaxInFlight), maxQueue: int64(s.opt.MaxQueue)})
	return l.(*limiter)
}

// acquire takes a scoring slot for the model, waiting in its queue when
// every slot is busy and the queue has room, and returns the function that
// gives the slot back. A full queue is answered at once (503, Retry-After);
// a wait ends with ctx.
func (s *Server) acquire(ctx context.Context, name string) (func(), error) {
	l := s.limiterFor(name)
	inflight := s.metrics.inFlight.WithLabelValues(name)
	release := func() {
		<-l.slots
		inflight.Dec()
	}
	select {
	case l.slots <- struct{}{}:
		inflight.Inc()
		return release, nil
	default:
	}
	queued := s.metrics.queued.WithLabelValues(name)
	if l.queued.Add(1) > l.maxQueue {
		l.queued.Add(-1)
		s.metrics.shed.WithLabelValues(name).Inc()
		return nil, s.busy("model %s is at its limit of %d requests scoring and %d waiting; retry shortly", name, cap(l.slots), l.maxQueue)
	}
	queued.Inc()
	defer func() {
		l.queued.Add(-1)
		queued.Dec()
	}()
	select {
	case l.slots <- struct{}{}:
		inflight.Inc()
		return release, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
