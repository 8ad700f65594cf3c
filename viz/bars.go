package viz

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Group is one class of values for a histogram.
type Group struct {
	// Name labels the group in the legend.
	Name string
	// Values are the samples (e.g. anomaly scores of one class).
	Values []float64
}

// HistOptions configures HistogramsFigure.
type HistOptions struct {
	// Bins is the number of bins shared by all groups (default 50).
	Bins int
	// Counts plots raw counts; by default each group is normalised to unit
	// area (a density), so a small class stays visible beside a large one.
	Counts bool
	// XLabel names the value axis (default "Score").
	XLabel string
	// Alpha is the fill opacity (default 0.45).
	Alpha float64
	// Marks are vertical lines drawn across the plot (a threshold), each
	// named in the legend.
	Marks []Mark
	// Robust fits the value axis to the bulk of the values when a few lie
	// far out, so that those few do not squeeze every other value into one
	// bar. When all values span more than RobustSpread times the range from
	// the lowest group's 0.5% quantile to the highest group's 99.5% quantile,
	// the axis covers that range with a 5% margin (never past the data), and
	// the values beyond it are counted in the first or last bin; a second
	// line under the axis label says how many, per group. Quantiles are
	// taken per group, so a small group (the anomalies) keeps its extremes.
	// When moreover every value (and mark) is positive and that bulk spans
	// more than LogDecades powers of ten, as reconstruction errors often
	// do, the bins are equal on a log axis (a density is then per decade),
	// so a small-valued group is not one bar at the left edge.
	Robust bool
}

// LogDecades is how many powers of ten the bulk of positive values must
// span for a Robust histogram to use a log axis.
const LogDecades = 2

// RobustSpread is how many times wider than the bulk of the values (see
// HistOptions.Robust) the whole range must be before the axis is clipped.
const RobustSpread = 3

// Mark is a named vertical line at X.
type Mark struct {
	Name string
	X    float64
}

// HistogramsFigure overlays one semi-transparent histogram per group on
// common bin edges spanning all values.
func HistogramsFigure(title string, groups []Group, opt HistOptions) (*Figure, error) {
	if len(groups) == 0 {
		return nil, fmt.Errorf("%w: histogram: no groups", ErrInput)
	}
	if opt.Bins == 0 {
		opt.Bins = 50
	}
	if opt.Bins < 0 {
		return nil, fmt.Errorf("%w: histogram: %d bins", ErrInput, opt.Bins)
	}
	if opt.XLabel == "" {
		opt.XLabel = "Score"
	}
	if opt.Alpha == 0 {
		opt.Alpha = 0.45
	}
	if !(opt.Alpha > 0 && opt.Alpha <= 1) {
		return nil, fmt.Errorf("%w: histogram: alpha %v outside (0, 1]", ErrInput, opt.Alpha)
	}
	for i, g := range groups {
		if len(g.Values) == 0 {
			return nil, fmt.Errorf("%w: histogram group %d (%q) is empty", ErrInput, i, g.Name)
		}
		if err := checkFinite(fmt.Sprintf("histogram group %d (%q)", i, g.Name), g.Values); err != nil {
			return nil, err
		}
	}
	// Bins are equal in t(value): the value itself, or its log10 on a
	// log axis; inv maps bin edges back.
	tg, inv := groups, func(v float64) float64 { return v }
	logX := opt.Robust && logWorthy(groups, opt.Marks)
	if logX {
		tg = make([]Group, len(groups))
		for i, g := range groups {
			tg[i] = Group{Name: g.Name, Values: make([]float64, len(g.Values))}
			for k, v := range g.Values {
				tg[i].Values[k] = math.Log10(v)
			}
		}
		inv = func(v float64) float64 { return math.Pow(10, v) }
	}
	lo, hi, clipped := histRange(tg, opt.Robust)
	width := (hi - lo) / float64(opt.Bins)
	top := 0.0 // the highest bar, for the marks' height
	p := newPlot(title)
	p.X.Label.Text = opt.XLabel
	p.Y.Label.Text = "Density"
	if logX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
		p.X.Label.Text += " (log scale)"
		p.Y.Label.Text = "Density per decade"
	}
	if note := clipNote(tg, lo, hi, inv); note != "" {
		p.X.Label.Text += "\n" + note
	}
	if opt.Counts {
		p.Y.Label.Text = "Count"
	}
	for i, g := range tg {
		bins := make([]plotter.HistogramBin, opt.Bins)
		for b := range bins {
			bins[b].Min = inv(lo + float64(b)*width)
			bins[b].Max = inv(lo + float64(b+1)*width)
		}
		for _, v := range g.Values {
			// Values beyond a clipped axis fall in the edge bins.
			b := max(0, min(int(math.Floor((v-lo)/width)), opt.Bins-1))
			bins[b].Weight++
		}
		if !opt.Counts {
			scale := 1 / (float64(len(g.Values)) * width)
			for b := range bins {
				bins[b].Weight *= scale
			}
		}
		for _, b := range bins {
			top = math.Max(top, b.Weight)
		}
		h := &plotter.Histogram{
			Bins:      bins,
			Width:     width,
			FillColor: withAlpha(Color(i), opt.Alpha),
			LineStyle: draw.LineStyle{Color: Color(i), Width: vg.Points(0.6)},
		}
		p.Add(h)
		p.Legend.Add(fmt.Sprintf("%s (n=%d)", g.Name, len(g.Values)), h)
	}
	for i, m := range opt.Marks {
		if math.IsNaN(m.X) || math.IsInf(m.X, 0) {
			return nil, fmt.Errorf("%w: histogram mark %q at %v", ErrInput, m.Name, m.X)
		}
		l, err := plotter.NewLine(plotter.XYs{{X: m.X, Y: 0}, {X: m.X, Y: top}})
		if err != nil {
			return nil, err
		}
		l.LineStyle = draw.LineStyle{Color: Color(len(groups) + i), Width: vg.Points(1.5), Dashes: []vg.Length{vg.Points(4), vg.Points(2)}}
		p.Add(l)
		p.Legend.Add(m.Name, l)
	}
	if clipped || logX {
		// Marks beyond the clipped axis must not widen it again.
		p.X.Min, p.X.Max = inv(lo), inv(hi)
	}
	return plotFigure(title, p), nil
}

