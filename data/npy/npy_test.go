package npy

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/internal/fuzzcorpus"
	"github.com/oddity-ml/oddity/internal/shared"
)

var genCorpus = flag.Bool("gencorpus", false, "rewrite testdata/fuzz seed corpora")

// npyBytes builds an NPY file as the format document describes: magic,
// version, little-endian header length, the dict padded with spaces and a
// newline to a multiple of 64 bytes, then the data.
func npyBytes(major byte, dict string, payload []byte) []byte {
	pre := 10
	if major > 1 {
		pre = 12
	}
	total := pre + len(dict) + 1
	pad := (64 - total%64) % 64
	hdr := dict + strings.Repeat(" ", pad) + "\n"
	b := []byte(Magic)
	b = append(b, major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(hdr)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(hdr)))
	}
	return append(append(b, hdr...), payload...)
}

func dict(descr string, fortran bool, shape string) string {
	f := "False"
	if fortran {
		f = "True"
	}
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, shape)
}

func f64le(v ...float64) []byte {
	var b []byte
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

// The matrix [[1,2,3],[4,5,6]] in C order and Fortran order.
func matrixC() []byte { return npyBytes(1, dict("<f8", false, "(2, 3)"), f64le(1, 2, 3, 4, 5, 6)) }
func matrixF() []byte { return npyBytes(1, dict("<f8", true, "(2, 3)"), f64le(1, 4, 2, 5, 3, 6)) }
func labels() []byte {
	var p []byte
	p = binary.LittleEndian.AppendUint64(p, 0)
	p = binary.LittleEndian.AppendUint64(p, 1)
	return npyBytes(1, dict("<i8", false, "(2,)"), p)
}

func read(t *testing.T, b []byte) []float32 {
	t.Helper()
	a, _, err := Read(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return a.Float32()
}

func TestOrdersAndVersions(t *testing.T) {
	want := []float32{1, 2, 3, 4, 5, 6}
	for name, b := range map[string][]byte{
		"C v1":       matrixC(),
		"F v1":       matrixF(),
		"C v2":       npyBytes(2, dict("<f8", false, "(2, 3)"), f64le(1, 2, 3, 4, 5, 6)),
		"F v3":       npyBytes(3, dict("<f8", true, "(2,3)"), f64le(1, 4, 2, 5, 3, 6)),
		"py2 longs":  npyBytes(1, `{"descr": "<f8", "fortran_order": False, "shape": (2L, 3L)}`, f64le(1, 2, 3, 4, 5, 6)),
		"key order":  npyBytes(1, "{'shape': (2, 3), 'fortran_order': False, 'descr': '<f8'}", f64le(1, 2, 3, 4, 5, 6)),
		"big-endian": npyBytes(1, dict(">f4", false, "(2, 3)"), be32(1, 2, 3, 4, 5, 6)),
	} {
		got := read(t, b)
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: got %v", name, got)
				break
			}
		}
	}
	// 3-D Fortran: element (i,j,k) of shape (2,3,2) is stored at i+2j+6k.
	var p []byte
	vals := make([]float64, 12)
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 2; k++ {
				vals[i+2*j+6*k] = float64(100*i + 10*j + k)
			}
		}
	}
	p = f64le(vals...)
	got := read(t, npyBytes(1, dict("<f8", true, "(2, 3, 2)"), p))
	for i := 0; i < 2; i++ {
		for j := 0; j < 3; j++ {
			for k := 0; k < 2; k++ {
				if got[i*6+j*2+k] != float32(100*i+10*j+k) {
					t.Fatalf("3-D Fortran: got %v", got)
				}
			}
		}
	}
}

