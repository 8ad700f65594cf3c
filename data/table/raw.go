package table

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Storage is how a raw column holds its cells.
type Storage uint8

const (
	// StoreNone: the column is not kept (Options.Ignore).
	StoreNone Storage = iota
	// StoreNumber: float64 values and a missing mask.
	StoreNumber
	// StoreText: a dictionary of distinct strings and one uint32 code per
	// cell, with a missing mask; a string is kept once however often it
	// occurs.
	StoreText
	// StoreBool: 0/1 values and a missing mask (Parquet BOOLEAN).
	StoreBool
	// StoreTime: wall-clock seconds since 1970-01-01 (the time as written,
	// its zone offset not applied) and a missing mask.
	StoreTime
)

// String names the storage.
func (s Storage) String() string {
	switch s {
	case StoreNone:
		return "none"
	case StoreNumber:
		return "number"
	case StoreText:
		return "text"
	case StoreBool:
		return "bool"
	case StoreTime:
		return "time"
	}
	return fmt.Sprintf("Storage(%d)", uint8(s))
}

// bitset is a growable set of row indices (the missing mask).
type bitset []uint64

func (b *bitset) set(i int) {
	w := i >> 6
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (uint(i) & 63)
}

func (b bitset) get(i int) bool {
	w := i >> 6
	return w < len(b) && b[w]&(1<<(uint(i)&63)) != 0
}

// Raw is a table as read from a file, column by column, before any
// encoding: numbers as float64, text as a dictionary with a code per cell,
// each with a missing mask. Read it with ReadFile, ReadCSV or ReadParquet;
// fit a Pipeline to it with Fit, or transform it with a fitted one.
type Raw struct {
	// Name is the file's base name (or the name given to ReadCSV).
	Name string
	// Format is "csv" (with Delimiter) or "parquet".
	Format string
	// Delimiter is the field separator a CSV file was read with.
	Delimiter rune
	// Options are the options the table was read with; Fit takes the column
	// roles and MaxLevels from them (change them before Fit to change the
	// roles of columns already read as text or numbers).
	Options Options
	// Columns are the table's columns in file order (ignored ones included,
	// with StoreNone).
	Columns []*RawColumn
	// Rows is the number of data rows.
	Rows int
	// Notes tell what the read did that a person should know: coerced
	// cells, unnamed columns, columns promoted from text.
	Notes []string

	// lines maps rows to lines of a text file; nil for Parquet.
	lines []lineBreak
}

// lineBreak says that row starts at line, and so do the rows after it at
// one line each until the next break.
type lineBreak struct{ row, line int }

// addLine records that row (the next one) starts at line.
func (r *Raw) addLine(row, line int) {
	if n := len(r.lines); n > 0 {
		last := r.lines[n-1]
		if last.line+(row-last.row) == line {
			return
		}
	}
	r.lines = append(r.lines, lineBreak{row, line})
}

// Line returns the 1-based line of a text file where data row i (0-based)
// starts, or 0 for a Parquet file.
func (r *Raw) Line(i int) int {
	if len(r.lines) == 0 {
		return 0
	}
	k := sort.Search(len(r.lines), func(k int) bool { return r.lines[k].row > i }) - 1
	if k < 0 {
		k = 0
	}
	return r.lines[k].line + (i - r.lines[k].row)
}

// errAt builds an Error for row i (0-based) of column c.
func (r *Raw) errAt(i int, c *RawColumn, err error) *Error {
	e := &Error{File: r.Name, Err: err}
	switch {
	case i < 0:
	case r.lines != nil:
		e.Line = r.Line(i)
	default:
		e.Row = i + 1
	}
	if c != nil {
		e.Column = c.Index + 1
		e.Name = c.Name
	}
	return e
}

