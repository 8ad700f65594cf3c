package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/suite/results"
)

func sum(mean, std float64, n int) metrics.Summary {
	return metrics.Summary{N: n, Mean: mean, Std: std}
}

// synthetic builds a Results with every kind of content the report shows.
func synthetic() *results.Results {
	cell := func(sec, table, method, variant, data, task string, m map[string]metrics.Summary) results.Cell {
		return results.Cell{ID: table + method + variant + task, Spec: results.Spec{Section: sec, Table: table, Method: method, Variant: variant, Data: data, Task: task, Seeds: []uint64{1, 2, 3}},
			Metrics: m, FitSeconds: 1.5, ScoreRate: 2500, WallSeconds: 12.25, PeakRSSBytes: 512 << 20, Train: 1000, Test: 300}
	}
	g0 := cell(results.SectionOwn, "ganomaly-mnist", "ganomaly", "", "mnist", "abnormal=0", map[string]metrics.Summary{"auc_roc": sum(0.8123, 0.0104, 3)})
	g0.Published = map[string]float64{"auc_roc": 0.846}
	g0.Source = "Akcay et al. 2018, table 1"
	g1 := cell(results.SectionOwn, "ganomaly-mnist", "ganomaly", "", "mnist", "abnormal=1", map[string]metrics.Summary{"auc_roc": sum(0.7004, 0.0311, 3)})
	g1.Published = map[string]float64{"auc_roc": 0.666}
	g1.Source = "Akcay et al. 2018, table 1"
	g0.Note, g1.Note = "shared cpu note", "shared cpu note"
	g0.Commit, g1.Commit = "c0ffee", "c0ffee"
	g2 := cell(results.SectionOwn, "ganomaly-mnist", "ganomaly", "w=50", "mnist", "abnormal=0", map[string]metrics.Summary{"auc_roc": sum(0.9, 0, 1)})
	g2.Note = "<script>alert(1)</script> short schedule"
	dc := cell(results.SectionOwn, "deepcluster-clustering", "deepcluster-clustering", "", "mnist", "k=10",
		map[string]metrics.Summary{"acc": sum(0.861, 0.02, 2), "nmi": sum(0.842, 0.01, 2), "ari": sum(0.798, 0.03, 2)})
	dc.Published = map[string]float64{"acc": 0.89}
	dc.Embedding = &results.Embedding{Space: "the embedding z", X: []float64{0, 1, 2, 3}, Y: []float64{1, 0, 1, 0}, Label: []int{0, 1, 0, 1}, Cluster: []int{1, 1, 0, 0}}
	dc.Images = []string{"figures/recon.png", "figures/gone.png"}
	unknown := cell(results.SectionOwn, "brand-new-table", "iforest", "", "thyroid", "all", map[string]metrics.Summary{"auc_roc": sum(0.6, 0.1, 2)})

	common := func(method, task string, roc, pr, fit, rate float64) results.Cell {
		c := cell(results.SectionCommon, "common-tabular", method, "", "adbench/cardio", task, map[string]metrics.Summary{"auc_roc": sum(roc, 0.01, 2), "auc_pr": sum(pr, 0.02, 2)})
		c.FitSeconds, c.ScoreRate = fit, rate
		c.PerSeed = []map[string]float64{{"auc_roc": roc, "auc_pr": pr}, {"auc_roc": roc, "auc_pr": pr}}
		c.ROC = &results.XY{X: []float64{0, 0.2, 1}, Y: []float64{0, 0.7, 1}}
		c.PR = &results.XY{X: []float64{1, 0.5, 0}, Y: []float64{0.3, 0.8, 1}}
		c.Scores = &results.ScoreSample{Normal: []float64{0.1, 0.2, 0.25, 0.3}, Anomaly: []float64{0.7, 0.9}}
		return c
	}
	rob := func(method, task string, roc float64) results.Cell {
		return cell(results.SectionRobustness, "robustness-labels", method, "", "thyroid", task, map[string]metrics.Summary{"auc_roc": sum(roc, 0.01, 2)})
	}
	other := cell("mystery", "odd-table", "pca", "", "thyroid", "x", map[string]metrics.Summary{"f1": sum(0.4321, 0, 1)})
	return &results.Results{Version: results.Version, Suite: "quick", Description: "quick suite: subsets and short schedules", Seed: 7,
		Commit: "abc123def456-dirty", Command: "oddity bench --suite quick --out /tmp/x",
		Machine: results.Machine{CPU: "Test CPU 3000", Cores: 16, MemoryGiB: 62.5, OS: "linux/amd64", GoVersion: "go1.26.8", Kernels: "avx512"},
		Started: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC), Finished: time.Date(2026, 11, 28, 11, 2, 3, 0, time.UTC), WallSeconds: 3723,
		Cells: []results.Cell{g0, g1, g2, dc, unknown,
			common("iforest", "cardio", 0.9312, 0.5521, 0.25, 41000), common("dplan", "cardio", 0.8811, 0.6032, 30.5, 900),
			common("iforest", "shuttle", 0.9954, 0.9077, 0.75, 39000), common("dplan", "shuttle", 0.9702, 0.8123, 10.5, 1100),
			rob("dplan", "known=1,labeled=30", 0.91), rob("dplan", "known=1,labeled=0", 0.71), rob("dplan", "known=1,labeled=15", 0.85),
			rob("devnet", "known=1,labeled=30", 0.88), rob("devnet", "known=1,labeled=15", 0.80),
			other,
		},
		Missing: []results.Spec{{Table: "ganomaly-cifar10", Method: "ganomaly", Data: "cifar10", Task: "abnormal=4"}},
		Architectures: []results.Architecture{{Method: "ganomaly", Variant: "CPU schedule", Input: "1x32x32",
			Networks: []results.Network{{Name: "generator", Layers: "conv 4-4-4", Params: 1234567, FLOPs: 45600000}, {Name: "discriminator", Layers: "conv 3", Params: 765433, FLOPs: 12000}},
			Hyper:    map[string]string{"lr": "0.0002", "epochs": "15", "batch": "64"}}},
	}
}

