package csvfile

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/internal/fuzzcorpus"
	"github.com/oddity-ml/oddity/internal/shared"
)

var genCorpus = flag.Bool("gencorpus", false, "rewrite testdata/fuzz seed corpora")

func read(t *testing.T, text string, o data.Options) *data.Dataset {
	t.Helper()
	ds, err := Read(strings.NewReader(text), "t", o)
	if err != nil {
		t.Fatalf("%q: %v", text, err)
	}
	if err := ds.Validate(); err != nil {
		t.Fatal(err)
	}
	return ds
}

func equal(a []float32, b ...float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDelimitersAndHeader(t *testing.T) {
	for name, text := range map[string]string{
		"comma":      "a,b,c\n1,2,3\n4,5,6\n",
		"tab":        "a\tb\tc\n1\t2\t3\n4\t5\t6\n",
		"semicolon":  "a;b;c\n1;2;3\n4;5;6\n",
		"whitespace": "a  b   c\n 1 2 3\n\n4\t5 6\n",
		"crlf":       "a,b,c\r\n1,2,3\r\n4,5,6\r\n",
		"quoted":     "\"a\",\"b, x\",c\n\"1\",2,3\n4,5,\"6\"\n",
		"blank top":  "\n\na,b,c\n1,2,3\n4,5,6",
		"spaces":     "a, b, c\n1, 2, 3\n4, 5, 6\n",
	} {
		ds := read(t, text, data.Options{})
		if ds.N != 2 || ds.Dim() != 3 || !equal(ds.X, 1, 2, 3, 4, 5, 6) || ds.Y != nil {
			t.Errorf("%s: %d x %v %v", name, ds.N, ds.Shape, ds.X)
		}
		if len(ds.FeatureNames) != 3 || ds.FeatureNames[0] != "a" {
			t.Errorf("%s: names %q", name, ds.FeatureNames)
		}
	}
	ds := read(t, "1,2\n3,4\n", data.Options{})
	if ds.N != 2 || ds.FeatureNames != nil {
		t.Errorf("headerless: %d rows, names %v", ds.N, ds.FeatureNames)
	}
	ds = read(t, "10,20\n3,4\n", data.Options{Header: data.HeaderPresent})
	if ds.N != 1 || ds.FeatureNames[1] != "20" {
		t.Errorf("forced header: %d rows", ds.N)
	}
	ds = read(t, "1|2\n3|4\n", data.Options{Delimiter: '|', Header: data.HeaderAbsent})
	if !equal(ds.X, 1, 2, 3, 4) {
		t.Errorf("explicit delimiter: %v", ds.X)
	}
}

func TestTrailingSeparator(t *testing.T) {
	ds := read(t, "0.5,1,3,\n0.25,0,2,\n", data.Options{LabelColumn: "-1"})
	if ds.Dim() != 2 || !equal(ds.X, 0.5, 1, 0.25, 0) || ds.Y[0] != 3 || ds.Y[1] != 2 {
		t.Errorf("trailing comma: %v %v", ds.X, ds.Y)
	}
}

func TestLabelColumn(t *testing.T) {
	text := "x,cls,z\n1,cat,2\n3,dog,4\n5,cat,6\n"
	ds := read(t, text, data.Options{LabelColumn: "cls"})
	if ds.Dim() != 2 || !equal(ds.X, 1, 2, 3, 4, 5, 6) {
		t.Errorf("features %v", ds.X)
	}
	if ds.Y[0] != 0 || ds.Y[1] != 1 || ds.Y[2] != 0 || ds.ClassNames[0] != "cat" || ds.ClassNames[1] != "dog" {
		t.Errorf("labels %v names %v", ds.Y, ds.ClassNames)
	}
	if ds.FeatureNames[0] != "x" || ds.FeatureNames[1] != "z" {
		t.Errorf("feature names %v", ds.FeatureNames)
	}
	for _, col := range []string{"1", "-2"} {
		if ds := read(t, text, data.Options{LabelColumn: col}); ds.ClassNames[1] != "dog" {
			t.Errorf("label column %s: %v", col, ds.ClassNames)
		}
	}
	// Whole non-negative numbers stay as they are; other numbers are sorted.
	if ds := read(t, "1,4\n2,0\n", data.Options{LabelColumn: "1"}); ds.Y[0] != 4 || ds.ClassNames != nil {
		t.Errorf("integer labels %v %v", ds.Y, ds.ClassNames)
	}
	if ds := read(t, "1,1\n2,-1\n3,10\n", data.Options{LabelColumn: "1"}); ds.Y[0] != 1 || ds.Y[1] != 0 || ds.Y[2] != 2 || ds.ClassNames[2] != "10" {
		t.Errorf("signed labels %v %v", ds.Y, ds.ClassNames)
	}
	if ds := read(t, text, data.Options{LabelColumn: "cls", NoLabels: true}); ds.Y != nil {
		t.Error("NoLabels ignored")
	}
	for _, bad := range []string{"nope", "7", "-9"} {
		if _, err := Read(strings.NewReader(text), "t", data.Options{LabelColumn: bad}); !errors.Is(err, data.ErrNoData) {
			t.Errorf("label column %q: %v", bad, err)
		}
	}
}

func TestErrorsNameLineAndColumn(t *testing.T) {
	cases := []struct {
		text  string
		o     data.Options
		wants []string
	}{
		{"a,b\n1,2\n3\n", data.Options{}, []string{"line 3", "ragged"}},
		{"a,b\n1,2\n3,4,5\n", data.Options{}, []string{"line 3", "3 fields, want 2"}},
		{"a,b\n1,2\n3,x7\n", data.Options{}, []string{"line 3", "column 2 (b)", `"x7" is not a number`}},
		{"a,b\n1,\n", data.Options{Header: data.HeaderPresent}, []string{"line 2", "column 2", "missing"}},
		{"a,b\n1,NaN\n", data.Options{}, []string{"line 2", "missing"}},
		{"1,2\n3,1e999\n", data.Options{}, []string{"line 2", "column 2", "finite"}},
		{"1,2\n3,inf\n", data.Options{}, []string{"line 2", "finite"}},
		{"1,2\n3,\"4\n", data.Options{}, []string{"line 2"}},
		{"", data.Options{}, []string{"empty"}},
		{"a,b\n", data.Options{}, []string{"no data rows"}},
		{"a,b\n1,\n", data.Options{LabelColumn: "b"}, []string{"line 2", "empty label"}},
		{"a\n1\n", data.Options{LabelColumn: "a"}, []string{"no feature columns"}},
	}
	for _, c := range cases {
		_, err := Read(strings.NewReader(c.text), "t", c.o)
		if err == nil {
			t.Errorf("%q: accepted", c.text)
			continue
		}
		for _, w := range c.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%q: error %q lacks %q", c.text, err, w)
			}
		}
	}
	ds := read(t, "a,b\n1,\n2,nan\n", data.Options{AllowMissing: true, MissingValue: -1})
	if !equal(ds.X, 1, -1, 2, -1) {
		t.Errorf("AllowMissing: %v", ds.X)
	}
	p := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(p, []byte("a,b\n1,2\n3\n"), 0o644)
	if _, err := data.Load(p); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("error does not name the file: %v", err)
	}
}

