package table

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"math/big"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/oddity-ml/oddity/data"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
)

// parquetColumn turns the values of one Parquet leaf column into cells.
type parquetColumn struct {
	c    *RawColumn
	conv func(v parquet.Value) (float64, bool) // numeric storages: value, finite
	text func(v parquet.Value) []byte          // StoreText
	desc string                                // the Parquet type, for messages
}

// ReadParquet reads a flat Parquet file (every column a leaf, none repeated)
// of size bytes from r into a Raw table named name: numeric columns
// (integers, floats, decimals, times of day in seconds) as numbers, BOOLEAN
// as booleans, DATE, TIMESTAMP and INT96 as timestamps, strings (and other
// byte arrays, UUIDs) as text; nulls (and floating-point NaN) are missing.
// It reads one row group and one column chunk at a time, page by page.
//
// The row counts and sizes in the footer are checked against the file size
// and o.Limits before any data page is read, and again against what the
// pages hold; a truncated or corrupt file is an *Error wrapping
// data.ErrMalformed.
func ReadParquet(r io.ReaderAt, size int64, name string, o Options) (raw *Raw, err error) {
	lim := o.Limits.withDefaults()
	fail := func(err error) error { return &Error{File: name, Err: err} }
	defer func() {
		// parquet-go checks most of a file's structure, but a corrupt page
		// can still make a decoder index out of range: report, not crash.
		if p := recover(); p != nil {
			raw, err = nil, fail(fmt.Errorf("corrupt Parquet file (the decoder failed: %v): %w", p, data.ErrMalformed))
		}
	}()
	if over(size, lim.MaxBytes) {
		return nil, fail(fmt.Errorf("file of %d bytes exceeds MaxBytes = %d: %w", size, lim.MaxBytes, ErrLimit))
	}
	if size < 12 {
		return nil, fail(fmt.Errorf("%d bytes are too few for a Parquet file (truncated): %w", size, data.ErrTruncated))
	}
	f, err := parquet.OpenFile(r, size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true), parquet.ReadBufferSize(64<<10))
	if err != nil {
		return nil, fail(fmt.Errorf("not a readable Parquet file (truncated or corrupt): %w: %w", data.ErrMalformed, err))
	}
	leaves := f.Root().Columns()
	raw = &Raw{Name: name, Format: "parquet", Options: o}
	for j, col := range leaves {
		raw.Columns = append(raw.Columns, &RawColumn{Name: strings.ToValidUTF8(col.Name(), "\uFFFD"), Index: j})
		if !col.Leaf() || col.Repeated() {
			return nil, &Error{File: name, Column: j + 1, Name: col.Name(), Err: fmt.Errorf("nested or repeated column: only flat Parquet files are read: %w", data.ErrUnsupported)}
		}
	}
	seen := map[string]int{}
	for j, c := range raw.Columns {
		if k, dup := seen[c.Name]; dup {
			return nil, &Error{File: name, Column: j + 1, Name: c.Name, Err: fmt.Errorf("duplicate column name (also column %d): %w", k+1, data.ErrMalformed)}
		}
		seen[c.Name] = j
	}
	if len(leaves) == 0 {
		return nil, fail(fmt.Errorf("no columns: %w", data.ErrNoData))
	}
	if err := o.checkNames(raw.Header()); err != nil {
		return nil, fail(err)
	}
	ncols := int64(len(leaves))
	meta := f.Metadata()
	// The footer's claims, checked before reading: they decide nothing
	// that is allocated, but a file that claims too much is refused early.
	var total, uncompressed int64
	for g, rg := range meta.RowGroups {
		if rg.NumRows < 0 || len(rg.Columns) != len(leaves) {
			return nil, &Error{File: name, RowGroup: g + 1, Err: fmt.Errorf("corrupt row group metadata (%d rows, %d column chunks for %d columns): %w", rg.NumRows, len(rg.Columns), len(leaves), data.ErrMalformed)}
		}
		total += rg.NumRows
		for j, cc := range rg.Columns {
			m := cc.MetaData
			start := m.DataPageOffset
			if m.DictionaryPageOffset > 0 && m.DictionaryPageOffset < start {
				start = m.DictionaryPageOffset
			}
			if start < 4 || m.TotalCompressedSize < 0 || start+m.TotalCompressedSize > size || m.TotalUncompressedSize < 0 {
				return nil, &Error{File: name, RowGroup: g + 1, Column: j + 1, Name: leaves[j].Name(), Err: fmt.Errorf("column chunk of %d bytes at offset %d does not fit in a file of %d bytes (truncated or corrupt): %w", m.TotalCompressedSize, start, size, data.ErrMalformed)}
			}
			uncompressed += m.TotalUncompressedSize
		}
	}
	if over(total, lim.MaxRows) {
		return nil, fail(fmt.Errorf("%d rows exceed MaxRows = %d: %w", total, lim.MaxRows, ErrLimit))
	}
	if over(total*ncols, lim.MaxCells) {
		return nil, fail(fmt.Errorf("%d cells exceed MaxCells = %d: %w", total*ncols, lim.MaxCells, ErrLimit))
	}
	if over(uncompressed, lim.MaxBytes) {
		return nil, fail(fmt.Errorf("%d bytes of uncompressed pages exceed MaxBytes = %d: %w", uncompressed, lim.MaxBytes, ErrLimit))
	}

	declared := make([]Kind, len(leaves))
	cols := make([]parquetColumn, len(leaves))
	for j, col := range leaves {
		declared[j], _ = o.declared(col.Name())
		cols[j] = parquetStorage(raw.Columns[j], col.Type(), declared[j])
	}
	missing := o.missingSet()
	buf := make([]parquet.Value, 1024)
	var pageBytes int64
	for g, rg := range f.RowGroups() {
		want := rg.NumRows()
		chunks := rg.ColumnChunks()
		for j := range leaves {
			pc := &cols[j]
			c := pc.c
			if c.Storage == StoreNone {
				continue
			}
			where := func(err error) error {
				return &Error{File: name, RowGroup: g + 1, Column: j + 1, Name: c.Name, Err: err}
			}
			start := c.n
			pages := chunks[j].Pages()
			for {
				page, err := pages.ReadPage()
				if err == io.EOF {
					break
				}
				if err != nil {
					pages.Close()
					return nil, where(fmt.Errorf("reading a page (truncated or corrupt file): %w: %w", data.ErrMalformed, err))
				}
				if pageBytes += page.Size(); over(pageBytes, lim.MaxBytes) {
					pages.Close()
					return nil, where(fmt.Errorf("more than MaxBytes = %d bytes of pages: %w", lim.MaxBytes, ErrLimit))
				}
				vr := page.Values()
				for {
					n, err := vr.ReadValues(buf)
					if int64(c.n-start+n) > want {
						pages.Close()
						return nil, where(fmt.Errorf("more values than the %d rows of the row group (corrupt file): %w", want, data.ErrMalformed))
					}
					for _, v := range buf[:n] {
						if err := pc.add(v, missing, o.Coerce); err != nil {
							pages.Close()
							return nil, raw.errAt(c.n, c, err)
						}
					}
					if err == io.EOF {
						break
					}
					if err != nil {
						pages.Close()
						return nil, where(fmt.Errorf("decoding a page (corrupt file): %w: %w", data.ErrMalformed, err))
					}
					if n == 0 {
						pages.Close()
						return nil, where(fmt.Errorf("a page that yields no values (corrupt file): %w", data.ErrMalformed))
					}
				}
				// The cells are copies: the page's buffers can be reused.
				parquet.Release(page)
			}
			pages.Close()
			if got := int64(c.n - start); got != want {
				return nil, where(fmt.Errorf("%d values for the %d rows of the row group (truncated or corrupt file): %w", got, want, data.ErrMalformed))
			}
		}
		raw.Rows += int(want)
	}
	if raw.Rows == 0 {
		return nil, fail(fmt.Errorf("no data rows: %w", data.ErrNoData))
	}
	raw.finish(declared)
	return raw, nil
}

