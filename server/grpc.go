package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/server/internal/inferpb"
)

// The Open Inference Protocol's gRPC service (package inference, service
// GRPCInferenceService; server/internal/inferpb/inference.proto), beside
// the HTTP endpoints and with their semantics:
//
//   - ServerLive, ServerReady: no token needed, as /v2/health/*; ready is
//     false while the server drains or has no model.
//   - ModelReady, ServerMetadata, ModelMetadata: the answers of
//     /v2/models/NAME/ready, /v2 and /v2/models/NAME (the metadata's
//     parameters and threshold become properties, JSON text unless a
//     string); an unknown model is NOT_FOUND.
//   - ModelInfer: POST /v2/models/NAME/infer, through the same core
//     (inferCore). Inputs come typed (contents in the field of their
//     datatype: fp32, fp64, int, int64, uint, uint64, bool or bytes
//     contents) or raw (raw_input_contents, one entry per input,
//     little-endian; BYTES as 4-byte lengths and bytes), the binary path.
//     The answer is raw (raw_output_contents) when the request was, typed
//     otherwise; the request parameter binary_data_output (bool) decides
//     when given. top_k (int64) is /v2's parameter; outputs select and
//     order the outputs, and explanations ("attributions",
//     "top_features") are computed only when asked for. The pipeline's
//     notes are the response parameter "notes" and an attributions
//     output's column names its parameter "features", both JSON arrays in
//     a string.
//
// Tokens travel as the metadata "authorization: Bearer TOKEN". Every call
// gets a request id: the client's "x-request-id" metadata when usable,
// else a generated one; it is sent back as header metadata, is the
// response id unless the request has its own, and names the call in the
// log. A message larger than Options.MaxBodyBytes is refused before it is
// read; a received message counts against Options.MaxBodyMemory, with the
// HTTP bodies, until its answer is sent.
//
// Errors map the HTTP statuses to gRPC codes: 400 and 422 (a non-finite
// score, the message naming the rows) INVALID_ARGUMENT, 401
// UNAUTHENTICATED, 404 NOT_FOUND, 413 (too many samples) RESOURCE_EXHAUSTED,
// 501 UNIMPLEMENTED, and 503 UNAVAILABLE: load shedding (every scoring slot
// and queue place of the model taken, or the body memory spent) and the
// server's scoring timeout are transient, so they carry a RetryInfo detail
// and the grpc-retry-pushback-ms trailer with Options.RetryAfter, and
// UNAVAILABLE is the code gRPC clients retry by convention. A server fault
// is INTERNAL with a message naming only the request id. Calls are counted
// in oddity_grpc_requests_total{model,method,code} and timed in
// oddity_grpc_request_duration_seconds; scoring metrics (samples, in
// flight, queued, shed) are shared with HTTP.

// grpcRequestIDKey is the metadata key of the request id.
const grpcRequestIDKey = "x-request-id"

// grpcService implements the generated service on a Server.
type grpcService struct {
	inferpb.UnimplementedGRPCInferenceServiceServer
	s        *Server
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// GRPCServer returns a gRPC server of the Open Inference Protocol's
// GRPCInferenceService on s's models, with s's TLS (when configured),
// tokens, limits, request ids and metrics. RunGRPC serves it; a caller
// may also serve it on a listener of its own, where the exposure check of
// RunGRPC is the caller's business.
func (s *Server) GRPCServer() (*grpc.Server, error) {
	g := &grpcService{s: s}
	var err error
	if g.requests, err = registerOrReuse(s.metrics.reg, prometheus.NewCounterVec(prometheus.CounterOpts{Name: "oddity_grpc_requests_total",
		Help: "gRPC calls by model, method and status code."}, []string{"model", "method", "code"})); err != nil {
		return nil, err
	}
	if g.latency, err = registerOrReuse(s.metrics.reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "oddity_grpc_request_duration_seconds",
		Help:    "gRPC call latency in seconds by model and method.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 14)}, []string{"model", "method"})); err != nil {
		return nil, err
	}
	opts := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(int(min(s.opt.MaxBodyBytes, math.MaxInt32))),
		grpc.ChainUnaryInterceptor(g.intercept),
		// As the HTTP server's header and idle timeouts: a connection must
		// finish its handshake within 10 s and is closed after 2 minutes
		// without calls.
		grpc.ConnectionTimeout(10 * time.Second),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 120 * time.Second}),
		grpc.ForceServerCodecV2(grpcCodec{}),
	}
	tlsConf, err := s.tlsConfig()
	if err != nil {
		return nil, err
	}
	if tlsConf != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(tlsConf)))
	}
	gs := grpc.NewServer(opts...)
	inferpb.RegisterGRPCInferenceServiceServer(gs, g)
	return gs, nil
}

