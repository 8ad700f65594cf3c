package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/server"
)

// `oddity serve` serves every model in a folder over HTTP until SIGTERM or
// Ctrl-C (graceful: requests in flight finish), reloading the folder on
// SIGHUP without dropping requests.
func init() {
	var (
		dir, addr      string
		maxBody        int64
		timeout, grace time.Duration
		maxBatch       int
	)
	cmd := &cobra.Command{
		Use:   "serve --models DIR [--addr 127.0.0.1:8080]",
		Short: "Serve scores over HTTP (Open Inference Protocol, Prometheus metrics)",
		Long: `Serve every model file in DIR over HTTP. A model's name is its file name
without the extension.

  GET  /v2/health/live, /v2/health/ready      liveness and readiness
  GET  /v2/models/NAME                        metadata: method, input shape, threshold
  POST /v2/models/NAME/infer                  Open Inference Protocol
  POST /v1/models/NAME:score                  {"rows": [[...]]} or {"images": ["<base64>"]}
  GET  /metrics                               Prometheus metrics

SIGHUP reloads DIR (a folder that fails to load leaves the current models
serving); SIGTERM or Ctrl-C shuts down after requests in flight finish.`,
		Example: `  oddity serve --models ./models --addr 127.0.0.1:8080
  curl -s localhost:8080/v1/models/thyroid:score -d '{"rows":[[0.1,0.2,0.3]]}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := slog.New(slog.NewTextHandler(os.Stderr, nil))
			s, err := server.New(server.Options{Dir: dir, MaxBodyBytes: maxBody, Timeout: timeout, MaxBatch: maxBatch, Logger: log})
			if err != nil {
				return err
			}
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for range hup {
					if err := s.Reload(); err != nil {
						log.Error("reload failed; still serving the previous models", "err", err)
					} else {
						log.Info("reloaded", "models", s.Models())
					}
				}
			}()
			return s.Run(cmd.Context(), addr, grace, func(a string) {
				log.Info("serving", "addr", a, "models", s.Models())
				fmt.Fprintf(cmd.ErrOrStderr(), "oddity: serving %d model(s) on http://%s\n", len(s.Models()), a)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "models", "", "folder of model files (required)")
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "listen address")
	f.Int64Var(&maxBody, "max-body", 32<<20, "largest request body in bytes")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "longest time one request may score")
	f.DurationVar(&grace, "grace", 20*time.Second, "how long shutdown waits for requests in flight")
	f.IntVar(&maxBatch, "max-batch", 100000, "most samples in one request")
	_ = cmd.MarkFlagRequired("models")
	rootCmd.AddCommand(cmd)
}
