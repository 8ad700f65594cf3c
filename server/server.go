// Package server serves oddity models over HTTP.
//
// Endpoints (JSON in and out; errors are {"error": "...", "request_id":
// "..."} with a 4xx or 5xx status, never a dropped connection):
//
//	GET  /v2                          server metadata (Open Inference Protocol)
//	GET  /v2/health/live              200 while the process runs (no token needed)
//	GET  /v2/health/ready             200 once models are loaded, 503 while draining (no token needed)
//	GET  /v2/models                   the loaded models: name, versions, state, method
//	POST /v2/repository/index         every model version and its state (Triton's repository index)
//	GET  /v2/models/{name}            model metadata: method, versions, inputs, outputs, threshold
//	GET  /v2/models/{name}/ready      200 if the model is loaded
//	POST /v2/models/{name}/infer      Open Inference Protocol request/response
//	...  /v2/models/{name}/versions/{n}[/ready|/infer]   the same for version n
//	POST /v1/models/{name}:score      {"rows": [[...]]}, {"records": [{...}]} or {"images": ["<base64 PNG/JPEG>"]}
//	POST /v1/models/{name}:explain    the same body; attributions per feature (or per column)
//	GET  /v1/models                   list of model names
//	GET  /metrics                     Prometheus metrics
//
// # Inputs
//
// Every model takes its samples as numbers: on /v2 one input tensor (any
// name; "input" in the metadata) of shape [N, ...sample shape] or [N, k],
// as JSON data or in the binary tensor extension; on /v1 "rows", an array
// of arrays of numbers, or "images", base64 PNG or JPEG files decoded to
// the model's channels and size. A null among numbers is an error naming
// its row and position, as in oddity score: no model fills a missing
// value unless it has a table pipeline.
//
// A model trained on a table (oddity train on a CSV or Parquet file) stores
// its fitted table pipeline (package data/table), and also takes raw
// records with named fields, encoded exactly as in training:
//
//   - /v1: {"records": [{"amount": 12.5, "country": "FR"}, ...]}, one JSON
//     object per row;
//   - /v2: one input per column, named by the column, each of shape [N]
//     (or [N, 1]) with datatype BYTES for text, FP64/FP32/INT* for
//     numbers, BOOL for booleans, as KServe's v2 protocol sends tabular
//     data. An input named "input" instead carries rows already encoded
//     (the pipeline's output features, in order).
//
// Fields are matched by name, in any order. A field absent from a record,
// null or an empty string is a missing cell, filled as in training (the
// training median or most frequent value, plus the missing-indicator
// feature where training had missing cells); a pipeline column absent from
// every record is noted. Fields the pipeline does not know are ignored with
// a note; a category not seen in training is encoded as "other", never an
// error. A value that does not fit its column's kind (text in a numeric
// column, an object or array anywhere) is a 400 naming the record (counted
// from 0) and the field. Identifier columns are carried to the response:
// on /v1 under "ids", on /v2 as BYTES outputs named by the column.
//
// # Outputs
//
// Every scoring response has the score of each sample (higher is more
// anomalous) and its flag under the model's threshold rule ("anomaly": the
// score is above the model's threshold, which for an alpha rule is
// exactly p ≤ alpha). A model trained with calibration also gives each
// sample its conformal p-value ("p_value" on /v2, "p_values" on /v1):
// (1 + #{calibration scores ≥ s}) / (n + 1). Responses carry notes from
// the pipeline (/v1 "notes", /v2 parameters.notes). On /v2 a request that
// lists "outputs" gets exactly those, in that order; "attributions" (FP64,
// [N, features]) and "top_features" (BYTES, [N, k]) are computed only when
// asked for, since they cost many scorings per sample.
//
// A score that is NaN or infinite is never an answer: the request fails
// with 422 Unprocessable Content and a message naming the rows (counted
// from 0). Such scores come from inputs far outside what the model was
// trained on (values of 1e25 overflow a network's activations), so the
// same request would fail again: it is not a server fault (5xx), and it
// is not counted as scored samples.
//
// # Limits and faults
//
// Memory is bounded by configuration, never by what a request claims: a
// body larger than Options.MaxBodyBytes is refused (413) before it is
// read, even when its Content-Length says so; a body is read in growing
// steps as its bytes arrive, and the bytes of all bodies held at once are
// bounded by Options.MaxBodyMemory (beyond it 503 with Retry-After).
// Scoring is bounded per model: at most Options.MaxInFlight requests score
// at once and Options.MaxQueue wait; a request beyond both is answered
// 503 with Retry-After at once, not after a timeout. In-flight and queued
// counts are metrics. Client faults are 4xx (a body cut short or too slow:
// 400 or 408; a wrong method: 405 with Allow) with messages that say
// nothing of the host; a server fault is a 500 whose message names only
// the request id, the detail going to the log.
//
// Every response has an X-Request-Id header: the client's, when it sent a
// usable one (at most 128 printable ASCII characters), else a generated
// one. Error bodies and /v1 responses carry it too, the /v2 response's
// "id" defaults to it, and the log lines of a request name it.
//
// # Security
//
// With Options.TokenFile, every endpoint but the two health endpoints
// needs an "Authorization: Bearer TOKEN" header with one of the file's
// tokens (401 otherwise), compared in constant time. With Options.TLSCert
// and TLSKey the server speaks HTTPS only (TLS 1.2 or later); with
// Options.TLSClientCA it also requires client certificates signed by that
// CA. Run refuses to listen on an address that is not loopback unless both
// TLS and tokens are configured or Options.InsecureListen is set.
//
// # Models
//
// Models are the files in one folder, loaded with detector.LoadFile: a
// file NAME.EXT is model NAME (version 1), a folder NAME/ of files
// N.EXT holds the versions N of model NAME; paths without a version mean
// the latest (see versions.go). Reload reads the folder again and swaps
// the whole set atomically: requests in flight finish on the models they
// started with, new requests see the new set. It runs on SIGHUP (oddity
// serve) and, with Options.Watch, when files in the folder change (see
// watch.go). A file that fails to load is skipped with a log line and a
// metric (oddity_model_load_failures_total) and the rest load; if that
// version of the model was already serving, its previous file keeps
// serving. Unchanged files are not read again. Scoring is safe for
// concurrent use because detectors' Score is.
//
// With Options.BatchMax, concurrent requests to one image model (the same
// version) are scored together, as Triton's dynamic batcher does (see
// batch.go).
//
// # gRPC
//
// RunGRPC (and GRPCServer) serve the same models over the Open Inference
// Protocol's gRPC service, through the same core as /v2 (core.go): the
// same checks, limits, tokens, TLS and numbers (see grpc.go).
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
)

