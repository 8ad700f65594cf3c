// Package ndarray holds the raw n-dimensional array that the binary format
// readers (IDX, NPY, MATLAB) decode into, and the conversions every one of
// them needs: typed raw bytes in C or Fortran order to row-major float32,
// integer labels, and value summaries.
//
// It also holds ReadN, which reads a size announced by an untrusted header
// while growing its buffer only as data really arrives, so a header that
// claims gigabytes costs at most what the input holds.
package ndarray

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"github.com/oddity-ml/oddity/data"
)

// Kind is an element type.
type Kind uint8

// The element types the readers decode.
const (
	Invalid Kind = iota
	Bool
	Int8
	Uint8
	Int16
	Uint16
	Int32
	Uint32
	Int64
	Uint64
	Float32
	Float64
)

var kindNames = [...]string{"invalid", "bool", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64", "float32", "float64"}
var kindSizes = [...]int{0, 1, 1, 1, 2, 2, 4, 4, 8, 8, 4, 8}

// String returns the NumPy-style name ("float64", "uint8", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Size is the element size in bytes.
func (k Kind) Size() int {
	if int(k) < len(kindSizes) {
		return kindSizes[k]
	}
	return 0
}

// Integer reports whether k is an integer or boolean type.
func (k Kind) Integer() bool { return k >= Bool && k <= Uint64 }

// Array is a dense n-dimensional array of one element type, kept as the raw
// bytes of the file.
type Array struct {
	// Name is the array's name in its container (npz member, .mat variable).
	Name string
	// Kind is the element type of Raw.
	Kind Kind
	// BigEndian says Raw's multi-byte elements are big-endian.
	BigEndian bool
	// Shape is the array's shape; an empty shape is a scalar.
	Shape []int
	// ColMajor says Raw is in Fortran (column-major) order.
	ColMajor bool
	// Raw holds Len()*Kind.Size() bytes.
	Raw []byte
}

// MaxElements caps the element count any header may announce (2^40), so
// products of dimensions cannot overflow.
const MaxElements = 1 << 40

// Count returns the number of elements of shape, or an error if a dimension
// is negative or the product exceeds MaxElements.
func Count(shape []int) (int64, error) {
	n := int64(1)
	for _, s := range shape {
		if s < 0 {
			return 0, fmt.Errorf("negative dimension in shape %v: %w", shape, data.ErrMalformed)
		}
		if s == 0 {
			n = 0
			continue
		}
		if n > 0 && int64(s) > MaxElements/n {
			return 0, fmt.Errorf("shape %v has more than 2^40 elements: %w", shape, data.ErrMalformed)
		}
		if n > 0 {
			n *= int64(s)
		}
	}
	return n, nil
}

// Len is the number of elements.
func (a *Array) Len() int {
	n, _ := Count(a.Shape)
	return int(n)
}

// Check verifies that Raw holds exactly the bytes the shape and kind call for.
func (a *Array) Check() error {
	if a.Kind.Size() == 0 {
		return fmt.Errorf("array %q: invalid element type: %w", a.Name, data.ErrMalformed)
	}
	n, err := Count(a.Shape)
	if err != nil {
		return fmt.Errorf("array %q: %w", a.Name, err)
	}
	if int64(len(a.Raw)) != n*int64(a.Kind.Size()) {
		return fmt.Errorf("array %q: %d bytes for %d %s elements: %w", a.Name, len(a.Raw), n, a.Kind, data.ErrMalformed)
	}
	return nil
}

func (a *Array) order() binary.ByteOrder {
	if a.BigEndian {
		return binary.BigEndian
	}
	return binary.LittleEndian
}

// decode writes the elements in storage order into dst via set.
func decode[T float32 | float64](a *Array, dst []T) {
	r, o := a.Raw, a.order()
	switch a.Kind {
	case Bool, Uint8:
		for i := range dst {
			dst[i] = T(r[i])
		}
	case Int8:
		for i := range dst {
			dst[i] = T(int8(r[i]))
		}
	case Int16:
		for i := range dst {
			dst[i] = T(int16(o.Uint16(r[2*i:])))
		}
	case Uint16:
		for i := range dst {
			dst[i] = T(o.Uint16(r[2*i:]))
		}
	case Int32:
		for i := range dst {
			dst[i] = T(int32(o.Uint32(r[4*i:])))
		}
	case Uint32:
		for i := range dst {
			dst[i] = T(o.Uint32(r[4*i:]))
		}
	case Int64:
		for i := range dst {
			dst[i] = T(int64(o.Uint64(r[8*i:])))
		}
	case Uint64:
		for i := range dst {
			dst[i] = T(o.Uint64(r[8*i:]))
		}
	case Float32:
		for i := range dst {
			dst[i] = T(math.Float32frombits(o.Uint32(r[4*i:])))
		}
	case Float64:
		for i := range dst {
			dst[i] = T(math.Float64frombits(o.Uint64(r[8*i:])))
		}
	}
}

// rowMajor reorders a column-major buffer of shape into C order.
func rowMajor[T any](src []T, shape []int) []T {
	if len(shape) < 2 || len(src) == 0 {
		return src
	}
	dst := make([]T, len(src))
	if len(shape) == 2 {
		r, c := shape[0], shape[1]
		for j := 0; j < c; j++ {
			col := src[j*r : (j+1)*r]
			for i, v := range col {
				dst[i*c+j] = v
			}
		}
		return dst
	}
	// Fortran strides: stride[0] = 1, stride[k] = stride[k-1]*shape[k-1].
	strides := make([]int, len(shape))
	s := 1
	for k := range shape {
		strides[k] = s
		s *= shape[k]
	}
	idx := make([]int, len(shape))
	off := 0
	for i := range dst {
		dst[i] = src[off]
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			off += strides[k]
			if idx[k] < shape[k] {
				break
			}
			off -= strides[k] * shape[k]
			idx[k] = 0
		}
	}
	return dst
}

