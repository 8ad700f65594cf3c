package matfile

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/internal/fuzzcorpus"
	"github.com/oddity-ml/oddity/internal/shared"
)

var genCorpus = flag.Bool("gencorpus", false, "rewrite testdata/fuzz seed corpora")

// matWriter builds a level-5 MAT file byte by byte from the format
// specification ("MAT-File Format", MathWorks): a 128-byte header, then
// tagged data elements padded to 8 bytes.
type matWriter struct{ o byteOrder }

type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

func (w matWriter) u32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = w.o.AppendUint32(b, x)
	}
	return b
}

func (w matWriter) header(text string) []byte {
	h := []byte(text + strings.Repeat(" ", 116-len(text)))
	h = append(h, make([]byte, 8)...) // subsystem data offset
	h = w.o.AppendUint16(h, 0x0100)
	if w.o == byteOrder(binary.LittleEndian) {
		return append(h, 'I', 'M')
	}
	return append(h, 'M', 'I')
}

// elem is a tagged element padded to 8 bytes.
func (w matWriter) elem(typ uint32, body []byte) []byte {
	b := append(w.u32(typ, uint32(len(body))), body...)
	for len(b)%8 != 0 {
		b = append(b, 0)
	}
	return b
}

// small is a small-format element: size and type in one word, data in the
// next four bytes.
func (w matWriter) small(typ uint32, body []byte) []byte {
	b := w.u32(uint32(len(body))<<16 | typ)
	b = append(b, body...)
	for len(b) < 8 {
		b = append(b, 0)
	}
	return b
}

func (w matWriter) name(n string) []byte {
	if len(n) <= 4 {
		return w.small(miINT8, []byte(n))
	}
	return w.elem(miINT8, []byte(n))
}

// matrix is an miMATRIX element: flags, dimensions, name, real part and an
// optional imaginary part.
func (w matWriter) matrix(class byte, flags byte, dims []uint32, name string, realType uint32, real []byte, imag ...[]byte) []byte {
	body := w.elem(miUINT32, w.u32(uint32(class)|uint32(flags)<<8, 0))
	body = append(body, w.elem(miINT32, w.u32(dims...))...)
	body = append(body, w.name(name)...)
	body = append(body, w.elem(realType, real)...)
	for _, im := range imag {
		body = append(body, w.elem(realType, im)...)
	}
	return w.elem(miMATRIX, body)
}

func (w matWriter) compressed(elem []byte) []byte {
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(elem)
	zw.Close()
	return append(w.u32(miCOMPRESSED, uint32(z.Len())), z.Bytes()...)
}

func (w matWriter) f64(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = w.o.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func (w matWriter) i16(v ...int16) []byte {
	var b []byte
	for _, x := range v {
		b = w.o.AppendUint16(b, uint16(x))
	}
	return b
}

// tinyMat holds: A = [1 2 3; 4 5 6] (double), labels = [3; 7] (double stored
// as uint8, compressed), flag = [true false] (logical), s = 'hi' (char),
// i16 = [-1 2; 3 -4] (int16), z = 2+5i (complex double).
func tinyMat(o byteOrder) []byte {
	w := matWriter{o}
	b := w.header("MATLAB 5.0 MAT-file, written by the oddity tests")
	b = append(b, w.matrix(6, 0, []uint32{2, 3}, "A", miDOUBLE, w.f64(1, 4, 2, 5, 3, 6))...)
	b = append(b, w.compressed(w.matrix(6, 0, []uint32{2, 1}, "labels", miUINT8, []byte{3, 7}))...)
	b = append(b, w.matrix(9, 0x02, []uint32{1, 2}, "flag", miUINT8, []byte{1, 0})...)
	b = append(b, w.matrix(4, 0, []uint32{1, 2}, "s", miUINT16, w.i16('h', 'i'))...)
	b = append(b, w.compressed(w.matrix(10, 0, []uint32{2, 2}, "i16", miINT16, w.i16(-1, 3, 2, -4)))...)
	b = append(b, w.matrix(6, 0x08, []uint32{1, 1}, "z", miDOUBLE, w.f64(2), w.f64(5))...)
	return b
}

func TestTinyFileBothByteOrders(t *testing.T) {
	for _, o := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
		vars, err := Read(bytes.NewReader(tinyMat(o)))
		if err != nil {
			t.Fatalf("%v: %v", o, err)
		}
		var names []string
		for _, v := range vars {
			names = append(names, v.Name+":"+v.Class)
		}
		if got := strings.Join(names, " "); got != "A:double labels:double flag:logical s:char i16:int16 z:double" {
			t.Errorf("%v: variables %s", o, got)
		}
		_, _, a := Find(vars, "A").Rows()
		for i, w := range []float32{1, 2, 3, 4, 5, 6} {
			if a[i] != w {
				t.Errorf("%v: A = %v", o, a)
				break
			}
		}
		if v := Find(vars, "labels"); v.DType() != "double (stored as uint8)" {
			t.Errorf("labels dtype %q", v.DType())
		}
		if _, _, f := Find(vars, "flag").Rows(); f[0] != 1 || f[1] != 0 {
			t.Errorf("flag = %v", f)
		}
		if Find(vars, "s") != nil {
			t.Error("char variable offered as numeric")
		}
		if _, _, m := Find(vars, "i16").Rows(); m[0] != -1 || m[1] != 2 || m[2] != 3 || m[3] != -4 {
			t.Errorf("i16 = %v", m)
		}
		if z := Find(vars, "z"); !z.Complex || z.Array.Float32()[0] != 2 {
			t.Errorf("z = %+v", z)
		}
	}
}