// Options configure a Server. Zero fields take the defaults given.
type Options struct {
	// Dir is the folder of model files.
	Dir string
	// MaxBodyBytes caps a request body (default 32 MiB). A body that
	// declares more is refused before any of it is read.
	MaxBodyBytes int64
	// MaxBodyMemory caps the bytes of request body buffers held in
	// memory at once, over all requests (default 256 MiB). A body's
	// buffer doubles as its bytes arrive and the outgrown buffers count
	// until the request ends, so one body of MaxBodyBytes takes up to
	// twice that: MaxBodyMemory is raised to at least 2·MaxBodyBytes. A
	// request whose body would pass it is answered 503 with Retry-After.
	MaxBodyMemory int64
	// Timeout bounds one request's scoring, queueing included (default
	// 30 s).
	Timeout time.Duration
	// MaxBatch caps the samples in one request (default 100,000).
	MaxBatch int
	// MaxExplainRows caps the samples one request may ask explanations
	// for (default DefaultMaxExplainRows): each costs from one to
	// thousands of scorings.
	MaxExplainRows int
	// MaxInFlight caps the requests scoring at once on one model (default
	// GOMAXPROCS).
	MaxInFlight int
	// MaxQueue caps the requests waiting to score on one model (default
	// 256; negative: none wait, a request finding every slot busy is
	// refused at once).
	MaxQueue int
	// RetryAfter is the Retry-After a refused request is told (default
	// 1 s; whole seconds).
	RetryAfter time.Duration
	// TokenFile, when set, names a file of bearer tokens, one a line
	// (blank lines and lines starting with # are skipped); every endpoint
	// but the health endpoints then needs one of them. Reload reads it
	// again.
	TokenFile string
	// TLSCert and TLSKey, when set, are PEM files of the server's
	// certificate (chain) and key: Run then serves HTTPS. Reload reads
	// them again.
	TLSCert, TLSKey string
	// TLSClientCA, when set, is a PEM file of the CA certificates that
	// sign client certificates; Run then requires one.
	TLSClientCA string
	// InsecureListen lets Run listen on a non-loopback address without
	// TLS and tokens.
	InsecureListen bool
	// DrainDelay is how long Run keeps serving, readiness false, after it
	// is told to stop and before it stops accepting connections, so that
	// load balancers see the readiness change first (default 0).
	DrainDelay time.Duration
	// Watch makes Run reload the model folder when files in it change
	// (created, written, renamed, removed), besides Reload calls and
	// SIGHUP; changes are gathered for WatchDelay before the reload.
	Watch bool
	// WatchDelay is how long the folder must be quiet before a watched
	// change reloads it (default DefaultWatchDelay), so that a file being
	// copied in is not read half-written. Atomic renames (write a hidden
	// or .tmp file, rename it into place) need no delay at all.
	WatchDelay time.Duration
	// BatchMax, when positive, turns dynamic batching on for image models:
	// requests to one model version arriving together are scored in one
	// call of up to BatchMax samples (a request larger than that is scored
	// alone). 0 (the default) scores every request by itself.
	BatchMax int
	// BatchDelay is the longest a request waits for others to join its
	// batch when a scoring slot is free (default DefaultBatchDelay when
	// BatchMax is set). While every slot is busy a batch keeps filling
	// until one frees, whatever the delay.
	BatchDelay time.Duration
	// BatchInstances caps the batches of one model version scoring at
	// once (default 1: one batched call already uses every core, and the
	// next batch grows while it runs).
	BatchInstances int
	// Logger receives load and error messages (default slog.Default()).
	Logger *slog.Logger
	// Registry receives the metrics (default a new registry, served at /metrics).
	Registry *prometheus.Registry
}