// grpcCodec is gRPC's proto codec but for where a received message is
// gathered before it is decoded: gRPC's default buffer pool has sizes
// 256 B, 4, 16 and 32 KiB and 1 MiB, and zeroes the whole of a buffer it
// hands out again, so every message between 32 KiB and 1 MiB (1,000 rows
// of 20 FP32 features are 80 KB) cost clearing 1 MiB: a twelfth of the
// server's time in BenchmarkGrpcVsHTTP. grpcBuffers has every power of two
// from 4 KiB to 64 MiB, so a buffer is at most twice its message.
// (ForceServerCodecV2 is gRPC's experimental API.)
type grpcCodec struct{}

// Name is the codec's content subtype: it replaces "proto".
func (grpcCodec) Name() string { return "proto" }

// Marshal is gRPC's proto codec's.
func (grpcCodec) Marshal(v any) (mem.BufferSlice, error) {
	return encoding.GetCodecV2("proto").Marshal(v)
}

// Unmarshal decodes a message, gathered into a buffer of grpcBuffers when
// it came in several pieces. proto.Unmarshal copies what it keeps, so the
// buffer goes back to the pool at once.
func (grpcCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("grpc codec: %T is not a protocol buffers message", v)
	}
	buf := data.MaterializeToBuffer(grpcBuffers)
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}

// grpcBuffers is the pool grpcCodec gathers messages in.
var grpcBuffers = func() mem.BufferPool {
	exps := []uint8{8}
	for e := uint8(12); e <= 26; e++ {
		exps = append(exps, e)
	}
	p, err := mem.NewBinaryTieredBufferPool(exps...)
	if err != nil {
		panic(err)
	}
	return p
}()

// registerOrReuse registers c, or returns the collector already
// registered under its name (a second GRPCServer of one Server).
func registerOrReuse[C prometheus.Collector](reg *prometheus.Registry, c C) (C, error) {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if old, ok := are.ExistingCollector.(C); ok {
				return old, nil
			}
		}
		return c, fmt.Errorf("server: gRPC metrics: %w", err)
	}
	return c, nil
}

