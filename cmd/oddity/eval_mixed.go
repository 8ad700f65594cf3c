package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/evaluate"
	"github.com/oddity-ml/oddity/metrics"
)

// thyroidColumns are the UCI thyroid ("ann") attributes, as ann.names
// names them: age, fifteen binary attributes, five hormone measurements.
var thyroidColumns = []string{"age", "sex", "on_thyroxine", "query_on_thyroxine", "on_antithyroid_medication",
	"sick", "pregnant", "thyroid_surgery", "I131_treatment", "query_hypothyroid", "query_hyperthyroid",
	"lithium", "goitre", "tumor", "hypopituitary", "psych", "TSH", "T3", "TT4", "T4U", "FTI"}

// mixedCase is one numeric table and how to make it messy: which columns
// become text, and how.
type mixedCase struct {
	name        string
	train, test *data.Dataset // numeric, labelled 0 normal / 1 anomaly
	// text maps a column to the function that writes its value as text.
	text map[int]func(v float32) string
	// levels, when not nil, makes the clean table write each text column
	// as a one-hot group (one 0/1 column per level) and the messy one as
	// one text column.
	levels []string
}

// mixedRow is one case's measures for one method, over seeds.
type mixedRow struct {
	Case   string    `json:"case"`
	Method string    `json:"method"`
	Clean  []float64 `json:"clean_auc_roc"`
	Messy  []float64 `json:"messy_auc_roc"`
	// Features is the encoded width of the clean and the messy table.
	Features [2]int `json:"features"`
}

