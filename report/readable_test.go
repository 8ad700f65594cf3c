package report

import (
	"bytes"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/suite/results"
)

// manyFigures is synthetic() with n more common-ground cells, each with a
// score sample of points values and curves, and one with a t-SNE of
// points points.
func manyFigures(n, points int) *results.Results {
	res := synthetic()
	vals := func(off float64) []float64 {
		v := make([]float64, points)
		for i := range v {
			v[i] = off + math.Sin(float64(i))
		}
		return v
	}
	for i := range n {
		c := results.Cell{ID: fmt.Sprint("many", i), Spec: results.Spec{Section: results.SectionCommon, Table: "common-many", Method: "m" + strconv.Itoa(i%4), Data: "d", Task: fmt.Sprintf("t%03d", i/4)},
			Metrics: map[string]metrics.Summary{"auc_roc": sum(0.5+float64(i%7)/20, 0.01, 2)},
			Scores:  &results.ScoreSample{Normal: vals(0), Anomaly: vals(1)},
			ROC:     &results.XY{X: []float64{0, 0.5, 1}, Y: []float64{0, 0.8, 1}}}
		if i == 0 {
			e := &results.Embedding{X: vals(0), Y: vals(2), Label: make([]int, points)}
			for k := range e.Label {
				e.Label[k] = k % 10
			}
			c.Embedding = e
		}
		res.Cells = append(res.Cells, c)
	}
	return res
}

