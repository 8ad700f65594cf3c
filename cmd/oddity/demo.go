package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/suite/experiments"
	"github.com/oddity-ml/oddity/suite/results"
)

// `oddity demo`: the README's first command. Everything it needs is in the
// binary (package data/demo embeds the data), so it works on a fresh clone.
func init() {
	var out string
	var seed uint64
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run GANomaly, DPLAN, deep clustering and Isolation Forest on embedded data and write a report",
		Long: `Runs the three methods and the baselines on small tasks over data embedded in
the binary (3,000 + 1,000 USPS digits at 16x16, and the UCI thyroid table):
GANomaly, deep clustering's anomaly score, a dense autoencoder and Isolation
Forest with digit 3 held out as the anomaly; deep clustering of all ten
digits; DPLAN, DevNet and Isolation Forest on thyroid with 60 labelled
hypothyroid cases. About two minutes on two cores. It prints a results table
and writes --out/report.html (self-contained, with the plots) and
--out/report.md. Re-running skips the cells already in --out.

The schedules are short: this is a tour, not a benchmark; 'oddity bench
--suite quick|full' is the benchmark.`,
		Example: `  oddity demo
  oddity demo --out /tmp/demo --seed 1`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := runSuite(cmd, experiments.Demo(seed), out, false, nil)
			if res != nil {
				printDemo(cmd.OutOrStdout(), res)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&out, "out", "oddity-demo", "output folder for the report")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "random seed")
	rootCmd.AddCommand(cmd)
}

// printDemo prints one line per cell: its measures and times.
func printDemo(w io.Writer, res *results.Results) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "task\tmethod\tresult\tfit\tscoring")
	for _, c := range res.Cells {
		name := c.Spec.Method
		if c.Spec.Variant != "" {
			name += " (" + c.Spec.Variant + ")"
		}
		keys := make([]string, 0, len(c.Metrics))
		for k := range c.Metrics {
			if k != "nmi_geometric" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var ms []string
		for _, k := range keys {
			ms = append(ms, fmt.Sprintf("%s %.3f", strings.ToUpper(strings.ReplaceAll(k, "_", "-")), c.Metrics[k].Mean))
		}
		rate := "-"
		if c.ScoreRate > 0 {
			rate = fmt.Sprintf("%.0f/s", c.ScoreRate)
		}
		fmt.Fprintf(tw, "%s %s\t%s\t%s\t%.1f s\t%s\n", c.Spec.Data, c.Spec.Task, name, strings.Join(ms, ", "), c.FitSeconds, rate)
	}
	tw.Flush()
}
