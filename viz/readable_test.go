package viz

import (
	"math"
	"math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// svgPath is one <path> of a viz SVG: its d and style attributes.
type svgPath struct{ d, style string }

var pathRe = regexp.MustCompile(`<path d="([^"]*)" style="([^"]*)"`)

func svgPaths(svg []byte) []svgPath {
	var out []svgPath
	for _, m := range pathRe.FindAllStringSubmatch(string(svg), -1) {
		out = append(out, svgPath{m[1], m[2]})
	}
	return out
}

var (
	segRe   = regexp.MustCompile(`^M([-0-9.e]+),([-0-9.e]+)L([-0-9.e]+),([-0-9.e]+)$`)
	glyphRe = regexp.MustCompile(`^M([-0-9.e]+),([-0-9.e]+)A[0-9.]+,[0-9.]+ 0 1 1 ([-0-9.e]+),([-0-9.e]+)A`)
)

func atof(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// errorBars returns the vertical one-segment paths stroked in colour (an
// error bar's stem, in SVG coordinates: x, low y, high y), sorted by x.
func errorBars(t *testing.T, svg []byte, colour string) [][3]float64 {
	var out [][3]float64
	for _, p := range svgPaths(svg) {
		m := segRe.FindStringSubmatch(p.d)
		if m == nil || p.style != "fill:none;stroke:"+colour {
			continue
		}
		x1, y1, x2, y2 := atof(t, m[1]), atof(t, m[2]), atof(t, m[3]), atof(t, m[4])
		if x1 == x2 && y1 != y2 {
			out = append(out, [3]float64{x1, math.Min(y1, y2), math.Max(y1, y2)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// glyphs returns the centres of the filled discs of colour.
func glyphs(t *testing.T, svg []byte, colour string) [][2]float64 {
	var out [][2]float64
	for _, p := range svgPaths(svg) {
		m := glyphRe.FindStringSubmatch(p.d)
		if m == nil || p.style != "fill:"+colour {
			continue
		}
		out = append(out, [2]float64{(atof(t, m[1]) + atof(t, m[3])) / 2, atof(t, m[2])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// axes returns the data area as the axis lines bound it: the x axis's
// horizontal extent and the y axis's vertical extent.
func axes(t *testing.T, svg []byte) (x0, x1, y0, y1 float64) {
	x0, y0 = math.NaN(), math.NaN()
	for _, p := range svgPaths(svg) {
		m := segRe.FindStringSubmatch(p.d)
		if m == nil || p.style != "fill:none;stroke:#000000;stroke-width:0.5" {
			continue
		}
		a, b, c, d := atof(t, m[1]), atof(t, m[2]), atof(t, m[3]), atof(t, m[4])
		switch {
		case b == d && c-a > x1-x0 || b == d && math.IsNaN(x0):
			x0, x1 = a, c
		case a == c && d-b > y1-y0 || a == c && math.IsNaN(y0):
			y0, y1 = b, d
		}
	}
	if math.IsNaN(x0) || math.IsNaN(y0) {
		t.Fatal("no axis lines in the SVG")
	}
	return x0, x1, y0, y1
}

// Error bars are drawn from Y-Err to Y+Err around each point, none where
// Err is zero, and the axes leave a margin around points and bars.
func TestLinesErrorBars(t *testing.T) {
	f, err := LinesFigure("sweep", []Series{{Name: "a", X: []float64{1, 2, 3}, Y: []float64{0.5, 0.6, 0.7}, Err: []float64{0.1, 0.05, 0}}},
		LineOptions{XLabel: "x", YLabel: "AUC", Points: true})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	blue := "#1F77B4"
	bars, pts := errorBars(t, svg, blue), glyphs(t, svg, blue)
	x0, x1, y0, y1 := axes(t, svg)
	var inside [][2]float64 // the legend's marker lies right of the axes
	for _, p := range pts {
		if p[0] <= x1 {
			inside = append(inside, p)
		}
	}
	if len(bars) != 2 || len(inside) != 3 {
		t.Fatalf("%d error bars and %d points, want 2 and 3", len(bars), len(inside))
	}
	// SVG y runs up here (the plot flips it), so compare distances only.
	unit := math.Abs(inside[2][1]-inside[0][1]) / 0.2 // canvas length of 1 on y
	for i, want := range []float64{0.1, 0.05} {
		b, p := bars[i], inside[i]
		if math.Abs(b[0]-p[0]) > 0.01 {
			t.Errorf("bar %d at x %v, its point at %v", i, b[0], p[0])
		}
		if got := (b[2] - b[1]) / 2 / unit; math.Abs(got-want) > 0.002 {
			t.Errorf("bar %d half-length %.4f in data units, want %v", i, got, want)
		}
		if mid := (b[1] + b[2]) / 2; math.Abs(mid-p[1]) > 0.05 {
			t.Errorf("bar %d centred at %v, its point at %v", i, mid, p[1])
		}
	}
	// Off the frame: the lowest bar end, the first and last points sit at
	// least 3% of the axis length inside it.
	mx, my := 0.03*(x1-x0), 0.03*(y1-y0)
	if inside[0][0]-x0 < mx || x1-inside[2][0] < mx {
		t.Errorf("points at x %v and %v within %v of the axis ends %v, %v", inside[0][0], inside[2][0], mx, x0, x1)
	}
	if bars[0][1]-y0 < my || y1-inside[2][1] < my {
		t.Errorf("lowest bar end %v or highest point %v within %v of the axis ends %v, %v", bars[0][1], inside[2][1], my, y0, y1)
	}
	for name, s := range map[string]Series{
		"length":   {Y: []float64{1, 2}, Err: []float64{0.1}},
		"negative": {Y: []float64{1, 2}, Err: []float64{0.1, -0.1}},
		"NaN":      {Y: []float64{1, 2}, Err: []float64{0.1, math.NaN()}},
	} {
		if _, err := LinesFigure("t", []Series{s}, LineOptions{}); err == nil {
			t.Errorf("error bars (%s) accepted", name)
		}
	}
	if _, err := LinesFigure("t", []Series{{Y: []float64{1, 2}, Err: []float64{1, 0}}}, LineOptions{LogY: true}); err == nil {
		t.Error("an error bar reaching zero accepted on a log axis")
	}
	if _, err := LinesFigure("t", []Series{{X: []float64{0, 1}, Y: []float64{1, 2}}}, LineOptions{LogX: true}); err == nil {
		t.Error("x = 0 accepted on a log axis")
	}
	if _, err := LinesFigure("t", []Series{{X: []float64{1, 120}, Y: []float64{1, 2}}}, LineOptions{LogX: true, Points: true}); err != nil {
		t.Error(err)
	}
}

func TestPadRange(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		log    bool
		wl, wh float64
	}{
		{0, 1, false, -linePad, 1 + linePad},
		{0.5, 0.5, false, 0.5 - 0.2*linePad, 0.5 + 0.2*linePad},
		{1, 100, true, math.Pow(10, -2*linePad), math.Pow(10, 2+2*linePad)},
	} {
		l, h := padRange(c.lo, c.hi, c.log)
		if math.Abs(l-c.wl) > 1e-12*math.Max(1, math.Abs(c.wl)) || math.Abs(h-c.wh) > 1e-9*math.Max(1, c.wh) {
			t.Errorf("padRange(%v, %v, %v) = %v, %v, want %v, %v", c.lo, c.hi, c.log, l, h, c.wl, c.wh)
		}
	}
}

// A robust histogram's axis covers the bulk of the values, not a far
// outlier, and says what it left out; without Robust or without an
// outlier the axis spans the data exactly.
func TestHistogramRobustRange(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	bulk := make([]float64, 1000)
	for i := range bulk {
		bulk[i] = 1 + r.Float64()
	}
	bmin, bmax := bulk[0], bulk[0]
	for _, v := range bulk {
		bmin, bmax = math.Min(bmin, v), math.Max(bmax, v)
	}
	withOutlier := append(append([]float64(nil), bulk...), 1000)
	// A small group keeps its extremes: 20 anomalies spread from 2 to 4.
	anom := make([]float64, 20)
	for i := range anom {
		anom[i] = 2 + 2*float64(i)/19
	}
	groups := []Group{{"normal", withOutlier}, {"anomaly", anom}}

	lo, hi, clipped := histRange(groups, false)
	if clipped || lo != bmin || hi != 1000 {
		t.Errorf("plain range [%v, %v] clipped %v, want [%v, 1000]", lo, hi, clipped, bmin)
	}
	lo, hi, clipped = histRange(groups, true)
	if !clipped {
		t.Fatal("an outlier 1000 times the bulk's spread is not clipped")
	}
	if lo > bmin || hi < 3.9 {
		t.Errorf("robust range [%v, %v] does not cover the bulk from %v and the anomalies up to 4", lo, hi, bmin)
	}
	if span := 4 - bmin; hi-lo > 10*span {
		t.Errorf("robust range [%v, %v] runs more than 10 times past the data's bulk", lo, hi)
	}
	if note := clipNote(groups, lo, hi, func(v float64) float64 { return v }); !strings.Contains(note, "normal: 1 above") || strings.Contains(note, "anomaly") {
		t.Errorf("clip note %q, want one normal value above the axis and no anomaly", note)
	}
	lo, hi, clipped = histRange([]Group{{"normal", bulk}, {"anomaly", anom}}, true)
	if clipped || lo != bmin || hi != 4 {
		t.Errorf("no outlier, yet range [%v, %v] clipped %v", lo, hi, clipped)
	}
	if logWorthy(groups, nil) {
		t.Error("values from 1 to 4 and one at 1000 get a log axis")
	}
	f, err := HistogramsFigure("t", groups, HistOptions{Robust: true})
	if err != nil {
		t.Fatal(err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), ">edge bins also count<") || !strings.Contains(string(svg), ">normal: 1 above ") {
		t.Error("the figure does not say which values lie beyond its axis")
	}
}

// Positive values spread over many decades get a log axis in a robust
// histogram; values within a decade or with a zero do not.
func TestHistogramLogAxis(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	wide := make([]float64, 500)
	for i := range wide {
		wide[i] = math.Pow(10, -6+5*r.Float64())
	}
	narrow := make([]float64, 500)
	for i := range narrow {
		narrow[i] = 1 + r.Float64()
	}
	if !logWorthy([]Group{{"a", wide}}, nil) {
		t.Error("five decades: no log axis")
	}
	if logWorthy([]Group{{"a", narrow}}, nil) {
		t.Error("within a decade: log axis")
	}
	if logWorthy([]Group{{"a", append([]float64{0}, wide...)}}, nil) {
		t.Error("a zero value: log axis")
	}
	if logWorthy([]Group{{"a", wide}}, []Mark{{"m", -1}}) {
		t.Error("a negative mark: log axis")
	}
	f, err := HistogramsFigure("t", []Group{{"a", wide}}, HistOptions{Robust: true})
	if err != nil {
		t.Fatal(err)
	}
	svg, _ := f.SVG()
	if !strings.Contains(string(svg), "(log scale)") || !strings.Contains(string(svg), "Density per decade") {
		t.Error("the log axis is not named")
	}
	f, _ = HistogramsFigure("t", []Group{{"a", wide}}, HistOptions{})
	if svg, _ := f.SVG(); strings.Contains(string(svg), "log scale") {
		t.Error("log axis without Robust")
	}
}
