package viz

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"
)

// -viz.samples=DIR keeps the figures the tests draw, for looking at them.
var samplesDir = flag.String("viz.samples", "", "directory to keep the sample figures in")

func outDir(t *testing.T) string {
	if *samplesDir != "" {
		if err := os.MkdirAll(*samplesDir, 0o755); err != nil {
			t.Fatal(err)
		}
		return *samplesDir
	}
	return t.TempDir()
}

func decodePNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: not a valid PNG: %v", path, err)
	}
	return img
}

// checkSVG parses data as XML and returns the root element's width and
// height attributes.
func checkSVG(t *testing.T, name string, data []byte) (w, h string) {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	root := ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: invalid SVG/XML: %v", name, err)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
			for _, a := range se.Attr {
				switch a.Name.Local {
				case "width":
					w = a.Value
				case "height":
					h = a.Value
				}
			}
		}
	}
	if root != "svg" {
		t.Fatalf("%s: root element %q, want svg", name, root)
	}
	return w, h
}

// sampleFigures builds one figure of each kind from synthetic data.
func sampleFigures(t *testing.T) map[string]*Figure {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	must := func(f *Figure, err error) *Figure {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	// Binormal ROC curves: TPR = Φ(Φ⁻¹(FPR) + d′).
	var curves []Curve
	for i, dp := range []float64{0.5, 1.5, 3} {
		var c Curve
		for k := 0; k <= 100; k++ {
			f := float64(k) / 100
			c.X = append(c.X, f)
			c.Y = append(c.Y, 0.5*math.Erfc(-(math.Sqrt2*math.Erfinv(2*f-1)+dp)/math.Sqrt2))
		}
		c.Name = []string{"weak", "medium", "strong"}[i]
		curves = append(curves, c)
	}
	pr := []Curve{{Name: "model", X: []float64{1, 1, 0.5, 0.5, 0}, Y: []float64{0.5, 2.0 / 3, 0.5, 1, 1}}}
	normal := make([]float64, 5000)
	anom := make([]float64, 200)
	for i := range normal {
		normal[i] = rng.NormFloat64()
	}
	for i := range anom {
		anom[i] = 2.5 + 0.7*rng.NormFloat64()
	}
	xs, ys, labels := clusters(10000, 10, 3)
	xs20, ys20, labels20 := clusters(4000, 20, 7)
	loss := make([]float64, 60)
	val := make([]float64, 60)
	for i := range loss {
		loss[i] = 2*math.Exp(-float64(i)/10) + 0.1 + 0.02*rng.Float64()
		val[i] = 2*math.Exp(-float64(i)/12) + 0.15 + 0.03*rng.Float64()
	}
	cats := []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}
	ours := BarSeries{Name: "ours (mean ± std, 3 seeds)", Values: make([]float64, 10), Errs: make([]float64, 10)}
	paper := BarSeries{Name: "paper", Values: make([]float64, 10)}
	for i := range 10 {
		ours.Values[i] = 0.6 + 0.35*rng.Float64()
		ours.Errs[i] = 0.05 * rng.Float64()
		paper.Values[i] = 0.6 + 0.35*rng.Float64()
	}
	inputs, recons := digitsLike(8)
	return map[string]*Figure{
		"roc":       must(ROCFigure("ROC (binormal)", curves)),
		"pr":        must(PRFigure("Precision-recall", pr)),
		"hist":      must(HistogramsFigure("Anomaly scores by class", []Group{{"normal", normal}, {"anomalous", anom}}, HistOptions{})),
		"scatter":   must(ScatterFigure("t-SNE of 10,000 points", xs, ys, labels, ScatterOptions{Names: []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}})),
		"bars":      must(BarsFigure("Per-class AUC", cats, []BarSeries{ours, paper}, BarOptions{YLabel: "AUC", YMin: 0, YMax: 1})),
		"lines":     must(LinesFigure("Loss", []Series{{Name: "train", Y: loss}, {Name: "validation", Y: val}}, LineOptions{XLabel: "Epoch", YLabel: "Loss", LogY: true})),
		"grid":      must(ImageGridFigure("inputs / reconstructions", [][]float32{inputs, recons}, GridOptions{Channels: 1, Height: 28, Width: 28, RowLabels: []string{"input", "recon"}})),
		"grid_rgb":  must(ImageGridFigure("RGB in [-1, 1]", [][]float32{rgbRow(6)}, GridOptions{Channels: 3, Height: 16, Width: 16, Lo: -1, Hi: 1})),
		"scatter20": must(ScatterFigure("20 labels", xs20, ys20, labels20, ScatterOptions{})),
	}
}

