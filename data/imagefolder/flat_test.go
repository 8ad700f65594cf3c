package imagefolder

import (
	"archive/tar"
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
)

// put writes body to root/rel, creating folders.
func put(t *testing.T, root, rel string, body []byte) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, body, 0o644); err != nil {
		t.Fatal(err)
	}
}

func encPNG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func encJPEG(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// rgb returns a w×h image whose pixel (x,y) is f(x,y).
func rgb(w, h int, f func(x, y int) color.RGBA) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetRGBA(x, y, f(x, y))
		}
	}
	return img
}

func grey(w, h int, f func(x, y int) uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetGray(x, y, color.Gray{f(x, y)})
		}
	}
	return img
}

// hugePNG is a PNG whose header claims w×h pixels and whose data is missing:
// DecodeConfig accepts it, decoding would fail (or allocate w×h).
func hugePNG(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	binary.Write(&b, binary.BigEndian, uint32(len(ihdr)))
	chunk := append([]byte("IHDR"), ihdr...)
	b.Write(chunk)
	binary.Write(&b, binary.BigEndian, crc32.ChecksumIEEE(chunk))
	return b.Bytes()
}

// plane returns channel c of sample i as rows of bytes (value×255, rounded).
func plane(ds *data.Dataset, i, c int) [][]int {
	s := ds.Shape[1]
	x := ds.Row(i)[c*s*s : (c+1)*s*s]
	rows := make([][]int, s)
	for y := range rows {
		rows[y] = make([]int, s)
		for k := range rows[y] {
			rows[y][k] = int(x[y*s+k]*255 + 0.5)
		}
	}
	return rows
}

