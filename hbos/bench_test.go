package hbos

import (
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/scripts/reference/parity"
)

func fresh() detector.Detector { return New(DefaultOptions()) }

// BenchmarkFit fits on 100,000 rows of 20 features, BenchmarkScore scores
// as many with the fitted model (ns/op per call; MB/s of float32 input).
func BenchmarkFit(b *testing.B) {
	detectortest.BenchFit(b, fresh, ds(table(100000, 20, 1), 100000, 20))
}

func BenchmarkScore(b *testing.B) {
	detectortest.BenchScore(b, fresh, ds(table(100000, 20, 1), 100000, 20), ds(table(100000, 20, 2), 100000, 20))
}

// BenchmarkCover fits and scores 10_cover's ADBench split (parity.BenchCover).
func BenchmarkCover(b *testing.B) { parity.BenchCover(b, fresh) }