// RunGRPC serves the gRPC service on addr until ctx is cancelled, then
// drains as Run does: readiness turns false, DrainDelay passes, and the
// server stops gracefully, letting calls in flight finish (up to grace,
// after which they are cancelled). Run and RunGRPC given the same ctx stop
// together. ready, when not nil, is called with the address listened on.
// A non-loopback address is refused unless TLS and tokens are configured
// or Options.InsecureListen is set.
func (s *Server) RunGRPC(ctx context.Context, addr string, grace time.Duration, ready func(addr string)) error {
	gs, err := s.GRPCServer()
	if err != nil {
		return err
	}
	ln, err := s.listen(addr)
	if err != nil {
		return err
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	errc := make(chan error, 1)
	go func() { errc <- gs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	if s.opt.DrainDelay > 0 {
		select {
		case <-time.After(s.opt.DrainDelay):
		case err := <-errc:
			return err
		}
	}
	stopped := make(chan struct{})
	go func() { gs.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(grace):
		gs.Stop()
		<-stopped
	}
	if err := <-errc; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return err
	}
	return nil
}

// grpcIDKey is the context key of a call's request id.
type grpcIDKey struct{}

// grpcRequestID returns the call's request id (set by intercept).
func grpcRequestID(ctx context.Context) string {
	id, _ := ctx.Value(grpcIDKey{}).(string)
	return id
}

// newRequestID returns a random request id, as the HTTP server makes one.
func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// firstMD returns the first value of the metadata key, or "".
func firstMD(md metadata.MD, key string) string {
	if v := md.Get(key); len(v) > 0 {
		return v[0]
	}
	return ""
}

// intercept wraps every call as the HTTP endpoint wrapper does: it gives
// the call its request id, checks the token (but for the health calls),
// recovers from panics, turns errors into gRPC statuses, records metrics
// and logs failed calls with their id.
func (g *grpcService) intercept(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
	start := time.Now()
	method := path.Base(info.FullMethod)
	md, _ := metadata.FromIncomingContext(ctx)
	id := firstMD(md, grpcRequestIDKey)
	if !usableID(id) {
		id = newRequestID()
	}
	_ = grpc.SetHeader(ctx, metadata.Pairs(grpcRequestIDKey, id))
	ctx = context.WithValue(ctx, grpcIDKey{}, id)
	label := "-"
	if n, ok := req.(interface{ GetName() string }); ok {
		label = n.GetName()
	} else if n, ok := req.(interface{ GetModelName() string }); ok {
		label = n.GetModelName()
	}
	if _, ok := g.s.lookup(label); !ok {
		// Only loaded models name a series: unknown names would grow the
		// metrics without bound.
		label = "-"
	}
	httpStatus := http.StatusOK
	defer func() {
		if p := recover(); p != nil {
			g.s.opt.Logger.Error("panic in gRPC handler", "request_id", id, "method", method, "panic", p, "stack", string(debug.Stack()))
			resp, err = nil, fmt.Errorf("panic: %v", p)
		}
		var failure error
		if err != nil {
			failure = err
			var st *status.Status
			st, httpStatus = g.status(ctx, err, id)
			err = st.Err()
		}
		code := status.Code(err)
		g.requests.WithLabelValues(label, method, code.String()).Inc()
		g.latency.WithLabelValues(label, method).Observe(time.Since(start).Seconds())
		if failure != nil {
			level := slog.LevelInfo
			if httpStatus >= 500 {
				level = slog.LevelWarn
			}
			g.s.opt.Logger.Log(ctx, level, "gRPC call failed", "request_id", id, "method", method, "model", label, "code", code.String(), "err", failure)
		}
	}()
	if method != "ServerLive" && method != "ServerReady" {
		if err := g.authorize(md); err != nil {
			return nil, err
		}
	}
	return handler(ctx, req)
}

// authorize checks the call's bearer token when tokens are configured.
func (g *grpcService) authorize(md metadata.MD) error {
	ts := g.s.tokens.Load()
	if ts == nil {
		return nil
	}
	h := firstMD(md, "authorization")
	scheme, token, found := strings.Cut(h, " ")
	if !found || !strings.EqualFold(scheme, "Bearer") || !ts.allows(strings.TrimSpace(token)) {
		if h == "" {
			return &apiError{status: http.StatusUnauthorized, msg: "this server needs the metadata authorization: Bearer TOKEN"}
		}
		return &apiError{status: http.StatusUnauthorized, msg: "the bearer token is not accepted"}
	}
	return nil
}

// grpcCodes maps the HTTP statuses of apiError to gRPC codes.
var grpcCodes = map[int]codes.Code{
	http.StatusBadRequest:            codes.InvalidArgument,
	http.StatusUnauthorized:          codes.Unauthenticated,
	http.StatusForbidden:             codes.PermissionDenied,
	http.StatusNotFound:              codes.NotFound,
	http.StatusRequestTimeout:        codes.DeadlineExceeded,
	http.StatusRequestEntityTooLarge: codes.ResourceExhausted,
	http.StatusUnprocessableEntity:   codes.InvalidArgument,
	statusClientClosed:               codes.Canceled,
	http.StatusNotImplemented:        codes.Unimplemented,
	http.StatusServiceUnavailable:    codes.Unavailable,
}

// status turns err into the call's gRPC status, with the HTTP status the
// same error has on /v2 (for the log level). As writeError, it answers a
// server fault with the request id only, the detail going to the log.
func (g *grpcService) status(ctx context.Context, err error, id string) (*status.Status, int) {
	if st, ok := status.FromError(err); ok {
		return st, http.StatusBadRequest
	}
	httpStatus, msg, retry := http.StatusInternalServerError, "", 0
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		httpStatus, msg, retry = ae.status, ae.msg, ae.retry
	case ctx.Err() != nil:
		// The client's deadline passed or it went away: nobody reads this.
		return status.FromContextError(ctx.Err()), statusClientClosed
	case errors.Is(err, context.DeadlineExceeded):
		httpStatus, msg, retry = http.StatusServiceUnavailable, fmt.Sprintf("scoring took longer than the server's limit of %v", g.s.opt.Timeout), g.s.retrySeconds()
	case errors.Is(err, context.Canceled):
		httpStatus, msg = statusClientClosed, "request cancelled"
	case errors.Is(err, detector.ErrSchema), errors.Is(err, detector.ErrInput):
		httpStatus, msg = http.StatusBadRequest, err.Error()
	}
	code, ok := grpcCodes[httpStatus]
	if !ok {
		code = codes.Internal
	}
	if httpStatus >= 500 && ae == nil {
		g.s.opt.Logger.Error("gRPC call failed", "request_id", id, "err", err)
		code, msg = codes.Internal, "internal error; the server log has the details under request id "+id
	}
	st := status.New(code, msg)
	if retry > 0 {
		delay := time.Duration(retry) * time.Second
		if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(delay)}); err == nil {
			st = d
		}
		// The gRPC retry design's server pushback: clients with a retry
		// policy wait this long before their next attempt.
		_ = grpc.SetTrailer(ctx, metadata.Pairs("grpc-retry-pushback-ms", strconv.FormatInt(delay.Milliseconds(), 10)))
	}
	return st, httpStatus
}

