package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

// fragile is a test detector whose score overflows as a network's would:
// the sum of the values, NaN when a value passes 1e20, +Inf below -1e20.
type fragile struct{ offset }

func (f *fragile) Method() string { return "servertest-fragile" }
func (f *fragile) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	out, err := f.offset.Score(ctx, x)
	for i := range out {
		for _, v := range x.Row(i) {
			switch {
			case v > 1e20:
				out[i] = math.NaN()
			case v < -1e20:
				out[i] = math.Inf(1)
			}
		}
	}
	return out, err
}

// gated is a test detector whose Score waits for a token on gate (or its
// context), so that tests can hold requests in flight.
type gated struct{ offset }

var gate = make(chan struct{})

func (g *gated) Method() string { return "servertest-gated" }
func (g *gated) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	select {
	case <-gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return g.offset.Score(ctx, x)
}

func init() {
	for _, c := range []struct {
		method string
		make   func() detector.Detector
	}{
		{"servertest-fragile", func() detector.Detector { return &fragile{} }},
		{"servertest-gated", func() detector.Detector { return &gated{} }},
	} {
		detector.Register(detector.Info{Method: c.method, Kind: detector.Unsupervised | detector.Tables, Summary: "test detector",
			Options: func() any { return &struct{}{} },
			New:     func(any) (detector.Detector, error) { return c.make(), nil }})
	}
}