// logWorthy reports whether a robust histogram of groups should use a log
// axis: all values and marks positive, and the bulk of the values (per
// group quantiles, as in histRange) spanning more than LogDecades decades.
func logWorthy(groups []Group, marks []Mark) bool {
	for _, m := range marks {
		if !(m.X > 0) {
			return false
		}
	}
	qlo, qhi := math.Inf(1), math.Inf(-1)
	for _, g := range groups {
		s := slices.Clone(g.Values)
		slices.Sort(s)
		if !(s[0] > 0) {
			return false
		}
		qlo, qhi = math.Min(qlo, quantile(s, 0.005)), math.Max(qhi, quantile(s, 0.995))
	}
	return math.Log10(qhi)-math.Log10(qlo) > LogDecades
}

// histRange is the value axis of a histogram: all values, or with robust
// the bulk of them when a few lie far out (see HistOptions.Robust), in
// which case clipped is true.
func histRange(groups []Group, robust bool) (lo, hi float64, clipped bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	qlo, qhi := math.Inf(1), math.Inf(-1)
	for _, g := range groups {
		s := slices.Clone(g.Values)
		slices.Sort(s)
		lo, hi = math.Min(lo, s[0]), math.Max(hi, s[len(s)-1])
		qlo, qhi = math.Min(qlo, quantile(s, 0.005)), math.Max(qhi, quantile(s, 0.995))
	}
	if hi == lo {
		return lo - 0.5, hi + 0.5, false
	}
	if !robust || !(qhi > qlo) || hi-lo <= RobustSpread*(qhi-qlo) {
		return lo, hi, false
	}
	m := 0.05 * (qhi - qlo)
	return math.Max(lo, qlo-m), math.Min(hi, qhi+m), true
}

// quantile is the q-quantile of sorted values, interpolating linearly
// between order statistics (numpy's default).
func quantile(sorted []float64, q float64) float64 {
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i] + f*(sorted[i+1]-sorted[i])
}

