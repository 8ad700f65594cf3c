package ndarray

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"testing"

	"github.com/oddity-ml/oddity/data"
)

// encode writes vals as kind in the given byte order, via encoding/binary.
func encode(t *testing.T, kind Kind, big bool, vals []float64) []byte {
	t.Helper()
	var order binary.ByteOrder = binary.LittleEndian
	if big {
		order = binary.BigEndian
	}
	var buf bytes.Buffer
	for _, v := range vals {
		var x any
		switch kind {
		case Bool, Uint8:
			x = uint8(v)
		case Int8:
			x = int8(v)
		case Int16:
			x = int16(v)
		case Uint16:
			x = uint16(v)
		case Int32:
			x = int32(v)
		case Uint32:
			x = uint32(v)
		case Int64:
			x = int64(v)
		case Uint64:
			x = uint64(v)
		case Float32:
			x = float32(v)
		case Float64:
			x = v
		}
		if err := binary.Write(&buf, order, x); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestDecodeEveryKindBothOrders(t *testing.T) {
	for k := Bool; k <= Float64; k++ {
		vals := []float64{0, 1, 7, 100}
		if k != Bool && k != Uint8 && k != Uint16 && k != Uint32 && k != Uint64 {
			vals = append(vals, -5, -100)
		}
		if k == Bool {
			vals = []float64{0, 1, 1, 0}
		}
		if k == Float32 || k == Float64 {
			vals = append(vals, 0.5, -2.25)
		}
		for _, big := range []bool{false, true} {
			a := &Array{Kind: k, BigEndian: big, Shape: []int{len(vals)}, Raw: encode(t, k, big, vals)}
			if err := a.Check(); err != nil {
				t.Fatal(err)
			}
			got := a.Float64()
			got32 := a.Float32()
			for i, v := range vals {
				if got[i] != v || got32[i] != float32(v) {
					t.Errorf("%s big=%v: element %d = %v / %v, want %v", k, big, i, got[i], got32[i], v)
				}
			}
		}
	}
}

// naiveRowMajor reorders by computing each element's Fortran offset from its
// C-order multi-index directly.
func naiveRowMajor(src []float64, shape []int) []float64 {
	n := len(src)
	dst := make([]float64, n)
	idx := make([]int, len(shape))
	for c := 0; c < n; c++ {
		rem := c
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k] = rem % shape[k]
			rem /= shape[k]
		}
		off, stride := 0, 1
		for k := range shape {
			off += idx[k] * stride
			stride *= shape[k]
		}
		dst[c] = src[off]
	}
	return dst
}

func TestRowMajorMatchesNaive(t *testing.T) {
	for _, shape := range [][]int{{2, 3}, {3, 1}, {1, 4}, {2, 3, 4}, {3, 2, 2, 2}, {5}} {
		n := 1
		for _, s := range shape {
			n *= s
		}
		src := make([]float64, n)
		for i := range src {
			src[i] = float64(i)
		}
		got := rowMajor(append([]float64(nil), src...), shape)
		want := naiveRowMajor(src, shape)
		if len(shape) < 2 {
			want = src
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("shape %v: element %d = %v, want %v", shape, i, got[i], want[i])
			}
		}
	}
	// A hand-worked case: Fortran [[1,2,3],[4,5,6]] is stored 1,4,2,5,3,6.
	a := &Array{Kind: Float64, Shape: []int{2, 3}, ColMajor: true, Raw: encode(t, Float64, false, []float64{1, 4, 2, 5, 3, 6})}
	got := a.Float32()
	for i, w := range []float32{1, 2, 3, 4, 5, 6} {
		if got[i] != w {
			t.Fatalf("Fortran 2x3: got %v", got)
		}
	}
}

func TestCountRejectsOverflowAndNegative(t *testing.T) {
	if _, err := Count([]int{1 << 30, 1 << 30, 1 << 30}); !errors.Is(err, data.ErrMalformed) {
		t.Errorf("2^90 elements: err = %v", err)
	}
	if _, err := Count([]int{3, -1}); !errors.Is(err, data.ErrMalformed) {
		t.Errorf("negative: err = %v", err)
	}
	if n, err := Count([]int{0, 1 << 40, 1 << 40}); err != nil || n != 0 {
		t.Errorf("zero dimension: n=%d err=%v", n, err)
	}
	if n, _ := Count(nil); n != 1 {
		t.Errorf("scalar count %d", n)
	}
}

func TestLabels(t *testing.T) {
	a := &Array{Kind: Float64, Shape: []int{3}, Raw: encode(t, Float64, false, []float64{0, 2, -1})}
	y, err := a.Labels()
	if err != nil || y[0] != 0 || y[1] != 2 || y[2] != -1 {
		t.Fatalf("labels %v %v", y, err)
	}
	b := &Array{Kind: Float64, Shape: []int{2}, Raw: encode(t, Float64, false, []float64{0, 0.5})}
	if _, err := b.Labels(); !errors.Is(err, data.ErrMalformed) {
		t.Errorf("fractional label accepted: %v", err)
	}
	c := &Array{Kind: Float64, Shape: []int{1}, Raw: encode(t, Float64, false, []float64{math.NaN()})}
	if _, err := c.Labels(); err == nil {
		t.Error("NaN label accepted")
	}
}

func TestSummary(t *testing.T) {
	vals := []float64{3, 1, 2, 2, 3, 3}
	a := &Array{Name: "y", Kind: Int32, Shape: []int{6, 1}, Raw: encode(t, Int32, false, vals)}
	s := a.Summary("int32")
	if s.N != 6 || s.Min != 1 || s.Max != 3 || s.Mean != 14.0/6 || s.Count != 6 {
		t.Errorf("summary %+v", s)
	}
	want := []data.ClassCount{{Label: 1, Count: 1}, {Label: 2, Count: 2}, {Label: 3, Count: 3}}
	if len(s.Classes) != 3 || s.Classes[0] != want[0] || s.Classes[1] != want[1] || s.Classes[2] != want[2] {
		t.Errorf("classes %+v", s.Classes)
	}
	m := &Array{Kind: Int32, Shape: []int{3, 2}, Raw: encode(t, Int32, false, vals)}
	if s := m.Summary(""); s.Classes != nil {
		t.Errorf("a matrix got class counts %+v", s.Classes)
	}
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

func TestReadN(t *testing.T) {
	src := make([]byte, 3<<20+5)
	for i := range src {
		src[i] = byte(i * 7)
	}
	got, err := ReadN(bytes.NewReader(src), int64(len(src)))
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("full read: err %v, equal %v", err, bytes.Equal(got, src))
	}
	if _, err := ReadN(bytes.NewReader(src[:10]), 11); !errors.Is(err, data.ErrTruncated) {
		t.Errorf("short input: %v", err)
	}
	if _, err := ReadN(bytes.NewReader(nil), -1); !errors.Is(err, data.ErrMalformed) {
		t.Errorf("negative: %v", err)
	}
	// A claim of 1 TiB on 100 bytes of input must fail fast with little
	// allocation.
	before := totalAlloc()
	_, err = ReadN(bytes.NewReader(src[:100]), 1<<40)
	after := totalAlloc()
	if !errors.Is(err, data.ErrTruncated) {
		t.Errorf("huge claim: %v", err)
	}
	if grown := after - before; grown > 64<<20 {
		t.Errorf("huge claim allocated %d bytes", grown)
	}
}
