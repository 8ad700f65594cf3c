package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/imagefolder"
	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
)

type metrics struct {
	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	samples      *prometheus.CounterVec
	anomalies    *prometheus.CounterVec
	nonFinite    *prometheus.CounterVec
	loadSeconds  *prometheus.GaugeVec
	loadFailures *prometheus.CounterVec
	modelsLoaded prometheus.Gauge
	inFlight     *prometheus.GaugeVec
	queued       *prometheus.GaugeVec
	shed         *prometheus.CounterVec
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
			Help: "Samples scored by model (requests answered with scores)."}, []string{"model"}),
		anomalies: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oddity_scores_above_threshold_total",
			Help: "Scored samples above the model's threshold."}, []string{"model"}),
		nonFinite: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oddity_nonfinite_scores_total",
			Help: "Samples whose score was NaN or infinite (their requests fail with 422)."}, []string{"model"}),
		loadSeconds: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oddity_model_load_seconds",
			Help: "Seconds the latest load of each model took."}, []string{"model"}),
		loadFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oddity_model_load_failures_total",
			Help: "Model files skipped because they failed to load, by model name."}, []string{"model"}),
		modelsLoaded: prometheus.NewGauge(prometheus.GaugeOpts{Name: "oddity_models_loaded",
			Help: "Models currently served."}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oddity_inflight_requests",
			Help: "Requests scoring now, by model."}, []string{"model"}),
		queued: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "oddity_queued_requests",
			Help: "Requests waiting for a scoring slot, by model."}, []string{"model"}),
		shed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oddity_shed_requests_total",
			Help: "Requests refused at once (503) because the model's slots and queue were full."}, []string{"model"}),
		reg: reg,
	}
	reg.MustRegister(m.requests, m.latency, m.samples, m.anomalies, m.nonFinite, m.loadSeconds, m.loadFailures,
		m.modelsLoaded, m.inFlight, m.queued, m.shed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// requestIDHeader names the request id header, echoed or generated.
const requestIDHeader = "X-Request-Id"

// withRequestID gives every request an id: the client's X-Request-Id when
// it is usable (1 to 128 printable ASCII characters), else a random one.
// The id is set on the response before anything else, so that every
// answer, errors included, carries it.
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !usableID(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set(requestIDHeader, id)
		next.ServeHTTP(w, r)
	})
}

func usableID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < 0x21 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// statusWriter records the status written.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// endpointFunc serves one endpoint; e is the model named in the path, nil
// for endpoints without one.
type endpointFunc func(w http.ResponseWriter, r *http.Request, e *entry) error

// Endpoint flags.
const (
	needModel = 1 << iota // the path names a model
	open                  // no token needed (health endpoints)
)

// endpoint adapts an endpoint function: it checks the token, finds the
// model, recovers from panics, writes errors as JSON, records metrics and
// logs every failed request with its id.
func (s *Server) endpoint(name string, flags int, fn endpointFunc) http.HandlerFunc {
	endpointName := name
	return func(rw http.ResponseWriter, r *http.Request) {
		name := endpointName
		start := time.Now()
		w := &statusWriter{ResponseWriter: rw}
		label := "-"
		var failure error
		defer func() {
			if p := recover(); p != nil {
				s.opt.Logger.Error("panic in handler", "request_id", rw.Header().Get(requestIDHeader), "endpoint", name, "panic", p, "stack", string(debug.Stack()))
				failure = fmt.Errorf("panic: %v", p)
				if w.code == 0 {
					s.writeError(w, failure)
				}
			}
			code := w.code
			if code == 0 {
				code = http.StatusOK
			}
			s.metrics.requests.WithLabelValues(label, name, strconv.Itoa(code)).Inc()
			s.metrics.latency.WithLabelValues(label, name).Observe(time.Since(start).Seconds())
			if failure != nil {
				level := slog.LevelInfo
				if code >= 500 {
					level = slog.LevelWarn
				}
				s.opt.Logger.Log(r.Context(), level, "request failed", "request_id", rw.Header().Get(requestIDHeader),
					"method", r.Method, "endpoint", name, "model", label, "code", code, "err", failure)
			}
		}()
		fail := func(err error) {
			failure = err
			s.writeError(w, err)
		}
		if flags&open == 0 {
			if err := s.authorize(w, r); err != nil {
				fail(err)
				return
			}
		}
		var e *entry
		if flags&needModel != 0 {
			mname := r.PathValue("name")
			if name == "v1" {
				base, verb, ok := strings.Cut(mname, ":")
				if !ok || (verb != "score" && verb != "explain") {
					fail(&apiError{status: http.StatusNotFound, msg: "unknown endpoint: use POST /v1/models/{name}:score or :explain"})
					return
				}
				mname, name = base, verb
			}
			var err error
			if e, err = s.find(mname, r.PathValue("version")); err != nil {
				fail(err)
				return
			}
			label = e.name
		}
		if err := fn(w, r, e); err != nil {
			fail(err)
		}
	}
}

