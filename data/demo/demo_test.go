package demo

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/csvfile"
	"github.com/oddity-ml/oddity/data/demo/internal/build"
	"github.com/oddity-ml/oddity/data/demo/internal/codec"
	"github.com/oddity-ml/oddity/data/matfile"
	"github.com/oddity-ml/oddity/internal/shared"
)

func TestDigitsShape(t *testing.T) {
	tr, te, err := Digits()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		d *data.Dataset
		n int
	}{{tr, 3000}, {te, 1000}} {
		d := c.d
		if d.N != c.n || len(d.Shape) != 3 || d.Shape[0] != 1 || d.Shape[1] != 16 || d.Shape[2] != 16 {
			t.Fatalf("%s: %d samples of %v, want %d of [1 16 16]", d.Name, d.N, d.Shape, c.n)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		counts := map[int]int{}
		for _, y := range d.Y {
			if y < 0 || y > 9 {
				t.Fatalf("%s: label %d outside 0..9", d.Name, y)
			}
			counts[y]++
		}
		if len(counts) != 10 {
			t.Errorf("%s: %d digits present, want all 10", d.Name, len(counts))
		}
		lo, hi := d.X[0], d.X[0]
		for _, v := range d.X {
			lo, hi = min(lo, v), max(hi, v)
		}
		// USPS pixels as the loader gives them lie in [0, 1] and use the
		// whole range.
		if lo != 0 || hi != 1 {
			t.Errorf("%s: pixels in [%v, %v], want [0, 1]", d.Name, lo, hi)
		}
	}
}

func TestTabularShape(t *testing.T) {
	d, err := Tabular()
	if err != nil {
		t.Fatal(err)
	}
	if d.N != 7200 || d.Dim() != 21 || len(d.FeatureNames) != 21 {
		t.Fatalf("%d rows of %d features (%d names), want 7200 of 21", d.N, d.Dim(), len(d.FeatureNames))
	}
	// Class counts of ann-train plus ann-test from the data sets' README:
	// 93+73 hyperfunction, 191+177 subnormal, 3488+3178 normal.
	want := map[int]int{1: 166, 2: 368, 3: 6666}
	got := map[int]int{}
	for _, y := range d.Y {
		got[y]++
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("class %d: %d rows, want %d (all counts %v)", k, got[k], v, got)
		}
	}
	if len(got) != 3 {
		t.Errorf("labels %v, want only 1, 2, 3", got)
	}
	if d.ClassNames[3] != "normal" {
		t.Errorf("class names %v", d.ClassNames)
	}
}

// Each call decodes afresh, so one caller's changes do not leak.
func TestFreshCopies(t *testing.T) {
	a, err := Tabular()
	if err != nil {
		t.Fatal(err)
	}
	v := a.X[0]
	a.X[0] = -99
	b, err := Tabular()
	if err != nil {
		t.Fatal(err)
	}
	if b.X[0] != v {
		t.Fatalf("second call sees the first caller's change: %v", b.X[0])
	}
}

// The embedded rows equal the rows of the original files they came from.
func TestRowsMatchOriginals(t *testing.T) {
	tr, te, err := matfile.LoadUSPSSplits(shared.Path(t, "usps/usps.mat"))
	if err != nil {
		t.Fatal(err)
	}
	th, err := csvfile.LoadUCIThyroid(filepath.Dir(shared.Path(t, "uci-thyroid/ann-train.data")))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file []byte
		orig *data.Dataset
	}{{digitsTrain, tr}, {digitsTest, te}, {tabular, th}} {
		s, err := codec.Decode(c.file)
		if err != nil {
			t.Fatal(err)
		}
		prev := -1
		for i, r := range s.Source {
			if r <= prev || r >= c.orig.N {
				t.Fatalf("%s: sample %d from row %d (previous %d, original has %d)", s.Name, i, r, prev, c.orig.N)
			}
			prev = r
			if s.Y[i] != c.orig.Y[r] {
				t.Fatalf("%s: sample %d label %d, original row %d has %d", s.Name, i, s.Y[i], r, c.orig.Y[r])
			}
			a, b := s.Row(i), c.orig.Row(r)
			for j := range a {
				if a[j] != b[j] {
					t.Fatalf("%s: sample %d value %d is %v, original row %d has %v", s.Name, i, j, a[j], r, b[j])
				}
			}
		}
	}
}

// The committed files are exactly what the generator makes from the
// originals (so they are up to date and the generator is deterministic).
func TestFilesRegenerate(t *testing.T) {
	root := filepath.Dir(filepath.Dir(shared.Path(t, "usps/usps.mat")))
	shared.Path(t, "uci-thyroid/ann-train.data")
	files, err := build.Files(root)
	if err != nil {
		t.Fatal(err)
	}
	embedded := map[string][]byte{build.DigitsTrainFile: digitsTrain, build.DigitsTestFile: digitsTest, build.TabularFile: tabular}
	if len(files) != len(embedded) {
		t.Fatalf("generator makes %d files, %d embedded", len(files), len(embedded))
	}
	for name, b := range files {
		if !bytes.Equal(b, embedded[name]) {
			t.Errorf("%s differs from the generator's output; run go run ./data/demo/internal/gen", name)
		}
	}
}
