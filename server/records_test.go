package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
)

// ordersCSV is a training table with an identifier, a number with missing
// cells, a category and a boolean; 120 rows, enough for calibration.
func ordersCSV() string {
	var b strings.Builder
	b.WriteString("order_id,amount,country,express\n")
	countries := []string{"FR", "DE", "ES", "IT"}
	for i := 0; i < 120; i++ {
		amount := fmt.Sprintf("%d.5", 10+(i*37)%90)
		if i%10 == 3 {
			amount = "NA"
		}
		express := "no"
		if i%3 == 0 {
			express = "yes"
		}
		fmt.Fprintf(&b, "ORD-%d,%s,%s,%s\n", 1000+i, amount, countries[i%4], express)
	}
	return b.String()
}

// writeTableModel fits a calibrated offset model on ordersCSV through a
// table pipeline and saves it; it returns the model and its pipeline.
func writeTableModel(t testing.TB, path string, rule detector.ThresholdRule) (*detector.Model, *table.Pipeline) {
	t.Helper()
	return writeTableModelOf(t, path, rule, &offset{})
}

// writeTableModelOf is writeTableModel for the detector d.
func writeTableModelOf(t testing.TB, path string, rule detector.ThresholdRule, d detector.Detector) (*detector.Model, *table.Pipeline) {
	t.Helper()
	raw, err := table.ReadCSV(strings.NewReader(ordersCSV()), "orders.csv", table.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := table.Fit(raw)
	if err != nil {
		t.Fatal(err)
	}
	ds, _, err := p.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	m, err := detector.FitCalibrated(context.Background(), d, detector.TrainSet{X: ds}, rule, detector.CalibrationOptions{Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if m.Pipeline, err = json.Marshal(p); err != nil {
		t.Fatal(err)
	}
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	return m, p
}

// referenceScores scores a CSV text the way oddity score scores a file:
// read with the pipeline's options, transformed, scored; p-values by the
// formula (1 + #{calibration ≥ s}) / (n + 1), counted here by hand.
func referenceScores(t *testing.T, m *detector.Model, p *table.Pipeline, csv string) (scores, pvals []float64, ids []string) {
	t.Helper()
	raw, err := table.ReadCSV(strings.NewReader(csv), "ref.csv", p.ReadOptions())
	if err != nil {
		t.Fatal(err)
	}
	ds, car, err := p.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	scores, err = m.Score(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	cal := m.Calibration().Scores()
	for _, s := range scores {
		ge := 0
		for _, c := range cal {
			if c >= s {
				ge++
			}
		}
		pvals = append(pvals, float64(1+ge)/float64(len(cal)+1))
	}
	if len(car.IDs) > 0 {
		ids = car.IDs[0].Values
	}
	return scores, pvals, ids
}

func newTableServer(t *testing.T, rule detector.ThresholdRule) (*httptest.Server, *detector.Model, *table.Pipeline) {
	t.Helper()
	dir := t.TempDir()
	m, p := writeTableModel(t, filepath.Join(dir, "orders.odm"), rule)
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	s, err := New(Options{Dir: dir, MaxBatch: 100, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts, m, p
}

// The same rows as records with named fields (reordered, a field absent,
// an extra field, an unseen country, a null) score as the equivalent CSV
// file scores through the pipeline, with p-values by the conformal formula
// and the identifiers carried.
func TestRecordsMatchTheCSVPath(t *testing.T) {
	ts, m, p := newTableServer(t, detector.ThresholdRule{Alpha: 0.1})
	body := `{"records":[
		{"country":"FR","amount":12.5,"order_id":"A-1","express":"yes"},
		{"express":"no","order_id":"A-2","country":"DE"},
		{"order_id":"A-3","amount":99.5,"country":"JP","express":"no","coupon":"X"},
		{"order_id":"A-4","amount":null,"country":"IT","express":"yes"},
		{"order_id":"A-5","amount":1e3,"country":"ES","express":"no"}]}`
	csv := "order_id,amount,country,express\nA-1,12.5,FR,yes\nA-2,,DE,no\nA-3,99.5,JP,no\nA-4,,IT,yes\nA-5,1e3,ES,no\n"
	wantScores, wantP, wantIDs := referenceScores(t, m, p, csv)
	c, got := call(t, "POST", ts.URL+"/v1/models/orders:score", body)
	if c != 200 {
		t.Fatalf("records: %d %v", c, got)
	}
	scores := floats(t, got["scores"])
	pv := floats(t, got["p_values"])
	flags := got["anomalies"].([]any)
	for i := range wantScores {
		if scores[i] != wantScores[i] || pv[i] != wantP[i] {
			t.Errorf("row %d: score %v p %v, the CSV path gives %v and %v", i, scores[i], pv[i], wantScores[i], wantP[i])
		}
		// The alpha rule's flag is exactly p ≤ alpha.
		if flags[i] != (wantP[i] <= 0.1) {
			t.Errorf("row %d: flag %v with p = %v under alpha 0.1", i, flags[i], wantP[i])
		}
	}
	ids := got["ids"].(map[string]any)["order_id"].([]any)
	for i, id := range wantIDs {
		if ids[i] != id {
			t.Errorf("ids %v, want %v", ids, wantIDs)
		}
	}
	notes := fmt.Sprint(got["notes"])
	for _, want := range []string{"coupon", "JP"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %s do not mention %s", notes, want)
		}
	}

	// /v2, one input per column (KServe's tabular form), the same rows.
	v2 := `{"id":"t","inputs":[
		{"name":"order_id","datatype":"BYTES","shape":[5],"data":["A-1","A-2","A-3","A-4","A-5"]},
		{"name":"country","datatype":"BYTES","shape":[5,1],"data":[["FR"],["DE"],["JP"],["IT"],["ES"]]},
		{"name":"amount","datatype":"FP64","shape":[5],"data":[12.5,null,99.5,null,1e3]},
		{"name":"express","datatype":"BYTES","shape":[5],"data":["yes","no","no","yes","no"]}]}`
	c, got = call(t, "POST", ts.URL+"/v2/models/orders/infer", v2)
	if c != 200 {
		t.Fatalf("v2 columns: %d %v", c, got)
	}
	outs := map[string][]any{}
	var order []string
	for _, o := range got["outputs"].([]any) {
		om := o.(map[string]any)
		outs[om["name"].(string)] = om["data"].([]any)
		order = append(order, om["name"].(string))
	}
	if !slices.Equal(order, []string{"score", "p_value", "anomaly", "order_id"}) {
		t.Errorf("v2 outputs %v", order)
	}
	for i := range wantScores {
		if outs["score"][i] != wantScores[i] || outs["p_value"][i] != wantP[i] || outs["order_id"][i] != wantIDs[i] {
			t.Errorf("v2 row %d: %v %v %v, want %v %v %v", i, outs["score"][i], outs["p_value"][i], outs["order_id"][i], wantScores[i], wantP[i], wantIDs[i])
		}
	}
	if !strings.Contains(fmt.Sprint(got["parameters"]), "JP") {
		t.Errorf("v2 parameters %v lack the unseen-level note", got["parameters"])
	}

	// Encoded rows ("input") still score, and outputs can be chosen.
	enc := make([]string, p.Dim())
	for i := range enc {
		enc[i] = "0"
	}
	c, got = call(t, "POST", ts.URL+"/v2/models/orders/infer", fmt.Sprintf(`{"inputs":[{"name":"input","shape":[1,%d],"data":[%s]}],"outputs":[{"name":"p_value"}]}`, p.Dim(), strings.Join(enc, ",")))
	if c != 200 || len(got["outputs"].([]any)) != 1 || got["outputs"].([]any)[0].(map[string]any)["name"] != "p_value" {
		t.Errorf("encoded rows with outputs [p_value]: %d %v", c, got)
	}
}

func floats(t *testing.T, v any) []float64 {
	t.Helper()
	a, ok := v.([]any)
	if !ok {
		t.Fatalf("not an array: %v", v)
	}
	out := make([]float64, len(a))
	for i, x := range a {
		out[i] = x.(float64)
	}
	return out
}

// Bad records are 400s naming the row and field; the model without a
// pipeline refuses records; null among numbers is named by row and
// position as oddity score names it.
func TestRecordErrors(t *testing.T) {
	ts, _, _ := newTableServer(t, detector.ThresholdRule{})
	for _, c := range []struct {
		path, body string
		code       int
		want       []string
	}{
		{"/v1/models/orders:score", `{"records":[{"amount":1},{"amount":"lots"}]}`, 400, []string{"row 1", "amount", "lots"}},
		{"/v1/models/orders:score", `{"records":[{"amount":1},{"country":{"a":1}}]}`, 400, []string{"row 1", "country", "object or array"}},
		{"/v1/models/orders:score", `{"records":[1]}`, 400, []string{"records[0]"}},
		{"/v1/models/orders:score", `{"records":[]}`, 400, []string{"no rows"}},
		{"/v1/models/rows:score", `{"records":[{"a":1}]}`, 400, []string{"no table pipeline"}},
		{"/v1/models/rows:score", `{"rows":[[1,2,3],[4,null,6]]}`, 400, []string{"row 1, position 1", "null"}},
		{"/v2/models/rows/infer", `{"inputs":[{"name":"input","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,null,6]}]}`, 400, []string{"row 1, position 1", "null"}},
		{"/v2/models/rows/infer", `{"inputs":[{"name":"input","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[4,5,null]]}]}`, 400, []string{"row 1, position 2", "null"}},
		{"/v2/models/orders/infer", `{"inputs":[{"name":"amount","shape":[2],"data":[1,2]},{"name":"country","shape":[3],"datatype":"BYTES","data":["a","b","c"]}]}`, 400, []string{"same number"}},
		{"/v2/models/orders/infer", `{"inputs":[{"name":"amount","shape":[2],"data":[1,"x"]}]}`, 400, []string{"row 1", "amount"}},
		{"/v2/models/orders/infer", `{"inputs":[{"name":"amount","shape":[1],"data":[1]}],"outputs":[{"name":"nope"}]}`, 400, []string{"no output \"nope\""}},
		{"/v2/models/rows/infer", `{"inputs":[{"name":"input","shape":[1,3],"data":[1,2,3]}],"outputs":[{"name":"p_value"}]}`, 400, []string{"no calibration"}},
		{"/v2/models/rows/infer", `{"inputs":[{"name":"input","shape":[-1,-3],"data":[1,2,3]}]}`, 400, []string{"negative"}},
	} {
		code, m := call(t, "POST", ts.URL+c.path, c.body)
		msg, _ := m["error"].(string)
		if code != c.code {
			t.Errorf("%s %s: %d %q, want %d", c.path, c.body, code, msg, c.code)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(msg, w) {
				t.Errorf("%s %s: error %q lacks %q", c.path, c.body, msg, w)
			}
		}
	}
}

// The records decoder never panics and answers 2xx or 4xx.
func FuzzRecords(f *testing.F) {
	dir := f.TempDir()
	writeTableModel(f, filepath.Join(dir, "orders.odm"), detector.ThresholdRule{})
	s, err := New(Options{Dir: dir, MaxBatch: 50, MaxBodyBytes: 1 << 14, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		`{"records":[{"amount":1,"country":"FR","express":"yes","order_id":"x"}]}`,
		`{"records":[{"amount":"1\n2","country":"F\"R,"}]}`,
		`{"inputs":[{"name":"amount","shape":[1],"data":[null]},{"name":"country","shape":[1],"datatype":"BYTES","data":["\u00e9"]}]}`,
	} {
		f.Add(seed)
	}
	h := s.Handler()
	f.Fuzz(func(t *testing.T, body string) {
		for _, path := range []string{"/v1/models/orders:score", "/v2/models/orders/infer"} {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
			if rec.Code >= 500 {
				t.Fatalf("%s: status %d for %q: %s", path, rec.Code, body, rec.Body.String())
			}
			var m map[string]any
			if err := json.Unmarshal(bytes.TrimSpace(rec.Body.Bytes()), &m); err != nil {
				t.Fatalf("%s: non-JSON answer %q", path, rec.Body.String())
			}
			if sc, ok := m["scores"].([]any); ok {
				for _, v := range sc {
					if f, ok := v.(float64); !ok || math.IsNaN(f) {
						t.Fatalf("bad score %v", v)
					}
				}
			}
		}
	})
}