// Column returns the column named name, or nil.
func (r *Raw) Column(name string) *RawColumn {
	for _, c := range r.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Header returns the column names in file order.
func (r *Raw) Header() []string {
	h := make([]string, len(r.Columns))
	for i, c := range r.Columns {
		h[i] = c.Name
	}
	return h
}

// RawColumn is one column of a Raw table.
type RawColumn struct {
	// Name is the column's header (or "unnamed_N" for an empty one).
	Name string
	// Index is the 0-based position of the column in the file.
	Index int
	// Storage is how the cells are held.
	Storage Storage

	n        int
	nums     []float64
	codes    []uint32
	dict     []string
	intern   map[string]uint32
	miss     bitset
	nmiss    int
	coerced  int
	firstBad int    // row of the first coerced cell
	badValue string // its text
	layout   string // time layout that parsed the last value (CSV)
}

// Len is the number of cells (the table's rows; 0 for StoreNone).
func (c *RawColumn) Len() int { return c.n }

// MissingCount is the number of missing cells (coerced ones included).
func (c *RawColumn) MissingCount() int { return c.nmiss }

// Coerced is the number of cells made missing by Options.Coerce.
func (c *RawColumn) Coerced() int { return c.coerced }

// Distinct is the number of distinct text values of a StoreText column
// (missing cells aside); 0 for the other storages.
func (c *RawColumn) Distinct() int { return len(c.dict) }

// IsMissing reports whether cell i is missing.
func (c *RawColumn) IsMissing(i int) bool { return c.miss.get(i) }

// Float returns cell i of a StoreNumber, StoreBool or StoreTime column and
// whether it is present; false for text columns and missing cells.
func (c *RawColumn) Float(i int) (float64, bool) {
	if c.nums == nil || i < 0 || i >= len(c.nums) || c.miss.get(i) {
		return 0, false
	}
	return c.nums[i], true
}

// Text returns cell i as text and whether it is present: a StoreText
// column's string, a number in shortest form, true/false, or a time in
// RFC 3339 (UTC wall clock).
func (c *RawColumn) Text(i int) (string, bool) {
	if i < 0 || i >= c.n || c.miss.get(i) {
		return "", false
	}
	switch c.Storage {
	case StoreText:
		return c.dict[c.codes[i]], true
	case StoreNumber:
		return formatNumber(c.nums[i]), true
	case StoreBool:
		return strconv.FormatBool(c.nums[i] != 0), true
	case StoreTime:
		return formatTime(c.nums[i]), true
	}
	return "", false
}

func formatNumber(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func formatTime(sec float64) string {
	// A float64 holds seconds since 1970 to about a microsecond.
	s, frac := math.Modf(sec)
	return time.Unix(int64(s), int64(math.Round(frac*1e6))*1e3).UTC().Format(time.RFC3339Nano)
}

// appendMissing adds a missing cell.
func (c *RawColumn) appendMissing() {
	c.miss.set(c.n)
	c.nmiss++
	switch c.Storage {
	case StoreText:
		c.codes = append(c.codes, 0)
	case StoreNumber, StoreBool, StoreTime:
		c.nums = append(c.nums, 0)
	}
	c.n++
}

// appendNumber adds a present cell to a numeric storage.
func (c *RawColumn) appendNumber(v float64) {
	c.nums = append(c.nums, v)
	c.n++
}

// appendText adds a present cell to a StoreText column; s is copied only
// the first time it is seen. Invalid UTF-8 is replaced by U+FFFD, so that
// levels survive a JSON round trip.
func (c *RawColumn) appendText(s string) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	code, ok := c.intern[s]
	if !ok {
		if c.intern == nil {
			c.intern = map[string]uint32{}
		}
		code = uint32(len(c.dict))
		s = strings.Clone(s) // do not keep the record's backing string alive
		c.dict = append(c.dict, s)
		c.intern[s] = code
	}
	c.codes = append(c.codes, code)
	c.n++
}

// appendBytes adds a present cell given as bytes to a StoreText column.
func (c *RawColumn) appendBytes(b []byte) {
	code, ok := c.intern[string(b)]
	if !ok {
		if c.intern == nil {
			c.intern = map[string]uint32{}
		}
		code = uint32(len(c.dict))
		s := string(b)
		c.dict = append(c.dict, s)
		c.intern[s] = code
	}
	c.codes = append(c.codes, code)
	c.n++
}

// coerce adds a missing cell in place of the bad value s.
func (c *RawColumn) coerce(s string) {
	if c.coerced == 0 {
		c.firstBad = c.n
		c.badValue = clip(s)
	}
	c.coerced++
	c.appendMissing()
}

// finish drops the reading state of the column.
func (c *RawColumn) finish() { c.intern = nil }
