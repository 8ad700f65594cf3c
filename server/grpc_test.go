package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/server/internal/inferpb"
	"github.com/oddity-ml/oddity/tensor"
)

// The gRPC tests call the server through the client generated from
// inference.proto by protoc-gen-go-grpc, not through code written for
// oddity, and hold its answers against the HTTP /v2 answers to the same
// requests and against the model scoring in-process.

// forestFeatures is the width of the Isolation Forest test model's rows.
const forestFeatures = 20

// writeForest fits an Isolation Forest (100 trees, seeded) on 1,000 seeded
// Gaussian rows of d features and saves it; it returns the model.
func writeForest(t testing.TB, path string, d int) *detector.Model {
	t.Helper()
	ds := gaussRows(1000, d, 1)
	o := iforest.DefaultOptions()
	o.Seed = 3
	m, err := detector.Fit(context.Background(), iforest.New(o), detector.TrainSet{X: ds}, detector.ThresholdRule{Contamination: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	return m
}

// gaussRows returns n seeded Gaussian rows of d features, every 7th row
// shifted far out so that some are flagged.
func gaussRows(n, d int, seed uint64) *data.Dataset {
	rng := rand.New(rand.NewPCG(seed, 99))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64())
		if (i/d)%7 == 0 {
			x[i] = 4 + 2*x[i]
		}
	}
	return &data.Dataset{Name: "rows", N: n, Shape: []int{d}, X: x}
}

// rawFP32 writes x as little-endian FP32 bytes.
func rawFP32(x []float32) []byte {
	b := make([]byte, 0, 4*len(x))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

// startGRPC serves s's gRPC service on a loopback port and returns its
// address and a stop function that waits for RunGRPC to return.
func startGRPC(t *testing.T, s *Server, addr string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- s.RunGRPC(ctx, addr, 5*time.Second, func(a string) { addrc <- a }) }()
	select {
	case a := <-addrc:
		var once bool
		var err error
		return a, func() error {
			if !once {
				once = true
				cancel()
				err = <-errc
			}
			return err
		}
	case err := <-errc:
		cancel()
		return "", func() error { return err }
	}
}

