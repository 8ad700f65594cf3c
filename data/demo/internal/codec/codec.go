// Package codec is the file format of oddity's embedded demo data: a gzip
// stream holding one data set losslessly and compactly.
//
// A hand-made format rather than NPY or CSV because the demo data must fit
// in a small binary and decode exactly: every sample value is stored as a
// 16-bit index into a table of the data set's distinct float32 values (the
// USPS pixels take 2,001 values, the thyroid features a few thousand), with
// the low and high index bytes in separate planes so gzip finds the long
// runs. Decoding gives back the very float32 values the loader produced.
//
// Layout (little-endian) inside the gzip stream:
//
//	"ODDDEMO1"
//	name                      string (uint16 length, bytes)
//	n uint32, rank uint8, shape rank×uint32
//	class names, feature names   uint16 count, then strings
//	labelled uint8; if 1: n×int16 labels
//	source rows n×uint32      row of each sample in the original file
//	table k uint32, k×float32 distinct values, ascending
//	index planes              n·d low bytes, then n·d high bytes
package codec

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/oddity-ml/oddity/data"
)

const magic = "ODDDEMO1"

// ErrFormat is wrapped by every decoding error.
var ErrFormat = errors.New("demo codec: malformed data")

// Set is a data set with the original row of each of its samples.
type Set struct {
	*data.Dataset
	// Source[i] is the row of sample i in the file it was taken from.
	Source []int
}

// Encode writes s as a gzip stream. It fails when the data set has more
// than 65,536 distinct values or labels outside int16.
func Encode(s Set) ([]byte, error) {
	d := s.Dataset
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if len(s.Source) != d.N {
		return nil, fmt.Errorf("demo codec: %d source rows for %d samples", len(s.Source), d.N)
	}
	// Distinct values by bit pattern, so -0 and +0 stay apart.
	seen := map[uint32]bool{}
	for _, v := range d.X {
		seen[math.Float32bits(v)] = true
	}
	if len(seen) > 1<<16 {
		return nil, fmt.Errorf("demo codec: %s has %d distinct values, at most 65536 fit", d.Name, len(seen))
	}
	table := make([]uint32, 0, len(seen))
	for b := range seen {
		table = append(table, b)
	}
	sort.Slice(table, func(i, j int) bool {
		a, b := math.Float32frombits(table[i]), math.Float32frombits(table[j])
		if a != b {
			return a < b
		}
		return table[i] < table[j]
	})
	index := make(map[uint32]uint16, len(table))
	for i, b := range table {
		index[b] = uint16(i)
	}

	var raw bytes.Buffer
	w := &raw
	put := func(v any) { _ = binary.Write(w, binary.LittleEndian, v) } // writes to a bytes.Buffer never fail
	putString := func(s string) error {
		if len(s) > math.MaxUint16 {
			return fmt.Errorf("demo codec: string of %d bytes too long", len(s))
		}
		put(uint16(len(s)))
		w.WriteString(s)
		return nil
	}
	putStrings := func(ss []string) error {
		if len(ss) > math.MaxUint16 {
			return fmt.Errorf("demo codec: %d names, too many", len(ss))
		}
		put(uint16(len(ss)))
		for _, s := range ss {
			if err := putString(s); err != nil {
				return err
			}
		}
		return nil
	}
	w.WriteString(magic)
	if err := putString(d.Name); err != nil {
		return nil, err
	}
	if len(d.Shape) > 255 {
		return nil, fmt.Errorf("demo codec: rank %d too high", len(d.Shape))
	}
	put(uint32(d.N))
	put(uint8(len(d.Shape)))
	for _, s := range d.Shape {
		put(uint32(s))
	}
	if err := putStrings(d.ClassNames); err != nil {
		return nil, err
	}
	if err := putStrings(d.FeatureNames); err != nil {
		return nil, err
	}
	if d.Y == nil {
		put(uint8(0))
	} else {
		put(uint8(1))
		for i, y := range d.Y {
			if y < math.MinInt16 || y > math.MaxInt16 {
				return nil, fmt.Errorf("demo codec: label %d of sample %d outside int16", y, i)
			}
			put(int16(y))
		}
	}
	for i, r := range s.Source {
		if r < 0 || r > math.MaxUint32 {
			return nil, fmt.Errorf("demo codec: source row %d of sample %d out of range", r, i)
		}
		put(uint32(r))
	}
	put(uint32(len(table)))
	put(table)
	lo := make([]byte, len(d.X))
	hi := make([]byte, len(d.X))
	for i, v := range d.X {
		k := index[math.Float32bits(v)]
		lo[i], hi[i] = byte(k), byte(k>>8)
	}
	w.Write(lo)
	w.Write(hi)

	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.DefaultCompression)
	if err != nil {
		return nil, err
	}
	// The gzip header carries no name or time, so the output depends on
	// the data alone.
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// maxElems bounds the values a stream may declare, so a corrupt header
// cannot make Decode allocate gigabytes.
const maxElems = 1 << 26

