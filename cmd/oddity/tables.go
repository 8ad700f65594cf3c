package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
)

// tableFlags are how a command reads a table as people have it (package
// data/table): which columns are identifiers, labels, categories or to be
// ignored, and what marks a missing cell.
type tableFlags struct {
	idColumns, ignore, categorical, missing []string
	skipRows, maxLevels                     int
	coerce                                  bool
	indicators                              string
}

func (t *tableFlags) bind(fs *pflag.FlagSet) {
	fs.StringSliceVar(&t.idColumns, "id-column", nil, "identifier `COLUMN`s, carried to the output, never features (comma-separated or repeated)")
	fs.StringSliceVar(&t.ignore, "ignore", nil, "`COLUMN`s to leave out")
	fs.StringSliceVar(&t.categorical, "categorical", nil, "`COLUMN`s to encode as categories even when they hold numbers (codes, zip codes)")
	fs.StringSliceVar(&t.missing, "missing", nil, "cell `VALUES` read as missing (default \"\", NA, N/A, null, NULL, NaN, nan, ?, -)")
	fs.IntVar(&t.skipRows, "skip-rows", 0, "`N` lines to skip before the header row")
	fs.IntVar(&t.maxLevels, "max-levels", 0, "most frequent `N` levels of a category that get their own column; beyond them a frequency column (default 20)")
	fs.StringVar(&t.indicators, "missing-indicators", table.IndicatorsAuto, "missing-value indicator columns: auto (for columns whose gaps do not look random), column (for every column with a gap) or none")
	fs.BoolVar(&t.coerce, "coerce", false, "read a text value in a numeric column as missing (counted, noted) instead of an error")
}

// options returns the read options, with labelColumn as the label.
func (t *tableFlags) options(labelColumn string) table.Options {
	o := table.Options{IDColumns: t.idColumns, Ignore: t.ignore, Categorical: t.categorical, SkipRows: t.skipRows,
		MaxLevels: t.maxLevels, Coerce: t.coerce, LabelColumn: labelColumn, Indicators: t.indicators}
	if len(t.missing) > 0 {
		o.Missing = t.missing
	}
	return o
}

// isTable reports whether path names a table file that the table pipeline
// reads: CSV or TSV (plain or gzip) or Parquet.
func isTable(path string) bool {
	p := strings.ToLower(path)
	for _, ext := range []string{".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".parquet", ".pq"} {
		if strings.HasSuffix(p, ext) {
			return true
		}
	}
	return false
}

// tableTraining is a table read and encoded for training.
type tableTraining struct {
	pipeline *table.Pipeline
	x        *data.Dataset
	carried  *table.Carried
}

// readTrainingTable reads path, infers and fits the pipeline, encodes the
// rows, and prints the schema and notes to log.
func readTrainingTable(path string, o table.Options, log io.Writer) (*tableTraining, error) {
	raw, err := table.ReadFile(path, o)
	if err != nil {
		return nil, err
	}
	p, err := table.Fit(raw)
	if err != nil {
		return nil, err
	}
	x, carried, err := p.Transform(raw)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "%s: %d rows; the columns as read:\n%s", path, raw.Rows, p.Schema())
	printNotes(log, raw.Notes, carried.Notes)
	return &tableTraining{pipeline: p, x: x, carried: carried}, nil
}

// trainSet makes the training set: every row for an unsupervised method;
// for a weakly supervised one, the rows labelled 1 are the labelled
// anomalies and every other row (0 or blank) is unlabelled.
func (t *tableTraining) trainSet(weak bool) (detector.TrainSet, error) {
	if !weak {
		return detector.TrainSet{X: t.x}, nil
	}
	if t.carried.Labels == nil {
		return detector.TrainSet{}, fmt.Errorf("a weakly supervised method learns from the rows labelled 1: give --label-column")
	}
	return splitByLabel(t.x, func(i int) bool { return t.carried.Labels[i] == 1 })
}

// scoreTable reads a table with a model's pipeline: columns matched by
// name, the training-time encoding applied. It returns the samples, the
// first identifier column's values (or nil) with its name, and the notes.
func scoreTable(m *detector.Model, path string, log io.Writer) (*data.Dataset, []string, string, error) {
	p, err := table.Unmarshal(m.Pipeline)
	if err != nil {
		return nil, nil, "", fmt.Errorf("model's table pipeline: %w", err)
	}
	raw, err := table.ReadFile(path, p.ReadOptions())
	if err != nil {
		return nil, nil, "", err
	}
	x, carried, err := p.Transform(raw)
	if err != nil {
		return nil, nil, "", err
	}
	printNotes(log, raw.Notes, carried.Notes)
	if carried.Labels != nil && x.Y == nil {
		// Partly labelled: echo the known labels, -1 for the others.
		x.Y = make([]int, len(carried.Labels))
		for i, y := range carried.Labels {
			x.Y[i] = int(y)
		}
	}
	if len(carried.IDs) > 0 {
		return x, carried.IDs[0].Values, carried.IDs[0].Name, nil
	}
	return x, nil, "", nil
}

// printNotes writes each note of the lists on its own line.
func printNotes(log io.Writer, lists ...[]string) {
	for _, l := range lists {
		for _, n := range l {
			fmt.Fprintln(log, "note:", n)
		}
	}
}
