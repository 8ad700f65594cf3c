package main

import (
	"fmt"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/beam/pipeline"
)

// `oddity-beam score` scores a table or a folder of images with a saved model.
func init() {
	var (
		o       pipeline.ScoreOptions
		rf      runFlags
		chunkMB float64
	)
	cmd := &cobra.Command{
		Use:   "score --model MODEL --input INPUT --output FILE [-- BEAM OPTIONS]",
		Short: "Score a table or images with a saved model, as a Beam pipeline",
		Long: `Score every sample of INPUT with a model written by ` + "`oddity train`" + `: a CSV/TSV file or
glob, JSON lines (.jsonl: [x...] or {"id": ..., "x": [...]} per line), or a
folder or glob of PNG/JPEG images. The model is loaded once per worker.
Output lines are those of ` + "`oddity score`" + ` (index,score,anomaly[,label], or
index,score,anomaly,path for images; JSON lines with --output-format jsonl)
in no particular order; the scores are bit for bit the in-process ones.`,
		Example: `  oddity-beam score --model m.odm --input rows.csv --label-column class --output scores.csv
  oddity-beam score --model m.odm --input 'logs/*.jsonl' --anomalies-only --threshold 0.62 --output alerts.jsonl --output-format jsonl
  oddity-beam score --model m.odm --input 'orders/*.csv' --anomalies-only --explain 3 --output alerts.csv
  oddity-beam score --model digits.odm --input ./images --output scores.csv
  oddity-beam score --runner flink --endpoint localhost:8099 --model /shared/m.odm --input /shared/rows.csv --output /shared/s.csv -- --environment_type=LOOPBACK`,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.HasThreshold = cmd.Flags().Changed("threshold")
			o.ChunkBytes = int64(chunkMB * (1 << 20))
			if chunkMB <= 0 {
				return fmt.Errorf("--chunk-mb must be positive, got %v", chunkMB)
			}
			p, s := beam.NewPipelineWithRoot()
			if err := pipeline.BuildScore(cmd.Context(), s, o); err != nil {
				return err
			}
			return runTimed(cmd, p, &rf, args, o.Output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Model, "model", "", "model file (local, gs://, s3://) (required)")
	f.StringVar(&o.Input, "input", "", "input file, glob, or image folder (required)")
	f.StringVar(&o.Format, "format", "", "input format: csv, jsonl or images (default: from the name)")
	f.StringVar(&o.LabelColumn, "label-column", "", "label column of a CSV input, left out of the features and echoed")
	f.StringVar(&o.Output, "output", "", "file the score lines are written to (required)")
	f.StringVar(&o.OutputFormat, "output-format", "csv", "output format: csv or jsonl")
	f.Float64Var(&o.Threshold, "threshold", 0, "override the model's threshold")
	f.BoolVar(&o.AnomaliesOnly, "anomalies-only", false, "write only the samples scored above the threshold")
	f.IntVar(&o.Explain, "explain", 0, "add the `K` columns that drive each row's score the most, with their contributions (tables; CSV columns why_1, why_1_contribution, ...; JSON field \"why\"); with --anomalies-only only the flagged rows are explained")
	f.Float64Var(&chunkMB, "chunk-mb", float64(pipeline.DefaultChunkBytes)/(1<<20), "size of the byte ranges a text input is cut into (the unit of parallel work)")
	f.IntVar(&o.ImageBatch, "image-batch", 256, "images per unit of parallel work")
	rf.add(cmd)
	for _, name := range []string{"model", "input", "output"} {
		_ = cmd.MarkFlagRequired(name)
	}
	rootCmd.AddCommand(cmd)
}
