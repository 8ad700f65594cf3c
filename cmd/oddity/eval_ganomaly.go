package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/cae"
	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/metrics"
)

// `oddity eval ganomaly`: the leave-one-class-out protocol over classes and
// seeds, with the baselines on the same splits.
func init() {
	var g ganFlags
	var abnormal, baselines, plots string
	var seeds int
	var seed0 uint64
	var jsonOut bool
	cmd := &cobra.Command{
		Use:   "ganomaly",
		Short: "GANomaly's leave-one-class-out protocol: AUC-ROC and AUC-PR per held-out class over seeds",
		Long: `For each held-out class and seed: train on the other classes' training images
(a validation split of them picks the epoch), score the whole test split once,
and measure AUC-ROC and AUC-PR (average precision, step-wise as scikit-learn).
Prints per-class mean and sample standard deviation over seeds and the mean
over classes. --baselines adds, on the very same splits, the convolutional
autoencoder of the same size ("cae", reconstruction error) and Isolation
Forest on raw pixels ("iforest", 100 trees, 256 samples).

The default --schedule cpu is a reduced schedule (width 16, 4 epochs, 12,000
training images); --schedule paper is the paper's (width 64, 15 epochs, all
images). Each run's figures are also logged to stderr as it finishes.`,
		Example: `  oddity eval ganomaly --data mnist --abnormal all --seeds 3 --json
  oddity eval ganomaly --data mnist --abnormal 0,1,2 --seeds 1 --baselines cae,iforest
  oddity eval ganomaly --data cifar10 --abnormal all --schedule paper`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runEvalGAN(cmd, &g, abnormal, baselines, plots, seeds, seed0, jsonOut)
		},
	}
	g.bind(cmd, ganomaly.Method, cae.Method)
	f := cmd.Flags()
	f.StringVar(&abnormal, "abnormal", "all", "held-out classes: all, or a comma-separated list of numbers or names")
	f.StringVar(&baselines, "baselines", "", "comma-separated baselines run on the same splits: cae, iforest")
	f.StringVar(&plots, "plots", "", "folder for reconstruction grids and score histograms (first seed of each class)")
	f.IntVar(&seeds, "seeds", 3, "seeds per class")
	f.Uint64Var(&seed0, "seed", 0, "first seed (seeds are seed, seed+1, ...)")
	f.BoolVar(&jsonOut, "json", false, "print JSON")
	evalCmd.AddCommand(cmd)
}

// ganEvalClass is one held-out class's results for one method.
type ganEvalClass struct {
	Class   int       `json:"class"`
	Name    string    `json:"name"`
	ROC     []float64 `json:"auc_roc"`
	PR      []float64 `json:"auc_pr"`
	ROCMean float64   `json:"auc_roc_mean"`
	ROCStd  float64   `json:"auc_roc_std"`
	PRMean  float64   `json:"auc_pr_mean"`
	PRStd   float64   `json:"auc_pr_std"`
	Seconds []float64 `json:"seconds"`
	// BestEpoch is the epoch each seed's run kept (selected on validation
	// images; absent for iforest).
	BestEpoch []int `json:"best_epoch,omitempty"`
}

// ganEvalMethod is one method's results over classes.
type ganEvalMethod struct {
	Method  string         `json:"method"`
	Classes []ganEvalClass `json:"classes"`
	// ROCMean and PRMean average the per-class means; ROCStd and PRStd are
	// the sample standard deviations over seeds of the class-averaged AUC
	// (0 with one seed).
	ROCMean float64 `json:"auc_roc_mean"`
	ROCStd  float64 `json:"auc_roc_std_over_seeds"`
	PRMean  float64 `json:"auc_pr_mean"`
	PRStd   float64 `json:"auc_pr_std_over_seeds"`
}

