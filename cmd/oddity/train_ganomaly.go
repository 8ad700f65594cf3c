package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oddity-ml/oddity/cae"
	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/data/imagefolder"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/option"
	"github.com/oddity-ml/oddity/viz"
)

// ganFlags are the data and schedule flags shared by `oddity train
// ganomaly|cae` and `oddity eval ganomaly`, and the methods' options as
// their packages declare them.
type ganFlags struct {
	data, schedule string
	fs             *pflag.FlagSet
	// bound are the options structs bound to fs, by method.
	bound map[string]any
}

// bind adds --data, --schedule and the options of methods (the first
// method's, then any others' that the first does not have) to cmd.
func (g *ganFlags) bind(cmd *cobra.Command, methods ...string) {
	f := cmd.Flags()
	f.StringVar(&g.data, "data", "mnist", "mnist, cifar10, a flat folder of normal images (any PNG/JPEG sizes, resized to one square side), the MVTec AD layout (train/good, test/good, test/<defect>), or a folder/archive with train/ and test/ splits of class folders (leave-one-class-out, --abnormal)")
	f.StringVar(&g.schedule, "schedule", "cpu", "cpu (the method's defaults: width 16, 4 epochs, 12,000 images) or paper (width 64, 15 epochs, all images); the option flags override it")
	g.fs, g.bound = f, map[string]any{}
	for _, m := range methods {
		in, err := detector.Lookup(m)
		if err != nil {
			panic(err) // the methods are this file's constants
		}
		o := in.Options()
		option.Bind(f, o)
		g.bound[m] = o
	}
}

// options returns method's options for a run: its defaults or the
// paper's (--schedule), with every option flag the user set that the
// method declares, and the seed.
func (g *ganFlags) options(method string, seed uint64) (any, error) {
	in, err := detector.Lookup(method)
	if err != nil {
		return nil, err
	}
	var o any
	switch g.schedule {
	case "cpu":
		o = in.Options()
	case "paper":
		o = in.Paper()
	default:
		return nil, fmt.Errorf("--schedule %q: want cpu or paper", g.schedule)
	}
	set := map[string]string{}
	for _, b := range g.bound {
		for k, v := range option.Changed(g.fs, b) {
			if _, ok := option.Lookup(o, k); ok {
				set[k] = v
			}
		}
	}
	if err := option.Apply(o, set); err != nil {
		return nil, fmt.Errorf("%s: %w", method, err)
	}
	option.SetSeed(o, seed)
	if _, err := in.New(o); err != nil {
		return nil, err
	}
	return o, nil
}

// ganSummary describes the options a run uses, for its first line: every
// option as name=value, in the order the package declares them.
func ganSummary(o any) string {
	var parts []string
	for _, f := range option.Fields(o) {
		parts = append(parts, f.Name+"="+f.Value)
	}
	return strings.Join(parts, " ")
}

// loadImages reads the training and test splits of --data.
func (g *ganFlags) loadImages() (train, test *data.Dataset, err error) {
	switch strings.ToLower(g.data) {
	case "mnist", "cifar10", "cifar-10":
		s, err := catalog.Load(g.data)
		if err != nil {
			return nil, nil, err
		}
		return s.Train, s.Test, nil
	}
	m, err := imagefolder.LoadSplits(g.data, data.Options{})
	if err != nil {
		return nil, nil, err
	}
	if m["train"] == nil || m["test"] == nil {
		return nil, nil, fmt.Errorf("%s: want train/ and test/ splits of class folders", g.data)
	}
	return m["train"], m["test"], nil
}

// ganClassIndex resolves a class given by number or name.
func ganClassIndex(ds *data.Dataset, s string) (int, error) {
	for i, n := range ds.ClassNames {
		if n == s {
			return i, nil
		}
	}
	k, err := strconv.Atoi(s)
	if err != nil || k < 0 || (ds.ClassNames != nil && k >= len(ds.ClassNames)) {
		return 0, fmt.Errorf("unknown class %q (classes: %s)", s, strings.Join(ds.ClassNames, ", "))
	}
	return k, nil
}

func ganClassName(ds *data.Dataset, k int) string {
	if k < len(ds.ClassNames) {
		return ds.ClassNames[k]
	}
	return strconv.Itoa(k)
}

// newGANDetector returns an unfitted detector of method with options o
// (from ganFlags.options).
func newGANDetector(method string, o any) (detector.Detector, error) {
	in, err := detector.Lookup(method)
	if err != nil {
		return nil, err
	}
	return in.New(o)
}

