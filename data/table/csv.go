package table

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/limit"
)

// ErrLimit means a read passed one of its Limits. It wraps
// limit.ErrExceeded, so one errors.Is test tells a limit of any reader.
var ErrLimit = fmt.Errorf("table %w", limit.ErrExceeded)

// ReadFile reads the table at path: Parquet when the file starts with the
// Parquet magic bytes, else CSV/TSV, plain or gzip-compressed (told by the
// gzip magic bytes, whatever the extension). A .tsv or .tsv.gz name sets a
// tab delimiter unless o.Delimiter is set.
func ReadFile(path string, o Options) (*Raw, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	name := filepath.Base(path)
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	if n == 4 && string(magic[:]) == "PAR1" {
		st, err := f.Stat()
		if err != nil {
			return nil, err
		}
		return ReadParquet(f, st.Size(), name, o)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	if o.Delimiter == 0 && strings.HasSuffix(strings.TrimSuffix(strings.ToLower(name), ".gz"), ".tsv") {
		o.Delimiter = '\t'
	}
	return ReadCSV(f, name, o)
}

// limitReader fails once more than max bytes (-1: no limit) are read.
type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	k, err := l.r.Read(p)
	l.n += int64(k)
	if over(l.n, l.max) {
		return k, fmt.Errorf("more than MaxBytes = %d bytes of text: %w", l.max, ErrLimit)
	}
	return k, err
}

// lineReader fails once a line (the bytes between two line feeds) passes
// max bytes: encoding/csv holds a whole record in memory, so without it one
// line of a gigabyte would be read in whole (limit.MaxLineBytes; 0 or
// negative: no limit).
// The error is sticky: a bufio.Reader hands a read error to one caller only
// (a Peek that ignores it would lose it), so every later Read returns it
// again.
type lineReader struct {
	r   io.Reader
	n   int64 // bytes since the last line feed
	max int64
	err error
}

func (l *lineReader) Read(p []byte) (int, error) {
	if l.err != nil {
		return 0, l.err
	}
	k, err := l.r.Read(p)
	if l.max <= 0 {
		return k, err
	}
	for b := p[:k]; ; {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			l.n += int64(len(b))
			break
		}
		if l.n+int64(i) > l.max {
			l.n = l.max + 1
			break
		}
		l.n, b = 0, b[i+1:]
	}
	if l.n > l.max {
		l.err = fmt.Errorf("a line longer than MaxLineBytes = %d bytes: %w", l.max, ErrLimit)
		return k, l.err
	}
	return k, err
}

