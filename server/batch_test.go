package server

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/internal/dcgan/dcgantest"
	"github.com/oddity-ml/oddity/tensor"
)

// recorder is a test image detector: the offset detector's score (sum of
// the values plus the offset), NaN for an image whose first value is
// 7777, and an ErrInput for the whole call when one image's first value
// is 6666. It records the size of every Score call, and holds each call
// while recHold is set until a token arrives on it.
type recorder struct{ offset }

var (
	recMu    sync.Mutex
	recCalls []int
	recHold  chan struct{}
)

func (r *recorder) Method() string { return "servertest-recorder" }
func (r *recorder) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	recMu.Lock()
	recCalls = append(recCalls, x.N)
	hold := recHold
	recMu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out, err := r.offset.Score(ctx, x)
	for i := range out {
		switch x.Row(i)[0] {
		case 7777:
			out[i] = math.NaN()
		case 6666:
			return nil, fmt.Errorf("%w: image %d is poison", detector.ErrInput, i)
		}
	}
	return out, err
}

func init() {
	detector.Register(detector.Info{Method: "servertest-recorder", Kind: detector.Unsupervised | detector.Images, Summary: "test: records its calls",
		Options: func() any { return &struct{}{} },
		New:     func(any) (detector.Detector, error) { return &recorder{}, nil }})
}

// calls returns the Score call sizes recorded since the last call,
// sorted, and forgets them.
func calls() []int {
	recMu.Lock()
	defer recMu.Unlock()
	out := slices.Clone(recCalls)
	recCalls = nil
	sort.Ints(out)
	return out
}

// newBatchServer serves a recorder model "img" of 1×2×2 images (offset
// 0.25) and an offset model "rows" of 3 values.
func newBatchServer(t *testing.T, o Options) (*Server, *httptest.Server) {
	t.Helper()
	dir := t.TempDir()
	d := &recorder{offset{off: tensor.FromData([]float32{0.25}, 1)}}
	d.off.Name = "offset"
	train := &data.Dataset{Name: "t", N: 4, Shape: []int{1, 2, 2}, X: make([]float32, 16)}
	m, err := detector.Fit(context.Background(), d, detector.TrainSet{X: train}, detector.ThresholdRule{Value: 10, HasValue: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SaveFile(filepath.Join(dir, "img.odm")); err != nil {
		t.Fatal(err)
	}
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	o.Dir, o.Logger = dir, quietLogger()
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	calls()
	return s, ts
}

// imgBody is a /v2 request of the images, each 4 values from base.
func imgBody(base ...float32) string {
	var vals []string
	for _, b := range base {
		for k := 0; k < 4; k++ {
			v := b
			if b != 7777 && b != 6666 {
				v += float32(k)
			}
			vals = append(vals, fmt.Sprint(v))
		}
	}
	return fmt.Sprintf(`{"inputs":[{"name":"input","shape":[%d,1,2,2],"datatype":"FP32","data":[%s]}]}`, len(base), strings.Join(vals, ","))
}

// post sends concurrent requests and returns their codes and scores.
func post(t *testing.T, url string, bodies []string) ([]int, [][]float64) {
	t.Helper()
	codes := make([]int, len(bodies))
	scores := make([][]float64, len(bodies))
	var wg sync.WaitGroup
	for i, b := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, m := call(t, "POST", url+"/v2/models/img/infer", b)
			codes[i] = c
			if c == 200 {
				for _, v := range m["outputs"].([]any)[0].(map[string]any)["data"].([]any) {
					scores[i] = append(scores[i], v.(float64))
				}
			}
		}()
	}
	wg.Wait()
	return codes, scores
}

// want is the recorder's score of imgBody(b): 4b + 0+1+2+3 + 0.25.
func want(b float32) float64 { return 4*float64(b) + 6.25 }

