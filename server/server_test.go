package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

// offset is a test detector: score = sum of the sample's values + offset.
// Its scores tell which version of a model answered.
type offset struct{ off *tensor.Tensor }

func (o *offset) Method() string { return "servertest-offset" }
func (o *offset) Fit(context.Context, detector.TrainSet) error {
	if o.off == nil {
		o.off = tensor.New(1)
		o.off.Name = "offset"
	}
	return nil
}
func (o *offset) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	out := make([]float64, x.N)
	for i := range out {
		s := float64(o.off.Data[0])
		for _, v := range x.Row(i) {
			s += float64(v)
		}
		out[i] = s
	}
	return out, ctx.Err()
}
func (o *offset) Marshal() (*detector.Payload, error) {
	return &detector.Payload{Config: json.RawMessage(`{}`), Tensors: []*tensor.Tensor{o.off}}, nil
}
func (o *offset) Unmarshal(p *detector.Payload) error {
	t, err := p.Tensor("offset")
	o.off = t
	return err
}

func init() {
	detector.Register(detector.Info{Method: "servertest-offset", Kind: detector.Unsupervised | detector.Tables, Summary: "test: sum of the values plus an offset",
		Options: func() any { return &struct{}{} },
		New:     func(any) (detector.Detector, error) { return &offset{}, nil }})
}

