package idx

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

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A file holding more images than its header counts is an error saying
// how many more, plain or compressed, not a data set of the first ones.
func TestExtraImages(t *testing.T) {
	three := append(append([]byte(nil), tinyPixels...), tinyPixels[:6]...)
	b := idxBytes(0x08, []uint32{2, 2, 3}, three)
	for name, content := range map[string][]byte{"x-images-idx3-ubyte": b, "x-images-idx3-ubyte.gz": gz(b)} {
		p := writeFile(t, name, content)
		_, err := data.Load(p)
		if !errors.Is(err, data.ErrMalformed) || !strings.Contains(err.Error(), "counts 2 samples of shape [2 3] but the data holds 1 more") ||
			!strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", name, err)
		}
	}
	// Stray bytes that are not a whole image are named as bytes.
	p := writeFile(t, "y-images-idx3-ubyte", append(tinyImages(), 9))
	if _, err := ReadFile(p); !errors.Is(err, data.ErrMalformed) || !strings.Contains(err.Error(), "1 bytes follow") {
		t.Errorf("one stray byte: %v", err)
	}
	// A plain file shorter than its header's claim is truncated, said
	// before anything is read.
	p = writeFile(t, "z-images-idx3-ubyte", idxBytes(0x0E, []uint32{1 << 20, 1 << 15, 4}, []byte{1, 2, 3}))
	if _, err := ReadFile(p); !errors.Is(err, data.ErrTruncated) {
		t.Errorf("huge claim in a small file: %v", err)
	}
}

// A compressed file is held to MaxDecoded by its header's claim, before
// anything is inflated, and to MaxDecompressed as it is read: zeros after
// a small array do not inflate without bound.
func TestCompressedBombs(t *testing.T) {
	defer limit.Set(limit.Limits{MaxDecoded: 4 << 20, MaxDecompressed: 8 << 20})()
	claim := limittest.Repeat(limittest.IDXHeader([]int{65, 256, 256}), []byte{0}, 65*256*256).Gzip() // 4.06 MiB
	p := writeFile(t, "claim-images-idx3-ubyte.gz", claim)
	var err error
	n := allocated(func() { _, err = data.Load(p) })
	if !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), "limit.MaxDecoded") || !strings.Contains(err.Error(), p) {
		t.Errorf("claim over MaxDecoded: %v", err)
	}
	if n > 1<<20 {
		t.Errorf("refusing the claim allocated %d bytes", n)
	}
	tail := limittest.Repeat(idxBytes(0x08, []uint32{2, 2, 3}, tinyPixels), []byte{0}, 32<<20).Gzip()
	p = writeFile(t, "tail-images-idx3-ubyte.gz", tail)
	n = allocated(func() { _, err = data.Load(p) })
	if !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), "limit.MaxDecompressed") {
		t.Errorf("32 MiB of zeros after the array: %v", err)
	}
	if n > 1<<20 {
		t.Errorf("refusing the zeros allocated %d bytes", n)
	}
}
