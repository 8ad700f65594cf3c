// Command oddity trains, evaluates, compares and serves deep anomaly detectors.
//
// Each subcommand lives in its own file and adds itself to the command tree in
// an init function, so the tree is the folder listing.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data/catalog"
)

var rootCmd = &cobra.Command{
	Use:           "oddity",
	Short:         "Deep anomaly detection: GANomaly, DPLAN, deep clustering and baselines",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// benchCmd groups the benchmarks (`oddity bench kernels`, `oddity bench train`, ...).
var benchCmd = &cobra.Command{
	Use:   "bench",
	Short: "Measure the engine and the detectors",
}

// trainCmd groups `oddity train <method>`: each method's file adds its own
// subcommand.
var trainCmd = &cobra.Command{
	Use:   "train",
	Short: "Train a detector on a data set and save the model",
}

// evalCmd groups `oddity eval <method>`: the method's paper protocol over
// seeds, printing metrics with mean and spread.
var evalCmd = &cobra.Command{
	Use:   "eval",
	Short: "Evaluate a method under its paper's protocol",
}

// datasetsDir is the --datasets flag: the folder of the named data sets
// (mnist, cifar10, usps, coil20, thyroid, adbench/NAME), ahead of
// $ODDITY_DATASETS; package data/catalog resolves every name.
var datasetsDir string

// cpuProfile is the --cpuprofile flag: a pprof CPU profile of the whole
// command, for finding where a slow run spends its time.
var cpuProfile string

func init() {
	rootCmd.AddCommand(benchCmd, trainCmd, evalCmd)
	rootCmd.PersistentFlags().StringVar(&datasetsDir, "datasets", "", "`DIR` holding the named data sets (default $ODDITY_DATASETS, else ../shared/datasets)")
	rootCmd.PersistentFlags().StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the command to `FILE` (inspect with go tool pprof)")
}

// startProfile starts the CPU profile asked for by --cpuprofile and returns
// the function that stops it.
func startProfile() (func(), error) {
	if cpuProfile == "" {
		return func() {}, nil
	}
	f, err := os.Create(cpuProfile)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

func main() {
	// Ctrl-C and SIGTERM cancel the context; long commands check it and stop
	// cleanly, a second signal kills the process.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rootCmd.PersistentPreRunE = func(*cobra.Command, []string) error {
		catalog.SetRoot(datasetsDir)
		stopProfile, err := startProfile()
		if err != nil {
			return err
		}
		rootCmd.PersistentPostRun = func(*cobra.Command, []string) { stopProfile() }
		return nil
	}
	if err := rootCmd.ExecuteContext(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(os.Stderr, "oddity: interrupted")
			os.Exit(130)
		}
		fmt.Fprintln(os.Stderr, "oddity:", err)
		os.Exit(1)
	}
}
