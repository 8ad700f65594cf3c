package ecod

import (
	"context"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/scripts/reference/parity"
)

// BenchmarkFit fits on 100,000 rows of 20 features, BenchmarkScore scores
// as many with the fitted model (ns/op per call; MB/s of float32 input).
func BenchmarkFit(b *testing.B) {
	x := ds(discrete(100000, 20, 1), 100000, 20)
	b.SetBytes(int64(4 * len(x.X)))
	for b.Loop() {
		if err := New(DefaultOptions()).Fit(context.Background(), detector.TrainSet{X: x}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkScore(b *testing.B) {
	x := ds(discrete(100000, 20, 1), 100000, 20)
	d := New(DefaultOptions())
	if err := d.Fit(context.Background(), detector.TrainSet{X: x}); err != nil {
		b.Fatal(err)
	}
	test := ds(discrete(100000, 20, 2), 100000, 20)
	b.SetBytes(int64(4 * len(test.X)))
	for b.Loop() {
		if _, err := d.Score(context.Background(), test); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCover fits on the largest ADBench file's training split
// (10_cover, split seed 0: 200,234 rows of 10 features) and scores its
// test split (85,815 rows); it is skipped without the data sets.
func BenchmarkCover(b *testing.B) {
	splits, err := parity.ADBench([]uint64{0}, "10_cover")
	if err != nil || len(splits) == 0 {
		b.Skip("no ADBench data:", err)
	}
	sp := splits[0]
	ctx := context.Background()
	for b.Loop() {
		d := New(DefaultOptions())
		if err := d.Fit(ctx, detector.TrainSet{X: sp.Train}); err != nil {
			b.Fatal(err)
		}
		if _, err := d.Score(ctx, sp.Test); err != nil {
			b.Fatal(err)
		}
	}
}