// writePNG writes a 2x2 PNG and returns its bytes.
func writePNG(t *testing.T, path string) []byte {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 2, 2))
	img.Set(1, 1, color.Gray{Y: 200})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// render writes the report of res into a new folder holding the cells'
// one image, and returns the folder, report.md and report.html.
func render(t *testing.T, res *results.Results) (dir, md, page string, pngBytes []byte) {
	t.Helper()
	dir = t.TempDir()
	pngBytes = writePNG(t, filepath.Join(dir, "figures", "recon.png"))
	if err := Write(res, dir); err != nil {
		t.Fatal(err)
	}
	m, err := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if err != nil {
		t.Fatal(err)
	}
	h, err := os.ReadFile(filepath.Join(dir, HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	return dir, string(m), string(h), pngBytes
}

func TestNumbers(t *testing.T) {
	_, md, page, _ := render(t, synthetic())
	f3 := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	want := []string{
		// Ours with the paper's figure beside it.
		f3(0.8123) + " ± " + f3(0.0104) + " (paper " + f3(0.846) + ")",
		f3(0.7004) + " ± " + f3(0.0311) + " (paper " + f3(0.666) + ")",
		// The mean row over both tasks, with the paper's mean.
		f3((0.8123+0.7004)/2) + " (paper " + f3((0.846+0.666)/2) + ")",
		// The variant covers one of two tasks.
		f3(0.9) + " (1 of 2 tasks)",
		// Clustering measures, ACC with its paper figure.
		f3(0.861) + " ± " + f3(0.02) + " (paper " + f3(0.89) + ")",
		f3(0.842) + " ± " + f3(0.01),
		f3(0.798) + " ± " + f3(0.03),
		// Common ground: per-method means over the two tasks.
		f3((0.9312 + 0.9954) / 2), f3((0.5521 + 0.9077) / 2), f3((0.8811 + 0.9702) / 2), f3((0.6032 + 0.8123) / 2),
		// Mean fit time and score rate of dplan: (30.5+10.5)/2 = 20.5 s,
		// (900+1100)/2 = 1,000 samples/s; iforest 40,000 samples/s.
		"20.5", "1,000", "40,000",
		// Cost: wall and memory of a cell; table total of four cells.
		"12.2", "512 MiB", fmt.Sprintf("%.1f", 4*12.25),
		// Architectures.
		"1,234,567", "765,433", "2,000,000", "45.60 MFLOP", "0.0002", "ganomaly, CPU schedule",
		// Header.
		"abc123def456-dirty", "oddity bench --suite quick --out /tmp/x", "Test CPU 3000, 16 cores, 62.5 GiB memory", "avx512", "go1.26.8",
		"2026-11-28T10:00:00Z", "2026-11-28T11:02:03Z", "1h 02m 03s",
		// Friendly and generic titles; a section the report does not know.
		"GANomaly on MNIST (one digit abnormal) (ganomaly-mnist)", "brand-new-table", "odd-table", f3(0.4321),
		"Akcay et al. 2018, table 1",
		// One note line for the two tasks that share it; commits counted.
		"ganomaly, abnormal=0, abnormal=1: shared cpu note", "c0ffee (2)",
		// A suite still being assembled: the count, and the missing cell.
		fmt.Sprintf("%d of %d in the suite (1 not run yet, listed under Cost)", len(synthetic().Cells), len(synthetic().Cells)+1), "Not run yet",
		(&results.Spec{Table: "ganomaly-cifar10", Method: "ganomaly", Data: "cifar10", Task: "abnormal=4"}).ID(),
	}
	if n := strings.Count(md, "shared cpu note"); n != 1 {
		t.Errorf("a note shared by two tasks appears %d times, want once", n)
	}
	for _, w := range want {
		if !strings.Contains(md, w) {
			t.Errorf("report.md lacks %q", w)
		}
		if !strings.Contains(page, w) {
			t.Errorf("report.html lacks %q", w)
		}
	}
	// A single run shows no spread; no paper figure, none shown. It is
	// also the best of its row (0.9 against 0.8123), so it is marked.
	if !strings.Contains(md, "| **"+f3(0.9)+"** |") || !strings.Contains(page, `<td class="best">`+f3(0.9)+"</td>") {
		t.Error("single-run cell without paper figure not shown as the bare mean, marked best")
	}
	// The published figure sits in the same table cell as ours.
	cellRe := regexp.MustCompile(`<td(?: class="best")?>` + regexp.QuoteMeta(f3(0.8123)+" ± "+f3(0.0104)+" (paper "+f3(0.846)+")") + `</td>`)
	if !cellRe.MatchString(page) {
		t.Error("HTML: ours and the paper's figure are not one cell")
	}
}

func TestCaveatOnEveryTable(t *testing.T) {
	_, md, page, _ := render(t, synthetic())
	for i, chunk := range strings.Split(md, "\n### ")[1:] {
		if strings.Contains(chunk, "|---") && !strings.Contains(chunk, "Shortened suite:** quick suite: subsets and short schedules") {
			t.Errorf("markdown block %d has a table but no shortened-suite note:\n%.200s", i, chunk)
		}
	}
	for i, chunk := range strings.Split(page, "<h3>")[1:] {
		if strings.Contains(chunk, "<table>") && !strings.Contains(chunk, "Shortened suite:</strong> quick suite") {
			t.Errorf("HTML block %d has a table but no shortened-suite note", i)
		}
	}
	full := synthetic()
	full.Description = ""
	_, md, page, _ = render(t, full)
	if strings.Contains(md, "Shortened suite") || strings.Contains(page, "Shortened suite") {
		t.Error("a full suite's report says it is shortened")
	}
}

// tagBalance checks that container elements open and close in order.
func tagBalance(page string) error {
	re := regexp.MustCompile(`<(/?)(html|head|body|section|div|table|thead|tbody|tfoot|tr|td|th|figure|figcaption|svg|ul|li|p|h1|h2|h3|nav|caption|style|title)[\s>]`)
	var stack []string
	for _, m := range re.FindAllStringSubmatch(page, -1) {
		if m[1] == "" {
			stack = append(stack, m[2])
			continue
		}
		if len(stack) == 0 || stack[len(stack)-1] != m[2] {
			return fmt.Errorf("</%s> closes %v", m[2], stack)
		}
		stack = stack[:len(stack)-1]
	}
	if len(stack) > 0 {
		return fmt.Errorf("unclosed %v", stack)
	}
	return nil
}

// srcRe finds the files an HTML page shows.
var srcRe = regexp.MustCompile(`<img src="([^"]*)"`)

// The HTML page is small and refers to the plots and images in its
// folder: every one it shows is a file there, each plot the Markdown shows
// too, and nothing comes from elsewhere.
func TestHTMLRefersToFiles(t *testing.T) {
	dir, md, page, pngBytes := render(t, synthetic())
	if !strings.HasPrefix(page, "<!DOCTYPE html>") {
		t.Error("no doctype")
	}
	if err := tagBalance(page); err != nil {
		t.Error(err)
	}
	for _, bad := range []string{`src="http`, `href="http`, `src='http`, `href='http`, "url(http", "@import", "<script", "<link", "<?xml", "<iframe", "data:", "<svg"} {
		if strings.Contains(page, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt; short schedule") {
		t.Error("HTML: the note is not escaped")
	}
	if strings.Contains(md, "<script>") || !strings.Contains(md, "&lt;script&gt;") {
		t.Error("markdown: the note is not escaped")
	}
	files, err := filepath.Glob(filepath.Join(dir, FiguresDir, FigurePrefix+"*"))
	if err != nil {
		t.Fatal(err)
	}
	// Plots: ROC and PR for two tasks, four histograms, two t-SNE plots,
	// and one robustness line plot.
	if len(files) != 2*2+4+2+1 {
		t.Errorf("%d figure files, want 11", len(files))
	}
	if !strings.Contains(md, "t-SNE of the embedding z by cluster") {
		t.Error("markdown: the t-SNE's title does not name its space")
	}
	shown := map[string]int{}
	for _, m := range srcRe.FindAllStringSubmatch(page, -1) {
		rel, err := url.PathUnescape(m[1])
		if err != nil {
			t.Errorf("src %q: %v", m[1], err)
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rel))); err != nil {
			t.Errorf("HTML shows %s, which is not in the folder: %v", rel, err)
		}
		shown[rel]++
	}
	for _, f := range files {
		rel := FiguresDir + "/" + filepath.Base(f)
		if shown[rel] != 1 {
			t.Errorf("HTML shows %s %d times, want once", rel, shown[rel])
		}
		if !strings.Contains(md, "]("+rel+")") {
			t.Errorf("markdown does not show %s", rel)
		}
		b, err := os.ReadFile(f)
		if err != nil || !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s is not an SVG (%v)", f, err)
		}
	}
	// The cell's image is shown where it lies, at its size; the missing
	// one gets a note instead.
	if shown["figures/recon.png"] != 1 || !strings.Contains(page, `<img src="figures/recon.png" alt="recon.png, deepcluster-clustering, deepcluster-clustering k=10" width="2" height="2"`) {
		t.Error("HTML: the cell's image is not shown once, with its size")
	}
	if len(shown) != len(files)+1 {
		t.Errorf("HTML shows %d files, want the %d plots and one image", len(shown), len(files))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "figures", "recon.png")); !bytes.Equal(b, pngBytes) {
		t.Error("the cell's image file was changed")
	}
	if !strings.Contains(md, "(<figures/recon.png>)") {
		t.Error("markdown: image not linked")
	}
	for _, s := range []string{md, page} {
		if !strings.Contains(s, "figures/gone.png missing") {
			t.Error("no visible note for the missing image")
		}
	}
}