// routes builds the handler. Patterns carry their method, so a known path
// with another method is a 405 (see notFound).
func (s *Server) routes() {
	mux := http.NewServeMux()
	handle := func(pattern, name string, flags int, fn endpointFunc) {
		mux.HandleFunc(pattern, s.endpoint(name, flags, fn))
	}
	handle("GET /v2", "server", 0, func(w http.ResponseWriter, _ *http.Request, _ *entry) error {
		writeJSON(w, http.StatusOK, map[string]any{"name": "oddity", "version": "1", "extensions": []string{"v1-score", "binary_tensor_data", "table-records"}})
		return nil
	})
	handle("GET /v2/health/live", "live", open, func(w http.ResponseWriter, _ *http.Request, _ *entry) error {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
		return nil
	})
	handle("GET /v2/health/ready", "ready", open, func(w http.ResponseWriter, _ *http.Request, _ *entry) error {
		if s.draining.Load() {
			return &apiError{status: http.StatusServiceUnavailable, msg: "draining: the server is shutting down"}
		}
		n := len(*s.models.Load())
		if n == 0 {
			return &apiError{status: http.StatusServiceUnavailable, msg: "no models loaded"}
		}
		writeJSON(w, http.StatusOK, map[string]any{"ready": true, "models": n})
		return nil
	})
	handle("GET /v1/models", "list", 0, func(w http.ResponseWriter, _ *http.Request, _ *entry) error {
		writeJSON(w, http.StatusOK, map[string]any{"models": s.Models()})
		return nil
	})
	handle("GET /v2/models", "repository", 0, s.repository)
	handle("POST /v2/repository/index", "repository_index", 0, s.repositoryIndex)
	// A model's endpoints, for its latest version and for version N.
	for _, base := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		handle("GET "+base, "metadata", needModel, s.metadata)
		handle("GET "+base+"/ready", "model_ready", needModel, func(w http.ResponseWriter, _ *http.Request, e *entry) error {
			if s.draining.Load() {
				return &apiError{status: http.StatusServiceUnavailable, msg: "draining: the server is shutting down"}
			}
			writeJSON(w, http.StatusOK, map[string]any{"name": e.name, "version": e.versionLabel(), "ready": true})
			return nil
		})
		handle("POST "+base+"/infer", "infer", needModel, s.infer)
	}
	handle("POST /v1/models/{name}", "v1", needModel, func(w http.ResponseWriter, r *http.Request, e *entry) error {
		if strings.HasSuffix(r.PathValue("name"), ":explain") {
			return s.explainV1(w, r, e)
		}
		return s.score(w, r, e)
	})
	prom := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	handle("GET /metrics", "metrics", 0, func(w http.ResponseWriter, r *http.Request, _ *entry) error {
		prom.ServeHTTP(w, r)
		return nil
	})
	mux.HandleFunc("/", s.notFound(mux))
	s.mux = mux
	s.handler = withRequestID(mux)
}

// methods are those notFound tries for a 405.
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// notFound answers what no pattern matched: 405 with Allow when the path
// exists for other methods, else 404.
func (s *Server) notFound(mux *http.ServeMux) http.HandlerFunc {
	return s.endpoint("unknown", open, func(w http.ResponseWriter, r *http.Request, _ *entry) error {
		var allow []string
		for _, m := range methods {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != "/" {
				allow = append(allow, m)
			}
		}
		if len(allow) > 0 {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			return &apiError{status: http.StatusMethodNotAllowed, msg: fmt.Sprintf("%s is not allowed on %s (use %s)", r.Method, r.URL.Path, strings.Join(allow, ", "))}
		}
		return &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("no endpoint %s", r.URL.Path)}
	})
}