// clusters places n points in c Gaussian blobs around a circle.
func clusters(n, c int, seed uint64) (xs, ys []float64, labels []int) {
	rng := rand.New(rand.NewPCG(seed, 9))
	for i := range n {
		l := i % c
		a := 2 * math.Pi * float64(l) / float64(c)
		xs = append(xs, 10*math.Cos(a)+rng.NormFloat64())
		ys = append(ys, 10*math.Sin(a)+rng.NormFloat64())
		labels = append(labels, l)
	}
	return
}

// digitsLike draws k 28×28 rings and blurred copies as "reconstructions".
func digitsLike(k int) (in, rec []float32) {
	for i := range k {
		r := 5 + float64(i)
		for y := range 28 {
			for x := range 28 {
				d := math.Hypot(float64(x)-13.5, float64(y)-13.5)
				v := math.Exp(-(d - r) * (d - r) / 2)
				in = append(in, float32(v))
				rec = append(rec, float32(0.8*math.Exp(-(d-r)*(d-r)/6)))
			}
		}
	}
	return
}

// rgbRow draws k 16×16 colour gradients with values in [-1, 1].
func rgbRow(k int) []float32 {
	var out []float32
	for i := range k {
		for ch := range 3 {
			for y := range 16 {
				for x := range 16 {
					v := []float64{float64(x) / 15, float64(y) / 15, float64(i) / float64(k-1)}[ch]
					out = append(out, float32(2*v-1))
				}
			}
		}
	}
	return out
}

func TestSaveFormats(t *testing.T) {
	dir := outDir(t)
	for name, f := range sampleFigures(t) {
		pngPath := filepath.Join(dir, name+".png")
		start := time.Now()
		if err := f.Save(pngPath); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		el := time.Since(start)
		img := decodePNG(t, pngPath)
		if f.img == nil {
			// Plotted figures: size × DPI.
			wantW := int(math.Round(float64(f.Width/vg.Inch) * float64(f.DPI)))
			wantH := int(math.Round(float64(f.Height/vg.Inch) * float64(f.DPI)))
			if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
				t.Errorf("%s: PNG %v, want %d×%d", name, b.Size(), wantW, wantH)
			}
		} else if img.Bounds() != f.img.Bounds() {
			t.Errorf("%s: PNG %v, want %v", name, img.Bounds(), f.img.Bounds())
		}
		svgPath := filepath.Join(dir, strings.ToUpper(name)+".SVG") // extension case does not matter
		if err := f.Save(svgPath); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		data, err := os.ReadFile(svgPath)
		if err != nil {
			t.Fatal(err)
		}
		w, h := checkSVG(t, name, data)
		if w == "" || h == "" {
			t.Errorf("%s: SVG without width/height", name)
		}
		inline, err := f.SVG()
		if err != nil || !bytes.Equal(inline, data) {
			t.Errorf("%s: SVG() differs from the saved file (err %v)", name, err)
		}
		t.Logf("%s: PNG %v in %v, SVG %d bytes", name, img.Bounds().Size(), el, len(data))
	}
	f := sampleFigures(t)["roc"]
	if err := f.Save(filepath.Join(t.TempDir(), "x.pdf")); !errors.Is(err, ErrFormat) {
		t.Errorf("unknown extension: error %v, want ErrFormat", err)
	}
}

// near reports whether c is within tol of want in every channel.
func near(c color.Color, want color.NRGBA, tol int) bool {
	r, g, b, _ := c.RGBA()
	d := func(a uint32, w uint8) bool { return math.Abs(float64(a>>8)-float64(w)) <= float64(tol) }
	return d(r, want.R) && d(g, want.G) && d(b, want.B)
}

