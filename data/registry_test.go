package data

import (
	"bytes"
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The test formats: "tstA" recognised by magic (also inside gzip), "tstB" by
// extension only.
func init() {
	RegisterFormat(Format{
		Name:  "tstA",
		Magic: []string{"TS?A"},
		Load: func(path string, o Options) (*Dataset, error) {
			return &Dataset{Name: "A:" + o.LabelColumn, N: 1, Shape: []int{1}, X: []float32{1}}, nil
		},
	})
	RegisterFormat(Format{
		Name:       "tstB",
		Extensions: []string{".tstb", ".b.gz"},
		Load: func(path string, o Options) (*Dataset, error) {
			return &Dataset{Name: "B", N: 1, Shape: []int{1}, X: []float32{float32(o.Width)}}, nil
		},
	})
	RegisterFormat(Format{
		Name:       "tstEmpty",
		Extensions: []string{".empty"},
		Load: func(path string, o Options) (*Dataset, error) {
			return &Dataset{Name: "e", Shape: []int{1 << 30}}, nil
		},
	})
	RegisterFormat(Format{
		Name:       "tstNaN",
		Extensions: []string{".nan"},
		Load: func(path string, o Options) (*Dataset, error) {
			z := float32(0)
			return &Dataset{Name: "nan", N: 1, Shape: []int{1}, X: []float32{z / z}}, nil
		},
	})
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestDetectByMagicThenExtension(t *testing.T) {
	cases := []struct {
		name    string
		content []byte
		want    string
	}{
		{"x.tstb", []byte("TSxA rest"), "tstA"},    // magic beats extension, '?' wildcard
		{"x.dat", gz([]byte("TSzA rest")), "tstA"}, // magic inside gzip
		{"x.tstb", []byte("nothing"), "tstB"},
		{"x.B.GZ", []byte("nothing"), "tstB"}, // case-insensitive extension
	}
	for _, c := range cases {
		f, err := Detect(writeFile(t, c.name, c.content))
		if err != nil || f.Name != c.want {
			t.Errorf("%s: got %q, %v; want %s", c.name, f.Name, err, c.want)
		}
	}
	_, err := Detect(writeFile(t, "x.unknown", []byte("nothing")))
	if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "x.unknown") {
		t.Errorf("unknown format: %v", err)
	}
	if _, err := Detect(filepath.Join(t.TempDir(), "missing.tstb")); err == nil {
		t.Error("missing file detected")
	}
}

func TestLoadPassesOptionsAndValidates(t *testing.T) {
	ds, err := Load(writeFile(t, "a.x", []byte("TS.A")), WithLabelColumn("cls"))
	if err != nil || ds.Name != "A:cls" {
		t.Fatalf("got %+v, %v", ds, err)
	}
	ds, err = Load(writeFile(t, "b.tstb", nil), WithResize(7, 3, Nearest))
	if err != nil || ds.X[0] != 7 {
		t.Fatalf("got %+v, %v", ds, err)
	}
	ds, err = Load(writeFile(t, "b.tstb", nil), WithResize(7, 3, Nearest), With(Options{Width: 9}))
	if err != nil || ds.X[0] != 9 {
		t.Fatalf("With did not replace the options: %+v, %v", ds, err)
	}
	if _, err := Load(writeFile(t, "c.nan", nil)); err == nil || !strings.Contains(err.Error(), "non-finite") {
		t.Errorf("NaN data set accepted: %v", err)
	}
	info, err := Inspect(writeFile(t, "a.x", []byte("TS.A")))
	if err != nil || info.Format != "tstA" || info.Dataset == nil || info.Dataset.N != 1 {
		t.Errorf("inspect: %+v, %v", info, err)
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	RegisterFormat(Format{Name: "tstA", Load: func(string, Options) (*Dataset, error) { return nil, nil }})
}

func TestSubsetConcatCounts(t *testing.T) {
	d := &Dataset{Name: "d", N: 3, Shape: []int{2}, X: []float32{1, 2, 3, 4, 5, 6}, Y: []int{0, 1, 1}}
	s, err := d.Subset([]int{2, 0, 2})
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || len(s.X) != 6 || s.X[0] != 5 || s.X[2] != 1 || s.X[5] != 6 || s.Y[1] != 0 || s.Y[2] != 1 {
		t.Errorf("subset %+v", s)
	}
	s.X[0] = 100
	if d.X[4] != 5 {
		t.Error("subset shares storage")
	}
	if _, err := d.Subset([]int{3}); err == nil {
		t.Error("out-of-range index accepted")
	}
	c, err := Concat("c", d, s)
	if err != nil || c.N != 6 || len(c.Y) != 6 || c.X[6] != 100 || c.Validate() != nil {
		t.Errorf("concat %+v %v", c, err)
	}
	if _, err := Concat("bad", d, &Dataset{N: 1, Shape: []int{3}, X: make([]float32, 3)}); err == nil {
		t.Error("shape mismatch accepted")
	}
	u, _ := Concat("u", d, &Dataset{N: 1, Shape: []int{2}, X: make([]float32, 2)})
	if u.Y != nil {
		t.Error("labels kept though a part is unlabelled")
	}
	cc := c.ClassCounts()
	if len(cc) != 2 || cc[0].Count+cc[1].Count != 6 || cc[1].Label != 1 || cc[1].Count != 4 {
		t.Errorf("class counts %+v", cc)
	}
	sum := Summarize(d, "float32")
	if sum.Min != 1 || sum.Max != 6 || sum.Mean != 3.5 || sum.Count != 6 {
		t.Errorf("summary %+v", sum)
	}
}

func TestLoadRejectsEmpty(t *testing.T) {
	if _, err := Load(writeFile(t, "x.empty", nil)); !errors.Is(err, ErrNoData) {
		t.Errorf("empty data set: %v", err)
	}
}
