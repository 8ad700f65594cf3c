package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	crand "crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	le "encoding/binary"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/big"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/server"
)

// `oddity bench serve` is the server's load test: it serves one model on a
// loopback port, drives it with concurrent clients for a fixed time, and
// compares the throughput with calling the scoring function in-process with
// the same concurrency and batch size.
func init() {
	var (
		modelPath      string
		clients, batch int
		duration       time.Duration
		directFor      time.Duration
		seed           uint64
		asJSON, binary bool
		useTLS         bool
	)
	cmd := &cobra.Command{
		Use:   "serve --model MODEL",
		Short: "Load-test the HTTP server with concurrent clients on loopback",
		Example: `  oddity bench serve --model thyroid.odm --clients 64 --duration 60s --batch 100
  oddity bench serve --model digits.odm --clients 64 --duration 60s --batch 16`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if clients < 1 || batch < 1 || duration <= 0 {
				return fmt.Errorf("--clients, --batch and --duration must be positive")
			}
			res, err := benchServe(cmd.Context(), modelPath, clients, batch, duration, directFor, seed, binary, useTLS)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			scheme := "http"
			if res.TLS {
				scheme = "https"
			}
			fmt.Fprintf(out, "serve %s (%s, %s) clients=%d batch=%d %s: %d requests, %d errors, %.0f req/s, %.0f samples/s, latency p50 %.2f ms p90 %.2f ms p99 %.2f ms\n",
				res.Method, res.Encoding, scheme, clients, batch, duration, res.Requests, res.Errors, res.RequestsPerSec, res.SamplesPerSec, res.P50ms, res.P90ms, res.P99ms)
			fmt.Fprintf(out, "direct in-process, same concurrency and batch: %.0f samples/s; server/direct = %.2f\n", res.DirectSamplesPerSec, res.Ratio)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&modelPath, "model", "", "model file to serve (required)")
	f.IntVar(&clients, "clients", 64, "concurrent clients")
	f.IntVar(&batch, "batch", 100, "samples per request")
	f.DurationVar(&duration, "duration", 60*time.Second, "length of the HTTP load")
	f.DurationVar(&directFor, "direct", 10*time.Second, "length of the in-process comparison")
	f.Uint64Var(&seed, "seed", 0, "seed of the random request data")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	f.BoolVar(&useTLS, "tls", false, "serve HTTPS with a fresh self-signed certificate (ECDSA P-256, TLS 1.3), to measure what TLS costs")
	f.BoolVar(&binary, "binary", false, "send the tensors as raw FP32 bytes and ask for raw scores (the binary tensor extension) instead of JSON numbers")
	_ = cmd.MarkFlagRequired("model")
	benchCmd.AddCommand(cmd)
}

type serveBench struct {
	Method              string  `json:"method"`
	Encoding            string  `json:"encoding"`
	TLS                 bool    `json:"tls"`
	Clients             int     `json:"clients"`
	Batch               int     `json:"batch"`
	Seconds             float64 `json:"seconds"`
	Requests            int     `json:"requests"`
	Errors              int     `json:"errors"`
	RequestsPerSec      float64 `json:"requests_per_sec"`
	SamplesPerSec       float64 `json:"samples_per_sec"`
	P50ms               float64 `json:"p50_ms"`
	P90ms               float64 `json:"p90_ms"`
	P99ms               float64 `json:"p99_ms"`
	DirectSamplesPerSec float64 `json:"direct_samples_per_sec"`
	Ratio               float64 `json:"server_over_direct"`
}

