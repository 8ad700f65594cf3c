// Command oddity-beam runs oddity's batch scoring and Isolation Forest
// fitting as Apache Beam pipelines: on Beam's Prism runner inside this
// process by default, or on a Flink, Spark or Dataflow cluster.
//
// It is a separate binary, in its own Go module, so that the core `oddity`
// binary does not carry the Beam SDK; `oddity beam ...` execs it. The same
// binary is also what a Beam runner starts as a worker (with --worker),
// which main hands to Beam before parsing anything itself.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/beam/pipeline"
)

var rootCmd = &cobra.Command{
	Use:   "oddity-beam",
	Short: "oddity's scoring and Isolation Forest fitting as Apache Beam pipelines",
	Long: `oddity-beam runs oddity's batch scoring and Isolation Forest fitting as
Apache Beam pipelines. By default they run on Prism, Beam's Go runner, inside
this process; --runner flink|spark|universal with --endpoint (a job server),
or --runner dataflow, send the same pipeline to a cluster. Beam options the
runner needs (project, region, temp_location, environment_type, ...) follow
a "--" at the end of the command line.`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

// runFlags are the flags every pipeline command takes.
type runFlags struct {
	runner, endpoint string
}

func (r *runFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&r.runner, "runner", "prism", "Beam runner: "+strings.Join(pipeline.Runners, ", "))
	cmd.Flags().StringVar(&r.endpoint, "endpoint", "", "job service host:port of a portable runner (Flink or Spark job server, external Prism)")
}

func (r *runFlags) options(beamArgs []string) pipeline.RunOptions {
	return pipeline.RunOptions{Runner: r.runner, Endpoint: r.endpoint, BeamArgs: beamArgs}
}

// isWorker reports whether a Beam runner started this binary as a worker.
func isWorker(args []string) bool {
	for _, a := range args {
		if a == "--worker" || a == "-worker" || strings.HasPrefix(a, "--worker=") || strings.HasPrefix(a, "-worker=") {
			return true
		}
	}
	return false
}

func main() {
	if isWorker(os.Args[1:]) {
		flag.Parse()
		beam.Init() // runs the worker harness and does not return
		return
	}
	beam.Init()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := rootCmd.ExecuteContext(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "oddity-beam: interrupted")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "oddity-beam:", err)
		os.Exit(1)
	}
}

// runTimed runs a built pipeline on the chosen runner and reports the
// output it wrote and the time it took.
func runTimed(cmd *cobra.Command, p *beam.Pipeline, rf *runFlags, args []string, output string) error {
	start := time.Now()
	if err := pipeline.Run(cmd.Context(), p, rf.options(args)); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s (%.2fs on %s)\n", output, time.Since(start).Seconds(), rf.runner)
	return nil
}
