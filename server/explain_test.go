package server

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

// linear is the offset detector with exact attributions: its score is the
// offset plus the sum of the values, so value j is feature j's share and
// the offset completes the sum.
type linear struct{ offset }

func (l *linear) Method() string { return "servertest-linear" }
func (l *linear) Explain(_ context.Context, x, _ *data.Dataset) (*detector.Attributions, error) {
	a := &detector.Attributions{N: x.N, D: x.Dim(), Values: append([]float32(nil), x.X...), Technique: "exact", Offset: make([]float64, x.N)}
	for i := range a.Offset {
		a.Offset[i] = float64(l.off.Data[0])
	}
	return a, nil
}

func init() {
	detector.Register(detector.Info{Method: "servertest-linear", Kind: detector.Unsupervised | detector.Tables, Summary: "test: offset with exact attributions",
		Options: func() any { return &struct{}{} },
		New:     func(any) (detector.Detector, error) { return &linear{offset{off: tensor.New(1)}}, nil }})
}

// Explanations of a table model are the per-feature attributions summed
// back to the input columns: for the linear detector, each column's sum
// of encoded features, computed here from the CSV path independently.
// They come only when asked for: as v2 outputs or from :explain.
func TestExplanations(t *testing.T) {
	dir := t.TempDir()
	d := &linear{offset{off: tensor.New(1)}}
	d.off.Name = "offset"
	m, p := writeTableModelOf(t, filepath.Join(dir, "orders.odm"), detector.ThresholdRule{}, d)
	writeModel(t, filepath.Join(dir, "plain.odm"), 0.5, 3)
	// A model as saved before background rows existed.
	old, err := detector.LoadFile(filepath.Join(dir, "plain.odm"))
	if err != nil {
		t.Fatal(err)
	}
	old.Background = nil
	if err := old.SaveFile(filepath.Join(dir, "old.odm")); err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Dir: dir, MaxExplainRows: 3, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()

	csv := "order_id,amount,country,express\nA-1,12.5,FR,yes\nA-2,,JP,no\n"
	raw, err := readCSV(csv, p)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := p.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	// Expected per-column sums, by the feature names' prefixes.
	cols := []string{"amount", "country", "express"}
	want := make([][]float64, ds.N)
	for i := range want {
		want[i] = make([]float64, len(cols))
		for j, f := range ds.FeatureNames {
			for k, c := range cols {
				if f == c || strings.HasPrefix(f, c+".") || strings.HasPrefix(f, c+"=") {
					want[i][k] += float64(ds.Row(i)[j])
				}
			}
		}
	}
	body := `{"records":[{"order_id":"A-1","amount":12.5,"country":"FR","express":"yes"},{"order_id":"A-2","country":"JP","express":"no"}]}`
	c, got := call(t, "POST", ts.URL+"/v1/models/orders:explain?top_k=2", body)
	if c != 200 {
		t.Fatalf(":explain %d %v", c, got)
	}
	if fmt.Sprint(got["columns"]) != fmt.Sprint(cols) {
		t.Errorf("columns %v, want %v", got["columns"], cols)
	}
	attr := got["attributions"].([]any)
	scores := floats(t, got["scores"])
	for i := range want {
		row := floats(t, attr[i])
		total := float64(m.Detector.(*linear).off.Data[0])
		for k := range cols {
			if d := row[k] - want[i][k]; d > 1e-6 || d < -1e-6 {
				t.Errorf("row %d column %s: attribution %v, want %v", i, cols[k], row[k], want[i][k])
			}
			total += row[k]
		}
		if d := total - scores[i]; d > 1e-4 || d < -1e-4 {
			t.Errorf("row %d: offset + attributions = %v, score %v", i, total, scores[i])
		}
		top := got["top_features"].([]any)[i].([]any)
		if len(top) != 2 {
			t.Errorf("row %d: top_features %v, want 2", i, top)
		}
	}

	// v2: only when asked for; with features named.
	v2 := `{"inputs":[{"name":"amount","shape":[1],"data":[12.5]},{"name":"country","shape":[1],"datatype":"BYTES","data":["FR"]},{"name":"express","shape":[1],"datatype":"BYTES","data":["yes"]}]%s}`
	c, got = call(t, "POST", ts.URL+"/v2/models/orders/infer", fmt.Sprintf(v2, ""))
	if c != 200 {
		t.Fatalf("v2: %d %v", c, got)
	}
	for _, o := range got["outputs"].([]any) {
		if n := o.(map[string]any)["name"]; n == "attributions" || n == "top_features" {
			t.Errorf("%v computed without being asked for", n)
		}
	}
	c, got = call(t, "POST", ts.URL+"/v2/models/orders/infer", fmt.Sprintf(v2, `,"parameters":{"top_k":1},"outputs":[{"name":"score"},{"name":"attributions"},{"name":"top_features"}]`))
	if c != 200 {
		t.Fatalf("v2 attributions: %d %v", c, got)
	}
	outs := got["outputs"].([]any)
	a := outs[1].(map[string]any)
	if fmt.Sprint(a["shape"]) != "[1 3]" || fmt.Sprint(a["parameters"].(map[string]any)["features"]) != fmt.Sprint(cols) {
		t.Errorf("attributions output %v", a)
	}
	row := floats(t, a["data"])
	for k := range cols {
		if d := row[k] - want[0][k]; d > 1e-6 || d < -1e-6 {
			t.Errorf("v2 column %s: %v, want %v", cols[k], row[k], want[0][k])
		}
	}
	if top := outs[2].(map[string]any); fmt.Sprint(top["shape"]) != "[1 1]" {
		t.Errorf("top_features %v", top)
	}

	// A detector that does not explain itself is explained by the Shapley
	// estimate against the model's background rows: for a sum of values
	// it is exact (no interactions), each feature's value minus the
	// background's mean of it. Without background rows: 501.
	c, got = call(t, "POST", ts.URL+"/v1/models/plain:explain", `{"rows":[[1,2,3]]}`)
	if c != 200 || got["technique"] != "shapley" {
		t.Fatalf("plain :explain: %d %v", c, got)
	}
	// writeModel's four training rows are all (0, 1, 2), the background
	// too: the attributions of (1, 2, 3) are 1 - 0, 2 - 1 and 3 - 2.
	for j, w := range []float64{1, 1, 1} {
		if v := floats(t, got["attributions"].([]any)[0])[j]; v-w > 1e-4 || w-v > 1e-4 {
			t.Errorf("Shapley attribution %d: %v, want %v", j, v, w)
		}
	}
	if c, m := call(t, "POST", ts.URL+"/v1/models/old:explain", `{"rows":[[1,2,3]]}`); c != 501 {
		t.Errorf("old model :explain: %d %v", c, m)
	}
	if c, m := call(t, "POST", ts.URL+"/v1/models/orders:explain", `{"records":[{},{},{},{}]}`); c != 413 {
		t.Errorf("4 rows over a limit of 3: %d %v", c, m)
	}
}

// readCSV reads a CSV text with the pipeline's read options.
func readCSV(csv string, p *table.Pipeline) (*table.Raw, error) {
	return table.ReadCSV(strings.NewReader(csv), "x.csv", p.ReadOptions())
}