// ReadCSV reads a CSV/TSV table with a header row from r, plain or
// gzip-compressed (told by the magic bytes), into a Raw table named name
// (used in error messages). It streams: only the first Options.InferRows
// rows are held as text, to decide how each column is stored; after that
// each cell goes straight into its column (numbers parsed into float64,
// text interned in the column's dictionary).
//
// A UTF-8 byte order mark is dropped, CRLF line ends are read as LF, quoted
// fields may hold separators, quotes and line breaks (encoding/csv), and a
// line of white space is skipped. A line longer than the process-wide
// limit.Get().MaxLineBytes (16 MiB by default) is an error, as are reads
// past o.Limits; the float64 columns may take up to about twice their
// cells' bytes while they grow. Every error is an *Error naming the file,
// line and column.
func ReadCSV(r io.Reader, name string, o Options) (*Raw, error) {
	lim := o.Limits.withDefaults()
	fail := func(line int, err error) error { return &Error{File: name, Line: line, Err: err} }

	in := bufio.NewReaderSize(r, 64<<10)
	magic, _ := in.Peek(4)
	var src io.Reader = in
	gz := false
	switch {
	case data.IsGzip(magic):
		zr, err := gzip.NewReader(in)
		if err != nil {
			return nil, fail(0, fmt.Errorf("gzip header: %w", gzipErr(err)))
		}
		defer zr.Close()
		src, gz = zr, true
	case string(magic) == "PAR1":
		return nil, fail(0, fmt.Errorf("a Parquet file, which needs random access: read it with ReadFile or ReadParquet: %w", data.ErrUnsupported))
	}
	lr := &limitReader{r: &lineReader{r: src, max: int64(limit.Get().MaxLineBytes)}, max: lim.MaxBytes}
	br := bufio.NewReaderSize(lr, 64<<10)
	readErr := func(line int, err error) error {
		var pe *csv.ParseError
		switch {
		case errors.As(err, &pe):
			return fail(pe.Line+o.SkipRows, fmt.Errorf("byte %d: %w: %w", pe.Column, pe.Err, data.ErrMalformed))
		case errors.Is(err, ErrLimit):
			return fail(line, err)
		case gz:
			return fail(line, fmt.Errorf("after the last complete row: %w", gzipErr(err)))
		}
		return fail(line, err)
	}

	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	for k := 0; k < o.SkipRows; k++ {
		for {
			_, err := br.ReadSlice('\n')
			if err == bufio.ErrBufferFull {
				continue
			}
			if err == io.EOF {
				return nil, fail(k+1, fmt.Errorf("empty file: it ends within the %d lines of SkipRows: %w", o.SkipRows, data.ErrNoData))
			}
			if err != nil {
				return nil, readErr(k+1, err)
			}
			break
		}
	}

	delim := o.Delimiter
	if delim == 0 {
		delim = sniff(br)
	}
	if delim == '"' || delim == '\r' || delim == '\n' || delim == utf8.RuneError || !utf8.ValidRune(delim) {
		return nil, fail(0, fmt.Errorf("delimiter %q is not allowed: %w", delim, data.ErrMalformed))
	}
	cr := csv.NewReader(br)
	cr.Comma = delim
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cr.LazyQuotes = o.LazyQuotes
	cr.TrimLeadingSpace = delim != '\t' && delim != ' '

	// The header.
	headerLine := o.SkipRows + 1
	rec, err := cr.Read()
	for err == nil && blank(rec) {
		rec, err = cr.Read()
	}
	if err == io.EOF {
		return nil, fail(headerLine, fmt.Errorf("empty file: no header row: %w", data.ErrNoData))
	}
	if err != nil {
		return nil, readErr(headerLine, err)
	}
	headerLine, _ = cr.FieldPos(0)
	headerLine += o.SkipRows
	ncols := len(rec)
	if over(int64(ncols), lim.MaxCells) {
		return nil, fail(headerLine, fmt.Errorf("%d columns exceed MaxCells = %d: %w", ncols, lim.MaxCells, ErrLimit))
	}
	raw := &Raw{Name: name, Format: "csv", Delimiter: delim, Options: o}
	seen := map[string]int{}
	for j, h := range rec {
		h = strings.ToValidUTF8(strings.TrimSpace(h), "\uFFFD")
		if h == "" {
			h = fmt.Sprintf("unnamed_%d", j+1)
			raw.Notes = append(raw.Notes, fmt.Sprintf("column %d has no name: called %s", j+1, h))
		}
		if k, dup := seen[h]; dup {
			return nil, &Error{File: name, Line: headerLine, Column: j + 1, Name: h, Err: fmt.Errorf("duplicate column name (also column %d): %w", k+1, data.ErrMalformed)}
		}
		seen[h] = j
		raw.Columns = append(raw.Columns, &RawColumn{Name: h, Index: j})
	}
	if err := o.checkNames(raw.Header()); err != nil {
		return nil, fail(headerLine, err)
	}
	declared := make([]Kind, ncols)
	for j, c := range raw.Columns {
		declared[j], _ = o.declared(c.Name)
	}

	missing := o.missingSet()
	maxMarker := 0
	for m := range missing {
		maxMarker = max(maxMarker, len(m))
	}
	isMissing := func(s string) bool { return len(s) <= maxMarker && missing[s] }

	// next reads a data row into rec and its line, skipping blank lines.
	lastLine, nread := headerLine, int64(0)
	next := func() ([]string, int, error) {
		for {
			rec, err := cr.Read()
			if err == io.EOF {
				return nil, 0, err
			}
			if err != nil {
				return nil, 0, readErr(lastLine+1, err)
			}
			line, _ := cr.FieldPos(0)
			line += o.SkipRows
			lastLine, _ = cr.FieldPos(len(rec) - 1)
			lastLine += o.SkipRows
			if blank(rec) {
				continue
			}
			if len(rec) != ncols {
				j := min(len(rec), ncols)
				e := &Error{File: name, Line: line, Column: j + 1, Err: fmt.Errorf("%d fields, the header has %d (a ragged row): %w", len(rec), ncols, data.ErrMalformed)}
				if j < ncols {
					e.Name = raw.Columns[j].Name
				}
				return nil, 0, e
			}
			nread++
			if over(nread, lim.MaxRows) {
				return nil, 0, fail(line, fmt.Errorf("more than MaxRows = %d rows: %w", lim.MaxRows, ErrLimit))
			}
			if over(nread*int64(ncols), lim.MaxCells) {
				return nil, 0, fail(line, fmt.Errorf("more than MaxCells = %d cells: %w", lim.MaxCells, ErrLimit))
			}
			return rec, line, nil
		}
	}

	add := func(rec []string, line int) error {
		i := raw.Rows
		raw.addLine(i, line)
		for j, c := range raw.Columns {
			if c.Storage == StoreNone {
				continue
			}
			s := strings.TrimSpace(rec[j])
			if isMissing(s) {
				c.appendMissing()
				continue
			}
			switch c.Storage {
			case StoreText:
				c.appendText(s)
			case StoreNumber:
				if v, ok := parseNumber(s); ok {
					c.appendNumber(v)
				} else if o.Coerce {
					c.coerce(s)
				} else {
					return raw.errAt(i, c, fmt.Errorf("%q is not a number (the column is numeric; set Coerce to make such cells missing, or declare the column Categorical): %w", clip(s), data.ErrMalformed))
				}
			case StoreTime:
				if v, l, ok := parseTime(s, c.layout); ok {
					c.layout = l
					c.appendNumber(v)
				} else if o.Coerce {
					c.coerce(s)
				} else {
					return raw.errAt(i, c, fmt.Errorf("%q is not a timestamp in a known layout (see TimeLayouts; set Coerce to make such cells missing): %w", clip(s), data.ErrMalformed))
				}
			}
		}
		raw.Rows++
		return nil
	}

	// The sample that decides each column's storage.
	type row struct {
		rec  []string
		line int
	}
	var sample []row
	for len(sample) < o.inferRows() {
		rec, line, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		sample = append(sample, row{append([]string(nil), rec...), line})
	}
	if len(sample) == 0 {
		return nil, fail(headerLine, fmt.Errorf("header only: no data rows: %w", data.ErrNoData))
	}
	vals := make([]string, 0, len(sample))
	for j, c := range raw.Columns {
		vals = vals[:0]
		for _, r := range sample {
			if s := strings.TrimSpace(r.rec[j]); !isMissing(s) {
				vals = append(vals, s)
			}
		}
		c.Storage, c.layout = sampleStorage(c.Name, declared[j], vals)
	}
	for k, r := range sample {
		if err := add(r.rec, r.line); err != nil {
			return nil, err
		}
		sample[k].rec = nil
	}
	sample = nil
	for {
		rec, line, err := next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if err := add(rec, line); err != nil {
			return nil, err
		}
	}
	raw.finish(declared)
	return raw, nil
}

