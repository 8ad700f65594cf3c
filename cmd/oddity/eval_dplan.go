package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/dplan"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/option"
)

// evalRun is one method's result on one data set and seed.
type evalRun struct {
	Data    string  `json:"data"`
	Method  string  `json:"method"`
	Seed    uint64  `json:"seed"`
	AUCPR   float64 `json:"auc_pr"`
	AUCROC  float64 `json:"auc_roc"`
	Seconds float64 `json:"fit_seconds"`
}

// evalRow summarises a method on a data set over the seeds.
type evalRow struct {
	Data   string          `json:"data"`
	Method string          `json:"method"`
	AUCPR  metrics.Summary `json:"auc_pr"`
	AUCROC metrics.Summary `json:"auc_roc"`
	// Seconds is the mean fit time.
	Seconds float64 `json:"fit_seconds"`
}

type evalReport struct {
	Protocol string    `json:"protocol"`
	Command  string    `json:"command"`
	Rows     []evalRow `json:"rows"`
	// Average is each method's mean AUC-PR and AUC-ROC over the data sets.
	Average []evalRow `json:"average"`
	Runs    []evalRun `json:"runs"`
}

// evalMethod fits a method on a split and scores its test set.
type evalMethod struct {
	name string
	fit  func(seed uint64) detector.Detector
}

