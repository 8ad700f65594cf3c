package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all" // every file format
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/data/csvfile"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/dplan"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/option"
)

// dplanFlags binds every DPLAN option to a flag, with the package default.
func dplanFlags(fs *pflag.FlagSet, o *dplan.Options, paper *bool) {
	*o = dplan.DefaultOptions()
	fs.BoolVar(paper, "paper", false, "start from the paper's settings (dplan.PaperOptions) instead of the package defaults; explicit flags still apply")
	option.Bind(fs, o)
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed")
}

// applyPaper replaces the options with PaperOptions, keeping the flags the
// user set explicitly.
func applyPaper(fs *pflag.FlagSet, o *dplan.Options) error {
	set := *o
	*o = dplan.PaperOptions()
	o.Seed = set.Seed
	var err error
	fs.Visit(func(f *pflag.Flag) {
		if err == nil {
			err = fs.Set(f.Name, f.Value.String())
		}
	})
	return err
}

// loadTabular reads a named data set (thyroid, adbench/NAME: package
// data/catalog), a data file, or a UCI thyroid folder (ann-train.data +
// ann-test.data).
func loadTabular(path, labelCol string) (*data.Dataset, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return csvfile.LoadUCIThyroid(path)
	}
	if _, err := os.Stat(path); err != nil {
		s, err := catalog.Load(path)
		if err != nil {
			return nil, err
		}
		return s.All()
	}
	var opts []data.Option
	if labelCol != "" {
		opts = append(opts, data.WithLabelColumn(labelCol))
	}
	return data.Load(path, opts...)
}

// parseClasses parses "1,2" into class labels.
func parseClasses(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var c int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &c); err != nil {
			return nil, fmt.Errorf("bad class list %q", s)
		}
		out = append(out, c)
	}
	return out, nil
}

func init() {
	var (
		o                          dplan.Options
		paper                      bool
		path, labelCol, out, anoms string
		known, labeled             int
		contamination              float64
	)
	cmd := &cobra.Command{
		Use:   "dplan --data FILE --label-column NAME --labeled N --out MODEL",
		Short: "Train DPLAN (deep reinforcement learning, weak supervision) on tabular data",
		Long: `Train DPLAN on a tabular file with labels. The rows of the anomaly classes
(--anomaly-classes) are anomalies, the rest normal; --labeled anomalies of the
known class (--known-class) are revealed as labelled, and the unlabelled
training set is every normal row plus anomalies of any class drawn to make up
--contamination of it (the protocol of DPLAN's paper, without a test split:
all rows are used for training). Features are min-max scaled on the training
rows and the scaling is stored in the model, so ` + "`oddity score`" + ` takes raw
rows. For the UCI thyroid folder, --data may name the folder.`,
		Example: `  oddity train dplan --data ../shared/datasets/uci-thyroid --labeled 60 --out thyroid.odm
  oddity train dplan --data flows.csv --label-column class --anomaly-classes 1,2 --known-class 1 --labeled 60 --out flows.odm`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if paper {
				if err := applyPaper(cmd.Flags(), &o); err != nil {
					return err
				}
			}
			ds, err := loadTabular(path, labelCol)
			if err != nil {
				return err
			}
			if ds.Y == nil {
				return fmt.Errorf("data %s: no labels (set --label-column)", path)
			}
			classes, err := parseClasses(anoms)
			if err != nil {
				return err
			}
			if known == 0 {
				known = classes[0]
			}
			split, err := protocol.Weak(ds, protocol.WeakOptions{AnomalyClasses: classes, KnownClass: known,
				Labeled: labeled, Contamination: contamination, Seed: o.Seed}) // no test split
			if err != nil {
				return err
			}
			// Train on the raw rows the protocol chose; the detector learns
			// and stores the min-max scaling so the model scores raw data.
			unl, err := ds.Subset(split.UnlabeledIndex)
			if err != nil {
				return err
			}
			lab, err := ds.Subset(split.LabeledIndex)
			if err != nil {
				return err
			}
			o.ScaleInput = true
			bar := progress.New("dplan episodes", o.Episodes)
			ts := detector.TrainSet{X: unl, Anomalies: lab,
				Progress: func(p detector.Progress) { bar.Add(1, p.Metrics) }}
			m, err := detector.Fit(cmd.Context(), dplan.New(o), ts, detector.ThresholdRule{Contamination: contamination})
			bar.Finish()
			if err != nil {
				return err
			}
			m.Meta.Extra = map[string]string{"seed": fmt.Sprint(o.Seed), "data": path, "command": strings.Join(os.Args, " ")}
			if err := m.SaveFile(out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "trained dplan on %d unlabelled rows + %d labelled anomalies (%d features) in %.1fs; saved %s\n",
				unl.N, lab.N, ds.Dim(), m.Meta.Seconds, out)
			return nil
		},
	}
	fs := cmd.Flags()
	dplanFlags(fs, &o, &paper)
	fs.StringVar(&path, "data", "", "tabular data file (CSV, .npz, ...) or the UCI thyroid folder (required)")
	fs.StringVar(&labelCol, "label-column", "", "label column of a CSV file")
	fs.StringVar(&anoms, "anomaly-classes", "1,2", "labels of the anomaly classes, comma-separated (ADBench files: 1)")
	fs.IntVar(&known, "known-class", 0, "anomaly class whose anomalies are labelled (default: the first anomaly class)")
	fs.IntVar(&labeled, "labeled", 60, "number of labelled anomalies")
	fs.Float64Var(&contamination, "contamination", 0.02, "anomalies' share of the unlabelled training data")
	fs.StringVar(&out, "out", "", "model file to write (required)")
	_ = cmd.MarkFlagRequired("data")
	_ = cmd.MarkFlagRequired("out")
	trainCmd.AddCommand(cmd)
}
