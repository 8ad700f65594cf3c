package idx

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/internal/fuzzcorpus"
	"github.com/oddity-ml/oddity/data/limit"
	"github.com/oddity-ml/oddity/internal/shared"
)

var genCorpus = flag.Bool("gencorpus", false, "rewrite testdata/fuzz seed corpora")

// idxBytes builds an IDX file from the format description: 0, 0, type,
// rank, big-endian uint32 dimensions, then the payload.
func idxBytes(typ byte, dims []uint32, payload []byte) []byte {
	b := []byte{0, 0, typ, byte(len(dims))}
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, payload...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// tinyImages: 2 images of 2x3 with pixels 0..255 known.
var tinyPixels = []byte{0, 51, 102, 153, 204, 255, 255, 0, 0, 0, 0, 255}

func tinyImages() []byte { return idxBytes(0x08, []uint32{2, 2, 3}, tinyPixels) }
func tinyLabels() []byte { return idxBytes(0x08, []uint32{2}, []byte{7, 3}) }

func TestReadPlainAndGzip(t *testing.T) {
	for name, b := range map[string][]byte{"plain": tinyImages(), "gzip": gz(tinyImages())} {
		a, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(a.Shape) != 3 || a.Shape[0] != 2 || a.Shape[1] != 2 || a.Shape[2] != 3 || !bytes.Equal(a.Raw, tinyPixels) {
			t.Errorf("%s: shape %v raw %v", name, a.Shape, a.Raw)
		}
	}
}

func TestOtherTypesBigEndian(t *testing.T) {
	var p []byte
	p = binary.BigEndian.AppendUint16(p, uint16(0xFFFE)) // int16 -2
	p = binary.BigEndian.AppendUint16(p, 300)
	a, err := Read(bytes.NewReader(idxBytes(0x0B, []uint32{2}, p)))
	if err != nil {
		t.Fatal(err)
	}
	if x := a.Float32(); x[0] != -2 || x[1] != 300 {
		t.Errorf("int16 values %v", x)
	}
	var f []byte
	f = binary.BigEndian.AppendUint64(f, 0x3FF8000000000000) // 1.5
	a, err = Read(bytes.NewReader(idxBytes(0x0E, []uint32{1, 1}, f)))
	if err != nil || a.Float32()[0] != 1.5 {
		t.Errorf("float64: %v %v", err, a)
	}
}

func TestLoadAttachesLabelsAndScales(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x-images-idx3-ubyte.gz"), gz(tinyImages()), 0o644)
	os.WriteFile(filepath.Join(dir, "x-labels-idx1-ubyte"), tinyLabels(), 0o644)
	// The labels file is plain while the images are gzip: attach only a
	// same-named sibling, so write the .gz name too.
	os.WriteFile(filepath.Join(dir, "x-labels-idx1-ubyte.gz"), gz(tinyLabels()), 0o644)
	ds, err := data.Load(filepath.Join(dir, "x-images-idx3-ubyte.gz"))
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 2 || len(ds.Shape) != 3 || ds.Shape[0] != 1 || ds.Shape[1] != 2 || ds.Shape[2] != 3 {
		t.Fatalf("shape %d x %v", ds.N, ds.Shape)
	}
	for i, v := range tinyPixels {
		if ds.X[i] != float32(v)/255 {
			t.Errorf("pixel %d = %v, want %v", i, ds.X[i], float32(v)/255)
		}
	}
	if ds.Y == nil || ds.Y[0] != 7 || ds.Y[1] != 3 {
		t.Errorf("labels %v", ds.Y)
	}
	nl, err := data.Load(filepath.Join(dir, "x-images-idx3-ubyte.gz"), func(o *data.Options) { o.NoLabels = true })
	if err != nil || nl.Y != nil {
		t.Errorf("NoLabels: %v %v", nl.Y, err)
	}
	// A label count that disagrees is an error naming the labels file.
	os.WriteFile(filepath.Join(dir, "x-labels-idx1-ubyte.gz"), gz(idxBytes(0x08, []uint32{3}, []byte{1, 2, 3})), 0o644)
	if _, err := data.Load(filepath.Join(dir, "x-images-idx3-ubyte.gz")); err == nil || !strings.Contains(err.Error(), "labels-idx1") {
		t.Errorf("mismatched labels: %v", err)
	}
}

func TestRejectsBadInput(t *testing.T) {
	good := tinyImages()
	cases := map[string]struct {
		b    []byte
		want error
	}{
		"empty":          {nil, data.ErrTruncated},
		"short header":   {good[:3], data.ErrTruncated},
		"short dims":     {good[:9], data.ErrTruncated},
		"short data":     {good[:len(good)-1], data.ErrTruncated},
		"bad magic":      {append([]byte{1}, good[1:]...), data.ErrMalformed},
		"bad type":       {idxBytes(0x0A, []uint32{1}, []byte{0}), data.ErrMalformed},
		"rank 0":         {[]byte{0, 0, 8, 0}, data.ErrMalformed},
		"huge claim":     {idxBytes(0x0E, []uint32{1 << 20, 1 << 15, 4}, []byte{1, 2, 3}), limit.ErrExceeded},
		"overflow claim": {idxBytes(0x08, []uint32{1 << 31, 1 << 31, 1 << 31}, nil), data.ErrMalformed},
		"gzip truncated": {gz(good)[:20], nil},
		"not gzip body":  {[]byte{0x1f, 0x8b, 0, 0}, data.ErrMalformed},
	}
	for name, c := range cases {
		_, err := Read(bytes.NewReader(c.b))
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: error %v does not wrap %v", name, err, c.want)
		}
	}
	p := filepath.Join(t.TempDir(), "bad-images-idx3-ubyte")
	os.WriteFile(p, good[:10], 0o644)
	if _, err := Load(p, data.Options{}); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("error does not name the file: %v", err)
	}
}