// dial returns a generated client of addr.
func dial(t testing.TB, addr string, creds credentials.TransportCredentials) inferpb.GRPCInferenceServiceClient {
	t.Helper()
	if creds == nil {
		creds = insecure.NewCredentials()
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return inferpb.NewGRPCInferenceServiceClient(conn)
}

// httpBinaryInfer posts rows to /v2 with the binary tensor extension both
// ways and returns the JSON header and each output's raw bytes.
func httpBinaryInfer(t testing.TB, url string, x []float32, n int, extra map[string]any) (map[string]any, map[string][]byte) {
	t.Helper()
	raw := rawFP32(x)
	env := map[string]any{"inputs": []map[string]any{{"name": "input", "shape": []int{n, len(x) / n}, "datatype": "FP32",
		"parameters": map[string]any{"binary_data_size": len(raw)}}}, "parameters": map[string]any{"binary_data_output": true}}
	for k, v := range extra {
		env[k] = v
	}
	head, _ := json.Marshal(env)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(append(head, raw...)))
	req.Header.Set(binaryHeader, strconv.Itoa(len(head)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP binary infer: %d %s", resp.StatusCode, body)
	}
	hl, _ := strconv.Atoi(resp.Header.Get(binaryHeader))
	var h map[string]any
	if err := json.Unmarshal(body[:hl], &h); err != nil {
		t.Fatal(err)
	}
	outs := map[string][]byte{}
	off := hl
	for _, o := range h["outputs"].([]any) {
		om := o.(map[string]any)
		size := int(om["parameters"].(map[string]any)["binary_data_size"].(float64))
		outs[om["name"].(string)] = body[off : off+size]
		off += size
	}
	return h, outs
}

// getJSON fetches url and decodes its JSON answer.
func getJSON(t testing.TB, url string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// fp64Bytes writes v as little-endian FP64 bytes.
func fp64Bytes(v []float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// Live, ready, metadata and inference over gRPC equal the HTTP /v2
// answers for an Isolation Forest: raw scores and flags bit for bit with
// /v2's binary answer and with the model scoring in-process, typed
// contents equal to raw, outputs chosen and ordered, explanations only
// when asked and equal to /v2's.
func TestGrpcMatchesHTTP(t *testing.T) {
	dir := t.TempDir()
	m := writeForest(t, filepath.Join(dir, "forest.odm"), forestFeatures)
	s, err := New(Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	addr, stop := startGRPC(t, s, "127.0.0.1:0")
	defer stop()
	c := dial(t, addr, nil)
	ctx := context.Background()

	live, err := c.ServerLive(ctx, &inferpb.ServerLiveRequest{})
	if code, _ := getJSON(t, ts.URL+"/v2/health/live"); err != nil || !live.Live || code != 200 {
		t.Errorf("live: %v %v, HTTP %d", live, err, code)
	}
	ready, err := c.ServerReady(ctx, &inferpb.ServerReadyRequest{})
	if code, _ := getJSON(t, ts.URL+"/v2/health/ready"); err != nil || !ready.Ready || code != 200 {
		t.Errorf("ready: %v %v, HTTP %d", ready, err, code)
	}
	mr, err := c.ModelReady(ctx, &inferpb.ModelReadyRequest{Name: "forest"})
	if code, _ := getJSON(t, ts.URL+"/v2/models/forest/ready"); err != nil || !mr.Ready || code != 200 {
		t.Errorf("model ready: %v %v, HTTP %d", mr, err, code)
	}
	sm, err := c.ServerMetadata(ctx, &inferpb.ServerMetadataRequest{})
	_, hsm := getJSON(t, ts.URL+"/v2")
	if err != nil || sm.Name != hsm["name"] || sm.Version != hsm["version"] || fmt.Sprint(sm.Extensions) != fmt.Sprint(hsm["extensions"]) {
		t.Errorf("server metadata %v %v, HTTP %v", sm, err, hsm)
	}

	// Model metadata: the same document.
	md, err := c.ModelMetadata(ctx, &inferpb.ModelMetadataRequest{Name: "forest"})
	if err != nil {
		t.Fatal(err)
	}
	_, hmd := getJSON(t, ts.URL+"/v2/models/forest")
	tensors := func(ts []*inferpb.ModelMetadataResponse_TensorMetadata) []any {
		var out []any
		for _, t := range ts {
			var shape []any
			for _, v := range t.Shape {
				shape = append(shape, float64(v))
			}
			out = append(out, map[string]any{"name": t.Name, "datatype": t.Datatype, "shape": shape})
		}
		return out
	}
	if md.Name != hmd["name"] || md.Platform != hmd["platform"] || fmt.Sprint(md.Versions) != fmt.Sprint(hmd["versions"]) ||
		!reflect.DeepEqual(tensors(md.Inputs), hmd["inputs"]) || !reflect.DeepEqual(tensors(md.Outputs), hmd["outputs"]) {
		t.Errorf("model metadata\n gRPC %v\n HTTP %v", md, hmd)
	}
	if th, _ := strconv.ParseFloat(md.Properties["threshold"], 64); th != hmd["threshold"] || th != m.Threshold {
		t.Errorf("threshold property %q, HTTP %v, model %v", md.Properties["threshold"], hmd["threshold"], m.Threshold)
	}
	for k, v := range hmd["parameters"].(map[string]any) {
		got, ok := md.Properties[k]
		if !ok {
			t.Errorf("parameter %s missing from the properties", k)
			continue
		}
		if sv, isStr := v.(string); isStr && got != sv {
			t.Errorf("property %s = %q, HTTP %q", k, got, sv)
		} else if !isStr {
			var back any
			if json.Unmarshal([]byte(got), &back) != nil || !reflect.DeepEqual(back, v) {
				t.Errorf("property %s = %q, HTTP %v", k, got, v)
			}
		}
	}

	// Inference, 1,000 rows raw: the same bytes as /v2 binary and as the
	// model in-process.
	ds := gaussRows(1000, forestFeatures, 5)
	want, err := m.Score(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	wantFlags := make([]byte, len(want))
	flagged := 0
	for i, f := range m.Predict(want) {
		if f {
			wantFlags[i] = 1
			flagged++
		}
	}
	if flagged == 0 || flagged == len(want) {
		t.Fatalf("%d of %d rows flagged: the test needs both kinds", flagged, len(want))
	}
	hh, hraw := httpBinaryInfer(t, ts.URL+"/v2/models/forest/infer", ds.X, ds.N, nil)
	req := &inferpb.ModelInferRequest{ModelName: "forest", Id: "r-1",
		Inputs:           []*inferpb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1000, forestFeatures}}},
		RawInputContents: [][]byte{rawFP32(ds.X)}}
	res, err := c.ModelInfer(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.ModelName != "forest" || res.ModelVersion != hh["model_version"] || res.Id != "r-1" || len(res.Outputs) != 2 || len(res.RawOutputContents) != 2 {
		t.Fatalf("raw answer: model %q version %q id %q, %d outputs, %d raw contents", res.ModelName, res.ModelVersion, res.Id, len(res.Outputs), len(res.RawOutputContents))
	}
	for i, name := range []string{"score", "anomaly"} {
		o := res.Outputs[i]
		if o.Name != name || !slices.Equal(o.Shape, []int64{1000}) || o.Contents != nil {
			t.Errorf("output %d: %s %v (contents %v), want %s of shape [1000] with raw contents", i, o.Name, o.Shape, o.Contents != nil, name)
		}
		if !bytes.Equal(res.RawOutputContents[i], hraw[name]) {
			t.Errorf("%s: gRPC raw bytes differ from /v2 binary", name)
		}
	}
	if !bytes.Equal(res.RawOutputContents[0], fp64Bytes(want)) || !bytes.Equal(res.RawOutputContents[1], wantFlags) {
		t.Error("raw scores or flags differ from the model scoring in-process")
	}

	// Typed FP32 contents: typed answers, the same values.
	typed := &inferpb.ModelInferRequest{ModelName: "forest",
		Inputs: []*inferpb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1000, forestFeatures},
			Contents: &inferpb.InferTensorContents{Fp32Contents: ds.X}}}}
	tres, err := c.ModelInfer(ctx, typed)
	if err != nil {
		t.Fatal(err)
	}
	if len(tres.RawOutputContents) != 0 || !slices.Equal(tres.Outputs[0].Contents.Fp64Contents, want) {
		t.Error("typed scores differ from the model's")
	}
	for i, f := range tres.Outputs[1].Contents.BoolContents {
		if f != (wantFlags[i] == 1) {
			t.Fatalf("typed flag %d: %v", i, f)
		}
	}
	// FP64 typed contents of the same float32 values: the same scores;
	// binary_data_output turns the answer raw.
	x64 := make([]float64, len(ds.X))
	for i, v := range ds.X {
		x64[i] = float64(v)
	}
	typed.Inputs[0].Datatype = "FP64"
	typed.Inputs[0].Contents = &inferpb.InferTensorContents{Fp64Contents: x64}
	typed.Parameters = map[string]*inferpb.InferParameter{"binary_data_output": {ParameterChoice: &inferpb.InferParameter_BoolParam{BoolParam: true}}}
	if r64, err := c.ModelInfer(ctx, typed); err != nil || len(r64.RawOutputContents) != 2 || !bytes.Equal(r64.RawOutputContents[0], fp64Bytes(want)) {
		t.Errorf("FP64 contents with binary_data_output: %v", err)
	}

	// Outputs chosen and ordered; explanations only when asked, as /v2's.
	small := gaussRows(4, forestFeatures, 8)
	outs := []map[string]any{{"name": "top_features"}, {"name": "anomaly"}, {"name": "attributions"}}
	hh, hraw = httpBinaryInfer(t, ts.URL+"/v2/models/forest/infer", small.X, 4, map[string]any{"outputs": outs,
		"parameters": map[string]any{"binary_data_output": true, "top_k": 2}})
	ereq := &inferpb.ModelInferRequest{ModelName: "forest",
		Inputs:           []*inferpb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{4, forestFeatures}}},
		RawInputContents: [][]byte{rawFP32(small.X)},
		Parameters:       map[string]*inferpb.InferParameter{"top_k": {ParameterChoice: &inferpb.InferParameter_Int64Param{Int64Param: 2}}},
		Outputs:          []*inferpb.ModelInferRequest_InferRequestedOutputTensor{{Name: "top_features"}, {Name: "anomaly"}, {Name: "attributions"}}}
	eres, err := c.ModelInfer(ctx, ereq)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for i, o := range eres.Outputs {
		names = append(names, o.Name)
		if !bytes.Equal(eres.RawOutputContents[i], hraw[o.Name]) {
			t.Errorf("%s: gRPC bytes differ from /v2 binary", o.Name)
		}
	}
	if !slices.Equal(names, []string{"top_features", "anomaly", "attributions"}) || !slices.Equal(eres.Outputs[0].Shape, []int64{4, 2}) ||
		!slices.Equal(eres.Outputs[2].Shape, []int64{4, forestFeatures}) {
		t.Errorf("explanation outputs %v", eres.Outputs)
	}
	hfeat, _ := json.Marshal(hh["outputs"].([]any)[2].(map[string]any)["parameters"].(map[string]any)["features"])
	if got := eres.Outputs[2].Parameters["features"].GetStringParam(); got != string(hfeat) {
		t.Errorf("attributions features %s, HTTP %s", got, hfeat)
	}
	// Isolation Forest's attributions are its own (path-based): summed
	// over features they are not zero for a shifted row.
	a := eres.RawOutputContents[2]
	sum := 0.0
	for j := 0; j < forestFeatures; j++ {
		sum += math.Abs(math.Float64frombits(binary.LittleEndian.Uint64(a[8*j:])))
	}
	if sum == 0 {
		t.Error("the shifted row's attributions are all zero")
	}
}