func TestScatterColoursByLabel(t *testing.T) {
	// Label 3 fills the top-right corner, label 5 the bottom-left, and a
	// single isolated point of label 2 sits in the bottom-right corner.
	var xs, ys []float64
	var labels []int
	rng := rand.New(rand.NewPCG(4, 4))
	for range 300 {
		xs = append(xs, 9+rng.Float64())
		ys = append(ys, 9+rng.Float64())
		labels = append(labels, 3)
		xs = append(xs, rng.Float64())
		ys = append(ys, rng.Float64())
		labels = append(labels, 5)
	}
	xs = append(xs, 10)
	ys = append(ys, 0)
	labels = append(labels, 2)
	dir := outDir(t)
	for _, legend := range []bool{false, true} {
		f, err := ScatterFigure("colours", xs, ys, labels, ScatterOptions{Radius: 3, NoLegend: !legend})
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "scatter_colours.png")
		if legend {
			path = filepath.Join(dir, "scatter_colours_legend.png")
		}
		if err := f.Save(path); err != nil {
			t.Fatal(err)
		}
		img := decodePNG(t, path)
		b := img.Bounds()
		// Pixels of each label colour: count and centroid.
		centroid := func(col color.NRGBA, x0, x1 int) (cx, cy float64, n int) {
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := x0; x < x1; x++ {
					if near(img.At(x, y), col, 2) {
						cx += float64(x)
						cy += float64(y)
						n++
					}
				}
			}
			return cx / float64(n), cy / float64(n), n
		}
		if legend {
			// The legend column at the right holds one marker per label,
			// top to bottom in label order: 2, 3, 5.
			x0 := b.Max.X - b.Dx()/12
			_, y2, n2 := centroid(LabelColor(2), x0, b.Max.X)
			_, y3, n3 := centroid(LabelColor(3), x0, b.Max.X)
			_, y5, n5 := centroid(LabelColor(5), x0, b.Max.X)
			if n2 == 0 || n3 == 0 || n5 == 0 || !(y2 < y3 && y3 < y5) {
				t.Errorf("legend markers: label 2 %d px at y %.0f, 3 %d px at y %.0f, 5 %d px at y %.0f", n2, y2, n3, y3, n5, y5)
			}
			continue
		}
		w, h := float64(b.Dx()), float64(b.Dy())
		x3, y3, n3 := centroid(LabelColor(3), b.Min.X, b.Max.X)
		x5, y5, n5 := centroid(LabelColor(5), b.Min.X, b.Max.X)
		x2, y2, n2 := centroid(LabelColor(2), b.Min.X, b.Max.X)
		t.Logf("label 3: %d px at (%.0f, %.0f); label 5: %d px at (%.0f, %.0f); label 2: %d px at (%.0f, %.0f); image %0.f×%0.f",
			n3, x3, y3, n5, x5, y5, n2, x2, y2, w, h)
		if n3 == 0 || !(x3 > 0.7*w && y3 < 0.3*h) {
			t.Errorf("label 3 colour not in the top right of the plot")
		}
		if n5 == 0 || !(x5 < 0.3*w && y5 > 0.7*h) {
			t.Errorf("label 5 colour not in the bottom left of the plot")
		}
		// One disc of radius 3 pt at 150 dpi: about π·6² ≈ 110 pixels.
		if n2 < 30 || n2 > 200 || !(x2 > 0.85*w && y2 > 0.8*h) {
			t.Errorf("isolated label 2 point not drawn in its colour at the bottom right")
		}
	}
}

// BenchmarkScatter20k draws a t-SNE-sized scatter plot (20,000 points)
// to PNG: `go test ./viz -bench Scatter20k`. It was a timed test once,
// which failed whenever the machine was busy.
func BenchmarkScatter20k(b *testing.B) {
	xs, ys, labels := clusters(20000, 10, 5)
	f, err := ScatterFigure("20k", xs, ys, labels, ScatterOptions{})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := f.PNG(); err != nil {
			b.Fatal(err)
		}
	}
}

