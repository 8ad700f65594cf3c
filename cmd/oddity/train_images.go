package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/imagefolder"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/metrics"
)

// trainImageFolder trains an image method on images as people have them: a
// flat folder of normal images (or one image), or the MVTec AD layout
// (train/good for training; test/good and test/<defect> to measure the
// model). It reports handled = false for other inputs (named data sets and
// the class-folder layout), which the leave-one-class-out path takes.
// A share of the training images (--calibration) is held out to calibrate
// p-values.
func trainImageFolder(cmd *cobra.Command, method string, g *ganFlags, out string, seed uint64, calib float64) (handled bool, err error) {
	if _, err := os.Stat(g.data); err != nil {
		return false, nil // a named data set
	}
	layout, err := imagefolder.Detect(g.data)
	if err != nil {
		return true, err
	}
	if layout != imagefolder.Flat && layout != imagefolder.MVTec {
		return false, nil
	}
	ctx := cmd.Context()
	opt, err := g.options(method, seed)
	if err != nil {
		return true, err
	}
	note := func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), "note:", s) }
	var train, test *data.Dataset
	if layout == imagefolder.Flat {
		if train, _, err = imagefolder.LoadFlat(g.data, imagefolder.FlatOptions{Note: note}); err != nil {
			return true, err
		}
	} else {
		mv, err := imagefolder.LoadMVTec(g.data, imagefolder.FlatOptions{Note: note})
		if err != nil {
			return true, err
		}
		train, test = mv.Train, mv.Test
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d normal training images of shape %v from %s (%s layout; %s)\n",
		method, train.N, train.Shape, g.data, layout, ganSummary(opt))
	d, err := newGANDetector(method, opt)
	if err != nil {
		return true, err
	}
	bars := progress.NewPhases(method)
	ts := detector.TrainSet{X: train, Progress: bars.Report}
	rule := detector.ThresholdRule{Contamination: 0.01}
	var m *detector.Model
	if calib > 0 {
		m, err = detector.FitCalibrated(ctx, d, ts, rule, detector.CalibrationOptions{Fraction: calib, Seed: seed})
	} else {
		m, err = detector.Fit(ctx, d, ts, rule)
	}
	bars.Close()
	if err != nil {
		return true, err
	}
	m.Meta.Extra = map[string]string{"data": g.data, "layout": layout.String(), "seed": fmt.Sprint(seed)}
	w := cmd.OutOrStdout()
	if test != nil {
		scores, err := m.Score(ctx, test)
		if err != nil {
			return true, err
		}
		roc, ap, err := metrics.AUCs(scores, test.Y)
		if err != nil {
			return true, err
		}
		m.Meta.Metrics = map[string]float64{"test_auc_roc": roc, "test_auc_pr": ap}
		fmt.Fprintf(w, "test: %d images (%d defective), AUC-ROC %.4f, AUC-PR %.4f\n", test.N, countOnes(test.Y), roc, ap)
	}
	if err := m.SaveFile(out); err != nil {
		return true, err
	}
	fmt.Fprintf(w, "wrote %s: %s on %d images of shape %v (%.0f s)\n", out, method, m.Meta.Train, m.Schema.Shape, m.Meta.Seconds)
	return true, nil
}

func countOnes(y []int) int {
	n := 0
	for _, v := range y {
		if v == 1 {
			n++
		}
	}
	return n
}
