package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/imagefolder"
)

type metrics struct {
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	samples      *prometheus.CounterVec
	anomalies    *prometheus.CounterVec
	loadSeconds  *prometheus.GaugeVec
	modelsLoaded prometheus.Gauge
	reg          *prometheus.Registry
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oddity_http_requests_total",
			Help: "HTTP requests by model, endpoint and status code."}, []string{"model", "endpoint", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "oddity_http_request_duration_seconds",
			Help:    "Request latency in seconds by model and endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 14)}, []string{"model", "endpoint"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oddity_samples_scored_total",
			Help: "Samples scored by model."}, []string{"model"}),
		anomalies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oddity_scores_above_threshold_total",
			Help: "Scored samples above the model's threshold."}, []string{"model"}),
		loadSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oddity_model_load_seconds",
			Help: "Seconds the latest load of each model took."}, []string{"model"}),
		modelsLoaded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "oddity_models_loaded",
			Help: "Models currently served."}),
		reg: reg,
	}
	reg.MustRegister(m.requests, m.latency, m.samples, m.anomalies, m.loadSeconds, m.modelsLoaded,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler adapts an endpoint function: it limits the body, recovers from
// panics, writes errors as JSON and records metrics.
func (s *Server) handler(endpoint string, fn func(w http.ResponseWriter, r *http.Request, e *entry) error, needModel bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		label := "-"
		code := http.StatusOK
		defer func() {
			if p := recover(); p != nil {
				s.opt.Logger.Error("panic in handler", "endpoint", endpoint, "panic", p)
				code = writeError(w, fmt.Errorf("internal error: %v", p))
			}
			s.metrics.requests.WithLabelValues(label, endpoint, strconv.Itoa(code)).Inc()
			s.metrics.latency.WithLabelValues(label, endpoint).Observe(time.Since(start).Seconds())
		}()
		r.Body = http.MaxBytesReader(w, r.Body, s.opt.MaxBodyBytes)
		var e *entry
		if needModel {
			name := r.PathValue("name")
			if endpoint == "score" {
				var ok bool
				if name, ok = strings.CutSuffix(name, ":score"); !ok {
					code = writeError(w, &apiError{http.StatusNotFound, "unknown endpoint: use POST /v1/models/{name}:score"})
					return
				}
			}
			var ok bool
			if e, ok = s.lookup(name); !ok {
				code = writeError(w, &apiError{http.StatusNotFound, fmt.Sprintf("no model %q (loaded: %v)", name, s.Models())})
				return
			}
			label = e.name
		}
		if err := fn(w, r, e); err != nil {
			code = writeError(w, err)
		}
	}
}

func (s *Server) routes() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v2", s.handler("server", func(w http.ResponseWriter, _ *http.Request, _ *entry) error {
		writeJSON(w, http.StatusOK, map[string]any{"name": "oddity", "version": "1", "extensions": []string{"v1-score"}})
		return nil
	}, false))
	mux.HandleFunc("GET /v2/health/live", s.handler("live", func(w http.ResponseWriter, _ *http.Request, _ *entry) error {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
		return nil
	}, false))
	mux.HandleFunc("GET /v2/health/ready", s.handler("ready", func(w http.ResponseWriter, _ *http.Request, _ *entry) error {
		n := len(*s.models.Load())
		if n == 0 {
			return &apiError{http.StatusServiceUnavailable, "no models loaded"}
		}
		writeJSON(w, http.StatusOK, map[string]any{"ready": true, "models": n})
		return nil
	}, false))
	mux.HandleFunc("GET /v1/models", s.handler("list", func(w http.ResponseWriter, _ *http.Request, _ *entry) error {
		writeJSON(w, http.StatusOK, map[string]any{"models": s.Models()})
		return nil
	}, false))
	mux.HandleFunc("GET /v2/models/{name}", s.handler("metadata", s.metadata, true))
	mux.HandleFunc("GET /v2/models/{name}/ready", s.handler("model_ready", func(w http.ResponseWriter, _ *http.Request, e *entry) error {
		writeJSON(w, http.StatusOK, map[string]any{"name": e.name, "ready": true})
		return nil
	}, true))
	mux.HandleFunc("POST /v2/models/{name}/infer", s.handler("infer", s.infer, true))
	mux.HandleFunc("POST /v1/models/{name}", s.handler("score", s.score, true))
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &apiError{http.StatusNotFound, fmt.Sprintf("no endpoint %s %s", r.Method, r.URL.Path)})
	})
	s.mux = mux
}

