package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/spf13/cobra"
)

// `oddity beam ...` runs the oddity-beam binary, the way git runs its
// git-<name> commands. The Apache Beam pipelines live in a separate module
// and binary (github.com/oddity-ml/oddity/beam) because the Beam SDK's
// dependency tree would multiply the size of oddity for users who
// never run a pipeline; this file imports nothing of Beam.
func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "beam (score|fit-iforest) [flags]",
		Short: "Scoring and Isolation Forest fitting as Apache Beam pipelines (runs oddity-beam)",
		Long: `Run oddity's Apache Beam pipelines: batch scoring with any saved model, and
Isolation Forest fitting with the trees grown in parallel, on Beam's Prism
runner in-process or on Flink, Spark or Dataflow. Everything after "beam" is
passed to the oddity-beam binary, looked up beside this binary, then on PATH
(or named by $ODDITY_BEAM). See "oddity beam --help" once it is installed.`,
		Example: `  oddity beam score --model m.odm --input rows.csv --output scores.csv
  oddity beam fit-iforest --input rows.csv --label-column class --seed 1 --output m.odm`,
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			bin, err := findBeamBinary()
			if err != nil {
				return err
			}
			c := exec.Command(bin, args...)
			c.Stdin, c.Stdout, c.Stderr = cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr()
			// Not CommandContext: on Ctrl-C the child gets the signal too
			// and stops its pipeline cleanly; killing it would not.
			err = c.Run()
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				return fmt.Errorf("%s exited with status %d", filepath.Base(bin), exit.ExitCode())
			}
			return err
		},
	})
}

// findBeamBinary returns the oddity-beam executable: $ODDITY_BEAM, else
// the one in this binary's folder, else the one on PATH.
func findBeamBinary() (string, error) {
	name := "oddity-beam"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if p := os.Getenv("ODDITY_BEAM"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$ODDITY_BEAM names %s: %w", p, err)
		}
		return p, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf(`"oddity beam" needs the %s binary, which is not beside oddity nor on PATH.
It is a separate module, so that oddity itself stays free of the Apache Beam SDK.
Install it from a checkout of oddity, next to oddity:
    (cd beam && go install ./cmd/oddity-beam)
or build it beside an oddity binary built at the root:
    (cd beam && CGO_ENABLED=0 go build -o ../oddity-beam ./cmd/oddity-beam)
or point $ODDITY_BEAM at it`, name)
}
