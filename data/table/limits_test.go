package table

import (
	"errors"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data/limit"
)

// The table reader follows the process-wide limits of package limit: a
// line longer than MaxLineBytes is refused wherever it falls in a read
// chunk, and MaxDecoded bounds the cells (8 bytes each) when Options.Limits
// leaves MaxCells zero. Both errors are limit.ErrExceeded as well as
// ErrLimit; lines under the limit read as before.
func TestReadFollowsProcessLimits(t *testing.T) {
	restore := limit.Set(limit.Limits{MaxLineBytes: 1000, MaxDecoded: 8 * 300})
	defer restore()
	var ok strings.Builder
	ok.WriteString("a,b\n")
	for i := 0; i < 100; i++ {
		ok.WriteString(strings.Repeat("1", 400) + ",2\n")
	}
	raw, err := ReadCSV(strings.NewReader(ok.String()), "ok.csv", Options{})
	if err != nil || raw.Rows != 100 {
		t.Fatalf("lines of 403 bytes under a 1000-byte limit: %v", err)
	}
	for _, long := range []string{
		"a,b\n1," + strings.Repeat("2", 5000) + "\n",                      // within the first chunks
		"a,b\n" + strings.Repeat("1,2\n", 30) + strings.Repeat("3", 1200), // the last line, no line feed
	} {
		_, err := ReadCSV(strings.NewReader(long), "long.csv", Options{})
		if !errors.Is(err, ErrLimit) || !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), "MaxLineBytes") {
			t.Errorf("a line over MaxLineBytes (%.20q…): %v", long, err)
		}
	}
	var cells strings.Builder
	cells.WriteString("a,b\n")
	for i := 0; i < 151; i++ {
		cells.WriteString("1,2\n")
	}
	if _, err := ReadCSV(strings.NewReader(cells.String()), "cells.csv", Options{}); !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), "MaxCells = 300") {
		t.Errorf("302 cells over MaxDecoded = 2400 bytes: %v", err)
	}
}
