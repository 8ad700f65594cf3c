package pipeline

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/dataflow" // --runner dataflow
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/flink"    // --runner flink
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism"    // --runner prism (default)
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/spark"    // --runner spark
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/universal"
)

// Runners lists the runner names Run accepts.
var Runners = []string{"prism", "universal", "flink", "spark", "dataflow"}

// RunOptions says where a pipeline runs.
type RunOptions struct {
	// Runner is one of Runners; empty means "prism", Beam's Go runner,
	// started inside this process.
	Runner string
	// Endpoint is the job service address (host:port) of a portable runner
	// (a Flink or Spark job server, or an external Prism); empty for an
	// in-process Prism and for Dataflow.
	Endpoint string
	// BeamArgs are further Beam pipeline options in flag form
	// ("--project=p", "--region=r", "--temp_location=gs://b/tmp",
	// "--environment_type=DOCKER", ...), as Beam's runners document them.
	BeamArgs []string
}

// Run executes p and waits for it to finish. beam.Init must have been
// called first (oddity-beam's main does it, before anything else, so that
// the same binary can serve as a Beam worker).
func Run(ctx context.Context, p *beam.Pipeline, o RunOptions) error {
	runner := o.Runner
	if runner == "" {
		runner = "prism"
	}
	known := false
	for _, r := range Runners {
		known = known || r == runner
	}
	if !known {
		return fmt.Errorf("runner %q: want one of %v", runner, Runners)
	}
	// Beam's runners read their options from the standard flag set.
	if err := flag.CommandLine.Parse(o.BeamArgs); err != nil {
		return fmt.Errorf("beam options %v: %w", o.BeamArgs, err)
	}
	if o.Endpoint != "" {
		if err := flag.Set("endpoint", o.Endpoint); err != nil {
			return err
		}
	}
	// A portable runner or Dataflow ships a worker binary to its workers;
	// Beam would otherwise try to compile one from source. A linux/amd64
	// oddity-beam is that binary already.
	if wb := flag.Lookup("worker_binary"); runner != "prism" && wb != nil && wb.Value.String() == "" &&
		runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
		if self, err := os.Executable(); err == nil {
			if err := flag.Set("worker_binary", self); err != nil {
				return err
			}
		}
	}
	if _, err := beam.Run(ctx, runner, p); err != nil {
		return fmt.Errorf("%s runner: %w", runner, err)
	}
	return nil
}