type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

func (s *Server) metadata(w http.ResponseWriter, _ *http.Request, e *entry) error {
	m := e.model
	writeJSON(w, http.StatusOK, map[string]any{
		"name":      e.name,
		"versions":  []string{"1"},
		"platform":  "oddity-" + m.Detector.Method(),
		"inputs":    []tensorMeta{{Name: "input", Datatype: "FP32", Shape: append([]int{-1}, m.Schema.Shape...)}},
		"outputs":   []tensorMeta{{Name: "score", Datatype: "FP64", Shape: []int{-1}}, {Name: "anomaly", Datatype: "BOOL", Shape: []int{-1}}},
		"threshold": m.Threshold,
		"parameters": map[string]any{
			"method": m.Detector.Method(), "threshold_rule": m.ThresholdRule, "feature_names": m.Schema.FeatureNames,
			"train_samples": m.Meta.Train, "data_hash": m.Meta.DataHash, "loaded": e.loaded.UTC().Format(time.RFC3339),
		},
	})
	return nil
}

// inferRequest is the Open Inference Protocol request body.
type inferRequest struct {
	ID     string        `json:"id"`
	Inputs []inferTensor `json:"inputs"`
	// binaryOutput is the request parameter binary_data_output: answer
	// with the outputs as raw bytes after a JSON header.
	binaryOutput bool
}

type inferTensor struct {
	Name     string `json:"name"`
	Shape    []int  `json:"shape"`
	Datatype string `json:"datatype"`
	// x holds the parsed "data" (decodeInfer fills it); hasData says a
	// non-null "data" was present.
	x       []float32
	hasData bool
	// binarySize is the parameters' binary_data_size: the tensor's data
	// are that many bytes of the request's binary part; -1 when absent.
	binarySize int64
}

func decodeBody(r *http.Request, v any) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("request body: %v", err)
	}
	if len(bytes.TrimLeft(body[dec.InputOffset():], " \t\r\n")) > 0 {
		return badRequest("request body: trailing data after the JSON value")
	}
	return nil
}

func (s *Server) infer(w http.ResponseWriter, r *http.Request, e *entry) error {
	body, release, err := readBody(r)
	if err != nil {
		return err
	}
	defer release()
	// The binary tensor extension: the first Inference-Header-Content-Length
	// bytes are the JSON header, the rest the tensors' raw data.
	var bin []byte
	if h := r.Header.Get(binaryHeader); h != "" {
		n, err := strconv.ParseInt(h, 10, 64)
		if err != nil || n < 0 || n > int64(len(body)) {
			return badRequest("%s: %q is not a length within the %d-byte body", binaryHeader, h, len(body))
		}
		body, bin = body[:n], body[n:]
	}
	req, err := decodeInfer(body)
	if err != nil {
		return err
	}
	if err := req.attachBinary(bin); err != nil {
		return err
	}
	if len(req.Inputs) != 1 {
		return badRequest("want exactly one input tensor, got %d", len(req.Inputs))
	}
	in := req.Inputs[0]
	switch in.Datatype {
	case "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "":
	default:
		return badRequest("input datatype %q is not numeric", in.Datatype)
	}
	if len(in.Shape) < 1 || in.Shape[0] < 0 {
		return badRequest("input shape %v must start with the batch size", in.Shape)
	}
	if !in.hasData {
		return badRequest("input %q has no data", in.Name)
	}
	ds, err := s.batch(e, in.x, in.Shape[0], in.Shape[1:])
	if err != nil {
		return err
	}
	scores, flags, err := s.run(r.Context(), e, ds)
	if err != nil {
		return err
	}
	for _, v := range scores {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("model %s produced a non-finite score", e.name)
		}
	}
	buf := responseBuffers.Get().(*[]byte)
	defer responseBuffers.Put(buf)
	if req.binaryOutput {
		out, head := appendInferResponseBinary((*buf)[:0], e.name, req.ID, scores, flags)
		*buf = out
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set(binaryHeader, strconv.Itoa(head))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return nil
	}
	*buf = appendInferResponse((*buf)[:0], e.name, req.ID, scores, flags)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(*buf)
	return nil
}