// Defaults of Options.
const (
	DefaultMaxBodyBytes  = 32 << 20
	DefaultMaxBodyMemory = 256 << 20
	DefaultMaxQueue      = 256
	// DefaultWatchDelay is the default Options.WatchDelay.
	DefaultWatchDelay = 500 * time.Millisecond
	// DefaultBatchDelay is the default Options.BatchDelay.
	DefaultBatchDelay = 2 * time.Millisecond
)

// entry is one loaded version of a model.
type entry struct {
	name string
	// ver is the version (1 for a model file outside a version folder).
	ver   int
	path  string
	model *detector.Model
	// pipe is the model's table pipeline, or nil.
	pipe   *table.Pipeline
	loaded time.Time
	// info identifies the file loaded, so that Reload skips it when it is
	// unchanged.
	info fs.FileInfo
	// versions are all the loaded versions of the model, ascending, this
	// one included; every entry of a set shares the slice.
	versions []*entry
	// batch coalesces the model version's requests, or is nil (batching
	// off, or not an image model).
	batch *batcher
}

// Server holds the loaded models and the HTTP handler.
type Server struct {
	opt Options
	// models maps each model name to its latest version's entry (whose
	// versions field has the others).
	models atomic.Pointer[map[string]*entry]
	// down lists the versions whose files failed to load and that have
	// nothing serving in their place.
	down    atomic.Pointer[[]unavailable]
	extra   *extraMetrics
	reload  sync.Mutex
	metrics *metrics
	mux     *http.ServeMux
	handler http.Handler

	limiters sync.Map // model name → *limiter
	bodies   budget   // bytes of request bodies held
	// gcDebt counts large body buffers dropped since the last forced
	// collection; gcRunning says one is under way (see dropped).
	gcDebt    atomic.Int64
	gcRunning atomic.Bool
	draining  atomic.Bool

	tokens atomic.Pointer[tokenSet]
	cert   atomic.Pointer[tls.Certificate]
}