// add appends one value to the column.
func (pc *parquetColumn) add(v parquet.Value, missing map[string]bool, coerce bool) error {
	c := pc.c
	if v.IsNull() {
		c.appendMissing()
		return nil
	}
	if c.Storage == StoreText {
		b := bytes.TrimSpace(pc.text(v))
		if missing[string(b)] {
			c.appendMissing()
		} else {
			c.appendBytes(b)
		}
		return nil
	}
	x, ok := pc.conv(v)
	switch {
	case ok:
		c.appendNumber(x)
	case math.IsNaN(x):
		c.appendMissing()
	case coerce:
		c.coerce(v.String())
	default:
		return fmt.Errorf("%s value %v is not finite (set Coerce to make such cells missing): %w", pc.desc, v, data.ErrMalformed)
	}
	return nil
}

// parquetStorage chooses the storage of a Parquet column from its type.
func parquetStorage(c *RawColumn, t parquet.Type, declared Kind) parquetColumn {
	pc := parquetColumn{c: c, desc: t.String()}
	if declared == Ignored {
		c.Storage = StoreNone
		return pc
	}
	lt := t.LogicalType()
	var lv format.LogicalTypeValue
	if lt != nil {
		lv = lt.Value
	}
	ct := t.ConvertedType()
	conv := func(ct *deprecated.ConvertedType, want deprecated.ConvertedType) bool {
		return ct != nil && *ct == want
	}
	num := func(f func(v parquet.Value) float64) {
		c.Storage = StoreNumber
		pc.conv = func(v parquet.Value) (float64, bool) {
			x := f(v)
			return x, !math.IsInf(x, 0) && !math.IsNaN(x)
		}
	}
	timeOf := func(f func(v parquet.Value) float64) {
		num(f)
		c.Storage = StoreTime
	}
	scale := func(s int32) float64 { return math.Pow(10, -float64(s)) }
	switch t.Kind() {
	case parquet.Boolean:
		c.Storage = StoreBool
		pc.conv = func(v parquet.Value) (float64, bool) {
			if v.Boolean() {
				return 1, true
			}
			return 0, true
		}
	case parquet.Int32:
		switch l := lv.(type) {
		case *format.DateType:
			timeOf(func(v parquet.Value) float64 { return float64(v.Int32()) * 86400 })
		case *format.TimeType:
			d := l.Unit.Value.Duration().Seconds()
			num(func(v parquet.Value) float64 { return float64(v.Int32()) * d })
		case *format.DecimalType:
			s := scale(l.Scale)
			num(func(v parquet.Value) float64 { return float64(v.Int32()) * s })
		case *format.IntType:
			if !l.IsSigned {
				num(func(v parquet.Value) float64 { return float64(uint32(v.Int32())) })
				break
			}
			num(func(v parquet.Value) float64 { return float64(v.Int32()) })
		default:
			switch {
			case conv(ct, deprecated.Date):
				timeOf(func(v parquet.Value) float64 { return float64(v.Int32()) * 86400 })
			case conv(ct, deprecated.TimeMillis):
				num(func(v parquet.Value) float64 { return float64(v.Int32()) / 1e3 })
			default:
				num(func(v parquet.Value) float64 { return float64(v.Int32()) })
			}
		}
	case parquet.Int64:
		switch l := lv.(type) {
		case *format.TimestampType:
			timeOf(unitSeconds(int64(time.Second / l.Unit.Value.Duration())))
		case *format.TimeType:
			d := l.Unit.Value.Duration().Seconds()
			num(func(v parquet.Value) float64 { return float64(v.Int64()) * d })
		case *format.DecimalType:
			s := scale(l.Scale)
			num(func(v parquet.Value) float64 { return float64(v.Int64()) * s })
		case *format.IntType:
			if !l.IsSigned {
				num(func(v parquet.Value) float64 { return float64(uint64(v.Int64())) })
				break
			}
			num(func(v parquet.Value) float64 { return float64(v.Int64()) })
		default:
			switch {
			case conv(ct, deprecated.TimestampMillis):
				timeOf(unitSeconds(1e3))
			case conv(ct, deprecated.TimestampMicros):
				timeOf(unitSeconds(1e6))
			case conv(ct, deprecated.TimeMicros):
				num(func(v parquet.Value) float64 { return float64(v.Int64()) / 1e6 })
			default:
				num(func(v parquet.Value) float64 { return float64(v.Int64()) })
			}
		}
	case parquet.Int96:
		// Impala/Spark timestamps: nanoseconds of the day, then the Julian day.
		timeOf(func(v parquet.Value) float64 {
			i := v.Int96()
			nanos := uint64(i[1])<<32 | uint64(i[0])
			return (float64(i[2])-2440588)*86400 + float64(nanos)/1e9
		})
	case parquet.Float:
		num(func(v parquet.Value) float64 { return float64(v.Float()) })
	case parquet.Double:
		num(func(v parquet.Value) float64 { return v.Double() })
	case parquet.ByteArray, parquet.FixedLenByteArray:
		switch l := lv.(type) {
		case *format.DecimalType:
			s := l.Scale
			num(func(v parquet.Value) float64 { return bigDecimal(v.ByteArray(), s) })
		case *format.UUIDType:
			c.Storage = StoreText
			pc.text = func(v parquet.Value) []byte { return formatUUID(v.ByteArray()) }
		case *format.Float16Type:
			num(func(v parquet.Value) float64 { return float16(v.ByteArray()) })
		default:
			c.Storage = StoreText
			pc.text = func(v parquet.Value) []byte {
				b := v.ByteArray()
				if !utf8.Valid(b) {
					return []byte(hex.EncodeToString(b))
				}
				return b
			}
		}
	default:
		c.Storage = StoreText
		pc.text = func(v parquet.Value) []byte { return []byte(v.String()) }
	}
	return pc
}

