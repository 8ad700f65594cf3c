// Package report renders a benchmark suite's results (package suite) as
// report.md and report.html.
//
// The report is made from a results.Results value alone, so every number and
// figure in it regenerates from results.json (`oddity bench report DIR`).
// Both files carry the same content: the run's header, each method on its
// own ground beside its paper's figures, all methods on common ground, the
// networks' architectures, robustness sweeps, pictures (ROC and PR curves,
// score histograms, t-SNE embeddings, image grids) and costs.
//
// The renderer knows nothing about particular methods: it groups cells by
// section, table, task (rows) and method+variant (columns), so a new
// executor's table appears without changes here; known table names only get
// friendlier titles.
//
// Both pages refer to the plots, written by package viz as files under
// figures/ (SVG, or PNG for scatter plots of many points), and to the
// suite's image files by relative path, so the folder is the report: the
// pages open from it, in a browser or on a Git host, and the HTML page of a
// full suite (hundreds of plots, tens of megabytes of them) stays small and
// opens at once, its plots loading lazily as they scroll into view. The
// HTML page uses no external style sheet, script or font.
//
// Tables mark the best value of each comparison: in a per-task table the
// best method of each task (row) and of the mean row, in a means or ranks
// table the best method of each column, by the measure's direction (higher
// AUC, accuracy or precision; lower fit time or rank; higher score rate).
// Measures without a direction, and values that cover different tasks, are
// not marked.
//
// Output is deterministic: the same Results gives byte-identical files
// (maps are visited in sorted order, no clock is read). An image file a
// cell lists but that is missing on disk does not stop the report: it shows
// a visible "missing" note in its place.
package report

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/suite/results"
)

// File names Write produces in the output folder; figure files go under
// FiguresDir with the prefix FigurePrefix.
const (
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
	FiguresDir   = "figures"
	FigurePrefix = "report-"
)

// Write renders res into dir/report.md and dir/report.html, and their
// plots into dir/figures/report-*.svg and report-*.png (replacing those of
// an earlier rendering). Image files listed by cells are checked in dir.
func Write(res *results.Results, dir string) error {
	if res == nil {
		return errors.New("report: no results")
	}
	if dir == "" {
		return errors.New("report: no output folder")
	}
	figDir := filepath.Join(dir, FiguresDir)
	if err := os.MkdirAll(figDir, 0o755); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	doc := build(res, dir)
	md := renderMarkdown(doc)
	page, err := renderHTML(doc)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	for _, ext := range []string{".svg", ".png"} {
		old, err := filepath.Glob(filepath.Join(figDir, FigurePrefix+"*"+ext))
		if err != nil {
			return fmt.Errorf("report: %w", err)
		}
		for _, p := range old {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("report: %w", err)
			}
		}
	}
	for _, f := range doc.figures() {
		if err := writeFile(filepath.Join(figDir, f.Name), f.Data); err != nil {
			return err
		}
	}
	if err := writeFile(filepath.Join(dir, MarkdownFile), md); err != nil {
		return err
	}
	return writeFile(filepath.Join(dir, HTMLFile), page)
}