// Float32 returns the elements in row-major (C) order as float32. Values
// beyond float32's range become infinities (data.Dataset.Validate rejects
// them).
func (a *Array) Float32() []float32 {
	dst := make([]float32, a.Len())
	decode(a, dst)
	if a.ColMajor {
		dst = rowMajor(dst, a.Shape)
	}
	return dst
}

// Float64 returns the elements in row-major (C) order as float64.
func (a *Array) Float64() []float64 {
	dst := make([]float64, a.Len())
	decode(a, dst)
	if a.ColMajor {
		dst = rowMajor(dst, a.Shape)
	}
	return dst
}

// Labels returns the elements in row-major order as ints, or an error when
// one is not a whole number within ±2^53.
func (a *Array) Labels() ([]int, error) {
	v := a.Float64()
	out := make([]int, len(v))
	for i, f := range v {
		if f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return nil, fmt.Errorf("array %q: element %d = %v is not a whole-number label: %w", a.Name, i, f, data.ErrMalformed)
		}
		out[i] = int(f)
	}
	return out, nil
}

// Summary describes the array: stored type, shape (first dimension as N),
// value range and, for integer arrays of at most one column with at most
// 1000 distinct values, the class counts. It works through the elements in
// chunks, so it allocates little even for large arrays.
func (a *Array) Summary(dtype string) data.Summary {
	var s data.Summary
	s.Name, s.DType = a.Name, dtype
	if len(a.Shape) > 0 {
		s.N = a.Shape[0]
		s.SampleShape = append([]int{}, a.Shape[1:]...)
	} else {
		s.N = 1
		s.SampleShape = []int{}
	}
	columns := 1
	for _, d := range s.SampleShape {
		columns *= d
	}
	first := true
	sum := 0.0
	counts := map[int]int{}
	whole := columns == 1
	buf := make([]float64, 4096)
	size := a.Kind.Size()
	total := a.Len()
	for start := 0; start < total; start += len(buf) {
		m := min(len(buf), total-start)
		chunk := Array{Kind: a.Kind, BigEndian: a.BigEndian, Raw: a.Raw[start*size : (start+m)*size]}
		decode(&chunk, buf[:m])
		for _, f := range buf[:m] {
			if f != f {
				continue
			}
			if first || f < s.Min {
				s.Min = f
			}
			if first || f > s.Max {
				s.Max = f
			}
			first = false
			s.Count++
			sum += f
			if whole {
				if f != math.Trunc(f) || math.Abs(f) > 1<<53 || len(counts) > 1000 {
					whole = false
				} else {
					counts[int(f)]++
				}
			}
		}
	}
	if s.Count > 0 {
		s.Mean = sum / float64(s.Count)
	}
	if whole && s.Count > 0 && len(counts) <= 1000 {
		for k, c := range counts {
			s.Classes = append(s.Classes, data.ClassCount{Label: k, Count: c})
		}
		sort.Slice(s.Classes, func(i, j int) bool { return s.Classes[i].Label < s.Classes[j].Label })
	}
	return s
}

// ReadN reads exactly n bytes from r. It grows its buffer as data arrives
// (doubling from 1 MiB), so a false size claim allocates at most about twice
// what r really holds. A short input gives an error wrapping
// data.ErrTruncated.
func ReadN(r io.Reader, n int64) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("negative length %d: %w", n, data.ErrMalformed)
	}
	const first = 1 << 20
	size := n
	if size > first {
		size = first
	}
	buf := make([]byte, size)
	got, err := io.ReadFull(r, buf)
	for err == nil && int64(len(buf)) < n {
		next := int64(len(buf)) * 2
		if next > n {
			next = n
		}
		grown := make([]byte, next)
		copy(grown, buf)
		var m int
		m, err = io.ReadFull(r, grown[len(buf):])
		got = len(buf) + m
		buf = grown
	}
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("wanted %d bytes, input ends after %d: %w", n, got, data.ErrTruncated)
		}
		return nil, err
	}
	return buf, nil
}
