package table

import (
	"fmt"

	"github.com/oddity-ml/oddity/data"
)

// view is a column seen as one kind: numbers (vals) or text (codes into
// dict), with its missing mask. A view of a column stored the way the kind
// wants shares the column's storage; any other is converted, a cell that
// does not convert being an error located in the table (or, with coerce,
// a missing cell, counted).
type view struct {
	vals     []float64
	codes    []uint32
	dict     []string
	miss     bitset
	n        int
	nmiss    int
	coerced  int
	firstBad int
	badValue string
}

func (v *view) present(i int) bool { return !v.miss.get(i) }

func (v *view) markBad(i int, s string) {
	if v.coerced == 0 {
		v.firstBad, v.badValue = i, clip(s)
	}
	v.coerced++
	v.nmiss++
	v.miss.set(i)
}

func cloneBits(b bitset) bitset { return append(bitset(nil), b...) }

// numberView sees c as numbers for kind (Numeric, Timestamp or Boolean).
func (r *Raw) numberView(c *RawColumn, kind Kind, coerce bool) (*view, error) {
	v := &view{n: c.n, nmiss: c.nmiss, miss: c.miss}
	direct := func() (*view, error) { v.vals = c.nums; return v, nil }
	convertText := func(parse func(string) (float64, bool), what string) (*view, error) {
		vals := make([]float64, len(c.dict))
		ok := make([]bool, len(c.dict))
		for k, s := range c.dict {
			vals[k], ok[k] = parse(s)
		}
		v.vals = make([]float64, c.n)
		v.miss = cloneBits(c.miss)
		for i, code := range c.codes {
			if c.miss.get(i) {
				continue
			}
			if !ok[code] {
				if !coerce {
					return nil, r.errAt(i, c, fmt.Errorf("%q is not %s (the column is %s; set Coerce to make such cells missing): %w", clip(c.dict[code]), what, kind, data.ErrMalformed))
				}
				v.markBad(i, c.dict[code])
				continue
			}
			v.vals[i] = vals[code]
		}
		return v, nil
	}
	convertNums := func(check func(float64) bool, what string) (*view, error) {
		v.vals = c.nums
		for i, x := range c.nums {
			if c.miss.get(i) || check(x) {
				continue
			}
			if !coerce {
				return nil, r.errAt(i, c, fmt.Errorf("%s is not %s (the column is %s): %w", formatNumber(x), what, kind, data.ErrMalformed))
			}
			if v.coerced == 0 {
				v.miss = cloneBits(c.miss)
			}
			v.markBad(i, formatNumber(x))
		}
		return v, nil
	}
	switch kind {
	case Numeric:
		switch c.Storage {
		case StoreNumber, StoreBool, StoreTime:
			return direct()
		case StoreText:
			return convertText(parseNumber, "a number")
		}
	case Timestamp:
		switch c.Storage {
		case StoreTime:
			return direct()
		case StoreText:
			layout := ""
			return convertText(func(s string) (float64, bool) {
				x, l, ok := parseTime(s, layout)
				if ok {
					layout = l
				}
				return x, ok
			}, "a timestamp in a known layout")
		case StoreNumber, StoreBool:
			return convertNums(func(float64) bool { return false }, "a timestamp")
		}
	case Boolean:
		switch c.Storage {
		case StoreBool:
			return direct()
		case StoreText:
			return convertText(func(s string) (float64, bool) { return boolWord(s, true) }, "a boolean (true/false, yes/no, y/n, t/f, 1/0)")
		case StoreNumber, StoreTime:
			return convertNums(func(x float64) bool { return x == 0 || x == 1 }, "a boolean (0 or 1)")
		}
	}
	return nil, r.errAt(-1, c, fmt.Errorf("a %s column cannot be seen as %s: %w", c.Storage, kind, data.ErrUnsupported))
}

// textView sees c as text: its dictionary, or its values formatted.
func (r *Raw) textView(c *RawColumn) *view {
	v := &view{n: c.n, nmiss: c.nmiss, miss: c.miss}
	if c.Storage == StoreText {
		v.codes, v.dict = c.codes, c.dict
		return v
	}
	index := map[float64]uint32{}
	v.codes = make([]uint32, c.n)
	for i, x := range c.nums {
		if c.miss.get(i) {
			continue
		}
		code, ok := index[x]
		if !ok {
			code = uint32(len(v.dict))
			index[x] = code
			s, _ := c.Text(i)
			v.dict = append(v.dict, s)
		}
		v.codes[i] = code
	}
	return v
}