// writeFile writes through a temporary file and a rename, so a reader never
// sees half a report.
func writeFile(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// document is the report's content, rendered by both writers.
type document struct {
	Title  string
	Header [][2]string
	// Guide says how to read the tables.
	Guide    string
	Sections []*section
}

// guide is the document's note on reading its tables.
const guide = "Tables give the mean ± standard deviation over seeds, with the paper's figure in brackets where it publishes one. " +
	"The best value of each comparison is in bold (on green in the HTML page): in a per-task table, the best method of each task and of the mean row; " +
	"in a table of means or ranks, the best method of each column. Best means the highest AUC, accuracy, NMI, ARI, explanation precision or score rate, " +
	"and the lowest fit time or rank; values that print alike are all marked, measures without a direction (shares flagged, reference explainers) are not, " +
	"and neither are means over fewer tasks than the others."

// section is one numbered part of the report.
type section struct {
	ID, Title, Intro string
	Blocks           []*block
}

// block is one table's worth of content under a sub-heading.
type block struct {
	Title string
	// Caveat is the shortened suite's description, repeated on every
	// block with a table.
	Caveat  string
	Paras   []string
	Tables  []*table
	Figures []*figure
	Images  []*picture
	Notes   []string
}

// table is a grid of text; Foot rows are summaries (the mean row).
type table struct {
	Caption string
	// Left is the number of leading text columns, aligned left; the
	// others hold numbers and align right.
	Left int
	Head []string
	Rows [][]string
	Foot [][]string
	// Best marks the cells of Rows, and FootBest those of Foot, that hold
	// the best value of their comparison; nil when none is marked.
	Best, FootBest [][]bool
}

// figure is a plot: its file's bytes, or the reason it could not be drawn.
type figure struct {
	// Name is the file name under FiguresDir; its extension is the format.
	Name, Title string
	Data        []byte
	// W and H are the size to show it at, in CSS pixels.
	W, H int
	Err  string
}

// picture is an image file of a cell.
type picture struct {
	Caption string
	// Rel is the path relative to the output folder.
	Rel string
	// W and H are the image's size in pixels (0 when unknown: SVG).
	W, H int
	// Missing says why the file is not shown.
	Missing string
}

// direction says which way a measure is better: +1 when higher values
// are better, -1 when lower are, 0 when it has no direction (a share of
// rows flagged, a reference explainer's precision, a measure this package
// does not know).
func direction(m string) int {
	switch m {
	case "auc_roc", "auc_pr", "acc", "nmi", "nmi_geometric", "ari":
		return 1
	}
	// A detector's own explainer's precision at r; the z-score and random
	// references are the same yardstick for every method.
	if strings.HasSuffix(m, "_p_at_r") && !strings.Contains(m, "zscore") && !strings.Contains(m, "random") {
		return 1
	}
	return 0
}

// best returns which of vals hold the best value by dir (+1 highest, -1
// lowest), ties judged by key, the value as the table shows it, so that
// values that print alike are marked alike. NaN stands for "not compared".
// Nothing is marked without a direction or with fewer than two values.
func best(vals []float64, dir int, key func(float64) string) []bool {
	if dir == 0 {
		return nil
	}
	at, n := -1, 0
	for i, v := range vals {
		if math.IsNaN(v) {
			continue
		}
		n++
		if at < 0 || float64(dir)*(v-vals[at]) > 0 {
			at = i
		}
	}
	if n < 2 {
		return nil
	}
	out := make([]bool, len(vals))
	k := key(vals[at])
	for i, v := range vals {
		out[i] = !math.IsNaN(v) && key(v) == k
	}
	return out
}

// markRow marks the best of vals, the values of row i's columns from
// column from on.
func (t *table) markRow(i, from int, vals []float64, dir int, key func(float64) string) {
	for j, ok := range best(vals, dir, key) {
		if ok {
			t.Best = mark(t.Best, len(t.Rows), i, from+j)
		}
	}
}

// markFoot marks the best of vals in foot row i, from column from on.
func (t *table) markFoot(i, from int, vals []float64, dir int, key func(float64) string) {
	for j, ok := range best(vals, dir, key) {
		if ok {
			t.FootBest = mark(t.FootBest, len(t.Foot), i, from+j)
		}
	}
}

// markColumn marks the best of vals, column col of every row.
func (t *table) markColumn(col int, vals []float64, dir int, key func(float64) string) {
	for i, ok := range best(vals, dir, key) {
		if ok {
			t.Best = mark(t.Best, len(t.Rows), i, col)
		}
	}
}

// mark sets m[i][j], growing m to at least rows rows (and to row i) and
// row i to column j.
func mark(m [][]bool, rows, i, j int) [][]bool {
	if n := max(rows, i+1); len(m) < n {
		m = append(m, make([][]bool, n-len(m))...)
	}
	if len(m[i]) <= j {
		m[i] = append(m[i], make([]bool, j+1-len(m[i]))...)
	}
	m[i][j] = true
	return m
}

// marked reports whether m marks cell (i, j).
func marked(m [][]bool, i, j int) bool {
	return i < len(m) && j < len(m[i]) && m[i][j]
}

func (d *document) figures() []*figure {
	var out []*figure
	for _, s := range d.Sections {
		for _, b := range s.Blocks {
			for _, f := range b.Figures {
				if f.Err == "" {
					out = append(out, f)
				}
			}
		}
	}
	return out
}

// friendly titles of the tables the suite is known to produce.
var tableTitles = map[string]string{
	"dplan-thyroid":            "DPLAN on UCI thyroid (hypothyroid and subnormal settings)",
	"dplan-adbench":            "DPLAN on ADBench data sets",
	"common-tabular":           "All detectors on tabular data",
	"common-mnist":             "All detectors on MNIST",
	"robustness-labels":        "Robustness to the number of labelled anomalies",
	"robustness-contamination": "Robustness to contamination of the training data",
	"ganomaly-mnist":           "GANomaly on MNIST (one digit abnormal)",
	"ganomaly-cifar10":         "GANomaly on CIFAR-10 (one class abnormal)",
	"deepcluster-clustering":   "Deep clustering: accuracy, NMI and ARI",
	"demo-images":              "Demo: image detectors on the embedded USPS digits (digit 3 abnormal)",
	"demo-clustering":          "Demo: deep clustering of the embedded USPS digits",
	"demo-tabular":             "Demo: DPLAN and baselines on the embedded UCI thyroid (hypothyroid known)",
}

// tableTitle names a table: its friendly title with the name beside it, or
// the name alone for a table this package does not know.
func tableTitle(name string) string {
	if t, ok := tableTitles[name]; ok {
		return t + " (" + name + ")"
	}
	if name == "" {
		return "(unnamed table)"
	}
	return name
}

// measure names as column headings.
var measureTitles = map[string]string{
	"auc_roc": "AUC-ROC", "auc_pr": "AUC-PR", "acc": "ACC", "nmi": "NMI", "ari": "ARI",
	"extreme_p_at_r": "extreme: P@r", "extreme_flagged_p_at_r": "extreme: P@r flagged", "extreme_flagged_share": "extreme: flagged",
	"extreme_zscore_p_at_r": "extreme: z-score P@r", "extreme_random_p_at_r": "extreme: random P@r",
	"dependency_p_at_r": "dependency: P@r", "dependency_flagged_p_at_r": "dependency: P@r flagged", "dependency_flagged_share": "dependency: flagged",
	"dependency_zscore_p_at_r": "dependency: z-score P@r", "dependency_random_p_at_r": "dependency: random P@r",
	"extreme_repair_p_at_r": "extreme: repair P@r", "dependency_repair_p_at_r": "dependency: repair P@r",
	"extreme_repair_flagged_p_at_r": "extreme: repair P@r flagged", "dependency_repair_flagged_p_at_r": "dependency: repair P@r flagged",
}

func measureTitle(m string) string {
	if t, ok := measureTitles[m]; ok {
		return t
	}
	return m
}

// preferred is the order of the well-known measures; others follow sorted.
var preferred = []string{"auc_roc", "auc_pr", "acc", "nmi", "ari"}

// measures lists the measures any of the cells has, well-known first.
func measures(cells []*results.Cell) []string {
	have := map[string]bool{}
	for _, c := range cells {
		for m := range c.Metrics {
			have[m] = true
		}
	}
	var out []string
	for _, m := range preferred {
		if have[m] {
			out = append(out, m)
			delete(have, m)
		}
	}
	rest := make([]string, 0, len(have))
	for m := range have {
		rest = append(rest, m)
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// group is one table's cells in suite order.
type group struct {
	Table string
	Cells []*results.Cell
}

// groupCells splits the cells of one section by table, tables in order of
// first appearance.
func groupCells(cells []results.Cell, sec string) []*group {
	var out []*group
	at := map[string]*group{}
	for i := range cells {
		c := &cells[i]
		if c.Spec.Section != sec {
			continue
		}
		g := at[c.Spec.Table]
		if g == nil {
			g = &group{Table: c.Spec.Table}
			at[c.Spec.Table] = g
			out = append(out, g)
		}
		g.Cells = append(g.Cells, c)
	}
	return out
}

// column is a method with its variant: "dplan (p=0.05)".
func column(c *results.Cell) string {
	if c.Spec.Variant == "" {
		return orNone(c.Spec.Method)
	}
	return c.Spec.Method + " (" + c.Spec.Variant + ")"
}

// layout is a table's rows (data and task) and columns (method and
// variant) in order of first appearance, and its cells by both.
type layout struct {
	Rows, Cols []string
	RowLabel   map[string]string
	At         map[[2]string]*results.Cell
	// Dups counts cells that repeat a row and column (the first is shown).
	Dups    int
	multiDS bool
}

func rowKey(c *results.Cell) string { return c.Spec.Data + "\x00" + c.Spec.Task }

func makeLayout(cells []*results.Cell) *layout {
	l := &layout{RowLabel: map[string]string{}, At: map[[2]string]*results.Cell{}}
	data := map[string]bool{}
	for _, c := range cells {
		data[c.Spec.Data] = true
	}
	l.multiDS = len(data) > 1
	seenCol := map[string]bool{}
	for _, c := range cells {
		r, col := rowKey(c), column(c)
		if _, ok := l.RowLabel[r]; !ok {
			l.Rows = append(l.Rows, r)
			l.RowLabel[r] = l.taskLabel(c)
		}
		if !seenCol[col] {
			seenCol[col] = true
			l.Cols = append(l.Cols, col)
		}
		k := [2]string{r, col}
		if _, dup := l.At[k]; dup {
			l.Dups++
			continue
		}
		l.At[k] = c
	}
	return l
}

// taskLabel names a row: the task, with the data set in front when the
// table spans several.
func (l *layout) taskLabel(c *results.Cell) string {
	t := c.Spec.Task
	switch {
	case t == "":
		return orNone(c.Spec.Data)
	case l.multiDS:
		return c.Spec.Data + " " + t
	}
	return t
}

// grid is the per-task table of one measure: rows tasks, columns methods,
// "mean ± std (paper x)" cells and a mean row.
func grid(l *layout, m string) *table {
	t := &table{Caption: measureTitle(m), Left: 1, Head: append([]string{"Task"}, l.Cols...)}
	dir := direction(m)
	for i, r := range l.Rows {
		row := []string{l.RowLabel[r]}
		vals := make([]float64, len(l.Cols))
		for j, col := range l.Cols {
			vals[j] = math.NaN()
			c := l.At[[2]string{r, col}]
			s, ok := cellMeasure(c, m)
			if !ok {
				row = append(row, none)
				continue
			}
			vals[j] = s.Mean
			p, hasP := c.Published[m]
			row = append(row, withPaper(summary(s), p, hasP))
		}
		t.Rows = append(t.Rows, row)
		t.markRow(i, 1, vals, dir, num)
	}
	foot := []string{"mean"}
	// Only means over all tasks are compared.
	footVals := make([]float64, len(l.Cols))
	for j, col := range l.Cols {
		footVals[j] = math.NaN()
		var sum, psum float64
		n, pn := 0, 0
		for _, r := range l.Rows {
			c := l.At[[2]string{r, col}]
			s, ok := cellMeasure(c, m)
			if !ok {
				continue
			}
			sum += s.Mean
			n++
			if p, ok := c.Published[m]; ok {
				psum += p
				pn++
			}
		}
		if n == 0 {
			foot = append(foot, none)
			continue
		}
		v := num(sum / float64(n))
		if n < len(l.Rows) {
			v += fmt.Sprintf(" (%d of %d tasks)", n, len(l.Rows))
		} else {
			footVals[j] = sum / float64(n)
		}
		// The paper's mean only when it covers the same tasks.
		foot = append(foot, withPaper(v, psum/float64(max(pn, 1)), pn == n))
	}
	t.Foot = [][]string{foot}
	t.markFoot(0, 1, footVals, dir, num)
	return t
}

// cellMeasure is a cell's summary of measure m, if the cell exists and has it.
func cellMeasure(c *results.Cell, m string) (metrics.Summary, bool) {
	if c == nil {
		return metrics.Summary{}, false
	}
	v, ok := c.Metrics[m]
	return v, ok
}

// cellNotes lists the cells' notes, one line per method and note text
// (the tasks that share it listed together), and, for duplicates, a
// warning.
func cellNotes(l *layout, cells []*results.Cell) []string {
	type key struct{ col, note string }
	var order []key
	tasks := map[key][]string{}
	for _, c := range cells {
		if c.Note != "" {
			k := key{column(c), c.Note}
			if _, ok := tasks[k]; !ok {
				order = append(order, k)
			}
			tasks[k] = append(tasks[k], l.taskLabel(c))
		}
	}
	var out []string
	for _, k := range order {
		out = append(out, k.col+", "+strings.Join(tasks[k], ", ")+": "+k.note)
	}
	if l.Dups > 0 {
		out = append(out, fmt.Sprintf("%d cell(s) repeat a task and method already shown; only the first is in the tables.", l.Dups))
	}
	return out
}

// sources lists the distinct citations of the published figures.
func sources(cells []*results.Cell) []string {
	seen := map[string]bool{}
	var out []string
	for _, c := range cells {
		if c.Source != "" && len(c.Published) > 0 && !seen[c.Source] {
			seen[c.Source] = true
			out = append(out, c.Source)
		}
	}
	sort.Strings(out)
	return out
}

// build turns the results into the document both writers render.
func build(res *results.Results, dir string) *document {
	b := &builder{res: res, dir: dir, names: map[string]bool{}}
	doc := &document{Title: "oddity benchmark report: " + orNone(res.Suite) + " suite", Guide: guide}
	doc.Header = b.header()
	doc.Sections = []*section{
		b.own(), b.common(), b.explanations(), b.architectures(), b.robustness(), b.pictures(), b.cost(),
	}
	if o := b.other(); o != nil {
		doc.Sections = append(doc.Sections, o)
	}
	return doc
}

type builder struct {
	res   *results.Results
	dir   string
	names map[string]bool
}

func (b *builder) header() [][2]string {
	r := b.res
	m := r.Machine
	machine := orNone(m.CPU)
	if m.Cores > 0 {
		machine += fmt.Sprintf(", %d cores", m.Cores)
	}
	if m.MemoryGiB > 0 {
		machine += fmt.Sprintf(", %.1f GiB memory", m.MemoryGiB)
	}
	if m.OS != "" {
		machine += ", " + m.OS
	}
	h := [][2]string{
		{"Suite", orNone(r.Suite)},
	}
	if r.Description != "" {
		h = append(h, [2]string{"Shortened", r.Description})
	}
	elapsed := none
	if !r.Started.IsZero() && !r.Finished.IsZero() {
		elapsed = clock(r.Finished.Sub(r.Started).Seconds()) + ": from Started to Finished of the command that wrote these results; cells it found already computed in the folder cost it no time"
	}
	h = append(h,
		[2]string{"Command", orNone(r.Command)},
		[2]string{"Commit", orNone(r.Commit)},
		[2]string{"Commits of the cells", cellCommits(r.Cells)},
		[2]string{"Seed", fmt.Sprint(r.Seed)},
		[2]string{"Machine", machine},
		[2]string{"Go", orNone(m.GoVersion)},
		[2]string{"SGEMM kernel", orNone(m.Kernels)},
		[2]string{"Started", stamp(r.Started)},
		[2]string{"Finished", stamp(r.Finished)},
		[2]string{"Elapsed (this run)", elapsed},
		[2]string{"Run time of the cells (sum)", clock(r.WallSeconds) + ": each cell's own wall time, summed, measured when the cell was computed, in this run or an earlier one (see Commits of the cells)"},
		[2]string{"Cells", cellCount(r)},
		[2]string{"Results version", fmt.Sprint(r.Version)},
	)
	return h
}

// cellCount says how many cells the results hold and, when the suite has
// cells still to run, of how many.
func cellCount(r *results.Results) string {
	if len(r.Missing) == 0 {
		return fmt.Sprint(len(r.Cells))
	}
	return fmt.Sprintf("%d of %d in the suite (%d not run yet, listed under Cost)", len(r.Cells), len(r.Cells)+len(r.Missing), len(r.Missing))
}

// cellCommits counts the cells by the commit that computed them, most
// cells first: a suite resumed over several sessions mixes commits, and
// the header's Commit is only the last run's.
func cellCommits(cells []results.Cell) string {
	n := map[string]int{}
	for _, c := range cells {
		n[c.Commit]++
	}
	keys := sortedKeys(n)
	sort.SliceStable(keys, func(i, j int) bool { return n[keys[i]] > n[keys[j]] })
	var parts []string
	for _, k := range keys {
		name := k
		if k == "" {
			name = "not recorded"
		}
		parts = append(parts, fmt.Sprintf("%s (%d)", name, n[k]))
	}
	return orNone(strings.Join(parts, ", "))
}

// caveat is the shortened suite's description for every table.
func (b *builder) caveat() string { return b.res.Description }

func emptyNote(blocks []*block, what string) []*block {
	if len(blocks) == 0 {
		return []*block{{Paras: []string{"No " + what + " in these results."}}}
	}
	return blocks
}

func (b *builder) own() *section {
	s := &section{ID: "own", Title: "Each method on its own ground",
		Intro: "Each method on the data and protocol of its paper: mean ± standard deviation over seeds, with the paper's figure beside ours where it publishes one."}
	for _, g := range groupCells(b.res.Cells, results.SectionOwn) {
		s.Blocks = append(s.Blocks, b.gridBlock(g))
	}
	s.Blocks = emptyNote(s.Blocks, "own-ground cells")
	return s
}

// gridBlock is a table's per-task grids, one per measure.
func (b *builder) gridBlock(g *group) *block {
	l := makeLayout(g.Cells)
	bl := &block{Title: tableTitle(g.Table), Caveat: b.caveat()}
	for _, m := range measures(g.Cells) {
		bl.Tables = append(bl.Tables, grid(l, m))
	}
	if src := sources(g.Cells); len(src) > 0 {
		bl.Paras = append(bl.Paras, "Paper figures: "+strings.Join(src, "; ")+".")
	}
	bl.Notes = cellNotes(l, g.Cells)
	return bl
}

func (b *builder) common() *section {
	s := &section{ID: "common", Title: "All methods on common ground",
		Intro: "Every detector on the same tasks: per-method means over the tasks, then each task."}
	for _, g := range groupCells(b.res.Cells, results.SectionCommon) {
		t := meansTable(g)
		bl := b.gridBlock(g)
		bl.Tables = append([]*table{t}, bl.Tables...)
		b.ranksBlock(g, bl)
		s.Blocks = append(s.Blocks, bl)
	}
	s.Blocks = emptyNote(s.Blocks, "common-ground cells")
	return s
}

// meansTable is a table's per-method means over its tasks, with mean fit
// time and score rate: the first view of a comparison across tasks.
func meansTable(g *group) *table {
	l := makeLayout(g.Cells)
	ms := measures(g.Cells)
	t := &table{Caption: "Means over tasks", Left: 1, Head: []string{"Method", "Tasks"}}
	for _, m := range ms {
		t.Head = append(t.Head, measureTitle(m))
	}
	t.Head = append(t.Head, "Fit (s)", "Score rate (samples/s)")
	// vals[k][i] is column 2+k's value of method i, NaN where it is not
	// over all the table's tasks and so not comparable with the others.
	vals := make([][]float64, len(ms)+2)
	for k := range vals {
		vals[k] = make([]float64, len(l.Cols))
	}
	for i, col := range l.Cols {
		var cells []*results.Cell
		for _, r := range l.Rows {
			if c := l.At[[2]string{r, col}]; c != nil {
				cells = append(cells, c)
			}
		}
		all := len(cells) == len(l.Rows)
		row := []string{col, fmt.Sprint(len(cells))}
		for k, m := range ms {
			vals[k][i] = math.NaN()
			var sum float64
			n := 0
			for _, c := range cells {
				if v, ok := c.Metrics[m]; ok {
					sum += v.Mean
					n++
				}
			}
			if n == 0 {
				row = append(row, none)
				continue
			}
			v := num(sum / float64(n))
			if n < len(cells) {
				v += fmt.Sprintf(" (%d of %d tasks)", n, len(cells))
			} else if all {
				vals[k][i] = sum / float64(n)
			}
			row = append(row, v)
		}
		var fit, rt float64
		for _, c := range cells {
			fit += c.FitSeconds
			rt += c.ScoreRate
		}
		nc := float64(max(len(cells), 1))
		row = append(row, seconds(fit/nc), rate(rt/nc))
		vals[len(ms)][i], vals[len(ms)+1][i] = math.NaN(), math.NaN()
		if all {
			vals[len(ms)][i] = fit / nc
			if rt > 0 {
				vals[len(ms)+1][i] = rt / nc
			}
		}
		t.Rows = append(t.Rows, row)
	}
	for k, m := range ms {
		t.markColumn(2+k, vals[k], direction(m), num)
	}
	t.markColumn(2+len(ms), vals[len(ms)], -1, seconds)
	t.markColumn(3+len(ms), vals[len(ms)+1], 1, rate)
	return t
}

// explainedTable shows, for each task and method, the highest-scoring
// real test anomaly of the first seed with the features that drive its
// score most; nil when no cell has one.
func explainedTable(l *layout) *table {
	t := &table{Caption: "The highest-scoring test anomaly of each task (first seed), explained: its top features and attributions", Left: 1, Head: []string{"Task"}}
	t.Head = append(t.Head, l.Cols...)
	any := false
	for _, r := range l.Rows {
		row := []string{l.RowLabel[r]}
		for _, c := range l.Cols {
			cell := l.At[[2]string{r, c}]
			if cell == nil || len(cell.Explained) == 0 {
				row = append(row, none)
				continue
			}
			e := cell.Explained[0]
			parts := make([]string, len(e.Features))
			for i, f := range e.Features {
				parts[i] = fmt.Sprintf("%s %+.2g", f, e.Contributions[i])
			}
			row = append(row, strings.Join(parts, ", "))
			any = true
		}
		t.Rows = append(t.Rows, row)
	}
	if !any {
		return nil
	}
	return t
}

// explanations shows how well each detector's explanations find planted
// causes: per-method means over the files, then each file.
func (b *builder) explanations() *section {
	s := &section{ID: "explanations", Title: "Why: explanations against planted causes",
		Intro: "Normal test rows get an anomaly planted in r = 1, 2 or 3 features (extreme: beyond the training range; dependency: values copied from another normal row, each typical, jointly unusual). Precision at r: the share of an explainer's top r features that are the planted ones, for each detector's own explainer, on all planted rows and on those it flags (above the 95th percentile of clean normal rows), beside the robust z-score and random references (docs/methods.md §7)."}
	for _, g := range groupCells(b.res.Cells, results.SectionExplain) {
		l := makeLayout(g.Cells)
		bl := &block{Title: tableTitle(g.Table), Caveat: b.caveat(), Tables: []*table{meansTable(g)}}
		for _, m := range []string{"extreme_p_at_r", "dependency_p_at_r", "dependency_repair_p_at_r"} {
			bl.Tables = append(bl.Tables, grid(l, m))
		}
		if t := explainedTable(l); t != nil {
			bl.Tables = append(bl.Tables, t)
		}
		bl.Notes = cellNotes(l, g.Cells)
		s.Blocks = append(s.Blocks, bl)
	}
	s.Blocks = emptyNote(s.Blocks, "explanation cells")
	return s
}

func (b *builder) architectures() *section {
	s := &section{ID: "architectures", Title: "Architectures",
		Intro: "Each method's networks: layers, parameters and forward FLOPs per sample (a multiply-add counts as two), and the hyper-parameters used."}
	for _, a := range b.res.Architectures {
		title := orNone(a.Method)
		if a.Variant != "" {
			title += ", " + a.Variant
		}
		bl := &block{Title: title, Caveat: b.caveat()}
		if a.Input != "" {
			bl.Paras = append(bl.Paras, "Input: "+a.Input+".")
		}
		t := &table{Caption: "Networks", Left: 2, Head: []string{"Network", "Layers", "Parameters", "FLOPs/sample"}}
		var p, f int64
		for _, n := range a.Networks {
			t.Rows = append(t.Rows, []string{orNone(n.Name), orNone(n.Layers), grouped(n.Params), flops(n.FLOPs)})
			p += n.Params
			f += n.FLOPs
		}
		if len(a.Networks) > 1 {
			t.Foot = [][]string{{"total", "", grouped(p), flops(f)}}
		}
		if len(a.Networks) > 0 {
			bl.Tables = append(bl.Tables, t)
		}
		if len(a.Hyper) > 0 {
			h := &table{Caption: "Hyper-parameters", Left: 2, Head: []string{"Hyper-parameter", "Value"}}
			for _, k := range sortedKeys(a.Hyper) {
				h.Rows = append(h.Rows, []string{k, a.Hyper[k]})
			}
			bl.Tables = append(bl.Tables, h)
		}
		s.Blocks = append(s.Blocks, bl)
	}
	if len(b.res.Defaults) > 0 {
		bl := &block{Title: "How each method's defaults were chosen",
			Paras: []string{"A default chosen by looking at results on the files this report shows overstates what a user will see on new data; where one was, the row says on what, and what it gives out of sample."}}
		t := &table{Left: 3, Head: []string{"Method", "Source", "How"}}
		for _, p := range b.res.Defaults {
			t.Rows = append(t.Rows, []string{orNone(p.Method), orNone(p.Source), orNone(p.How)})
		}
		bl.Tables = append(bl.Tables, t)
		s.Blocks = append(s.Blocks, bl)
	}
	s.Blocks = emptyNote(s.Blocks, "architectures")
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (b *builder) cost() *section {
	s := &section{ID: "cost", Title: "Cost",
		Intro: "Time and memory of every cell: fit time is the mean training time per seed, score rate the test samples scored per second, wall time the whole cell, peak memory the process's resident high-water mark when the cell finished."}
	all := &table{Caption: "By table", Left: 1, Head: []string{"Table", "Cells", "Wall time", "Peak memory"}}
	var tables []*block
	for _, sec := range b.sectionNames() {
		for _, g := range groupCells(b.res.Cells, sec) {
			t := &table{Left: 3, Head: []string{"Method", "Data", "Task", "Train", "Test", "Fit (s)", "Score rate (samples/s)", "Wall (s)", "Peak memory"}}
			var wall float64
			var peak int64
			for _, c := range g.Cells {
				t.Rows = append(t.Rows, []string{column(c), orNone(c.Spec.Data), orNone(c.Spec.Task), count(c.Train), count(c.Test),
					seconds(c.FitSeconds), rate(c.ScoreRate), seconds(c.WallSeconds), bytesIEC(c.PeakRSSBytes)})
				wall += c.WallSeconds
				peak = max(peak, c.PeakRSSBytes)
			}
			t.Foot = [][]string{{"total", "", "", "", "", "", "", seconds(wall), bytesIEC(peak)}}
			all.Rows = append(all.Rows, []string{g.Table, fmt.Sprint(len(g.Cells)), clock(wall), bytesIEC(peak)})
			tables = append(tables, &block{Title: tableTitle(g.Table), Caveat: b.caveat(), Tables: []*table{t}})
		}
	}
	if len(tables) > 0 {
		s.Blocks = append([]*block{{Title: "Summary", Caveat: b.caveat(), Tables: []*table{all}}}, tables...)
	}
	if len(b.res.Missing) > 0 {
		t := &table{Left: 5, Head: []string{"Table", "Method", "Data", "Task", "Cell ID"}}
		for _, sp := range b.res.Missing {
			t.Rows = append(t.Rows, []string{sp.Table, column(&results.Cell{Spec: sp}), orNone(sp.Data), orNone(sp.Task), sp.ID()})
		}
		s.Blocks = append(s.Blocks, &block{Title: "Not run yet", Caveat: b.caveat(),
			Paras:  []string{fmt.Sprintf("%d cells of the suite are not in this folder yet; running the suite's command again computes them (its --plan flag estimates how long).", len(b.res.Missing))},
			Tables: []*table{t}})
	}
	s.Blocks = emptyNote(s.Blocks, "cells")
	return s
}

// sectionNames lists the sections present: the known three in report order,
// then any others sorted.
func (b *builder) sectionNames() []string {
	out := []string{results.SectionOwn, results.SectionCommon, results.SectionRobustness}
	return append(out, b.otherSections()...)
}

func (b *builder) otherSections() []string {
	seen := map[string]bool{results.SectionOwn: true, results.SectionCommon: true, results.SectionRobustness: true, results.SectionExplain: true}
	var out []string
	for _, c := range b.res.Cells {
		if !seen[c.Spec.Section] {
			seen[c.Spec.Section] = true
			out = append(out, c.Spec.Section)
		}
	}
	sort.Strings(out)
	return out
}

// other shows cells of sections this package does not know, as grids, so
// no result is silently left out.
func (b *builder) other() *section {
	names := b.otherSections()
	if len(names) == 0 {
		return nil
	}
	s := &section{ID: "other", Title: "Other results", Intro: "Cells of sections this report does not know: " + strings.Join(names, ", ") + "."}
	for _, sec := range names {
		for _, g := range groupCells(b.res.Cells, sec) {
			bl := b.gridBlock(g)
			bl.Title = orNone(sec) + ": " + bl.Title
			s.Blocks = append(s.Blocks, bl)
		}
	}
	return s
}
