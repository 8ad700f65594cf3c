package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// lockedBuffer is a bytes.Buffer safe for the server goroutines' writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `oddity serve` with args until the returned stop is
// called; it returns the command's stderr and the stop function, which
// cancels the command's context and returns its error.
func startServe(t *testing.T, args ...string) (*lockedBuffer, func() error) {
	t.Helper()
	errOut := &lockedBuffer{}
	resetFlags(rootCmd)
	rootCmd.SetOut(io.Discard)
	rootCmd.SetErr(errOut)
	rootCmd.SetArgs(append([]string{"serve"}, args...))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rootCmd.ExecuteContext(ctx) }()
	var once sync.Once
	var err error
	return errOut, func() error {
		once.Do(func() {
			cancel()
			err = <-done
			rootCmd.SetOut(nil)
			rootCmd.SetErr(nil)
			rootCmd.SetArgs(nil)
		})
		return err
	}
}

// `oddity serve --grpc-addr` serves the Open Inference Protocol's gRPC
// service beside HTTP, and both stop together; a non-loopback --grpc-addr
// without TLS and tokens is refused and stops the HTTP server too.
func TestServeGRPC(t *testing.T) {
	models := filepath.Join(t.TempDir(), "models")
	if err := os.Mkdir(models, 0o755); err != nil {
		t.Fatal(err)
	}
	tinyModel(t, models, nil)
	errOut, stop := startServe(t, "--models", models, "--addr", "127.0.0.1:0", "--grpc-addr", "127.0.0.1:0")
	defer stop()
	httpRe := regexp.MustCompile(`on http://(\S+)\n`)
	grpcRe := regexp.MustCompile(`serving gRPC \(inference.GRPCInferenceService\) on (\S+)\n`)
	var httpAddr, grpcAddr string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && (httpAddr == "" || grpcAddr == ""); time.Sleep(10 * time.Millisecond) {
		if m := httpRe.FindStringSubmatch(errOut.String()); m != nil {
			httpAddr = m[1]
		}
		if m := grpcRe.FindStringSubmatch(errOut.String()); m != nil {
			grpcAddr = m[1]
		}
	}
	if httpAddr == "" || grpcAddr == "" {
		t.Fatalf("serve did not announce both addresses: %s (%v)", errOut.String(), stop())
	}
	resp, err := http.Get("http://" + httpAddr + "/v2/health/ready")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("HTTP ready: %v %v", resp, err)
	}
	resp.Body.Close()
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// ServerReadyRequest is an empty message and ServerReadyResponse a bool
	// in field 1: on the wire, Empty and BoolValue are the same messages.
	ready := &wrapperspb.BoolValue{}
	if err := conn.Invoke(context.Background(), "/inference.GRPCInferenceService/ServerReady", &emptypb.Empty{}, ready); err != nil || !ready.Value {
		t.Fatalf("gRPC ServerReady: %v %v", ready, err)
	}
	if err := stop(); err != nil {
		t.Fatalf("serve stopped with %v", err)
	}
	if err := conn.Invoke(context.Background(), "/inference.GRPCInferenceService/ServerLive", &emptypb.Empty{}, ready); err == nil {
		t.Error("gRPC still served after the stop")
	}

	_, stop = startServe(t, "--models", models, "--addr", "127.0.0.1:0", "--grpc-addr", "0.0.0.0:0")
	done := make(chan error, 1)
	go func() { done <- stop() }()
	select {
	case err := <-done:
		// stop cancels too, so the refusal must be the error returned.
		if err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("--grpc-addr 0.0.0.0:0 without TLS and tokens: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
}