// model finds the model a call names, at the version it names (absent or
// empty: the latest), as the HTTP routes find it.
func (g *grpcService) model(name string, version *string) (*entry, error) {
	v := ""
	if version != nil {
		v = *version
	}
	return g.s.find(name, v)
}

// ServerLive answers true while the process runs.
func (g *grpcService) ServerLive(context.Context, *inferpb.ServerLiveRequest) (*inferpb.ServerLiveResponse, error) {
	return &inferpb.ServerLiveResponse{Live: true}, nil
}

// ServerReady answers true once models are loaded, false while draining.
func (g *grpcService) ServerReady(context.Context, *inferpb.ServerReadyRequest) (*inferpb.ServerReadyResponse, error) {
	return &inferpb.ServerReadyResponse{Ready: !g.s.draining.Load() && len(*g.s.models.Load()) > 0}, nil
}

// ModelReady answers whether the model takes requests: false while
// draining, NOT_FOUND for a model not loaded.
func (g *grpcService) ModelReady(_ context.Context, r *inferpb.ModelReadyRequest) (*inferpb.ModelReadyResponse, error) {
	if _, err := g.model(r.GetName(), r.Version); err != nil {
		return nil, err
	}
	return &inferpb.ModelReadyResponse{Ready: !g.s.draining.Load()}, nil
}

// ServerMetadata is GET /v2's answer.
func (g *grpcService) ServerMetadata(context.Context, *inferpb.ServerMetadataRequest) (*inferpb.ServerMetadataResponse, error) {
	return &inferpb.ServerMetadataResponse{Name: "oddity", Version: "1", Extensions: []string{"v1-score", "binary_tensor_data", "table-records"}}, nil
}

// captureWriter is an http.ResponseWriter that keeps what is written, so
// that ModelMetadata can ask the HTTP metadata handler itself and the two
// transports describe a model in one place.
type captureWriter struct {
	h    http.Header
	code int
	body bytes.Buffer
}

func (c *captureWriter) Header() http.Header         { return c.h }
func (c *captureWriter) WriteHeader(code int)        { c.code = code }
func (c *captureWriter) Write(b []byte) (int, error) { return c.body.Write(b) }