type ganEvalReport struct {
	Data     string          `json:"data"`
	Protocol string          `json:"protocol"`
	Schedule string          `json:"schedule"`
	Options  any             `json:"options"`
	Seeds    []uint64        `json:"seeds"`
	Methods  []ganEvalMethod `json:"methods"`
	Seconds  float64         `json:"wall_seconds"`
	Note     string          `json:"note"`
}

func runEvalGAN(cmd *cobra.Command, g *ganFlags, abnormal, baselines, plots string, seeds int, seed0 uint64, jsonOut bool) error {
	ctx := cmd.Context()
	start := time.Now()
	if seeds < 1 {
		return fmt.Errorf("--seeds must be at least 1, got %d", seeds)
	}
	opt, err := g.options(ganomaly.Method, seed0)
	if err != nil {
		return err
	}
	methods := []string{ganomaly.Method}
	for _, b := range strings.Split(baselines, ",") {
		switch b = strings.TrimSpace(b); b {
		case "":
		case "cae", "iforest":
			methods = append(methods, b)
		default:
			return fmt.Errorf("--baselines: unknown baseline %q (want cae, iforest)", b)
		}
	}
	train, test, err := g.loadImages()
	if err != nil {
		return err
	}
	var classes []int
	if abnormal == "all" {
		k := len(train.ClassNames)
		if k == 0 {
			return fmt.Errorf("%s has no class names; list the classes with --abnormal", g.data)
		}
		for c := 0; c < k; c++ {
			classes = append(classes, c)
		}
	} else {
		for _, s := range strings.Split(abnormal, ",") {
			c, err := ganClassIndex(train, strings.TrimSpace(s))
			if err != nil {
				return err
			}
			classes = append(classes, c)
		}
	}
	rep := ganEvalReport{Data: g.data, Protocol: "leave-one-class-out: train on the other classes' training images, test on the whole test split",
		Schedule: g.schedule, Options: opt,
		Note: "AUC-PR is average precision (step-wise). Epochs are selected on normal validation images only; the test split is scored once per run."}
	for s := 0; s < seeds; s++ {
		rep.Seeds = append(rep.Seeds, seed0+uint64(s))
	}
	res := make([]ganEvalMethod, len(methods))
	for i, m := range methods {
		res[i].Method = m
	}
	for _, c := range classes {
		split, err := protocol.LeaveOneClassOut(train, test, c, protocol.LOCOOptions{})
		if err != nil {
			return err
		}
		for i, m := range methods {
			ec := ganEvalClass{Class: c, Name: ganClassName(train, c)}
			for si, seed := range rep.Seeds {
				t0 := time.Now()
				scores, d, err := ganEvalRun(cmd, g, m, seed, split)
				if err != nil {
					return fmt.Errorf("%s, class %s, seed %d: %w", m, ec.Name, seed, err)
				}
				roc, ap, err := metrics.AUCs(scores, split.Test.Y)
				if err != nil {
					return err
				}
				secs := time.Since(t0).Seconds()
				ec.ROC, ec.PR, ec.Seconds = append(ec.ROC, roc), append(ec.PR, ap), append(ec.Seconds, secs)
				if b, ok := d.(interface{ BestEpoch() int }); ok {
					ec.BestEpoch = append(ec.BestEpoch, b.BestEpoch())
				}
				fmt.Fprintf(os.Stderr, "eval %s %s class %s seed %d: AUC-ROC %.4f AUC-PR %.4f (%.0f s)\n", m, g.data, ec.Name, seed, roc, ap, secs)
				if plots != "" && si == 0 && d != nil {
					if err := ganPlots(ctx, fmt.Sprintf("%s/class-%s", plots, ec.Name), m, d, split.Test, test.Y, train.ClassNames, scores, ec.Name); err != nil {
						return err
					}
				}
			}
			sr, _ := metrics.Summarize(ec.ROC)
			sp, _ := metrics.Summarize(ec.PR)
			ec.ROCMean, ec.ROCStd, ec.PRMean, ec.PRStd = sr.Mean, sr.Std, sp.Mean, sp.Std
			res[i].Classes = append(res[i].Classes, ec)
		}
	}
	for i := range res {
		ganSummarize(&res[i], seeds)
	}
	rep.Methods, rep.Seconds = res, time.Since(start).Seconds()
	w := cmd.OutOrStdout()
	if jsonOut {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(rep)
	}
	fmt.Fprintf(w, "%s, leave-one-class-out, schedule %s (%s), seeds %v\n",
		g.data, g.schedule, ganSummary(opt), rep.Seeds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "class")
	for _, m := range res {
		fmt.Fprintf(tw, "\t%s AUC-ROC\t%s AUC-PR", m.Method, m.Method)
	}
	fmt.Fprintln(tw)
	for ci := range classes {
		fmt.Fprint(tw, res[0].Classes[ci].Name)
		for _, m := range res {
			c := m.Classes[ci]
			fmt.Fprintf(tw, "\t%s\t%s", ganPM(c.ROCMean, c.ROCStd, seeds), ganPM(c.PRMean, c.PRStd, seeds))
		}
		fmt.Fprintln(tw)
	}
	fmt.Fprint(tw, "mean")
	for _, m := range res {
		fmt.Fprintf(tw, "\t%s\t%s", ganPM(m.ROCMean, m.ROCStd, seeds), ganPM(m.PRMean, m.PRStd, seeds))
	}
	fmt.Fprintln(tw)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "wall time %.0f s; AUC-PR is average precision; ± is the sample std over seeds\n", rep.Seconds)
	return nil
}