// Bad requests over gRPC get the codes of their HTTP statuses, with the
// same messages: bad shapes, datatypes and contents, unknown models and
// versions, NaN inputs and non-finite scores are INVALID_ARGUMENT or
// NOT_FOUND; too many samples and too large a message RESOURCE_EXHAUSTED.
func TestGrpcErrors(t *testing.T) {
	dir := t.TempDir()
	writeForest(t, filepath.Join(dir, "forest.odm"), forestFeatures)
	writeDetector(t, filepath.Join(dir, "fragile.odm"), &fragile{}, tensor.New(1))
	s, err := New(Options{Dir: dir, MaxBatch: 50, MaxBodyBytes: 64 << 10, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	addr, stop := startGRPC(t, s, "127.0.0.1:0")
	defer stop()
	c := dial(t, addr, nil)
	in := func(dt string, shape []int64, cont *inferpb.InferTensorContents) []*inferpb.ModelInferRequest_InferInputTensor {
		return []*inferpb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: dt, Shape: shape, Contents: cont}}
	}
	rows := gaussRows(10, forestFeatures, 2).X
	nan := slices.Clone(rows)
	nan[27] = float32(math.NaN())
	v7 := "7"
	for _, tc := range []struct {
		name string
		req  *inferpb.ModelInferRequest
		code codes.Code
		msg  string
	}{
		{"unknown model", &inferpb.ModelInferRequest{ModelName: "nope"}, codes.NotFound, `no model "nope"`},
		{"unknown version", &inferpb.ModelInferRequest{ModelName: "forest", ModelVersion: &v7}, codes.NotFound, `no version "7"`},
		{"sample shape", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{10, 19}, &inferpb.InferTensorContents{Fp32Contents: rows[:190]})}, codes.InvalidArgument, "does not match"},
		{"value count", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{10, 20}, &inferpb.InferTensorContents{Fp32Contents: rows[:199]})}, codes.InvalidArgument, "199 values"},
		{"negative shape", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{-1, 20}, &inferpb.InferTensorContents{Fp32Contents: rows})}, codes.InvalidArgument, "negative"},
		{"BYTES datatype", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("BYTES", []int64{1, 1}, &inferpb.InferTensorContents{BytesContents: [][]byte{[]byte("x")}})}, codes.InvalidArgument, "not numeric"},
		{"contents of another datatype", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{1, 20}, &inferpb.InferTensorContents{Fp64Contents: make([]float64, 20)})}, codes.InvalidArgument, "fp64_contents"},
		{"FP16 typed", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP16", []int64{1, 20}, &inferpb.InferTensorContents{})}, codes.InvalidArgument, "FP16"},
		{"no data", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{1, 20}, nil)}, codes.InvalidArgument, "no data"},
		{"two inputs", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: append(in("FP32", []int64{1, 20}, nil), in("FP32", []int64{1, 20}, nil)...)}, codes.InvalidArgument, "exactly one input"},
		{"raw count", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{1, 20}, nil), RawInputContents: [][]byte{rawFP32(rows[:20]), {}}}, codes.InvalidArgument, "2 raw_input_contents for 1 inputs"},
		{"raw partial value", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{1, 20}, nil), RawInputContents: [][]byte{rawFP32(rows[:20])[:79]}}, codes.InvalidArgument, "not whole FP32"},
		{"raw and contents", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{1, 20}, &inferpb.InferTensorContents{Fp32Contents: rows[:20]}), RawInputContents: [][]byte{rawFP32(rows[:20])}}, codes.InvalidArgument, "both contents and raw"},
		{"NaN input", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{10, 20}, &inferpb.InferTensorContents{Fp32Contents: nan})}, codes.InvalidArgument, "sample 1 has a non-finite value"},
		{"unknown output", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{1, 20}, &inferpb.InferTensorContents{Fp32Contents: rows[:20]}),
			Outputs: []*inferpb.ModelInferRequest_InferRequestedOutputTensor{{Name: "p_value"}}}, codes.InvalidArgument, "no calibration"},
		{"top_k 0", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{1, 20}, &inferpb.InferTensorContents{Fp32Contents: rows[:20]}),
			Parameters: map[string]*inferpb.InferParameter{"top_k": {ParameterChoice: &inferpb.InferParameter_Int64Param{}}}}, codes.InvalidArgument, "top_k 0"},
		{"too many samples", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{60, 20}, &inferpb.InferTensorContents{Fp32Contents: make([]float32, 1200)})}, codes.ResourceExhausted, "limit of 50"},
		{"message too large", &inferpb.ModelInferRequest{ModelName: "forest", Inputs: in("FP32", []int64{1, 20}, nil), RawInputContents: [][]byte{make([]byte, 70<<10)}}, codes.ResourceExhausted, "larger than max"},
		{"non-finite scores", &inferpb.ModelInferRequest{ModelName: "fragile", Inputs: in("FP32", []int64{3, 3}, &inferpb.InferTensorContents{Fp32Contents: []float32{1, 2, 3, 1e25, 0, 0, 0, 0, -1e25}})}, codes.InvalidArgument, "rows 1, 2"},
	} {
		_, err := c.ModelInfer(context.Background(), tc.req)
		st := status.Convert(err)
		if st.Code() != tc.code || !strings.Contains(st.Message(), tc.msg) {
			t.Errorf("%s: %v %q, want %v containing %q", tc.name, st.Code(), st.Message(), tc.code, tc.msg)
		}
	}
	// The non-finite case says what /v2 says with its 422.
	hc, hm := call(t, "POST", ts.URL+"/v2/models/fragile/infer", `{"inputs":[{"name":"input","shape":[3,3],"data":[1,2,3,1e25,0,0,0,0,-1e25]}]}`)
	_, err = c.ModelInfer(context.Background(), &inferpb.ModelInferRequest{ModelName: "fragile",
		Inputs: in("FP32", []int64{3, 3}, &inferpb.InferTensorContents{Fp32Contents: []float32{1, 2, 3, 1e25, 0, 0, 0, 0, -1e25}})})
	if hc != 422 || status.Convert(err).Message() != hm["error"] {
		t.Errorf("non-finite: HTTP %d %q, gRPC %q", hc, hm["error"], status.Convert(err).Message())
	}
	if got := testutil.ToFloat64(s.metrics.nonFinite.WithLabelValues("fragile")); got != 6 {
		t.Errorf("non-finite scores counted %v, want 6 (2 rows, twice over gRPC and once over HTTP)", got)
	}
	for _, q := range []func() error{
		func() error {
			_, err := c.ModelReady(context.Background(), &inferpb.ModelReadyRequest{Name: "nope"})
			return err
		},
		func() error {
			_, err := c.ModelMetadata(context.Background(), &inferpb.ModelMetadataRequest{Name: "nope"})
			return err
		},
	} {
		if code := status.Code(q()); code != codes.NotFound {
			t.Errorf("unknown model: %v, want NotFound", code)
		}
	}
}