func be32(v ...float32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

func TestDtypes(t *testing.T) {
	cases := []struct {
		descr   string
		payload []byte
		want    []float32
	}{
		{"|b1", []byte{1, 0}, []float32{1, 0}},
		{"|u1", []byte{200, 7}, []float32{200, 7}},
		{"|i1", []byte{0xFF, 7}, []float32{-1, 7}},
		{"<i2", []byte{0xFE, 0xFF, 0x2C, 0x01}, []float32{-2, 300}},
		{">i2", []byte{0xFF, 0xFE, 0x01, 0x2C}, []float32{-2, 300}},
		{"<u2", []byte{0xFE, 0xFF, 0x2C, 0x01}, []float32{65534, 300}},
		{"<i4", binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 0xFFFFFFFF), 70000), []float32{-1, 70000}},
		{">u4", binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint32(nil, 5), 70000), []float32{5, 70000}},
		{"<i8", binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, math.MaxUint64), 9), []float32{-1, 9}},
		{">u8", binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, 1<<40), 9), []float32{1 << 40, 9}},
		{"<f4", binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, math.Float32bits(-0.5)), math.Float32bits(3)), []float32{-0.5, 3}},
		{">f8", binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(nil, math.Float64bits(2.5)), math.Float64bits(-1)), []float32{2.5, -1}},
	}
	for _, c := range cases {
		got := read(t, npyBytes(1, dict(c.descr, false, "(2,)"), c.payload))
		if got[0] != c.want[0] || got[1] != c.want[1] {
			t.Errorf("%s: got %v, want %v", c.descr, got, c.want)
		}
	}
	for _, d := range []string{"<f2", "<c16", "<U5", "|O", "|V8", "<m8"} {
		_, _, err := Read(bytes.NewReader(npyBytes(1, dict(d, false, "(1,)"), make([]byte, 16))), 0)
		if !errors.Is(err, data.ErrUnsupported) {
			t.Errorf("%s: %v", d, err)
		}
	}
	_, _, err := Read(bytes.NewReader(npyBytes(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,)}", make([]byte, 8))), 0)
	if !errors.Is(err, data.ErrUnsupported) {
		t.Errorf("structured dtype: %v", err)
	}
}

