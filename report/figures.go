package report

import (
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // picture reads the size of GIF files
	_ "image/jpeg" // and of JPEG files
	_ "image/png"  // and of PNG files
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/oddity-ml/oddity/suite/results"
	"github.com/oddity-ml/oddity/viz"
)

// rasterPoints is the number of points from which a scatter plot is
// written as PNG rather than SVG: an SVG holds one element per point, so a
// t-SNE of a few thousand points weighs hundreds of kilobytes and is slow
// for a browser to draw, while its PNG at viz.DefaultDPI stays near 130 kB
// and looks the same on screen.
const rasterPoints = 1000

// figure draws one plot with viz and names its file, as PNG when raster is
// set and as SVG otherwise. A plot viz refuses (empty or non-finite data)
// becomes a figure with Err set, shown as a note, rather than failing the
// whole report.
func (b *builder) figure(name, title string, raster bool, make func() (*viz.Figure, error)) *figure {
	ext := ".svg"
	if raster {
		ext = ".png"
	}
	f := &figure{Name: b.fileName(name, ext), Title: title}
	vf, err := make()
	if err == nil {
		var data []byte
		if raster {
			data, err = vf.PNG()
		} else {
			data, err = vf.SVG()
		}
		if err == nil {
			f.Data = data
			// Points to CSS pixels (96 per inch): the size an SVG of the
			// figure declares, whichever format the file has.
			f.W, f.H = int(math.Round(float64(vf.Width)*4/3)), int(math.Round(float64(vf.Height)*4/3))
			return f
		}
	}
	f.Err = err.Error()
	return f
}

// fileName returns a unique file name for a figure: report-<slug><ext>.
func (b *builder) fileName(name, ext string) string {
	base := FigurePrefix + slug(name)
	n := base + ext
	for i := 2; b.names[n]; i++ {
		n = base + "-" + strconv.Itoa(i) + ext
	}
	b.names[n] = true
	return n
}

// slug keeps letters and digits, lowercased, and turns every run of
// anything else into one hyphen.
func slug(s string) string {
	var out strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && out.Len() > 0 {
				out.WriteByte('-')
			}
			dash = false
			out.WriteRune(r)
			continue
		}
		dash = true
	}
	if out.Len() == 0 {
		return "figure"
	}
	if out.Len() > 80 {
		return out.String()[:80]
	}
	return out.String()
}

// sweep is a robustness cell's place on the swept axis.
type sweep struct {
	X    float64
	OK   bool
	Rest string
}

// token is one "key=value" part of a task.
type token struct {
	Key, Val string
	X        float64
	Num, Pct bool
}

// tokens splits a task such as "known=1,labeled=30" or "contamination=5%"
// into its parts; a value that is a number (with an optional %) is numeric.
func tokens(task string) []token {
	var out []token
	for _, part := range strings.FieldsFunc(task, func(r rune) bool { return r == ',' || r == ';' || r == ' ' }) {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			k, v = "", part
		}
		t := token{Key: k, Val: v}
		num := strings.TrimSuffix(v, "%")
		t.Pct = num != v
		if x, err := strconv.ParseFloat(num, 64); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
			t.X, t.Num = x, true
		}
		out = append(out, t)
	}
	return out
}

// sweptKey picks the swept quantity of a robustness table: the numeric key
// with the most distinct values over its cells (the first such on a tie).
// It returns the key and whether its values are percentages.
func sweptKey(cells []*results.Cell) (key string, pct, ok bool) {
	distinct := map[string]map[float64]bool{}
	var order []string
	isPct := map[string]bool{}
	for _, c := range cells {
		for _, t := range tokens(c.Spec.Task) {
			if !t.Num {
				continue
			}
			if distinct[t.Key] == nil {
				distinct[t.Key] = map[float64]bool{}
				order = append(order, t.Key)
			}
			distinct[t.Key][t.X] = true
			isPct[t.Key] = isPct[t.Key] || t.Pct
		}
	}
	best := -1
	for _, k := range order {
		if len(distinct[k]) > best {
			key, best = k, len(distinct[k])
		}
	}
	return key, isPct[key], best > 0
}

// placeOf finds a cell's value of the swept key; Rest is the task's other
// parts, which with the data set name a plot.
func placeOf(task, key string) sweep {
	var s sweep
	var rest []string
	for _, t := range tokens(task) {
		if t.Num && t.Key == key && !s.OK {
			s.X, s.OK = t.X, true
			continue
		}
		if t.Key == "" {
			rest = append(rest, t.Val)
		} else {
			rest = append(rest, t.Key+"="+t.Val)
		}
	}
	s.Rest = strings.Join(rest, ",")
	return s
}

