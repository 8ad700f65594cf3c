package npy

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

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A header whose shape is smaller than the data that follows it is an
// error saying how many rows are left over, not an array silently cut to
// the shape.
func TestShapeSmallerThanData(t *testing.T) {
	b := npyBytes(1, dict("<f8", false, "(2, 3)"), f64le(1, 2, 3, 4, 5, 6, 7, 8, 9))
	p := writeFile(t, "x.npy", b)
	_, _, err := ReadFile(p)
	if !errors.Is(err, data.ErrMalformed) || !strings.Contains(err.Error(), "1 more rows") || !strings.Contains(err.Error(), p) {
		t.Errorf("3 rows under a (2, 3) header: %v", err)
	}
	if _, err := data.Load(p); err == nil {
		t.Error("data.Load accepted it")
	}
	// Bytes that are not whole elements are named as bytes.
	p = writeFile(t, "y.npy", append(matrixC(), 1, 2, 3))
	if _, _, err := ReadFile(p); !errors.Is(err, data.ErrMalformed) || !strings.Contains(err.Error(), "3 bytes follow") {
		t.Errorf("3 stray bytes: %v", err)
	}
	// In an archive too.
	z := npzBytes(t, member{"X.npy", b, true})
	p = writeFile(t, "x.npz", z)
	if _, err := ReadNPZFile(p); !errors.Is(err, data.ErrMalformed) || !strings.Contains(err.Error(), "1 more rows") {
		t.Errorf("npz member with 3 rows under a (2, 3) header: %v", err)
	}
}

// Zip entries that share one deflated member (the overlapping-file bomb)
// are refused from the sizes the zip directory declares, before any member
// is inflated; the error names the file and the limit.
func TestNPZSharedEntriesBomb(t *testing.T) {
	defer limit.Set(limit.Limits{MaxDecompressed: 20 << 20})()
	// Four entries of one 8 MB array: 32 MB declared, 8 KB on disk.
	b := limittest.NPZ([]string{"X.npy", "a.npy", "b.npy", "c.npy"}, "<f8", []int{1000, 1000})
	if len(b) > 64<<10 {
		t.Fatalf("bomb of %d bytes", len(b))
	}
	p := writeFile(t, "bomb.npz", b)
	var err error
	n := allocated(func() { _, err = data.Load(p) })
	if !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "limit.MaxDecompressed") {
		t.Errorf("error %v: want one naming %s and limit.MaxDecompressed", err, p)
	}
	if n > 2<<20 {
		t.Errorf("refusing the bomb allocated %d bytes", n)
	}
	// Within the limit the same archive loads: the entries are valid.
	defer limit.Set(limit.Limits{MaxDecompressed: 40 << 20, MaxDecoded: 40 << 20})()
	ms, err := ReadNPZFile(p)
	if err != nil || len(ms) != 4 || ms[3].Array.Len() != 1e6 {
		t.Errorf("within the limits: %d members, %v", len(ms), err)
	}
}

// An array over MaxDecoded is refused when its header is read, before its
// data; the members of one archive share the budget.
func TestDecodedLimit(t *testing.T) {
	defer limit.Set(limit.Limits{MaxDecoded: 12 << 20})()
	b := limittest.NPZ([]string{"X.npy", "y.npy"}, "<f8", []int{1000, 1000}) // 8 MB each
	p := writeFile(t, "two.npz", b)
	var err error
	n := allocated(func() { _, err = ReadNPZFile(p) })
	if !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), "limit.MaxDecoded") || !strings.Contains(err.Error(), `"y.npy"`) {
		t.Errorf("second member over the total: %v", err)
	}
	// Reading the first member's 8 MB in doubling steps allocates 15 MB;
	// reading the second too would make it 30.
	if n > 22<<20 {
		t.Errorf("refusing the second member allocated %d bytes", n)
	}
	// A plain .npy file is held to the limit as well.
	defer limit.Set(limit.Limits{MaxDecoded: 40})()
	if _, _, err := ReadFile(writeFile(t, "m.npy", matrixC())); !errors.Is(err, limit.ErrExceeded) {
		t.Errorf("48 data bytes under a 40-byte limit: %v", err)
	}
}
