package server

import (
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oddity-ml/oddity/data"
)

// Dynamic batching (Options.BatchMax, BatchDelay), for image models.
//
// A network scores 64 images in one call much faster than in 64 calls of
// one: each call pays for building the graph of layers, for the im2col
// buffers, and for reading every weight matrix from memory, and a
// one-image convolution is a thin matrix product that keeps the cores'
// arithmetic units half idle. So, as Triton's dynamic batcher does,
// requests to the same model version that arrive together are joined
// into one Score call and the scores split back. Image detectors score
// each image independently of the others in its call (BatchNorm runs on
// its stored statistics), so a batched request gets the scores it would
// get alone; tables are not batched, their detectors costing the same per
// row whatever the call.
//
// The first request to find no batch open opens one and leads it: it
// waits until the batch holds BatchMax samples or BatchDelay has passed,
// then waits for the model version to be free: at most BatchInstances
// batches of one version score at once (default 1, as a Triton model
// with one instance), because one batched Score call already spreads over
// the cores (the kernels' matrix products run in parallel) and a second
// one would only compete with it, while waiting lets the next batch grow.
// The batch stays open all this while, so under load batches fill up
// whatever the delay; a request that does not fit closes the batch and
// opens the next. Then the leader takes one of the model's scoring slots
// (the limiter of shed.go, which thus counts batches, not requests), scores
// the batch and hands each member its scores; the member checks them as
// an unbatched request does, so a non-finite score fails only the request
// whose row it is. If the batched call fails as a whole, each member is
// scored alone within the same slot, so that an error lands only on the
// request that causes it.
//
// Bounds: a batch holds at most BatchMax samples (a larger request is
// scored alone, as without batching, under the model's limiter); at most
// MaxQueue batches wait for the version to be free (a batch beyond them
// is refused, all its members answered 503 with Retry-After, as the
// limiter refuses a request), so at most (BatchInstances + MaxQueue +
// 1)·BatchMax samples wait or score per model version. A request that
// waits longer than the server's Timeout is answered 503 as any other.

// batcher coalesces the requests of one model version.
type batcher struct {
	s     *Server
	e     *entry
	max   int
	delay time.Duration
	// instances holds a token per batch scoring (BatchInstances places);
	// waiting counts the batches waiting for one.
	instances chan struct{}
	waiting   atomic.Int64

	mu   sync.Mutex
	open *batch // the batch taking requests, or nil
}

// batch is requests scored in one call.
type batch struct {
	reqs []*batchReq
	n    int // samples
	// full is closed when the batch takes no more requests.
	full   chan struct{}
	closed bool
}

// batchReq is one request in a batch.
type batchReq struct {
	ctx    context.Context
	ds     *data.Dataset
	scores []float64
	err    error
	done   chan struct{}
}

// newBatcher returns e's batcher, or nil when e is not batched: batching
// is off, or e is not an image model.
func (s *Server) newBatcher(e *entry) *batcher {
	if s.opt.BatchMax <= 0 || len(e.model.Schema.Shape) < 2 || e.pipe != nil {
		return nil
	}
	return &batcher{s: s, e: e, max: s.opt.BatchMax, delay: s.opt.BatchDelay, instances: make(chan struct{}, s.opt.BatchInstances)}
}

// scoreOn scores ds with e's model within the model's load limits: in a
// batch with other requests when e is batched, else alone.
func (s *Server) scoreOn(ctx context.Context, e *entry, ds *data.Dataset) ([]float64, error) {
	if e.batch != nil {
		return e.batch.submit(ctx, ds)
	}
	release, err := s.acquire(ctx, e.name)
	if err != nil {
		return nil, err
	}
	defer release()
	return e.model.Score(ctx, ds)
}

// close stops the batch taking requests; b.mu is held.
func (g *batch) close() {
	if !g.closed {
		g.closed = true
		close(g.full)
	}
}

