package viz

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ScatterOptions configures ScatterFigure.
type ScatterOptions struct {
	// Names names label values in the legend (Names[label] when in range,
	// else the number).
	Names []string
	// Radius is the marker radius (default 1.6 points up to 2,000 points, 1
	// point above).
	Radius vg.Length
	// XLabel and YLabel name the axes (default none: t-SNE axes mean
	// nothing).
	XLabel, YLabel string
	// Alpha is the marker opacity in (0, 1] (default 1: exact label colours).
	Alpha float64
	// NoLegend hides the legend panel.
	NoLegend bool
}

// ScatterFigure plots the points (xs[i], ys[i]) coloured by labels[i] with
// LabelColor, with a legend beside the plot listing every label present.
// Points are drawn in input order. Sizes of 10,000+ points are fine; the SVG
// form holds one element per point.
func ScatterFigure(title string, xs, ys []float64, labels []int, opt ScatterOptions) (*Figure, error) {
	if err := checkXY("scatter", xs, ys); err != nil {
		return nil, err
	}
	if len(labels) != len(xs) {
		return nil, fmt.Errorf("%w: scatter: %d labels for %d points", ErrInput, len(labels), len(xs))
	}
	if opt.Alpha == 0 {
		opt.Alpha = 1
	}
	if !(opt.Alpha > 0 && opt.Alpha <= 1) {
		return nil, fmt.Errorf("%w: scatter: alpha %v outside (0, 1]", ErrInput, opt.Alpha)
	}
	if opt.Radius == 0 {
		opt.Radius = vg.Points(1.6)
		if len(xs) > 2000 {
			opt.Radius = vg.Points(1)
		}
	}
	if !(opt.Radius > 0) {
		return nil, fmt.Errorf("%w: scatter: marker radius %v", ErrInput, opt.Radius)
	}
	uniq := slices.Clone(labels)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)

	p := newPlot(title)
	p.X.Label.Text, p.Y.Label.Text = opt.XLabel, opt.YLabel
	pts := &labelScatter{xs: xs, ys: ys, labels: labels, radius: opt.Radius, alpha: opt.Alpha}
	p.Add(pts)
	// Pad the data range a little so edge markers are not clipped.
	xmin, xmax, ymin, ymax := pts.DataRange()
	padX, padY := 0.02*(xmax-xmin), 0.02*(ymax-ymin)
	if padX == 0 {
		padX = 1
	}
	if padY == 0 {
		padY = 1
	}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xmin-padX, xmax+padX, ymin-padY, ymax+padY

	if !opt.NoLegend {
		for _, l := range uniq {
			name := strconv.Itoa(l)
			if l >= 0 && l < len(opt.Names) && opt.Names[l] != "" {
				name = opt.Names[l]
			}
			p.Legend.Add(name, labelThumb{label: l, radius: vg.Points(3.5)})
		}
	}
	fig := plotFigure(title, p)
	fig.Width, fig.Height = 6.5*vg.Inch, 5.5*vg.Inch
	return fig, nil
}

// Scatter writes ScatterFigure(title, xs, ys, labels, opt) to path (.png or
// .svg).
func Scatter(path, title string, xs, ys []float64, labels []int, opt ScatterOptions) error {
	f, err := ScatterFigure(title, xs, ys, labels, opt)
	return save(path, f, err)
}

// labelScatter draws one small filled marker per point. It bypasses
// plotter.Scatter, which copies the points into XYs and resolves a style
// function per point, and skips points outside the canvas cheaply.
type labelScatter struct {
	xs, ys []float64
	labels []int
	radius vg.Length
	alpha  float64
}

func (s *labelScatter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := draw.GlyphStyle{Radius: s.radius}
	last := math.MinInt
	for i, x := range s.xs {
		if l := s.labels[i]; l != last {
			last = l
			sty.Color = withAlpha(LabelColor(l), s.alpha)
			sty.Shape = labelShape(l)
		}
		pt := vg.Point{X: trX(x), Y: trY(s.ys[i])}
		if !c.Contains(pt) {
			continue
		}
		c.DrawGlyphNoClip(sty, pt)
	}
}

func (s *labelScatter) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = slices.Min(s.xs), slices.Max(s.xs)
	ymin, ymax = slices.Min(s.ys), slices.Max(s.ys)
	return
}

// labelThumb is the legend marker of one label.
type labelThumb struct {
	label  int
	radius vg.Length
}

func (t labelThumb) Thumbnail(c *draw.Canvas) {
	sty := draw.GlyphStyle{Color: LabelColor(t.label), Radius: t.radius, Shape: labelShape(t.label)}
	c.DrawGlyphNoClip(sty, c.Center())
}