func (b *builder) robustness() *section {
	s := &section{ID: "robustness", Title: "Robustness",
		Intro: "How each measure changes with the swept quantity (labelled anomalies, contamination): one line per method through the mean over seeds at each point, with error bars of ± one standard deviation over seeds; the tables give the same numbers."}
	for _, g := range groupCells(b.res.Cells, results.SectionRobustness) {
		bl := b.gridBlock(g)
		key, pct, ok := sweptKey(g.Cells)
		if !ok {
			bl.Notes = append(bl.Notes, "No task of this table names a number, so there is nothing to plot.")
			s.Blocks = append(s.Blocks, bl)
			continue
		}
		xLabel := key
		if xLabel == "" {
			xLabel = "value"
		}
		if pct {
			xLabel += " (%)"
		}
		// One plot per data set and remaining task parts, per measure.
		type plotKey struct{ data, rest string }
		var plots []plotKey
		byPlot := map[plotKey][]*results.Cell{}
		var unplaced []string
		for _, c := range g.Cells {
			p := placeOf(c.Spec.Task, key)
			if !p.OK {
				unplaced = append(unplaced, column(c)+" "+orNone(c.Spec.Task))
				continue
			}
			k := plotKey{c.Spec.Data, p.Rest}
			if _, seen := byPlot[k]; !seen {
				plots = append(plots, k)
			}
			byPlot[k] = append(byPlot[k], c)
		}
		for _, pk := range plots {
			cells := byPlot[pk]
			for _, m := range measures(cells) {
				var cols []string
				// x, mean and standard deviation over seeds.
				pts := map[string][][3]float64{}
				for _, c := range cells {
					v, ok := c.Metrics[m]
					if !ok || math.IsNaN(v.Mean) || math.IsInf(v.Mean, 0) {
						continue
					}
					col := column(c)
					if _, seen := pts[col]; !seen {
						cols = append(cols, col)
					}
					sd := v.Std
					if math.IsNaN(sd) || math.IsInf(sd, 0) || sd < 0 {
						sd = 0
					}
					pts[col] = append(pts[col], [3]float64{placeOf(c.Spec.Task, key).X, v.Mean, sd})
				}
				if len(cols) == 0 {
					continue
				}
				var series []viz.Series
				lo, hi := math.Inf(1), math.Inf(-1)
				for _, col := range cols {
					p := pts[col]
					sort.SliceStable(p, func(i, j int) bool { return p[i][0] < p[j][0] })
					sr := viz.Series{Name: col}
					for _, xy := range p {
						sr.X = append(sr.X, xy[0])
						sr.Y = append(sr.Y, xy[1])
						sr.Err = append(sr.Err, xy[2])
						lo, hi = math.Min(lo, xy[0]), math.Max(hi, xy[0])
					}
					series = append(series, sr)
				}
				where := pk.data
				if pk.rest != "" {
					where += " " + pk.rest
				}
				// A sweep over more than a decade and a half (1 to 120
				// labelled anomalies) reads better on a log axis, where
				// its small values do not bunch up at the left.
				opt := viz.LineOptions{XLabel: xLabel, YLabel: measureTitle(m) + " (mean ± std over seeds)", Points: true, LogX: lo > 0 && hi >= 20*lo}
				if opt.LogX {
					opt.XLabel += ", log scale"
				}
				title := measureTitle(m) + " vs " + xLabel + ", " + where
				bl.Figures = append(bl.Figures, b.figure(g.Table+"-"+where+"-"+m+"-vs-"+key, title, false, func() (*viz.Figure, error) {
					return viz.LinesFigure(title, series, opt)
				}))
			}
		}
		if len(unplaced) > 0 {
			bl.Notes = append(bl.Notes, "Not plotted (no "+xLabel+" in the task): "+strings.Join(unplaced, "; ")+".")
		}
		s.Blocks = append(s.Blocks, bl)
	}
	s.Blocks = emptyNote(s.Blocks, "robustness cells")
	return s
}

// pictures draws, per table and task, the ROC and PR curves of all its
// methods on one plot each, then each cell's score histogram, embeddings
// and image files.
func (b *builder) pictures() *section {
	s := &section{ID: "pictures", Title: "Pictures",
		Intro: "Per task, the first seed's ROC and precision-recall curves of every method (legend: that seed's area), each method's score histogram (normal against anomalous test samples, as densities; when a few scores lie far out, the axis covers the bulk of them and the edge bins also count the rest, as the axis label says), t-SNE embeddings of the latent space coloured by true label, and image grids."}
	for _, sec := range b.sectionNames() {
		for _, g := range groupCells(b.res.Cells, sec) {
			l := makeLayout(g.Cells)
			byRow := map[string][]*results.Cell{}
			for _, c := range g.Cells {
				byRow[rowKey(c)] = append(byRow[rowKey(c)], c)
			}
			for _, r := range l.Rows {
				if bl := b.taskPictures(g.Table, l.RowLabel[r], byRow[r]); bl != nil {
					s.Blocks = append(s.Blocks, bl)
				}
			}
		}
	}
	s.Blocks = emptyNote(s.Blocks, "curves, scores, embeddings or images")
	return s
}

