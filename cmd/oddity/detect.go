package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/conformal"
	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/imagefolder"
	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/devnet"
	"github.com/oddity-ml/oddity/explain"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/lof"
	"github.com/oddity-ml/oddity/option"
	"github.com/oddity-ml/oddity/viz"
)

// The default detectors of `oddity detect`, and the evidence for each
// (docs/results/full/report.md):
//   - a table, unlabelled: Isolation Forest, first of 12 unsupervised
//     detectors in the full suite's unsupervised-tabular table (mean
//     AUC-ROC 0.785 and average rank 3.69 over 21 ADBench files; first
//     also on the 13 files outside the common-tabular table it was first
//     chosen on), with no setting to tune and one of the fastest fits;
//   - a table with at least detectMinLabelled rows labelled 1: DevNet, which
//     reached 0.878 mean AUC-ROC on the 21 ADBench files with 5% of the
//     anomalies labelled, where Isolation Forest reached 0.785; DPLAN
//     (0.870) ties with it out of sample (each half of the files picks a
//     different one) and takes about 100 times longer to fit;
//   - images: LOF on pixels (k = 20), chosen by scripts/imagedefault on
//     folders made from MNIST (one digit with 2% of other digits mixed in,
//     fitted and scored as detect does) by a rule fixed before the run
//     (the fastest within 0.01 of the best mean AUC-ROC: LOF 0.946, kNN
//     0.935, Isolation Forest 0.863, deep clustering 0.685), and shown out
//     of sample on USPS (LOF first, 0.841) and CIFAR-10, where no detector
//     on pixels finds a semantic class (0.55 to 0.64)
//     (docs/results/image-default.txt).
//
// The table defaults were chosen by looking at the suite's results on the
// same files the report shows; the README says how each was checked out of
// sample.
const detectMinLabelled = 5

type detectResult struct {
	method, why string
	opts        any
	x           *data.Dataset
	ids         []string
	idName      string
	ts          detector.TrainSet
	// pipeline is a table's fitted pipeline (nil for images): the
	// report's schema and the model's stored pipeline both come from it.
	pipeline *table.Pipeline
	images   bool
}