// The HTML page does not grow with the data behind its plots: with 200
// more score histograms and a t-SNE it stays small, and the same page
// comes out whether each plot has 50 points or 5,000. A t-SNE of thousands
// of points is a PNG, which stays small too.
func TestHTMLSmall(t *testing.T) {
	dir, md, page, _ := render(t, manyFigures(200, 5000))
	_, _, small, _ := render(t, manyFigures(200, 50))
	// The one difference: the 50-point t-SNE is vector, the other a PNG.
	small = strings.Replace(small, "-m0-tsne.svg", "-m0-tsne.png", 1)
	if page != small {
		t.Error("the HTML page depends on the number of points in its plots")
		for i := range min(len(page), len(small)) {
			if page[i] != small[i] {
				t.Logf("first difference: %q against %q", page[max(0, i-200):min(len(page), i+100)], small[max(0, i-200):min(len(small), i+100)])
				break
			}
		}
	}
	figs, err := filepath.Glob(filepath.Join(dir, FiguresDir, FigurePrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	var plots int64
	for _, f := range figs {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		plots += st.Size()
	}
	if len(figs) < 250 {
		t.Fatalf("%d figures, want over 250", len(figs))
	}
	// About 300 bytes of <figure><img ...></figure> per plot, and the
	// tables; inlined, the plots alone would be plots bytes.
	if limit := 100_000 + 400*len(figs); len(page) > limit {
		t.Errorf("HTML of %d plots is %d bytes, more than %d (the plots weigh %d)", len(figs), len(page), limit, plots)
	}
	t.Logf("HTML %d bytes for %d plots of %d bytes in all", len(page), len(figs), plots)
	tsne := filepath.Join(dir, FiguresDir, FigurePrefix+"common-many-t000-m0-tsne.png")
	b, err := os.ReadFile(tsne)
	if err != nil {
		t.Fatalf("the 5,000-point t-SNE is not a PNG: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 400_000 || img.Bounds().Dx() < 800 {
		t.Errorf("t-SNE PNG of %d bytes, %d px wide", len(b), img.Bounds().Dx())
	}
	if !strings.Contains(md, "]("+FiguresDir+"/"+filepath.Base(tsne)+")") || !strings.Contains(page, `src="`+FiguresDir+"/"+filepath.Base(tsne)+`"`) {
		t.Error("the t-SNE PNG is not shown by both pages")
	}
	// The small synthetic t-SNE (4 points) stays vector.
	if _, err := os.Stat(filepath.Join(dir, FiguresDir, FigurePrefix+"deepcluster-clustering-k-10-deepcluster-clustering-tsne.svg")); err != nil {
		t.Error(err)
	}
}

// bestCells returns the marked cells of the table captioned caption in the
// block titled block, as "row label/column heading", rows then foot.
func bestCells(t *testing.T, d *document, block, caption string) []string {
	t.Helper()
	for _, s := range d.Sections {
		for _, b := range s.Blocks {
			if b.Title != block {
				continue
			}
			for _, tb := range b.Tables {
				if tb.Caption != caption {
					continue
				}
				var out []string
				for i, r := range tb.Rows {
					for j := range r {
						if marked(tb.Best, i, j) {
							out = append(out, r[0]+"/"+tb.Head[j])
						}
					}
				}
				for i, r := range tb.Foot {
					for j := range r {
						if marked(tb.FootBest, i, j) {
							out = append(out, r[0]+"/"+tb.Head[j])
						}
					}
				}
				return out
			}
		}
	}
	t.Fatalf("no table %q in block %q", caption, block)
	return nil
}

// The best value of each comparison is marked, by the measure's
// direction, ties at the shown precision together; a lone value, a
// measure without a direction and a mean over fewer tasks are not.
func TestBestMarked(t *testing.T) {
	cell := func(method, task string, roc, share, fit, rate float64) results.Cell {
		m := map[string]metrics.Summary{"extreme_flagged_share": sum(share, 0, 1)}
		if !math.IsNaN(roc) {
			m["auc_roc"] = sum(roc, 0.01, 3)
		}
		return results.Cell{ID: method + task, Spec: results.Spec{Section: results.SectionCommon, Table: "common-x", Method: method, Data: "d", Task: task},
			Metrics: m, FitSeconds: fit, ScoreRate: rate}
	}
	nan := math.NaN()
	res := &results.Results{Cells: []results.Cell{
		cell("m1", "a", 0.90, 0.5, 1, 100), cell("m2", "a", 0.80, 0.9, 0.1, 9000), cell("m3", "a", 0.85, 0.1, 2, 500),
		cell("m1", "b", 0.70, 0.5, 1, 100), cell("m2", "b", 0.7004, 0.9, 0.1, 9000), cell("m3", "b", 0.60, 0.1, 2, 500),
		cell("m1", "c", 0.50, 0.5, 1, 100), cell("m3", "c", 0.90, 0.1, 2, 500),
		cell("m1", "d", 0.40, 0.5, 1, 100), cell("m3", "d", nan, 0.1, 2, 500),
	}}
	d := build(res, t.TempDir())
	title := tableTitle("common-x")
	// Per task: a to m1; b a tie at 0.700; c to m3; d has one value. In
	// the mean row only m1's mean is over all four tasks (m2 lacks c and
	// d, m3 lacks an AUC on d): nothing to compare.
	want := "a/m1 b/m1 b/m2 c/m3"
	if got := strings.Join(bestCells(t, d, title, "AUC-ROC"), " "); got != want {
		t.Errorf("AUC-ROC marks %q, want %q", got, want)
	}
	if got := bestCells(t, d, title, "extreme: flagged"); len(got) != 0 {
		t.Errorf("a measure without a direction marked: %v", got)
	}
	// Means: m2 covers 2 of 4 tasks, so only m1 and m3 compare; m3 has
	// no AUC on d, so no AUC mean compares; m1 is faster, m3 scores more
	// samples per second.
	want = "m1/Fit (s) m3/Score rate (samples/s)"
	if got := strings.Join(bestCells(t, d, title, "Means over tasks"), " "); got != want {
		t.Errorf("means marks %q, want %q", got, want)
	}
	// Both pages show the marks.
	md, page := string(renderMarkdown(d)), ""
	if b, err := renderHTML(d); err == nil {
		page = string(b)
	} else {
		t.Fatal(err)
	}
	for _, w := range []string{"| a | **0.900 ± 0.010** | 0.800 ± 0.010 | 0.850 ± 0.010 |", "| b | **0.700 ± 0.010** | **0.700 ± 0.010** | 0.600 ± 0.010 |", "| d | 0.400 ± 0.010 | — | — |"} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks the row %q", w)
		}
	}
	row := regexp.MustCompile(`<tr><td class="l">a</td><td class="best">0.900 ± 0.010</td><td>0.800 ± 0.010</td><td>0.850 ± 0.010</td></tr>`)
	if !row.MatchString(page) {
		t.Error("HTML: the best of row a is not marked alone")
	}
	if n := strings.Count(page, `class="best"`); n != 6 {
		t.Errorf("HTML marks %d cells, want 6", n)
	}

	// Higher and lower: a rank is best lowest, AUC highest.
	if b := best([]float64{2.5, 1.2, nan, 3}, -1, num); !b[1] || b[0] || b[2] || b[3] {
		t.Errorf("lowest rank: %v", b)
	}
	if b := best([]float64{0.5, nan}, 1, num); b != nil {
		t.Errorf("one value marked: %v", b)
	}
	for m, want := range map[string]int{"auc_roc": 1, "auc_pr": 1, "nmi": 1, "dependency_repair_p_at_r": 1, "extreme_zscore_p_at_r": 0, "extreme_random_p_at_r": 0, "dependency_flagged_share": 0, "f1": 0} {
		if got := direction(m); got != want {
			t.Errorf("direction(%q) = %d, want %d", m, got, want)
		}
	}
}

// The header tells the run's elapsed time from the cells' summed run time.
func TestHeaderTimes(t *testing.T) {
	d := build(synthetic(), t.TempDir())
	h := map[string]string{}
	for _, kv := range d.Header {
		h[kv[0]] = kv[1]
	}
	if v := h["Elapsed (this run)"]; !strings.HasPrefix(v, "1h 02m 03s (3723 s): from Started to Finished") {
		t.Errorf("elapsed: %q", v)
	}
	if v := h["Run time of the cells (sum)"]; !strings.HasPrefix(v, "1h 02m 03s (3723 s): each cell's own wall time, summed") || !strings.Contains(v, "earlier") {
		t.Errorf("cells' run time: %q", v)
	}
	if _, ok := h["Elapsed"]; ok {
		t.Error("a bare Elapsed row is left")
	}
	d = build(&results.Results{}, t.TempDir())
	for _, kv := range d.Header {
		if kv[0] == "Elapsed (this run)" && kv[1] != none {
			t.Errorf("elapsed without times: %q", kv[1])
		}
	}
}

var (
	svgPathRe = regexp.MustCompile(`<path d="M([-0-9.e]+),([-0-9.e]+)(?:(L)([-0-9.e]+),([-0-9.e]+)|A[0-9.]+,[0-9.]+ 0 1 1 ([-0-9.e]+),[^"]*)" style="([^"]*)"`)
)

// The sweep plot shows each point's spread over seeds as an error bar of
// ± one standard deviation, centred on the point.
func TestSweepErrorBars(t *testing.T) {
	dir, _, _, _ := render(t, synthetic())
	b, err := os.ReadFile(filepath.Join(dir, FiguresDir, FigurePrefix+"robustness-labels-thyroid-known-1-auc-roc-vs-labeled.svg"))
	if err != nil {
		t.Fatal(err)
	}
	f := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	// dplan is the first series (blue): points at labeled = 0, 15, 30
	// with AUC 0.71, 0.85, 0.91, each ± 0.01.
	var bars [][3]float64 // x, low, high
	var pts [][2]float64
	for _, m := range svgPathRe.FindAllStringSubmatch(string(b), -1) {
		switch {
		case m[7] == "fill:none;stroke:#1F77B4" && m[3] == "L" && m[1] == m[4] && m[2] != m[5]:
			bars = append(bars, [3]float64{f(m[1]), math.Min(f(m[2]), f(m[5])), math.Max(f(m[2]), f(m[5]))})
		case m[7] == "fill:#1F77B4" && m[6] != "":
			pts = append(pts, [2]float64{(f(m[1]) + f(m[6])) / 2, f(m[2])})
		}
	}
	if len(bars) != 3 || len(pts) < 3 {
		t.Fatalf("%d error bars and %d points of dplan, want 3 and 3 (and the legend's)", len(bars), len(pts))
	}
	// Canvas length of 0.2 AUC: from the point at 0.71 to the one at 0.91.
	var y071, y091 float64
	for _, p := range pts {
		if math.Abs(p[0]-bars[0][0]) < 0.01 {
			y071 = p[1]
		}
		if math.Abs(p[0]-bars[2][0]) < 0.01 {
			y091 = p[1]
		}
	}
	unit := math.Abs(y091-y071) / 0.2
	for i, bar := range bars {
		if got := (bar[2] - bar[1]) / 2 / unit; math.Abs(got-0.01) > 0.0005 {
			t.Errorf("bar %d: half-length %.4f AUC, want the std 0.01", i, got)
		}
	}
}