func init() {
	var (
		o                                  dplan.Options
		paper, asJSON                      bool
		path, labelCol, proto, anoms, meth string
		known, labeled, seeds              int
		seedBase                           uint64
		contamination, testFrac, labRatio  float64
		extraP                             []float64
		sets                               methodSettings
		minLab                             int
	)
	cmd := &cobra.Command{
		Use:   "dplan --data PATH --protocol dplan|adbench [--seeds 5] [--json]",
		Short: "Evaluate DPLAN beside DevNet, Deep SAD and Isolation Forest",
		Long: `Evaluate DPLAN and the baselines over seeds, printing AUC-PR (average
precision, step-wise as scikit-learn's average_precision_score) and AUC-ROC,
mean ± sample std.

--protocol dplan: the weakly supervised protocol of DPLAN's paper (stratified
80/20 split, min-max scaling fitted on the training part, --labeled anomalies
of --known-class labelled, --contamination anomalies in the unlabelled set).
--data may be the UCI thyroid folder (ann-train.data + ann-test.data).

--protocol adbench: ADBench's split (stratified 70/30, min-max scaling,
--labeled-ratio of the training anomalies labelled) of each .npz file; --data
may be a folder, in which case every .npz in it is evaluated.`,
		Example: `  oddity eval dplan --data ../shared/datasets/uci-thyroid --protocol dplan --known-class 1 --seeds 5 --json
  oddity eval dplan --data ../shared/datasets/adbench --protocol adbench --labeled-ratio 0.05 --seeds 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if paper {
				if err := applyPaper(cmd.Flags(), &o); err != nil {
					return err
				}
			}
			if err := o.Validate(); err != nil {
				return err
			}
			if seeds < 1 {
				return fmt.Errorf("--seeds must be at least 1, got %d", seeds)
			}
			files := []string{path}
			if st, err := os.Stat(path); err == nil && st.IsDir() && proto == "adbench" {
				files, _ = filepath.Glob(filepath.Join(path, "*.npz"))
				sort.Slice(files, func(i, j int) bool { return natLess(filepath.Base(files[i]), filepath.Base(files[j])) })
				if len(files) == 0 {
					return fmt.Errorf("no .npz files in %s", path)
				}
			}
			classes, err := parseClasses(anoms)
			if err != nil {
				return err
			}
			methods, err := evalMethods(meth, o, extraP, &sets)
			if err != nil {
				return err
			}
			rep := evalReport{Protocol: proto, Command: strings.Join(os.Args, " ")}
			for _, f := range files {
				ds, err := loadTabular(f, labelCol)
				if err != nil {
					return err
				}
				if ds.Y == nil {
					return fmt.Errorf("data %s: no labels", f)
				}
				name := strings.TrimSuffix(filepath.Base(f), ".npz")
				if proto == "dplan" {
					name = fmt.Sprintf("%s (known class %d)", name, known)
				}
				for s := 0; s < seeds; s++ {
					seed := seedBase + uint64(s)
					var split *protocol.SemiSupervised
					switch proto {
					case "dplan":
						split, err = protocol.Weak(ds, protocol.WeakOptions{AnomalyClasses: classes, KnownClass: known,
							Labeled: labeled, Contamination: contamination, TestFraction: testFrac, Seed: seed})
					case "adbench":
						split, err = protocol.ADBench(ds, protocol.ADBenchOptions{LabeledRatio: labRatio, Seed: seed})
						if err == nil && split.TrainLabeledAnomalies.N < minLab {
							// Too few anomalies for the ratio to reveal any: reveal
							// minLab of them (same seed, so the same split).
							a := split.TrainLabeledAnomalies.N
							for _, y := range split.TrainUnlabeled.Y {
								a += y
							}
							if a > 0 {
								r := min(1, float64(minLab)/float64(a))
								fmt.Fprintf(os.Stderr, "%s seed %d: %g of %d training anomalies reveals %d; revealing %d instead\n",
									name, seed, labRatio, a, split.TrainLabeledAnomalies.N, min(minLab, a))
								split, err = protocol.ADBench(ds, protocol.ADBenchOptions{LabeledRatio: r, Seed: seed})
							}
						}
					default:
						return fmt.Errorf("--protocol must be dplan or adbench, got %q", proto)
					}
					if err != nil {
						return fmt.Errorf("%s seed %d: %w", f, seed, err)
					}
					ts := detector.TrainSet{X: split.TrainUnlabeled, Anomalies: split.TrainLabeledAnomalies}
					for _, m := range methods {
						if err := cmd.Context().Err(); err != nil {
							return err
						}
						start := time.Now()
						det := m.fit(seed)
						if err := det.Fit(cmd.Context(), ts); err != nil {
							if ts.Anomalies.N == 0 && m.name != "iforest" && m.name != "deepsad" {
								fmt.Fprintf(os.Stderr, "%s seed %d %s: skipped (%v)\n", name, seed, m.name, err)
								continue
							}
							return fmt.Errorf("%s seed %d %s: %w", name, seed, m.name, err)
						}
						secs := time.Since(start).Seconds()
						sc, err := det.Score(cmd.Context(), split.Test)
						if err != nil {
							return err
						}
						ap, err := metrics.AveragePrecision(sc, split.Test.Y)
						if err != nil {
							return err
						}
						roc, err := metrics.ROCAUC(sc, split.Test.Y)
						if err != nil {
							return err
						}
						rep.Runs = append(rep.Runs, evalRun{Data: name, Method: m.name, Seed: seed, AUCPR: ap, AUCROC: roc, Seconds: secs})
						fmt.Fprintf(os.Stderr, "%s seed %d %-14s AUC-PR %.4f AUC-ROC %.4f (%.1fs; %d unlabelled, %d labelled)\n",
							name, seed, m.name, ap, roc, secs, ts.X.N, ts.Anomalies.N)
					}
				}
			}
			rep.summarise(methods)
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			rep.print(cmd.OutOrStdout())
			return nil
		},
	}
	fs := cmd.Flags()
	dplanFlags(fs, &o, &paper)
	fs.StringVar(&path, "data", "", "data file, UCI thyroid folder, or (adbench) folder of .npz files (required)")
	fs.StringVar(&labelCol, "label-column", "", "label column of a CSV file")
	fs.StringVar(&proto, "protocol", "dplan", "dplan or adbench")
	fs.StringVar(&anoms, "anomaly-classes", "1,2", "dplan protocol: labels of the anomaly classes")
	fs.IntVar(&known, "known-class", 1, "dplan protocol: the known anomaly class")
	fs.IntVar(&labeled, "labeled", 60, "dplan protocol: labelled anomalies")
	fs.Float64Var(&contamination, "contamination", 0.02, "dplan protocol: anomalies' share of the unlabelled data")
	fs.Float64Var(&testFrac, "test-fraction", 0.2, "dplan protocol: test share")
	fs.Float64Var(&labRatio, "labeled-ratio", 0.05, "adbench protocol: share of training anomalies labelled")
	fs.IntVar(&minLab, "min-labeled", 1, "adbench protocol: reveal at least this many training anomalies when the ratio reveals fewer")
	fs.IntVar(&seeds, "seeds", 5, "number of seeds")
	fs.Uint64Var(&seedBase, "seed-base", 0, "first seed")
	fs.StringVar(&meth, "methods", "dplan,devnet,deepsad,iforest", "methods to run, comma-separated")
	fs.Float64SliceVar(&extraP, "extra-p", nil, "also run DPLAN with these sampler probabilities p (e.g. 0.05)")
	sets.bind(fs, "an option of a baseline, as METHOD.OPTION=VALUE (repeatable), e.g. deepsad.max-batches=20; `oddity methods` lists them")
	fs.BoolVar(&asJSON, "json", false, "print the report as JSON")
	_ = cmd.MarkFlagRequired("data")
	evalCmd.AddCommand(cmd)
}

func evalMethods(list string, o dplan.Options, extraP []float64, sets *methodSettings) ([]evalMethod, error) {
	var out []evalMethod
	names := strings.Split(list, ",")
	for i := range names {
		names[i] = strings.TrimSpace(names[i])
	}
	for _, name := range names {
		switch name {
		case "dplan":
			if s, err := sets.forMethod("dplan", false, names); err != nil || len(s) > 0 {
				if err == nil {
					err = fmt.Errorf("--set dplan.OPTION: DPLAN's options are flags of this command (--%s ...)", option.Names(&o)[0])
				}
				return nil, err
			}
			out = append(out, evalMethod{"dplan", func(seed uint64) detector.Detector {
				oo := o
				oo.Seed = seed
				return dplan.New(oo)
			}})
			for _, p := range extraP {
				out = append(out, evalMethod{fmt.Sprintf("dplan(p=%g)", p), func(seed uint64) detector.Detector {
					oo := o
					oo.Seed, oo.P = seed, p
					return dplan.New(oo)
				}})
			}
		case "devnet", "deepsad", "iforest":
			settings, err := sets.forMethod(name, false, names)
			if err != nil {
				return nil, err
			}
			// Check the settings once, before any data is read.
			if _, err := configure(name, settings, 0); err != nil {
				return nil, err
			}
			out = append(out, evalMethod{name, func(seed uint64) detector.Detector {
				d, _ := configure(name, settings, seed) // checked above; the seed cannot make it fail
				return d
			}})
		default:
			return nil, fmt.Errorf("unknown method %q (dplan, devnet, deepsad, iforest)", name)
		}
	}
	return out, nil
}

func (r *evalReport) summarise(methods []evalMethod) {
	type key struct{ data, method string }
	groups := map[key][]evalRun{}
	var order []key
	for _, run := range r.Runs {
		k := key{run.Data, run.Method}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], run)
	}
	perMethod := map[string][2][]float64{}
	for _, k := range order {
		var ap, roc []float64
		var secs float64
		for _, run := range groups[k] {
			ap, roc = append(ap, run.AUCPR), append(roc, run.AUCROC)
			secs += run.Seconds
		}
		sa, _ := metrics.Summarize(ap)
		sr, _ := metrics.Summarize(roc)
		r.Rows = append(r.Rows, evalRow{Data: k.data, Method: k.method, AUCPR: sa, AUCROC: sr, Seconds: secs / float64(len(ap))})
		pm := perMethod[k.method]
		pm[0], pm[1] = append(pm[0], sa.Mean), append(pm[1], sr.Mean)
		perMethod[k.method] = pm
	}
	for _, m := range methods {
		pm, ok := perMethod[m.name]
		if !ok {
			continue
		}
		sa, _ := metrics.Summarize(pm[0])
		sr, _ := metrics.Summarize(pm[1])
		r.Average = append(r.Average, evalRow{Data: "average", Method: m.name, AUCPR: sa, AUCROC: sr})
	}
}

func (r *evalReport) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "data\tmethod\tAUC-PR (AP)\tAUC-ROC\tfit s")
	for _, row := range r.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%.3f ± %.3f\t%.3f ± %.3f\t%.1f\n", row.Data, row.Method,
			row.AUCPR.Mean, row.AUCPR.Std, row.AUCROC.Mean, row.AUCROC.Std, row.Seconds)
	}
	for _, row := range r.Average {
		fmt.Fprintf(tw, "average over %d data sets\t%s\t%.3f\t%.3f\t\n", row.AUCPR.N, row.Method, row.AUCPR.Mean, row.AUCROC.Mean)
	}
	tw.Flush()
}

// natLess orders "2_annthyroid" before "10_cover" (numeric prefixes).
func natLess(a, b string) bool {
	var x, y int
	_, ea := fmt.Sscanf(a, "%d_", &x)
	_, eb := fmt.Sscanf(b, "%d_", &y)
	if ea == nil && eb == nil && x != y {
		return x < y
	}
	return a < b
}
