package server

import (
	"context"
	"encoding/binary"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/internal/dcgan/dcgantest"
)

// headLen is the Inference-Header-Content-Length of the benchmark's
// requests.
var headLen string

// ganomalyModel trains a GANomaly of width 64 (the paper's) on 64
// synthetic 1×28×28 images, one epoch, and saves it to dir/gan.odm. The
// benchmark measures serving, not the model's quality: one epoch gives
// the networks the paper's size, which is what scoring costs.
func ganomalyModel(b *testing.B, dir string) []string {
	b.Helper()
	o := ganomaly.DefaultOptions()
	o.Width, o.Epochs, o.MaxImages, o.BatchSize = 64, 1, 64, 64
	o.ValFraction, o.Select = 0, ganomaly.SelectLast
	x := dcgantest.Images(64, 1, 28, 28, 1)
	m, err := detector.Fit(context.Background(), ganomaly.New(o), detector.TrainSet{X: x}, detector.ThresholdRule{Contamination: 0.05})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.SaveFile(filepath.Join(dir, "gan.odm")); err != nil {
		b.Fatal(err)
	}
	// The binary tensor extension, as image clients send pixels: a JSON
	// header, then the values as little-endian float32.
	head := `{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","parameters":{"binary_data_size":3136}}]}`
	bodies := make([]string, x.N)
	for i := range bodies {
		b := []byte(head)
		for _, v := range x.Row(i) {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
		bodies[i] = string(b)
	}
	headLen = strconv.Itoa(len(head))
	return bodies
}

// BenchmarkBatching: 64 clients, each sending one 28×28 image at a time
// to a GANomaly of width 64 over loopback HTTP, with dynamic batching off
// and on (BatchMax 64, BatchDelay 2 ms), twice each, alternating, so
// that a shared machine's load falls on both alike. It reports requests per second
// and the latency percentiles, and the process's CPU time per request
// (clients included), from which a dedicated machine's throughput
// follows; one op is one request.
//
//	go test ./server -run XXX -bench Batching -benchtime 2000x
func BenchmarkBatching(b *testing.B) {
	dir := b.TempDir()
	bodies := ganomalyModel(b, dir)
	for _, c := range []struct {
		name string
		max  int
	}{{"off", 0}, {"on", 64}, {"off", 0}, {"on", 64}} {
		b.Run(c.name, func(b *testing.B) {
			s, err := New(Options{Dir: dir, BatchMax: c.max, BatchDelay: 2 * time.Millisecond, Logger: quietLogger()})
			if err != nil {
				b.Fatal(err)
			}
			ts := httptest.NewServer(s.Handler())
			defer ts.Close()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			const clients = 64
			var next atomic.Int64
			lat := make([][]time.Duration, clients)
			var failed atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			cpu0 := procCPU(b)
			start := time.Now()
			for k := 0; k < clients; k++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						t0 := time.Now()
						req, _ := http.NewRequest("POST", ts.URL+"/v2/models/gan/infer", strings.NewReader(bodies[i%int64(len(bodies))]))
						req.Header.Set(binaryHeader, headLen)
						resp, err := client.Do(req)
						if err != nil {
							failed.Add(1)
							continue
						}
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode != 200 {
							failed.Add(1)
						}
						lat[k] = append(lat[k], time.Since(t0))
					}
				}()
			}
			wg.Wait()
			el := time.Since(start)
			cpu := procCPU(b) - cpu0
			b.StopTimer()
			if failed.Load() > 0 {
				b.Fatalf("%d requests failed", failed.Load())
			}
			all := slices.Concat(lat...)
			slices.Sort(all)
			pct := func(p float64) float64 { return float64(all[int(p*float64(len(all)-1))].Microseconds()) / 1000 }
			b.ReportMetric(float64(b.N)/el.Seconds(), "req/s")
			b.ReportMetric(pct(0.5), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/req")
			if c.max > 0 {
				samples, calls := histogram(b, s, "oddity_batch_samples")
				if calls > 0 {
					b.ReportMetric(samples/calls, "images/call")
				}
			}
		})
	}
}

// procCPU is the CPU time (user and system) the process has used: on a
// machine shared with other work, the CPU time per request says what a
// dedicated machine's throughput would be (its cores divided by it),
// which wall-clock requests per second cannot.
func procCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// histogram returns the sum and count of a histogram of the server's
// registry.
func histogram(b *testing.B, s *Server, name string) (sum, count float64) {
	b.Helper()
	mfs, err := s.opt.Registry.Gather()
	if err != nil {
		b.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			sum += m.GetHistogram().GetSampleSum()
			count += float64(m.GetHistogram().GetSampleCount())
		}
	}
	return sum, count
}
