package table

import (
	"bytes"
	"encoding/csv"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
)

const fixture = "testdata/orders.csv"

// fit reads the fixture and fits a pipeline with the label column.
func fitFixture(t *testing.T) (*Raw, *Pipeline) {
	t.Helper()
	raw, err := ReadFile(fixture, Options{LabelColumn: "is_fraud"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Fit(raw)
	if err != nil {
		t.Fatal(err)
	}
	return raw, p
}

// feature returns the value of the named feature in row i.
func feature(t *testing.T, ds *data.Dataset, i int, name string) float32 {
	t.Helper()
	j := slices.Index(ds.FeatureNames, name)
	if j < 0 {
		t.Fatalf("no feature %q in %v", name, ds.FeatureNames)
	}
	return ds.Row(i)[j]
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-5 }

func TestFixtureKinds(t *testing.T) {
	raw, p := fitFixture(t)
	if raw.Rows != 30 {
		t.Fatalf("rows = %d, want 30", raw.Rows)
	}
	if raw.Columns[0].Name != "order_id" {
		t.Errorf("first column %q: the byte order mark was not dropped", raw.Columns[0].Name)
	}
	want := map[string]struct {
		kind    Kind
		missing int
	}{
		"order_id":  {ID, 0},
		"placed_at": {Timestamp, 1},
		"amount":    {Numeric, 2},
		"country":   {Categorical, 1},
		"express":   {Boolean, 1},
		"items":     {Numeric, 0},
		"coupon":    {Empty, 30},
		"store":     {Constant, 0},
		"is_fraud":  {Label, 7},
	}
	s := p.Schema()
	if len(s.Columns) != len(want) {
		t.Fatalf("%d columns in the schema, want %d", len(s.Columns), len(want))
	}
	for _, c := range s.Columns {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("unexpected column %q", c.Name)
			continue
		}
		if c.Kind != w.kind || c.Missing != w.missing {
			t.Errorf("column %s: kind %s, %d missing; want %s, %d", c.Name, c.Kind, c.Missing, w.kind, w.missing)
		}
	}
	text := s.String()
	for _, frag := range []string{"order_id", "carried (identifier)", "country=FR", "dropped", "30 training rows"} {
		if !strings.Contains(text, frag) {
			t.Errorf("schema table lacks %q:\n%s", frag, text)
		}
	}
	wantFeatures := []string{
		"placed_at.hour_sin", "placed_at.hour_cos", "placed_at.dow_sin", "placed_at.dow_cos",
		"placed_at.doy_sin", "placed_at.doy_cos", "placed_at.epoch", "placed_at.missing",
		"amount", "amount.missing",
		"country=FR", "country=DE", "country=US", "country=ES", "country=Korea, Republic of", "country=other", "country.missing",
		"express", "express.missing", "items",
	}
	if got := p.FeatureNames(); !slices.Equal(got, wantFeatures) {
		t.Errorf("features\n got %q\nwant %q", got, wantFeatures)
	}
	if p.Source(0) != "placed_at" || p.Source(9) != "amount" || p.Source(16) != "country" || p.Source(19) != "items" || p.Source(20) != "" {
		t.Errorf("Source maps wrongly: %q %q %q %q", p.Source(0), p.Source(9), p.Source(16), p.Source(19))
	}
	names, sums, err := p.SumBySource(slices.Repeat([]float64{1}, p.Dim()))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"placed_at", "amount", "country", "express", "items"}) || !slices.Equal(sums, []float64{8, 2, 7, 2, 1}) {
		t.Errorf("SumBySource = %v %v", names, sums)
	}
}

