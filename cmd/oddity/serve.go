package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/server"
)

// `oddity serve` serves every model in a folder over HTTP, and over gRPC
// with --grpc-addr, until SIGTERM or Ctrl-C (graceful: readiness turns
// false, requests in flight finish), reloading the folder on SIGHUP without
// dropping requests.
func init() {
	var (
		o              server.Options
		addr           string
		grpcAddr       string
		grace          time.Duration
		maxBodyMemory  int64
		maxInFlight    int
		maxQueue       int
		tokenFile      string
		insecureListen bool
	)
	cmd := &cobra.Command{
		Use:   "serve --models DIR [--addr 127.0.0.1:8080]",
		Short: "Serve scores over HTTP and gRPC (Open Inference Protocol, Prometheus metrics)",
		Long: `Serve every model file in DIR over HTTP. A model's name is its file name
without the extension. A file that fails to load is skipped (logged, and
counted in oddity_model_load_failures_total); the others are served.

  GET  /v2/health/live, /v2/health/ready      liveness and readiness (no token needed)
  GET  /v2/models                             the loaded models and their versions
  POST /v2/repository/index                   the same, in Triton's repository format
  GET  /v2/models/NAME[/versions/N]           metadata: inputs, outputs, threshold
  POST /v2/models/NAME[/versions/N]/infer     Open Inference Protocol
  POST /v1/models/NAME:score                  {"rows": [[...]]}, {"records": [{...}]} or {"images": ["<base64>"]}
  GET  /metrics                               Prometheus metrics

With --grpc-addr the same models are also served over gRPC, the Open
Inference Protocol's GRPCInferenceService (package inference: ServerLive,
ServerReady, ModelReady, ServerMetadata, ModelMetadata, ModelInfer), with
the same tokens (metadata "authorization: Bearer TOKEN"), TLS, limits and
metrics; inputs typed or as raw_input_contents. It is off by default.

A model trained on a table also takes records with named fields: on /v1
{"records": [{"amount": 12.5, "country": "FR"}]}, on /v2 one input per
column named by the column (BYTES for text), as KServe's v2 sends tables.
A calibrated model's answers include conformal p-values. A NaN or infinite
score fails the request with 422, naming the rows.

Security: --token-file makes every endpoint except /v2/health/live and
/v2/health/ready require "Authorization: Bearer TOKEN" with one of the
file's tokens (one a line, at least 16 characters). --tls-cert and
--tls-key serve HTTPS; --tls-client-ca also requires client certificates.
A non-loopback --addr or --grpc-addr is refused unless both TLS and tokens
are configured, or --insecure-listen is given.

Limits: bodies above --max-body are refused before they are read; all
bodies held at once are bounded by --max-body-memory; per model at most
--max-inflight requests score and --max-queue wait, and any more get 503
with Retry-After at once.

Versions: DIR may hold a folder NAME/ of files N.EXT (N = 1, 2, ...),
each served at /v2/models/NAME/versions/N; paths without a version, /v1
included, use the highest version that loaded. A file NAME.EXT is version 1.

--watch reloads DIR when files in it change (after --watch-delay of quiet,
so a file being written is not read half-way; write files under another
name and rename them). --dynamic-batch N coalesces concurrent requests to
an image model into one scoring call of up to N images, waiting at most
--dynamic-batch-delay for more (off by default; tables are never batched).

SIGHUP reloads DIR, the token file and the TLS key pair (a file that fails
to load leaves the model's previous version serving); SIGTERM or Ctrl-C
turns readiness false, waits --drain-delay, then shuts down after requests
in flight finish (at most --grace).`,
		Example: `  oddity serve --models ./models --addr 127.0.0.1:8080
  curl -s localhost:8080/v1/models/thyroid:score -d '{"rows":[[0.1,0.2,0.3]]}'
  oddity serve --models ./models --addr :8443 --tls-cert cert.pem --tls-key key.pem --token-file tokens.txt
  oddity serve --models ./models --addr 127.0.0.1:8080 --grpc-addr 127.0.0.1:8081`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			o.Logger = log
			o.MaxBodyMemory = maxBodyMemory
			o.MaxInFlight = maxInFlight
			o.MaxQueue = maxQueue
			if cmd.Flags().Changed("max-queue") && maxQueue == 0 {
				o.MaxQueue = -1 // no queue: refuse when every slot is busy
			}
			o.TokenFile = tokenFile
			o.InsecureListen = insecureListen
			s, err := server.New(o)
			if err != nil {
				return err
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for range hup {
					if err := s.Reload(); err != nil {
						log.Error("reload had problems; models that failed keep their previous version", "err", err, "models", s.Models())
					} else {
						log.Info("reloaded", "models", s.Models())
					}
				}
			}()
			scheme := "http"
			if o.TLSCert != "" {
				scheme = "https"
			}
			// HTTP and gRPC stop together: on a signal both drain; when one
			// fails (a refused address), the other is stopped too.
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			errc := make(chan error, 2)
			go func() {
				errc <- s.Run(ctx, addr, grace, func(a string) {
					log.Info("serving", "addr", a, "models", s.Models(), "tls", o.TLSCert != "", "tokens", tokenFile != "")
					fmt.Fprintf(cmd.ErrOrStderr(), "oddity: serving %d model(s) on %s://%s\n", len(s.Models()), scheme, a)
				})
			}()
			running := 1
			if grpcAddr != "" {
				running++
				go func() {
					errc <- s.RunGRPC(ctx, grpcAddr, grace, func(a string) {
						log.Info("serving gRPC", "addr", a, "tls", o.TLSCert != "", "tokens", tokenFile != "")
						fmt.Fprintf(cmd.ErrOrStderr(), "oddity: serving gRPC (inference.GRPCInferenceService) on %s\n", a)
					})
				}()
			}
			var first error
			for ; running > 0; running-- {
				if err := <-errc; err != nil && first == nil {
					first = err
				}
				cancel()
			}
			return first
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dir, "models", "", "`DIR` of model files (required)")
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "listen `ADDRESS` (host:port)")
	f.StringVar(&grpcAddr, "grpc-addr", "", "also serve the Open Inference Protocol over gRPC on `ADDRESS` (host:port; off when empty)")
	f.Int64Var(&o.MaxBodyBytes, "max-body", server.DefaultMaxBodyBytes, "largest request body in `BYTES`")
	f.Int64Var(&maxBodyMemory, "max-body-memory", server.DefaultMaxBodyMemory, "`BYTES` of request bodies held at once, all requests together")
	f.DurationVar(&o.Timeout, "timeout", 30*time.Second, "longest `TIME` one request may wait and score")
	f.DurationVar(&grace, "grace", 20*time.Second, "how long (`TIME`) shutdown waits for requests in flight")
	f.DurationVar(&o.DrainDelay, "drain-delay", 0, "`TIME` between readiness turning false and shutdown")
	f.IntVar(&o.MaxBatch, "max-batch", 100000, "most samples (`N`) in one request")
	f.IntVar(&maxInFlight, "max-inflight", 0, "requests (`N`) scoring at once per model (0: the number of CPUs)")
	f.IntVar(&maxQueue, "max-queue", server.DefaultMaxQueue, "requests (`N`) waiting per model before 503 (0: none wait)")
	f.StringVar(&tokenFile, "token-file", "", "`FILE` of bearer tokens, one a line; every endpoint but the health endpoints then needs one")
	f.StringVar(&o.TLSCert, "tls-cert", "", "PEM certificate `FILE` (chain); serves HTTPS with --tls-key")
	f.StringVar(&o.TLSKey, "tls-key", "", "PEM private key `FILE`")
	f.StringVar(&o.TLSClientCA, "tls-client-ca", "", "PEM `FILE` of CA certificates; clients must then present a certificate they signed")
	f.BoolVar(&insecureListen, "insecure-listen", false, "allow a non-loopback --addr or --grpc-addr without TLS and tokens")
	// Model versions need no flag (a folder NAME/ of N.EXT files); these
	// are folder watching and dynamic batching (package server's
	// versions.go, watch.go, batch.go).
	f.BoolVar(&o.Watch, "watch", false, "also reload DIR when files in it change (created, written, renamed, removed)")
	f.DurationVar(&o.WatchDelay, "watch-delay", server.DefaultWatchDelay, "how long (`TIME`) DIR must be quiet after a change before --watch reloads it")
	f.IntVar(&o.BatchMax, "dynamic-batch", 0, "dynamic batching for image models: score concurrent requests together, up to `N` images a call (0: off; not --max-batch, the most samples in one request)")
	f.DurationVar(&o.BatchDelay, "dynamic-batch-delay", server.DefaultBatchDelay, "longest `TIME` a request waits for others to join its batch (with --dynamic-batch)")
	_ = cmd.MarkFlagRequired("models")
	rootCmd.AddCommand(cmd)
}
