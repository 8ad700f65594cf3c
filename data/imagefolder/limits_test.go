package imagefolder

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// blankTar is a tar.gz of n blank side×side RGB PNGs in one class folder.
func blankTar(n, side int) ([]byte, []string) {
	img := limittest.PNG(side, side, true)
	files := map[string][]byte{}
	var order []string
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("top/blank/%02d.png", i)
		files[name] = img
		order = append(order, name)
	}
	return limittest.TarGz(files, order), order
}

// An archive of blank images, each far under MaxPixels, is refused at the
// first image that takes the decoded total past MaxDecoded, from its header
// and before it is decoded; the images after it are not decoded either. The
// error names the archive, the image and the limit. The same archive loads
// when the images are resized small.
func TestTarOfBlankImages(t *testing.T) {
	defer limit.Set(limit.Limits{MaxDecoded: 8 << 20})()
	b, names := blankTar(12, 512) // 12 × 3 MiB of float32
	p := filepath.Join(t.TempDir(), "blank.tar.gz")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	var err error
	n := allocated(func() { _, err = data.Inspect(p) })
	if !errors.Is(err, limit.ErrExceeded) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), names[2]) ||
		!strings.Contains(err.Error(), "limit.MaxDecoded") {
		t.Errorf("12 × 3 MiB under an 8 MiB limit: %v", err)
	}
	// Decoding the two admitted images allocates about 2 × 2 MiB; all twelve
	// would be over 20 MiB before the data set's 36 MiB.
	if n > 12<<20 {
		t.Errorf("refusing the archive allocated %d bytes", n)
	}
	ds, err := data.Load(p, data.WithResize(32, 32, data.Bilinear))
	if err != nil || ds.N != 12 {
		t.Errorf("resized to 32×32: %v", err)
	}
}

// A tar entry is read as its bytes arrive, not allocated from the size its
// header claims; a tar.gz is held to MaxDecompressed, skipped entries
// included.
func TestTarClaimsAndDecompressed(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "top/a/x.png", Mode: 0o644, Size: 200 << 20, Typeflag: tar.TypeReg})
	tw.Write([]byte("\x89PNG\r\n\x1a\n"))
	var err error
	n := allocated(func() { _, err = ReadTar(bytes.NewReader(buf.Bytes()), "cut", data.Options{}) })
	if !errors.Is(err, data.ErrTruncated) || !strings.Contains(err.Error(), "x.png") {
		t.Errorf("entry cut short: %v", err)
	}
	if n > 4<<20 {
		t.Errorf("an entry claiming 200 MiB with 8 bytes present allocated %d bytes", n)
	}

	defer limit.Set(limit.Limits{MaxDecompressed: 8 << 20})()
	junk := limittest.TarGz(map[string][]byte{"top/a/notes.txt": make([]byte, 32<<20), "top/a/x.png": limittest.PNG(4, 4, false)},
		[]string{"top/a/notes.txt", "top/a/x.png"})
	if _, err := ReadTar(bytes.NewReader(junk), "junk", data.Options{}); !errors.Is(err, limit.ErrExceeded) ||
		!strings.Contains(err.Error(), "limit.MaxDecompressed") {
		t.Errorf("32 MiB skipped entry under an 8 MiB limit: %v", err)
	}
}

// The gate admits work while the total fits, makes the rest wait for a
// release, lets an oversized piece through alone, and frees waiters on stop.
func TestGate(t *testing.T) {
	g := newGate(10)
	if !g.acquire(6) {
		t.Fatal("first acquire refused")
	}
	var got atomic.Bool
	done := make(chan bool)
	go func() { ok := g.acquire(6); got.Store(true); done <- ok }()
	time.Sleep(20 * time.Millisecond)
	if got.Load() {
		t.Fatal("6 + 6 admitted under a bound of 10")
	}
	g.release(6)
	if !<-done {
		t.Fatal("waiter refused after release")
	}
	g.release(6)
	if !g.acquire(25) {
		t.Fatal("an oversized piece alone was refused")
	}
	go func() { done <- g.acquire(1) }()
	time.Sleep(20 * time.Millisecond)
	g.stop()
	if <-done {
		t.Error("a waiter was admitted after stop")
	}
}