// New loads every model in opt.Dir and returns the server. Files that fail
// to load are skipped (logged, counted); it is an error when the folder
// cannot be read or no model in it loads, and when the token file or TLS
// files cannot be read.
func New(opt Options) (*Server, error) {
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opt.MaxBodyMemory <= 0 {
		opt.MaxBodyMemory = DefaultMaxBodyMemory
	}
	opt.MaxBodyMemory = max(opt.MaxBodyMemory, 2*opt.MaxBodyBytes+2*firstChunk)
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 100_000
	}
	if opt.MaxExplainRows <= 0 {
		opt.MaxExplainRows = DefaultMaxExplainRows
	}
	if opt.MaxInFlight <= 0 {
		opt.MaxInFlight = runtime.GOMAXPROCS(0)
	}
	switch {
	case opt.MaxQueue == 0:
		opt.MaxQueue = DefaultMaxQueue
	case opt.MaxQueue < 0:
		opt.MaxQueue = 0
	}
	if opt.RetryAfter <= 0 {
		opt.RetryAfter = time.Second
	}
	if opt.WatchDelay <= 0 {
		opt.WatchDelay = DefaultWatchDelay
	}
	if opt.BatchMax < 0 {
		opt.BatchMax = 0
	}
	if opt.BatchMax > 0 && opt.BatchDelay <= 0 {
		opt.BatchDelay = DefaultBatchDelay
	}
	if opt.BatchInstances <= 0 {
		opt.BatchInstances = 1
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	if (opt.TLSCert == "") != (opt.TLSKey == "") {
		return nil, errors.New("server: TLS needs both a certificate and a key")
	}
	if opt.TLSClientCA != "" && opt.TLSCert == "" {
		return nil, errors.New("server: client certificates (TLSClientCA) need TLS (TLSCert and TLSKey)")
	}
	s := &Server{opt: opt, metrics: newMetrics(opt.Registry), extra: newExtraMetrics(opt.Registry)}
	s.bodies.max = opt.MaxBodyMemory
	empty := map[string]*entry{}
	s.models.Store(&empty)
	if err := s.loadSecrets(); err != nil {
		return nil, err
	}
	if err := s.Reload(); err != nil && len(s.Models()) == 0 {
		return nil, err
	}
	s.routes()
	return s, nil
}

// loadSecrets reads the token file and the TLS key pair.
func (s *Server) loadSecrets() error {
	if s.opt.TokenFile != "" {
		ts, err := readTokens(s.opt.TokenFile)
		if err != nil {
			return err
		}
		s.tokens.Store(ts)
	}
	if s.opt.TLSCert != "" {
		c, err := tls.LoadX509KeyPair(s.opt.TLSCert, s.opt.TLSKey)
		if err != nil {
			return fmt.Errorf("server: TLS key pair: %w", err)
		}
		s.cert.Store(&c)
	}
	return nil
}