type tensorMeta struct {
	Name     string `json:"name"`
	Datatype string `json:"datatype"`
	Shape    []int  `json:"shape"`
}

// outputNames are the outputs a model gives by default, in order.
func outputNames(e *entry) []string {
	names := []string{"score"}
	if e.model.Calibration() != nil {
		names = append(names, "p_value")
	}
	return append(names, "anomaly")
}

func (s *Server) metadata(w http.ResponseWriter, _ *http.Request, e *entry) error {
	m := e.model
	inputs := []tensorMeta{{Name: "input", Datatype: "FP32", Shape: append([]int{-1}, m.Schema.Shape...)}}
	outputs := []tensorMeta{{Name: "score", Datatype: "FP64", Shape: []int{-1}}}
	if m.Calibration() != nil {
		outputs = append(outputs, tensorMeta{Name: "p_value", Datatype: "FP64", Shape: []int{-1}})
	}
	outputs = append(outputs, tensorMeta{Name: "anomaly", Datatype: "BOOL", Shape: []int{-1}})
	params := map[string]any{
		"method": m.Detector.Method(), "threshold_rule": m.ThresholdRule, "feature_names": m.Schema.FeatureNames,
		"train_samples": m.Meta.Train, "data_hash": m.Meta.DataHash, "loaded": e.loaded.UTC().Format(time.RFC3339),
		"version": e.versionLabel(), "batching": e.batch != nil,
	}
	if c := m.Calibration(); c != nil {
		params["calibration_scores"] = c.Len()
	}
	if e.pipe != nil {
		// The table's columns are inputs too (KServe's v2 tabular form).
		sch := e.pipe.Schema()
		for _, c := range sch.Columns {
			switch c.Kind {
			case table.Numeric:
				inputs = append(inputs, tensorMeta{Name: c.Name, Datatype: "FP64", Shape: []int{-1}})
			case table.Boolean:
				inputs = append(inputs, tensorMeta{Name: c.Name, Datatype: "BOOL", Shape: []int{-1}})
			case table.Categorical, table.Timestamp:
				inputs = append(inputs, tensorMeta{Name: c.Name, Datatype: "BYTES", Shape: []int{-1}})
			case table.ID:
				inputs = append(inputs, tensorMeta{Name: c.Name, Datatype: "BYTES", Shape: []int{-1}})
				outputs = append(outputs, tensorMeta{Name: c.Name, Datatype: "BYTES", Shape: []int{-1}})
			}
		}
		params["table_columns"] = sch.Columns
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"name":       e.name,
		"versions":   e.versionNames(),
		"platform":   "oddity-" + m.Detector.Method(),
		"inputs":     inputs,
		"outputs":    outputs,
		"threshold":  m.Threshold,
		"parameters": params,
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
	// topK is the parameter top_k: how many features "top_features"
	// names per sample (0: DefaultTopK).
	topK int
	// outputs are the names of the outputs asked for, in order;
	// outputsGiven says the request had a non-null "outputs".
	outputs      []string
	outputsGiven bool
}

type inferTensor struct {
	Name     string `json:"name"`
	Shape    []int  `json:"shape"`
	Datatype string `json:"datatype"`
	// x holds the parsed "data" when it is all numbers (numeric true);
	// raw is the "data" value's JSON text (nil for binary data); hasData
	// says a non-null "data" (or binary data) was present.
	x       []float32
	raw     []byte
	numeric bool
	hasData bool
	// binarySize is the parameters' binary_data_size: the tensor's data
	// are that many bytes of the request's binary part; -1 when absent.
	binarySize int64
}

// decodeBody reads the body into v as JSON, unknown fields refused.
func (s *Server) decodeBody(r *http.Request, v any) error {
	body, release, err := s.readBody(r)
	if err != nil {
		return err
	}
	defer release()
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
	body, release, err := s.readBody(r)
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
	ans, err := s.inferCore(r.Context(), e, req)
	if err != nil {
		return err
	}
	id := req.ID
	if id == "" {
		id = w.Header().Get(requestIDHeader)
	}
	buf := responseBuffers.Get().(*[]byte)
	defer func() {
		if cap(*buf) <= maxPooledResponse {
			responseBuffers.Put(buf)
		}
	}()
	if req.binaryOutput {
		out, head := appendInferResponseBinary((*buf)[:0], e.name, e.versionLabel(), id, ans.outs, ans.notes)
		*buf = out
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set(binaryHeader, strconv.Itoa(head))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(out)
		return nil
	}
	*buf = appendInferResponse((*buf)[:0], e.name, e.versionLabel(), id, ans.outs, ans.notes)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(*buf)
	return nil
}

// wantOutputs returns the outputs to answer with: those the request
// names, in its order, or the model's defaults (identifier columns are
// added after them when the request sent any).
func (s *Server) wantOutputs(e *entry, req *inferRequest) ([]string, error) {
	if !req.outputsGiven {
		return outputNames(e), nil
	}
	avail := outputNames(e)
	var ids []string
	if e.pipe != nil {
		ids = e.pipe.IDColumns()
	}
	seen := map[string]bool{}
	for _, name := range req.outputs {
		if seen[name] {
			return nil, badRequest("output %q asked for twice", name)
		}
		seen[name] = true
		switch {
		case name == "p_value" && e.model.Calibration() == nil:
			return nil, badRequest("model %s has no calibration, so no p_value output (train it with calibration)", e.name)
		case contains(avail, name), contains(ids, name), name == "attributions", name == "top_features":
		default:
			return nil, badRequest("model %s has no output %q (it has %s)", e.name, name, strings.Join(append(append(avail, ids...), "attributions", "top_features"), ", "))
		}
	}
	return req.outputs, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// inferInput turns a request's inputs into a batch: a table's columns
// through the model's pipeline, or one tensor of numbers.
func (s *Server) inferInput(e *entry, req *inferRequest) (*encoded, error) {
	if e.pipe != nil && !(len(req.Inputs) == 1 && req.Inputs[0].Name == "input") {
		if len(req.Inputs) == 0 {
			return nil, badRequest("no inputs: send one input per column of the table, or one input named \"input\" of encoded rows")
		}
		b, err := parseColumns(req.Inputs, e.pipe, s.opt.MaxBatch)
		if err != nil {
			return nil, err
		}
		return b.encode(e.pipe, s.opt.MaxBatch)
	}
	if len(req.Inputs) != 1 {
		return nil, badRequest("want exactly one input tensor, got %d", len(req.Inputs))
	}
	in := req.Inputs[0]
	switch in.Datatype {
	case "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "":
	default:
		return nil, badRequest("input datatype %q is not numeric", in.Datatype)
	}
	if len(in.Shape) < 1 {
		return nil, badRequest("input shape %v must start with the batch size", in.Shape)
	}
	for _, v := range in.Shape {
		if v < 0 {
			return nil, badRequest("input shape %v has a negative entry", in.Shape)
		}
	}
	if !in.hasData {
		return nil, badRequest("input %q has no data", in.Name)
	}
	k := sampleDim(e.model.Schema.Shape)
	if !in.numeric {
		return nil, nonNumberError(fmt.Sprintf("input %q", in.Name), in.raw, k, e.pipe != nil)
	}
	ds, err := s.batch(e, in.x, in.Shape[0], in.Shape[1:])
	if err != nil {
		return nil, err
	}
	return &encoded{ds: ds}, nil
}

// nonNumberError locates the first value of data that is not a number:
// a null is named by its row and position (counted from 0), as oddity
// score names a null in a JSON line; anything else by its kind.
func nonNumberError(what string, raw []byte, k int, pipeline bool) error {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return badRequest("%s: data: %v", what, err)
	}
	idx := 0
	var found any
	var walk func(v any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case []any:
			for _, y := range x {
				if walk(y) {
					return true
				}
			}
			return false
		case float64:
			idx++
			return false
		}
		found = v
		return true
	}
	if !walk(v) {
		return badRequest("%s: data must be numbers", what)
	}
	row, pos := idx/max(k, 1), idx%max(k, 1)
	hint := "missing values need a model trained with a table pipeline"
	if pipeline {
		hint = "this model has a table pipeline: send records with named fields (null or absent is a missing cell)"
	}
	switch found.(type) {
	case nil:
		return badRequest("%s: row %d, position %d (counting from 0) is null: %s", what, row, pos, hint)
	case string:
		return badRequest("%s: row %d, position %d (counting from 0) is a string; the model takes numbers", what, row, pos)
	}
	return badRequest("%s: row %d, position %d (counting from 0) is %v, not a number", what, row, pos, found)
}