// Tokens and TLS: with both configured the health calls need no token,
// every other call needs one of the file's tokens as "authorization:
// Bearer"; a plaintext client is refused; a non-loopback address is
// refused without TLS and tokens.
func TestGrpcTokensAndTLS(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	os.Mkdir(models, 0o755)
	writeModel(t, filepath.Join(models, "rows.odm"), 0.5, 3)
	_, _, certPath, keyPath := selfSigned(t, dir, "server", false, nil, nil, x509.ExtKeyUsageServerAuth)
	token := "s3cret-token-0123456789"
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte(token+"\n"), 0o600)
	s, err := New(Options{Dir: models, TokenFile: tokens, TLSCert: certPath, TLSKey: keyPath, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := startGRPC(t, s, "127.0.0.1:0")
	defer stop()
	pemBytes, _ := os.ReadFile(certPath)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pemBytes)
	c := dial(t, addr, credentials.NewTLS(&tls.Config{RootCAs: roots}))
	with := func(tok string) context.Context {
		if tok == "" {
			return context.Background()
		}
		return metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+tok)
	}
	infer := &inferpb.ModelInferRequest{ModelName: "rows", Inputs: []*inferpb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 3},
		Contents: &inferpb.InferTensorContents{Fp32Contents: []float32{1, 2, 3}}}}}
	for _, tc := range []struct {
		name string
		call func(ctx context.Context) error
		tok  string
		code codes.Code
	}{
		{"live", func(ctx context.Context) error { _, err := c.ServerLive(ctx, &inferpb.ServerLiveRequest{}); return err }, "", codes.OK},
		{"ready", func(ctx context.Context) error {
			_, err := c.ServerReady(ctx, &inferpb.ServerReadyRequest{})
			return err
		}, "", codes.OK},
		{"metadata", func(ctx context.Context) error {
			_, err := c.ServerMetadata(ctx, &inferpb.ServerMetadataRequest{})
			return err
		}, "", codes.Unauthenticated},
		{"model ready", func(ctx context.Context) error {
			_, err := c.ModelReady(ctx, &inferpb.ModelReadyRequest{Name: "rows"})
			return err
		}, "", codes.Unauthenticated},
		{"infer", func(ctx context.Context) error { _, err := c.ModelInfer(ctx, infer); return err }, "", codes.Unauthenticated},
		{"infer", func(ctx context.Context) error { _, err := c.ModelInfer(ctx, infer); return err }, "wrong-token-0123456789", codes.Unauthenticated},
		{"infer", func(ctx context.Context) error { _, err := c.ModelInfer(ctx, infer); return err }, token, codes.OK},
		{"model metadata", func(ctx context.Context) error {
			_, err := c.ModelMetadata(ctx, &inferpb.ModelMetadataRequest{Name: "rows"})
			return err
		}, token, codes.OK},
	} {
		if code := status.Code(tc.call(with(tc.tok))); code != tc.code {
			t.Errorf("%s with token %q: %v, want %v", tc.name, tc.tok, code, tc.code)
		}
	}
	plain := dial(t, addr, nil)
	if _, err := plain.ServerLive(context.Background(), &inferpb.ServerLiveRequest{}); err == nil {
		t.Error("a plaintext client was served")
	}

	open, err := New(Options{Dir: models, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if _, stop := startGRPC(t, open, "0.0.0.0:0"); stop() == nil || !strings.Contains(stop().Error(), "refusing") {
		t.Error("listened on 0.0.0.0 without TLS and tokens")
	}
}

// Load shedding and draining over gRPC: with one slot and one queue
// place, a third concurrent call is refused at once with UNAVAILABLE, a
// RetryInfo of RetryAfter and the retry pushback trailer, and counted;
// while draining, readiness is false and liveness true.
func TestGrpcSheddingAndDraining(t *testing.T) {
	dir := t.TempDir()
	writeDetector(t, filepath.Join(dir, "slow.odm"), &gated{}, tensor.New(1))
	s, err := New(Options{Dir: dir, MaxInFlight: 1, MaxQueue: 1, RetryAfter: 2 * time.Second, DrainDelay: 400 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := startGRPC(t, s, "127.0.0.1:0")
	c := dial(t, addr, nil)
	req := &inferpb.ModelInferRequest{ModelName: "slow", Inputs: []*inferpb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{1, 3},
		Contents: &inferpb.InferTensorContents{Fp32Contents: []float32{1, 2, 3}}}}}
	errs := make(chan error, 2)
	for i := 0; i < 2; i++ {
		go func() {
			_, err := c.ModelInfer(context.Background(), req)
			errs <- err
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && testutil.ToFloat64(s.metrics.queued.WithLabelValues("slow")) != 1 {
		time.Sleep(5 * time.Millisecond)
	}
	if testutil.ToFloat64(s.metrics.inFlight.WithLabelValues("slow")) != 1 || testutil.ToFloat64(s.metrics.queued.WithLabelValues("slow")) != 1 {
		t.Fatal("not 1 in flight and 1 queued")
	}
	start := time.Now()
	var trailer metadata.MD
	_, err = c.ModelInfer(context.Background(), req, grpc.Trailer(&trailer))
	st := status.Convert(err)
	var retry time.Duration
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			retry = ri.RetryDelay.AsDuration()
		}
	}
	if st.Code() != codes.Unavailable || retry != 2*time.Second || firstMD(trailer, "grpc-retry-pushback-ms") != "2000" || time.Since(start) > time.Second {
		t.Errorf("third call: %v %q retry %v pushback %v after %v, want UNAVAILABLE at once with 2 s", st.Code(), st.Message(), retry, trailer, time.Since(start))
	}
	gate <- struct{}{}
	gate <- struct{}{}
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Errorf("held call: %v", err)
		}
	}
	if got := testutil.ToFloat64(s.metrics.shed.WithLabelValues("slow")); got != 1 {
		t.Errorf("shed counted %v, want 1", got)
	}
	if _, err := s.GRPCServer(); err != nil { // a second server reuses the metrics
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(s.metrics.reg, "oddity_grpc_requests_total"); err != nil || n != 2 {
		t.Errorf("gRPC request series: %d %v, want OK and Unavailable", n, err)
	}

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(100 * time.Millisecond)
	if r, err := c.ServerReady(context.Background(), &inferpb.ServerReadyRequest{}); err != nil || r.Ready {
		t.Errorf("ready while draining: %v %v", r, err)
	}
	if r, err := c.ModelReady(context.Background(), &inferpb.ModelReadyRequest{Name: "slow"}); err != nil || r.Ready {
		t.Errorf("model ready while draining: %v %v", r, err)
	}
	if r, err := c.ServerLive(context.Background(), &inferpb.ServerLiveRequest{}); err != nil || !r.Live {
		t.Errorf("live while draining: %v %v", r, err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// Request ids: the client's x-request-id is echoed as header metadata and
// is the response id unless the request has its own; a missing or unusable
// one is replaced by a generated one; an error carries it too.
func TestGrpcRequestIDs(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	var logs syncBuffer
	s, err := New(Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := startGRPC(t, s, "127.0.0.1:0")
	defer stop()
	c := dial(t, addr, nil)
	send := func(id, own string, shape []int64) (*inferpb.ModelInferResponse, metadata.MD, error) {
		ctx := context.Background()
		if id != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", id)
		}
		var h metadata.MD
		r, err := c.ModelInfer(ctx, &inferpb.ModelInferRequest{ModelName: "rows", Id: own, Inputs: []*inferpb.ModelInferRequest_InferInputTensor{{Name: "input",
			Datatype: "FP32", Shape: shape, Contents: &inferpb.InferTensorContents{Fp32Contents: []float32{1, 2, 3}}}}}, grpc.Header(&h))
		return r, h, err
	}
	r, h, err := send("abc-123", "", []int64{1, 3})
	if err != nil || firstMD(h, "x-request-id") != "abc-123" || r.Id != "abc-123" {
		t.Errorf("echoed id: %v %v %v", r, h, err)
	}
	if r.Outputs[0].Contents.Fp64Contents[0] != 6.5 {
		t.Errorf("score %v, want 1+2+3+0.5", r.Outputs[0].Contents.Fp64Contents)
	}
	r, h, _ = send("bad id with spaces", "mine", []int64{1, 3})
	if gen := firstMD(h, "x-request-id"); len(gen) != 24 || r.Id != "mine" {
		t.Errorf("generated id %q, response id %q", gen, r.Id)
	}
	_, h, err = send("err-9", "", []int64{1, 2})
	if status.Code(err) != codes.InvalidArgument || firstMD(h, "x-request-id") != "err-9" || !strings.Contains(logs.String(), "request_id=err-9") {
		t.Errorf("failed call: %v, header %v, log %s", err, h, logs.String())
	}
}

// A table model over gRPC: one input per column, BYTES and FP64 typed or
// raw, gives the scores, p-values, flags and identifier column of the
// same columns on /v2.
func TestGrpcTableColumns(t *testing.T) {
	dir := t.TempDir()
	writeTableModel(t, filepath.Join(dir, "orders.odm"), detector.ThresholdRule{Alpha: 0.1})
	s, err := New(Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	addr, stop := startGRPC(t, s, "127.0.0.1:0")
	defer stop()
	c := dial(t, addr, nil)
	v2 := `{"inputs":[
		{"name":"order_id","datatype":"BYTES","shape":[4],"data":["A-1","A-2","A-3","A-4"]},
		{"name":"country","datatype":"BYTES","shape":[4],"data":["FR","DE","JP","IT"]},
		{"name":"amount","datatype":"FP64","shape":[4],"data":[12.5,null,16777217.25,1e3]},
		{"name":"express","datatype":"BYTES","shape":[4],"data":["yes","no","no","yes"]}]}`
	code, hm := call(t, "POST", ts.URL+"/v2/models/orders/infer", v2)
	if code != 200 {
		t.Fatalf("HTTP: %d %v", code, hm)
	}
	bytesOf := func(v ...string) [][]byte {
		var out [][]byte
		for _, s := range v {
			out = append(out, []byte(s))
		}
		return out
	}
	col := func(name, dt string, c *inferpb.InferTensorContents) *inferpb.ModelInferRequest_InferInputTensor {
		return &inferpb.ModelInferRequest_InferInputTensor{Name: name, Datatype: dt, Shape: []int64{4}, Contents: c}
	}
	req := &inferpb.ModelInferRequest{ModelName: "orders", Inputs: []*inferpb.ModelInferRequest_InferInputTensor{
		col("order_id", "BYTES", &inferpb.InferTensorContents{BytesContents: bytesOf("A-1", "A-2", "A-3", "A-4")}),
		col("country", "BYTES", &inferpb.InferTensorContents{BytesContents: bytesOf("FR", "DE", "JP", "IT")}),
		col("amount", "FP64", &inferpb.InferTensorContents{Fp64Contents: []float64{12.5, math.NaN(), 16777217.25, 1e3}}),
		col("express", "BYTES", &inferpb.InferTensorContents{BytesContents: bytesOf("yes", "no", "no", "yes")}),
	}}
	check := func(what string, r *inferpb.ModelInferResponse) {
		t.Helper()
		houts := hm["outputs"].([]any)
		if len(r.Outputs) != len(houts) {
			t.Fatalf("%s: %d outputs, HTTP %d", what, len(r.Outputs), len(houts))
		}
		for i, o := range r.Outputs {
			ho := houts[i].(map[string]any)
			var got []any
			switch {
			case o.Contents != nil && o.Datatype == "FP64":
				for _, v := range o.Contents.Fp64Contents {
					got = append(got, v)
				}
			case o.Contents != nil && o.Datatype == "BOOL":
				for _, v := range o.Contents.BoolContents {
					got = append(got, v)
				}
			case o.Contents != nil:
				for _, v := range o.Contents.BytesContents {
					got = append(got, string(v))
				}
			default:
				b := r.RawOutputContents[i]
				for off := 0; off < len(b); {
					switch o.Datatype {
					case "FP64":
						got = append(got, math.Float64frombits(binary.LittleEndian.Uint64(b[off:])))
						off += 8
					case "BOOL":
						got = append(got, b[off] == 1)
						off++
					default:
						n := int(binary.LittleEndian.Uint32(b[off:]))
						got = append(got, string(b[off+4:off+4+n]))
						off += 4 + n
					}
				}
			}
			if o.Name != ho["name"] || !reflect.DeepEqual(got, ho["data"]) {
				t.Errorf("%s: output %s %v, HTTP %s %v", what, o.Name, got, ho["name"], ho["data"])
			}
		}
		if hn, _ := json.Marshal(hm["parameters"].(map[string]any)["notes"]); r.Parameters["notes"].GetStringParam() != string(hn) {
			t.Errorf("%s: notes %s, HTTP %s", what, r.Parameters["notes"].GetStringParam(), hn)
		}
	}
	r, err := c.ModelInfer(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	check("typed", r)

	// The same columns raw: BYTES as length-prefixed elements, FP64 bytes.
	var ids, countries, express []byte
	for _, v := range [][]string{{"A-1", "A-2", "A-3", "A-4"}, {"FR", "DE", "JP", "IT"}, {"yes", "no", "no", "yes"}} {
		var b []byte
		for _, s := range v {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
		switch v[0] {
		case "A-1":
			ids = b
		case "FR":
			countries = b
		default:
			express = b
		}
	}
	for _, in := range req.Inputs {
		in.Contents = nil
	}
	req.RawInputContents = [][]byte{ids, countries, fp64Bytes([]float64{12.5, math.NaN(), 16777217.25, 1e3}), express}
	if r, err = c.ModelInfer(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	check("raw", r)
}