func init() {
	var (
		dir     string
		methods []string
		seeds   int
		blank   float64
		asJSON  bool
		ind     string
		extra   []string
	)
	cmd := &cobra.Command{
		Use:   "mixed-types",
		Short: "Measure what messy tables cost: numeric files against the same files with text columns and blanked cells",
		Long: `Two numeric tables are made messy the way real exports are, and each
detector is trained and scored through the table pipeline on both, clean and
messy, on the same rows:

  thyroid   UCI thyroid (ann-train to fit, ann-test to score; classes 1 and 2
            are the anomalies): the fifteen binary attributes written as
            yes/no (sex as F/M);
  cardio    ADBench 6_cardio (ADBench's stratified 70/30 split, the training
            part unlabelled): its first three columns cut into five named
            bins at the training quintiles ("very low" ... "very high").

In the messy version, --blank of all attribute cells (train and test) are
emptied at random. Both versions go through CSV text and the pipeline (kinds
inferred, imputation with missing indicators, one-hot text, min-max
scaling), so the comparison isolates what the messiness costs. Reported:
AUC-ROC clean, messy, and their difference, mean over --seeds (the seed
picks the blanked cells, the split and the detector's seed).`,
		Example: "  oddity eval mixed-types --seeds 5",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if seeds < 1 {
				return fmt.Errorf("--seeds %d: need at least 1", seeds)
			}
			if !(blank >= 0 && blank < 1) {
				return fmt.Errorf("--blank %v: need a share in [0, 1)", blank)
			}
			for _, m := range methods {
				if _, err := configure(m, nil, 0); err != nil {
					return err
				}
			}
			root := dir
			if root == "" {
				root = catalog.Root()
			}
			var rows []mixedRow
			for _, seed := range evaluate.SeedList(0, seeds) {
				cases, err := mixedCases(root, seed, extra)
				if err != nil {
					return err
				}
				for ci, c := range cases {
					for mi, m := range methods {
						k := ci*len(methods) + mi
						if k >= len(rows) {
							rows = append(rows, mixedRow{Case: c.name, Method: m})
						}
						clean, messy, widths, err := runMixed(cmd.Context(), c, m, seed, blank, ind)
						if err != nil {
							return fmt.Errorf("%s, %s, seed %d: %w", c.name, m, seed, err)
						}
						rows[k].Clean = append(rows[k].Clean, clean)
						rows[k].Messy = append(rows[k].Messy, messy)
						rows[k].Features = widths
					}
				}
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(rows)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintf(tw, "case\tmethod\tfeatures clean/messy\tAUC-ROC clean\tAUC-ROC messy\tmessy - clean\tworst seed\t\n")
			for _, r := range rows {
				worst := 0.0
				for i := range r.Clean {
					worst = math.Min(worst, r.Messy[i]-r.Clean[i])
				}
				c, m := mean(r.Clean), mean(r.Messy)
				fmt.Fprintf(tw, "%s\t%s\t%d/%d\t%.4f\t%.4f\t%+.4f\t%+.4f\t\n", r.Case, r.Method, r.Features[0], r.Features[1], c, m, m-c, worst)
			}
			fmt.Fprintf(tw, "(mean over %d seeds; %.0f%% of attribute cells blanked; missing indicators: %s)\t\t\t\t\t\t\t\n", seeds, 100*blank, ind)
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&dir, "datasets", "", "the data folder holding uci-thyroid/ and adbench/ (default: the --datasets root)")
	cmd.Flags().StringSliceVar(&methods, "methods", []string{"iforest", "pca"}, "the unsupervised tabular detectors to compare, with their default options")
	cmd.Flags().IntVar(&seeds, "seeds", 5, "number of seeds")
	cmd.Flags().Float64Var(&blank, "blank", 0.05, "share of attribute cells emptied in the messy tables")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the measures as JSON")
	cmd.Flags().StringSliceVar(&extra, "blank-only", nil, "ADBench files (names under adbench/, such as 29_Pima) to add as cases with blanked cells but no text columns")
	cmd.Flags().StringVar(&ind, "missing-indicators", table.IndicatorsAuto, "missing-value indicators of the messy tables' pipeline: auto, column or none")
	evalCmd.AddCommand(cmd)
}

// mixedCases builds the two cases for one seed.
func mixedCases(root string, seed uint64, extra []string) ([]mixedCase, error) {
	var cases []mixedCase
	thy := filepath.Join(root, "uci-thyroid")
	tr, err := readThyroid(filepath.Join(thy, "ann-train.data"))
	if err != nil {
		return nil, err
	}
	te, err := readThyroid(filepath.Join(thy, "ann-test.data"))
	if err != nil {
		return nil, err
	}
	text := map[int]func(float32) string{}
	for j := 1; j <= 15; j++ {
		text[j] = yesNo
	}
	text[1] = func(v float32) string { return map[bool]string{false: "F", true: "M"}[v != 0] }
	cases = append(cases, mixedCase{name: "thyroid", train: tr, test: te, text: text})

	ctr, cte, err := adbenchSplit(filepath.Join(root, "adbench", "6_cardio.npz"), seed)
	if err != nil {
		return nil, err
	}
	text = map[int]func(float32) string{}
	for j := 0; j < 3; j++ {
		text[j] = binner(ctr, j)
	}
	cases = append(cases, mixedCase{name: "cardio", train: ctr, test: cte, text: text, levels: binNames[:]})
	for _, name := range extra {
		tr, te, err := adbenchSplit(filepath.Join(root, "adbench", name+".npz"), seed)
		if err != nil {
			return nil, err
		}
		cases = append(cases, mixedCase{name: name, train: tr, test: te})
	}
	return cases, nil
}

// adbenchSplit reads an ADBench file and splits it as ADBench does
// (stratified 70/30), unscaled: the table pipeline scales.
func adbenchSplit(path string, seed uint64) (train, test *data.Dataset, err error) {
	src, err := catalog.Load(path)
	if err != nil {
		return nil, nil, err
	}
	ds, err := src.All()
	if err != nil {
		return nil, nil, err
	}
	trIdx, teIdx, err := protocol.StratifiedSplit(ds.Y, 0.3, seed)
	if err != nil {
		return nil, nil, err
	}
	if train, err = ds.Subset(trIdx); err != nil {
		return nil, nil, err
	}
	test, err = ds.Subset(teIdx)
	return train, test, err
}

func yesNo(v float32) string {
	if v != 0 {
		return "yes"
	}
	return "no"
}

var binNames = [5]string{"very low", "low", "medium", "high", "very high"}

// binner cuts column j at the quintiles of x's values into five named bins.
func binner(x *data.Dataset, j int) func(float32) string {
	v := make([]float64, x.N)
	for i := range v {
		v[i] = float64(x.Row(i)[j])
	}
	slices.Sort(v)
	var cuts [4]float32
	for k := range cuts {
		cuts[k] = float32(v[(k+1)*len(v)/5])
	}
	return func(f float32) string {
		k := 0
		for k < 4 && f >= cuts[k] {
			k++
		}
		return binNames[k]
	}
}

// readThyroid reads a UCI thyroid file: 21 attributes and the class (3
// normal; 1, 2 anomalies) per line, a trailing comma allowed.
func readThyroid(path string) (*data.Dataset, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ds := &data.Dataset{Name: filepath.Base(path), Shape: []int{21}, FeatureNames: thyroidColumns}
	for ln, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(strings.TrimRight(strings.TrimSpace(line), ","), ",")
		if len(f) != 22 {
			return nil, fmt.Errorf("%s: line %d has %d fields, want 22", path, ln+1, len(f))
		}
		for j, s := range f {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 32)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d, field %d: %v", path, ln+1, j+1, err)
			}
			if j < 21 {
				ds.X = append(ds.X, float32(v))
			} else {
				ds.Y = append(ds.Y, map[bool]int{true: 0, false: 1}[v == 3])
			}
		}
		ds.N++
	}
	return ds, ds.Validate()
}

