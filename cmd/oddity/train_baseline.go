package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/detector"
)

// `oddity train iforest|pca|autoencoder` fits an unsupervised baseline on a user's file.
func init() {
	for _, method := range []string{"iforest", "pca", "autoencoder"} {
		var (
			dataPath, out, labelCol string
			contamination           float64
			seed                    uint64
		)
		cmd := &cobra.Command{
			Use:   method + " --data FILE --out MODEL",
			Short: fmt.Sprintf("Fit %s on a data file (unsupervised) and save the model", method),
			Example: fmt.Sprintf(`  oddity train %s --data rows.csv --label-column class --out %s.odm
  oddity score --model %s.odm new-rows.csv`, method, method, method),
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				var opts []data.Option
				if labelCol != "" {
					opts = append(opts, data.WithLabelColumn(labelCol))
				}
				s, err := catalog.Load(dataPath, opts...)
				if err != nil {
					return err
				}
				d, err := baselines[method](seed)
				if err != nil {
					return err
				}
				m, err := detector.Fit(cmd.Context(), d, detector.TrainSet{X: s.Train}, detector.ThresholdRule{Contamination: contamination})
				if err != nil {
					return err
				}
				m.Meta.Extra = map[string]string{"data": dataPath, "seed": fmt.Sprint(seed)}
				if err := m.SaveFile(out); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s on %d samples of shape %v, threshold %.6g (%.2fs)\n",
					out, method, m.Meta.Train, m.Schema.Shape, m.Threshold, m.Meta.Seconds)
				return nil
			},
		}
		f := cmd.Flags()
		f.StringVar(&dataPath, "data", "", "training data file, or a named data set (required)")
		f.StringVar(&out, "out", method+".odm", "model file to write")
		f.StringVar(&labelCol, "label-column", "", "label column of a CSV file, left out of the features")
		f.Float64Var(&contamination, "contamination", 0.1, "expected anomaly fraction of the training data (sets the threshold)")
		f.Uint64Var(&seed, "seed", 0, "random seed")
		_ = cmd.MarkFlagRequired("data")
		trainCmd.AddCommand(cmd)
	}
}