func ganPM(mean, std float64, n int) string {
	if n < 2 {
		return fmt.Sprintf("%.4f", mean)
	}
	return fmt.Sprintf("%.4f ± %.4f", mean, std)
}

// ganSummarize averages a method's classes, per seed and overall.
func ganSummarize(m *ganEvalMethod, seeds int) {
	if len(m.Classes) == 0 {
		return
	}
	roc, pr := make([]float64, seeds), make([]float64, seeds)
	for _, c := range m.Classes {
		for s := 0; s < seeds; s++ {
			roc[s] += c.ROC[s] / float64(len(m.Classes))
			pr[s] += c.PR[s] / float64(len(m.Classes))
		}
	}
	sr, _ := metrics.Summarize(roc)
	sp, _ := metrics.Summarize(pr)
	m.ROCMean, m.ROCStd, m.PRMean, m.PRStd = sr.Mean, sr.Std, sp.Mean, sp.Std
}

// ganEvalRun fits one method on the split's training images and scores its
// test split once. It returns the detector when it can reconstruct.
func ganEvalRun(cmd *cobra.Command, g *ganFlags, method string, seed uint64, split *protocol.ImageSplit) ([]float64, detector.Detector, error) {
	ctx := cmd.Context()
	if method == "iforest" {
		return ganIForest(seed, split.Train, split.Test)
	}
	o, err := g.options(method, seed)
	if err != nil {
		return nil, nil, err
	}
	d, err := newGANDetector(method, o)
	if err != nil {
		return nil, nil, err
	}
	bars := progress.NewPhases(fmt.Sprintf("%s seed %d", method, seed))
	defer bars.Close()
	if err := d.Fit(ctx, detector.TrainSet{X: split.Train, Progress: bars.Report}); err != nil {
		return nil, nil, err
	}
	s, err := d.Score(ctx, split.Test)
	return s, d, err
}

// ganIForest is Isolation Forest on raw pixels (values in [0, 1]).
func ganIForest(seed uint64, train, test *data.Dataset) ([]float64, detector.Detector, error) {
	opt := iforest.DefaultOptions()
	opt.Seed = seed
	f, err := iforest.Fit(train.X, train.N, train.Dim(), opt)
	if err != nil {
		return nil, nil, err
	}
	s, err := f.Score(test.X, test.N)
	return s, nil, err
}
