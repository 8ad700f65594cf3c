package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/conformal"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/evaluate"
	"github.com/oddity-ml/oddity/metrics"
)

// calibRow is one file's calibration measures, averaged over seeds.
type calibRow struct {
	Data string `json:"data"`
	// FAR and Detect are the realised false-alarm and detection rates on
	// the test split, by alpha ("0.01", "0.05").
	FAR    map[string]float64 `json:"false_alarm_rate"`
	Detect map[string]float64 `json:"detection_rate"`
	// BHFDR and BHPower are Benjamini-Hochberg's realised false discovery
	// rate and detection rate at q on the test split.
	BHFDR   float64 `json:"bh_fdr"`
	BHPower float64 `json:"bh_detection_rate"`
	// ContamFAR and ContamDetect are the contamination rule's (the
	// threshold at the training scores' 1 - c quantile, c the file's true
	// anomaly share, as a user guessing it right would set it).
	ContamFAR    float64 `json:"contamination_rule_false_alarm_rate"`
	ContamDetect float64 `json:"contamination_rule_detection_rate"`
	AUCROC       float64 `json:"auc_roc"`
	Seeds        int     `json:"seeds"`
}

func init() {
	var (
		path, method string
		seeds        int
		q, calib     float64
		asJSON       bool
		sets         methodSettings
	)
	alphas := []float64{0.01, 0.05}
	cmd := &cobra.Command{
		Use:   "calibration --data FILE|FOLDER",
		Short: "Measure the conformal p-values: realised false-alarm rates at alpha, Benjamini-Hochberg's false discovery rate, beside the contamination rule",
		Long: `For each file (every .npz of a folder) and seed: ADBench's stratified 70/30
split with min-max scaling; the detector is fitted on the normal training
rows less a calibration share (--calibration), whose scores calibrate the
p-values; the test split is scored once. It reports, averaged over seeds, the
realised false-alarm rate on the test split's normal rows and the detection
rate on its anomalies for p <= alpha (alpha 0.01 and 0.05), Benjamini-
Hochberg's realised false discovery rate at --fdr on the whole test split,
and, beside them, the contamination rule's rates (threshold at the training
scores' 1 - c quantile, c the file's true anomaly share). The guarantee: a
normal test row gets p <= alpha with probability at most alpha.`,
		Example: "  oddity eval calibration --data ../shared/datasets/adbench --seeds 5",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			files := []string{path}
			if st, err := os.Stat(path); err == nil && st.IsDir() {
				files, _ = filepath.Glob(filepath.Join(path, "*.npz"))
				sort.Slice(files, func(i, j int) bool { return natLess(filepath.Base(files[i]), filepath.Base(files[j])) })
				if len(files) == 0 {
					return fmt.Errorf("no .npz files in %s", path)
				}
			}
			settings, err := sets.forMethod(method, true, []string{method})
			if err != nil {
				return err
			}
			if _, err := configure(method, settings, 0); err != nil {
				return err
			}
			var rows []calibRow
			for _, f := range files {
				s, err := catalog.Load(f)
				if err != nil {
					return err
				}
				ds, err := s.All()
				if err != nil {
					return err
				}
				row := calibRow{Data: ds.Name, FAR: map[string]float64{}, Detect: map[string]float64{}, Seeds: seeds}
				for _, seed := range evaluate.SeedList(0, seeds) {
					sp, err := protocol.ADBench(ds, protocol.ADBenchOptions{Seed: seed})
					if err != nil {
						return fmt.Errorf("%s: %w", f, err)
					}
					tr, err := splitByLabel(sp.TrainUnlabeled, func(i int) bool { return sp.TrainUnlabeled.Y[i] != 0 })
					if err != nil {
						return err
					}
					normal := tr.X // the hidden training anomalies are left out
					d, err := configure(method, settings, seed)
					if err != nil {
						return err
					}
					m, err := detector.FitCalibrated(cmd.Context(), d, detector.TrainSet{X: normal}, detector.ThresholdRule{},
						detector.CalibrationOptions{Fraction: calib, Seed: seed})
					if err != nil {
						return fmt.Errorf("%s seed %d: %w", f, seed, err)
					}
					scores, err := m.Score(cmd.Context(), sp.Test)
					if err != nil {
						return err
					}
					pv, err := m.PValues(scores)
					if err != nil {
						return err
					}
					y := sp.Test.Y
					for _, a := range alphas {
						fa, det := rates(y, func(i int) bool { return pv[i] <= a })
						k := fmt.Sprint(a)
						row.FAR[k] += fa / float64(seeds)
						row.Detect[k] += det / float64(seeds)
					}
					bh, err := conformal.BenjaminiHochberg(pv, q)
					if err != nil {
						return err
					}
					flagged, false_ := 0, 0
					for i, f := range bh {
						if f {
							flagged++
							if y[i] == 0 {
								false_++
							}
						}
					}
					if flagged > 0 {
						row.BHFDR += float64(false_) / float64(flagged) / float64(seeds)
					}
					_, det := rates(y, func(i int) bool { return bh[i] })
					row.BHPower += det / float64(seeds)
					// The contamination rule, told the true anomaly share.
					c := float64(countOnes(ds.Y)) / float64(ds.N)
					if err := m.SetThreshold(detector.ThresholdRule{Contamination: c}); err != nil {
						return err
					}
					flags := m.Predict(scores)
					fa, det := rates(y, func(i int) bool { return flags[i] })
					row.ContamFAR += fa / float64(seeds)
					row.ContamDetect += det / float64(seeds)
					auc, err := metrics.ROCAUC(scores, y)
					if err != nil {
						return err
					}
					row.AUCROC += auc / float64(seeds)
				}
				rows = append(rows, row)
				fmt.Fprintf(cmd.ErrOrStderr(), "%s: FAR@0.01 %.4f FAR@0.05 %.4f BH FDR %.3f\n", row.Data, row.FAR["0.01"], row.FAR["0.05"], row.BHFDR)
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "data\tAUC-ROC\tFAR α=.01\tdetect α=.01\tFAR α=.05\tdetect α=.05\tBH FDR q=%g\tBH detect\tcontam. FAR\tcontam. detect\t\n", q)
			var mean calibRow
			mean.FAR, mean.Detect = map[string]float64{}, map[string]float64{}
			n := float64(len(rows))
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%.3f\t%.4f\t%.3f\t%.4f\t%.3f\t%.3f\t%.3f\t%.4f\t%.3f\t\n", r.Data, r.AUCROC, r.FAR["0.01"], r.Detect["0.01"], r.FAR["0.05"], r.Detect["0.05"], r.BHFDR, r.BHPower, r.ContamFAR, r.ContamDetect)
				for k := range r.FAR {
					mean.FAR[k] += r.FAR[k] / n
					mean.Detect[k] += r.Detect[k] / n
				}
				mean.BHFDR += r.BHFDR / n
				mean.BHPower += r.BHPower / n
				mean.ContamFAR += r.ContamFAR / n
				mean.ContamDetect += r.ContamDetect / n
				mean.AUCROC += r.AUCROC / n
			}
			fmt.Fprintf(tw, "mean\t%.3f\t%.4f\t%.3f\t%.4f\t%.3f\t%.3f\t%.3f\t%.4f\t%.3f\t\n", mean.AUCROC, mean.FAR["0.01"], mean.Detect["0.01"], mean.FAR["0.05"], mean.Detect["0.05"], mean.BHFDR, mean.BHPower, mean.ContamFAR, mean.ContamDetect)
			return tw.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&path, "data", "", "labelled 0/1 `FILE` (.npz, ...) or a folder of .npz files (required)")
	f.StringVar(&method, "method", "iforest", "`METHOD` to calibrate (an unsupervised tabular method)")
	f.IntVar(&seeds, "seeds", 5, "`N` seeds (0, 1, ...)")
	f.Float64Var(&q, "fdr", 0.1, "Benjamini-Hochberg level `Q`")
	f.Float64Var(&calib, "calibration", detector.DefaultCalibrationFraction, "share of the normal training rows held out to calibrate")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	sets.bind(f, "an option of the method, as OPTION=VALUE (repeatable)")
	_ = cmd.MarkFlagRequired("data")
	evalCmd.AddCommand(cmd)
}

// rates returns the share of normal rows (label 0) and of anomalies (label
// 1) for which flagged is true.
func rates(y []int, flagged func(i int) bool) (falseAlarm, detection float64) {
	var n0, n1, f0, f1 float64
	for i, v := range y {
		if v == 1 {
			n1++
			if flagged(i) {
				f1++
			}
		} else {
			n0++
			if flagged(i) {
				f0++
			}
		}
	}
	return f0 / max(n0, 1), f1 / max(n1, 1)
}