// ModelMetadata is GET /v2/models/NAME's answer: name, versions, platform,
// inputs and outputs as they are; the threshold and the parameters as
// properties, each a string as it is or else its JSON text.
func (g *grpcService) ModelMetadata(ctx context.Context, r *inferpb.ModelMetadataRequest) (*inferpb.ModelMetadataResponse, error) {
	e, err := g.model(r.GetName(), r.Version)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodGet, "/v2/models/"+e.name, nil)
	if err != nil {
		return nil, err
	}
	hr.SetPathValue("name", e.name)
	hr.SetPathValue("version", e.versionLabel())
	w := &captureWriter{h: http.Header{}}
	if err := g.s.metadata(w, hr, e); err != nil {
		return nil, err
	}
	if w.code != 0 && w.code != http.StatusOK {
		return nil, fmt.Errorf("model %s: metadata answered %d: %s", e.name, w.code, w.body.String())
	}
	var doc struct {
		Name       string                     `json:"name"`
		Versions   []string                   `json:"versions"`
		Platform   string                     `json:"platform"`
		Inputs     []tensorMeta               `json:"inputs"`
		Outputs    []tensorMeta               `json:"outputs"`
		Threshold  json.RawMessage            `json:"threshold"`
		Parameters map[string]json.RawMessage `json:"parameters"`
	}
	if err := json.Unmarshal(w.body.Bytes(), &doc); err != nil {
		return nil, fmt.Errorf("model %s: metadata: %w", e.name, err)
	}
	out := &inferpb.ModelMetadataResponse{Name: doc.Name, Versions: doc.Versions, Platform: doc.Platform, Properties: map[string]string{}}
	conv := func(ts []tensorMeta) []*inferpb.ModelMetadataResponse_TensorMetadata {
		var o []*inferpb.ModelMetadataResponse_TensorMetadata
		for _, t := range ts {
			m := &inferpb.ModelMetadataResponse_TensorMetadata{Name: t.Name, Datatype: t.Datatype}
			for _, v := range t.Shape {
				m.Shape = append(m.Shape, int64(v))
			}
			o = append(o, m)
		}
		return o
	}
	out.Inputs, out.Outputs = conv(doc.Inputs), conv(doc.Outputs)
	prop := func(k string, raw json.RawMessage) {
		var s string
		if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
			out.Properties[k] = s
			return
		}
		out.Properties[k] = string(raw)
	}
	if doc.Threshold != nil {
		prop("threshold", doc.Threshold)
	}
	for k, v := range doc.Parameters {
		prop(k, v)
	}
	return out, nil
}

// ModelInfer scores with the HTTP /v2 core: the request is decoded into
// the core's form, answered by inferCore, and the answer written raw or
// typed.
func (g *grpcService) ModelInfer(ctx context.Context, in *inferpb.ModelInferRequest) (*inferpb.ModelInferResponse, error) {
	e, err := g.model(in.GetModelName(), in.ModelVersion)
	if err != nil {
		return nil, err
	}
	// The message is in memory until the answer goes: it counts against
	// the bodies' budget, as an HTTP body does.
	size := int64(proto.Size(in))
	if !g.s.bodies.take(size) {
		return nil, g.s.busy("the server holds as many request bodies as it may (%d bytes); retry shortly", g.s.opt.MaxBodyMemory)
	}
	defer func() {
		g.s.bodies.give(size)
		g.s.dropped(size)
	}()
	req, raw, err := decodeGRPCInfer(e, in)
	if err != nil {
		return nil, err
	}
	ans, err := g.s.inferCore(ctx, e, req)
	if err != nil {
		return nil, err
	}
	id := req.ID
	if id == "" {
		id = grpcRequestID(ctx)
	}
	return encodeGRPCInfer(e.name, e.versionLabel(), id, ans, raw), nil
}

