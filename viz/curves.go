package viz

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Curve is one ROC or precision-recall curve.
type Curve struct {
	// Name labels the curve in the legend.
	Name string
	// X and Y are the curve's points: false and true positive rate for ROC,
	// recall and precision for PR, all in [0, 1] and in drawing order.
	X, Y []float64
	// Area is shown in the legend: AUC for ROC, AP (average precision) for
	// PR. Zero means compute it from the points: the trapezoidal area for
	// ROC (what roc_auc_score gives on a full ROC curve), and for PR the
	// step-wise sum_i (R_i - R_{i+1}) P_i over points in
	// precision_recall_curve order, recall decreasing (what
	// average_precision_score gives on a full PR curve).
	Area float64
}

// ROCFigure plots ROC curves with a dashed chance diagonal; each legend entry
// shows the curve's AUC.
func ROCFigure(title string, curves []Curve) (*Figure, error) {
	p, err := curvePlot(title, "ROC", "AUC", "False positive rate", "True positive rate", curves, trapezoid, plotter.NoStep)
	if err != nil {
		return nil, err
	}
	chance, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	chance.Color = color.NRGBA{0x99, 0x99, 0x99, 0xff}
	chance.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(chance)
	return plotFigure(title, p), nil
}

// ROC writes ROCFigure(title, curves) to path (.png or .svg).
func ROC(path, title string, curves []Curve) error {
	f, err := ROCFigure(title, curves)
	return save(path, f, err)
}

// PRFigure plots precision-recall curves (X recall, Y precision) as steps:
// from each point a horizontal segment to the next point's recall, so with
// points in precision_recall_curve order (recall decreasing) the area under
// the drawn steps is the average precision shown in the legend.
func PRFigure(title string, curves []Curve) (*Figure, error) {
	p, err := curvePlot(title, "PR", "AP", "Recall", "Precision", curves, stepAP, plotter.PostStep)
	if err != nil {
		return nil, err
	}
	return plotFigure(title, p), nil
}

// PR writes PRFigure(title, curves) to path (.png or .svg).
func PR(path, title string, curves []Curve) error {
	f, err := PRFigure(title, curves)
	return save(path, f, err)
}

func curvePlot(title, kind, areaName, xl, yl string, curves []Curve, area func(x, y []float64) float64, step plotter.StepKind) (*plot.Plot, error) {
	if len(curves) == 0 {
		return nil, fmt.Errorf("%w: %s plot: no curves", ErrInput, kind)
	}
	p := newPlot(title)
	p.X.Label.Text, p.Y.Label.Text = xl, yl
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1.02
	p.Add(plotter.NewGrid())
	for i, c := range curves {
		what := fmt.Sprintf("%s curve %d (%q)", kind, i, c.Name)
		if err := checkXY(what, c.X, c.Y); err != nil {
			return nil, err
		}
		for t := range c.X {
			if c.X[t] < 0 || c.X[t] > 1 || c.Y[t] < 0 || c.Y[t] > 1 {
				return nil, fmt.Errorf("%w: %s: point %d (%v, %v) outside [0, 1]²", ErrInput, what, t, c.X[t], c.Y[t])
			}
		}
		if math.IsNaN(c.Area) || math.IsInf(c.Area, 0) {
			return nil, fmt.Errorf("%w: %s: area is %v", ErrInput, what, c.Area)
		}
		a := c.Area
		if a == 0 {
			a = area(c.X, c.Y)
		}
		l, err := plotter.NewLine(xys(c.X, c.Y))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInput, what, err)
		}
		l.Color = Color(i)
		l.Width = vg.Points(1.6)
		l.StepStyle = step
		p.Add(l)
		name := c.Name
		if name != "" {
			name += " "
		}
		p.Legend.Add(fmt.Sprintf("%s(%s %.3f)", name, areaName, a), l)
	}
	return p, nil
}

// trapezoid is the absolute area under the polyline through (x, y) in the
// given order, so a curve listed either way gives the same area.
func trapezoid(x, y []float64) float64 {
	var a float64
	for i := 1; i < len(x); i++ {
		a += (x[i] - x[i-1]) * (y[i] + y[i-1]) / 2
	}
	return math.Abs(a)
}

// stepAP is scikit-learn's average precision sum_i (R_i - R_{i+1}) P_i over
// the points in precision_recall_curve order (recall decreasing); points in
// the reverse order are reversed first.
func stepAP(recall, precision []float64) float64 {
	n := len(recall)
	at := func(i int) (float64, float64) { return recall[i], precision[i] }
	if recall[0] < recall[n-1] {
		at = func(i int) (float64, float64) { return recall[n-1-i], precision[n-1-i] }
	}
	var ap float64
	for i := 0; i+1 < n; i++ {
		r, p := at(i)
		rNext, _ := at(i + 1)
		ap += (r - rNext) * p
	}
	return ap
}

func xys(x, y []float64) plotter.XYs {
	out := make(plotter.XYs, len(x))
	for i := range x {
		out[i].X, out[i].Y = x[i], y[i]
	}
	return out
}

// Series is one line of a line plot.
type Series struct {
	// Name labels the line in the legend (no legend entry when empty).
	Name string
	// X may be nil for 1, 2, ..., len(Y) (epochs, steps); otherwise it has
	// len(Y) values.
	X, Y []float64
	// Err, when not nil, has one half-length of error bar per point (e.g.
	// the standard deviation over seeds), drawn from Y-Err to Y+Err; zero
	// draws no bar there.
	Err []float64
}