// bodyBuffers recycles request bodies of a known length; nothing decoded
// from a body keeps a reference to it.
var bodyBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// readBody reads the request body, into a recycled buffer when the client
// declared its length, and returns the function that recycles it.
func readBody(r *http.Request) ([]byte, func(), error) {
	n := r.ContentLength
	if n <= 0 || n > 1<<30 {
		b, err := io.ReadAll(r.Body)
		return b, func() {}, err
	}
	buf := bodyBuffers.Get().(*[]byte)
	if int64(cap(*buf)) < n {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	if _, err := io.ReadFull(r.Body, b); err != nil {
		bodyBuffers.Put(buf)
		return nil, nil, err
	}
	// A body longer than its declared length is an error, as io.ReadAll
	// through net/http would report.
	var one [1]byte
	if m, _ := r.Body.Read(one[:]); m > 0 {
		bodyBuffers.Put(buf)
		return nil, nil, badRequest("request body longer than its Content-Length")
	}
	return b, func() { bodyBuffers.Put(buf) }, nil
}

// responseBuffers recycles response bodies: a tabular batch's scores are
// tens of kilobytes of text, written once and dropped.
var responseBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// batch builds a data set of n samples from x, checking the request's sample
// shape (which may also be given flattened) against the model's schema.
func (s *Server) batch(e *entry, x []float32, n int, shape []int) (*data.Dataset, error) {
	if n > s.opt.MaxBatch {
		return nil, &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("%d samples exceed the limit of %d per request", n, s.opt.MaxBatch)}
	}
	want := e.model.Schema.Shape
	k := 1
	for _, v := range want {
		k *= v
	}
	if shape != nil {
		got := 1
		for _, v := range shape {
			got *= v
		}
		if got != k {
			return nil, badRequest("sample shape %v does not match the model's %v", shape, want)
		}
	}
	if len(x) != n*k {
		return nil, badRequest("%d values for %d samples of shape %v (want %d)", len(x), n, want, n*k)
	}
	ds := &data.Dataset{Name: e.name, X: x, N: n, Shape: want}
	if err := ds.Validate(); err != nil {
		return nil, badRequest("%v", err)
	}
	return ds, nil
}

func (s *Server) run(ctx context.Context, e *entry, ds *data.Dataset) ([]float64, []bool, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	scores, err := e.model.Score(ctx, ds)
	if err != nil {
		return nil, nil, err
	}
	flags := e.model.Predict(scores)
	above := 0
	for _, f := range flags {
		if f {
			above++
		}
	}
	s.metrics.samples.WithLabelValues(e.name).Add(float64(len(scores)))
	s.metrics.anomalies.WithLabelValues(e.name).Add(float64(above))
	return scores, flags, nil
}

// scoreRequest is the body of POST /v1/models/{name}:score.
type scoreRequest struct {
	Rows   json.RawMessage `json:"rows"`
	Images []string        `json:"images"`
}

func (s *Server) score(w http.ResponseWriter, r *http.Request, e *entry) error {
	var req scoreRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if (req.Rows == nil) == (req.Images == nil) {
		return badRequest(`give exactly one of "rows" or "images"`)
	}
	var x []float32
	n := 0
	shape := e.model.Schema.Shape
	if req.Rows != nil {
		flat, lens, err := parseRows(req.Rows)
		if err != nil {
			return err
		}
		n = len(lens)
		if n > s.opt.MaxBatch {
			return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("%d rows exceed the limit of %d", n, s.opt.MaxBatch)}
		}
		k := 1
		for _, v := range shape {
			k *= v
		}
		for i, l := range lens {
			if l != k {
				return badRequest("row %d has %d values, the model takes %d (shape %v)", i, l, k, shape)
			}
		}
		x = flat
	} else {
		if len(shape) != 3 {
			return badRequest("model %q takes rows of shape %v, not images", e.name, shape)
		}
		n = len(req.Images)
		if n > s.opt.MaxBatch {
			return &apiError{http.StatusRequestEntityTooLarge, fmt.Sprintf("%d images exceed the limit of %d", n, s.opt.MaxBatch)}
		}
		opt := data.Options{Grey: shape[0] == 1, Width: shape[2], Height: shape[1]}
		for i, b64 := range req.Images {
			raw, err := base64.StdEncoding.DecodeString(b64)
			if err != nil {
				return badRequest("image %d: not base64: %v", i, err)
			}
			img, err := imagefolder.Decode(fmt.Sprintf("image %d", i), raw, opt)
			if err != nil {
				return badRequest("%v", err)
			}
			x = append(x, img.X...)
		}
	}
	ds, err := s.batch(e, x, n, nil)
	if err != nil {
		return err
	}
	scores, flags, err := s.run(r.Context(), e, ds)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"model": e.name, "scores": scores, "anomalies": flags, "threshold": e.model.Threshold})
	return nil
}

func listen(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