// decodeGRPCInfer turns a gRPC inference request into the core's form.
// raw reports whether the answer is to be raw: the parameter
// binary_data_output when given, else whether the inputs came raw.
func decodeGRPCInfer(e *entry, in *inferpb.ModelInferRequest) (req *inferRequest, raw bool, err error) {
	req = &inferRequest{ID: in.GetId()}
	raws := in.GetRawInputContents()
	raw = len(raws) > 0
	for k, p := range in.GetParameters() {
		switch k {
		case "binary_data_output":
			v, ok := p.GetParameterChoice().(*inferpb.InferParameter_BoolParam)
			if !ok {
				return nil, false, badRequest("request parameters: binary_data_output must be a bool_param")
			}
			raw = v.BoolParam
		case "top_k":
			var k int64
			switch v := p.GetParameterChoice().(type) {
			case *inferpb.InferParameter_Int64Param:
				k = v.Int64Param
			case *inferpb.InferParameter_Uint64Param:
				k = int64(min(v.Uint64Param, math.MaxInt32))
			default:
				return nil, false, badRequest("request parameters: top_k must be an int64_param")
			}
			if k < 1 {
				return nil, false, badRequest("request parameters: top_k %d is not positive", k)
			}
			req.topK = int(min(k, math.MaxInt32))
		}
	}
	for _, o := range in.GetOutputs() {
		req.outputs = append(req.outputs, o.GetName())
	}
	req.outputsGiven = len(req.outputs) > 0
	if len(raws) > 0 && len(raws) != len(in.GetInputs()) {
		return nil, false, badRequest("%d raw_input_contents for %d inputs: give one per input, in order", len(raws), len(in.GetInputs()))
	}
	// Columns of a table need their values as text, exactly as sent;
	// a tensor of samples needs them as float32 only.
	columns := e.pipe != nil && !(len(in.GetInputs()) == 1 && in.GetInputs()[0].GetName() == "input")
	req.Inputs = make([]inferTensor, len(in.GetInputs()))
	for i, t := range in.GetInputs() {
		it := &req.Inputs[i]
		*it = inferTensor{Name: t.GetName(), Datatype: t.GetDatatype(), binarySize: -1}
		it.Shape = make([]int, len(t.GetShape()))
		for j, v := range t.GetShape() {
			if v > math.MaxInt32 || v < math.MinInt32 {
				return nil, false, badRequest("input %q: shape entry %d is out of range", it.Name, v)
			}
			it.Shape[j] = int(v)
		}
		c := t.GetContents()
		switch {
		case len(raws) > 0 && contentsLen(c) > 0:
			return nil, false, badRequest("input %q has both contents and raw_input_contents (give one or the other for all inputs)", it.Name)
		case len(raws) > 0:
			err = decodeRaw(it, raws[i], columns)
		case c != nil:
			err = decodeContents(it, c, columns)
		}
		if err != nil {
			return nil, false, err
		}
	}
	return req, raw, nil
}

// contentsLen counts the values in every field of c.
func contentsLen(c *inferpb.InferTensorContents) int {
	return len(c.GetBoolContents()) + len(c.GetIntContents()) + len(c.GetInt64Contents()) + len(c.GetUintContents()) +
		len(c.GetUint64Contents()) + len(c.GetFp32Contents()) + len(c.GetFp64Contents()) + len(c.GetBytesContents())
}

// contentsField names the InferTensorContents field of each datatype.
var contentsField = map[string]string{
	"BOOL": "bool_contents", "INT8": "int_contents", "INT16": "int_contents", "INT32": "int_contents",
	"INT64": "int64_contents", "UINT8": "uint_contents", "UINT16": "uint_contents", "UINT32": "uint_contents",
	"UINT64": "uint64_contents", "FP32": "fp32_contents", "FP64": "fp64_contents", "BYTES": "bytes_contents",
}

// decodeContents gives the input the values of its typed contents: those
// of the field its datatype names (values in any other field are an
// error, never read as something else).
func decodeContents(it *inferTensor, c *inferpb.InferTensorContents, columns bool) error {
	field, ok := contentsField[it.Datatype]
	if !ok {
		return badRequest("input %q: datatype %q has no typed contents (use one of BOOL, INT8 to INT64, UINT8 to UINT64, FP32, FP64, BYTES; FP16 only raw, and oddity reads FP32 and FP64 raw)", it.Name, it.Datatype)
	}
	lens := map[string]int{"bool_contents": len(c.GetBoolContents()), "int_contents": len(c.GetIntContents()), "int64_contents": len(c.GetInt64Contents()),
		"uint_contents": len(c.GetUintContents()), "uint64_contents": len(c.GetUint64Contents()), "fp32_contents": len(c.GetFp32Contents()),
		"fp64_contents": len(c.GetFp64Contents()), "bytes_contents": len(c.GetBytesContents())}
	for f, n := range lens {
		if f != field && n > 0 {
			return badRequest("input %q: datatype %s takes its values in %s, but %d are in %s", it.Name, it.Datatype, field, n, f)
		}
	}
	switch field {
	case "fp32_contents":
		// float32 already: the tensor's data as they are (a table column
		// writes them as float32's shortest text, as a raw FP32 column).
		it.x, it.numeric, it.hasData = c.GetFp32Contents(), true, true
	case "fp64_contents":
		v := c.GetFp64Contents()
		setNumbers(it, len(v), func(i int) float64 { return v[i] }, func(b []byte, i int) []byte { return appendCell(b, v[i]) }, columns)
	case "int_contents":
		v := c.GetIntContents()
		setNumbers(it, len(v), func(i int) float64 { return float64(v[i]) }, func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(v[i]), 10) }, columns)
	case "int64_contents":
		v := c.GetInt64Contents()
		setNumbers(it, len(v), func(i int) float64 { return float64(v[i]) }, func(b []byte, i int) []byte { return strconv.AppendInt(b, v[i], 10) }, columns)
	case "uint_contents":
		v := c.GetUintContents()
		setNumbers(it, len(v), func(i int) float64 { return float64(v[i]) }, func(b []byte, i int) []byte { return strconv.AppendUint(b, uint64(v[i]), 10) }, columns)
	case "uint64_contents":
		v := c.GetUint64Contents()
		setNumbers(it, len(v), func(i int) float64 { return float64(v[i]) }, func(b []byte, i int) []byte { return strconv.AppendUint(b, v[i], 10) }, columns)
	case "bool_contents":
		v := c.GetBoolContents()
		it.raw = appendJSONArray(nil, len(v), func(b []byte, i int) []byte { return strconv.AppendBool(b, v[i]) })
		it.hasData = true
	case "bytes_contents":
		v := c.GetBytesContents()
		it.raw = appendJSONArray(nil, len(v), func(b []byte, i int) []byte { return appendString(b, string(v[i])) })
		it.hasData = true
	}
	return nil
}