func TestImageGridPixels(t *testing.T) {
	// One row of two 2×2 grey images with values 0, 0.5, 1, 2 (clipped) and
	// -1 (clipped), 0.25, 0.75, 1; scale 3, pad 1, no title.
	row := []float32{0, 0.5, 1, 2, -1, 0.25, 0.75, 1}
	f, err := ImageGridFigure("", [][]float32{row}, GridOptions{Channels: 1, Height: 2, Width: 2, Scale: 3, Pad: 1})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(outDir(t), "grid_pixels.png")
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	img := decodePNG(t, path)
	// Layout: margin 4, image 6 px wide, pad 1.
	wantW, wantH := 4+6+1+6+4, 4+6+4
	if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
		t.Fatalf("grid size %v, want %d×%d", b.Size(), wantW, wantH)
	}
	grey := func(v uint8) color.NRGBA { return color.NRGBA{v, v, v, 255} }
	want := []struct {
		x, y int
		c    color.NRGBA
	}{
		{4, 4, grey(0)}, {9, 9, grey(255)}, // image 0 corners: 0 and 2→1
		{7, 4, grey(128)}, {4, 7, grey(255)}, // 0.5 and 1
		{11, 4, grey(0)}, {14, 4, grey(64)}, // image 1: -1→0 and 0.25
		{11, 7, grey(191)}, {16, 9, grey(255)},
		{10, 5, grey(255)}, {0, 0, grey(255)}, // pad and margin are white
	}
	for _, w := range want {
		if !near(img.At(w.x, w.y), w.c, 1) {
			t.Errorf("pixel (%d, %d) = %v, want %v", w.x, w.y, img.At(w.x, w.y), w.c)
		}
	}

	// RGB with range [-1, 1]: a 1×1 image (-1, 0, 1) is (0, 128, 255).
	f, err = ImageGridFigure("", [][]float32{{-1, 0, 1}}, GridOptions{Channels: 3, Height: 1, Width: 1, Lo: -1, Hi: 1, Scale: 2})
	if err != nil {
		t.Fatal(err)
	}
	im, _ := f.Image()
	if !near(im.At(4, 4), color.NRGBA{0, 128, 255, 255}, 1) {
		t.Errorf("RGB pixel %v, want (0, 128, 255)", im.At(4, 4))
	}
	// Per-image stretching maps each image's own extremes to black and white.
	f, err = ImageGridFigure("", [][]float32{{10, 20}}, GridOptions{Channels: 1, Height: 1, Width: 2, PerImage: true, Scale: 1})
	if err != nil {
		t.Fatal(err)
	}
	im, _ = f.Image()
	if !near(im.At(4, 4), grey(0), 0) || !near(im.At(5, 4), grey(255), 0) {
		t.Errorf("per-image stretch: %v %v", im.At(4, 4), im.At(5, 4))
	}
}

func TestAreas(t *testing.T) {
	// scikit-learn's example: y = [0 0 1 1], scores [.1 .4 .35 .8]:
	// roc_auc_score 0.75, average_precision_score 0.8333.
	if a := trapezoid([]float64{0, 0, 0.5, 0.5, 1}, []float64{0, 0.5, 0.5, 1, 1}); math.Abs(a-0.75) > 1e-12 {
		t.Errorf("ROC area %v, want 0.75", a)
	}
	r := []float64{1, 1, 0.5, 0.5, 0}
	p := []float64{0.5, 2.0 / 3, 0.5, 1, 1}
	if a := stepAP(r, p); math.Abs(a-5.0/6) > 1e-12 {
		t.Errorf("AP %v, want 0.8333", a)
	}
	rr := []float64{0, 0.5, 0.5, 1, 1}
	pp := []float64{1, 1, 0.5, 2.0 / 3, 0.5}
	if a := stepAP(rr, pp); math.Abs(a-5.0/6) > 1e-12 {
		t.Errorf("AP of reversed points %v, want 0.8333", a)
	}
}