// finish ends a read: it promotes text columns whose values turned out all
// numbers or all timestamps, and writes the notes.
func (r *Raw) finish(declared []Kind) {
	for j, c := range r.Columns {
		if c.Storage == StoreText && declared[j] == "" && !idLikeName(c.Name) && promote(c) {
			r.Notes = append(r.Notes, fmt.Sprintf("column %s: its first rows had no values; the rest are all %ss, so it is read as %ss", c.Name, c.Storage, c.Storage))
		}
		if c.coerced > 0 {
			r.Notes = append(r.Notes, fmt.Sprintf("column %s: %d cells that are not %ss made missing (Coerce), the first %q at %s", c.Name, c.coerced, c.Storage, c.badValue, r.where(c.firstBad)))
		}
		c.finish()
	}
}

// where names row i (0-based) as a line or a row.
func (r *Raw) where(i int) string {
	if l := r.Line(i); l > 0 {
		return fmt.Sprintf("line %d", l)
	}
	return fmt.Sprintf("row %d", i+1)
}

// blank reports whether a record is a line of white space.
func blank(rec []string) bool {
	return len(rec) == 1 && strings.TrimSpace(rec[0]) == ""
}

// gzipErr names what a gzip read error means.
func gzipErr(err error) error {
	var ce flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("gzip stream truncated: %w: %w", data.ErrTruncated, err)
	case errors.Is(err, gzip.ErrChecksum):
		return fmt.Errorf("gzip checksum mismatch (corrupt or truncated file): %w: %w", data.ErrMalformed, err)
	case errors.Is(err, gzip.ErrHeader), errors.As(err, &ce):
		return fmt.Errorf("corrupt gzip data: %w: %w", data.ErrMalformed, err)
	}
	return err
}

// sniff picks the delimiter from the records that fit in the first 64 KiB:
// of tab, comma, semicolon and pipe (outside quotes), the one found the same
// number of times in every record, the most often; failing that the one
// most frequent in the header; failing that a comma (a table of one column).
func sniff(br *bufio.Reader) rune {
	peek, err := br.Peek(br.Size())
	complete := err != nil // the whole input is in peek
	cands := []byte{',', '\t', ';', '|'}
	var counts [][4]int
	var cur [4]int
	inQuote, nonBlank := false, false
	for _, c := range peek {
		switch {
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '\n':
			if nonBlank {
				counts = append(counts, cur)
			}
			cur, nonBlank = [4]int{}, false
			if len(counts) == 50 {
				complete = false
				goto decide
			}
			continue
		default:
			if i := bytes.IndexByte(cands, c); i >= 0 {
				cur[i]++
			}
		}
		if c != ' ' && c != '\r' {
			nonBlank = true
		}
	}
	if (complete || len(counts) == 0) && nonBlank {
		counts = append(counts, cur) // the last record, or the header so far
	}
decide:
	if len(counts) == 0 {
		return ','
	}
	best, bestN := -1, 0
	for i := range cands {
		n := counts[0][i]
		if n == 0 {
			continue
		}
		same := true
		for _, r := range counts[1:] {
			if r[i] != n {
				same = false
				break
			}
		}
		if same && n > bestN {
			best, bestN = i, n
		}
	}
	if best < 0 {
		for i := range cands {
			if counts[0][i] > bestN {
				best, bestN = i, counts[0][i]
			}
		}
	}
	if best < 0 {
		return ','
	}
	return rune(cands[best])
}