// Decode reads a stream written by Encode.
func Decode(b []byte) (*Set, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	r := bufio.NewReader(zr)
	fail := func(what string, err error) (*Set, error) {
		return nil, fmt.Errorf("%w: reading %s: %v", ErrFormat, what, err)
	}
	get := func(v any) error { return binary.Read(r, binary.LittleEndian, v) }
	getString := func() (string, error) {
		var n uint16
		if err := get(&n); err != nil {
			return "", err
		}
		buf := make([]byte, n)
		_, err := io.ReadFull(r, buf)
		return string(buf), err
	}
	getStrings := func() ([]string, error) {
		var n uint16
		if err := get(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, nil
		}
		out := make([]string, n)
		for i := range out {
			s, err := getString()
			if err != nil {
				return nil, err
			}
			out[i] = s
		}
		return out, nil
	}
	head := make([]byte, len(magic))
	if _, err := io.ReadFull(r, head); err != nil || string(head) != magic {
		return nil, fmt.Errorf("%w: not a demo data stream", ErrFormat)
	}
	d := &data.Dataset{}
	if d.Name, err = getString(); err != nil {
		return fail("name", err)
	}
	var n uint32
	var rank uint8
	if err := get(&n); err != nil {
		return fail("size", err)
	}
	if err := get(&rank); err != nil {
		return fail("rank", err)
	}
	d.N = int(n)
	dim := 1
	for range rank {
		var s uint32
		if err := get(&s); err != nil {
			return fail("shape", err)
		}
		if s == 0 || s > maxElems {
			return nil, fmt.Errorf("%w: sample shape size %d", ErrFormat, s)
		}
		d.Shape = append(d.Shape, int(s))
		dim *= int(s)
		if dim > maxElems {
			return nil, fmt.Errorf("%w: sample of more than %d values", ErrFormat, maxElems)
		}
	}
	if d.N*dim > maxElems {
		return nil, fmt.Errorf("%w: %d samples of %d values exceed %d", ErrFormat, d.N, dim, maxElems)
	}
	if d.ClassNames, err = getStrings(); err != nil {
		return fail("class names", err)
	}
	if d.FeatureNames, err = getStrings(); err != nil {
		return fail("feature names", err)
	}
	var labelled uint8
	if err := get(&labelled); err != nil {
		return fail("label flag", err)
	}
	if labelled == 1 {
		ys := make([]int16, d.N)
		if err := get(ys); err != nil {
			return fail("labels", err)
		}
		d.Y = make([]int, d.N)
		for i, y := range ys {
			d.Y[i] = int(y)
		}
	}
	src := make([]uint32, d.N)
	if err := get(src); err != nil {
		return fail("source rows", err)
	}
	var k uint32
	if err := get(&k); err != nil {
		return fail("table size", err)
	}
	if k > 1<<16 {
		return nil, fmt.Errorf("%w: table of %d values", ErrFormat, k)
	}
	table := make([]uint32, k)
	if err := get(table); err != nil {
		return fail("value table", err)
	}
	planes := make([]byte, 2*d.N*dim)
	if _, err := io.ReadFull(r, planes); err != nil {
		return fail("values", err)
	}
	if _, err := r.ReadByte(); err != io.EOF {
		return nil, fmt.Errorf("%w: trailing data", ErrFormat)
	}
	lo, hi := planes[:d.N*dim], planes[d.N*dim:]
	d.X = make([]float32, d.N*dim)
	for i := range d.X {
		j := uint32(lo[i]) | uint32(hi[i])<<8
		if j >= k {
			return nil, fmt.Errorf("%w: value index %d outside a table of %d", ErrFormat, j, k)
		}
		d.X[i] = math.Float32frombits(table[j])
	}
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	s := &Set{Dataset: d, Source: make([]int, d.N)}
	for i, v := range src {
		s.Source[i] = int(v)
	}
	return s, nil
}