func TestFixtureValues(t *testing.T) {
	raw, p := fitFixture(t)
	ds, car, err := p.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	if ds.N != 30 || ds.Dim() != 20 {
		t.Fatalf("%d×%d, want 30×20", ds.N, ds.Dim())
	}
	// amount: 28 present values; sorted, the 14th and 15th are 23.75 and
	// 24, so the median is 23.875; min 5, max 99.9.
	const lo, hi, med = 5.0, 99.9, 23.875
	checks := []struct {
		row  int
		name string
		want float64
	}{
		{0, "amount", (12.5 - lo) / (hi - lo)},
		{0, "amount.missing", 0},
		{2, "amount", (med - lo) / (hi - lo)}, // empty cell
		{2, "amount.missing", 1},
		{7, "amount", (med - lo) / (hi - lo)}, // "NA"
		{7, "amount.missing", 1},
		{4, "amount", 1}, // the maximum
		{8, "amount", 0}, // the minimum
		{0, "country=FR", 1},
		{0, "country=DE", 0},
		{0, "country=other", 0},
		{0, "country.missing", 0},
		{5, "country=FR", 0}, // empty country
		{5, "country=other", 0},
		{5, "country.missing", 1},
		{13, "country=Korea, Republic of", 1}, // a quoted separator
		{0, "express", 1},
		{1, "express", 0},
		// express: 10 yes (rows 0, 3, ..., 27) and 19 no, so a blank is "no"
		{8, "express", 0},
		{8, "express.missing", 1},
		{0, "items", 0}, // items 1 of 1..5
		{1, "items", 0.5},
		// 2024-03-01 09:00 (a Friday, the first time): hour 9 of 24
		{0, "placed_at.hour_sin", (1 + math.Sin(2*math.Pi*9/24)) / 2},
		{0, "placed_at.hour_cos", (1 + math.Cos(2*math.Pi*9/24)) / 2},
		{0, "placed_at.dow_sin", (1 + math.Sin(2*math.Pi*(5+9.0/24)/7)) / 2},
		{0, "placed_at.epoch", 0},
		{0, "placed_at.missing", 0},
		{11, "placed_at.missing", 1},
	}
	for _, c := range checks {
		if got := feature(t, ds, c.row, c.name); !near(float64(got), c.want) {
			t.Errorf("row %d %s = %v, want %v", c.row, c.name, got, c.want)
		}
	}
	for i := 0; i < ds.N; i++ {
		for j, x := range ds.Row(i) {
			if x < 0 || x > 1 {
				t.Errorf("row %d %s = %v outside [0,1] on training data", i, ds.FeatureNames[j], x)
			}
		}
	}
	// Labels: blank every fourth row from row 3; 1 at rows 4, 17, 26.
	if len(car.Labels) != 30 {
		t.Fatalf("%d labels", len(car.Labels))
	}
	for i, l := range car.Labels {
		want := int8(0)
		switch {
		case i%4 == 3:
			want = -1
		case i == 4 || i == 17 || i == 26:
			want = 1
		}
		if l != want {
			t.Errorf("label of row %d = %d, want %d", i, l, want)
		}
	}
	if ds.Y != nil {
		t.Errorf("Y set although some rows are unlabelled")
	}
	if len(car.IDs) != 1 || car.IDs[0].Name != "order_id" || car.IDs[0].Values[0] != "ORD-10000" || car.IDs[0].Values[29] != "ORD-10029" {
		t.Errorf("carried ids %+v", car.IDs)
	}
	if len(car.Notes) != 0 {
		t.Errorf("notes on the training table: %q", car.Notes)
	}
}