func init() {
	var (
		out, labelCol string
		top           int
		fdr, calib    float64
		alpha         float64
		seed          uint64
		tf            tableFlags
	)
	cmd := &cobra.Command{
		Use:   "detect FILE|FOLDER",
		Short: "Find the anomalies in a file or folder nobody prepared: schema, a default detector, ranked rows, p-values and a report",
		Long: `detect reads a table (CSV/TSV, plain or gzip, or Parquet) or a folder of
images (any PNG/JPEG sizes), prints what it inferred, fits a default detector
(it says which and why), scores every row or image, and prints the top
anomalies with their ids or file names, scores and conformal p-values. A
share of the rows (--calibration) is held out of training to calibrate the
p-values. A row is flagged when its p-value is at most --alpha (so about
alpha of the normal rows are flagged, if they are exchangeable with the
held-out ones), or, with --fdr, by Benjamini-Hochberg over the whole input
(at most a share q of the flagged rows normal, in expectation). It writes scores.csv, report.html (self-contained) and model.odm to
--out.`,
		Example: `  oddity detect orders.csv --id-column order_id
  oddity detect orders.csv --label-column is_fraud --out fraud-check
  oddity detect ./photos --top 20`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			start := time.Now()
			log := cmd.ErrOrStderr()
			path := args[0]
			var r *detectResult
			var err error
			if layout, lerr := imagefolder.Detect(path); lerr == nil && (layout == imagefolder.Flat || layout == imagefolder.MVTec) {
				r, err = detectImages(path, layout, log)
			} else if isTable(path) {
				r, err = detectTable(path, tf.options(labelCol), log)
			} else {
				return fmt.Errorf("%s: not a table (CSV, TSV, Parquet) nor a folder of images", path)
			}
			if err != nil {
				return err
			}
			in, err := detector.Lookup(r.method)
			if err != nil {
				return err
			}
			option.SetSeed(r.opts, seed)
			d, err := in.New(r.opts)
			if err != nil {
				return err
			}
			fmt.Fprintf(log, "detector: %s: %s\n", r.method, r.why)
			bars := progress.NewPhases(r.method)
			r.ts.Progress = bars.Report
			m, err := detector.FitCalibrated(cmd.Context(), d, r.ts, detector.ThresholdRule{Contamination: 0.01},
				detector.CalibrationOptions{Fraction: calib, Seed: seed})
			bars.Close()
			if err != nil {
				return err
			}
			if r.pipeline != nil {
				if m.Pipeline, err = r.pipeline.MarshalJSON(); err != nil {
					return err
				}
			}
			scores, err := m.ScoreFitData(cmd.Context(), r.x, detector.CalibrationOptions{Fraction: calib, Seed: seed})
			if err != nil {
				return err
			}
			pv, err := m.PValues(scores)
			if err != nil {
				return err
			}
			flags := make([]bool, len(pv))
			rule := fmt.Sprintf("p-value <= %g", alpha)
			if fdr > 0 {
				if flags, err = conformal.BenjaminiHochberg(pv, fdr); err != nil {
					return err
				}
				rule = fmt.Sprintf("Benjamini-Hochberg at FDR %g", fdr)
			} else {
				if !(alpha > 0 && alpha < 1) {
					return fmt.Errorf("--alpha must be in (0, 1), got %v", alpha)
				}
				for i, p := range pv {
					flags[i] = p <= alpha
				}
			}
			order := make([]int, len(scores))
			for i := range order {
				order[i] = i
			}
			sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
			name := func(i int) string {
				if r.ids != nil && r.ids[i] != "" {
					return r.ids[i]
				}
				return fmt.Sprintf("row %d", i)
			}
			nFlag := 0
			for _, f := range flags {
				if f {
					nFlag++
				}
			}
			w := cmd.OutOrStdout()
			topRows := order[:min(top, len(order))]
			// What drives each top row: its columns' contributions
			// (tables), or where in the image (anomaly maps, written
			// with the report).
			why := make([]string, len(topRows))
			if !r.images {
				ds, err := explain.Drivers(cmd.Context(), m, r.x, topRows, 3)
				if err != nil {
					return fmt.Errorf("explaining the top rows: %w", err)
				}
				for k := range ds {
					why[k] = explain.FormatDrivers(ds[k])
				}
			}
			fmt.Fprintf(w, "%d of %d flagged (%s; p-values from %d held-out rows, the smallest possible %.2g); top %d:\n",
				nFlag, len(scores), rule, m.Calibration().Len(), m.Calibration().MinPValue(), min(top, len(scores)))
			whyHead := "why (column contributions)"
			if r.images {
				whyHead = ""
				if _, ok := m.Detector.(detector.Localizer); ok && out != "" {
					whyHead = "where: anomaly maps in " + filepath.Join(out, "maps")
				}
			}
			fmt.Fprintf(w, "%4s  %-24s %12s %10s %-7s  %s\n", "rank", r.idName, "score", "p-value", "flagged", whyHead)
			for k, i := range topRows {
				fmt.Fprintf(w, "%4d  %-24s %12.6g %10.4g %-7v  %s\n", k+1, name(i), scores[i], pv[i], flags[i], why[k])
			}
			if out == "" {
				return nil
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
			m.Meta.Extra = map[string]string{"data": path, "command": "oddity detect", "seed": fmt.Sprint(seed)}
			if err := m.SaveFile(filepath.Join(out, "model.odm")); err != nil {
				return err
			}
			f, err := os.Create(filepath.Join(out, "scores.csv"))
			if err != nil {
				return err
			}
			bw := bufio.NewWriter(f)
			// The scores, p-values and flags printed above, not a second scoring.
			if err := writeScores(bw, "csv", scored{scores: scores, pvalues: pv, flags: flags, labels: r.x.Y, ids: r.ids, idName: r.idName}); err != nil {
				f.Close()
				return err
			}
			if err := bw.Flush(); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			var maps []string
			if _, ok := m.Detector.(detector.Localizer); ok && r.images {
				if maps, err = writeMaps(cmd.Context(), m, r.x, topRows, r.ids, filepath.Join(out, "maps")); err != nil {
					return err
				}
			}
			if err := writeDetectReport(filepath.Join(out, "report.html"), path, r, scores, pv, flags, topRows, why, maps, name, rule, time.Since(start)); err != nil {
				return err
			}
			fmt.Fprintf(w, "wrote %s (scores.csv, report.html, model.odm) in %.1f s\n", out, time.Since(start).Seconds())
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "oddity-detect", "`FOLDER` for scores.csv, report.html and model.odm (\"\": print only)")
	f.StringVar(&labelCol, "label-column", "", "label `COLUMN` of a table: 1 marks a known anomaly, 0 or blank unlabelled")
	f.IntVar(&top, "top", 10, "`N` top anomalies to print and show")
	f.Float64Var(&alpha, "alpha", 0.01, "flag a row when its p-value is at most `ALPHA`")
	f.Float64Var(&fdr, "fdr", 0, "flag by Benjamini-Hochberg at false discovery rate `Q` over the whole input instead")
	f.Float64Var(&calib, "calibration", detector.DefaultCalibrationFraction, "share of the rows held out of training to calibrate p-values")
	f.Uint64Var(&seed, "seed", 0, "random seed")
	tf.bind(f)
	rootCmd.AddCommand(cmd)
}

// detectTable reads a table and picks its detector.
func detectTable(path string, o table.Options, log io.Writer) (*detectResult, error) {
	t, err := readTrainingTable(path, o, log)
	if err != nil {
		return nil, err
	}
	r := &detectResult{x: t.x, idName: "row", pipeline: t.pipeline}
	if ids := t.pipeline.IDColumns(); len(ids) > 0 && len(t.carried.IDs) > 0 {
		r.ids, r.idName = t.carried.IDs[0].Values, t.carried.IDs[0].Name
	}
	labelled := 0
	for _, y := range t.carried.Labels {
		if y == 1 {
			labelled++
		}
	}
	if labelled >= detectMinLabelled {
		o := devnet.DefaultOptions()
		r.method, r.opts = devnet.Method, &o
		r.why = fmt.Sprintf("%d rows are labelled anomalies, so a weakly supervised detector (DevNet: 0.878 mean AUC-ROC on 21 ADBench files with 5%% of the anomalies labelled, against Isolation Forest's 0.785)", labelled)
		if r.ts, err = t.trainSet(true); err != nil {
			return nil, err
		}
		return r, nil
	}
	o2 := iforest.DefaultOptions()
	r.method, r.opts = iforest.Method, &o2
	r.why = "no labelled anomalies, so the best unsupervised tabular detector of the full benchmark (Isolation Forest: first of 12 on 21 ADBench files, mean AUC-ROC 0.785; kNN 0.759, LODA 0.759, HBOS 0.762, the autoencoder 0.713), fast and with nothing to tune"
	if labelled > 0 {
		r.why += fmt.Sprintf(" (%d labelled anomalies are too few for a weakly supervised one; %d or more switch to DevNet)", labelled, detectMinLabelled)
	}
	r.ts = detector.TrainSet{X: t.x}
	return r, nil
}

// detectImages loads a folder of images and sets up deep clustering.
func detectImages(path string, layout imagefolder.Layout, log io.Writer) (*detectResult, error) {
	note := func(s string) { fmt.Fprintln(log, "note:", s) }
	fo := imagefolder.FlatOptions{MaxSide: 64, Note: note}
	var x *data.Dataset
	var names []string
	var err error
	if layout == imagefolder.Flat {
		x, names, err = imagefolder.LoadFlat(path, fo)
	} else {
		mv, merr := imagefolder.LoadMVTec(path, fo)
		if merr != nil {
			return nil, merr
		}
		x, names = mv.Train, mv.TrainNames
		if mv.Test != nil {
			if x, err = data.Concat("all", mv.Train, mv.Test); err != nil {
				return nil, err
			}
			names = append(append([]string(nil), mv.TrainNames...), mv.TestNames...)
		}
	}
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(log, "%s: %d images (%s layout), read as %v (channels × side × side, values in [0, 1])\n", path, x.N, layout, x.Shape)
	o := lof.DefaultOptions()
	r := &detectResult{method: lof.Method, opts: &o, x: x, ids: names, idName: "file", images: true,
		ts:  detector.TrainSet{X: x},
		why: fmt.Sprintf("images, so LOF on pixels (k = %d): on folders of one kind of image with 2%% of others mixed in it ranked first on MNIST (mean AUC-ROC 0.946) and first on USPS out of sample (0.841), in a fraction of a second; deep clustering reached 0.685 (docs/results/image-default.txt). Maps show where an image differs from its nearest neighbours", o.K)}
	return r, nil
}

var detectPage = template.Must(template.New("detect").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>oddity detect: {{.Input}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
th{background:#f4f4f4}.num{text-align:right;font-variant-numeric:tabular-nums}.flag{color:#b00;font-weight:600}
img.thumb{width:64px;height:64px;image-rendering:pixelated}figure{margin:0}pre{background:#f8f8f8;padding:.5rem}</style></head>
<body><h1>oddity detect</h1>
<p><strong>{{.Input}}</strong>: {{.N}} rows; {{.Flagged}} flagged ({{.Rule}}, on conformal p-values; {{.Elapsed}}).</p>
<p><strong>Detector:</strong> {{.Method}}, because {{.Why}}.</p>
{{if .Columns}}<h2>Schema</h2><table><tr><th>column</th><th>kind</th><th>why</th><th>missing</th><th>becomes</th></tr>
{{range .Columns}}<tr><td>{{.Name}}</td><td>{{.Kind}}</td><td>{{.Why}}</td><td class="num">{{.Missing}}</td><td>{{.Becomes}}</td></tr>{{end}}</table>{{end}}
<h2>Scores</h2><figure><img alt="score histogram with the flagging threshold" src="data:image/svg+xml;base64,{{.Histogram}}"></figure>
<h2>Top {{len .Top}} anomalies</h2><table><tr><th>rank</th>{{if .Images}}<th>image</th>{{end}}<th>{{.IDName}}</th><th>score</th><th>p-value</th><th>flagged</th>{{if .Images}}<th>anomaly map</th>{{else}}<th>why (column contributions)</th>{{end}}</tr>
{{range .Top}}<tr><td class="num">{{.Rank}}</td>{{if $.Images}}<td><img class="thumb" alt="{{.Name}}" src="data:image/png;base64,{{.Thumb}}"></td>{{end}}<td>{{.Name}}</td><td class="num">{{.Score}}</td><td class="num">{{.P}}</td><td{{if .Flag}} class="flag"{{end}}>{{.Flag}}</td>{{if $.Images}}<td>{{if .Map}}<img class="thumb" alt="map of {{.Name}}" src="data:image/png;base64,{{.Map}}">{{end}}</td>{{else}}<td>{{.Why}}</td>{{end}}</tr>{{end}}</table>
<p>Every row's score and p-value are in scores.csv; the model is model.odm (oddity score --model model.odm NEWFILE).</p>
<script>
// Self-check: count the pictures that did not load, so a broken page says so
// (the test renders this page in headless Chromium and reads the count).
window.addEventListener("load", function () {
  var bad = Array.prototype.filter.call(document.images, function (i) { return !i.complete || i.naturalWidth === 0; });
  document.body.setAttribute("data-broken-images", String(bad.length));
  if (bad.length) { console.error("report: " + bad.length + " pictures did not load: " + bad.map(function (i) { return i.alt; }).join(", ")); }
});
</script>
</body></html>
`))

type detectRow struct {
	Rank             int
	Name, Thumb, Map string
	Score, P, Why    string
	Flag             bool
}

type detectColumn struct {
	Name, Kind, Why, Becomes string
	Missing                  int
}

func writeDetectReport(path, input string, r *detectResult, scores, pv []float64, flags []bool, top []int, why, maps []string, name func(int) string, rule string, elapsed time.Duration) error {
	page := struct {
		Input, Method, Why, IDName, Histogram, Elapsed string
		N, Flagged                                     int
		Rule                                           string
		Images                                         bool
		Columns                                        []detectColumn
		Top                                            []detectRow
	}{Input: input, Method: r.method, Why: r.why, IDName: r.idName, N: len(scores), Rule: rule, Images: r.images,
		Elapsed: elapsed.Round(100 * time.Millisecond).String()}
	var flagged []float64
	var thr = 0.0
	for i, f := range flags {
		if f {
			page.Flagged++
			flagged = append(flagged, scores[i])
		}
	}
	opt := viz.HistOptions{Counts: true}
	if len(flagged) > 0 {
		thr = flagged[0]
		for _, s := range flagged {
			thr = min(thr, s)
		}
		opt.Marks = []viz.Mark{{Name: "flagged from here", X: thr}}
	}
	fig, err := viz.HistogramsFigure("Anomaly scores", []viz.Group{{Name: "all rows", Values: scores}}, opt)
	if err != nil {
		return err
	}
	svg, err := fig.SVG()
	if err != nil {
		return err
	}
	page.Histogram = base64.StdEncoding.EncodeToString(svg)
	if r.pipeline != nil {
		for _, c := range r.pipeline.Schema().Columns {
			page.Columns = append(page.Columns, detectColumn{Name: c.Name, Kind: string(c.Kind), Why: c.Why, Missing: c.Missing, Becomes: c.Becomes})
		}
	}
	for k, i := range top {
		row := detectRow{Rank: k + 1, Name: name(i), Score: fmt.Sprintf("%.6g", scores[i]), P: fmt.Sprintf("%.4g", pv[i]), Flag: flags[i], Why: why[k]}
		if r.images {
			thumb, err := thumbnail(r.x, i)
			if err != nil {
				return err
			}
			row.Thumb = thumb
			if k < len(maps) {
				b, err := os.ReadFile(maps[k])
				if err != nil {
					return err
				}
				row.Map = base64.StdEncoding.EncodeToString(b)
			}
		}
		page.Top = append(page.Top, row)
	}
	var buf bytes.Buffer
	if err := detectPage.Execute(&buf, page); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// thumbnail encodes sample i of an image set (C×S×S in [0, 1]) as a base64
// PNG.
func thumbnail(x *data.Dataset, i int) (string, error) {
	c, h, w := x.Shape[0], x.Shape[1], x.Shape[2]
	px := x.Row(i)
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	at := func(ch, y, xx int) uint8 { return uint8(min(1, max(0, px[ch*h*w+y*w+xx]))*255 + 0.5) }
	for y := 0; y < h; y++ {
		for xx := 0; xx < w; xx++ {
			if c >= 3 {
				img.Set(xx, y, color.NRGBA{at(0, y, xx), at(1, y, xx), at(2, y, xx), 255})
			} else {
				g := at(0, y, xx)
				img.Set(xx, y, color.NRGBA{g, g, g, 255})
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
