package csvfile

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/limit"
	"github.com/oddity-ml/oddity/data/limit/limittest"
)

func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A small .csv.gz that inflates past MaxDecompressed is refused by a pass
// that inflates it to nowhere, before any row is parsed or held.
func TestGzipBomb(t *testing.T) {
	defer limit.Set(limit.Limits{MaxDecompressed: 8 << 20})()
	b := limittest.Repeat([]byte("a,b,c,d\n"), []byte("0,0,0,0\n"), 4<<20).Gzip() // 32 MiB of rows
	p := filepath.Join(t.TempDir(), "bomb.csv.gz")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	n := allocated(func() { _, err = data.Load(p) })
	if !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), "limit.MaxDecompressed") || !strings.Contains(err.Error(), p) {
		t.Errorf("32 MiB under an 8 MiB limit: %v", err)
	}
	if n > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", n)
	}
}

// A line longer than MaxLineBytes is an error naming the line, whether
// encoding/csv or the white-space splitter reads it; values beyond
// MaxDecoded are an error naming the line where the total is passed.
func TestLineAndValueLimits(t *testing.T) {
	restore := limit.Set(limit.Limits{MaxLineBytes: 1000})
	long := "1,2\n3," + strings.Repeat(" ", 1200) + "4\n5,6\n"
	for name, text := range map[string]string{"csv": long, "spaces": strings.ReplaceAll(long, ",", " ")} {
		_, err := Read(strings.NewReader(text), "t", data.Options{})
		if !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), "line 2 is longer than 1000 bytes") {
			t.Errorf("%s: %v", name, err)
		}
	}
	// A quoted field spanning lines is bounded line by line as well.
	if _, err := Read(strings.NewReader("1,2\n3,\"4"+strings.Repeat("\n4", 300)+strings.Repeat("4", 1001)+"\"\n"), "t", data.Options{}); !errors.Is(err, limit.ErrExceeded) {
		t.Errorf("long quoted field: %v", err)
	}
	if ds, err := Read(strings.NewReader("1,2\n3,"+strings.Repeat(" ", 990)+"4\n"), "t", data.Options{}); err != nil || ds.N != 2 {
		t.Errorf("a line within the limit: %v", err)
	}
	restore()
	defer limit.Set(limit.Limits{MaxDecoded: 4 * 5})()
	if _, err := Read(strings.NewReader("1,2\n3,4\n5,6\n"), "t", data.Options{}); !errors.Is(err, limit.ErrExceeded) ||
		!strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "limit.MaxDecoded") {
		t.Errorf("6 values under a 5-value limit: %v", err)
	}
}
