package imagefolder

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/internal/fuzzcorpus"
	"github.com/oddity-ml/oddity/internal/shared"
)

var genCorpus = flag.Bool("gencorpus", false, "rewrite testdata/fuzz seed corpora")

// solid returns a w×h PNG whose pixel (x,y) is (base+x, base+10y, base+100)
// so every value is known.
func pngImage(t testing.TB, w, h int, base uint8) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, color.NRGBA{base + uint8(x), base + uint8(10*y), base + 100, 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegImage(t testing.TB, w, h int) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 128
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type entry struct {
	name string
	body []byte
}

// layout: top/{train,test}/{cat,dog}/..., plus junk that must be skipped.
func layout(t testing.TB) []entry {
	return []entry{
		{"top/train/dog/b.png", pngImage(t, 3, 2, 20)},
		{"top/train/cat/a.png", pngImage(t, 3, 2, 0)},
		{"top/train/cat/c.jpg", jpegImage(t, 3, 2)},
		{"top/test/dog/x.png", pngImage(t, 3, 2, 40)},
		{"top/test/bird/y.png", pngImage(t, 3, 2, 60)},
		{"top/train/cat/._a.png", []byte("AppleDouble junk")},
		{"top/train/cat/notes.txt", []byte("not an image")},
		{"top/train/.hidden/d.png", pngImage(t, 9, 9, 0)},
	}
}

func tarGz(t testing.TB, es []entry, compress bool) []byte {
	var buf bytes.Buffer
	var w *tar.Writer
	var zw *gzip.Writer
	if compress {
		zw = gzip.NewWriter(&buf)
		w = tar.NewWriter(zw)
	} else {
		w = tar.NewWriter(&buf)
	}
	for _, e := range es {
		if err := w.WriteHeader(&tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg, Format: tar.FormatUSTAR}); err != nil {
			t.Fatal(err)
		}
		w.Write(e.body)
	}
	w.Close()
	if zw != nil {
		zw.Close()
	}
	return buf.Bytes()
}

