package pipeline

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/iforest"
)

// BenchmarkScoreCSV scores the same CSV file (ODDITY_BENCH_ROWS rows, default
// 200,000, of 20 features) with a 100-tree forest twice: through the
// pipeline on Prism, and in process the way `oddity score` does (load the
// file, score, write CSV lines). Both report rows/s, reading and writing
// included.
//
//	go test ./pipeline -run '^$' -bench ScoreCSV -benchtime 3x
func BenchmarkScoreCSV(b *testing.B) {
	n := 200000
	if s := os.Getenv("ODDITY_BENCH_ROWS"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("ODDITY_BENCH_ROWS=%q", s)
		}
		n = v
	}
	dir := b.TempDir()
	in := filepath.Join(dir, "rows.csv")
	writeTable(b, in, n, 20, true, 9)
	model := filepath.Join(dir, "m.odm")
	ds, err := data.Load(in, data.WithLabelColumn("class"))
	if err != nil {
		b.Fatal(err)
	}
	m, err := detector.Fit(context.Background(), iforest.New(iforest.Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1, Seed: 1}), detector.TrainSet{X: ds}, detector.ThresholdRule{})
	if err != nil {
		b.Fatal(err)
	}
	if err := m.SaveFile(model); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(in)
	b.Logf("%d rows, %.1f MB", n, float64(st.Size())/1e6)

	b.Run("prism", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			run(b, func(s beam.Scope) error {
				return BuildScore(context.Background(), s, ScoreOptions{Model: model, Input: in, LabelColumn: "class", Output: filepath.Join(dir, "out.csv")})
			})
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("in-process", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			m, err := detector.LoadFile(model)
			if err != nil {
				b.Fatal(err)
			}
			ds, err := data.Load(in, data.WithLabelColumn("class"))
			if err != nil {
				b.Fatal(err)
			}
			s, err := m.Score(context.Background(), ds)
			if err != nil {
				b.Fatal(err)
			}
			w := bufio.NewWriter(io.Discard)
			for j, v := range s {
				w.WriteString(strconv.Itoa(j) + "," + strconv.FormatFloat(v, 'g', -1, 64) + ",0," + strconv.Itoa(ds.Y[j]) + "\n")
			}
			w.Flush()
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