func equalRows(a, b [][]int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func TestAutoSide(t *testing.T) {
	for _, c := range []struct {
		sides []int
		cap   int
		want  int
	}{
		{[]int{28}, 256, 32}, {[]int{32}, 256, 32}, {[]int{45}, 256, 32}, {[]int{46}, 256, 64},
		{[]int{90}, 256, 64}, {[]int{100}, 256, 128}, {[]int{900}, 256, 256}, {[]int{1024}, 256, 256},
		{[]int{1024}, 100, 100}, {[]int{3}, 256, 4}, {[]int{1}, 256, 1}, {[]int{5, 6, 100, 200}, 256, 8},
	} {
		srcs := make([]source, len(c.sides))
		for i, s := range c.sides {
			srcs[i].w, srcs[i].h = s, s/2+1
		}
		if got := autoSide(srcs, c.cap); got != c.want {
			t.Errorf("autoSide(%v, cap %d) = %d, want %d", c.sides, c.cap, got, c.want)
		}
	}
}

// TestFitHandComputed checks resize and pad against pixels worked out by
// hand. Bilinear sampling puts destination pixel d of n over a source of m
// pixels at s = (d+0.5)·m/n − 0.5, clamped to the edges; so [0, 200] going to
// four pixels samples at −0.25, 0.25, 0.75, 1.25: 0, 50, 150, 200.
func TestFitHandComputed(t *testing.T) {
	dir := t.TempDir()
	// wide.png: 2×1, R = [0, 200], G = 0, B = 100.
	put(t, dir, "wide.png", encPNG(t, rgb(2, 1, func(x, y int) color.RGBA {
		return color.RGBA{uint8(200 * x), 0, 100, 255}
	})))
	// tall.png: 2×4 grey, rows 0, 60, 120, 180, column 1 brighter by 20.
	put(t, dir, "tall.png", encPNG(t, grey(2, 4, func(x, y int) uint8 { return uint8(60*y + 20*x) })))
	ramp := []int{0, 50, 150, 200}
	zero := []int{0, 0, 0, 0}
	hundred := []int{100, 100, 100, 100}

	ds, names, err := LoadFlat(dir, FlatOptions{Side: 4})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "tall.png,wide.png" || ds.N != 2 || ds.Shape[0] != 3 || ds.Shape[1] != 4 || ds.Shape[2] != 4 {
		t.Fatalf("resize: %v %d %v", names, ds.N, ds.Shape)
	}
	if got := plane(ds, 1, 0); !equalRows(got, [][]int{ramp, ramp, ramp, ramp}) {
		t.Errorf("resize R %v", got)
	}
	if got := plane(ds, 1, 2); !equalRows(got, [][]int{hundred, hundred, hundred, hundred}) {
		t.Errorf("resize B %v", got)
	}
	// tall: columns sample 0, 0.25·20, 0.75·20, 20 → 0, 5, 15, 20; rows
	// 4 → 4 are copied. The grey image repeats in all three channels.
	for c := 0; c < 3; c++ {
		want := [][]int{{0, 5, 15, 20}, {60, 65, 75, 80}, {120, 125, 135, 140}, {180, 185, 195, 200}}
		if got := plane(ds, 0, c); !equalRows(got, want) {
			t.Errorf("resize tall channel %d: %v", c, got)
		}
	}

	ds, _, err = LoadFlat(dir, FlatOptions{Side: 4, Fit: FitPad})
	if err != nil {
		t.Fatal(err)
	}
	// wide: scaled ×2 to 4×2, centred at rows 1 and 2.
	if got := plane(ds, 1, 0); !equalRows(got, [][]int{zero, ramp, ramp, zero}) {
		t.Errorf("pad R %v", got)
	}
	if got := plane(ds, 1, 2); !equalRows(got, [][]int{zero, hundred, hundred, zero}) {
		t.Errorf("pad B %v", got)
	}
	// tall: already 4 high, so copied unchanged at columns 1 and 2.
	if got := plane(ds, 0, 0); !equalRows(got, [][]int{{0, 0, 20, 0}, {0, 60, 80, 0}, {0, 120, 140, 0}, {0, 180, 200, 0}}) {
		t.Errorf("pad tall %v", got)
	}

	// Nearest neighbour at side 4: source pixel ⌊(d+0.5)/2⌋ = 0, 0, 1, 1.
	ds, _, err = LoadFlat(dir, FlatOptions{Side: 4, Interp: data.Nearest})
	if err != nil {
		t.Fatal(err)
	}
	step := []int{0, 0, 200, 200}
	if got := plane(ds, 1, 0); !equalRows(got, [][]int{step, step, step, step}) {
		t.Errorf("nearest R %v", got)
	}

	// An odd margin: 3×1 padded to 4 is 4×1 at row ⌊3/2⌋ = 1.
	odd := t.TempDir()
	put(t, odd, "o.png", encPNG(t, grey(3, 1, func(x, y int) uint8 { return 90 })))
	ds, _, err = LoadFlat(odd, FlatOptions{Side: 4, Fit: FitPad})
	if err != nil {
		t.Fatal(err)
	}
	ninety := []int{90, 90, 90, 90}
	if ds.Shape[0] != 1 || !equalRows(plane(ds, 0, 0), [][]int{zero, ninety, zero, zero}) {
		t.Errorf("odd pad %v %v", ds.Shape, plane(ds, 0, 0))
	}
}

// mixedFolder holds images of mixed sizes, grey and colour, PNG and JPEG,
// with a text file, a hidden file and a sub-folder.
func mixedFolder(t *testing.T) string {
	dir := t.TempDir()
	put(t, dir, "a.png", encPNG(t, rgb(8, 6, func(x, y int) color.RGBA { return color.RGBA{200, 10, 10, 255} })))
	put(t, dir, "b.JPG", encJPEG(t, grey(16, 16, func(x, y int) uint8 { return 128 })))
	put(t, dir, "c.png", encPNG(t, grey(12, 4, func(x, y int) uint8 { return 77 })))
	put(t, dir, "d.jpeg", encJPEG(t, rgb(20, 20, func(x, y int) color.RGBA { return color.RGBA{20, 200, 20, 255} })))
	put(t, dir, "no-extension", encPNG(t, grey(10, 10, func(x, y int) uint8 { return 5 })))
	put(t, dir, "notes.txt", []byte("not an image"))
	put(t, dir, ".DS_Store", []byte("junk"))
	put(t, dir, "sub/x.png", encPNG(t, grey(3, 3, func(x, y int) uint8 { return 1 })))
	return dir
}

func TestLoadFlatMixed(t *testing.T) {
	dir := mixedFolder(t)
	var notes []string
	ds, names, err := LoadFlat(dir, FlatOptions{Workers: 2, Note: func(s string) { notes = append(notes, s) }})
	if err != nil {
		t.Fatal(err)
	}
	// Longer sides 8, 16, 12, 20, 10: median 12 → 16. Colour present → 3.
	if strings.Join(names, ",") != "a.png,b.JPG,c.png,d.jpeg,no-extension" || ds.N != 5 || ds.Shape[0] != 3 || ds.Shape[1] != 16 || ds.Shape[2] != 16 {
		t.Fatalf("%v: %d × %v", names, ds.N, ds.Shape)
	}
	if ds.Y != nil || ds.Name != filepath.Base(dir) {
		t.Errorf("labels %v, name %q", ds.Y, ds.Name)
	}
	if err := ds.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, v := range ds.X {
		if v < 0 || v > 1 {
			t.Fatalf("value %v outside [0,1]", v)
		}
	}
	all := strings.Join(notes, "\n")
	if !strings.Contains(all, "notes.txt") || !strings.Contains(all, "sub/") || strings.Contains(all, "DS_Store") {
		t.Errorf("notes %q", notes)
	}
	// The red PNG: R 200, G 10 everywhere (resize of a constant image).
	if r := plane(ds, 0, 0); r[0][0] != 200 || r[15][15] != 200 || plane(ds, 0, 1)[7][7] != 10 {
		t.Errorf("red image: %v", r[0])
	}
	// The grey JPEG repeats its value in R, G and B.
	for c := 0; c < 3; c++ {
		if v := plane(ds, 1, c)[3][3]; v < 126 || v > 130 {
			t.Errorf("grey JPEG channel %d: %d", c, v)
		}
	}

	// One channel on request: colour becomes luma, grey stays.
	ds, _, err = LoadFlat(dir, FlatOptions{Channels: 1, Side: 8, Fit: FitPad})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Shape[0] != 1 || ds.Shape[1] != 8 {
		t.Fatalf("grey shape %v", ds.Shape)
	}
	if got, want := plane(ds, 0, 0)[4][4], int(luma(200, 10, 10)); got != want {
		t.Errorf("luma %d, want %d", got, want)
	}
	// c.png (12×4) padded into 8: 8×3 at row 2 (round(4·8/12) = 3, ⌊5/2⌋).
	if p := plane(ds, 2, 0); p[1][0] != 0 || p[2][0] != 77 || p[4][7] != 77 || p[5][0] != 0 {
		t.Errorf("padded c.png %v", p)
	}

	// Only grey images: one channel chosen.
	g := t.TempDir()
	put(t, g, "1.png", encPNG(t, grey(5, 5, func(x, y int) uint8 { return uint8(x * 40) })))
	put(t, g, "2.jpg", encJPEG(t, grey(7, 3, func(x, y int) uint8 { return 9 })))
	// An RGB PNG whose pixels are grey counts as grey.
	put(t, g, "3.png", encPNG(t, rgb(4, 4, func(x, y int) color.RGBA { return color.RGBA{50, 50, 50, 255} })))
	ds, _, err = LoadFlat(g, FlatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ds.Shape[0] != 1 || ds.Shape[1] != 4 || ds.N != 3 {
		t.Errorf("grey folder: %d × %v", ds.N, ds.Shape)
	}
	if v := plane(ds, 2, 0)[1][1]; v != 50 {
		t.Errorf("grey RGB PNG %d", v)
	}
}

func TestLoadFlatSingleFileAndRegistry(t *testing.T) {
	dir := mixedFolder(t)
	file := filepath.Join(dir, "d.jpeg")
	ds, names, err := LoadFlat(file, FlatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// 20 → 16; a colour JPEG.
	if ds.N != 1 || len(names) != 1 || names[0] != "d.jpeg" || ds.Name != "d" || ds.Shape[0] != 3 || ds.Shape[1] != 16 {
		t.Fatalf("%v %q %d × %v", names, ds.Name, ds.N, ds.Shape)
	}
	// data.Load: a folder and a single image, Grey and Width = Height mapped.
	// (With sub/x.png the folder is ambiguous and stays a class folder.)
	if err := os.RemoveAll(filepath.Join(dir, "sub")); err != nil {
		t.Fatal(err)
	}
	ds, err = data.Load(dir, data.WithGrey(true), data.WithResize(6, 6, data.Bilinear))
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 5 || ds.Shape[0] != 1 || ds.Shape[1] != 6 || ds.Shape[2] != 6 {
		t.Errorf("data.Load flat: %d × %v", ds.N, ds.Shape)
	}
	ds, err = data.Load(file)
	if err != nil || ds.N != 1 || ds.Shape[0] != 3 {
		t.Fatalf("data.Load image: %v %v", ds, err)
	}
	if _, err := data.Load(dir, data.WithResize(6, 4, data.Bilinear)); !errors.Is(err, data.ErrUnsupported) {
		t.Errorf("rectangle for a flat folder: %v", err)
	}
	info, err := data.Inspect(dir)
	if err != nil || info.Dataset == nil || info.Dataset.N != 5 || len(info.Notes) < 2 {
		t.Errorf("inspect: %+v %v", info, err)
	}
}

func TestLoadFlatErrors(t *testing.T) {
	mk := func(files map[string][]byte) string {
		dir := t.TempDir()
		for k, v := range files {
			put(t, dir, k, v)
		}
		return dir
	}
	ok := encPNG(t, grey(4, 4, func(x, y int) uint8 { return 1 }))
	corrupt := mk(map[string][]byte{"a.png": ok, "bad.png": []byte("\x89PNG\r\n\x1a\nbroken"), "z.png": ok})
	if _, _, err := LoadFlat(corrupt, FlatOptions{}); !errors.Is(err, data.ErrMalformed) || !strings.Contains(err.Error(), "bad.png") {
		t.Errorf("corrupt: %v", err)
	}
	// A JPEG cut short decodes its header but not its body.
	jp := encJPEG(t, rgb(32, 32, func(x, y int) color.RGBA { return color.RGBA{uint8(x), uint8(y), 0, 255} }))
	cut := mk(map[string][]byte{"a.png": ok, "cut.jpg": jp[:len(jp)/2]})
	if _, _, err := LoadFlat(cut, FlatOptions{}); !errors.Is(err, data.ErrMalformed) || !strings.Contains(err.Error(), "cut.jpg") {
		t.Errorf("cut JPEG: %v", err)
	}
	for name, dir := range map[string]string{
		"empty":      t.TempDir(),
		"no images":  mk(map[string][]byte{"a.txt": []byte("x"), "b.csv": []byte("1,2")}),
		"only below": mk(map[string][]byte{"sub/a.png": ok}),
	} {
		if _, _, err := LoadFlat(dir, FlatOptions{}); !errors.Is(err, data.ErrNoData) {
			t.Errorf("%s: %v", name, err)
		}
	}
	two := mk(map[string][]byte{"a.png": ok, "b.png": ok})
	if _, _, err := LoadFlat(two, FlatOptions{MaxImages: 1}); err == nil || !strings.Contains(err.Error(), "MaxImages") {
		t.Errorf("image cap: %v", err)
	}
	if _, _, err := LoadFlat(two, FlatOptions{MaxValues: 2*4*4 - 1, Channels: 1}); err == nil || !strings.Contains(err.Error(), "MaxValues") {
		t.Errorf("value cap: %v", err)
	}
	// A header announcing 10^5 × 10^5 pixels is refused before decoding.
	huge := mk(map[string][]byte{"a.png": ok, "huge.png": hugePNG(100000, 100000)})
	if _, _, err := LoadFlat(huge, FlatOptions{}); err == nil || !strings.Contains(err.Error(), "huge.png") || !strings.Contains(err.Error(), "MaxPixels") {
		t.Errorf("huge image: %v", err)
	}
	if _, _, err := LoadFlat(two, FlatOptions{MaxPixels: 15}); err == nil || !strings.Contains(err.Error(), "a.png") {
		t.Errorf("pixel cap: %v", err)
	}
	for _, o := range []FlatOptions{{Fit: "crop"}, {Channels: 2}, {Side: -1}} {
		if _, _, err := LoadFlat(two, o); !errors.Is(err, data.ErrUnsupported) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if _, _, err := LoadFlat(filepath.Join(two, "missing"), FlatOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
}

// mvtecTree writes an MVTec AD category: 8×4 colour images, masks whose left
// half is set, a defect type without masks, and stray files.
func mvtecTree(t *testing.T) string {
	dir := t.TempDir()
	img := func(v uint8) []byte {
		return encPNG(t, rgb(8, 4, func(x, y int) color.RGBA { return color.RGBA{v, v / 2, 0, 255} }))
	}
	mask := encPNG(t, grey(8, 4, func(x, y int) uint8 {
		if x < 4 {
			return 255
		}
		return 0
	}))
	put(t, dir, "train/good/000.png", img(10))
	put(t, dir, "train/good/001.png", img(20))
	put(t, dir, "train/good/readme.txt", []byte("x"))
	put(t, dir, "test/good/000.png", img(30))
	put(t, dir, "test/crack/000.png", img(40))
	put(t, dir, "test/crack/001.png", img(50))
	put(t, dir, "test/scratch/000.png", img(60))
	put(t, dir, "ground_truth/crack/000_mask.png", mask)
	put(t, dir, "ground_truth/crack/001_mask.png", mask)
	put(t, dir, "license.txt", []byte("CC BY-NC-SA"))
	return dir
}

func TestLoadMVTec(t *testing.T) {
	dir := mvtecTree(t)
	var notes []string
	m, err := LoadMVTec(dir, FlatOptions{Side: 8, Fit: FitPad, Note: func(s string) { notes = append(notes, s) }})
	if err != nil {
		t.Fatal(err)
	}
	if m.Train.N != 2 || m.Train.Shape[0] != 3 || m.Train.Shape[1] != 8 || m.Train.Y[1] != 0 || strings.Join(m.TrainNames, ",") != "train/good/000.png,train/good/001.png" {
		t.Fatalf("train: %d × %v %v %v", m.Train.N, m.Train.Shape, m.Train.Y, m.TrainNames)
	}
	wantNames := "test/crack/000.png,test/crack/001.png,test/good/000.png,test/scratch/000.png"
	if m.Test.N != 4 || strings.Join(m.TestNames, ",") != wantNames {
		t.Fatalf("test: %d %v", m.Test.N, m.TestNames)
	}
	if y := m.Test.Y; y[0] != 1 || y[1] != 1 || y[2] != 0 || y[3] != 1 || m.Test.ClassNames[1] != "anomaly" {
		t.Errorf("labels %v %v", y, m.Test.ClassNames)
	}
	if strings.Join(m.Defect, ",") != "crack,crack,good,scratch" || strings.Join(m.DefectNames, ",") != "crack,scratch" {
		t.Errorf("defects %v %v", m.Defect, m.DefectNames)
	}
	if h := m.HasMask; len(h) != 4 || !h[0] || !h[1] || !h[2] || h[3] {
		t.Errorf("HasMask %v", h)
	}
	all := strings.Join(notes, "\n")
	if !strings.Contains(all, "readme.txt") || !strings.Contains(all, "test/scratch/000.png") {
		t.Errorf("notes %q", notes)
	}
	// The image 8×4 padded into 8×8 sits at rows 2..5; the mask likewise.
	if p := plane(m.Test, 0, 0); p[1][3] != 0 || p[2][3] != 40 || p[5][7] != 40 || p[6][0] != 0 {
		t.Errorf("test image %v", p)
	}
	if m.Masks == nil || m.Masks.N != 4 || m.Masks.Shape[0] != 1 || m.Masks.Shape[1] != 8 {
		t.Fatalf("masks %+v", m.Masks)
	}
	one, none := []int{255, 255, 255, 255, 0, 0, 0, 0}, make([]int, 8)
	want := [][]int{none, none, one, one, one, one, none, none}
	for i := 0; i < 2; i++ {
		if got := plane(m.Masks, i, 0); !equalRows(got, want) {
			t.Errorf("mask %d: %v", i, got)
		}
	}
	for i := 2; i < 4; i++ {
		for _, v := range m.Masks.Row(i) {
			if v != 0 {
				t.Fatalf("mask %d not zero", i)
			}
		}
	}
	// Resized to 4: the mask's left half is columns 0 and 1 on every row.
	m, err = LoadMVTec(dir, FlatOptions{Side: 4})
	if err != nil {
		t.Fatal(err)
	}
	if got := plane(m.Masks, 1, 0); !equalRows(got, [][]int{{255, 255, 0, 0}, {255, 255, 0, 0}, {255, 255, 0, 0}, {255, 255, 0, 0}}) {
		t.Errorf("resized mask %v", got)
	}
	// Automatic: longer side 8 → 8; colour → 3 channels.
	m, err = LoadMVTec(dir, FlatOptions{})
	if err != nil || m.Test.Shape[0] != 3 || m.Test.Shape[1] != 8 {
		t.Fatalf("automatic: %v", err)
	}

	// Without ground truth: no masks. Without test: no test set.
	os.RemoveAll(filepath.Join(dir, "ground_truth"))
	if m, err = LoadMVTec(dir, FlatOptions{}); err != nil || m.Masks != nil || m.HasMask != nil || m.Test.N != 4 {
		t.Errorf("no ground truth: %v", err)
	}
	os.RemoveAll(filepath.Join(dir, "test"))
	if m, err = LoadMVTec(dir, FlatOptions{}); err != nil || m.Test != nil || m.Train.N != 2 {
		t.Errorf("no test: %v", err)
	}
}

func TestLoadMVTecErrors(t *testing.T) {
	dir := mvtecTree(t)
	put(t, dir, "ground_truth/crack/001_mask.png", encPNG(t, grey(4, 4, func(x, y int) uint8 { return 255 })))
	if _, err := LoadMVTec(dir, FlatOptions{}); !errors.Is(err, data.ErrMalformed) || !strings.Contains(err.Error(), "ground_truth/crack/001_mask.png") {
		t.Errorf("mask size: %v", err)
	}
	put(t, dir, "ground_truth/crack/001_mask.png", []byte("\x89PNG\r\n\x1a\nbroken"))
	if _, err := LoadMVTec(dir, FlatOptions{}); !errors.Is(err, data.ErrMalformed) || !strings.Contains(err.Error(), "001_mask.png") {
		t.Errorf("broken mask: %v", err)
	}
	put(t, dir, "test/crack/002.jpg", []byte("\xff\xd8\xffbroken"))
	if _, err := LoadMVTec(dir, FlatOptions{}); !errors.Is(err, data.ErrMalformed) || !strings.Contains(err.Error(), "test/crack/002.jpg") {
		t.Errorf("broken image: %v", err)
	}
	if _, err := LoadMVTec(t.TempDir(), FlatOptions{}); !errors.Is(err, data.ErrNoData) || !strings.Contains(err.Error(), "train/good") {
		t.Errorf("no train/good: %v", err)
	}
	empty := t.TempDir()
	put(t, empty, "train/good/a.txt", []byte("x"))
	if _, err := LoadMVTec(empty, FlatOptions{}); !errors.Is(err, data.ErrNoData) {
		t.Errorf("empty train/good: %v", err)
	}
}

func TestDetect(t *testing.T) {
	ok := encPNG(t, grey(2, 2, func(x, y int) uint8 { return 1 }))
	mk := func(files ...string) string {
		dir := t.TempDir()
		for _, f := range files {
			body := ok
			if strings.HasSuffix(f, ".txt") {
				body = []byte("text")
			}
			put(t, dir, f, body)
		}
		return dir
	}
	flat := mk("a.png", "b.jpg", "notes.txt")
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	tw.WriteHeader(&tar.Header{Name: "c/a.png", Mode: 0o644, Size: int64(len(ok)), Format: tar.FormatUSTAR})
	tw.Write(ok)
	tw.Close()
	archive := filepath.Join(t.TempDir(), "x.bin")
	os.WriteFile(archive, tarBuf.Bytes(), 0o644)
	for name, c := range map[string]struct {
		path string
		want Layout
	}{
		"flat":         {flat, Flat},
		"image file":   {filepath.Join(flat, "b.jpg"), Flat},
		"tar":          {archive, ClassSplits},
		"mvtec":        {mvtecTree(t), MVTec},
		"mvtec bare":   {mk("train/good/a.png"), MVTec},
		"class splits": {mk("train/cat/a.png", "train/dog/b.png", "test/cat/c.png"), ClassSplits},
		"classes":      {mk("cat/a.png", "dog/b.png", "README.txt"), ClassSplits},
		"deep classes": {mk("top/train/cat/a.png"), ClassSplits},
	} {
		got, err := Detect(c.path)
		if err != nil || got != c.want {
			t.Errorf("%s: %v %v, want %v", name, got, err, c.want)
		}
	}
	for name, c := range map[string]struct {
		path, says string
	}{
		"empty":      {t.TempDir(), "empty folder"},
		"no images":  {mk("a.txt", "sub/b.txt"), "a.txt"},
		"categories": {mk("bottle/train/good/a.png", "cable/train/good/a.png"), "bottle, cable"},
		"ambiguous":  {mk("a.png", "cat/b.png"), "ambiguous"},
		"text file":  {filepath.Join(flat, "notes.txt"), "neither"},
		"missing":    {filepath.Join(flat, "missing"), "no such file"},
	} {
		got, err := Detect(c.path)
		if err == nil || got != Unknown || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v %v", name, got, err)
		}
	}
	if Flat.String() != "flat" || MVTec.String() != "mvtec" || ClassSplits.String() != "class-splits" || Unknown.String() != "unknown" {
		t.Error("Layout.String")
	}
}
