package viz

import (
	"fmt"
	"image/color"
	"sort"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// CriticalDifferenceFigure draws a comparison of methods over many data
// sets: each method a point at its average rank (1 = best, on the left),
// methods listed top to bottom from best to worst, and each clique (a
// group of methods no pair of which differs significantly; metrics.Cliques)
// a vertical bar on the right spanning its members. It is the information
// of Demšar's critical-difference diagram, laid out as a dot plot so that
// long method names stay readable. cliques hold indices into names.
func CriticalDifferenceFigure(title string, names []string, avgRanks []float64, cliques [][]int) (*Figure, error) {
	k := len(names)
	if k < 2 || len(avgRanks) != k {
		return nil, fmt.Errorf("%w: critical difference: %d names, %d ranks", ErrInput, k, len(avgRanks))
	}
	if err := checkFinite("critical difference ranks", avgRanks); err != nil {
		return nil, err
	}
	order := make([]int, k)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return avgRanks[order[a]] < avgRanks[order[b]] })
	row := make([]int, k) // method -> row from the top
	labels := make([]string, k)
	for r, m := range order {
		row[m] = r
		labels[k-1-r] = fmt.Sprintf("%s (%.2f)", names[m], avgRanks[m])
	}
	y := func(m int) float64 { return float64(k - 1 - row[m]) }
	p := newPlot(title)
	p.X.Label.Text = "average rank (1 = best)"
	p.Add(&plotter.Grid{Vertical: draw.LineStyle{Color: color.Gray{215}, Width: vg.Points(0.5)}})
	pts := make(plotter.XYs, k)
	for m := range names {
		pts[m].X, pts[m].Y = avgRanks[m], y(m)
	}
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	sc.GlyphStyle.Shape = draw.CircleGlyph{}
	sc.GlyphStyle.Radius = vg.Points(3.5)
	sc.GlyphStyle.Color = Color(0)
	p.Add(sc)
	maxRank := 0.0
	for _, r := range avgRanks {
		maxRank = max(maxRank, r)
	}
	for c, members := range cliques {
		if len(members) < 2 {
			continue
		}
		lo, hi := y(members[0]), y(members[0])
		for _, m := range members {
			if m < 0 || m >= k {
				return nil, fmt.Errorf("%w: critical difference: clique %d names method %d of %d", ErrInput, c, m, k)
			}
			lo, hi = min(lo, y(m)), max(hi, y(m))
		}
		x := maxRank + 0.25 + 0.2*float64(c)
		l, err := plotter.NewLine(plotter.XYs{{X: x, Y: lo - 0.2}, {X: x, Y: hi + 0.2}})
		if err != nil {
			return nil, err
		}
		l.LineStyle = draw.LineStyle{Color: Color(1), Width: vg.Points(3)}
		p.Add(l)
		maxRankBar := x
		p.X.Max = max(p.X.Max, maxRankBar+0.2)
	}
	p.NominalY(labels...)
	p.Y.Min, p.Y.Max = -0.7, float64(k)-0.3
	p.X.Min = min(p.X.Min, 0.8)
	f := plotFigure(title, p)
	f.Height = vg.Length(1.2+0.32*float64(k)) * vg.Inch
	return f, nil
}
