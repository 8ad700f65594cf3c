package table

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
)

// readErr reads in as a CSV named t.csv and returns the error.
func readErr(t *testing.T, in string, o Options) error {
	t.Helper()
	_, err := ReadCSV(strings.NewReader(in), "t.csv", o)
	return err
}

// numericRows returns a header "id,amount,city" and n rows.
func numericRows(n int) string {
	var b strings.Builder
	b.WriteString("id,amount,city\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "%d,%d.5,c%d\n", i, i*3, i%4)
	}
	return b.String()
}

func TestReadErrors(t *testing.T) {
	cases := []struct {
		name string
		in   string
		o    Options
		want string // in the message, after the file name
		is   error
	}{
		{"empty file", "", Options{}, "t.csv: line 1: empty file: no header row", data.ErrNoData},
		{"blank file", "\n  \n\n", Options{}, "empty file", data.ErrNoData},
		{"header only", "a,b,c\n", Options{}, "t.csv: line 1: header only: no data rows", data.ErrNoData},
		{"header only CRLF", "a,b,c\r\n\r\n", Options{}, "header only", data.ErrNoData},
		{"ragged short", "a,b,c\n1,2,3\n4,5\n", Options{}, "t.csv: line 3, column 3 (c): 2 fields, the header has 3 (a ragged row)", data.ErrMalformed},
		{"ragged long", "a,b,c\n1,2,3\n4,5,6,7\n", Options{}, "t.csv: line 3, column 4: 4 fields, the header has 3", data.ErrMalformed},
		{"text in numeric", numericRows(30) + "30,abc,c1\n", Options{}, `t.csv: line 32, column 2 (amount): "abc" is not a number`, data.ErrMalformed},
		{"text in numeric after the sample", numericRows(30) + "30,abc,c1\n", Options{InferRows: 5}, `line 32, column 2 (amount): "abc"`, data.ErrMalformed},
		{"text in numeric inside the sample", "a,b\n1,2\n2,x\n" + strings.Repeat("3,4\n", 20), Options{}, `line 3, column 2 (b): "x" is not a number`, data.ErrMalformed},
		{"bare quote", "a,b\n1,x\"y\n", Options{}, "t.csv: line 2: byte 4: bare \" in non-quoted-field", data.ErrMalformed},
		{"unterminated quote", "a,b\n1,\"xy\n2,3\n", Options{}, "t.csv: line 3: byte 5: extraneous or missing \" in quoted-field", data.ErrMalformed},
		{"duplicate names", "a,b,a\n1,2,3\n", Options{}, "t.csv: line 1, column 3 (a): duplicate column name (also column 1)", data.ErrMalformed},
		{"unknown label column", "a,b\n1,2\n", Options{LabelColumn: "class"}, `LabelColumn names a column "class" that the table does not have (columns: a, b)`, nil},
		{"two roles", "a,b\n1,2\n", Options{Categorical: []string{"a"}, Ignore: []string{"a"}}, `column "a" is given two roles`, nil},
		{"max rows", numericRows(30), Options{Limits: Limits{MaxRows: 10}}, "t.csv: line 12: more than MaxRows = 10 rows", ErrLimit},
		{"max cells", numericRows(30), Options{Limits: Limits{MaxCells: 30}}, "t.csv: line 12: more than MaxCells = 30 cells", ErrLimit},
		{"max bytes", numericRows(3000), Options{Limits: Limits{MaxBytes: 1000}}, "more than MaxBytes = 1000 bytes", ErrLimit},
		{"skip rows past the end", "junk\n", Options{SkipRows: 3}, "empty file: it ends within the 3 lines of SkipRows", data.ErrNoData},
		{"parquet", "PAR1....", Options{}, "a Parquet file", data.ErrUnsupported},
		{"bad delimiter", "a,b\n1,2\n", Options{Delimiter: '"'}, "delimiter", data.ErrMalformed},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := readErr(t, c.in, c.o)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\n  lacks %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "t.csv: ") {
				t.Errorf("error %q does not name the file", err)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q is not %v", err, c.is)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not an *Error", err)
			}
		})
	}
}