// submit scores ds in a batch and returns its scores, or the error of its
// batch (or its own, when the batch was scored member by member).
func (b *batcher) submit(ctx context.Context, ds *data.Dataset) ([]float64, error) {
	if ds.N >= b.max {
		return b.alone(ctx, ds)
	}
	req := &batchReq{ctx: ctx, ds: ds, done: make(chan struct{})}
	b.mu.Lock()
	g := b.open
	lead := false
	if g == nil || g.n+ds.N > b.max {
		if g != nil {
			g.close()
		}
		g = &batch{full: make(chan struct{})}
		b.open = g
		lead = true
	}
	g.reqs = append(g.reqs, req)
	g.n += ds.N
	if g.n >= b.max {
		g.close()
		b.open = nil
	}
	b.mu.Unlock()
	if lead {
		b.lead(ctx, g)
	}
	select {
	case <-req.done:
		return req.scores, req.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// alone scores a request too large to share a batch.
func (b *batcher) alone(ctx context.Context, ds *data.Dataset) ([]float64, error) {
	release, err := b.s.acquire(ctx, b.e.name)
	if err != nil {
		return nil, err
	}
	defer release()
	b.s.extra.observeBatch(b.e.name, 1, ds.N)
	return b.e.model.Score(ctx, ds)
}

// lead runs batch g: it waits for g to fill or for the delay, then for
// the model version to be free and for a scoring slot, stops g taking
// requests, scores it and answers its members. The waits are under a
// context that ignores the leader's cancellation (the other members still
// want their scores) but keeps the server's timeout.
func (b *batcher) lead(ctx context.Context, g *batch) {
	t := time.NewTimer(b.delay)
	select {
	case <-g.full:
	case <-t.C:
	}
	t.Stop()
	bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.s.opt.Timeout)
	defer cancel()
	free, err := b.instance(bctx)
	var release func()
	if err == nil {
		defer free()
		release, err = b.s.acquire(bctx, b.e.name)
	}
	b.mu.Lock()
	g.close()
	if b.open == g {
		b.open = nil
	}
	reqs := g.reqs
	b.mu.Unlock()
	if err != nil {
		for _, r := range reqs {
			r.err = err
			close(r.done)
		}
		return
	}
	defer release()
	b.score(bctx, reqs)
}

// instance waits until fewer than BatchInstances batches of the version
// score, and returns the function that frees the place. With MaxQueue
// batches waiting already, it refuses at once (503, Retry-After).
func (b *batcher) instance(ctx context.Context) (func(), error) {
	free := func() { <-b.instances }
	select {
	case b.instances <- struct{}{}:
		return free, nil
	default:
	}
	if b.waiting.Add(1) > int64(b.s.opt.MaxQueue) {
		b.waiting.Add(-1)
		b.s.metrics.shed.WithLabelValues(b.e.name).Inc()
		return nil, b.s.busy("model %s has %d batches waiting to score; retry shortly", b.e.name, b.s.opt.MaxQueue)
	}
	defer b.waiting.Add(-1)
	select {
	case b.instances <- struct{}{}:
		return free, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// score scores the members still waiting, together, and answers every
// member. A panic in the detector answers the members that have no
// answer yet with an internal error (the leader's handler would recover
// its own, but the others would wait for their timeout).
func (b *batcher) score(ctx context.Context, reqs []*batchReq) {
	defer func() {
		if p := recover(); p != nil {
			b.s.opt.Logger.Error("panic while scoring a batch", "model", b.e.name, "version", b.e.ver, "panic", p, "stack", string(debug.Stack()))
			for _, r := range reqs {
				if !isClosed(r.done) {
					r.err = fmt.Errorf("panic while scoring a batch: %v", p)
					close(r.done)
				}
			}
		}
	}()
	live := reqs[:0:0]
	n := 0
	for _, r := range reqs {
		if err := r.ctx.Err(); err != nil {
			// Gone (client closed, or timed out): not worth scoring.
			r.err = err
			close(r.done)
			continue
		}
		live = append(live, r)
		n += r.ds.N
	}
	if len(live) == 0 {
		return
	}
	b.s.extra.observeBatch(b.e.name, len(live), n)
	if len(live) == 1 {
		r := live[0]
		r.scores, r.err = b.e.model.Score(ctx, r.ds)
		close(r.done)
		return
	}
	shape := b.e.model.Schema.Shape
	ds := &data.Dataset{Name: b.e.name, N: n, Shape: shape, X: make([]float32, 0, n*sampleDim(shape))}
	for _, r := range live {
		ds.X = append(ds.X, r.ds.X...)
	}
	scores, err := b.e.model.Score(ctx, ds)
	if err != nil || len(scores) != n {
		// One request may have caused it: score each alone, so that the
		// error is its own.
		if err == nil {
			err = fmt.Errorf("model %s gave %d scores for %d samples", b.e.name, len(scores), n)
		}
		b.s.opt.Logger.Warn("batched scoring failed; scoring its requests one by one", "model", b.e.name, "requests", len(live), "err", err)
		for _, r := range live {
			r.scores, r.err = b.e.model.Score(ctx, r.ds)
			close(r.done)
		}
		return
	}
	off := 0
	for _, r := range live {
		r.scores = scores[off : off+r.ds.N : off+r.ds.N]
		off += r.ds.N
		close(r.done)
	}
}

// isClosed reports whether c is closed.
func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// extraMetrics are the metrics of versions, watching and batching.
type extraMetrics struct {
	versionsLoaded prometheus.Gauge
	watchReloads   prometheus.Counter
	batchSamples   *prometheus.HistogramVec
	batchRequests  *prometheus.HistogramVec
}

func newExtraMetrics(reg *prometheus.Registry) *extraMetrics {
	m := &extraMetrics{
		versionsLoaded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "oddity_model_versions_loaded",
			Help: "Model versions currently served, all models together."}),
		watchReloads: prometheus.NewCounter(prometheus.CounterOpts{Name: "oddity_watch_reloads_total",
			Help: "Reloads started by a change in the watched model folder."}),
		batchSamples: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "oddity_batch_samples",
			Help:    "Samples per Score call of a batched model (dynamic batching).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 12)}, []string{"model"}),
		batchRequests: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "oddity_batch_requests",
			Help:    "Requests per Score call of a batched model (dynamic batching).",
			Buckets: prometheus.ExponentialBuckets(1, 2, 10)}, []string{"model"}),
	}
	reg.MustRegister(m.versionsLoaded, m.watchReloads, m.batchSamples, m.batchRequests)
	return m
}

// observeBatch records one batched Score call.
func (m *extraMetrics) observeBatch(model string, requests, samples int) {
	m.batchRequests.WithLabelValues(model).Observe(float64(requests))
	m.batchSamples.WithLabelValues(model).Observe(float64(samples))
}
