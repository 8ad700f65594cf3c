package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/oddity-ml/oddity/server/internal/inferpb"
)

// The throughput of the two binary paths on an Isolation Forest (100
// trees) of 20 features, 1,000 rows a request, with concurrent clients on
// loopback (ODDITY_BENCH_CLIENTS, default 8):
//
//   - http-binary: POST /v2/models/forest/infer with the binary tensor
//     extension both ways (raw FP32 in, raw FP64 and flags out), one
//     keep-alive connection per client;
//   - grpc-raw: ModelInfer with raw_input_contents and raw outputs, the
//     clients sharing one connection, as gRPC clients usually do;
//   - grpc-raw-conns: the same, one connection per client, as HTTP has.
//
// The clients are stock: net/http's, and the generated gRPC stub with
// gRPC's defaults.

// benchRows is the rows of one request.
const benchRows = 1000

// transports are the ways benchRig drives the server, in order.
var transports = []string{"http-binary", "grpc-raw", "grpc-raw-conns"}

// benchRig is a server on loopback, HTTP and gRPC, and the requests.
type benchRig struct {
	clients  int
	hurl     string
	gaddr    string
	head     []byte
	body     []byte
	greq     *inferpb.ModelInferRequest
	shared   inferpb.GRPCInferenceServiceClient
	closers  []func() error
	shutdown func()
}

func newBenchRig(tb testing.TB) *benchRig {
	tb.Helper()
	r := &benchRig{clients: 8}
	if v, err := strconv.Atoi(os.Getenv("ODDITY_BENCH_CLIENTS")); err == nil && v > 0 {
		r.clients = v
	}
	dir := tb.TempDir()
	writeForest(tb, filepath.Join(dir, "forest.odm"), forestFeatures)
	s, err := New(Options{Dir: dir, MaxQueue: 4 * r.clients, Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	httpAddr, grpcAddr := make(chan string, 1), make(chan string, 1)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); _ = s.Run(ctx, "127.0.0.1:0", time.Second, func(a string) { httpAddr <- a }) }()
	go func() {
		defer wg.Done()
		_ = s.RunGRPC(ctx, "127.0.0.1:0", time.Second, func(a string) { grpcAddr <- a })
	}()
	r.hurl = "http://" + <-httpAddr + "/v2/models/forest/infer"
	r.gaddr = <-grpcAddr

	ds := gaussRows(benchRows, forestFeatures, 5)
	raw := rawFP32(ds.X)
	r.head, _ = json.Marshal(map[string]any{"inputs": []map[string]any{{"name": "input", "shape": []int{benchRows, forestFeatures}, "datatype": "FP32",
		"parameters": map[string]any{"binary_data_size": len(raw)}}}, "parameters": map[string]any{"binary_data_output": true}})
	r.body = append(append([]byte{}, r.head...), raw...)
	r.greq = &inferpb.ModelInferRequest{ModelName: "forest",
		Inputs:           []*inferpb.ModelInferRequest_InferInputTensor{{Name: "input", Datatype: "FP32", Shape: []int64{benchRows, forestFeatures}}},
		RawInputContents: [][]byte{raw}}
	r.shared = r.dial(tb)
	r.shutdown = func() {
		for _, c := range r.closers {
			c()
		}
		cancel()
		wg.Wait()
	}
	return r
}

func (r *benchRig) dial(tb testing.TB) inferpb.GRPCInferenceServiceClient {
	conn, err := grpc.NewClient(r.gaddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		tb.Fatal(err)
	}
	r.closers = append(r.closers, conn.Close)
	return inferpb.NewGRPCInferenceServiceClient(conn)
}