// Models returns the names of the loaded models, sorted.
func (s *Server) Models() []string {
	m := *s.models.Load()
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (s *Server) lookup(name string) (*entry, bool) {
	e, ok := (*s.models.Load())[name]
	return e, ok
}

// Handler returns the HTTP handler (request ids, authentication and
// routing; Run adds TLS).
func (s *Server) Handler() http.Handler { return s.handler }

// Draining reports whether the server is shutting down (readiness false).
func (s *Server) Draining() bool { return s.draining.Load() }

// Run serves on addr until ctx is cancelled, then drains: readiness turns
// false, DrainDelay passes, and the server shuts down gracefully, letting
// requests in flight finish (up to grace). ready, when not nil, is called
// with the address listened on. Run refuses a non-loopback address unless
// TLS and tokens are configured or Options.InsecureListen is set. With
// Options.Watch it also watches the model folder (Watch) while it serves.
func (s *Server) Run(ctx context.Context, addr string, grace time.Duration, ready func(addr string)) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		// A body must arrive within ReadTimeout; the answer (reading,
		// queueing, scoring, writing) within WriteTimeout, longer, so that
		// a client too slow with its body still hears its 408.
		ReadTimeout:    s.opt.Timeout + 10*time.Second,
		WriteTimeout:   2*s.opt.Timeout + 20*time.Second,
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		// Handshake failures and the like: one line each, at debug level,
		// so that a port scan does not fill the log.
		ErrorLog: slog.NewLogLogger(s.opt.Logger.Handler(), slog.LevelDebug),
	}
	tlsConf, err := s.tlsConfig()
	if err != nil {
		return err
	}
	ln, err := s.listen(addr)
	if err != nil {
		return err
	}
	if tlsConf != nil {
		srv.TLSConfig = tlsConf
		ln = tls.NewListener(ln, tlsConf)
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	if s.opt.Watch {
		wctx, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		if err := s.Watch(wctx); err != nil {
			ln.Close()
			return err
		}
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	s.opt.Logger.Info("draining", "delay", s.opt.DrainDelay)
	if s.opt.DrainDelay > 0 {
		select {
		case <-time.After(s.opt.DrainDelay):
		case err := <-errc:
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// checkExposure refuses a listener that others can reach unless it is
// protected by TLS and tokens, or the caller said it knows.
// listen listens on addr and refuses it (closing the listener) when
// checkExposure does: the HTTP and the gRPC server share the rule.
func (s *Server) listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	if err := s.checkExposure(ln.Addr()); err != nil {
		ln.Close()
		return nil, err
	}
	return ln, nil
}

func (s *Server) checkExposure(a net.Addr) error {
	ta, ok := a.(*net.TCPAddr)
	if !ok || ta.IP.IsLoopback() || s.opt.InsecureListen {
		return nil
	}
	if s.opt.TLSCert != "" && s.opt.TokenFile != "" {
		return nil
	}
	var lack []string
	if s.opt.TLSCert == "" {
		lack = append(lack, "TLS")
	}
	if s.opt.TokenFile == "" {
		lack = append(lack, "tokens")
	}
	return fmt.Errorf("server: refusing to listen on %s, which is not a loopback address, without %s: anyone who reaches the port could use the models; configure both (--tls-cert and --tls-key, --token-file), listen on 127.0.0.1, or accept the risk with --insecure-listen (Options.InsecureListen)",
		a, strings.Join(lack, " and "))
}

// apiError is an error with an HTTP status and a message safe to show the
// client.
type apiError struct {
	status int
	msg    string
	// retry, when positive, is sent as Retry-After (seconds).
	retry int
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, a...)}
}

// busy is the error of a request refused for load: 503 with Retry-After.
func (s *Server) busy(format string, a ...any) error {
	return &apiError{status: http.StatusServiceUnavailable, msg: fmt.Sprintf(format, a...), retry: s.retrySeconds()}
}

func (s *Server) retrySeconds() int { return max(1, int((s.opt.RetryAfter+time.Second-1)/time.Second)) }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers err with its status and returns the status. Errors
// that are not the client's (status 500) are logged with the request id
// and answered without their text, which may name files of the host.
func (s *Server) writeError(w http.ResponseWriter, err error) int {
	status := http.StatusInternalServerError
	msg := ""
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		status, msg = ae.status, ae.msg
		if ae.retry > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(ae.retry))
		}
	case errors.Is(err, context.DeadlineExceeded):
		status, msg = http.StatusServiceUnavailable, fmt.Sprintf("scoring took longer than the server's limit of %v", s.opt.Timeout)
		w.Header().Set("Retry-After", strconv.Itoa(s.retrySeconds()))
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this.
		status, msg = statusClientClosed, "request cancelled"
	case errors.Is(err, detector.ErrSchema), errors.Is(err, detector.ErrInput):
		status, msg = http.StatusBadRequest, err.Error()
	}
	id := w.Header().Get(requestIDHeader)
	if status >= 500 && ae == nil {
		s.opt.Logger.Error("request failed", "request_id", id, "err", err)
		msg = "internal error; the server log has the details under request id " + id
	}
	writeJSON(w, status, map[string]string{"error": msg, "request_id": id})
	return status
}

// statusClientClosed is the status recorded when the client closed the
// connection before the answer (nginx's 499).
const statusClientClosed = 499

// sampleDim is the number of values in a sample of the shape.
func sampleDim(shape []int) int {
	k := 1
	for _, v := range shape {
		k *= v
	}
	return k
}
