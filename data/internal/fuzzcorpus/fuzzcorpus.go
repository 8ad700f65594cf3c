// Package fuzzcorpus writes seed corpora for Go fuzz targets as files in
// testdata/fuzz/<FuzzName>/, the place `go test` reads them from, so the seeds
// run with every ordinary test run and are kept in the repository.
//
// Each reader package's tests build small valid inputs and their truncated
// variants, and regenerate the files with `go test -run TestSeedCorpus
// -gencorpus`.
package fuzzcorpus

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// Write replaces the seed files of fuzz target name (one []byte argument per
// input) in dir/testdata/fuzz/name.
func Write(dir, name string, inputs map[string][]byte) error {
	d := filepath.Join(dir, "testdata", "fuzz", name)
	if err := os.RemoveAll(d); err != nil {
		return err
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return err
	}
	for file, in := range inputs {
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(in)))
		if err := os.WriteFile(filepath.Join(d, file), []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Truncations returns prefixes of b at a spread of lengths (0, 1, a few
// header-sized cuts, half, all but one byte), keyed name-cutN.
func Truncations(name string, b []byte) map[string][]byte {
	out := map[string][]byte{}
	for _, n := range []int{0, 1, 4, 8, 16, 64, 128, 200, len(b) / 2, len(b) - 1} {
		if n >= 0 && n < len(b) {
			out[fmt.Sprintf("%s-cut%d", name, n)] = b[:n]
		}
	}
	return out
}
