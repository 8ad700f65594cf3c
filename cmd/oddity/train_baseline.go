package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/progress"
)

// `oddity train METHOD` for every registered tabular method that has no
// command of its own (DPLAN's follows its paper's protocol): fit on a
// user's file and save the model. The method's options are flags, bound
// from its package's declaration.
func init() {
	for _, in := range detector.Infos() {
		if in.Kind&detector.Tables == 0 || in.Method == "dplan" {
			continue
		}
		addTrainTabular(in)
	}
}

func addTrainTabular(in detector.Info) {
	var (
		dataPath, out, labelCol string
		contamination, calib    float64
		seed                    uint64
	)
	method := in.Method
	weak := in.Kind&detector.WeaklySupervised != 0
	short := fmt.Sprintf("Fit %s on a data file and save the model", method)
	long := in.Summary + ", trained on the rows of --data (unlabelled, assumed mostly normal)."
	if weak {
		long = in.Summary + `. Rows whose --label-column is 1 are the labelled
anomalies it learns from; every other row is unlabelled.`
	}
	cmd := &cobra.Command{
		Use:   method + " --data FILE --out MODEL",
		Short: short,
		Long:  long + "\n\n`oddity methods " + method + "` lists the options with their defaults.",
		Example: fmt.Sprintf(`  oddity train %s --data rows.csv --label-column class --out %s.odm
  oddity score --model %s.odm new-rows.csv`, method, method, method),
		Args: cobra.NoArgs,
	}
	f := cmd.Flags()
	options := bindMethodOptions(f, in)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		o, err := options(seed)
		if err != nil {
			return err
		}
		d, err := in.New(o)
		if err != nil {
			return err
		}
		var opts []data.Option
		if labelCol != "" {
			opts = append(opts, data.WithLabelColumn(labelCol))
		}
		s, err := catalog.Load(dataPath, opts...)
		if err != nil {
			return err
		}
		ts := detector.TrainSet{X: s.Train}
		if weak {
			if ts, err = splitLabelled(s.Train); err != nil {
				return err
			}
		}
		bars := progress.NewPhases(method)
		ts.Progress = bars.Report
		rule := detector.ThresholdRule{Contamination: contamination}
		var m *detector.Model
		if calib > 0 {
			m, err = detector.FitCalibrated(cmd.Context(), d, ts, rule, detector.CalibrationOptions{Fraction: calib, Seed: seed})
		} else {
			m, err = detector.Fit(cmd.Context(), d, ts, rule)
		}
		bars.Close()
		if err != nil {
			return err
		}
		m.Meta.Extra = map[string]string{"data": dataPath, "seed": fmt.Sprint(seed)}
		if err := m.SaveFile(out); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s on %d samples (%d labelled anomalies) of shape %v, threshold %.6g (%.2fs)",
			out, method, m.Meta.Train, m.Meta.Labeled, m.Schema.Shape, m.Threshold, m.Meta.Seconds)
		if c := m.Calibration(); c != nil {
			fmt.Fprintf(cmd.OutOrStdout(), "; %d calibration scores held out (smallest p-value %.2g)", c.Len(), c.MinPValue())
		}
		fmt.Fprintln(cmd.OutOrStdout())
		return nil
	}
	f.StringVar(&dataPath, "data", "", "training data file, or a named data set (required)")
	f.StringVar(&out, "out", method+".odm", "model file to write")
	f.StringVar(&labelCol, "label-column", "", "label column of a CSV file, left out of the features")
	f.Float64Var(&contamination, "contamination", 0.1, "expected anomaly fraction of the training data (sets the threshold)")
	f.Float64Var(&calib, "calibration", detector.DefaultCalibrationFraction, "share of the unlabelled rows held out of training to calibrate p-values (oddity score --alpha, --fdr); 0: none")
	f.Uint64Var(&seed, "seed", 0, "random seed")
	_ = cmd.MarkFlagRequired("data")
	trainCmd.AddCommand(cmd)
}

// splitLabelled makes a weakly supervised training set: the rows labelled
// 1 are the labelled anomalies, every other row is unlabelled.
func splitLabelled(x *data.Dataset) (detector.TrainSet, error) {
	if x.Y == nil {
		return detector.TrainSet{}, fmt.Errorf("%s: no labels (give --label-column): a weakly supervised method learns from the rows labelled 1", x.Name)
	}
	var unl, anom []int
	for i, y := range x.Y {
		if y == 1 {
			anom = append(anom, i)
		} else {
			unl = append(unl, i)
		}
	}
	u, err := x.Subset(unl)
	if err != nil {
		return detector.TrainSet{}, err
	}
	ts := detector.TrainSet{X: u}
	if len(anom) > 0 {
		if ts.Anomalies, err = x.Subset(anom); err != nil {
			return detector.TrainSet{}, err
		}
	}
	return ts, nil
}