func TestBadInput(t *testing.T) {
	nan := math.NaN()
	ok := []float64{0, 0.5, 1}
	cases := map[string]func() error{
		"roc no curves":    func() error { _, err := ROCFigure("t", nil); return err },
		"roc length":       func() error { _, err := ROCFigure("t", []Curve{{X: ok, Y: ok[:2]}}); return err },
		"roc NaN":          func() error { _, err := ROCFigure("t", []Curve{{X: ok, Y: []float64{0, nan, 1}}}); return err },
		"roc out of range": func() error { _, err := ROCFigure("t", []Curve{{X: ok, Y: []float64{0, 1.5, 1}}}); return err },
		"pr empty":         func() error { _, err := PRFigure("t", []Curve{{}}); return err },
		"hist empty group": func() error { _, err := HistogramsFigure("t", []Group{{Name: "a"}}, HistOptions{}); return err },
		"hist Inf": func() error {
			_, err := HistogramsFigure("t", []Group{{"a", []float64{1, math.Inf(1)}}}, HistOptions{})
			return err
		},
		"hist bins":      func() error { _, err := HistogramsFigure("t", []Group{{"a", ok}}, HistOptions{Bins: -3}); return err },
		"scatter length": func() error { _, err := ScatterFigure("t", ok, ok, []int{1}, ScatterOptions{}); return err },
		"scatter xy":     func() error { _, err := ScatterFigure("t", ok, ok[:1], []int{1}, ScatterOptions{}); return err },
		"scatter NaN": func() error {
			_, err := ScatterFigure("t", ok, []float64{1, nan, 2}, []int{1, 2, 3}, ScatterOptions{})
			return err
		},
		"bars length": func() error {
			_, err := BarsFigure("t", []string{"a", "b"}, []BarSeries{{Values: ok}}, BarOptions{})
			return err
		},
		"bars errs": func() error {
			_, err := BarsFigure("t", []string{"a"}, []BarSeries{{Values: ok[:1], Errs: ok}}, BarOptions{})
			return err
		},
		"bars NaN": func() error {
			_, err := BarsFigure("t", []string{"a"}, []BarSeries{{Values: []float64{nan}}}, BarOptions{})
			return err
		},
		"bars negative err": func() error {
			_, err := BarsFigure("t", []string{"a"}, []BarSeries{{Values: ok[:1], Errs: []float64{-1}}}, BarOptions{})
			return err
		},
		"lines none":     func() error { _, err := LinesFigure("t", nil, LineOptions{}); return err },
		"lines NaN loss": func() error { _, err := LinesFigure("t", []Series{{Y: []float64{1, nan}}}, LineOptions{}); return err },
		"lines x length": func() error { _, err := LinesFigure("t", []Series{{X: ok, Y: ok[:2]}}, LineOptions{}); return err },
		"lines log zero": func() error { _, err := LinesFigure("t", []Series{{Y: ok}}, LineOptions{LogY: true}); return err },
		"grid channels": func() error {
			_, err := ImageGridFigure("t", [][]float32{{1, 2}}, GridOptions{Channels: 2, Height: 1, Width: 1})
			return err
		},
		"grid ragged": func() error {
			_, err := ImageGridFigure("t", [][]float32{{1, 2, 3}}, GridOptions{Channels: 1, Height: 1, Width: 2})
			return err
		},
		"grid NaN": func() error {
			_, err := ImageGridFigure("t", [][]float32{{1, float32(nan)}}, GridOptions{Channels: 1, Height: 1, Width: 2})
			return err
		},
		"grid range": func() error {
			_, err := ImageGridFigure("t", [][]float32{{1}}, GridOptions{Channels: 1, Height: 1, Width: 1, Lo: 1, Hi: 1})
			return err
		},
		"grid labels": func() error {
			_, err := ImageGridFigure("t", [][]float32{{1}}, GridOptions{Channels: 1, Height: 1, Width: 1, RowLabels: []string{"a", "b"}})
			return err
		},
		"grid no rows": func() error {
			_, err := ImageGridFigure("t", nil, GridOptions{Channels: 1, Height: 1, Width: 1})
			return err
		},
		"one-call roc NaN": func() error {
			return ROC(filepath.Join(t.TempDir(), "r.png"), "t", []Curve{{X: []float64{nan}, Y: ok[:1]}})
		},
		"figure size": func() error {
			f, _ := LinesFigure("t", []Series{{Y: ok}}, LineOptions{})
			f.Width = 0
			_, err := f.PNG()
			return err
		},
		"histogram alpha": func() error { _, err := HistogramsFigure("t", []Group{{"a", ok}}, HistOptions{Alpha: 2}); return err },
		"scatter alpha": func() error {
			_, err := ScatterFigure("t", ok, ok, []int{1, 2, 3}, ScatterOptions{Alpha: -1})
			return err
		},
		"bars no categories": func() error { _, err := BarsFigure("t", nil, []BarSeries{{}}, BarOptions{}); return err },
	}
	for name, fn := range cases {
		if err := fn(); !errors.Is(err, ErrInput) {
			t.Errorf("%s: error %v, want ErrInput", name, err)
		}
	}
	// A failed one-call save leaves no file behind.
	p := filepath.Join(t.TempDir(), "bad.png")
	_ = Scatter(p, "t", ok, ok, nil, ScatterOptions{})
	if _, err := os.Stat(p); err == nil {
		t.Error("a failed Scatter left a file")
	}
}