// writeModel saves an offset model for samples of the given shape.
func writeModel(t testing.TB, path string, off float32, shape ...int) {
	t.Helper()
	k := 1
	for _, s := range shape {
		k *= s
	}
	d := &offset{off: tensor.FromData([]float32{off}, 1)}
	d.off.Name = "offset"
	train := &data.Dataset{Name: "t", N: 4, Shape: shape, X: make([]float32, 4*k)}
	for i := range train.X {
		train.X[i] = float32(i % 3)
	}
	m, err := detector.Fit(context.Background(), d, detector.TrainSet{X: train}, detector.ThresholdRule{Value: 10 + float64(off), HasValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
}

func newTestServer(t *testing.T) (*Server, *httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	writeModel(t, filepath.Join(dir, "img.odm"), 0, 1, 2, 2)
	s, err := New(Options{Dir: dir, MaxBodyBytes: 1 << 16, MaxBatch: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, dir
}

func call(t testing.TB, method, url, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s %s: bad JSON %q", method, url, raw)
		}
	}
	return resp.StatusCode, m
}

func TestEndpoints(t *testing.T) {
	_, ts, _ := newTestServer(t)
	if c, _ := call(t, "GET", ts.URL+"/v2/health/live", ""); c != 200 {
		t.Errorf("live: %d", c)
	}
	if c, m := call(t, "GET", ts.URL+"/v2/health/ready", ""); c != 200 || m["models"] != 2.0 {
		t.Errorf("ready: %d %v", c, m)
	}
	c, m := call(t, "GET", ts.URL+"/v2/models/rows", "")
	if c != 200 || m["platform"] != "oddity-servertest-offset" || m["threshold"] != 10.5 {
		t.Errorf("metadata: %d %v", c, m)
	}
	// Open Inference Protocol, flat and nested data.
	for _, body := range []string{
		`{"id":"a","inputs":[{"name":"input","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]}`,
		`{"id":"a","inputs":[{"name":"input","shape":[2,3],"datatype":"FP64","data":[[1,2,3],[4,5,6]]}]}`,
	} {
		c, m := call(t, "POST", ts.URL+"/v2/models/rows/infer", body)
		if c != 200 {
			t.Fatalf("infer: %d %v", c, m)
		}
		outs := m["outputs"].([]any)
		scores := outs[0].(map[string]any)["data"].([]any)
		flags := outs[1].(map[string]any)["data"].([]any)
		if scores[0] != 6.5 || scores[1] != 15.5 || flags[0] != false || flags[1] != true || m["id"] != "a" {
			t.Errorf("infer result %v", m)
		}
	}
	c, m = call(t, "POST", ts.URL+"/v1/models/rows:score", `{"rows":[[1,1,1],[0,0,0]]}`)
	if c != 200 || m["scores"].([]any)[0] != 3.5 || m["scores"].([]any)[1] != 0.5 {
		t.Errorf("v1 score: %d %v", c, m)
	}

	bad := []struct {
		method, path, body string
		code               int
	}{
		{"POST", "/v2/models/rows/infer", `{"inputs":[`, 400},
		{"POST", "/v2/models/rows/infer", `{"inputs":[{"shape":[1,4],"data":[1,2,3,4]}]}`, 400},
		{"POST", "/v2/models/rows/infer", `{"inputs":[{"shape":[2,3],"data":[1,2,3]}]}`, 400},
		{"POST", "/v2/models/rows/infer", `{"inputs":[{"shape":[1,3],"datatype":"BYTES","data":[1,2,3]}]}`, 400},
		{"POST", "/v2/models/rows/infer", `{"inputs":[{"shape":[1,3],"data":["a","b","c"]}]}`, 400},
		{"POST", "/v2/models/rows/infer", `{"inputs":[{"shape":[1,3],"data":[1e39,0,0]}]}`, 400},
		{"POST", "/v2/models/rows/infer", `{"inputs":[{"shape":[1,3],"data":[1,2,3]}],"bogus":1}`, 400},
		{"POST", "/v2/models/rows/infer", `{"inputs":[{"shape":[101,3],"data":[]}]}`, 413},
		{"POST", "/v2/models/nope/infer", `{}`, 404},
		{"POST", "/v1/models/rows:score", `{"rows":[[1,2]]}`, 400},
		{"POST", "/v1/models/rows:score", `{"rows":[[1,2,3]],"images":[]}`, 400},
		{"POST", "/v1/models/rows:score", `{"images":["AAAA"]}`, 400},
		{"POST", "/v1/models/img:score", `{"images":["not base64!"]}`, 400},
		{"POST", "/v1/models/img:score", `{"images":["aGVsbG8="]}`, 400},
		{"POST", "/v1/models/rows:explain", `{}`, 400},
		{"POST", "/v1/models/rows:frobnicate", `{}`, 404},
		{"POST", "/v1/models/rows:score", `{"rows":[[` + strings.Repeat("1,", 40000) + `1]]}`, 413},
		{"GET", "/nowhere", ``, 404},
	}
	for _, b := range bad {
		c, m := call(t, b.method, ts.URL+b.path, b.body)
		if c != b.code || m["error"] == nil {
			body := b.body
			if len(body) > 60 {
				body = body[:60]
			}
			t.Errorf("%s %s %s: got %d %v, want %d with a JSON error", b.method, b.path, body, c, m, b.code)
		}
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`oddity_http_requests_total{code="200",endpoint="infer",model="rows"} 2`,
		`oddity_samples_scored_total{model="rows"} 6`,
		`oddity_scores_above_threshold_total{model="rows"} 2`,
		`oddity_http_request_duration_seconds_bucket`,
		`oddity_model_load_seconds{model="img"}`,
		`oddity_models_loaded 2`,
	} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

// TestReloadUnderLoad replaces a model while clients score continuously: no
// request may fail, and after the reload the new model answers.
func TestReloadUnderLoad(t *testing.T) {
	s, ts, dir := newTestServer(t)
	var failures, done atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	body := `{"rows":[[0,0,0]]}`
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Post(ts.URL+"/v1/models/rows:score", "application/json", strings.NewReader(body))
				if err != nil || resp.StatusCode != 200 {
					failures.Add(1)
				}
				if resp != nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				done.Add(1)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	writeModel(t, filepath.Join(dir, "rows.odm"), 7, 3)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d requests failed during reload", failures.Load(), done.Load())
	}
	_, m := call(t, "POST", ts.URL+"/v1/models/rows:score", body)
	if got := m["scores"].([]any)[0]; got != 7.0 {
		t.Fatalf("after reload score %v, want 7 from the new model", got)
	}
	// A broken file leaves the current models serving.
	if err := os.WriteFile(filepath.Join(dir, "broken.odm"), []byte("ODDITYMF garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Fatal("reload with a corrupt model succeeded")
	}
	if c, _ := call(t, "POST", ts.URL+"/v1/models/rows:score", body); c != 200 {
		t.Fatalf("after a failed reload: %d", c)
	}
	t.Logf("%d requests during reload, none failed", done.Load())
}

func TestRunShutsDownGracefully(t *testing.T) {
	s, _, _ := newTestServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, "127.0.0.1:0", 5*time.Second, func(a string) { addrc <- a }) }()
	addr := <-addrc
	if c, _ := call(t, "GET", "http://"+addr+"/v2/health/live", ""); c != 200 {
		t.Fatalf("live %d", c)
	}
	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
}

// FuzzRequests posts arbitrary bodies to the scoring endpoints: the answer
// must be a JSON object with a 2xx or 4xx status, never a panic or 5xx.
func FuzzRequests(f *testing.F) {
	dir := f.TempDir()
	writeModel(f, filepath.Join(dir, "rows.odm"), 0.5, 3)
	writeModel(f, filepath.Join(dir, "img.odm"), 0, 1, 2, 2)
	s, err := New(Options{Dir: dir, MaxBodyBytes: 1 << 14, MaxBatch: 50, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}`,
		`{"inputs":[{"shape":[2,3],"data":[[1,2,3],[4,5,6]]}]}`,
		`{"rows":[[1,2,3]]}`, `{"images":["iVBORw0KGgo="]}`, `[]`, `{"inputs":[{"shape":[-1],"data":[]}]}`, "\x00",
	} {
		f.Add(seed, uint8(0))
		f.Add(seed, uint8(1))
		f.Add(seed, uint8(2))
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		paths := []string{"/v2/models/rows/infer", "/v1/models/rows:score", "/v1/models/img:score"}
		req := httptest.NewRequest("POST", paths[int(which)%len(paths)], strings.NewReader(body))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.String())
		}
		var m map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &m); err != nil {
			t.Fatalf("non-JSON answer %q", rec.Body.String())
		}
		if rec.Code == 200 {
			if sc, ok := m["scores"].([]any); ok {
				for _, v := range sc {
					if f, ok := v.(float64); !ok || math.IsNaN(f) {
						t.Fatalf("bad score %v", v)
					}
				}
			}
		}
	})
}