// unitSeconds converts a count of 1/perSecond seconds into seconds,
// exactly for whole seconds (a float64 cannot hold nanoseconds since 1970).
func unitSeconds(perSecond int64) func(v parquet.Value) float64 {
	if perSecond <= 0 {
		perSecond = 1
	}
	return func(v parquet.Value) float64 {
		x := v.Int64()
		sec, rem := x/perSecond, x%perSecond
		return float64(sec) + float64(rem)/float64(perSecond)
	}
}

// bigDecimal reads a big-endian two's-complement unscaled decimal.
func bigDecimal(b []byte, scale int32) float64 {
	x := new(big.Int).SetBytes(b)
	if len(b) > 0 && b[0]&0x80 != 0 {
		x.Sub(x, new(big.Int).Lsh(big.NewInt(1), uint(8*len(b))))
	}
	f, _ := new(big.Float).SetInt(x).Float64()
	return f * math.Pow(10, -float64(scale))
}

func formatUUID(b []byte) []byte {
	if len(b) != 16 {
		return []byte(hex.EncodeToString(b))
	}
	h := hex.EncodeToString(b)
	return []byte(h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:])
}

// float16 decodes an IEEE 754 half-precision float (little-endian).
func float16(b []byte) float64 {
	if len(b) != 2 {
		return math.NaN()
	}
	h := uint16(b[0]) | uint16(b[1])<<8
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return math.Inf(int(sign))
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1+frac/1024, exp-15)
}