func benchServe(ctx context.Context, modelPath string, clients, batch int, dur, directFor time.Duration, seed uint64, binary, useTLS bool) (*serveBench, error) {
	m, err := detector.LoadFile(modelPath)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "oddity-bench-serve")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	modelBytes, err := os.ReadFile(modelPath)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "m.odm"), modelBytes, 0o644); err != nil {
		return nil, err
	}
	so := server.Options{Dir: dir, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxBatch: max(batch, 100000)}
	var roots *x509.CertPool
	if useTLS {
		if so.TLSCert, so.TLSKey, roots, err = selfSigned(dir); err != nil {
			return nil, err
		}
	}
	s, err := server.New(so)
	if err != nil {
		return nil, err
	}
	// Request data: uniform values in [0, 1) of the model's sample shape.
	k := 1
	for _, v := range m.Schema.Shape {
		k *= v
	}
	r := rand.New(rand.NewPCG(seed, 0x5e7e))
	x := make([]float32, batch*k)
	for i := range x {
		x[i] = r.Float32()
	}
	in := map[string]any{"name": "input", "datatype": "FP32", "shape": append([]int{batch}, m.Schema.Shape...)}
	var raw []byte
	if binary {
		for _, v := range x {
			raw = le.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
		in["parameters"] = map[string]any{"binary_data_size": len(raw)}
	} else {
		in["data"] = x
	}
	envelope := map[string]any{"inputs": []map[string]any{in}}
	if binary {
		envelope["parameters"] = map[string]any{"binary_data_output": true}
	}
	body, err := json.Marshal(envelope)
	if err != nil {
		return nil, err
	}
	header := len(body)
	body = append(body, raw...)

	sctx, stop := context.WithCancel(ctx)
	defer stop()
	addrc := make(chan string, 1)
	errc := make(chan error, 1)
	go func() { errc <- s.Run(sctx, "127.0.0.1:0", 5*time.Second, func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-errc:
		return nil, err
	}
	url := "http://" + addr + "/v2/models/m/infer"
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients}
	if useTLS {
		url = "https://" + addr + "/v2/models/m/infer"
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}
	}
	client := &http.Client{Transport: tr}
	lat := make([][]float64, clients)
	errs := make([]int, clients)
	deadline := time.Now().Add(dur)
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t := time.Now()
				req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
				if err != nil {
					errs[c]++
					continue
				}
				req.Header.Set("Content-Type", "application/json")
				if binary {
					req.Header.Set("Inference-Header-Content-Length", strconv.Itoa(header))
				}
				resp, err := client.Do(req)
				if err != nil {
					errs[c]++
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs[c]++
					continue
				}
				lat[c] = append(lat[c], time.Since(t).Seconds())
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	stop()
	if err := <-errc; err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var all []float64
	res := &serveBench{Method: m.Detector.Method(), Encoding: "json", TLS: useTLS, Clients: clients, Batch: batch, Seconds: elapsed}
	if binary {
		res.Encoding = "binary"
	}
	for c := range lat {
		all = append(all, lat[c]...)
		res.Errors += errs[c]
	}
	sort.Float64s(all)
	res.Requests = len(all) + res.Errors
	res.RequestsPerSec = float64(len(all)) / elapsed
	res.SamplesPerSec = res.RequestsPerSec * float64(batch)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		return 1000 * all[min(len(all)-1, int(p*float64(len(all))))]
	}
	res.P50ms, res.P90ms, res.P99ms = pct(0.50), pct(0.90), pct(0.99)

	// The same work in-process: clients goroutines scoring batch-sized data
	// sets directly.
	ds := &data.Dataset{Name: "bench", X: x, N: batch, Shape: m.Schema.Shape}
	var mu sync.Mutex
	total := 0
	dl := time.Now().Add(directFor)
	start = time.Now()
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n := 0
			for time.Now().Before(dl) {
				if _, err := m.Score(ctx, ds); err == nil {
					n += batch
				}
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.DirectSamplesPerSec = float64(total) / time.Since(start).Seconds()
	res.Ratio = res.SamplesPerSec / res.DirectSamplesPerSec
	return res, nil
}

// selfSigned writes a fresh self-signed certificate for 127.0.0.1 and its
// key (ECDSA P-256) into dir and returns their paths and a pool that trusts
// the certificate, for the load test's TLS mode.
func selfSigned(dir string) (certFile, keyFile string, roots *x509.CertPool, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), crand.Reader)
	if err != nil {
		return "", "", nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "oddity bench serve"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(crand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", "", nil, err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", nil, err
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return "", "", nil, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return "", "", nil, err
	}
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots, nil
}