// maxPooledResponse is the largest response buffer kept for reuse.
const maxPooledResponse = 1 << 20

// responseBuffers recycles response bodies: a tabular batch's scores are
// tens of kilobytes of text, written once and dropped.
var responseBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 64<<10); return &b }}

// batch builds a data set of n samples from x, checking the request's sample
// shape (which may also be given flattened) against the model's schema.
func (s *Server) batch(e *entry, x []float32, n int, shape []int) (*data.Dataset, error) {
	if n > s.opt.MaxBatch {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("%d samples exceed the limit of %d per request", n, s.opt.MaxBatch)}
	}
	want := e.model.Schema.Shape
	k := sampleDim(want)
	if shape != nil {
		got := 1
		for _, v := range shape {
			if v < 0 || (v > 0 && got > len(x)/v+1) {
				return nil, badRequest("sample shape %v does not match the model's %v", shape, want)
			}
			got *= v
		}
		if got != k {
			return nil, badRequest("sample shape %v does not match the model's %v", shape, want)
		}
	}
	if len(x) != n*k {
		return nil, badRequest("%d values for %d samples of shape %v (want %d)", len(x), n, want, n*k)
	}
	if n == 0 {
		return nil, badRequest("no samples to score")
	}
	ds := &data.Dataset{Name: e.name, X: x, N: n, Shape: want}
	if err := ds.Validate(); err != nil {
		return nil, badRequest("%v", err)
	}
	return ds, nil
}