// setNumbers gives the input n numbers: as float32 samples, and, for a
// table column, also as JSON text written exactly (an FP64 or INT64 value
// reaches the pipeline unrounded, as it does from /v2's JSON).
func setNumbers(it *inferTensor, n int, at func(int) float64, text func([]byte, int) []byte, columns bool) {
	it.x = make([]float32, n)
	for i := range it.x {
		it.x[i] = float32(at(i))
	}
	it.numeric, it.hasData = true, true
	if columns {
		it.raw = appendJSONArray(nil, n, text)
	}
}

// appendJSONArray writes [e(0),e(1),...].
func appendJSONArray(b []byte, n int, e func([]byte, int) []byte) []byte {
	b = append(b, '[')
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = e(b, i)
	}
	return append(b, ']')
}

// appendCell writes v as a table cell in JSON: the number, null for NaN
// (a missing cell, as a NaN in a raw column is), infinities as the text
// the table reader is given for them.
func appendCell(b []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(b, "null"...)
	case math.IsInf(v, 0):
		return appendString(b, strconv.FormatFloat(v, 'g', -1, 64))
	}
	return appendFloat(b, v)
}

// rawSizes is the byte width of the fixed-size datatypes read raw.
var rawSizes = map[string]int{"BOOL": 1, "INT8": 1, "UINT8": 1, "INT16": 2, "UINT16": 2, "INT32": 4, "UINT32": 4, "FP32": 4, "INT64": 8, "UINT64": 8, "FP64": 8}