func writeDir(t *testing.T, es []entry) string {
	root := t.TempDir()
	for _, e := range es {
		p := filepath.Join(root, filepath.FromSlash(e.name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, e.body, 0o644)
	}
	return filepath.Join(root, "top")
}

func checkSplits(t *testing.T, what string, m map[string]*data.Dataset) {
	t.Helper()
	train, test := m["train"], m["test"]
	if len(m) != 2 || train == nil || test == nil {
		t.Fatalf("%s: splits %v", what, splitNames(m))
	}
	// Classes over the whole folder, sorted: bird, cat, dog.
	if strings.Join(train.ClassNames, ",") != "bird,cat,dog" || strings.Join(test.ClassNames, ",") != "bird,cat,dog" {
		t.Errorf("%s: classes %v / %v", what, train.ClassNames, test.ClassNames)
	}
	if train.N != 3 || test.N != 2 || train.Shape[0] != 3 || train.Shape[1] != 2 || train.Shape[2] != 3 {
		t.Fatalf("%s: %d/%d of %v", what, train.N, test.N, train.Shape)
	}
	// Order: class, then file name: cat/a.png, cat/c.jpg, dog/b.png.
	if train.Y[0] != 1 || train.Y[1] != 1 || train.Y[2] != 2 || test.Y[0] != 0 || test.Y[1] != 2 {
		t.Errorf("%s: labels %v %v", what, train.Y, test.Y)
	}
	// PNG pixels are exact: image 0 (base 0): R(x,y)=x, G=10y, B=100.
	img := train.Row(0)
	for y := 0; y < 2; y++ {
		for x := 0; x < 3; x++ {
			r, g, b := img[y*3+x], img[6+y*3+x], img[12+y*3+x]
			if r != float32(x)/255 || g != float32(10*y)/255 || b != 100.0/255 {
				t.Fatalf("%s: pixel (%d,%d) = %v %v %v", what, x, y, r, g, b)
			}
		}
	}
	// The grey JPEG decodes to (nearly) 128 in every channel.
	for _, v := range train.Row(1) {
		if v < 126.0/255 || v > 130.0/255 {
			t.Fatalf("%s: JPEG grey value %v", what, v*255)
		}
	}
	if img := train.Row(2); img[0] != 20.0/255 {
		t.Errorf("%s: dog image R(0,0) = %v", what, img[0]*255)
	}
}

func TestDirTarAndTarGzAgree(t *testing.T) {
	es := layout(t)
	m, err := LoadSplits(writeDir(t, es), data.Options{Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkSplits(t, "dir", m)
	for _, compress := range []bool{false, true} {
		m, err := ReadTar(bytes.NewReader(tarGz(t, es, compress)), "x", data.Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkSplits(t, "tar", m)
	}
}

func TestSplitGreyResize(t *testing.T) {
	b := tarGz(t, layout(t), true)
	p := filepath.Join(t.TempDir(), "x.tar.gz")
	os.WriteFile(p, b, 0o644)
	if _, err := data.Load(p); !errors.Is(err, data.ErrNoData) || !strings.Contains(err.Error(), "Split") {
		t.Errorf("two splits without Split: %v", err)
	}
	ds, err := data.Load(p, data.WithSplit("test"), data.WithGrey(true))
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 2 || ds.Shape[0] != 1 || len(ds.ClassNames) != 3 || ds.Y[0] != 0 {
		t.Fatalf("test split grey: %d x %v %v", ds.N, ds.Shape, ds.Y)
	}
	// Grey is ITU-R 601 luma: pixel (0,0) of the bird image (base 60) is
	// RGB (60, 60, 160).
	want := float32((299*60+587*60+114*160+500)/1000) / 255
	if ds.X[0] != want {
		t.Errorf("grey pixel %v, want %v", ds.X[0]*255, want*255)
	}
	// Nearest-neighbour doubling repeats every pixel in a 2x2 block.
	big, err := data.Load(p, data.WithSplit("test"), data.WithResize(6, 4, data.Nearest))
	if err != nil {
		t.Fatal(err)
	}
	small, _ := data.Load(p, data.WithSplit("test"))
	if big.Shape[1] != 4 || big.Shape[2] != 6 {
		t.Fatalf("resized shape %v", big.Shape)
	}
	for c := 0; c < 3; c++ {
		for y := 0; y < 4; y++ {
			for x := 0; x < 6; x++ {
				if big.X[c*24+y*6+x] != small.X[c*6+(y/2)*3+x/2] {
					t.Fatalf("nearest resize: channel %d (%d,%d)", c, x, y)
				}
			}
		}
	}
	bil, err := data.Load(p, data.WithSplit("test"), data.WithResize(6, 4, data.Bilinear))
	if err != nil || bil.Shape[2] != 6 {
		t.Fatalf("bilinear: %v", err)
	}
	// Bilinear values stay within the source range of each channel.
	if bil.X[0] < small.X[0]-1e-6 || bil.X[5] > small.X[2]+1e-6 {
		t.Errorf("bilinear row 0: %v vs source %v", bil.X[:6], small.X[:3])
	}
}

func TestRejectsBadInput(t *testing.T) {
	es := layout(t)
	good := tarGz(t, es, true)
	mixed := append(append([]entry(nil), es...), entry{"top/train/cat/z.png", pngImage(t, 4, 4, 0)})
	broken := append(append([]entry(nil), es...), entry{"top/train/cat/z.png", []byte("\x89PNG\r\n\x1a\nbroken")})
	cases := map[string][]byte{
		"cut gzip":    good[:len(good)/2],
		"cut early":   good[:40],
		"mixed sizes": tarGz(t, mixed, true),
		"broken png":  tarGz(t, broken, false),
		"no images":   tarGz(t, []entry{{"a/b.txt", []byte("x")}}, true),
		"not a tar":   []byte(strings.Repeat("garbage ", 100)),
	}
	for name, b := range cases {
		_, err := ReadTar(bytes.NewReader(b), name, data.Options{})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := ReadTar(bytes.NewReader(cases["mixed sizes"]), "m", data.Options{}); err == nil || !strings.Contains(err.Error(), "z.png") {
		t.Errorf("size mismatch error does not name the file: %v", err)
	}
	// With a resize the mixed sizes are fine.
	if _, err := ReadTar(bytes.NewReader(cases["mixed sizes"]), "m", data.Options{Width: 5, Height: 5}); err != nil {
		t.Errorf("mixed sizes with resize: %v", err)
	}
}

func TestCIFAR10(t *testing.T) {
	p := shared.Path(t, "cifar10/cifar10-jpeg.tar.gz")
	if testing.Short() {
		// Decoding all 60,000 images takes several seconds; the test split
		// alone checks the layout in about one.
		test, err := Load(p, data.Options{Split: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if test.N != 10000 || len(test.ClassNames) != 10 || test.Dim() != 3072 {
			t.Errorf("test split: %d x %v, %d classes", test.N, test.Shape, len(test.ClassNames))
		}
		return
	}
	start := time.Now()
	train, test, err := LoadCIFAR10(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("LoadCIFAR10 took %v", time.Since(start))
	want := []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
	if strings.Join(train.ClassNames, ",") != strings.Join(want, ",") {
		t.Errorf("classes %v", train.ClassNames)
	}
	for _, c := range []struct {
		ds     *data.Dataset
		n, per int
	}{{train, 50000, 5000}, {test, 10000, 1000}} {
		if c.ds.N != c.n || c.ds.Shape[0] != 3 || c.ds.Shape[1] != 32 || c.ds.Shape[2] != 32 {
			t.Errorf("%s: %d x %v", c.ds.Name, c.ds.N, c.ds.Shape)
		}
		for _, k := range c.ds.ClassCounts() {
			if k.Count != c.per {
				t.Errorf("%s: class %s has %d", c.ds.Name, k.Name, k.Count)
			}
		}
	}
}

func TestSeedCorpus(t *testing.T) {
	if !*genCorpus {
		t.Skip("run with -gencorpus to rewrite testdata/fuzz")
	}
	small := []entry{{"s/c/a.png", pngImage(t, 2, 2, 0)}, {"s/d/b.png", pngImage(t, 2, 2, 9)}}
	seeds := fuzzcorpus.Truncations("targz", tarGz(t, small, true))
	seeds["targz"] = tarGz(t, small, true)
	seeds["tar"] = tarGz(t, small, false)
	if err := fuzzcorpus.Write(".", "FuzzReadTar", seeds); err != nil {
		t.Fatal(err)
	}
}

// FuzzReadTar checks only that ReadTar never panics or hangs and that the
// data sets it accepts are valid.
func FuzzReadTar(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ReadTar(bytes.NewReader(b), "fuzz", data.Options{Workers: 1})
		if err != nil {
			return
		}
		for _, ds := range m {
			if err := ds.Validate(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// BenchmarkLoadCIFAR10 measures the one-pass read of all 60,000 JPEGs.
func BenchmarkLoadCIFAR10(b *testing.B) {
	p := shared.Path(b, "cifar10/cifar10-jpeg.tar.gz")
	for b.Loop() {
		if _, _, err := LoadCIFAR10(p); err != nil {
			b.Fatal(err)
		}
	}
}
