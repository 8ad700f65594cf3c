package matfile

import (
	"encoding/binary"
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

// Compressed elements each within deflate's ratio but together over
// MaxDecompressed are refused after a pass that inflates them to nowhere:
// nothing of their size is allocated, and the error names the file and the
// limit. Within the limits the same file loads.
func TestCompressedBomb(t *testing.T) {
	// Three 8 MB matrices of zeros, 25 KB on disk.
	b := limittest.MatHeader()
	for _, name := range []string{"X", "A", "B"} {
		b = append(b, limittest.MatDouble(name, 1000, 1000)...)
	}
	p := filepath.Join(t.TempDir(), "bomb.mat")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	restore := limit.Set(limit.Limits{MaxDecompressed: 20 << 20})
	var err error
	n := allocated(func() { _, err = data.Load(p) })
	restore()
	if !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), "limit.MaxDecompressed") || !strings.Contains(err.Error(), p) {
		t.Errorf("24 MB inflated under a 20 MiB limit: %v", err)
	}
	if n > 1<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", n)
	}
	restore = limit.Set(limit.Limits{MaxDecoded: 20 << 20})
	_, err = ReadFile(p)
	restore()
	if !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), "limit.MaxDecoded") {
		t.Errorf("24 MB of data under a 20 MiB MaxDecoded: %v", err)
	}
	vars, err := ReadFile(p)
	if err != nil || len(vars) != 3 || vars[2].Name != "B" || len(vars[2].Array.Raw) != 8e6 {
		t.Fatalf("within the limits: %v", err)
	}
	// The second pass inflates each element into a buffer of its measured
	// size: reading 24 MB allocates little more than 24 MB.
	if n := allocated(func() { ReadFile(p) }); n > 26<<20 {
		t.Errorf("reading 24 MB allocated %d bytes", n)
	}
}

// An uncompressed file over MaxDecoded is refused from its size on disk.
func TestFileOverDecoded(t *testing.T) {
	p := filepath.Join(t.TempDir(), "tiny.mat")
	os.WriteFile(p, tinyMat(binary.LittleEndian), 0o644)
	defer limit.Set(limit.Limits{MaxDecoded: 100})()
	if _, err := ReadFile(p); !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), p) {
		t.Errorf("a file over MaxDecoded: %v", err)
	}
}
