package table

import (
	"fmt"
	"slices"
	"strings"

	"github.com/oddity-ml/oddity/data/limit"
)

// Kind is what a column of a table holds, as inferred from its values or
// declared in Options.
type Kind string

// The kinds of column. Numeric, Categorical, Boolean and Timestamp columns
// become features; the others are dropped from the feature matrix (ID and
// Label columns are carried beside it, see Carried).
const (
	// Numeric: numbers (integers or decimals).
	Numeric Kind = "numeric"
	// Categorical: text from a limited set of levels.
	Categorical Kind = "categorical"
	// Boolean: true/false, yes/no, y/n, t/f (and 0/1 when declared).
	Boolean Kind = "boolean"
	// Timestamp: dates and times in one of the layouts of TimeLayouts, or a
	// Parquet DATE/TIMESTAMP column.
	Timestamp Kind = "timestamp"
	// ID: an identifier, declared, named like one (id, *_id, uuid, ...) or
	// with (almost) all values distinct.
	ID Kind = "id"
	// Constant: a single distinct value (missing cells aside).
	Constant Kind = "constant"
	// Empty: every cell missing.
	Empty Kind = "empty"
	// Ignored: named in Options.Ignore.
	Ignored Kind = "ignored"
	// Label: the label column (Options.LabelColumn).
	Label Kind = "label"
)

// valid reports whether k is one of the kinds above.
func (k Kind) valid() bool {
	switch k {
	case Numeric, Categorical, Boolean, Timestamp, ID, Constant, Empty, Ignored, Label:
		return true
	}
	return false
}

// feature reports whether columns of kind k become features.
func (k Kind) feature() bool {
	return k == Numeric || k == Categorical || k == Boolean || k == Timestamp
}

// DefaultMissing lists the cell values read as missing when Options.Missing
// is nil. An empty cell (after trimming spaces) is always missing.
var DefaultMissing = []string{"", "NA", "N/A", "null", "NULL", "NaN", "nan", "?", "-"}

// Defaults, used where the field of Limits or Options is zero. MaxCells
// and MaxBytes have no constant default: they follow the process-wide
// limits of package data/limit, which every other reader applies (so
// `--max-decoded` and `--max-decompressed` bound tables too): MaxCells is
// limit.Get().MaxDecoded / 8 (numeric cells are float64) and MaxBytes is
// limit.Get().MaxDecompressed (1 GiB each by default: 134 million cells,
// a 1 GiB text file).
const (
	// DefaultMaxRows is the default Limits.MaxRows.
	DefaultMaxRows = 10_000_000
	// DefaultMaxLevels is the default Options.MaxLevels.
	DefaultMaxLevels = 20
	// DefaultInferRows is the default Options.InferRows.
	DefaultInferRows = 1000
)

// Limits bounds the memory a read may take. Zero fields take the defaults
// (DefaultMaxRows; MaxCells and MaxBytes from package data/limit, see
// DefaultMaxRows); a negative field means no limit. Sizes claimed by a file (a Parquet footer's row count, a gzip
// trailer) are never used to allocate: the limits are checked against what
// is actually read, and a read stops with an error as soon as one is passed.
type Limits struct {
	// MaxRows bounds the number of data rows.
	MaxRows int64
	// MaxCells bounds rows × columns (numeric cells take 8 bytes each).
	MaxCells int64
	// MaxBytes bounds the bytes read: the decompressed text of a CSV file,
	// or the size of a Parquet file and the uncompressed size of its pages.
	// It also bounds the memory of the text dictionaries, which hold at most
	// the bytes read.
	MaxBytes int64
}

func (l Limits) withDefaults() Limits {
	def := func(v, d int64) int64 {
		switch {
		case v == 0:
			return d
		case v < 0:
			return -1
		}
		return v
	}
	pl := limit.Get()
	return Limits{
		MaxRows:  def(l.MaxRows, DefaultMaxRows),
		MaxCells: def(l.MaxCells, max(1, pl.MaxDecoded/8)),
		MaxBytes: def(l.MaxBytes, pl.MaxDecompressed),
	}
}

// over reports whether n passes the limit max (-1: no limit).
func over(n, max int64) bool { return max >= 0 && n > max }

// The values of Options.Indicators.
const (
	IndicatorsAuto   = "auto"
	IndicatorsColumn = "column"
	IndicatorsNone   = "none"
)