func TestRegisteredFormats(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "t.tsv"), []byte("a\tb\n1\t2\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "t.data"), []byte("1,2,x,\n3,4,y,\n"), 0o644)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("a,b\n5,6\n"))
	zw.Close()
	os.WriteFile(filepath.Join(dir, "z.csv.gz"), gz.Bytes(), 0o644)
	if ds, err := data.Load(filepath.Join(dir, "z.csv.gz")); err != nil || !equal(ds.X, 5, 6) {
		t.Errorf("csv.gz: %v %v", ds, err)
	}
	ds, err := data.Load(filepath.Join(dir, "t.tsv"))
	if err != nil || !equal(ds.X, 1, 2) {
		t.Errorf("tsv: %v %v", ds, err)
	}
	ds, err = data.Load(filepath.Join(dir, "t.data"))
	if err != nil || ds.N != 2 || !equal(ds.X, 1, 2, 3, 4) || ds.ClassNames[1] != "y" {
		t.Errorf("uci .data: %+v %v", ds, err)
	}
}

func TestUCIThyroid(t *testing.T) {
	dir := filepath.Dir(shared.Path(t, "uci-thyroid/ann-train.data"))
	train, test, err := LoadUCIThyroidSplits(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ds   *data.Dataset
		want [3]int
	}{{train, [3]int{93, 191, 3488}}, {test, [3]int{73, 177, 3178}}} {
		cc := c.ds.ClassCounts()
		if len(cc) != 3 {
			t.Fatalf("%s: classes %+v", c.ds.Name, cc)
		}
		for i, k := range cc {
			if k.Label != i+1 || k.Count != c.want[i] {
				t.Errorf("%s: class %d has %d rows, want %d", c.ds.Name, k.Label, k.Count, c.want[i])
			}
		}
	}
	all, err := LoadUCIThyroid(dir)
	if err != nil || all.N != 7200 || all.Dim() != 21 || all.FeatureNames[20] != "FTI" {
		t.Fatalf("joined: %v", err)
	}
	// The first line of ann-train.data is "0.73,0,1,0,...,0.0006,0.015,0.12,0.082,0.146,3,".
	r := all.Row(0)
	if r[0] != 0.73 || r[2] != 1 || r[16] != 0.0006 || r[20] != 0.146 || all.Y[0] != 3 {
		t.Errorf("first row %v label %d", r, all.Y[0])
	}
}

var seedTables = map[string]string{
	"header":   "a,b,cls\n1,2,x\n3,4,y\n",
	"trailing": "0.5,1,3,\n0.25,0,2,\n",
	"tabs":     "a\tb\n1\t2\n",
	"spaces":   " 1 2\n3   4\n",
	"quoted":   "\"a\",\"b\"\n\"1\",\"2\"\n",
	"ragged":   "a,b\n1\n",
	"missing":  "a,b\n1,\n",
}

func TestSeedCorpus(t *testing.T) {
	if !*genCorpus {
		t.Skip("run with -gencorpus to rewrite testdata/fuzz")
	}
	seeds := map[string][]byte{}
	for k, v := range seedTables {
		seeds[k] = []byte(v)
	}
	for k, v := range fuzzcorpus.Truncations("header", []byte(seedTables["header"])) {
		seeds[k] = v
	}
	if err := fuzzcorpus.Write(".", "FuzzRead", seeds); err != nil {
		t.Fatal(err)
	}
}

// FuzzRead checks only that Read never panics or hangs and that what it
// accepts is a valid data set. The first byte picks the options.
func FuzzRead(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		var o data.Options
		if len(b) > 0 {
			sel := b[0]
			o.Header = data.HeaderMode(sel % 3)
			o.AllowMissing = sel&4 != 0
			if sel&8 != 0 {
				o.LabelColumn = "-1"
			}
			if sel&16 != 0 {
				o.Delimiter = ' '
			}
			b = b[1:]
		}
		ds, err := Read(strings.NewReader(string(b)), "fuzz", o)
		if err != nil {
			return
		}
		if err := ds.Validate(); err != nil {
			t.Fatalf("accepted an invalid data set: %v", err)
		}
	})
}
