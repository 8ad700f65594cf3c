// Package csvfile reads numeric text tables (CSV, TSV, white-space separated,
// plain or gzip-compressed) into data sets and registers two formats with
// package data: "csv" (.csv, .tsv, .txt; header sniffed, no label column
// unless one is chosen) and "uci-data" (.data, the UCI repository's
// convention: no header, the class in the last field).
//
// Quoted fields are handled by encoding/csv; the package adds what a data
// set needs on top: delimiter and header sniffing, a trailing separator at
// the end of every line (as in the UCI thyroid files), a label column chosen
// by name or index, and errors naming the line and column of a ragged row, a
// non-number or a missing value.
//
// What one file may produce is bounded by the limits in force
// (package data/limit): a line by MaxLineBytes, the values by MaxDecoded
// (4 bytes each), and a gzip-compressed file by MaxDecompressed, measured
// in a first pass that discards what it inflates, so a small .csv.gz that
// expands to gigabytes is refused before anything is parsed.
package csvfile

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/limit"
)

func init() {
	data.RegisterFormat(data.Format{
		Name:       "csv",
		Extensions: []string{".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz", ".txt.gz"},
		Load:       Load,
		Inspect:    inspector(Load),
	})
	data.RegisterFormat(data.Format{
		Name:       "uci-data",
		Extensions: []string{".data", ".data.gz"},
		Load:       LoadUCI,
		Inspect:    inspector(LoadUCI),
	})
}

// MaxColumns caps the number of fields in a row.
const MaxColumns = 1 << 20

// rowReader yields the records of a table with their line numbers.
type rowReader interface {
	next() (fields []string, line int, err error)
}

type csvRows struct{ r *csv.Reader }

func (c csvRows) next() ([]string, int, error) {
	rec, err := c.r.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, pe.Line, fmt.Errorf("line %d, column %d: %w: %w", pe.Line, pe.Column, data.ErrMalformed, pe.Err)
		}
		return nil, 0, err
	}
	line, _ := c.r.FieldPos(0)
	return rec, line, nil
}

type spaceRows struct {
	s    *bufio.Scanner
	line int
}

func (w *spaceRows) next() ([]string, int, error) {
	for w.s.Scan() {
		w.line++
		f := strings.Fields(w.s.Text())
		if len(f) > 0 {
			return f, w.line, nil
		}
	}
	if err := w.s.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, w.line + 1, fmt.Errorf("line %d is too long: %w", w.line+1, data.ErrMalformed)
		}
		return nil, w.line, err
	}
	return nil, w.line, io.EOF
}

// sniff picks the delimiter from the first non-blank line within the first
// 64 KiB: tab, comma or semicolon when present (in that order), else white
// space.
func sniff(br *bufio.Reader) rune {
	peek, _ := br.Peek(br.Size())
	for _, line := range strings.Split(string(peek), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		for _, d := range []rune{'\t', ',', ';'} {
			if strings.ContainsRune(line, d) {
				return d
			}
		}
		break
	}
	return ' '
}

func isMissing(s string) bool {
	return s == "" || strings.EqualFold(s, "nan") || s == "?" || strings.EqualFold(s, "na")
}