func TestLoadAndInspect(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.mat")
	os.WriteFile(p, tinyMat(binary.LittleEndian), 0o644)
	ds, err := data.Load(p, data.WithArrays("A", "labels"))
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 2 || ds.Dim() != 3 || ds.X[2] != 3 || ds.X[3] != 4 || ds.Y[0] != 3 || ds.Y[1] != 7 {
		t.Errorf("data set %+v", ds)
	}
	if _, err := data.Load(p); !errors.Is(err, data.ErrNoData) || !strings.Contains(err.Error(), "A, labels, flag, i16, z") {
		t.Errorf("no default X: %v", err)
	}
	if _, err := data.Load(p, data.WithArrays("A", "i16")); !errors.Is(err, data.ErrMalformed) {
		t.Errorf("4 labels for 2 samples: %v", err)
	}
	info, err := data.Inspect(p)
	if err != nil || len(info.Arrays) != 5 || len(info.Notes) != 2 {
		t.Errorf("inspect: %+v %v", info, err)
	}
}

func TestRejectsBadInput(t *testing.T) {
	w := matWriter{binary.LittleEndian}
	good := tinyMat(binary.LittleEndian)
	hdr := w.header("MATLAB 5.0 MAT-file")
	cases := map[string]struct {
		b    []byte
		want error
	}{
		"empty":          {nil, data.ErrTruncated},
		"short header":   {good[:100], data.ErrTruncated},
		"cut in tag":     {good[:132], data.ErrTruncated},
		"cut in element": {good[:200], data.ErrTruncated},
		"cut compressed": {good[:260], nil},
		"no endian":      {append(append([]byte(nil), good[:126]...), 'X', 'X'), data.ErrMalformed},
		"v7.3":           {append([]byte("MATLAB 7.3 MAT-file"), make([]byte, 109)...), data.ErrUnsupported},
		"wrong size":     {append(hdr, w.matrix(6, 0, []uint32{2, 3}, "A", miDOUBLE, w.f64(1, 2))...), data.ErrMalformed},
		"bad class":      {append(hdr, w.matrix(99, 0, []uint32{1, 1}, "A", miDOUBLE, w.f64(1))...), data.ErrMalformed},
		"negative dim":   {append(hdr, w.matrix(6, 0, []uint32{1, 0xFFFFFFFF}, "A", miDOUBLE, w.f64(1))...), data.ErrMalformed},
		"huge element":   {append(hdr, w.u32(miMATRIX, 0xFFFFFFF0)...), data.ErrTruncated},
		"huge dims":      {append(hdr, w.matrix(6, 0, []uint32{1 << 30, 1 << 30}, "A", miDOUBLE, w.f64(1))...), data.ErrMalformed},
		"bad zlib":       {append(hdr, w.u32(miCOMPRESSED, 8, 1, 2)...), data.ErrMalformed},
		"bad small":      {append(hdr, w.u32(7<<16|miMATRIX, 0)...), data.ErrMalformed},
	}
	for name, c := range cases {
		_, err := Read(bytes.NewReader(c.b))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v does not wrap %v", name, err, c.want)
		}
	}
	p := filepath.Join(t.TempDir(), "cut.mat")
	os.WriteFile(p, good[:200], 0o644)
	if _, err := ReadFile(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("error does not name the file: %v", err)
	}
}