// decodeRaw gives the input the values of its raw_input_contents entry:
// little-endian values of its datatype, or for BYTES each element as a
// 4-byte little-endian length and its bytes.
func decodeRaw(it *inferTensor, b []byte, columns bool) error {
	if it.Datatype == "BYTES" {
		var elems [][]byte
		for off := 0; off < len(b); {
			if len(b)-off < 4 {
				return badRequest("input %q: raw BYTES element %d: %d bytes left, too few for its 4-byte length", it.Name, len(elems), len(b)-off)
			}
			n := int64(binary.LittleEndian.Uint32(b[off:]))
			off += 4
			if n > int64(len(b)-off) {
				return badRequest("input %q: raw BYTES element %d claims %d bytes, %d are left", it.Name, len(elems), n, len(b)-off)
			}
			elems = append(elems, b[off:off+int(n)])
			off += int(n)
		}
		it.raw = appendJSONArray(nil, len(elems), func(o []byte, i int) []byte { return appendString(o, string(elems[i])) })
		it.hasData = true
		return nil
	}
	w, ok := rawSizes[it.Datatype]
	if !ok {
		return badRequest("input %q: raw datatype %q is not read (use FP32, FP64, INT*, UINT*, BOOL or BYTES)", it.Name, it.Datatype)
	}
	if len(b)%w != 0 {
		return badRequest("input %q: %d raw bytes are not whole %s values of %d bytes", it.Name, len(b), it.Datatype, w)
	}
	n := len(b) / w
	le := binary.LittleEndian
	switch it.Datatype {
	case "FP32":
		it.x = make([]float32, n)
		for i := range it.x {
			it.x[i] = math.Float32frombits(le.Uint32(b[4*i:]))
		}
		it.numeric, it.hasData = true, true
	case "FP64":
		at := func(i int) float64 { return math.Float64frombits(le.Uint64(b[8*i:])) }
		setNumbers(it, n, at, func(o []byte, i int) []byte { return appendCell(o, at(i)) }, columns)
	case "BOOL":
		it.raw = appendJSONArray(nil, n, func(o []byte, i int) []byte { return strconv.AppendBool(o, b[i] != 0) })
		it.hasData = true
	case "INT64":
		at := func(i int) int64 { return int64(le.Uint64(b[8*i:])) }
		setNumbers(it, n, func(i int) float64 { return float64(at(i)) }, func(o []byte, i int) []byte { return strconv.AppendInt(o, at(i), 10) }, columns)
	case "UINT64":
		at := func(i int) uint64 { return le.Uint64(b[8*i:]) }
		setNumbers(it, n, func(i int) float64 { return float64(at(i)) }, func(o []byte, i int) []byte { return strconv.AppendUint(o, at(i), 10) }, columns)
	default: // INT8 to INT32, UINT8 to UINT32
		at := func(i int) int64 {
			switch it.Datatype {
			case "INT8":
				return int64(int8(b[i]))
			case "UINT8":
				return int64(b[i])
			case "INT16":
				return int64(int16(le.Uint16(b[2*i:])))
			case "UINT16":
				return int64(le.Uint16(b[2*i:]))
			case "INT32":
				return int64(int32(le.Uint32(b[4*i:])))
			}
			return int64(le.Uint32(b[4*i:]))
		}
		setNumbers(it, n, func(i int) float64 { return float64(at(i)) }, func(o []byte, i int) []byte { return strconv.AppendInt(o, at(i), 10) }, columns)
	}
	return nil
}

// encodeGRPCInfer writes the answer as a gRPC response: outputs in order,
// their values raw (the layout of /v2's binary answer) or typed.
func encodeGRPCInfer(model, version, id string, ans *inferAnswer, raw bool) *inferpb.ModelInferResponse {
	resp := &inferpb.ModelInferResponse{ModelName: model, ModelVersion: version, Id: id}
	if len(ans.notes) > 0 {
		resp.Parameters = map[string]*inferpb.InferParameter{"notes": jsonParam(ans.notes)}
	}
	for _, o := range ans.outs {
		t := &inferpb.ModelInferResponse_InferOutputTensor{Name: o.name, Datatype: o.datatype, Shape: make([]int64, len(o.shape))}
		for i, v := range o.shape {
			t.Shape[i] = int64(v)
		}
		if o.features != nil {
			t.Parameters = map[string]*inferpb.InferParameter{"features": jsonParam(o.features)}
		}
		resp.Outputs = append(resp.Outputs, t)
		if raw {
			var b []byte
			switch o.datatype {
			case "FP64":
				b = make([]byte, 0, 8*len(o.f64))
				for _, v := range o.f64 {
					b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
				}
			case "BOOL":
				b = make([]byte, len(o.flags))
				for i, f := range o.flags {
					if f {
						b[i] = 1
					}
				}
			case "BYTES":
				for _, v := range o.strs {
					b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
					b = append(b, v...)
				}
			}
			resp.RawOutputContents = append(resp.RawOutputContents, b)
			continue
		}
		c := &inferpb.InferTensorContents{}
		switch o.datatype {
		case "FP64":
			c.Fp64Contents = o.f64
		case "BOOL":
			c.BoolContents = o.flags
		case "BYTES":
			c.BytesContents = make([][]byte, len(o.strs))
			for i, v := range o.strs {
				c.BytesContents[i] = []byte(v)
			}
		}
		t.Contents = c
	}
	return resp
}

// jsonParam is a string parameter holding v as JSON (a list does not fit
// InferParameter otherwise).
func jsonParam(v []string) *inferpb.InferParameter {
	b, _ := json.Marshal(v)
	return &inferpb.InferParameter{ParameterChoice: &inferpb.InferParameter_StringParam{StringParam: string(b)}}
}