func init() {
	for _, method := range []string{ganomaly.Method, cae.Method} {
		var g ganFlags
		var abnormal, out, plots string
		var seed uint64
		var jsonOut bool
		var calib float64
		short := "Train GANomaly on all classes but one (leave-one-class-out) and save the model"
		if method == cae.Method {
			short = "Train the convolutional-autoencoder baseline (GANomaly's generator, reconstruction loss only)"
		}
		cmd := &cobra.Command{
			Use:   method,
			Short: short,
			Long: short + `.

The held-out class is the anomaly: the model trains on the other classes'
training images (a validation split of them picks the epoch; no anomaly is
used), then the whole test split is scored once and its AUC-ROC and average
precision (step-wise, as scikit-learn's average_precision_score) are printed
and stored in the model's metadata. Images in [0, 1] are scaled to [-1, 1];
MNIST's 28×28 digits are padded to 32×32 unless --fit resize.`,
			Example: "  oddity train " + method + " --data mnist --abnormal 3 --out mnist3.model --plots plots/\n" +
				"  oddity train " + method + " --data cifar10 --abnormal bird --schedule paper --out bird.model",
			Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				if out == "" {
					return fmt.Errorf("--out is required")
				}
				if handled, err := trainImageFolder(cmd, method, &g, out, seed, calib); handled {
					return err
				}
				return runTrainGAN(cmd, method, &g, abnormal, out, plots, seed, jsonOut)
			},
		}
		g.bind(cmd, method)
		cmd.Flags().StringVar(&abnormal, "abnormal", "0", "held-out (anomalous) class, by number or name")
		cmd.Flags().StringVar(&out, "out", "", "model file to write")
		cmd.Flags().StringVar(&plots, "plots", "", "folder for a grid of test inputs and reconstructions and score histograms")
		cmd.Flags().Uint64Var(&seed, "seed", 0, "random seed")
		cmd.Flags().BoolVar(&jsonOut, "json", false, "print the result as JSON")
		cmd.Flags().Float64Var(&calib, "calibration", detector.DefaultCalibrationFraction, "image folders: share of the training images held out to calibrate p-values (0: none)")
		trainCmd.AddCommand(cmd)
	}
}

// ganTrainResult is `oddity train ganomaly --json`'s output.
type ganTrainResult struct {
	Method    string                `json:"method"`
	Data      string                `json:"data"`
	Abnormal  string                `json:"abnormal"`
	Schedule  string                `json:"schedule"`
	Options   any                   `json:"options"`
	Model     string                `json:"model"`
	AUCROC    float64               `json:"auc_roc"`
	AUCPR     float64               `json:"auc_pr_average_precision"`
	FitSecs   float64               `json:"fit_seconds"`
	TrainImgs int                   `json:"train_images"`
	ValImgs   int                   `json:"val_images"`
	BestEpoch int                   `json:"best_epoch"`
	History   []ganomaly.EpochStats `json:"history"`
}