// Read parses a numeric table from r into a data set named name, as
// configured by o: Delimiter (0 sniffs), Header, LabelColumn, NoLabels,
// AllowMissing and MissingValue. The label column may hold any text; see
// Labels for how it is mapped to integers.
//
// A line longer than limit.MaxLineBytes, or values beyond limit.MaxDecoded
// (4 bytes each), is an error wrapping limit.ErrExceeded.
func Read(r io.Reader, name string, o data.Options) (*data.Dataset, error) {
	lim := limit.Get()
	br := bufio.NewReaderSize(&lineLimit{r: r, max: lim.MaxLineBytes}, 1<<16)
	maxValues := lim.MaxDecoded / 4
	delim := o.Delimiter
	if delim == 0 {
		delim = sniff(br)
	}
	var rows rowReader
	if delim == ' ' {
		s := bufio.NewScanner(br)
		s.Buffer(make([]byte, 0, 1<<16), lim.MaxLineBytes+2)
		rows = &spaceRows{s: s}
	} else {
		if delim == '"' || delim == '\r' || delim == '\n' || delim == 0xFFFD {
			return nil, fmt.Errorf("delimiter %q is not allowed: %w", delim, data.ErrMalformed)
		}
		cr := csv.NewReader(br)
		cr.Comma = delim
		cr.FieldsPerRecord = -1
		cr.TrimLeadingSpace = delim != '\t'
		rows = csvRows{r: cr}
	}

	first, line, err := rows.next()
	if err == io.EOF {
		return nil, fmt.Errorf("empty table: %w", data.ErrNoData)
	}
	if err != nil {
		return nil, err
	}
	trailing := len(first) > 1 && strings.TrimSpace(first[len(first)-1]) == ""
	trim := func(rec []string) []string {
		if trailing && len(rec) > 1 && strings.TrimSpace(rec[len(rec)-1]) == "" {
			return rec[:len(rec)-1]
		}
		return rec
	}
	first = trim(first)
	ncols := len(first)
	if ncols > MaxColumns {
		return nil, fmt.Errorf("line %d: %d columns exceed %d: %w", line, ncols, MaxColumns, data.ErrMalformed)
	}
	var header []string
	switch o.Header {
	case data.HeaderPresent:
		header = first
	case data.HeaderAuto:
		for _, f := range first {
			f = strings.TrimSpace(f)
			if _, err := strconv.ParseFloat(f, 64); err != nil && !isMissing(f) {
				header = first
				break
			}
		}
	}
	if header != nil {
		header = append([]string(nil), header...)
		for i := range header {
			header[i] = strings.TrimSpace(header[i])
		}
	}

	label := -1
	if o.LabelColumn != "" {
		label = -2
		for i, h := range header {
			if h == o.LabelColumn {
				label = i
				break
			}
		}
		if label == -2 {
			k, err := strconv.Atoi(o.LabelColumn)
			if err != nil {
				return nil, fmt.Errorf("no column named %q (columns: %s): %w", o.LabelColumn, strings.Join(header, ", "), data.ErrNoData)
			}
			if k < 0 {
				k += ncols
			}
			if k < 0 || k >= ncols {
				return nil, fmt.Errorf("label column %s out of range for %d columns: %w", o.LabelColumn, ncols, data.ErrNoData)
			}
			label = k
		}
	}
	nfeat := ncols
	if label >= 0 {
		nfeat--
	}
	if nfeat == 0 {
		return nil, fmt.Errorf("no feature columns besides the label: %w", data.ErrNoData)
	}
	colName := func(j int) string {
		if j < len(header) && header[j] != "" {
			return fmt.Sprintf("column %d (%s)", j+1, header[j])
		}
		return fmt.Sprintf("column %d", j+1)
	}

	ds := &data.Dataset{Name: name, Shape: []int{nfeat}}
	var labels []string
	addRow := func(rec []string, line int) error {
		rec = trim(rec)
		if len(rec) != ncols {
			return fmt.Errorf("line %d: %d fields, want %d (a ragged row): %w", line, len(rec), ncols, data.ErrMalformed)
		}
		if int64(len(ds.X)+nfeat) > maxValues {
			return fmt.Errorf("line %d: %w", line, limit.Exceeded("decoded data", 4*int64(len(ds.X)+nfeat), lim.MaxDecoded, "MaxDecoded"))
		}
		for j, f := range rec {
			f = strings.TrimSpace(f)
			if j == label {
				if f == "" {
					return fmt.Errorf("line %d, %s: empty label: %w", line, colName(j), data.ErrMalformed)
				}
				labels = append(labels, f)
				continue
			}
			var v float64
			if isMissing(f) {
				if !o.AllowMissing {
					return fmt.Errorf("line %d, %s: missing value %q (set AllowMissing to fill it): %w", line, colName(j), f, data.ErrMalformed)
				}
				v = float64(o.MissingValue)
			} else {
				var err error
				v, err = strconv.ParseFloat(f, 64)
				if err != nil && !errors.Is(err, strconv.ErrRange) {
					return fmt.Errorf("line %d, %s: %q is not a number: %w", line, colName(j), clip(f), data.ErrMalformed)
				}
				if math.IsInf(v, 0) || math.Abs(v) > math.MaxFloat32 {
					return fmt.Errorf("line %d, %s: %q is not a finite float32: %w", line, colName(j), clip(f), data.ErrMalformed)
				}
			}
			ds.X = append(ds.X, float32(v))
		}
		ds.N++
		return nil
	}
	if header == nil {
		if err := addRow(first, line); err != nil {
			return nil, err
		}
	}
	for {
		rec, line, err := rows.next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := addRow(rec, line); err != nil {
			return nil, err
		}
	}
	if ds.N == 0 {
		return nil, fmt.Errorf("no data rows: %w", data.ErrNoData)
	}
	for j, h := range header {
		if j != label {
			ds.FeatureNames = append(ds.FeatureNames, h)
		}
	}
	if label >= 0 && !o.NoLabels {
		ds.Y, ds.ClassNames = Labels(labels)
	}
	return ds, nil
}

