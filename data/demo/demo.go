// Package demo embeds two small data sets in the oddity binary, so
// `oddity demo` runs on a fresh clone with nothing beyond the repository:
//
//   - "demo-digits": 16x16 grey handwritten digits from USPS, a seeded
//     subsample of 3,000 of the 7,291 training and 1,000 of the 2,007 test
//     images, shape [1, 16, 16], pixels in [0, 1] as matfile.LoadUSPSSplits
//     gives them, labels the digits 0..9.
//   - "demo-tabular": the whole UCI thyroid ("ann") data, 7,200 rows of 21
//     features (ann-train.data then ann-test.data) as
//     csvfile.LoadUCIThyroid gives them, with its class labels 1
//     (hyperfunction), 2 (subnormal) and 3 (normal).
//
// The files are written by `go run ./data/demo/internal/gen` from
// ../shared/datasets; the tests check, when that folder is present, that the
// embedded files are exactly what the generator makes and that every
// embedded row equals its row in the original file. The format (package
// internal/codec) stores each value as an index into a table of distinct
// values, so decoding is exact; the three files take about 0.8 MB.
//
// Licences and sources: USPS is the US Postal Service handwritten digit
// set (J. J. Hull, "A database for handwritten text recognition research",
// IEEE TPAMI 1994), redistributed for research as usps.mat without a stated
// licence; the UCI thyroid data (R. Quinlan, "Thyroid Disease", UCI Machine
// Learning Repository) is licensed CC BY 4.0, which requires crediting the
// source, as done here. Cite both when publishing results on these sets.
package demo

import (
	_ "embed" // the data files
	"fmt"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/demo/internal/codec"
)

// Names of the embedded data sets, as data/catalog accepts them.
const (
	DigitsName  = "demo-digits"
	TabularName = "demo-tabular"
)

var (
	//go:embed digits-train.bin.gz
	digitsTrain []byte
	//go:embed digits-test.bin.gz
	digitsTest []byte
	//go:embed tabular.bin.gz
	tabular []byte
)

// Digits returns the demo digits: 3,000 training and 1,000 test USPS images
// of shape [1, 16, 16], labels 0..9. Each call decodes afresh, so callers
// may modify the data sets.
func Digits() (train, test *data.Dataset, err error) {
	tr, err := decode("digits-train", digitsTrain)
	if err != nil {
		return nil, nil, err
	}
	te, err := decode("digits-test", digitsTest)
	if err != nil {
		return nil, nil, err
	}
	return tr.Dataset, te.Dataset, nil
}

// Tabular returns the demo tabular data: the 7,200 UCI thyroid rows of 21
// features with labels 1 (hyperfunction), 2 (subnormal) and 3 (normal).
// Each call decodes afresh.
func Tabular() (*data.Dataset, error) {
	s, err := decode("tabular", tabular)
	if err != nil {
		return nil, err
	}
	return s.Dataset, nil
}

func decode(what string, b []byte) (*codec.Set, error) {
	s, err := codec.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("demo %s (embedded file damaged; rebuild with go run ./data/demo/internal/gen): %w", what, err)
	}
	return s, nil
}
