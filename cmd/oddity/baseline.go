package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/autoencoder"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/evaluate"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/pca"
)

// baselines are the classic detectors `oddity baseline` evaluates.
var baselines = map[string]func(seed uint64) (detector.Detector, error){
	"iforest": func(seed uint64) (detector.Detector, error) {
		return iforest.New(iforest.Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1, Seed: seed}), nil
	},
	"pca": func(uint64) (detector.Detector, error) { return pca.New(pca.DefaultOptions()), nil },
	"autoencoder": func(seed uint64) (detector.Detector, error) {
		return autoencoder.New(autoencoder.Options{Epochs: 50, BatchSize: 128, LR: 1e-3, Seed: seed}), nil
	},
}

func init() {
	var (
		dataPath string
		seeds    int
		ratio    float64
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "baseline METHOD --data FILE",
		Short: "Evaluate a classic baseline (iforest, pca, autoencoder) under the ADBench protocol",
		Long: `Evaluate a classic detector under the ADBench semi-supervised protocol:
stratified 70/30 split, min-max scaling fitted on the training part, one run
per seed. Prints AUC-ROC and AUC-PR (average precision) with mean and sample
standard deviation over the seeds.`,
		Example: `  oddity baseline iforest --data ../shared/datasets/adbench/2_annthyroid.npz --json
  oddity baseline pca --data adbench/6_cardio --seeds 5`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			newDet, ok := baselines[args[0]]
			if !ok {
				return fmt.Errorf("unknown baseline %q (have iforest, pca, autoencoder)", args[0])
			}
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
	_ = cmd.MarkFlagRequired("data")
	rootCmd.AddCommand(cmd)
}