func TestLegendAreas(t *testing.T) {
	// The ROC legend shows the trapezoidal AUC unless one is given; check
	// through the SVG text.
	c := Curve{Name: "m", X: []float64{0, 0, 0.5, 0.5, 1}, Y: []float64{0, 0.5, 0.5, 1, 1}}
	f, err := ROCFigure("t", []Curve{c})
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := f.SVG()
	if !bytes.Contains(svg, []byte("m (AUC 0.750)")) {
		t.Error("ROC legend lacks 'm (AUC 0.750)'")
	}
	c.Area = 0.9
	f, _ = ROCFigure("t", []Curve{c})
	svg, _ = f.SVG()
	if !bytes.Contains(svg, []byte("m (AUC 0.900)")) {
		t.Error("ROC legend lacks the given area 'm (AUC 0.900)'")
	}
	f, _ = PRFigure("t", []Curve{{Name: "m", X: []float64{1, 1, 0.5, 0.5, 0}, Y: []float64{0.5, 2.0 / 3, 0.5, 1, 1}}})
	svg, _ = f.SVG()
	if !bytes.Contains(svg, []byte("m (AP 0.833)")) {
		t.Error("PR legend lacks 'm (AP 0.833)'")
	}
}

// A title wider than the figure breaks between words (a word wider than
// the limit gets its own line); one that fits stays as it is.
func TestWrapTitle(t *testing.T) {
	chars := func(s string) vg.Length { return vg.Length(len(s)) }
	for _, c := range []struct {
		in   string
		max  vg.Length
		want string
	}{
		{"short title", 20, "short title"},
		{"aa bb cc dd", 5, "aa bb\ncc dd"},
		{"aa bbbbbbbb cc", 5, "aa\nbbbbbbbb\ncc"},
		{"", 5, ""},
	} {
		if got := wrapTitle(c.in, chars, c.max); got != c.want {
			t.Errorf("wrapTitle(%q, %v) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
	long := "t-SNE of the Q-network's hidden layer by label, dplan (labeled=60), abnormal=3"
	p := newPlot(long)
	if !strings.Contains(p.Title.Text, "\n") {
		t.Errorf("a %d-character title was not wrapped: %q", len(long), p.Title.Text)
	}
	for _, line := range strings.Split(p.Title.Text, "\n") {
		if w := p.Title.TextStyle.Width(line); w > titleWidth {
			t.Errorf("title line %q is %v wide, more than %v", line, w, titleWidth)
		}
	}
}

// A histogram mark draws a named vertical line; a non-finite mark is an
// error.
func TestHistogramMarks(t *testing.T) {
	vals := []float64{1, 2, 2, 3, 3, 3, 4}
	f, err := HistogramsFigure("t", []Group{{"scores", vals}}, HistOptions{Marks: []Mark{{"threshold", 3.5}}})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(svg, []byte("threshold")) {
		t.Error("the mark is not in the legend")
	}
	if _, err := HistogramsFigure("t", []Group{{"scores", vals}}, HistOptions{Marks: []Mark{{"bad", math.NaN()}}}); err == nil {
		t.Error("NaN mark accepted")
	}
}

// The critical-difference figure renders, refuses mismatched input, and
// lists methods best first with their ranks.
func TestCriticalDifferenceFigure(t *testing.T) {
	f, err := CriticalDifferenceFigure("ranks", []string{"a", "bb", "c"}, []float64{2.5, 1.2, 2.3}, [][]int{{1, 2}, {2, 0}})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	s := string(svg)
	ib, ic, ia := strings.Index(s, "bb (1.20)"), strings.Index(s, "c (2.30)"), strings.Index(s, "a (2.50)")
	if ib < 0 || ic < 0 || ia < 0 {
		t.Fatalf("labels missing from the SVG")
	}
	if _, err := CriticalDifferenceFigure("x", []string{"a"}, []float64{1}, nil); err == nil {
		t.Error("one method accepted")
	}
	if _, err := CriticalDifferenceFigure("x", []string{"a", "b"}, []float64{1, 2}, [][]int{{0, 5}}); err == nil {
		t.Error("a clique naming a missing method accepted")
	}
}