// lineLimit fails a read once a line grows past max bytes; encoding/csv
// would otherwise hold a line of any length in memory. Its error is sticky,
// so a bufio.Reader that drops it after a Peek sees it again.
type lineLimit struct {
	r    io.Reader
	max  int
	cur  int // bytes of the current line so far
	line int // lines completed
	err  error
}

func (l *lineLimit) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	n, err := l.r.Read(p)
	for b := p[:n]; len(b) > 0; {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.cur += len(b)
			break
		}
		if l.cur+i > l.max {
			l.cur += i
			break
		}
		l.cur = 0
		l.line++
		b = b[i+1:]
	}
	if l.cur > l.max {
		l.err = fmt.Errorf("line %d is longer than %s: %w", l.line+1, limit.Size(int64(l.max)),
			limit.Exceeded("a line", int64(l.cur), int64(l.max), "MaxLineBytes"))
		return 0, l.err
	}
	return n, err
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Labels maps label strings to integers: when all are non-negative whole
// numbers they are used as they are (ClassNames nil); otherwise the distinct
// values are sorted (numerically when all are numbers, else as text) and
// numbered from 0, with ClassNames giving each number's text.
func Labels(s []string) ([]int, []string) {
	y := make([]int, len(s))
	whole := true
	for i, v := range s {
		k, err := strconv.ParseInt(v, 10, 0)
		if err != nil || k < 0 || k > 1<<31 {
			whole = false
			break
		}
		y[i] = int(k)
	}
	if whole {
		return y, nil
	}
	set := map[string]bool{}
	for _, v := range s {
		set[v] = true
	}
	names := make([]string, 0, len(set))
	numeric := true
	for v := range set {
		names = append(names, v)
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			numeric = false
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if numeric {
			a, _ := strconv.ParseFloat(names[i], 64)
			b, _ := strconv.ParseFloat(names[j], 64)
			if a != b {
				return a < b
			}
		}
		return names[i] < names[j]
	})
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	for i, v := range s {
		y[i] = index[v]
	}
	return y, names
}

// inspector summarises a table as load reads it.
func inspector(load func(string, data.Options) (*data.Dataset, error)) func(string, data.Options) (*data.Info, error) {
	return func(path string, o data.Options) (*data.Info, error) {
		ds, err := load(path, o)
		if err != nil {
			return nil, err
		}
		if err := ds.Validate(); err != nil {
			return nil, err
		}
		s := data.Summarize(ds, "decimal text")
		info := &data.Info{Dataset: &s}
		if ds.FeatureNames != nil {
			info.Notes = append(info.Notes, "header row: "+strings.Join(ds.FeatureNames, ", "))
		}
		if ds.ClassNames != nil {
			info.Notes = append(info.Notes, "labels numbered in sorted order: "+strings.Join(ds.ClassNames, ", "))
		}
		return info, nil
	}
}