// Options configures reading a table and fitting a pipeline to it. The zero
// value reads a comma-, tab-, semicolon- or pipe-separated file with a header
// row and infers every column's kind. Column names in the role fields must
// name columns of the header exactly; an unknown name is an error.
type Options struct {
	// Delimiter separates the fields of a CSV/TSV file; 0 sniffs it from the
	// first lines (tab, comma, semicolon or pipe).
	Delimiter rune `json:"-"`
	// SkipRows skips that many lines before the header row.
	SkipRows int `json:"-"`
	// LazyQuotes lets a quote appear in an unquoted field and a lone quote
	// in a quoted field (see encoding/csv); without it they are an error.
	LazyQuotes bool `json:"-"`
	// Missing lists the cell values read as missing (compared after
	// trimming spaces, case-sensitively); nil means DefaultMissing. An empty
	// cell is always missing.
	Missing []string `json:"missing"`
	// Coerce makes a value that is not a number in a numeric column (or not
	// a timestamp in a timestamp column) missing, counted and reported in
	// the notes, instead of an error naming its file, line and column.
	Coerce bool `json:"coerce,omitempty"`
	// InferRows is how many rows are looked at before deciding how each CSV
	// column is stored (as numbers, timestamps or text); 0 means
	// DefaultInferRows. A column whose sampled values are at least 90%
	// numbers is stored as numbers; a later text value in it is then an
	// error, or missing with Coerce.
	InferRows int `json:"-"`
	// Limits bounds the memory of a read.
	Limits Limits `json:"-"`

	// LabelColumn names the label column: 1 (or true, yes, anomaly, ...)
	// marks an anomaly, 0 (false, no, normal, ...) a normal row, a blank or
	// missing cell an unlabelled one.
	LabelColumn string `json:"label_column,omitempty"`
	// IDColumns are carried beside the features, never used as features.
	IDColumns []string `json:"id_columns,omitempty"`
	// Ignore lists columns that are neither read nor used.
	Ignore []string `json:"ignore,omitempty"`
	// Categorical forces columns to be read as text and one-hot encoded
	// (for example numeric codes such as zip codes).
	Categorical []string `json:"categorical,omitempty"`
	// Boolean forces columns to be boolean; this also accepts 0 and 1.
	Boolean []string `json:"boolean,omitempty"`
	// Numeric forces columns to be numeric (a column named like an
	// identifier, for example).
	Numeric []string `json:"numeric,omitempty"`
	// Timestamp forces columns to be timestamps.
	Timestamp []string `json:"timestamp,omitempty"`
	// MaxLevels is the number of most frequent levels of a categorical
	// column that get a one-hot feature; 0 means DefaultMaxLevels. A column
	// with more levels also gets a frequency feature (see Fit).
	MaxLevels int `json:"max_levels,omitempty"`
	// Indicators says which missing-value indicators Fit adds, as a
	// feature NAME.missing (1 where the cell was missing): "auto" (or ""),
	// for each column with a missing cell in training unless its gaps look
	// missing completely at random (see Fit); "column", for each column
	// with a missing cell; "none", imputation only. An indicator lets a
	// detector see informative gaps (the field fraudsters leave empty),
	// but gaps that fall at random make it noise that makes every row with
	// a gap look rare: oddity eval mixed-types measures the three.
	Indicators string `json:"indicators,omitempty"`

	// lenient (set by Pipeline.ReadOptions) accepts role names the table
	// lacks: Transform reports the ones it needs.
	lenient bool
}

func (o Options) missingSet() map[string]bool {
	list := o.Missing
	if list == nil {
		list = DefaultMissing
	}
	m := make(map[string]bool, len(list)+1)
	for _, s := range list {
		m[strings.TrimSpace(s)] = true
	}
	m[""] = true
	return m
}

func (o Options) maxLevels() int {
	if o.MaxLevels <= 0 {
		return DefaultMaxLevels
	}
	return o.MaxLevels
}

func (o Options) inferRows() int {
	if o.InferRows <= 0 {
		return DefaultInferRows
	}
	return o.InferRows
}

// declared returns the kind Options gives the column name, or "" when it
// gives none, and an error when it gives two.
func (o Options) declared(name string) (Kind, error) {
	var kinds []Kind
	add := func(list []string, k Kind) {
		if slices.Contains(list, name) {
			kinds = append(kinds, k)
		}
	}
	if o.LabelColumn != "" && o.LabelColumn == name {
		kinds = append(kinds, Label)
	}
	add(o.IDColumns, ID)
	add(o.Ignore, Ignored)
	add(o.Categorical, Categorical)
	add(o.Boolean, Boolean)
	add(o.Numeric, Numeric)
	add(o.Timestamp, Timestamp)
	switch len(kinds) {
	case 0:
		return "", nil
	case 1:
		return kinds[0], nil
	}
	return "", fmt.Errorf("column %q is given two roles in the options: %s and %s", name, kinds[0], kinds[1])
}

// checkNames returns an error naming the first column of the options that
// the header lacks.
func (o Options) checkNames(header []string) error {
	have := make(map[string]bool, len(header))
	for _, h := range header {
		have[h] = true
	}
	check := func(field string, list ...string) error {
		for _, n := range list {
			if n != "" && !have[n] {
				return fmt.Errorf("%s names a column %q that the table does not have (columns: %s)", field, n, clipList(header, 20))
			}
		}
		return nil
	}
	switch o.Indicators {
	case "", IndicatorsAuto, IndicatorsColumn, IndicatorsNone:
	default:
		return fmt.Errorf("missing indicators %q: want %q, %q or %q", o.Indicators, IndicatorsAuto, IndicatorsColumn, IndicatorsNone)
	}
	if o.lenient {
		check = func(string, ...string) error { return nil }
	}
	for _, c := range []struct {
		field string
		list  []string
	}{
		{"LabelColumn", []string{o.LabelColumn}},
		{"IDColumns", o.IDColumns},
		{"Ignore", o.Ignore},
		{"Categorical", o.Categorical},
		{"Boolean", o.Boolean},
		{"Numeric", o.Numeric},
		{"Timestamp", o.Timestamp},
	} {
		if err := check(c.field, c.list...); err != nil {
			return err
		}
	}
	for _, h := range header {
		if _, err := o.declared(h); err != nil {
			return err
		}
	}
	return nil
}

// clipList joins up to n names, noting how many more there are.
func clipList(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s, ... (%d more)", strings.Join(names[:n], ", "), len(names)-n)
}