// art renders an image as text, dark to light " .+#".
func art(x []float32, side int) string {
	var sb strings.Builder
	for r := 0; r < side; r++ {
		for c := 0; c < side; c++ {
			v := x[r*side+c]
			switch {
			case v > 0.66:
				sb.WriteByte('#')
			case v > 0.33:
				sb.WriteByte('+')
			case v > 0.1:
				sb.WriteByte('.')
			default:
				sb.WriteByte(' ')
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

// meanImage averages the images of class k.
func meanImage(ds *data.Dataset, k int) []float32 {
	m := make([]float32, ds.Dim())
	n := 0
	for i := 0; i < ds.N; i++ {
		if ds.Y[i] == k {
			for j, v := range ds.Row(i) {
				m[j] += v
			}
			n++
		}
	}
	for j := range m {
		m[j] /= float32(n)
	}
	return m
}

// profiles sums an image over its columns (per row) and rows (per column)
// and counts the rows and columns above the average.
func profiles(img []float32, side int) (rows, cols int) {
	rs, cs := make([]float32, side), make([]float32, side)
	var tot float32
	for j, v := range img {
		rs[j/side] += v
		cs[j%side] += v
		tot += v
	}
	for i := 0; i < side; i++ {
		if rs[i] > tot/float32(side) {
			rows++
		}
		if cs[i] > tot/float32(side) {
			cols++
		}
	}
	return rows, cols
}

func TestUSPS(t *testing.T) {
	p := shared.Path(t, "usps/usps.mat")
	train, test, err := LoadUSPSSplits(p)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 7291 || test.N != 2007 || train.Dim() != 256 || train.Shape[1] != 16 {
		t.Fatalf("USPS %d + %d of %v", train.N, test.N, train.Shape)
	}
	all, err := LoadUSPS(p)
	if err != nil || all.N != 9298 || len(all.ClassCounts()) != 10 {
		t.Fatalf("LoadUSPS: %v", err)
	}
	// Orientation and label mapping, by numbers: the mean "1" is a vertical
	// stroke (mass over many rows, few columns), and the mean "0" is a ring
	// (its centre darker than the average of the ring around it).
	one := meanImage(all, 1)
	if r, c := profiles(one, 16); r <= c {
		t.Errorf("mean 1 covers %d rows and %d columns: not upright\n%s", r, c, art(one, 16))
	}
	zero := meanImage(all, 0)
	centre := (zero[7*16+7] + zero[7*16+8] + zero[8*16+7] + zero[8*16+8]) / 4
	ring := (zero[2*16+8] + zero[13*16+8] + zero[8*16+2] + zero[8*16+13]) / 4
	if centre >= ring {
		t.Errorf("mean 0: centre %v, ring %v: not a zero\n%s", centre, ring, art(zero, 16))
	}
	// A 7 has its bar at the top: the top rows of the mean 7 are brighter
	// than the bottom rows (a transposed or flipped image would not be).
	seven := meanImage(all, 7)
	var top, bottom float32
	for c := 0; c < 16; c++ {
		top += seven[2*16+c] + seven[3*16+c]
		bottom += seven[12*16+c] + seven[13*16+c]
	}
	if top <= bottom {
		t.Errorf("mean 7: top %v, bottom %v\n%s", top, bottom, art(seven, 16))
	}
	t.Logf("mean USPS 7 (upright):\n%s", art(seven, 16))
	t.Logf("first training digit, label %d:\n%s", train.Y[0], art(train.Row(0), 16))
}

func TestCOIL20(t *testing.T) {
	p := shared.Path(t, "coil20/COIL20.mat")
	ds, err := LoadCOIL20(p)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 1440 || ds.Dim() != 1024 || ds.Shape[1] != 32 || ds.Shape[2] != 32 {
		t.Fatalf("COIL-20 %d x %v", ds.N, ds.Shape)
	}
	cc := ds.ClassCounts()
	if len(cc) != 20 || cc[0].Label != 0 || cc[19].Label != 19 {
		t.Fatalf("classes %+v", cc)
	}
	for _, c := range cc {
		if c.Count != 72 {
			t.Errorf("class %d has %d images", c.Label, c.Count)
		}
	}
	// The generic loader reads the same numbers without the transpose.
	raw, err := data.Load(p)
	if err != nil || raw.N != 1440 || raw.Dim() != 1024 || raw.Y[0] != 1 {
		t.Fatalf("generic load: %v", err)
	}
	for _, k := range []int{0, 5, 31 * 32} {
		row, col := k/32, k%32
		if ds.X[k] != raw.X[col*32+row] {
			t.Errorf("pixel (%d,%d) not the transpose of the stored column-major value", row, col)
		}
	}
	t.Logf("COIL-20 object 1 (a toy duck), first view:\n%s", art(ds.Row(0), 32))
}

func TestSeedCorpus(t *testing.T) {
	if !*genCorpus {
		t.Skip("run with -gencorpus to rewrite testdata/fuzz")
	}
	seeds := fuzzcorpus.Truncations("le", tinyMat(binary.LittleEndian))
	seeds["le"] = tinyMat(binary.LittleEndian)
	seeds["be"] = tinyMat(binary.BigEndian)
	for _, cut := range []int{140, 180, 240, 300, 360} {
		seeds[fmt.Sprintf("le-at%d", cut)] = tinyMat(binary.LittleEndian)[:cut]
	}
	if err := fuzzcorpus.Write(".", "FuzzRead", seeds); err != nil {
		t.Fatal(err)
	}
}

// FuzzRead checks only that Read never panics or hangs and that the numeric
// variables it accepts are consistent.
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		vars, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		for _, v := range vars {
			if v.Numeric() {
				if err := v.Array.Check(); err != nil {
					t.Fatal(err)
				}
				if len(v.Dims) > 0 {
					if rows, cols, x := v.Rows(); len(x) != rows*cols {
						t.Fatalf("%d values for %dx%d", len(x), rows, cols)
					}
				}
			}
		}
		if ds, err := dataset("fuzz", vars, data.Options{}); err == nil && len(ds.X) != ds.N*ds.Dim() {
			t.Fatalf("%d values for %d x %v", len(ds.X), ds.N, ds.Shape)
		}
	})
}