// writeDetector saves a model of d (an offset-based test detector) for
// samples of 3 values.
func writeDetector(t testing.TB, path string, d detector.Detector, off *tensor.Tensor) {
	t.Helper()
	off.Name = "offset"
	switch x := d.(type) {
	case *fragile:
		x.off = off
	case *gated:
		x.off = off
	}
	train := &data.Dataset{Name: "t", N: 4, Shape: []int{3}, X: []float32{0, 1, 2, 1, 2, 0, 2, 0, 1, 0, 0, 0}}
	// Fit scores the training rows: let the gated detector through.
	done := make(chan struct{})
	go func() {
		for {
			select {
			case gate <- struct{}{}:
			case <-done:
				return
			}
		}
	}()
	m, err := detector.Fit(context.Background(), d, detector.TrainSet{X: train}, detector.ThresholdRule{Value: 10, HasValue: true})
	close(done)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// A non-finite score is a 422 naming the rows on /v1 and /v2 alike, never
// a 200 (the /v1 answer used to be 200 with an empty body) or a 500, and
// it is not counted as scored samples.
func TestNonFiniteScoresAre422(t *testing.T) {
	dir := t.TempDir()
	writeDetector(t, filepath.Join(dir, "fragile.odm"), &fragile{}, tensor.New(1))
	s, err := New(Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	for _, c := range []struct{ path, body string }{
		{"/v1/models/fragile:score", `{"rows":[[1,2,3],[1e25,0,0],[0,0,0],[-1e25,1,1]]}`},
		{"/v2/models/fragile/infer", `{"inputs":[{"name":"input","shape":[4,3],"datatype":"FP64","data":[1,2,3,1e25,0,0,0,0,0,-1e25,1,1]}]}`},
	} {
		code, m := call(t, "POST", ts.URL+c.path, c.body)
		msg, _ := m["error"].(string)
		if code != http.StatusUnprocessableEntity || !strings.Contains(msg, "rows 1, 3") || !strings.Contains(msg, "2 of 4") {
			t.Errorf("%s: %d %q, want 422 naming rows 1 and 3", c.path, code, msg)
		}
	}
	raw := get(t, ts.URL+"/metrics")
	for _, want := range []string{`oddity_http_requests_total{code="422",endpoint="score",model="fragile"} 1`, `oddity_nonfinite_scores_total{model="fragile"} 4`} {
		if !strings.Contains(raw, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(raw, `oddity_samples_scored_total{model="fragile"}`) {
		t.Errorf("failed requests counted as scored samples")
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// stallReader yields n bytes, then blocks until closed (a client that
// declared more than it sends).
type stallReader struct {
	n    int
	stop chan struct{}
}

func (r *stallReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		<-r.stop
		return 0, io.ErrUnexpectedEOF
	}
	k := min(len(p), r.n)
	for i := range p[:k] {
		p[i] = ' '
	}
	r.n -= k
	return k, nil
}

// Memory follows the bytes that arrive, not the Content-Length: a request
// declaring 256 MiB that sends 4 KiB and stops costs kilobytes (it used to
// allocate the declared length at once, and pool it), a declared length
// over the limit is refused unread, and the bodies held at once are
// bounded.
func TestBodyMemoryFollowsTheBytes(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	s, err := New(Options{Dir: dir, MaxBodyBytes: 1 << 30, MaxBodyMemory: 1 << 30, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	serve := func(declared int64, body io.Reader) *httptest.ResponseRecorder {
		req := httptest.NewRequest("POST", "/v2/models/rows/infer", body)
		req.ContentLength = declared
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	close(stop)
	rec := serve(256<<20, &stallReader{n: 4096, stop: stop})
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
		t.Errorf("a 4 KiB body declaring 256 MiB allocated %d MiB", grew>>20)
	}
	if rec.Code != http.StatusBadRequest || strings.Contains(rec.Body.String(), "127.0.0.1") {
		t.Errorf("body cut short: %d %s, want 400 naming no address", rec.Code, rec.Body.String())
	}

	// Over the limit: refused before a byte is read.
	small, err := New(Options{Dir: dir, MaxBodyBytes: 100 << 10, MaxBodyMemory: 150 << 10, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	h = small.Handler()
	if rec := serve(1<<30, iotest{t}); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("declared 1 GiB over a 100 KiB limit: %d", rec.Code)
	}
	// Each body of 80 KiB holds a 64 KiB and a 90 KiB buffer (it doubles
	// up to its declared length; the outgrown buffer counts until the
	// request ends), and MaxBodyMemory is raised to 2·100 KiB + 128 KiB:
	// two such bodies fit at once, a third is 503 with Retry-After, at
	// once; once the first two end, another fits.
	if small.opt.MaxBodyMemory != 328<<10 {
		t.Fatalf("MaxBodyMemory %d, want it raised to 328 KiB", small.opt.MaxBodyMemory)
	}
	hold := make(chan struct{})
	held := make(chan *httptest.ResponseRecorder, 3)
	for i := 0; i < 2; i++ {
		go func() { held <- serve(90<<10, &stallReader{n: 80 << 10, stop: hold}) }()
	}
	deadline := time.Now().Add(5 * time.Second)
	for small.bodies.used.Load() < 2*(154<<10) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	go func() { held <- serve(90<<10, &stallReader{n: 80 << 10, stop: hold}) }()
	select {
	case rec = <-held:
		if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
			t.Errorf("third body beyond MaxBodyMemory: %d %q", rec.Code, rec.Header().Get("Retry-After"))
		}
	case <-time.After(5 * time.Second):
		t.Error("the third body beyond MaxBodyMemory was not refused at once")
	}
	close(hold)
	for i := 0; i < 2; i++ {
		select {
		case <-held:
		case <-time.After(5 * time.Second):
			t.Fatal("held requests did not end")
		}
	}
	if u := small.bodies.used.Load(); u != 0 {
		t.Errorf("%d body bytes still reserved after the requests ended", u)
	}
	body := `{"inputs":[{"name":"input","shape":[1,3],"data":[1,2,3]}]}`
	if rec := serve(int64(len(body)), strings.NewReader(body)); rec.Code != 200 {
		t.Errorf("after the bodies were released: %d %s", rec.Code, rec.Body.String())
	}
}

// iotest is a body that must not be read.
type iotest struct{ t *testing.T }

func (r iotest) Read([]byte) (int, error) {
	r.t.Error("the body of a request over the limit was read")
	return 0, io.EOF
}

// rawRequest writes a request by hand on a TCP connection and returns the
// response.
func rawRequest(t *testing.T, addr, head string, body []byte, closeWrite bool) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(append([]byte(head), body...)); err != nil {
		t.Fatal(err)
	}
	if closeWrite {
		conn.(*net.TCPConn).CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// Client faults are 4xx whose messages name nothing of the host: a body
// cut short (400), a body too slow (408), a wrong method (405 with Allow).
func TestClientFaultsAre4xx(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	s, err := New(Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(s.Handler())
	ts.Config.ReadTimeout = 300 * time.Millisecond
	ts.Start()
	defer ts.Close()
	addr := ts.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	head := "POST /v2/models/rows/infer HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
	for _, c := range []struct {
		name       string
		closeWrite bool
		code       int
	}{{"cut short", true, 400}, {"too slow", false, 408}} {
		resp, body := rawRequest(t, addr, head, []byte(`{"inputs":`), c.closeWrite)
		if resp.StatusCode != c.code || strings.Contains(body, port) || strings.Contains(body, "127.0.0.1") {
			t.Errorf("%s: %d %s, want %d naming no address", c.name, resp.StatusCode, body, c.code)
		}
	}
	for _, c := range []struct{ method, path, allow string }{
		{"GET", "/v2/models/rows/infer", "POST"},
		{"DELETE", "/v2/models/rows", "GET"},
		{"GET", "/v1/models/rows:score", "POST"},
		{"PUT", "/v2/health/ready", "GET"},
	} {
		req, _ := http.NewRequest(c.method, ts.URL+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 405 || resp.Header.Get("Allow") != c.allow || !json.Valid(b) {
			t.Errorf("%s %s: %d Allow %q %s, want 405 Allow %s", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), b, c.allow)
		}
	}
	if c, _ := call(t, "GET", ts.URL+"/nowhere", ""); c != 404 {
		t.Errorf("unknown path: %d", c)
	}
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// One bad file in the folder is skipped with a log line and a metric; the
// others load and the server starts. A model whose new file is bad keeps
// serving its previous version.
func TestBadModelFileIsSkipped(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	writeModel(t, filepath.Join(dir, "other.odm"), 1, 3)
	if err := os.WriteFile(filepath.Join(dir, "broken.odm"), []byte("ODDITYMF garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	s, err := New(Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatalf("one bad file kept the server from starting: %v", err)
	}
	if got := s.Models(); len(got) != 2 || got[0] != "other" || got[1] != "rows" {
		t.Errorf("models %v, want other and rows", got)
	}
	if !strings.Contains(logs.String(), "model file skipped") || !strings.Contains(logs.String(), "name=broken") {
		t.Errorf("no log line for the skipped file:\n%s", logs.String())
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	if !strings.Contains(get(t, ts.URL+"/metrics"), `oddity_model_load_failures_total{model="broken"} 1`) {
		t.Error("no metric for the skipped file")
	}
	// rows.odm replaced by a truncated copy: the old rows keeps serving.
	good, _ := os.ReadFile(filepath.Join(dir, "rows.odm"))
	writeModel(t, filepath.Join(dir, "other.odm"), 5, 3)
	if err := os.WriteFile(filepath.Join(dir, "rows.odm"), good[:len(good)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Error("Reload reported no problem with two bad files")
	}
	if _, m := call(t, "POST", ts.URL+"/v1/models/rows:score", `{"rows":[[0,0,0]]}`); m["scores"] == nil || m["scores"].([]any)[0] != 0.5 {
		t.Errorf("rows after a bad new file: %v, want the old model's 0.5", m)
	}
	if _, m := call(t, "POST", ts.URL+"/v1/models/other:score", `{"rows":[[0,0,0]]}`); m["scores"] == nil || m["scores"].([]any)[0] != 5.0 {
		t.Errorf("other after reload: %v, want the new model's 5", m)
	}
	// A folder where nothing loads is still an error at start.
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "x.odm"), []byte("nope"), 0o644)
	if _, err := New(Options{Dir: empty, Logger: quietLogger()}); err == nil {
		t.Error("a folder of only bad files started")
	}
}

// selfSigned writes a certificate and key for 127.0.0.1 signed by parent
// (itself when nil) and returns them.
func selfSigned(t *testing.T, dir, name string, isCA bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, usage x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey, string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: isCA, BasicConstraintsValid: true}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	certPath, keyPath := filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	return cert, key, certPath, keyPath
}

// startRun runs s on a loopback port and returns its address and a stop
// function that waits for Run to return.
func startRun(t *testing.T, s *Server, addr string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- s.Run(ctx, addr, 5*time.Second, func(a string) { addrc <- a }) }()
	select {
	case a := <-addrc:
		return a, func() error { cancel(); return <-errc }
	case err := <-errc:
		cancel()
		return "", func() error { return err }
	}
}

// TLS with client certificates, and bearer tokens: health endpoints are
// open, everything else needs a token; a non-loopback address is refused
// without both unless InsecureListen is set.
func TestTLSAndTokens(t *testing.T) {
	dir := t.TempDir()
	models := filepath.Join(dir, "models")
	os.Mkdir(models, 0o755)
	writeModel(t, filepath.Join(models, "rows.odm"), 0.5, 3)
	ca, caKey, caPath, _ := selfSigned(t, dir, "ca", true, nil, nil, x509.ExtKeyUsageClientAuth)
	_, _, certPath, keyPath := selfSigned(t, dir, "server", false, nil, nil, x509.ExtKeyUsageServerAuth)
	_, _, clientCert, clientKey := selfSigned(t, dir, "client", false, ca, caKey, x509.ExtKeyUsageClientAuth)
	token := "s3cret-token-0123456789"
	tokens := filepath.Join(dir, "tokens")
	os.WriteFile(tokens, []byte("# clients\n\nanother-token-abcdefghij\n"+token+"\n"), 0o600)

	s, err := New(Options{Dir: models, TokenFile: tokens, TLSCert: certPath, TLSKey: keyPath, TLSClientCA: caPath, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := startRun(t, s, "127.0.0.1:0")
	defer stop()
	serverPEM, _ := os.ReadFile(certPath)
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(serverPEM)
	pair, err := tls.LoadX509KeyPair(clientCert, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}}}}
	noCert := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	do := func(c *http.Client, method, path, tok, body string) (int, http.Header, error) {
		req, _ := http.NewRequest(method, "https://"+addr+path, strings.NewReader(body))
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, resp.Header, nil
	}
	score := `{"rows":[[1,2,3]]}`
	for _, c := range []struct {
		method, path, tok string
		code              int
	}{
		{"GET", "/v2/health/live", "", 200},
		{"GET", "/v2/health/ready", "", 200},
		{"POST", "/v1/models/rows:score", "", 401},
		{"POST", "/v1/models/rows:score", "wrong-token-0123456789", 401},
		{"POST", "/v1/models/rows:score", token, 200},
		{"GET", "/metrics", "", 401},
		{"GET", "/metrics", token, 200},
		{"GET", "/v2/models", "another-token-abcdefghij", 200},
	} {
		code, h, err := do(client, c.method, c.path, c.tok, score)
		if err != nil || code != c.code {
			t.Errorf("%s %s token %q: %d %v, want %d", c.method, c.path, c.tok, code, err, c.code)
		}
		if code == 401 && h.Get("WWW-Authenticate") == "" {
			t.Errorf("401 without WWW-Authenticate")
		}
	}
	if _, _, err := do(noCert, "GET", "/v2/health/live", "", ""); err == nil {
		t.Error("a client without a certificate was served")
	}
	resp, err := http.Get("http://" + addr + "/v2/health/live")
	if err == nil && resp.StatusCode == 200 {
		t.Error("plain HTTP was served")
	}
	if err == nil {
		resp.Body.Close()
	}

	// Exposure: a wildcard address without TLS and tokens is refused.
	open, err := New(Options{Dir: models, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if _, stop := startRun(t, open, "0.0.0.0:0"); stop() == nil || !strings.Contains(stop().Error(), "refusing") {
		t.Error("listened on 0.0.0.0 without TLS and tokens")
	}
	insecure, _ := New(Options{Dir: models, InsecureListen: true, Logger: quietLogger()})
	if a, stop := startRun(t, insecure, "0.0.0.0:0"); a == "" {
		t.Errorf("InsecureListen refused: %v", stop())
	} else if err := stop(); err != nil {
		t.Error(err)
	}
	// A short token is refused at start.
	os.WriteFile(tokens, []byte("short\n"), 0o600)
	if _, err := New(Options{Dir: models, TokenFile: tokens, Logger: quietLogger()}); err == nil {
		t.Error("a 5-character token was accepted")
	}
}

// Load shedding: with one slot and one queue place, a third concurrent
// request is refused at once with 503 and Retry-After; in-flight and queue
// depths are metrics; readiness turns false while draining.
func TestLoadSheddingAndDraining(t *testing.T) {
	dir := t.TempDir()
	writeDetector(t, filepath.Join(dir, "slow.odm"), &gated{}, tensor.New(1))
	s, err := New(Options{Dir: dir, MaxInFlight: 1, MaxQueue: 1, RetryAfter: 2 * time.Second, DrainDelay: 400 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := startRun(t, s, "127.0.0.1:0")
	url := "http://" + addr
	body := `{"rows":[[1,2,3]]}`
	codes := make(chan int, 2)
	for i := 0; i < 2; i++ {
		go func() {
			c, _ := call(t, "POST", url+"/v1/models/slow:score", body)
			codes <- c
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(get(t, url+"/metrics"), `oddity_queued_requests{model="slow"} 1`) {
		time.Sleep(5 * time.Millisecond)
	}
	m := get(t, url+"/metrics")
	if !strings.Contains(m, `oddity_inflight_requests{model="slow"} 1`) || !strings.Contains(m, `oddity_queued_requests{model="slow"} 1`) {
		t.Fatalf("metrics do not show 1 in flight and 1 queued")
	}
	start := time.Now()
	req, _ := http.NewRequest("POST", url+"/v1/models/slow:score", strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "2" || time.Since(start) > time.Second {
		t.Errorf("third request: %d Retry-After %q after %v, want 503 at once with Retry-After 2", resp.StatusCode, resp.Header.Get("Retry-After"), time.Since(start))
	}
	gate <- struct{}{}
	gate <- struct{}{}
	for i := 0; i < 2; i++ {
		if c := <-codes; c != 200 {
			t.Errorf("held request: %d", c)
		}
	}
	if !strings.Contains(get(t, url+"/metrics"), `oddity_shed_requests_total{model="slow"} 1`) {
		t.Error("the refused request is not counted")
	}
	// Draining: readiness is 503 during the drain delay, liveness 200.
	stopped := make(chan error, 1)
	go func() { stopped <- stop() }()
	time.Sleep(100 * time.Millisecond)
	if c, _ := call(t, "GET", url+"/v2/health/ready", ""); c != 503 {
		t.Errorf("ready while draining: %d", c)
	}
	if c, _ := call(t, "GET", url+"/v2/health/live", ""); c != 200 {
		t.Errorf("live while draining: %d", c)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
}

// Request ids: a usable client id is echoed in the header, error bodies,
// /v1 answers and the log; a missing or unusable one is replaced by a
// generated one; the /v2 answer's id defaults to it.
func TestRequestIDs(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	var logs syncBuffer
	s, err := New(Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	send := func(path, id, body string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
		if id != "" {
			req.Header.Set("X-Request-Id", id)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	resp, m := send("/v1/models/rows:score", "abc-123", `{"rows":[[1,2]]}`)
	if resp.Header.Get("X-Request-Id") != "abc-123" || m["request_id"] != "abc-123" || !strings.Contains(logs.String(), "request_id=abc-123") {
		t.Errorf("echoed id: header %q body %v log %s", resp.Header.Get("X-Request-Id"), m, logs.String())
	}
	resp, m = send("/v1/models/rows:score", "bad id with spaces", `{"rows":[[1,2,3]]}`)
	gen := resp.Header.Get("X-Request-Id")
	if len(gen) != 24 || m["request_id"] != gen {
		t.Errorf("generated id %q, body %v", gen, m)
	}
	resp, m = send("/v2/models/rows/infer", "", `{"inputs":[{"name":"input","shape":[1,3],"data":[1,2,3]}]}`)
	if id := resp.Header.Get("X-Request-Id"); id == "" || m["id"] != id {
		t.Errorf("v2 id %v, header %q", m["id"], id)
	}
	resp, m = send("/v2/models/rows/infer", "r1", `{"id":"mine","inputs":[{"name":"input","shape":[1,3],"data":[1,2,3]}]}`)
	if m["id"] != "mine" || resp.Header.Get("X-Request-Id") != "r1" {
		t.Errorf("v2 with its own id: %v %q", m["id"], resp.Header.Get("X-Request-Id"))
	}
}

// A panic in scoring is a 500 that names only the request id; the detail
// goes to the log.
func TestInternalErrorsExposeNothing(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	var logs syncBuffer
	s, err := New(Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.writeError(rec, fmt.Errorf("open /secret/path/model.odm: %w", errors.New("boom")))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "/secret") {
		t.Errorf("internal error answered %d %s", rec.Code, rec.Body.String())
	}
	if !strings.Contains(logs.String(), "/secret/path") {
		t.Error("the detail did not reach the log")
	}
}
