package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/dplan"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/option"
)

// `oddity train METHOD` for every registered tabular method: fit on a
// user's file and save the model. The method's options are flags, bound
// from its package's declaration. Weakly supervised methods (DPLAN, DevNet,
// Deep SAD) learn from the rows whose label is 1 and treat the others as
// unlabelled: partial labels as people have them, no protocol sampling
// (the papers' protocols are oddity eval's).
func init() {
	for _, in := range detector.Infos() {
		if in.Kind&detector.Tables == 0 {
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
		tf                      tableFlags
	)
	method := in.Method
	weak := in.Kind&detector.WeaklySupervised != 0
	short := fmt.Sprintf("Fit %s on a data file and save the model", method)
	long := in.Summary + ", trained on the rows of --data (unlabelled, assumed mostly normal)." + tableHelp
	if weak {
		long = in.Summary + `. Rows whose --label-column is 1 are the labelled
anomalies it learns from; every other row is unlabelled.` + tableHelp
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
		if dp, ok := o.(*dplan.Options); ok && !isTable(dataPath) {
			// A prepared matrix has no table pipeline to scale it: DPLAN
			// learns a min-max scaling and stores it in the model, unless
			// the command line says otherwise.
			for name := range option.Of(dp, &dp.ScaleInput) {
				if !cmd.Flags().Changed(name) {
					dp.ScaleInput = true
				}
			}
		}
		d, err := in.New(o)
		if err != nil {
			return err
		}
		var ts detector.TrainSet
		var pipeline []byte
		if isTable(dataPath) {
			// A table as people have it: kinds inferred, missing cells
			// imputed, categories encoded; the fitted pipeline goes into
			// the model.
			t, err := readTrainingTable(dataPath, tf.options(labelCol), cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			if ts, err = t.trainSet(weak); err != nil {
				return err
			}
			if pipeline, err = t.pipeline.MarshalJSON(); err != nil {
				return err
			}
		} else {
			var opts []data.Option
			if labelCol != "" {
				opts = append(opts, data.WithLabelColumn(labelCol))
			}
			s, err := catalog.Load(dataPath, opts...)
			if err != nil {
				return err
			}
			ts = detector.TrainSet{X: s.Train}
			if weak {
				if ts, err = splitLabelled(s.Train); err != nil {
					return err
				}
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
		m.Pipeline = pipeline
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
	f.StringVar(&labelCol, "label-column", "", "label `COLUMN`: 1 marks a known anomaly, 0 or blank unlabelled; left out of the features")
	tf.bind(f)
	f.Float64Var(&contamination, "contamination", 0.1, "expected anomaly fraction of the training data (sets the threshold)")
	f.Float64Var(&calib, "calibration", detector.DefaultCalibrationFraction, "share of the unlabelled rows held out of training to calibrate p-values (oddity score --alpha, --fdr); 0: none")
	f.Uint64Var(&seed, "seed", 0, "random seed")
	_ = cmd.MarkFlagRequired("data")
	trainCmd.AddCommand(cmd)
}

// tableHelp says how a table file is read.
const tableHelp = `

A CSV/TSV (plain or gzip) or Parquet file is read as a table: each column's
kind is inferred and printed (numeric, categorical, boolean, timestamp,
identifier, constant), missing cells are imputed (median or most frequent,
with a missing-indicator column), categories are one-hot encoded (a frequency
column beyond --max-levels), timestamps become hour, weekday and day-of-year
parts, and numbers are scaled to [0, 1]. The fitted pipeline is stored in the
model, so oddity score applies the same transformation to raw rows, matching
columns by name.`

// splitLabelled makes a weakly supervised training set: the rows labelled
// 1 are the labelled anomalies, every other row is unlabelled.
func splitLabelled(x *data.Dataset) (detector.TrainSet, error) {
	if x.Y == nil {
		return detector.TrainSet{}, fmt.Errorf("%s: no labels (give --label-column): a weakly supervised method learns from the rows labelled 1", x.Name)
	}
	return splitByLabel(x, func(i int) bool { return x.Y[i] == 1 })
}

// splitByLabel puts the rows i of x for which anomaly(i) holds in the
// labelled anomalies and every other row in the unlabelled data.
func splitByLabel(x *data.Dataset, anomaly func(i int) bool) (detector.TrainSet, error) {
	var unl, anom []int
	for i := 0; i < x.N; i++ {
		if anomaly(i) {
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