// result is what scoring a batch gives.
type result struct {
	scores  []float64
	pvalues []float64 // nil without calibration
	flags   []bool
}

// run scores a batch within the model's load limits and the server's
// timeout. A non-finite score fails the whole request with 422, naming the
// rows.
func (s *Server) run(ctx context.Context, e *entry, ds *data.Dataset) (*result, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	// Within the model's load limits, alone or in a dynamic batch (batch.go).
	scores, err := s.scoreOn(ctx, e, ds)
	if err != nil {
		return nil, err
	}
	if len(scores) != ds.N {
		return nil, fmt.Errorf("model %s gave %d scores for %d samples", e.name, len(scores), ds.N)
	}
	if err := nonFinite(e.name, scores); err != nil {
		s.metrics.nonFinite.WithLabelValues(e.name).Add(float64(countNonFinite(scores)))
		return nil, err
	}
	res := &result{scores: scores, flags: e.model.Predict(scores)}
	if e.model.Calibration() != nil {
		if res.pvalues, err = e.model.PValues(scores); err != nil {
			return nil, err
		}
	}
	above := 0
	for _, f := range res.flags {
		if f {
			above++
		}
	}
	s.metrics.samples.WithLabelValues(e.name).Add(float64(len(scores)))
	s.metrics.anomalies.WithLabelValues(e.name).Add(float64(above))
	return res, nil
}

// nonFinite returns the 422 for NaN or infinite scores, naming the rows
// (counted from 0, the first ten).
func nonFinite(model string, scores []float64) error {
	err := detector.CheckScores(scores, 0)
	if err == nil {
		return nil
	}
	return &apiError{status: http.StatusUnprocessableEntity, msg: fmt.Sprintf("model %s: %v; no scores are returned", model, err)}
}

func countNonFinite(scores []float64) int {
	n := 0
	for _, v := range scores {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			n++
		}
	}
	return n
}

// scoreRequest is the body of POST /v1/models/{name}:score.
type scoreRequest struct {
	Rows    json.RawMessage `json:"rows"`
	Records json.RawMessage `json:"records"`
	Images  []string        `json:"images"`
}

