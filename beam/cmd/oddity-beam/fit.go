package main

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/beam/pipeline"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/option"
)

// `oddity-beam fit-iforest` fits an Isolation Forest with trees grown in
// parallel.
func init() {
	var (
		o             pipeline.FitOptions
		rf            runFlags
		chunkMB       float64
		contamination float64
		fpr           float64
	)
	cmd := &cobra.Command{
		Use:   "fit-iforest --input DATA --output MODEL [-- BEAM OPTIONS]",
		Short: "Fit an Isolation Forest as a Beam pipeline (trees grown in parallel)",
		Long: `Fit an Isolation Forest on a CSV/TSV or JSON-lines input (a file or a glob):
the pipeline counts the rows, works out each tree's subsample from the seed,
sends each sampled row to its trees, grows the trees in parallel and joins
them. The model file is the one ` + "`oddity train iforest`" + ` writes for the same
data, seed and options (same trees, same threshold), and is used the same way.`,
		Example: `  oddity-beam fit-iforest --input rows.csv --label-column class --seed 1 --output m.odm
  oddity-beam fit-iforest --input 'gs://bucket/rows-*.csv' --output gs://bucket/m.odm --runner dataflow -- \
      --project=my-project --region=europe-west1 --temp_location=gs://bucket/tmp`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if chunkMB <= 0 {
				return fmt.Errorf("--chunk-mb must be positive, got %v", chunkMB)
			}
			o.ChunkBytes = int64(chunkMB * (1 << 20))
			o.Rule = detector.ThresholdRule{Contamination: contamination, FPR: fpr}
			p, s := beam.NewPipelineWithRoot()
			if err := pipeline.BuildFitIForest(cmd.Context(), s, o); err != nil {
				return err
			}
			return runTimed(cmd, p, &rf, args, o.Output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Input, "input", "", "training data: CSV/TSV or JSON-lines file or glob (required)")
	f.StringVar(&o.Format, "format", "", "input format: csv or jsonl (default: from the name)")
	f.StringVar(&o.LabelColumn, "label-column", "", "label column of a CSV input, left out of the features")
	f.StringVar(&o.Output, "output", "", "model file to write (local, gs://, s3://) (required)")
	o.Forest = iforest.DefaultOptions()
	option.Bind(f, &o.Forest) // Isolation Forest's options, as package iforest declares them
	f.Uint64Var(&o.Forest.Seed, "seed", 0, "random seed (same seed and options: the forest `oddity train iforest` fits)")
	f.Float64Var(&contamination, "contamination", 0.1, "expected anomaly fraction of the training data (sets the threshold)")
	f.Float64Var(&fpr, "fpr", 0, "target false-positive rate on the training data (sets the threshold instead of --contamination)")
	f.Float64Var(&chunkMB, "chunk-mb", float64(pipeline.DefaultChunkBytes)/(1<<20), "size of the byte ranges the input is cut into")
	rf.add(cmd)
	for _, name := range []string{"input", "output"} {
		_ = cmd.MarkFlagRequired(name)
	}
	rootCmd.AddCommand(cmd)
}