// readAll reads the fixture's records.
func readRecords(t *testing.T) [][]string {
	t.Helper()
	b, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// writeRecords writes records as a CSV file in a temporary folder.
func writeRecords(t *testing.T, name string, recs [][]string) string {
	t.Helper()
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.WriteAll(recs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// project keeps the columns named in names, in that order.
func project(recs [][]string, names ...string) [][]string {
	idx := make([]int, len(names))
	for k, n := range names {
		idx[k] = slices.Index(recs[0], n)
	}
	out := make([][]string, len(recs))
	for i, r := range recs {
		for k, j := range idx {
			if j < 0 && i == 0 {
				out[i] = append(out[i], names[k])
				continue
			}
			if j < 0 {
				out[i] = append(out[i], "x")
				continue
			}
			out[i] = append(out[i], r[j])
		}
	}
	return out
}

func TestTransformByName(t *testing.T) {
	raw, p := fitFixture(t)
	base, _, err := p.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	recs := readRecords(t)

	// Reordered columns, read with the pipeline's options: the same matrix.
	order := []string{"is_fraud", "items", "country", "store", "amount", "express", "coupon", "order_id", "placed_at"}
	path := writeRecords(t, "reordered.csv", project(recs, order...))
	r2, err := ReadFile(path, p.ReadOptions())
	if err != nil {
		t.Fatal(err)
	}
	ds, car, err := p.Transform(r2)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.X, base.X) || !slices.Equal(ds.FeatureNames, base.FeatureNames) {
		t.Error("reordered columns give a different matrix")
	}
	if len(car.Notes) != 0 {
		t.Errorf("notes: %q", car.Notes)
	}
	// The same, read with no options at all (columns stored as inferred).
	r3, err := ReadFile(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if ds, _, err = p.Transform(r3); err != nil || !slices.Equal(ds.X, base.X) {
		t.Errorf("reordered columns read without options: err %v, same matrix %v", err, err == nil && slices.Equal(ds.X, base.X))
	}

	// A missing feature column is an error naming it.
	path = writeRecords(t, "lacking.csv", project(recs, "order_id", "placed_at", "country", "express", "items", "is_fraud"))
	r4, err := ReadFile(path, p.ReadOptions())
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = p.Transform(r4)
	if err == nil || !strings.Contains(err.Error(), "amount") || !strings.Contains(err.Error(), "lacking.csv") {
		t.Errorf("missing column: err = %v, want one naming amount", err)
	}

	// An extra column is ignored, with a note; dropped columns (coupon,
	// store) and the label may be absent.
	path = writeRecords(t, "extra.csv", project(recs, "order_id", "placed_at", "amount", "country", "express", "items", "extra"))
	r5, err := ReadFile(path, p.ReadOptions())
	if err != nil {
		t.Fatal(err)
	}
	ds, car, err = p.Transform(r5)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.X, base.X) {
		t.Error("an extra column changed the matrix")
	}
	if len(car.Notes) != 1 || !strings.Contains(car.Notes[0], "extra") {
		t.Errorf("notes %q, want one about the extra column", car.Notes)
	}
	if car.Labels != nil {
		t.Errorf("labels without a label column")
	}
}

func TestUnseenLevel(t *testing.T) {
	_, p := fitFixture(t)
	recs := readRecords(t)
	recs[1][3] = "BR" // country of the first row
	recs[2][3] = "BR"
	path := writeRecords(t, "unseen.csv", recs)
	raw, err := ReadFile(path, p.ReadOptions())
	if err != nil {
		t.Fatal(err)
	}
	ds, car, err := p.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range []int{0, 1} {
		for _, name := range p.FeatureNames() {
			if !strings.HasPrefix(name, "country") {
				continue
			}
			want := float32(0)
			if name == "country=other" {
				want = 1
			}
			if got := feature(t, ds, row, name); got != want {
				t.Errorf("row %d %s = %v, want %v", row, name, got, want)
			}
		}
	}
	if len(car.Notes) != 1 || !strings.Contains(car.Notes[0], `2 cells with levels not seen in training (the first "BR")`) {
		t.Errorf("notes %q", car.Notes)
	}
}

func TestOutOfRangeAndNewMissing(t *testing.T) {
	_, p := fitFixture(t)
	recs := readRecords(t)
	recs[1][2] = "194.8" // amount: twice the training range above the minimum
	recs[1][5] = ""      // items: no missing cell in training
	path := writeRecords(t, "range.csv", recs)
	raw, err := ReadFile(path, p.ReadOptions())
	if err != nil {
		t.Fatal(err)
	}
	ds, car, err := p.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := feature(t, ds, 0, "amount"); !near(float64(got), 2) {
		t.Errorf("amount = %v, want 2 (not clipped)", got)
	}
	if got := feature(t, ds, 0, "items"); !near(float64(got), 0.5) {
		t.Errorf("items = %v, want the median 3 scaled: 0.5", got)
	}
	notes := strings.Join(car.Notes, "\n")
	if !strings.Contains(notes, "1 values outside the training range [5, 99.9]") || !strings.Contains(notes, "none in training") {
		t.Errorf("notes %q", car.Notes)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	raw, p := fitFixture(t)
	b, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"version":1`)) {
		t.Errorf("no version field: %s", b)
	}
	q, err := Unmarshal(b)
	if err != nil {
		t.Fatal(err)
	}
	want, _, _ := p.Transform(raw)
	got, _, err := q.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.X, want.X) || !slices.Equal(got.FeatureNames, want.FeatureNames) {
		t.Error("the unmarshalled pipeline transforms differently")
	}
	if q.Schema().String() != p.Schema().String() {
		t.Errorf("schemas differ:\n%s\n%s", q.Schema(), p.Schema())
	}
	for _, bad := range []struct{ name, from, to string }{
		{"version 2", `"version":1`, `"version":2`},
		{"no version", `"version":1,`, ``},
		{"unknown kind", `"kind":"numeric"`, `"kind":"complex"`},
		{"column features", `"features":["placed_at.hour_sin"`, `"features":["x"`},
		{"features", `"features":["placed_at.hour_sin","placed_at.hour_cos","placed_at.dow_sin","placed_at.dow_cos","placed_at.doy_sin","placed_at.doy_cos","placed_at.epoch","placed_at.missing","amount"`, `"features":["placed_at.hour_sin","placed_at.hour_cos","placed_at.dow_sin","placed_at.dow_cos","placed_at.doy_sin","placed_at.doy_cos","placed_at.epoch","placed_at.missing","amount2"`},
		{"range", `"min":5`, `"min":500`},
	} {
		c := bytes.Replace(b, []byte(bad.from), []byte(bad.to), 1)
		if bytes.Equal(c, b) {
			t.Fatalf("%s: %s not found", bad.name, bad.from)
		}
		if _, err := Unmarshal(c); err == nil {
			t.Errorf("%s: no error", bad.name)
		}
	}
	if _, err := Unmarshal([]byte("{")); err == nil {
		t.Error("truncated JSON: no error")
	}
}

func TestFullyLabelled(t *testing.T) {
	in := "x,label\n1,0\n2,1\n3,normal\n4,Anomaly\n"
	raw, err := ReadCSV(strings.NewReader(in), "l.csv", Options{LabelColumn: "label"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Fit(raw)
	if err != nil {
		t.Fatal(err)
	}
	ds, car, err := p.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Y, []int{0, 1, 0, 1}) || !slices.Equal(car.Labels, []int8{0, 1, 0, 1}) || ds.ClassNames[1] != "anomaly" {
		t.Errorf("Y %v labels %v classes %v", ds.Y, car.Labels, ds.ClassNames)
	}
	if !strings.Contains(strings.Join(p.Notes(), "\n"), "column label: labels: 2 anomalies, 2 normal, 0 unlabelled") {
		t.Errorf("notes %q", p.Notes())
	}
	// A label that is neither: an error at Fit, and at Transform.
	bad := "x,label\n1,0\n2,maybe\n"
	wantErr := `l.csv: line 3, column 2 (label): label "maybe"`
	raw, err = ReadCSV(strings.NewReader(bad), "l.csv", Options{LabelColumn: "label"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err = Fit(raw); err == nil || !strings.Contains(err.Error(), wantErr) || !errors.Is(err, data.ErrMalformed) {
		t.Errorf("bad label at Fit: %v", err)
	}
	_, _, err = p.Transform(raw)
	if err == nil || !strings.Contains(err.Error(), wantErr) || !errors.Is(err, data.ErrMalformed) {
		t.Errorf("bad label at Transform: %v", err)
	}
}
