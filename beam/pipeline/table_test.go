package pipeline

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
	"github.com/oddity-ml/oddity/iforest"
)

// A model trained through the table pipeline (ids, text, missing cells)
// and calibrated scores a raw table whose columns come in another order:
// the pipeline's scores and p-values equal the in-process ones row for
// row across many range boundaries, and the id column is carried.
func TestScoreRawTableWithPValues(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(8, 9))
	var train, test strings.Builder
	train.WriteString("id,amount,country,items\n")
	test.WriteString("items,country,id,amount\n") // reordered
	for i := 0; i < 1200; i++ {
		amount := fmt.Sprintf("%.2f", 50+10*r.NormFloat64())
		if i%29 == 3 {
			amount = "NA"
		}
		if i%97 == 5 {
			amount = "400"
		}
		country := []string{"FR", "DE", "UK"}[r.IntN(3)]
		items := strconv.Itoa(1 + r.IntN(5))
		fmt.Fprintf(&train, "T%d,%s,%s,%s\n", i, amount, country, items)
		if i < 700 {
			if i%50 == 9 {
				country = "ZZ" // unseen level: "other"
			}
			fmt.Fprintf(&test, "%s,%s,S%d,%s\n", items, country, i, amount)
		}
	}
	raw, err := table.ReadCSV(strings.NewReader(train.String()), "train.csv", table.Options{IDColumns: []string{"id"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := table.Fit(raw)
	if err != nil {
		t.Fatal(err)
	}
	x, _, err := p.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := detector.FitCalibrated(ctx, iforest.New(iforest.Options{NTrees: 50, MaxSamples: 256, MaxFeatures: 1, Seed: 2}),
		detector.TrainSet{X: x}, detector.ThresholdRule{Alpha: 0.05}, detector.CalibrationOptions{Fraction: 0.2, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	if m.Pipeline, err = p.MarshalJSON(); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.odm")
	if err := m.SaveFile(model); err != nil {
		t.Fatal(err)
	}
	in := filepath.Join(dir, "new.csv")
	if err := os.WriteFile(in, []byte(test.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// In process: the same table read by name.
	rawTest, err := table.ReadCSV(bytes.NewReader([]byte(test.String())), "new.csv", p.ReadOptions())
	if err != nil {
		t.Fatal(err)
	}
	xt, _, err := p.Transform(rawTest)
	if err != nil {
		t.Fatal(err)
	}
	want, err := m.Score(ctx, xt)
	if err != nil {
		t.Fatal(err)
	}
	wantP, err := m.PValues(want)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "scores.jsonl")
	outCSV := filepath.Join(dir, "scores.csv")
	outWhy := filepath.Join(dir, "why.jsonl")
	outWhyCSV := filepath.Join(dir, "why.csv")
	run(t, func(s beam.Scope) error {
		o := ScoreOptions{Model: model, Input: in, Output: out, ChunkBytes: 2000, OutputFormat: "jsonl"}
		if err := BuildScore(ctx, s, o); err != nil {
			return err
		}
		o.Output, o.OutputFormat = outCSV, "csv"
		if err := BuildScore(ctx, s, o); err != nil {
			return err
		}
		o.Output, o.OutputFormat, o.Explain, o.AnomaliesOnly = outWhy, "jsonl", 2, true
		if err := BuildScore(ctx, s, o); err != nil {
			return err
		}
		o.Output, o.OutputFormat = outWhyCSV, "csv"
		return BuildScore(ctx, s, o)
	})
	checkExplained(t, m, xt, wantP, outWhy, outWhyCSV)
	header, rows := readCSV(t, outCSV)
	if strings.Join(header, ",") != "index,score,p_value,anomaly" {
		t.Fatalf("header %v", header)
	}
	if len(rows) != xt.N {
		t.Fatalf("%d rows scored, the table has %d", len(rows), xt.N)
	}
	for i := 0; i < xt.N; i++ {
		if got := rows[i][1]; got != strconv.FormatFloat(want[i], 'g', -1, 64) {
			t.Fatalf("row %d: pipeline score %s, in-process %v", i, got, want[i])
		}
		if got := rows[i][2]; got != strconv.FormatFloat(wantP[i], 'g', 6, 64) {
			t.Fatalf("row %d: pipeline p-value %s, in-process %v", i, got, wantP[i])
		}
		if (rows[i][3] == "1") != (wantP[i] <= 0.05) {
			t.Fatalf("row %d: flag %s with p %v under alpha 0.05", i, rows[i][3], wantP[i])
		}
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"id":"S9"`) || !strings.Contains(string(b), `"p_value":`) {
		t.Errorf("JSON lines lack the carried id or the p-value: %.200s", b)
	}
}

// checkExplained reads the anomalies-only outputs with two drivers each:
// every flagged row (p ≤ 0.05) is there, with the columns and
// contributions that explain.Drivers gives in process, by original column
// (never an encoded feature such as country=FR), in both formats.
func checkExplained(t *testing.T, m *detector.Model, xt *data.Dataset, wantP []float64, jsonlPath, csvPath string) {
	t.Helper()
	var flagged []int
	for i, p := range wantP {
		if p <= 0.05 {
			flagged = append(flagged, i)
		}
	}
	if len(flagged) == 0 {
		t.Fatal("no row flagged: the test explains nothing")
	}
	want, err := explain.Drivers(context.Background(), m, xt, flagged, 2)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(jsonlPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != len(flagged) {
		t.Fatalf("%d JSON lines, %d rows flagged", len(lines), len(flagged))
	}
	sort.Slice(lines, func(a, b int) bool { return lineIndex(t, lines[a]) < lineIndex(t, lines[b]) })
	for k, l := range lines {
		var got struct {
			Index int64            `json:"index"`
			Why   []explain.Driver `json:"why"`
		}
		if err := json.Unmarshal([]byte(l), &got); err != nil {
			t.Fatal(err)
		}
		if got.Index != int64(flagged[k]) || !reflect.DeepEqual(got.Why, want[k]) {
			t.Fatalf("line %d: row %d explained %v, in process row %d %v", k, got.Index, got.Why, flagged[k], want[k])
		}
		for _, d := range got.Why {
			if strings.Contains(d.Column, "=") {
				t.Fatalf("row %d: driver %q is an encoded feature, not a column", got.Index, d.Column)
			}
		}
	}
	header, rows := readCSV(t, csvPath)
	if strings.Join(header, ",") != "index,score,p_value,anomaly,why_1,why_1_contribution,why_2,why_2_contribution" {
		t.Fatalf("CSV header %v", header)
	}
	if len(rows) != len(flagged) {
		t.Fatalf("%d CSV rows, %d flagged", len(rows), len(flagged))
	}
	for k, i := range flagged {
		r, ok := rows[i]
		if !ok {
			t.Fatalf("flagged row %d not in the CSV output", i)
		}
		if r[0] != strconv.Itoa(flagged[k]) || r[4] != want[k][0].Column || r[5] != strconv.FormatFloat(want[k][0].Contribution, 'g', 6, 64) {
			t.Fatalf("CSV row %v, in process row %d %v", r, flagged[k], want[k])
		}
	}
}

// lineIndex is the "index" of a JSON output line.
func lineIndex(t *testing.T, l string) int64 {
	var v struct {
		Index int64 `json:"index"`
	}
	if err := json.Unmarshal([]byte(l), &v); err != nil {
		t.Fatal(err)
	}
	return v.Index
}