// clipNote says, one line per group, how many values lie beyond [lo, hi]
// and so are counted in the edge bins, naming the bounds as inv maps them
// back to values; "" when none do.
func clipNote(groups []Group, lo, hi float64, inv func(float64) float64) string {
	var parts []string
	for _, g := range groups {
		below, above := 0, 0
		for _, v := range g.Values {
			if v < lo {
				below++
			} else if v > hi {
				above++
			}
		}
		var side []string
		if below > 0 {
			side = append(side, fmt.Sprintf("%d below %.3g", below, inv(lo)))
		}
		if above > 0 {
			side = append(side, fmt.Sprintf("%d above %.3g", above, inv(hi)))
		}
		if len(side) > 0 {
			parts = append(parts, g.Name+": "+strings.Join(side, ", "))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "edge bins also count\n" + strings.Join(parts, "\n")
}

// Histograms writes HistogramsFigure(title, groups, opt) to path (.png or
// .svg).
func Histograms(path, title string, groups []Group, opt HistOptions) error {
	f, err := HistogramsFigure(title, groups, opt)
	return save(path, f, err)
}

// BarSeries is one set of bars, one value per category; several series are
// drawn side by side within each category.
type BarSeries struct {
	// Name labels the series in the legend (no legend entry when empty).
	Name string
	// Values has one value per category.
	Values []float64
	// Errs, when not nil, has one half-length of error bar per category
	// (e.g. the standard deviation over seeds); zero draws no bar there.
	Errs []float64
}

// BarOptions configures BarsFigure.
type BarOptions struct {
	// YLabel names the value axis.
	YLabel string
	// YMin and YMax fix the value axis when YMax > YMin (e.g. 0 and 1 for
	// AUCs); otherwise it fits the data and zero.
	YMin, YMax float64
}

// BarsFigure draws grouped bars: for each category one bar per series, with
// optional error bars, e.g. per-class AUC (mean ± std over seeds) beside the
// paper's figures.
func BarsFigure(title string, categories []string, series []BarSeries, opt BarOptions) (*Figure, error) {
	if len(categories) == 0 || len(series) == 0 {
		return nil, fmt.Errorf("%w: bar chart: %d categories, %d series", ErrInput, len(categories), len(series))
	}
	if math.IsNaN(opt.YMin) || math.IsNaN(opt.YMax) || math.IsInf(opt.YMin, 0) || math.IsInf(opt.YMax, 0) {
		return nil, fmt.Errorf("%w: bar chart: axis range [%v, %v]", ErrInput, opt.YMin, opt.YMax)
	}
	p := newPlot(title)
	p.Y.Label.Text = opt.YLabel
	p.Add(&plotter.Grid{Horizontal: draw.LineStyle{Color: color.Gray{200}, Width: vg.Points(0.5)}})
	gb := &groupedBars{series: series}
	for s, sr := range series {
		what := fmt.Sprintf("bar series %d (%q)", s, sr.Name)
		if len(sr.Values) != len(categories) {
			return nil, fmt.Errorf("%w: %s: %d values for %d categories", ErrInput, what, len(sr.Values), len(categories))
		}
		if err := checkFinite(what, sr.Values); err != nil {
			return nil, err
		}
		if sr.Errs != nil {
			if len(sr.Errs) != len(categories) {
				return nil, fmt.Errorf("%w: %s: %d error bars for %d categories", ErrInput, what, len(sr.Errs), len(categories))
			}
			if err := checkFinite(what+" errors", sr.Errs); err != nil {
				return nil, err
			}
			for i, e := range sr.Errs {
				if e < 0 {
					return nil, fmt.Errorf("%w: %s: negative error bar %v at %d", ErrInput, what, e, i)
				}
			}
		}
		if sr.Name != "" {
			p.Legend.Add(sr.Name, swatch{Color(s)})
		}
	}
	p.Add(gb)
	p.NominalX(categories...)
	p.X.Min, p.X.Max = -0.5, float64(len(categories))-0.5
	if opt.YMax > opt.YMin {
		p.Y.Min, p.Y.Max = opt.YMin, opt.YMax
	}
	return plotFigure(title, p), nil
}

// Bars writes BarsFigure(title, categories, series, opt) to path (.png or
// .svg).
func Bars(path, title string, categories []string, series []BarSeries, opt BarOptions) error {
	f, err := BarsFigure(title, categories, series, opt)
	return save(path, f, err)
}

// groupedBars draws the bars of every series side by side in each category,
// 80% of the category width in all, with error bars. Widths follow the
// canvas at draw time (plotter.BarChart takes a fixed width).
type groupedBars struct {
	series []BarSeries
}

func (g *groupedBars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := len(g.series)
	bw := 0.8 * (trX(1) - trX(0)) / vg.Length(n)
	errSty := draw.LineStyle{Color: color.Black, Width: vg.Points(0.9)}
	base := trY(math.Max(p.Y.Min, math.Min(0, p.Y.Max)))
	for s, sr := range g.series {
		for i, v := range sr.Values {
			x := trX(float64(i)) + bw*(vg.Length(s)-vg.Length(n)/2)
			y := trY(v)
			rect := c.ClipPolygonXY([]vg.Point{{X: x, Y: base}, {X: x + bw, Y: base}, {X: x + bw, Y: y}, {X: x, Y: y}})
			c.FillPolygon(Color(s), rect)
			if sr.Errs == nil || sr.Errs[i] == 0 {
				continue
			}
			xm := x + bw/2
			y0, y1 := trY(v-sr.Errs[i]), trY(v+sr.Errs[i])
			cw := bw / 4
			c.StrokeLines(errSty, c.ClipLinesXY(
				[]vg.Point{{X: xm, Y: y0}, {X: xm, Y: y1}},
				[]vg.Point{{X: xm - cw, Y: y0}, {X: xm + cw, Y: y0}},
				[]vg.Point{{X: xm - cw, Y: y1}, {X: xm + cw, Y: y1}})...)
		}
	}
}

// DataRange covers the categories, the bar ends and zero.
func (g *groupedBars) DataRange() (xmin, xmax, ymin, ymax float64) {
	ymin, ymax = 0, 0
	for _, sr := range g.series {
		for i, v := range sr.Values {
			e := 0.0
			if sr.Errs != nil {
				e = sr.Errs[i]
			}
			ymin = math.Min(ymin, v-e)
			ymax = math.Max(ymax, v+e)
		}
	}
	return -0.5, float64(len(g.series[0].Values)) - 0.5, ymin, ymax
}

// swatch is a filled-square legend thumbnail.
type swatch struct{ c color.Color }

func (s swatch) Thumbnail(c *draw.Canvas) {
	c.FillPolygon(s.c, []vg.Point{c.Min, {X: c.Min.X, Y: c.Max.Y}, c.Max, {X: c.Max.X, Y: c.Min.Y}})
}
