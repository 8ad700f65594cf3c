// Package server serves oddity models over HTTP.
//
// Endpoints (JSON in and out; errors are {"error": "..."} with a 4xx or 5xx
// status, never a dropped connection):
//
//	GET  /v2                          server metadata (Open Inference Protocol)
//	GET  /v2/health/live              200 while the process runs
//	GET  /v2/health/ready             200 once models are loaded
//	GET  /v2/models/{name}            model metadata: method, input shape, threshold
//	GET  /v2/models/{name}/ready      200 if the model is loaded
//	POST /v2/models/{name}/infer      Open Inference Protocol request/response
//	POST /v1/models/{name}:score      simpler form: {"rows": [[...]]} or {"images": ["<base64 PNG/JPEG>"]}
//	GET  /v1/models                   list of models
//	GET  /metrics                     Prometheus metrics
//
// Models are the files in one folder, loaded with detector.LoadFile; a
// model's name is its file name without extension. Reload swaps the whole set
// atomically: requests in flight finish on the models they started with, new
// requests see the new set, and a folder that fails to load leaves the old set
// serving. Scoring is safe for concurrent use because detectors' Score is.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/oddity-ml/oddity/detector"
)

// Options configure a Server.
type Options struct {
	// Dir is the folder of model files.
	Dir string
	// MaxBodyBytes caps a request body (default 32 MiB).
	MaxBodyBytes int64
	// Timeout bounds one request's scoring (default 30 s).
	Timeout time.Duration
	// MaxBatch caps the samples in one request (default 100,000).
	MaxBatch int
	// Logger receives load and error messages (default slog.Default()).
	Logger *slog.Logger
	// Registry receives the metrics (default a new registry, served at /metrics).
	Registry *prometheus.Registry
}

// entry is one loaded model.
type entry struct {
	name   string
	path   string
	model  *detector.Model
	loaded time.Time
}

// Server holds the loaded models and the HTTP handler.
type Server struct {
	opt     Options
	models  atomic.Pointer[map[string]*entry]
	reload  sync.Mutex
	metrics *metrics
	mux     *http.ServeMux
}

// New loads every model in opt.Dir and returns the server. A folder that
// holds no loadable model is an error.
func New(opt Options) (*Server, error) {
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = 32 << 20
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 30 * time.Second
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 100_000
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	s := &Server{opt: opt, metrics: newMetrics(opt.Registry)}
	empty := map[string]*entry{}
	s.models.Store(&empty)
	if err := s.Reload(); err != nil {
		return nil, err
	}
	s.routes()
	return s, nil
}

// Reload reads the model folder again and swaps in the new set of models.
// On error the current models keep serving.
func (s *Server) Reload() error {
	s.reload.Lock()
	defer s.reload.Unlock()
	files, err := os.ReadDir(s.opt.Dir)
	if err != nil {
		return fmt.Errorf("server: model folder: %w", err)
	}
	next := map[string]*entry{}
	var errs []error
	for _, f := range files {
		if f.IsDir() || strings.HasPrefix(f.Name(), ".") || strings.HasSuffix(f.Name(), ".tmp") {
			continue
		}
		path := filepath.Join(s.opt.Dir, f.Name())
		name := strings.TrimSuffix(f.Name(), filepath.Ext(f.Name()))
		if _, dup := next[name]; dup {
			errs = append(errs, fmt.Errorf("%s: two model files named %q", path, name))
			continue
		}
		start := time.Now()
		m, err := detector.LoadFile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sec := time.Since(start).Seconds()
		s.metrics.loadSeconds.WithLabelValues(name).Set(sec)
		next[name] = &entry{name: name, path: path, model: m, loaded: time.Now()}
		s.opt.Logger.Info("model loaded", "name", name, "method", m.Detector.Method(), "shape", m.Schema.Shape, "seconds", sec)
	}
	if len(errs) > 0 {
		return fmt.Errorf("server: %d model file(s) failed to load, keeping the current models: %w", len(errs), errors.Join(errs...))
	}
	if len(next) == 0 {
		return fmt.Errorf("server: no model files in %s", s.opt.Dir)
	}
	s.models.Store(&next)
	s.metrics.modelsLoaded.Set(float64(len(next)))
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

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.mux }

// Run serves on addr until ctx is cancelled, then shuts down gracefully,
// letting requests in flight finish (up to grace).
func (s *Server) Run(ctx context.Context, addr string, grace time.Duration, ready func(addr string)) error {
	srv := &http.Server{
		Addr:              addr,
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.opt.Timeout + 10*time.Second,
		WriteTimeout:      s.opt.Timeout + 10*time.Second,
		IdleTimeout:       120 * time.Second,
	}
	ln, err := listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
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

// apiError is an error with an HTTP status.
type apiError struct {
	status int
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, a ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, a...)}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) int {
	status := http.StatusInternalServerError
	var ae *apiError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		status = ae.status
	case errors.As(err, &mbe):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, context.DeadlineExceeded):
		status = http.StatusServiceUnavailable
	case errors.Is(err, detector.ErrSchema):
		status = http.StatusBadRequest
	}
	writeJSON(w, status, map[string]string{"error": err.Error()})
	return status
}