// v1Input reads a /v1 body into a batch.
func (s *Server) v1Input(r *http.Request, e *entry) (*encoded, error) {
	var req scoreRequest
	if err := s.decodeBody(r, &req); err != nil {
		return nil, err
	}
	given := 0
	for _, b := range []bool{req.Rows != nil, req.Records != nil, req.Images != nil} {
		if b {
			given++
		}
	}
	if given != 1 {
		return nil, badRequest(`give exactly one of "rows", "records" or "images"`)
	}
	shape := e.model.Schema.Shape
	switch {
	case req.Records != nil:
		if e.pipe == nil {
			return nil, badRequest("model %s has no table pipeline, so it takes \"rows\" of numbers, not records with named fields", e.name)
		}
		b, err := parseRecords(req.Records, e.pipe, s.opt.MaxBatch)
		if err != nil {
			return nil, err
		}
		return b.encode(e.pipe, s.opt.MaxBatch)
	case req.Rows != nil:
		k := sampleDim(shape)
		flat, lens, err := parseRows(req.Rows)
		if err != nil {
			return nil, rowsError(req.Rows, err, e.pipe != nil)
		}
		n := len(lens)
		if n > s.opt.MaxBatch {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("%d rows exceed the limit of %d", n, s.opt.MaxBatch)}
		}
		for i, l := range lens {
			if l != k {
				return nil, badRequest("row %d has %d values, the model takes %d (shape %v)", i, l, k, shape)
			}
		}
		ds, err := s.batch(e, flat, n, nil)
		if err != nil {
			return nil, err
		}
		return &encoded{ds: ds}, nil
	}
	if len(shape) != 3 {
		return nil, badRequest("model %q takes rows of shape %v, not images", e.name, shape)
	}
	n := len(req.Images)
	if n > s.opt.MaxBatch {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("%d images exceed the limit of %d", n, s.opt.MaxBatch)}
	}
	opt := data.Options{Grey: shape[0] == 1, Width: shape[2], Height: shape[1]}
	var x []float32
	for i, b64 := range req.Images {
		raw, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return nil, badRequest("image %d: not base64: %v", i, err)
		}
		img, err := imagefolder.Decode(fmt.Sprintf("image %d", i), raw, opt)
		if err != nil {
			return nil, badRequest("%v", err)
		}
		x = append(x, img.X...)
	}
	ds, err := s.batch(e, x, n, nil)
	if err != nil {
		return nil, err
	}
	return &encoded{ds: ds}, nil
}

// rowsError explains why "rows" did not parse: a null is named by its row
// and position (counted from 0), as oddity score names one.
func rowsError(raw []byte, err error, pipeline bool) error {
	var rows []json.RawMessage
	if json.Unmarshal(raw, &rows) != nil {
		return err
	}
	for i, row := range rows {
		var vals []any
		if json.Unmarshal(row, &vals) != nil {
			return badRequest("row %d is not an array of numbers", i)
		}
		for j, v := range vals {
			if _, ok := v.(float64); ok {
				continue
			}
			return rowNonNumber(i, j, v, pipeline)
		}
	}
	return err
}

// rowNonNumber is the error for value j of row i, which is not a number.
func rowNonNumber(i, j int, v any, pipeline bool) error {
	hint := "missing values need a model trained with a table pipeline"
	if pipeline {
		hint = "this model has a table pipeline: send \"records\" with named fields (null or absent is a missing cell)"
	}
	switch v.(type) {
	case nil:
		return badRequest("row %d, position %d (counting from 0) is null: %s", i, j, hint)
	case string:
		return badRequest("row %d, position %d (counting from 0) is a string; \"rows\" are numbers", i, j)
	}
	return badRequest("row %d, position %d (counting from 0) is not a number", i, j)
}

func (s *Server) score(w http.ResponseWriter, r *http.Request, e *entry) error {
	enc, err := s.v1Input(r, e)
	if err != nil {
		return err
	}
	res, err := s.run(r.Context(), e, enc.ds)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.v1Answer(w, e, enc, res))
	return nil
}

// v1Answer is the body of a /v1 answer: scores, p-values when the model
// is calibrated, flags, threshold, identifiers and notes.
func (s *Server) v1Answer(w http.ResponseWriter, e *entry, enc *encoded, res *result) map[string]any {
	out := map[string]any{"model": e.name, "request_id": w.Header().Get(requestIDHeader), "scores": res.scores, "anomalies": res.flags,
		"threshold": e.model.Threshold, "threshold_rule": e.model.ThresholdRule}
	if res.pvalues != nil {
		out["p_values"] = res.pvalues
	}
	if len(enc.ids) > 0 {
		ids := map[string][]string{}
		for _, id := range enc.ids {
			ids[id.Name] = id.Values
		}
		out["ids"] = ids
	}
	if len(enc.notes) > 0 {
		out["notes"] = enc.notes
	}
	return out
}
