package table

import (
	"bytes"
	"compress/gzip"
	"errors"
	"flag"
	"os"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data/internal/fuzzcorpus"
)

var genCorpus = flag.Bool("gencorpus", false, "rewrite testdata/fuzz/FuzzReadCSV")

// fuzzOptions picks options from the first byte of a fuzz input.
func fuzzOptions(sel byte) Options {
	o := Options{
		Coerce:    sel&1 != 0,
		InferRows: 1 + int(sel>>5),
		Limits:    Limits{MaxRows: 5000, MaxCells: 50000, MaxBytes: 1 << 20},
		MaxLevels: 1 + int(sel>>6),
	}
	switch sel >> 1 & 3 {
	case 1:
		o.Delimiter = ';'
	case 2:
		o.Delimiter = '\t'
	}
	if sel&8 != 0 {
		o.SkipRows = 1
	}
	if sel&16 != 0 {
		o.LazyQuotes = true
	}
	return o
}

// TestSeedCorpus rewrites the seed corpus of FuzzReadCSV with -gencorpus;
// without it, it checks that the corpus is there.
func TestSeedCorpus(t *testing.T) {
	fixtureBytes, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	if !*genCorpus {
		if _, err := os.Stat("testdata/fuzz/FuzzReadCSV/fixture"); err != nil {
			t.Fatalf("seed corpus missing (go test -run TestSeedCorpus -gencorpus): %v", err)
		}
		return
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("a,b\n1,x\n2,y\n"))
	zw.Close()
	seeds := map[string][]byte{
		"fixture":     append([]byte{0}, fixtureBytes...),
		"coerce":      append([]byte{1}, "a,b,label\n1,x,0\nq,y,1\n3,,\n"...),
		"semicolon":   append([]byte{2}, "a;b\n1;2\n"...),
		"tab":         append([]byte{4}, "a\tb\n1\t2020-01-01\n"...),
		"skip":        append([]byte{8}, "junk\na,b\n1,2\n"...),
		"lazy":        append([]byte{16}, "a,b\n1,x\"y\n"...),
		"quoted":      append([]byte{0}, "a,b\n\"x,\ny\",1\n\"z\"\"\",2\n"...),
		"ragged":      append([]byte{0}, "a,b,c\n1,2\n"...),
		"bom-crlf":    append([]byte{0}, "\xef\xbb\xbfa,b\r\n1,2\r\n"...),
		"header-only": append([]byte{0}, "a,b\n"...),
		"dup":         append([]byte{0}, "a,a\n1,2\n"...),
		"gzip":        append([]byte{0}, gz.Bytes()...),
		"levels":      append([]byte{0xC0}, "c,n\na,1\nb,2\nc,3\nd,4\na,5\n"...),
		"bad-utf8":    []byte("200\n0\xaf\n10"), // levels must survive JSON
	}
	for k, v := range fuzzcorpus.Truncations("fixture", fixtureBytes) {
		seeds[k] = append([]byte{0}, v...)
	}
	for k, v := range fuzzcorpus.Truncations("gzip", gz.Bytes()) {
		seeds[k] = append([]byte{0}, v...)
	}
	if err := fuzzcorpus.Write(".", "FuzzReadCSV", seeds); err != nil {
		t.Fatal(err)
	}
}

// FuzzReadCSV checks that reading, fitting and transforming any input never
// panics, and that what is accepted is consistent. The first byte picks the
// options.
func FuzzReadCSV(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		o := fuzzOptions(b[0])
		raw, err := ReadCSV(bytes.NewReader(b[1:]), "fuzz.csv", o)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			return
		}
		if raw.Rows == 0 {
			t.Fatal("accepted a table with no rows")
		}
		for _, c := range raw.Columns {
			if c.Storage != StoreNone && c.Len() != raw.Rows {
				t.Fatalf("column %s has %d cells for %d rows", c.Name, c.Len(), raw.Rows)
			}
		}
		if len(raw.Columns) > 1 {
			raw.Options.LabelColumn = raw.Columns[len(raw.Columns)-1].Name
		}
		p, err := Fit(raw)
		if err != nil {
			return
		}
		_ = p.Schema().String()
		ds, _, err := p.Transform(raw)
		if err != nil {
			return // a bad label
		}
		if ds.N != raw.Rows || ds.Dim() != p.Dim() {
			t.Fatalf("%d×%d from %d rows and %d features", ds.N, ds.Dim(), raw.Rows, p.Dim())
		}
		js, err := p.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		q, err := Unmarshal(js)
		if err != nil {
			t.Fatalf("a marshalled pipeline does not unmarshal: %v\n%s", err, js)
		}
		ds2, _, err := q.Transform(raw)
		if err != nil || !slices.Equal(ds.X, ds2.X) {
			t.Fatalf("the unmarshalled pipeline transforms differently: %v", err)
		}
	})
}