func TestDeterministic(t *testing.T) {
	res := synthetic()
	dir, md, page, _ := render(t, res)
	read := func(d string) map[string]string {
		out := map[string]string{}
		err := filepath.Walk(d, func(p string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, err := os.ReadFile(p)
			rel, _ := filepath.Rel(d, p)
			out[rel] = string(b)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	first := read(dir)
	// Again into the same folder, and into a fresh one.
	if err := Write(res, dir); err != nil {
		t.Fatal(err)
	}
	again := read(dir)
	dir2, md2, page2, _ := render(t, res)
	other := read(dir2)
	if md2 != md || page2 != page {
		t.Error("rendering twice gives different reports")
	}
	if len(first) != len(again) || len(first) != len(other) {
		t.Fatalf("file counts differ: %d, %d, %d", len(first), len(again), len(other))
	}
	for k, v := range first {
		if again[k] != v || other[k] != v {
			t.Errorf("%s differs between renderings", k)
		}
	}
}

func TestEmpty(t *testing.T) {
	for _, res := range []*results.Results{{}, {Suite: "quick", Cells: []results.Cell{}}} {
		_, md, page, _ := render(t, res)
		for _, s := range []string{md, page} {
			for _, w := range []string{"Each method on its own ground", "No own-ground cells", "No architectures", "Cost"} {
				if !strings.Contains(s, w) {
					t.Errorf("empty report lacks %q", w)
				}
			}
		}
		if err := tagBalance(page); err != nil {
			t.Error(err)
		}
	}
	if err := Write(nil, t.TempDir()); err == nil {
		t.Error("nil results accepted")
	}
}

// A cell of bad numbers gives a visible note, not a failed report.
func TestBadFigureData(t *testing.T) {
	res := synthetic()
	res.Cells[5].ROC = &results.XY{X: []float64{0, 1}, Y: []float64{0}}
	_, md, page, _ := render(t, res)
	if !strings.Contains(md, "Figure not drawn") || !strings.Contains(page, "Figure not drawn") {
		t.Error("no note for a figure viz refused")
	}
}

func TestSweep(t *testing.T) {
	c := func(task string) *results.Cell { return &results.Cell{Spec: results.Spec{Task: task}} }
	key, pct, ok := sweptKey([]*results.Cell{c("known=1,labeled=30"), c("known=1,labeled=0"), c("known=2,labeled=5")})
	if !ok || key != "labeled" || pct {
		t.Errorf("swept key %q pct %v ok %v, want labeled", key, pct, ok)
	}
	p := placeOf("known=1,labeled=30", "labeled")
	if !p.OK || p.X != 30 || p.Rest != "known=1" {
		t.Errorf("place %+v", p)
	}
	key, pct, ok = sweptKey([]*results.Cell{c("contamination=5%"), c("contamination=12.5%")})
	if !ok || key != "contamination" || !pct {
		t.Errorf("swept key %q pct %v ok %v, want contamination in %%", key, pct, ok)
	}
	if p := placeOf("contamination=12.5%", "contamination"); p.X != 12.5 {
		t.Errorf("x %v, want 12.5", p.X)
	}
	if _, _, ok := sweptKey([]*results.Cell{c("abnormal=a"), c("")}); ok {
		t.Error("no numbers, yet a swept key")
	}
}

func TestFormat(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{grouped(0), "0"}, {grouped(999), "999"}, {grouped(1000), "1,000"}, {grouped(-1234567), "-1,234,567"},
		{clock(59.4), "59.4 s"}, {clock(59.5), "1m 00s (59.5 s)"}, {clock(61), "1m 01s (61.0 s)"}, {clock(3723), "1h 02m 03s (3723 s)"},
		{flops(999), "999 FLOP"}, {flops(2500000000), "2.50 GFLOP"},
		{bytesIEC(3 << 30), "3.00 GiB"}, {rate(0), none}, {rate(12.34), "12.3"},
		{summary(metrics.Summary{N: 1, Mean: 0.5}), "0.500"}, {summary(metrics.Summary{N: 3, Mean: 0.5, Std: 0.01}), "0.500 ± 0.010"},
		{slug("GANomaly MNIST abnormal=3 / roc"), "ganomaly-mnist-abnormal-3-roc"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// Reading results back from results.json gives the same report.
func TestFromJSON(t *testing.T) {
	res := synthetic()
	dir, md, _, _ := render(t, res)
	b, err := jsonMarshal(res)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "results.json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := results.Read(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(back, dir); err != nil {
		t.Fatal(err)
	}
	md2, _ := os.ReadFile(filepath.Join(dir, MarkdownFile))
	if string(md2) != md {
		t.Error("report from results.json differs from the report of the value")
	}
}