// LineOptions configures LinesFigure.
type LineOptions struct {
	// XLabel and YLabel name the axes.
	XLabel, YLabel string
	// LogY draws the Y axis on a log scale (all Y must then be positive,
	// and so must every error bar's lower end).
	LogY bool
	// LogX draws the X axis on a log scale (all X must then be positive).
	LogX bool
	// Points marks each data point with a small disc as well.
	Points bool
}

// linePad is the margin, as a share of the data's span on the axis's
// scale, added on every side of a line plot with points or error bars, so
// that no marker sits on the frame.
const linePad = 0.06

// LinesFigure plots one or more series as lines, e.g. training and validation
// loss per epoch.
func LinesFigure(title string, series []Series, opt LineOptions) (*Figure, error) {
	if len(series) == 0 {
		return nil, fmt.Errorf("%w: line plot: no series", ErrInput)
	}
	p := newPlot(title)
	p.X.Label.Text, p.Y.Label.Text = opt.XLabel, opt.YLabel
	p.Add(plotter.NewGrid())
	if opt.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = logTicks{}
	}
	if opt.LogX {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = logTicks{}
	}
	pad := opt.Points
	for i, s := range series {
		what := fmt.Sprintf("series %d (%q)", i, s.Name)
		x := s.X
		if x == nil {
			x = make([]float64, len(s.Y))
			for t := range x {
				x[t] = float64(t + 1)
			}
		}
		if err := checkXY(what, x, s.Y); err != nil {
			return nil, err
		}
		if s.Err != nil {
			if len(s.Err) != len(s.Y) {
				return nil, fmt.Errorf("%w: %s: %d error bars for %d points", ErrInput, what, len(s.Err), len(s.Y))
			}
			if err := checkFinite(what+" error bars", s.Err); err != nil {
				return nil, err
			}
			for t, e := range s.Err {
				if e < 0 {
					return nil, fmt.Errorf("%w: %s: negative error bar %v at %d", ErrInput, what, e, t)
				}
				if opt.LogY && s.Y[t]-e <= 0 {
					return nil, fmt.Errorf("%w: %s: error bar at %d reaches %v, not positive on a log axis", ErrInput, what, t, s.Y[t]-e)
				}
			}
			pad = true
		}
		if opt.LogY {
			for t, v := range s.Y {
				if v <= 0 {
					return nil, fmt.Errorf("%w: %s: y[%d] = %v is not positive on a log axis", ErrInput, what, t, v)
				}
			}
		}
		if opt.LogX {
			for t, v := range x {
				if v <= 0 {
					return nil, fmt.Errorf("%w: %s: x[%d] = %v is not positive on a log axis", ErrInput, what, t, v)
				}
			}
		}
		l, err := plotter.NewLine(xys(x, s.Y))
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInput, what, err)
		}
		l.Color = Color(i)
		l.Width = vg.Points(1.4)
		p.Add(l)
		thumbs := []plot.Thumbnailer{l}
		if s.Err != nil {
			eb := &plotter.YErrorBars{XYs: xys(x, s.Y), YErrors: make(plotter.YErrors, len(s.Err)),
				LineStyle: draw.LineStyle{Color: Color(i), Width: vg.Points(1)}, CapWidth: vg.Points(5)}
			for t, e := range s.Err {
				eb.YErrors[t].Low, eb.YErrors[t].High = e, e
			}
			p.Add(&errBars{eb})
		}
		if opt.Points {
			sc, err := plotter.NewScatter(xys(x, s.Y))
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %v", ErrInput, what, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: Color(i), Radius: vg.Points(1.8), Shape: draw.CircleGlyph{}}
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if s.Name != "" {
			p.Legend.Add(s.Name, thumbs...)
		}
	}
	if pad {
		p.X.Min, p.X.Max = padRange(p.X.Min, p.X.Max, opt.LogX)
		p.Y.Min, p.Y.Max = padRange(p.Y.Min, p.Y.Max, opt.LogY)
	}
	return plotFigure(title, p), nil
}

// errBars draws gonum's error bars without their zero-length ones (which
// would leave a stray cap on the point).
type errBars struct{ *plotter.YErrorBars }

func (e *errBars) Plot(c draw.Canvas, p *plot.Plot) {
	keep := &plotter.YErrorBars{LineStyle: e.LineStyle, CapWidth: e.CapWidth}
	for i, v := range e.YErrors {
		if v.Low != 0 || v.High != 0 {
			keep.XYs = append(keep.XYs, e.XYs[i])
			keep.YErrors = append(keep.YErrors, v)
		}
	}
	keep.Plot(c, p)
}

// padRange widens [lo, hi] by linePad of its span on each side, measured
// in decades on a log axis; a single value gets a span of its own.
func padRange(lo, hi float64, log bool) (float64, float64) {
	if log {
		l, h := padRange(math.Log10(lo), math.Log10(hi), false)
		return math.Pow(10, l), math.Pow(10, h)
	}
	span := hi - lo
	if !(span > 0) {
		span = math.Max(math.Abs(lo), 1) * 0.2
	}
	return lo - linePad*span, hi + linePad*span
}

// Lines writes LinesFigure(title, series, opt) to path (.png or .svg).
func Lines(path, title string, series []Series, opt LineOptions) error {
	f, err := LinesFigure(title, series, opt)
	return save(path, f, err)
}
