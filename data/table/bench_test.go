package table

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/oddity-ml/oddity/data/table/tabletest"
)

// BenchmarkReadMixed reads and transforms a 100,000 × 50 mixed CSV with a
// pipeline fitted on it beforehand; rows/s counts rows read and encoded.
func BenchmarkReadMixed(b *testing.B) {
	const rows = 100_000
	path := filepath.Join(b.TempDir(), "mixed.csv")
	if err := tabletest.WriteMixed(path, rows); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := ReadFile(path, Options{LabelColumn: "label"})
	if err != nil {
		b.Fatal(err)
	}
	p, err := Fit(raw)
	if err != nil {
		b.Fatal(err)
	}
	raw = nil
	o := p.ReadOptions()
	b.SetBytes(st.Size())
	b.ReportAllocs()
	for b.Loop() {
		r, err := ReadFile(path, o)
		if err != nil {
			b.Fatal(err)
		}
		ds, _, err := p.Transform(r)
		if err != nil {
			b.Fatal(err)
		}
		if ds.N != rows {
			b.Fatalf("%d rows", ds.N)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(p.Dim()), "features")
}
