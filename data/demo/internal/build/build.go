// Package build makes the demo data files from the original data sets in
// ../shared/datasets. The generator (internal/gen) writes its output into
// package demo; the demo tests call it again to check that the committed
// files are exactly what the originals give.
package build

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sort"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/csvfile"
	"github.com/oddity-ml/oddity/data/demo/internal/codec"
	"github.com/oddity-ml/oddity/data/matfile"
)

// The demo digits: a seeded subsample of each USPS split.
const (
	DigitsTrain = 3000
	DigitsTest  = 1000
	// Seed picks the subsample; changing it changes the embedded files.
	Seed = 2026
)

// File names of the embedded files, inside package demo's folder.
const (
	DigitsTrainFile = "digits-train.bin.gz"
	DigitsTestFile  = "digits-test.bin.gz"
	TabularFile     = "tabular.bin.gz"
)

// Files returns the embedded files' contents by file name, built from the
// data-set folder root (holding usps/usps.mat and uci-thyroid/).
func Files(root string) (map[string][]byte, error) {
	tr, te, err := matfile.LoadUSPSSplits(filepath.Join(root, "usps", "usps.mat"))
	if err != nil {
		return nil, err
	}
	out := map[string][]byte{}
	for _, p := range []struct {
		file, name string
		d          *data.Dataset
		k          int
		stream     uint64
	}{
		{DigitsTrainFile, "demo-digits-train", tr, DigitsTrain, 1},
		{DigitsTestFile, "demo-digits-test", te, DigitsTest, 2},
	} {
		rows := Subsample(p.d.N, p.k, Seed, p.stream)
		sub, err := p.d.Subset(rows)
		if err != nil {
			return nil, err
		}
		sub.Name = p.name
		if out[p.file], err = codec.Encode(codec.Set{Dataset: sub, Source: rows}); err != nil {
			return nil, fmt.Errorf("%s: %w", p.file, err)
		}
	}
	th, err := csvfile.LoadUCIThyroid(filepath.Join(root, "uci-thyroid"))
	if err != nil {
		return nil, err
	}
	th.Name = "demo-tabular"
	rows := make([]int, th.N)
	for i := range rows {
		rows[i] = i
	}
	if out[TabularFile], err = codec.Encode(codec.Set{Dataset: th, Source: rows}); err != nil {
		return nil, fmt.Errorf("%s: %w", TabularFile, err)
	}
	return out, nil
}

// Subsample picks k of the rows 0..n-1 without replacement with the seeded
// generator (seed, stream), returned in ascending order so the samples keep
// the original file's order.
func Subsample(n, k int, seed, stream uint64) []int {
	rng := rand.New(rand.NewPCG(seed, stream))
	rows := rng.Perm(n)[:min(k, n)]
	sort.Ints(rows)
	return rows
}