func TestHugeClaimAllocatesLittle(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	Read(bytes.NewReader(idxBytes(0x0E, []uint32{1 << 20, 1 << 15, 4}, make([]byte, 1000))))
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 32<<20 {
		t.Errorf("a header claiming 2^40 bytes made the reader allocate %d bytes", d)
	}
}

func TestMNIST(t *testing.T) {
	dir := filepath.Dir(shared.Path(t, "mnist/train-images-idx3-ubyte.gz"))
	start := time.Now()
	train, test, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("LoadMNIST took %v", time.Since(start))
	for _, c := range []struct {
		ds *data.Dataset
		n  int
		y0 int // the first label of each split is well known: 5 and 7
	}{{train, 60000, 5}, {test, 10000, 7}} {
		if c.ds.N != c.n || c.ds.Dim() != 784 || c.ds.Shape[0] != 1 {
			t.Errorf("%s: %d x %v", c.ds.Name, c.ds.N, c.ds.Shape)
		}
		if c.ds.Y[0] != c.y0 {
			t.Errorf("%s: first label %d, want %d", c.ds.Name, c.ds.Y[0], c.y0)
		}
		total := 0
		cc := c.ds.ClassCounts()
		for _, k := range cc {
			total += k.Count
		}
		if len(cc) != 10 || total != c.n {
			t.Errorf("%s: %d classes summing to %d", c.ds.Name, len(cc), total)
		}
		lo, hi := c.ds.X[0], c.ds.X[0]
		for _, v := range c.ds.X {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("%s: range [%v,%v]", c.ds.Name, lo, hi)
		}
	}
	// Published class counts of the MNIST training set.
	want := []int{5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949}
	for i, k := range train.ClassCounts() {
		if k.Count != want[i] {
			t.Errorf("train class %d: %d, want %d", i, k.Count, want[i])
		}
	}
	// Orientation: the mean "1" is a vertical stroke, so its mass spreads
	// over rows more than over columns.
	if r, c := spread(train, 1, 28); r <= c {
		t.Errorf("mean digit 1 spreads over %v rows and %v columns: not upright", r, c)
	}
}

// spread returns how many rows and columns carry above-average mass in the
// mean image of class k.
func spread(ds *data.Dataset, k, side int) (rows, cols float64) {
	mean := make([]float64, side*side)
	for i := 0; i < ds.N; i++ {
		if ds.Y[i] == k {
			for j, v := range ds.Row(i) {
				mean[j] += float64(v)
			}
		}
	}
	rs, cs := make([]float64, side), make([]float64, side)
	tot := 0.0
	for j, v := range mean {
		rs[j/side] += v
		cs[j%side] += v
		tot += v
	}
	for i := 0; i < side; i++ {
		if rs[i] > tot/float64(side) {
			rows++
		}
		if cs[i] > tot/float64(side) {
			cols++
		}
	}
	return rows, cols
}

func TestSeedCorpus(t *testing.T) {
	if !*genCorpus {
		t.Skip("run with -gencorpus to rewrite testdata/fuzz")
	}
	seeds := map[string][]byte{
		"images": tinyImages(), "labels": tinyLabels(), "images-gz": gz(tinyImages()),
		"float64": idxBytes(0x0E, []uint32{1, 1}, make([]byte, 8)),
		"huge":    idxBytes(0x08, []uint32{1 << 30, 1 << 30}, []byte{1}),
	}
	for k, v := range fuzzcorpus.Truncations("images", tinyImages()) {
		seeds[k] = v
	}
	for k, v := range fuzzcorpus.Truncations("images-gz", gz(tinyImages())) {
		seeds[k] = v
	}
	if err := fuzzcorpus.Write(".", "FuzzRead", seeds); err != nil {
		t.Fatal(err)
	}
}

// FuzzRead checks only that Read never panics or hangs and that what it
// accepts forms a valid data set.
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		if err := a.Check(); err != nil {
			t.Fatalf("accepted an inconsistent array: %v", err)
		}
		ds, err := ToDataset(a, "fuzz")
		if err != nil {
			return
		}
		if len(ds.X) != ds.N*ds.Dim() {
			t.Fatalf("%d values for %d x %v", len(ds.X), ds.N, ds.Shape)
		}
	})
}

// BenchmarkLoadMNIST measures reading the four gzip-compressed MNIST files.
func BenchmarkLoadMNIST(b *testing.B) {
	dir := filepath.Dir(shared.Path(b, "mnist/train-images-idx3-ubyte.gz"))
	for b.Loop() {
		if _, _, err := LoadMNIST(dir); err != nil {
			b.Fatal(err)
		}
	}
}
