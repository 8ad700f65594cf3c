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
	opt, err := g.options(method, seed)
	if err != nil {
		return true, err
	}
	return true, trainImages(cmd, method, g.data, layout, opt, out, seed, calib)
}

// trainImages loads a flat folder or an MVTec AD folder, fits method with
// options opt on its normal training images (holding out calib of them to
// calibrate p-values), measures the model on the MVTec test images when
// there are any, and saves it.
func trainImages(cmd *cobra.Command, method, path string, layout imagefolder.Layout, opt any, out string, seed uint64, calib float64) error {
	ctx := cmd.Context()
	note := func(s string) { fmt.Fprintln(cmd.ErrOrStderr(), "note:", s) }
	var err error
	var train, test *data.Dataset
	if layout == imagefolder.Flat {
		if train, _, err = imagefolder.LoadFlat(path, imagefolder.FlatOptions{Note: note}); err != nil {
			return err
		}
	} else {
		mv, err := imagefolder.LoadMVTec(path, imagefolder.FlatOptions{Note: note})
		if err != nil {
			return err
		}
		train, test = mv.Train, mv.Test
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d normal training images of shape %v from %s (%s layout; %s)\n",
		method, train.N, train.Shape, path, layout, ganSummary(opt))
	d, err := newGANDetector(method, opt)
	if err != nil {
		return err
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
		return err
	}
	m.Meta.Extra = map[string]string{"data": path, "layout": layout.String(), "seed": fmt.Sprint(seed)}
	w := cmd.OutOrStdout()
	if test != nil {
		scores, err := m.Score(ctx, test)
		if err != nil {
			return err
		}
		roc, ap, err := metrics.AUCs(scores, test.Y)
		if err != nil {
			return err
		}
		m.Meta.Metrics = map[string]float64{"test_auc_roc": roc, "test_auc_pr": ap}
		fmt.Fprintf(w, "test: %d images (%d defective), AUC-ROC %.4f, AUC-PR %.4f\n", test.N, countOnes(test.Y), roc, ap)
	}
	if err := m.SaveFile(out); err != nil {
		return err
	}
	fmt.Fprintf(w, "wrote %s: %s on %d images of shape %v (%.0f s)\n", out, method, m.Meta.Train, m.Schema.Shape, m.Meta.Seconds)
	return nil
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

// `oddity train METHOD` for every registered image method without a
// command of its own (deep clustering; GANomaly and the CAE have theirs):
// fit on a flat folder of normal images or an MVTec AD folder, with the
// method's options as flags.
func init() {
	for _, in := range detector.Infos() {
		if in.Kind&detector.Images == 0 || in.Method == "ganomaly" || in.Method == "cae" {
			continue
		}
		addTrainImages(in)
	}
}

func addTrainImages(in detector.Info) {
	var (
		path, out string
		seed      uint64
		calib     float64
	)
	method := in.Method
	cmd := &cobra.Command{
		Use:   method + " --data FOLDER --out MODEL",
		Short: fmt.Sprintf("Fit %s on a folder of normal images and save the model", method),
		Long: in.Summary + `, trained on a flat folder of normal images (any PNG/JPEG
sizes, resized to one square side) or on the MVTec AD layout (train/good;
test/good and test/<defect> measure the model). ` + "`oddity methods " + method + "` lists the options.",
		Example: fmt.Sprintf("  oddity train %s --data ./good-images --out %s.odm\n  oddity score --model %s.odm ./new-images", method, method, method),
		Args:    cobra.NoArgs,
	}
	options := bindMethodOptions(cmd.Flags(), in)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		o, err := options(seed)
		if err != nil {
			return err
		}
		layout, err := imagefolder.Detect(path)
		if err != nil {
			return err
		}
		if layout != imagefolder.Flat && layout != imagefolder.MVTec {
			return fmt.Errorf("%s: a %s folder; train %s on a flat folder of normal images or the MVTec AD layout (oddity cluster takes the named data sets)", path, layout, method)
		}
		return trainImages(cmd, method, path, layout, o, out, seed, calib)
	}
	f := cmd.Flags()
	f.StringVar(&path, "data", "", "`FOLDER` of normal images, or an MVTec AD category folder (required)")
	f.StringVar(&out, "out", method+".odm", "model `FILE` to write")
	f.Float64Var(&calib, "calibration", detector.DefaultCalibrationFraction, "share of the training images held out to calibrate p-values (0: none)")
	f.Uint64Var(&seed, "seed", 0, "random seed")
	_ = cmd.MarkFlagRequired("data")
	trainCmd.AddCommand(cmd)
}
