package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/evaluate"
)

// unsupervisedTabular lists the registered unsupervised methods for
// tables: the ones `oddity baseline` evaluates.
func unsupervisedTabular() []string {
	var out []string
	for _, in := range detector.Infos() {
		if in.Kind&detector.Tables != 0 && in.Kind&detector.Unsupervised != 0 {
			out = append(out, in.Method)
		}
	}
	return out
}

func init() {
	var (
		dataPath string
		seeds    int
		ratio    float64
		asJSON   bool
		sets     methodSettings
	)
	cmd := &cobra.Command{
		Use:   "baseline METHOD --data FILE",
		Short: "Evaluate a classic baseline (iforest, pca, autoencoder) under the ADBench protocol",
		Long: `Evaluate a classic detector under the ADBench semi-supervised protocol:
stratified 70/30 split, min-max scaling fitted on the training part, one run
per seed. Prints AUC-ROC and AUC-PR (average precision) with mean and sample
standard deviation over the seeds.`,
		Example: `  oddity baseline iforest --data ../shared/datasets/adbench/2_annthyroid.npz --json
  oddity baseline pca --data adbench/6_cardio --seeds 5
  oddity baseline iforest --data adbench/6_cardio --set trees=200`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			methods := unsupervisedTabular()
			if !slices.Contains(methods, args[0]) {
				return fmt.Errorf("unknown baseline %q (have %s)", args[0], strings.Join(methods, ", "))
			}
			settings, err := sets.forMethod(args[0], true, methods)
			if err != nil {
				return err
			}
			if _, err := configure(args[0], settings, 0); err != nil {
				return err
			}
			newDet := func(seed uint64) (detector.Detector, error) { return configure(args[0], settings, seed) }
			if seeds < 1 {
				return fmt.Errorf("--seeds must be at least 1, got %d", seeds)
			}
			s, err := catalog.Load(dataPath)
			if err != nil {
				return err
			}
			ds, err := s.All()
			if err != nil {
				return err
			}
			res, err := evaluate.Seeds(cmd.Context(), args[0], ds.Name, newDet, evaluate.ADBenchSplit(ds, ratio), evaluate.SeedList(0, seeds))
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "seed\tAUC-ROC\tAUC-PR\tfit s\tscore rows/s")
			for _, r := range res.Runs {
				fmt.Fprintf(tw, "%d\t%.4f\t%.4f\t%.3f\t%.0f\n", r.Seed, r.AUCROC, r.AUCPR, r.FitSeconds, r.ScoreRate)
			}
			fmt.Fprintf(tw, "mean±std\t%.4f±%.4f\t%.4f±%.4f\t\t\n", res.AUCROC.Mean, res.AUCROC.Std, res.AUCPR.Mean, res.AUCPR.Std)
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataPath, "data", "", "labelled 0/1 data file (.npz, .csv, ...) or adbench/<name> (required)")
	f.IntVar(&seeds, "seeds", 3, "number of seeds (0, 1, ...)")
	f.Float64Var(&ratio, "labeled-ratio", 0, "fraction of training anomalies revealed as labelled (unsupervised baselines ignore them)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	sets.bind(f, "an option of the method, as OPTION=VALUE (repeatable), e.g. trees=200; `oddity methods METHOD` lists them")
	_ = cmd.MarkFlagRequired("data")
	rootCmd.AddCommand(cmd)
}