// Load reads the table at path (see Read). A gzip-compressed file is first
// inflated to nowhere, to measure it against limit.MaxDecompressed before
// anything is parsed.
func Load(path string, o data.Options) (*data.Dataset, error) {
	lower := strings.TrimSuffix(strings.ToLower(path), ".gz")
	if o.Delimiter == 0 && strings.HasSuffix(lower, ".tsv") {
		o.Delimiter = '\t'
	}
	var ds *data.Dataset
	read := func(r io.Reader, _ bool) error {
		var err error
		ds, err = Read(r, filepath.Base(path), o)
		return err
	}
	measured := false
	err := content(path, func(r io.Reader, compressed bool) error {
		if !compressed {
			return read(r, false)
		}
		if _, err := io.Copy(io.Discard, r); err != nil {
			return gzipErr(err)
		}
		measured = true
		return nil
	})
	if err == nil && measured {
		err = content(path, read)
	}
	if err != nil {
		return nil, fmt.Errorf("csv %s: %w", path, err)
	}
	return ds, nil
}

// content calls f with the content of the file at path, inflated (and
// counted against limit.MaxDecompressed) when it is gzip-compressed.
func content(path string, f func(r io.Reader, compressed bool) error) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	br := bufio.NewReader(file)
	if magic, err := br.Peek(2); err == nil && data.IsGzip(magic) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("gzip: %w: %w", data.ErrMalformed, err)
		}
		defer zr.Close()
		return f(limit.NewReader(zr, limit.Get().Decompressed()), true)
	}
	return f(br, false)
}

// gzipErr marks a decompression failure as malformed input, leaving limit
// errors as they are.
func gzipErr(err error) error {
	if errors.Is(err, limit.ErrExceeded) {
		return err
	}
	return fmt.Errorf("gzip: %w: %w", data.ErrMalformed, err)
}

// LoadUCI reads a UCI-repository .data file: no header and the class in the
// last field, unless o says otherwise (o.Header, o.LabelColumn, o.NoLabels).
func LoadUCI(path string, o data.Options) (*data.Dataset, error) {
	if o.Header == data.HeaderAuto {
		o.Header = data.HeaderAbsent
	}
	if o.LabelColumn == "" {
		o.LabelColumn = "-1"
	}
	return Load(path, o)
}

// ThyroidFeatures names the 21 features of the UCI thyroid ("ann") files, as
// listed in ann.names.
var ThyroidFeatures = []string{
	"age", "sex", "on_thyroxine", "query_on_thyroxine", "on_antithyroid_medication",
	"sick", "pregnant", "thyroid_surgery", "I131_treatment", "query_hypothyroid",
	"query_hyperthyroid", "lithium", "goitre", "tumor", "hypopituitary", "psych",
	"TSH", "T3", "TT4", "T4U", "FTI",
}

// LoadUCIThyroidSplits reads ann-train.data (3,772 rows) and ann-test.data
// (3,428 rows) from dir: 21 features and labels 1 (hyperfunction),
// 2 (subnormal) and 3 (normal).
func LoadUCIThyroidSplits(dir string) (train, test *data.Dataset, err error) {
	load := func(file string) (*data.Dataset, error) {
		p := filepath.Join(dir, file)
		ds, err := LoadUCI(p, data.Options{})
		if err != nil {
			return nil, err
		}
		if ds.Dim() != len(ThyroidFeatures) {
			return nil, fmt.Errorf("csv %s: %d features, want %d: %w", p, ds.Dim(), len(ThyroidFeatures), data.ErrMalformed)
		}
		if ds.ClassNames != nil {
			return nil, fmt.Errorf("csv %s: classes %v are not 1, 2, 3: %w", p, ds.ClassNames, data.ErrMalformed)
		}
		for i, y := range ds.Y {
			if y < 1 || y > 3 {
				return nil, fmt.Errorf("csv %s: row %d has class %d, not 1, 2 or 3: %w", p, i+1, y, data.ErrMalformed)
			}
		}
		ds.FeatureNames = ThyroidFeatures
		ds.ClassNames = []string{"", "hyperfunction", "subnormal", "normal"}
		return ds, ds.Validate()
	}
	if train, err = load("ann-train.data"); err != nil {
		return nil, nil, err
	}
	if test, err = load("ann-test.data"); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// LoadUCIThyroid joins ann-train.data and ann-test.data from dir into one
// data set of 7,200 rows (training rows first) as in LoadUCIThyroidSplits.
func LoadUCIThyroid(dir string) (*data.Dataset, error) {
	train, test, err := LoadUCIThyroidSplits(dir)
	if err != nil {
		return nil, err
	}
	return data.Concat("uci-thyroid", train, test)
}