func runTrainGAN(cmd *cobra.Command, method string, g *ganFlags, abnormal, out, plots string, seed uint64, jsonOut bool) error {
	ctx := cmd.Context()
	opt, err := g.options(method, seed)
	if err != nil {
		return err
	}
	train, test, err := g.loadImages()
	if err != nil {
		return err
	}
	ab, err := ganClassIndex(train, abnormal)
	if err != nil {
		return err
	}
	split, err := protocol.LeaveOneClassOut(train, test, ab, protocol.LOCOOptions{})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "%s: %d normal training images of %s without class %s (schedule %s: %s)\n",
		method, split.Train.N, g.data, ganClassName(train, ab), g.schedule, ganSummary(opt))
	d, err := newGANDetector(method, opt)
	if err != nil {
		return err
	}
	bars := progress.NewPhases(method)
	m, err := detector.Fit(ctx, d, detector.TrainSet{X: split.Train, Progress: bars.Report}, detector.ThresholdRule{Contamination: 0.1})
	bars.Close()
	if err != nil {
		return err
	}
	// The test split is scored once, after training.
	scores, err := m.Score(ctx, split.Test)
	if err != nil {
		return err
	}
	roc, ap, err := metrics.AUCs(scores, split.Test.Y)
	if err != nil {
		return err
	}
	m.Meta.Metrics = map[string]float64{"test_auc_roc": roc, "test_auc_pr": ap}
	m.Meta.Extra = map[string]string{"data": g.data, "abnormal": ganClassName(train, ab), "schedule": g.schedule,
		"seed": strconv.FormatUint(seed, 10), "protocol": "leave-one-class-out"}
	if err := m.SaveFile(out); err != nil {
		return err
	}
	if plots != "" {
		if err := ganPlots(ctx, plots, method, d, split.Test, test.Y, train.ClassNames, scores, ganClassName(train, ab)); err != nil {
			return err
		}
	}
	type hist interface {
		History() []ganomaly.EpochStats
		BestEpoch() int
		TrainImages() int
		ValImages() int
	}
	h := d.(hist)
	res := ganTrainResult{Method: method, Data: g.data, Abnormal: ganClassName(train, ab), Schedule: g.schedule, Options: opt,
		Model: out, AUCROC: roc, AUCPR: ap, FitSecs: m.Meta.Seconds, BestEpoch: h.BestEpoch(), History: h.History(),
		TrainImgs: h.TrainImages(), ValImgs: h.ValImages()}
	w := cmd.OutOrStdout()
	if jsonOut {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(res)
	}
	fmt.Fprintf(w, "%s on %s, abnormal class %s, schedule %s (%s; %d training + %d validation images): kept epoch %d\n",
		method, g.data, res.Abnormal, g.schedule, ganSummary(opt), h.TrainImages(), h.ValImages(), res.BestEpoch)
	fmt.Fprintf(w, "test AUC-ROC %.4f, AUC-PR (average precision) %.4f; fit %.0f s; model %s\n", roc, ap, res.FitSecs, out)
	return nil
}

// ganPlots writes a grid of normal and abnormal test inputs with their
// reconstructions, and score histograms (normal vs abnormal, and per
// original class; scores min-max scaled over the test set for display).
func ganPlots(ctx context.Context, dir, method string, d detector.Detector, test *data.Dataset, origY []int, names []string,
	scores []float64, abName string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	rec, ok := d.(detector.Reconstructor)
	if !ok {
		return fmt.Errorf("%s cannot reconstruct", method)
	}
	const k = 10
	var pick []int
	for _, want := range []int{0, 1} {
		n := 0
		for i, y := range test.Y {
			if y == want && n < k {
				pick, n = append(pick, i), n+1
			}
		}
	}
	sub, err := test.Subset(pick)
	if err != nil {
		return err
	}
	inD, outD, err := rec.Reconstruct(ctx, sub)
	if err != nil {
		return err
	}
	in, out := inD.X, outD.X
	s := inD.Shape[1]
	c := test.Shape[0]
	sz := c * s * s
	nn := 0
	for _, i := range pick {
		if test.Y[i] == 0 {
			nn++
		}
	}
	rows := [][]float32{in[:nn*sz], out[:nn*sz], in[nn*sz:], out[nn*sz:]}
	err = viz.ImageGrid(filepath.Join(dir, method+"-reconstructions.png"),
		fmt.Sprintf("%s: test inputs and reconstructions (normal, then abnormal class %s)", method, abName), rows,
		viz.GridOptions{Channels: c, Height: s, Width: s, Lo: 0, Hi: 1,
			RowLabels: []string{"normal", "recon", "abnormal", "recon"}})
	if err != nil {
		return err
	}
	scaled := ganomaly.MinMax(scores)
	var norm, abn []float64
	for i, y := range test.Y {
		if y == 1 {
			abn = append(abn, scaled[i])
		} else {
			norm = append(norm, scaled[i])
		}
	}
	hopt := viz.HistOptions{XLabel: "anomaly score (min-max scaled over the test set)"}
	if err := viz.Histograms(filepath.Join(dir, method+"-scores.png"), fmt.Sprintf("%s scores, abnormal class %s", method, abName),
		[]viz.Group{{Name: "normal", Values: norm}, {Name: "abnormal (" + abName + ")", Values: abn}}, hopt); err != nil {
		return err
	}
	if origY == nil {
		return nil
	}
	byClass := map[int][]float64{}
	for i, y := range origY {
		byClass[y] = append(byClass[y], scaled[i])
	}
	var groups []viz.Group
	for cl := 0; cl < len(names); cl++ {
		if v := byClass[cl]; len(v) > 0 {
			groups = append(groups, viz.Group{Name: names[cl], Values: v})
		}
	}
	return viz.Histograms(filepath.Join(dir, method+"-scores-by-class.png"), fmt.Sprintf("%s scores per test class", method), groups, hopt)
}