// callers returns one request function per client for the transport.
func (r *benchRig) callers(tb testing.TB, transport string) []func() error {
	calls := make([]func() error, r.clients)
	for i := range calls {
		switch transport {
		case "http-binary":
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			calls[i] = func() error {
				req, _ := http.NewRequest("POST", r.hurl, bytes.NewReader(r.body))
				req.Header.Set(binaryHeader, strconv.Itoa(len(r.head)))
				resp, err := c.Do(req)
				if err != nil {
					return err
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || n < 9*benchRows {
					return fmt.Errorf("HTTP answer %d of %d bytes", resp.StatusCode, n)
				}
				return nil
			}
		default:
			c := r.shared
			if transport == "grpc-raw-conns" {
				c = r.dial(tb)
			}
			calls[i] = func() error {
				a, err := c.ModelInfer(context.Background(), r.greq)
				if err == nil && (len(a.RawOutputContents) != 2 || len(a.RawOutputContents[0]) != 8*benchRows) {
					return fmt.Errorf("short gRPC answer")
				}
				return err
			}
		}
	}
	return calls
}

// drive runs requests on every client until n are done (n > 0) or d has
// passed, and returns how many were answered and in how long.
func drive(calls []func() error, n int64, d time.Duration) (int64, time.Duration, error) {
	var next, done atomic.Int64
	var failed atomic.Value
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for _, call := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				if n > 0 && next.Add(1) > n || n <= 0 && time.Now().After(end) {
					return
				}
				if err := call(); err != nil {
					failed.Store(err)
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	err, _ := failed.Load().(error)
	return done.Load(), time.Since(start), err
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkGrpcVsHTTP reports req/s and rows/s of each transport. On a
// machine shared with other work, TestGrpcThroughput's interleaved rounds
// compare the transports more fairly. Run it with
//
//	go test ./server/ -run '^$' -bench GrpcVsHTTP -benchtime 5s -count 2
func BenchmarkGrpcVsHTTP(b *testing.B) {
	r := newBenchRig(b)
	defer r.shutdown()
	for _, tr := range transports {
		b.Run(tr, func(b *testing.B) {
			calls := r.callers(b, tr)
			b.ResetTimer()
			n, el, err := drive(calls, int64(b.N), 0)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(n)/el.Seconds(), "req/s")
			b.ReportMetric(float64(n*benchRows)/el.Seconds(), "rows/s")
		})
	}
}

// TestGrpcThroughput (ODDITY_GRPC_BENCH=1) measures the transports in
// interleaved rounds (ODDITY_GRPC_ROUNDS, default 10, of 2 s each), so
// that load from elsewhere falls on all alike, and logs req/s, rows/s and
// gRPC's ratio to HTTP binary over all rounds and over each half of them
// (two measurements). Run it with
//
//	ODDITY_GRPC_BENCH=1 go test ./server/ -run GrpcThroughput -v -timeout 20m
func TestGrpcThroughput(t *testing.T) {
	if os.Getenv("ODDITY_GRPC_BENCH") != "1" {
		t.Skip("set ODDITY_GRPC_BENCH=1 to measure gRPC against HTTP binary throughput")
	}
	rounds := 10
	if v, err := strconv.Atoi(os.Getenv("ODDITY_GRPC_ROUNDS")); err == nil && v > 1 {
		rounds = v
	}
	r := newBenchRig(t)
	defer r.shutdown()
	calls := map[string][]func() error{}
	for _, tr := range transports {
		calls[tr] = r.callers(t, tr)
		if _, _, err := drive(calls[tr], int64(2*r.clients), 0); err != nil { // warm up
			t.Fatal(err)
		}
	}
	type tally struct {
		n       int64
		el, cpu time.Duration
	}
	halves := [2]map[string]*tally{{}, {}}
	for h := range halves {
		for _, tr := range transports {
			halves[h][tr] = &tally{}
		}
	}
	for i := 0; i < rounds; i++ {
		h := i * 2 / rounds
		for k := range transports {
			// Rotate the order so no transport always follows another.
			tr := transports[(k+i)%len(transports)]
			cpu0 := cpuTime()
			n, el, err := drive(calls[tr], 0, 2*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			halves[h][tr].n += n
			halves[h][tr].el += el
			halves[h][tr].cpu += cpuTime() - cpu0
		}
	}
	t.Logf("Isolation Forest, %d rows x %d features a request, %d clients, %d interleaved rounds of 2 s", benchRows, forestFeatures, r.clients, rounds)
	for h, part := range []string{"first half", "second half"} {
		base := float64(halves[h]["http-binary"].n) / halves[h]["http-binary"].el.Seconds()
		for _, tr := range transports {
			rate := float64(halves[h][tr].n) / halves[h][tr].el.Seconds()
			cpu := halves[h][tr].cpu.Seconds() * 1e3 / float64(halves[h][tr].n)
			t.Logf("%-11s %-15s %8.1f req/s %10.0f rows/s  %.3f of HTTP binary; %.2f ms CPU a request (server and client)", part, tr, rate, rate*benchRows, rate/base, cpu)
		}
	}
}