func (b *builder) taskPictures(tableName, task string, cells []*results.Cell) *block {
	bl := &block{Title: tableTitle(tableName) + ": " + task}
	where := tableName + " " + task
	var roc, pr []viz.Curve
	for _, c := range cells {
		first := map[string]float64{}
		if len(c.PerSeed) > 0 {
			first = c.PerSeed[0]
		}
		if c.ROC != nil && len(c.ROC.X) > 0 {
			roc = append(roc, viz.Curve{Name: column(c), X: c.ROC.X, Y: c.ROC.Y, Area: first["auc_roc"]})
		}
		if c.PR != nil && len(c.PR.X) > 0 {
			pr = append(pr, viz.Curve{Name: column(c), X: c.PR.X, Y: c.PR.Y, Area: first["auc_pr"]})
		}
	}
	if len(roc) > 0 {
		t := "ROC, " + task
		bl.Figures = append(bl.Figures, b.figure(where+"-roc", t, false, func() (*viz.Figure, error) { return viz.ROCFigure(t, roc) }))
	}
	if len(pr) > 0 {
		t := "PR, " + task
		bl.Figures = append(bl.Figures, b.figure(where+"-pr", t, false, func() (*viz.Figure, error) { return viz.PRFigure(t, pr) }))
	}
	for _, c := range cells {
		who := column(c) + ", " + where
		short := column(c) + ", " + task
		file := where + " " + column(c) // files sort by table and task
		if sc := c.Scores; sc != nil && len(sc.Normal)+len(sc.Anomaly) > 0 {
			var groups []viz.Group
			if len(sc.Normal) > 0 {
				groups = append(groups, viz.Group{Name: "normal", Values: sc.Normal})
			}
			if len(sc.Anomaly) > 0 {
				groups = append(groups, viz.Group{Name: "anomaly", Values: sc.Anomaly})
			}
			t := "Scores, " + short
			bl.Figures = append(bl.Figures, b.figure(file+"-scores", t, false, func() (*viz.Figure, error) {
				return viz.HistogramsFigure(t, groups, viz.HistOptions{XLabel: "Anomaly score", Robust: true})
			}))
		}
		if e := c.Embedding; e != nil && len(e.X) > 0 {
			of := ""
			if e.Space != "" {
				of = " of " + e.Space
			}
			t := "t-SNE" + of + " by label, " + short
			raster := len(e.X) >= rasterPoints
			bl.Figures = append(bl.Figures, b.figure(file+"-tsne", t, raster, func() (*viz.Figure, error) {
				return viz.ScatterFigure(t, e.X, e.Y, e.Label, viz.ScatterOptions{})
			}))
			if len(e.Cluster) > 0 {
				tc := "t-SNE" + of + " by cluster, " + short
				bl.Figures = append(bl.Figures, b.figure(file+"-tsne-clusters", tc, raster, func() (*viz.Figure, error) {
					return viz.ScatterFigure(tc, e.X, e.Y, e.Cluster, viz.ScatterOptions{})
				}))
			}
		}
		for _, img := range c.Images {
			bl.Images = append(bl.Images, b.picture(who, img))
		}
	}
	if len(bl.Figures) == 0 && len(bl.Images) == 0 {
		return nil
	}
	return bl
}

// imageTypes are the image files the report shows, by extension.
var imageTypes = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".svg": true}

// picture checks an image file listed by a cell. Paths must be relative and
// stay inside the output folder; a missing, unreadable or unknown file gets
// a visible note instead of the image. The pages refer to the file where it
// lies; its pixel size, read from its header, lets the HTML page reserve
// its place before it loads.
func (b *builder) picture(who, rel string) *picture {
	p := &picture{Caption: path.Base(filepath.ToSlash(rel)) + ", " + who, Rel: filepath.ToSlash(rel)}
	clean := filepath.Clean(filepath.FromSlash(rel))
	if rel == "" || filepath.IsAbs(clean) || clean == ".." || strings.HasPrefix(clean, ".."+string(filepath.Separator)) {
		p.Missing = fmt.Sprintf("image %q refused: not a path inside the output folder", rel)
		return p
	}
	ext := strings.ToLower(filepath.Ext(clean))
	if !imageTypes[ext] {
		p.Missing = fmt.Sprintf("image %s not shown: unknown file type", rel)
		return p
	}
	f, err := os.Open(filepath.Join(b.dir, clean))
	if errors.Is(err, fs.ErrNotExist) {
		p.Missing = fmt.Sprintf("image %s missing: no such file in the output folder", rel)
		return p
	}
	if err != nil {
		p.Missing = fmt.Sprintf("image %s unreadable: %v", rel, err)
		return p
	}
	defer f.Close()
	if ext == ".svg" {
		return p
	}
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		p.Missing = fmt.Sprintf("image %s unreadable: %v", rel, err)
		return p
	}
	p.W, p.H = cfg.Width, cfg.Height
	return p
}