func TestRejectsBadInput(t *testing.T) {
	good := matrixC()
	cases := map[string][]byte{
		"truncated data":    good[:len(good)-1],
		"truncated header":  good[:30],
		"truncated magic":   good[:4],
		"bad magic":         append([]byte("\x93NUMPZ"), good[6:]...),
		"version 4":         append(append([]byte(Magic), 4, 0), good[8:]...),
		"no shape":          npyBytes(1, "{'descr': '<f8', 'fortran_order': False}", f64le(1)),
		"bad shape":         npyBytes(1, dict("<f8", false, "(2, -3)"), f64le(1)),
		"unterminated":      npyBytes(1, "{'descr': '<f8", nil),
		"not a dict":        npyBytes(1, "[1, 2]", nil),
		"unknown key":       npyBytes(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 1}", f64le(1)),
		"bad bool":          npyBytes(1, "{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1,)}", f64le(1)),
		"huge header claim": append(append([]byte(Magic), 2, 0), 0xFF, 0xFF, 0xFF, 0x7F),
		"huge shape claim":  npyBytes(1, dict("<f8", false, "(1000000, 1000000)"), f64le(1)),
		"overflow shape":    npyBytes(1, dict("<f8", false, "(999999999999, 999999999999)"), f64le(1)),
	}
	for name, b := range cases {
		if _, _, err := Read(bytes.NewReader(b), int64(len(b))); err == nil {
			t.Errorf("%s: accepted", name)
		}
		// Without a size bound, the reader still fails on the short input.
		if _, _, err := Read(bytes.NewReader(b), 0); err == nil {
			t.Errorf("%s (unbounded): accepted", name)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	Read(bytes.NewReader(cases["huge shape claim"]), 0)
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 32<<20 {
		t.Errorf("an 8 TB claim made the reader allocate %d bytes", d)
	}
}

type member struct {
	name    string
	body    []byte
	deflate bool
}

func npzBytes(t testing.TB, ms ...member) []byte {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, m := range ms {
		h := &zip.FileHeader{Name: m.name, Method: zip.Store}
		if m.deflate {
			h.Method = zip.Deflate
		}
		f, err := w.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		f.Write(m.body)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func tinyNPZ(t testing.TB) []byte {
	return npzBytes(t, member{"X.npy", matrixF(), true}, member{"y.npy", labels(), false})
}

func TestNPZ(t *testing.T) {
	p := filepath.Join(t.TempDir(), "t.npz")
	os.WriteFile(p, tinyNPZ(t), 0o644)
	ds, err := data.Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 2 || ds.Dim() != 3 || ds.Y[0] != 0 || ds.Y[1] != 1 || ds.X[1] != 2 || ds.X[3] != 4 {
		t.Errorf("got %+v", ds)
	}
	if ds, err := data.Load(p, data.WithArrays("", "-")); err != nil || ds.Y != nil {
		t.Errorf("YName -: %v %v", ds, err)
	}
	if _, err := data.Load(p, data.WithArrays("Z", "")); !errors.Is(err, data.ErrNoData) || !strings.Contains(err.Error(), "X, y") {
		t.Errorf("missing member: %v", err)
	}
	// Labels that do not match the samples.
	bad := npzBytes(t, member{"X.npy", matrixC(), false}, member{"y.npy", npyBytes(1, dict("<i8", false, "(3,)"), make([]byte, 24)), false})
	os.WriteFile(p, bad, 0o644)
	if _, err := data.Load(p); !errors.Is(err, data.ErrMalformed) {
		t.Errorf("3 labels for 2 samples: %v", err)
	}
	// A corrupted byte in a stored member's data fails its CRC check.
	good := tinyNPZ(t)
	at := bytes.Index(good, labels())
	if at < 0 {
		t.Fatal("stored member not found in the archive")
	}
	c := append([]byte(nil), good...)
	c[at+len(labels())-1] ^= 1
	if _, err := ReadNPZ(bytes.NewReader(c), int64(len(c))); err == nil || !strings.Contains(err.Error(), "checksum") {
		t.Errorf("corrupted member: %v", err)
	}
	for _, cut := range []int{10, len(good) / 2, len(good) - 1} {
		if _, err := ReadNPZ(bytes.NewReader(good[:cut]), int64(cut)); err == nil {
			t.Errorf("npz cut at %d accepted", cut)
		}
	}
}

func TestADBench(t *testing.T) {
	dir := filepath.Dir(shared.Path(t, "adbench/2_annthyroid.npz"))
	files, _ := filepath.Glob(filepath.Join(dir, "*.npz"))
	if len(files) != 21 {
		t.Errorf("%d ADBench files, want 21", len(files))
	}
	for _, p := range files {
		ms, err := ReadNPZFile(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		x, y := pick(ms, "X", nil), pick(ms, "y", nil)
		if x == nil || y == nil || len(x.Shape) != 2 || len(y.Shape) != 1 || x.Shape[0] != y.Shape[0] {
			t.Errorf("%s: X %v, y %v", p, x.Shape, y.Shape)
			continue
		}
		ds, err := data.Load(p)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		if ds.N != x.Shape[0] || ds.Dim() != x.Shape[1] {
			t.Errorf("%s: %d x %v", p, ds.N, ds.Shape)
		}
		anomalies := 0
		for _, v := range ds.Y {
			if v != 0 && v != 1 {
				t.Errorf("%s: label %d", p, v)
				break
			}
			anomalies += v
		}
		if anomalies == 0 || anomalies >= ds.N/2 {
			t.Errorf("%s: %d anomalies of %d", p, anomalies, ds.N)
		}
	}
	// Spot check of the Fortran reordering against known content: the
	// first row of 10_cover is a Covertype row (elevation 2804, aspect 139,
	// slope 9, ...), which only the right ordering yields.
	ds, err := data.Load(filepath.Join(dir, "10_cover.npz"))
	if err != nil {
		t.Fatal(err)
	}
	if r := ds.Row(0); r[0] != 2804 || r[1] != 139 || r[2] != 9 {
		t.Errorf("10_cover row 0 = %v", r)
	}
}

func TestSeedCorpus(t *testing.T) {
	if !*genCorpus {
		t.Skip("run with -gencorpus to rewrite testdata/fuzz")
	}
	npySeeds := map[string][]byte{
		"c": matrixC(), "f": matrixF(), "labels": labels(),
		"v2": npyBytes(2, dict(">i2", true, "(2, 1)"), []byte{0, 1, 0, 2}),
		"v3": npyBytes(3, dict("|b1", false, "()"), []byte{1}),
	}
	for k, v := range fuzzcorpus.Truncations("f", matrixF()) {
		npySeeds[k] = v
	}
	if err := fuzzcorpus.Write(".", "FuzzReadNPY", npySeeds); err != nil {
		t.Fatal(err)
	}
	npzSeeds := fuzzcorpus.Truncations("npz", tinyNPZ(t))
	npzSeeds["npz"] = tinyNPZ(t)
	npzSeeds["stored"] = npzBytes(t, member{"X.npy", matrixC(), false})
	if err := fuzzcorpus.Write(".", "FuzzReadNPZ", npzSeeds); err != nil {
		t.Fatal(err)
	}
}

// FuzzReadNPY checks only that Read never panics or hangs and that an
// accepted array is consistent.
func FuzzReadNPY(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		a, _, err := Read(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		if err := a.Check(); err != nil {
			t.Fatal(err)
		}
		if ds, err := ToDataset("fuzz", a, nil); err == nil && len(ds.X) != ds.N*ds.Dim() {
			t.Fatalf("%d values for %d x %v", len(ds.X), ds.N, ds.Shape)
		}
	})
}

// FuzzReadNPZ checks only that ReadNPZ never panics or hangs and that what it
// accepts is consistent.
func FuzzReadNPZ(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := ReadNPZ(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return
		}
		for _, m := range ms {
			if err := m.Array.Check(); err != nil {
				t.Fatal(err)
			}
		}
		if ds, err := npzDataset("fuzz", ms, data.Options{}); err == nil && len(ds.X) != ds.N*ds.Dim() {
			t.Fatalf("%d values for %d x %v", len(ds.X), ds.N, ds.Shape)
		}
	})
}