// writeMixed writes x as CSV text with a label column: clean (numbers),
// or messy (the case's text columns, and each attribute cell blanked with
// probability blank).
func writeMixed(c mixedCase, x *data.Dataset, messy bool, blank float64, r *rand.Rand) []byte {
	var b bytes.Buffer
	d := x.Dim()
	onehot := func(j int) bool { return !messy && c.levels != nil && c.text[j] != nil }
	for j := 0; j < d; j++ {
		if onehot(j) {
			for _, l := range c.levels {
				fmt.Fprintf(&b, "%s_%s,", featureName(x, j), strings.ReplaceAll(l, " ", "_"))
			}
			continue
		}
		fmt.Fprintf(&b, "%s,", featureName(x, j))
	}
	b.WriteString("label\n")
	for i := 0; i < x.N; i++ {
		for j, v := range x.Row(i) {
			switch {
			case onehot(j):
				t := c.text[j](v)
				for _, l := range c.levels {
					b.WriteString(map[bool]string{false: "0,", true: "1,"}[l == t])
				}
				continue
			case messy && r.Float64() < blank:
			case messy && c.text[j] != nil:
				b.WriteString(c.text[j](v))
			default:
				b.WriteString(strconv.FormatFloat(float64(v), 'g', -1, 32))
			}
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d\n", x.Y[i])
	}
	return b.Bytes()
}

func featureName(x *data.Dataset, j int) string {
	if j < len(x.FeatureNames) && x.FeatureNames[j] != "" {
		return x.FeatureNames[j]
	}
	return fmt.Sprintf("x%d", j)
}

// runMixed fits method on the case's training table, clean and messy,
// and returns each version's test AUC-ROC and encoded width.
func runMixed(ctx context.Context, c mixedCase, method string, seed uint64, blank float64, ind string) (clean, messy float64, widths [2]int, err error) {
	var auc [2]float64
	for v, isMessy := range []bool{false, true} {
		r := rand.New(rand.NewPCG(seed, 0x6d69786564))
		opts := table.Options{LabelColumn: "label", Indicators: ind}
		rawTrain, err := table.ReadCSV(bytes.NewReader(writeMixed(c, c.train, isMessy, blank, r)), c.name+"-train.csv", opts)
		if err != nil {
			return 0, 0, widths, err
		}
		rawTest, err := table.ReadCSV(bytes.NewReader(writeMixed(c, c.test, isMessy, blank, r)), c.name+"-test.csv", opts)
		if err != nil {
			return 0, 0, widths, err
		}
		p, err := table.Fit(rawTrain)
		if err != nil {
			return 0, 0, widths, err
		}
		train, _, err := p.Transform(rawTrain)
		if err != nil {
			return 0, 0, widths, err
		}
		test, carried, err := p.Transform(rawTest)
		if err != nil {
			return 0, 0, widths, err
		}
		d, err := configure(method, nil, seed)
		if err != nil {
			return 0, 0, widths, err
		}
		if err := d.Fit(ctx, detector.TrainSet{X: train}); err != nil {
			return 0, 0, widths, err
		}
		s, err := d.Score(ctx, test)
		if err != nil {
			return 0, 0, widths, err
		}
		y := make([]int, len(carried.Labels))
		for i, l := range carried.Labels {
			y[i] = int(l)
		}
		if auc[v], err = metrics.ROCAUC(s, y); err != nil {
			return 0, 0, widths, err
		}
		widths[v] = train.Dim()
	}
	return auc[0], auc[1], widths, nil
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
