// Package table turns tables as people have them — CSV/TSV with a header
// row, plain or gzip-compressed, and flat Parquet files — into the float32
// matrices oddity's detectors take, by a fitted pipeline that can be stored
// in a model file and applied to new tables.
//
// # Reading
//
// ReadFile, ReadCSV and ReadParquet read a table into a Raw table, column
// by column: a numeric column as float64 values with a missing mask (the
// cells are parsed as they are read, no string is kept per cell), a text
// column as a dictionary of its distinct values and a uint32 code per cell.
// The first Options.InferRows rows decide how each CSV column is stored;
// after them the read streams, and Limits bound the rows, cells and bytes
// it may take. Missing markers (DefaultMissing: "", NA, N/A, null, NULL,
// NaN, nan, ?, -) are configurable. Every error is an *Error that names the
// file, the line (or Parquet row group or row) and the column:
//
//	rows.csv: line 17, column 3 (amount): "abc" is not a number ...
//
// A value that is not a number in a numeric column is such an error, unless
// Options.Coerce makes it missing (counted, and reported in Raw.Notes).
//
// Parquet files are read with github.com/parquet-go/parquet-go: it is pure
// Go (no cgo, so CGO_ENABLED=0 builds keep working), well kept, and reads a
// file one row group and one column chunk at a time, page by page, which
// matches the column-oriented Raw table and keeps memory bounded. The
// Apache Arrow Go module (arrow-go) would also read Parquet, but it brings
// a much larger dependency tree (Arrow's memory model, compute kernels,
// flatbuffers, Thrift and more) for what is needed here. Footer claims
// (row counts, chunk sizes) are checked against the file size and Limits
// before data pages are read and never used to size an allocation; the
// library's own Thrift decoder may still reserve a length claimed inside a
// corrupt header (at most 2 GiB, then the read fails).
//
// # Kinds and the pipeline
//
// Fit infers each column's Kind (numeric, categorical, boolean, timestamp,
// id, constant, empty), or takes it from Options (IDColumns, Ignore,
// Categorical, Boolean, Numeric, Timestamp, LabelColumn), and learns its
// encoding: median imputation, a missing indicator and min-max scaling for
// numbers; one-hot levels with an "other" bucket (and a frequency feature
// beyond MaxLevels) for text; 0/1 for booleans; clock parts on circles and
// a scaled time for timestamps. See Fit for the details and the reasons.
//
// Pipeline.Transform applies it to any table with the same columns, matched
// by name, and returns a data.Dataset with FeatureNames, plus the carried
// identifier and label columns (Carried). Pipeline.Source maps each output
// feature back to its input column, so per-feature attributions can be
// summed per column (SumBySource). Pipeline.Schema describes the columns
// (String renders a table for the command line); MarshalJSON and Unmarshal
// store the pipeline as versioned JSON.
//
// A typical use:
//
//	raw, err := table.ReadFile("train.csv", table.Options{LabelColumn: "is_fraud"})
//	p, err := table.Fit(raw)
//	fmt.Print(p.Schema())
//	train, carried, err := p.Transform(raw)
//	...
//	next, err := table.ReadFile("today.csv.gz", p.ReadOptions())
//	ds, carried, err := p.Transform(next)
package table
