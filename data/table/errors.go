package table

import (
	"fmt"
	"strings"
)

// Error is a problem with one place of a table: the file, the line (CSV) or
// row (Parquet), and the column. Its message reads, for example,
//
//	rows.csv: line 17, column 3 (amount): "abc" is not a number
//
// Err wraps one of data's sentinel errors (data.ErrMalformed,
// data.ErrTruncated, data.ErrNoData, data.ErrUnsupported) where one
// applies, so errors.Is tells the kind of failure.
type Error struct {
	// File is the base name of the file (or the name given to ReadCSV).
	File string
	// Line is the 1-based line of a text file, 0 when unknown or not a text
	// file.
	Line int
	// Row is the 1-based data row, used where Line is 0 (Parquet).
	Row int
	// RowGroup is the 1-based Parquet row group, 0 when not applicable.
	RowGroup int
	// Column is the 1-based column, 0 when the problem is not in one column.
	Column int
	// Name is the column's name, when known.
	Name string
	// Err is the problem.
	Err error
}

// Error formats the place and the problem.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	sep := ": "
	put := func(format string, args ...any) {
		b.WriteString(sep)
		fmt.Fprintf(&b, format, args...)
		sep = ", "
	}
	switch {
	case e.Line > 0:
		put("line %d", e.Line)
	case e.Row > 0:
		put("row %d", e.Row)
	}
	if e.RowGroup > 0 {
		put("row group %d", e.RowGroup)
	}
	switch {
	case e.Column > 0 && e.Name != "":
		put("column %d (%s)", e.Column, e.Name)
	case e.Column > 0:
		put("column %d", e.Column)
	case e.Name != "":
		put("column %s", e.Name)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the problem, for errors.Is and errors.As.
func (e *Error) Unwrap() error { return e.Err }

// clip shortens a cell for an error message.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}