func TestCoerce(t *testing.T) {
	in := numericRows(30) + "30,abc,c1\n31,,c2\n32,x y,c3\n"
	raw, err := ReadCSV(strings.NewReader(in), "t.csv", Options{Coerce: true})
	if err != nil {
		t.Fatal(err)
	}
	c := raw.Column("amount")
	if c.Storage != StoreNumber || c.Coerced() != 2 || c.MissingCount() != 3 {
		t.Fatalf("amount: %s, %d coerced, %d missing; want number, 2, 3", c.Storage, c.Coerced(), c.MissingCount())
	}
	if len(raw.Notes) != 1 || !strings.Contains(raw.Notes[0], `column amount: 2 cells that are not numbers made missing (Coerce), the first "abc" at line 32`) {
		t.Errorf("notes %q", raw.Notes)
	}
	p, err := Fit(raw)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Schema(); s.Columns[1].Kind != Numeric || s.Columns[1].Missing != 3 {
		t.Errorf("amount in the schema: %+v", s.Columns[1])
	}
	if !strings.Contains(strings.Join(p.Notes(), "\n"), "Coerce") {
		t.Errorf("the pipeline's notes do not carry the read's: %q", p.Notes())
	}
}

func TestTextFormats(t *testing.T) {
	want := [][]string{{"name", "amount", "when"}, {"a,b", "1.5", "2024-01-02"}, {"c\"d", "2", "2024-01-03"}, {"e\nf", "", "2024-01-04"}}
	check := func(t *testing.T, raw *Raw, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(raw.Header(), "|"); got != "name|amount|when" {
			t.Fatalf("header %q", got)
		}
		if raw.Rows != 3 {
			t.Fatalf("%d rows", raw.Rows)
		}
		for i := 1; i < len(want); i++ {
			for j, w := range want[i] {
				got, ok := raw.Columns[j].Text(i - 1)
				if w == "" {
					if ok {
						t.Errorf("row %d column %d: %q, want missing", i, j, got)
					}
					continue
				}
				if j == 2 {
					w += "T00:00:00Z"
				}
				if got != w {
					t.Errorf("row %d column %d: %q, want %q", i, j, got, w)
				}
			}
		}
		if raw.Columns[1].Storage != StoreNumber || raw.Columns[2].Storage != StoreTime || raw.Columns[0].Storage != StoreText {
			t.Errorf("storages %s %s %s", raw.Columns[0].Storage, raw.Columns[1].Storage, raw.Columns[2].Storage)
		}
	}
	body := func(sep, eol string) string {
		rows := []string{
			strings.Join([]string{"name", "amount", "when"}, sep),
			strings.Join([]string{`"a,b"`, "1.5", "2024-01-02"}, sep),
			strings.Join([]string{`"c""d"`, "2", "2024-01-03"}, sep),
			strings.Join([]string{"\"e\nf\"", "NA", "2024-01-04"}, sep),
		}
		return strings.Join(rows, eol) + eol
	}
	for _, c := range []struct {
		name, sep, eol, prefix string
		o                      Options
	}{
		{"comma", ",", "\n", "", Options{}},
		{"CRLF", ",", "\r\n", "", Options{}},
		{"BOM", ",", "\n", "\xef\xbb\xbf", Options{}},
		{"BOM CRLF", ",", "\r\n", "\xef\xbb\xbf", Options{}},
		{"tab", "\t", "\n", "", Options{}},
		{"semicolon", ";", "\n", "", Options{}},
		{"pipe", "|", "\n", "", Options{}},
		{"given", ";", "\n", "", Options{Delimiter: ';'}},
		{"skip rows", ",", "\n", "# exported 2024-01-05\n# by a tool\n", Options{SkipRows: 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, err := ReadCSV(strings.NewReader(c.prefix+body(c.sep, c.eol)), "t.csv", c.o)
			check(t, raw, err)
			if c.name == "skip rows" && raw.Line(0) != 4 {
				t.Errorf("first row at line %d, want 4", raw.Line(0))
			}
		})
	}
	t.Run("line numbers after a quoted line break", func(t *testing.T) {
		err := readErr(t, "a,b\n\"x\ny\",1\n\"z\",oops\n"+strings.Repeat("q,2\n", 20), Options{})
		if err == nil || !strings.Contains(err.Error(), `t.csv: line 4, column 2 (b): "oops" is not a number`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("gzip and tsv by name", func(t *testing.T) {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(body("\t", "\n")))
		zw.Close()
		path := filepath.Join(t.TempDir(), "rows.tsv.gz")
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		raw, err := ReadFile(path, Options{})
		check(t, raw, err)
		if raw.Name != "rows.tsv.gz" || raw.Delimiter != '\t' {
			t.Errorf("name %q delimiter %q", raw.Name, raw.Delimiter)
		}
	})
}

func TestTruncatedGzip(t *testing.T) {
	in, err := os.ReadFile(fixture)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write(in)
	zw.Close()
	gz := b.Bytes()
	if _, err := ReadCSV(bytes.NewReader(gz), "orders.csv.gz", Options{}); err != nil {
		t.Fatalf("whole file: %v", err)
	}
	for _, cut := range []int{5, 12, len(gz) / 3, len(gz) / 2, len(gz) - 9, len(gz) - 1} {
		_, err := ReadCSV(bytes.NewReader(gz[:cut]), "orders.csv.gz", Options{})
		if err == nil {
			t.Errorf("cut at %d of %d: no error", cut, len(gz))
			continue
		}
		if !strings.HasPrefix(err.Error(), "orders.csv.gz: ") || !strings.Contains(err.Error(), "gzip") {
			t.Errorf("cut at %d: %v", cut, err)
		}
		if !errors.Is(err, data.ErrTruncated) && !errors.Is(err, data.ErrMalformed) {
			t.Errorf("cut at %d: %v is neither truncated nor malformed", cut, err)
		}
	}
	// The middle cut is past the header, so the error has a line.
	_, err = ReadCSV(bytes.NewReader(gz[:len(gz)/2]), "orders.csv.gz", Options{})
	if !strings.Contains(err.Error(), "orders.csv.gz: line ") || !strings.Contains(err.Error(), "gzip stream truncated") || !errors.Is(err, data.ErrTruncated) {
		t.Errorf("half the file: %v", err)
	}
	// A flipped byte in the deflate stream or the checksum.
	for _, at := range []int{len(gz) / 2, len(gz) - 6} {
		bad := bytes.Clone(gz)
		bad[at] ^= 0x55
		if _, err := ReadCSV(bytes.NewReader(bad), "orders.csv.gz", Options{}); err == nil {
			t.Errorf("byte %d flipped: no error", at)
		}
	}
}

func TestColumnKindsInferred(t *testing.T) {
	var b strings.Builder
	b.WriteString("seq,ref,price,flag,onoff,code,note,zip,mostly_empty,blank\n")
	for i := 0; i < 40; i++ {
		flag := []string{"t", "f"}[i%2]
		onoff := []string{"0", "1"}[i%2]
		me := ""
		if i >= 38 {
			me = fmt.Sprint(i)
		}
		fmt.Fprintf(&b, "%d,R%03d,%d.25,%s,%s,%d,same,0%d,%s,\n", 100+i, (i*37)%1000, i%7, flag, onoff, (i*7919)%100000, 1000+i%3, me)
	}
	raw, err := ReadCSV(strings.NewReader(b.String()), "k.csv", Options{Categorical: []string{"zip"}, InferRows: 10})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Fit(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Kind{
		"seq":          ID,          // rising integers
		"ref":          ID,          // distinct text
		"price":        Numeric,     //
		"flag":         Boolean,     // t/f
		"onoff":        Numeric,     // 0/1 is boolean only when declared
		"code":         Numeric,     // distinct integers, but neither rising nor dense
		"note":         Constant,    //
		"zip":          Categorical, // declared: read as text, the leading zero kept
		"mostly_empty": Numeric,     // missing in the sample, promoted at the end
		"blank":        Empty,       // the trailing separator's column
	}
	for _, c := range p.Schema().Columns {
		if want[c.Name] != c.Kind {
			t.Errorf("%s: %s (%s), want %s", c.Name, c.Kind, c.Why, want[c.Name])
		}
	}
	if s := p.Schema().Columns[7]; len(s.Levels) != 3 || s.Levels[0] != "01000" {
		t.Errorf("zip levels %q", s.Levels)
	}
	if raw.Column("blank").Name != "blank" || raw.Column("mostly_empty").Storage != StoreNumber {
		t.Errorf("columns %q, mostly_empty stored as %s", raw.Header(), raw.Column("mostly_empty").Storage)
	}
	// Declared boolean reads 0/1.
	raw.Options = Options{Boolean: []string{"onoff"}}
	if p, err = Fit(raw); err != nil {
		t.Fatal(err)
	}
	if k := p.Schema().Columns[4].Kind; k != Boolean {
		t.Errorf("declared boolean onoff: %s", k)
	}
}

func TestCategoryCap(t *testing.T) {
	var b strings.Builder
	b.WriteString("x,city\n")
	// Levels a..f with counts 6, 5, 4, 3, 2, 1 (21 rows), then one missing.
	for k, n := range []int{6, 5, 4, 3, 2, 1} {
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "%d,%c\n", i, 'a'+k)
		}
	}
	b.WriteString("9,NA\n")
	raw, err := ReadCSV(strings.NewReader(b.String()), "c.csv", Options{MaxLevels: 3})
	if err != nil {
		t.Fatal(err)
	}
	p, err := Fit(raw)
	if err != nil {
		t.Fatalf("a category count beyond the cap is not an error: %v", err)
	}
	want := []string{"x", "city=a", "city=b", "city=c", "city=other", "city.freq", "city.missing"}
	if got := p.FeatureNames(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("features %q, want %q", got, want)
	}
	if notes := strings.Join(p.Notes(), "\n"); !strings.Contains(notes, "column city: 6 levels exceed MaxLevels = 3") {
		t.Errorf("notes %q", p.Notes())
	}
	ds, _, err := p.Transform(raw)
	if err != nil {
		t.Fatal(err)
	}
	// Row 0 is "a" (6 of 21 present), row 15 is "d" (other, 3 of 21),
	// row 20 is "f" (seen once: frequency 0), row 21 is missing.
	for _, c := range []struct {
		row  int
		name string
		want float64
	}{
		{0, "city=a", 1}, {0, "city.freq", 6.0 / 21},
		{15, "city=other", 1}, {15, "city.freq", 3.0 / 21},
		{20, "city=other", 1}, {20, "city.freq", 0},
		{21, "city.missing", 1}, {21, "city=other", 0}, {21, "city.freq", 0},
	} {
		if got := feature(t, ds, c.row, c.name); !near(float64(got), c.want) {
			t.Errorf("row %d %s = %v, want %v", c.row, c.name, got, c.want)
		}
	}
}

func TestNoFeatures(t *testing.T) {
	raw, err := ReadCSV(strings.NewReader("id,empty,label\n1,,0\n2,NA,1\n"), "n.csv", Options{LabelColumn: "label"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Fit(raw)
	if err == nil || !strings.Contains(err.Error(), "no feature columns (id: id, empty: empty, label: label)") {
		t.Errorf("err = %v", err)
	}
}

// TestNumericCellsAllocateNoStrings reads a numeric table and checks that
// allocations grow with rows, not cells: no string is kept per number.
func TestNumericCellsAllocateNoStrings(t *testing.T) {
	const rows, cols = 2000, 25
	var b strings.Builder
	for j := 0; j < cols; j++ {
		if j > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "c%d", j)
	}
	b.WriteByte('\n')
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			if j > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%d.%d", i, j)
		}
		b.WriteByte('\n')
	}
	in := b.String()
	allocs := testing.AllocsPerRun(2, func() {
		if _, err := ReadCSV(strings.NewReader(in), "n.csv", Options{}); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > rows*2 {
		t.Errorf("%.0f allocations to read %d cells in %d rows: more than 2 a row", allocs, rows*cols, rows)
	}
}