// Concurrent requests are scored in one call and each gets its own
// scores; a full batch does not wait for the delay; a request alone waits
// the delay and is scored alone; a request above BatchMax is scored by
// itself; tables are not batched.
func TestBatchingCoalesces(t *testing.T) {
	s, ts := newBatchServer(t, Options{BatchMax: 8, BatchDelay: 20 * time.Second, MaxInFlight: 1})
	bodies := make([]string, 8)
	for i := range bodies {
		bodies[i] = imgBody(float32(10 * i))
	}
	start := time.Now()
	codes, scores := post(t, ts.URL, bodies)
	if time.Since(start) > 10*time.Second {
		t.Errorf("a full batch waited for the delay (%v)", time.Since(start))
	}
	for i := range bodies {
		if codes[i] != 200 || len(scores[i]) != 1 || scores[i][0] != want(float32(10*i)) {
			t.Errorf("request %d: %d %v, want %v", i, codes[i], scores[i], want(float32(10*i)))
		}
	}
	if got := calls(); !slices.Equal(got, []int{8}) {
		t.Errorf("Score calls %v, want one of 8", got)
	}
	// Requests of several images: 3+3+2 fill one batch of 8.
	codes, scores = post(t, ts.URL, []string{imgBody(1, 2, 3), imgBody(4, 5, 6), imgBody(7, 8)})
	for i, bs := range [][]float32{{1, 2, 3}, {4, 5, 6}, {7, 8}} {
		var w []float64
		for _, b := range bs {
			w = append(w, want(b))
		}
		if codes[i] != 200 || !slices.Equal(scores[i], w) {
			t.Errorf("multi-image request %d: %d %v, want %v", i, codes[i], scores[i], w)
		}
	}
	if got := calls(); !slices.Equal(got, []int{8}) {
		t.Errorf("Score calls %v, want one of 8", got)
	}
	if got := testutil.ToFloat64(s.metrics.samples.WithLabelValues("img")); got != 16 {
		t.Errorf("samples scored %v, want 16", got)
	}
	// Larger than a batch: alone, at once.
	start = time.Now()
	codes, _ = post(t, ts.URL, []string{imgBody(0, 1, 2, 3, 4, 5, 6, 7, 8)})
	if codes[0] != 200 || time.Since(start) > 10*time.Second {
		t.Errorf("a request above BatchMax: %d after %v", codes[0], time.Since(start))
	}
	if got := calls(); !slices.Equal(got, []int{9}) {
		t.Errorf("Score calls %v, want one of 9", got)
	}
	// Tables are never batched.
	if c, m := call(t, "GET", ts.URL+"/v2/models/rows", ""); c != 200 || m["parameters"].(map[string]any)["batching"] != false {
		t.Errorf("rows metadata: %d %v", c, m)
	}
	if c, m := call(t, "GET", ts.URL+"/v2/models/img", ""); c != 200 || m["parameters"].(map[string]any)["batching"] != true {
		t.Errorf("img metadata: %d %v", c, m)
	}
	metrics := get(t, ts.URL+"/metrics")
	for _, w := range []string{`oddity_batch_samples_count{model="img"} 3`, `oddity_batch_samples_sum{model="img"} 25`,
		`oddity_batch_requests_sum{model="img"} 12`} {
		if !strings.Contains(metrics, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
}

// A request alone waits for the delay, then is scored by itself.
func TestBatchingDelay(t *testing.T) {
	_, ts := newBatchServer(t, Options{BatchMax: 64, BatchDelay: 150 * time.Millisecond})
	start := time.Now()
	codes, scores := post(t, ts.URL, []string{imgBody(3)})
	if el := time.Since(start); codes[0] != 200 || scores[0][0] != want(3) || el < 150*time.Millisecond {
		t.Errorf("a lone request: %d %v after %v, want %v after at least the delay", codes[0], scores[0], el, want(3))
	}
	if got := calls(); !slices.Equal(got, []int{1}) {
		t.Errorf("Score calls %v, want one of 1", got)
	}
}

// A non-finite score fails only the request whose row it is; an error of
// the batched call is found again request by request, so only the request
// that caused it fails.
func TestBatchingErrorsStayPerRequest(t *testing.T) {
	_, ts := newBatchServer(t, Options{BatchMax: 4, BatchDelay: 20 * time.Second})
	codes, scores := post(t, ts.URL, []string{imgBody(1), imgBody(7777), imgBody(2), imgBody(3)})
	for i, w := range []float64{want(1), 0, want(2), want(3)} {
		switch {
		case i == 1 && codes[i] != 422:
			t.Errorf("the NaN request: %d, want 422", codes[i])
		case i != 1 && (codes[i] != 200 || scores[i][0] != w):
			t.Errorf("request %d beside a NaN: %d %v, want %v", i, codes[i], scores[i], w)
		}
	}
	if got := calls(); !slices.Equal(got, []int{4}) {
		t.Errorf("Score calls %v, want one of 4", got)
	}
	codes, scores = post(t, ts.URL, []string{imgBody(1), imgBody(2), imgBody(6666), imgBody(3)})
	for i, w := range []float64{want(1), want(2), 0, want(3)} {
		switch {
		case i == 2 && codes[i] != 400:
			t.Errorf("the poison request: %d, want 400", codes[i])
		case i != 2 && (codes[i] != 200 || scores[i][0] != w):
			t.Errorf("request %d beside a poison one: %d %v, want %v", i, codes[i], scores[i], w)
		}
	}
	if got := calls(); !slices.Equal(got, []int{1, 1, 1, 1, 4}) {
		t.Errorf("Score calls %v, want the batch of 4 then each alone", got)
	}
}

// Batching keeps the server's limits: while the only slot is held, a
// batch fills up and waits in the queue; with no queue it is refused at
// once with 503; a batch that waits past the timeout is a 503.
func TestBatchingRespectsLimits(t *testing.T) {
	_, ts := newBatchServer(t, Options{BatchMax: 4, BatchDelay: time.Millisecond, MaxInFlight: 1, MaxQueue: 1, Timeout: 3 * time.Second})
	hold := make(chan struct{})
	recMu.Lock()
	recHold = hold
	recMu.Unlock()
	defer func() {
		recMu.Lock()
		recHold = nil
		recMu.Unlock()
	}()
	type answer struct {
		codes  []int
		scores [][]float64
	}
	first := make(chan answer, 1)
	go func() {
		c, s := post(t, ts.URL, []string{imgBody(1)})
		first <- answer{c, s}
	}()
	eventually(t, "the first batch to score", func() bool { recMu.Lock(); defer recMu.Unlock(); return len(recCalls) == 1 })
	// The slot is held: the next requests fill one batch of 4, which
	// waits in the queue (one place) ...
	second := make(chan answer, 1)
	go func() {
		c, s := post(t, ts.URL, []string{imgBody(2), imgBody(3), imgBody(4), imgBody(5)})
		second <- answer{c, s}
	}()
	time.Sleep(300 * time.Millisecond)
	// ... so a third batch finds the queue full: 503 at once.
	start := time.Now()
	codes, _ := post(t, ts.URL, []string{imgBody(6), imgBody(7)})
	if codes[0] != 503 || codes[1] != 503 || time.Since(start) > time.Second {
		t.Errorf("a batch beyond the queue: %v after %v, want 503s at once", codes, time.Since(start))
	}
	hold <- struct{}{}
	hold <- struct{}{}
	a, b := <-first, <-second
	if a.codes[0] != 200 || a.scores[0][0] != want(1) {
		t.Errorf("first: %v %v", a.codes, a.scores)
	}
	for i := range 4 {
		if b.codes[i] != 200 || b.scores[i][0] != want(float32(i+2)) {
			t.Errorf("second batch, request %d: %d %v", i, b.codes[i], b.scores[i])
		}
	}
	if got := calls(); !slices.Equal(got, []int{1, 4}) {
		t.Errorf("Score calls %v, want 1 then a batch of 4", got)
	}
	// Timeout: the slot stays held past the server's limit.
	start = time.Now()
	codes, _ = post(t, ts.URL, []string{imgBody(1), imgBody(2)})
	if codes[0] != 503 || codes[1] != 503 || time.Since(start) > 6*time.Second {
		t.Errorf("batched requests past the timeout: %v after %v, want 503", codes, time.Since(start))
	}
}

// GANomaly scores an image the same in a batch as alone: batching changes
// how many images one call scores, never an image's score.
func TestBatchingGANomalyScoresUnchanged(t *testing.T) {
	o := ganomaly.DefaultOptions()
	dcgantest.Tiny(&o.Settings, 3)
	o.Epochs = 1
	d := ganomaly.New(o)
	x := dcgantest.Images(48, 1, 16, 16, 1)
	m, err := detector.Fit(context.Background(), d, detector.TrainSet{X: x}, detector.ThresholdRule{Contamination: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := m.SaveFile(filepath.Join(dir, "gan.odm")); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Dir: dir, BatchMax: 16, BatchDelay: 20 * time.Second, Logger: quietLogger()})
	_ = s
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	alone := make([]float64, 16)
	bodies := make([]string, 16)
	for i := range bodies {
		img := &data.Dataset{Name: "one", N: 1, Shape: x.Shape, X: x.X[i*256 : (i+1)*256]}
		sc, err := m.Score(context.Background(), img)
		if err != nil {
			t.Fatal(err)
		}
		alone[i] = sc[0]
		raw, _ := json.Marshal(img.X)
		bodies[i] = fmt.Sprintf(`{"inputs":[{"name":"input","shape":[1,1,16,16],"datatype":"FP32","data":%s}]}`, raw)
	}
	var wg sync.WaitGroup
	got := make([]float64, 16)
	for i := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, m := call(t, "POST", ts.URL+"/v2/models/gan/infer", bodies[i])
			if c != 200 {
				t.Errorf("request %d: %d %v", i, c, m)
				return
			}
			got[i] = m["outputs"].([]any)[0].(map[string]any)["data"].([]any)[0].(float64)
		}()
	}
	wg.Wait()
	for i := range got {
		if math.Abs(got[i]-alone[i]) > 1e-6*math.Abs(alone[i]) {
			t.Errorf("image %d: %v batched, %v alone", i, got[i], alone[i])
		}
	}
	metrics := get(t, ts.URL+"/metrics")
	if !strings.Contains(metrics, `oddity_batch_samples_count{model="gan"} 1`) || !strings.Contains(metrics, `oddity_batch_samples_sum{model="gan"} 16`) {
		t.Error("the 16 requests were not scored in one call")
	}
}
