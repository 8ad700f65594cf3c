// Package limit holds the bounds that every data-format reader (packages
// data/npy, data/matfile, data/idx, data/csvfile, data/imagefolder) applies
// to what one file may expand to in memory, and the small helpers the
// readers share to apply them.
//
// Why: a few kilobytes can decompress or decode to gigabytes (a zip member
// or a zlib element at deflate's 1032:1 ratio, several zip entries sharing
// one compressed stream, a tar.gz of blank PNGs each under the per-image
// pixel cap). A reader that trusts sizes, or that checks only each piece on
// its own, lets a small file take the process down with a fatal
// out-of-memory error, which no caller can recover from. So memory is bounded
// by configuration, never by what a file claims:
//
//   - MaxDecompressed bounds the bytes taken out of decompressors (gzip,
//     zlib, zip deflate) while reading one file, every member, element and
//     skipped entry counted together.
//   - MaxDecoded bounds the bytes of data one file yields: the raw elements
//     of NPY, NPZ, MAT and IDX arrays, and the float32 values (4 bytes
//     each) of images and text tables.
//   - MaxLineBytes bounds one line of a text table.
//
// Readers check a declared size (an NPY shape, a zip directory's sizes, an
// image header) against these totals before allocating for it, and count
// what decompressors actually produce as they read, so a lying header costs
// no more than the limit. Going over a limit is an error wrapping
// ErrExceeded that names the file and the limit; it never truncates
// silently.
//
// The limits are process-wide settings (Set, Get) because the format
// registry's data.Options has no room for them; commands set them from
// their flags before loading.
package limit

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Defaults, chosen so that every data set the project ships with loads
// (CIFAR-10's 60,000 images are 737 MB of float32) while a file that would
// expand past what a small machine holds is refused before it is expanded.
const (
	// DefaultMaxDecompressed is 1 GiB.
	DefaultMaxDecompressed = 1 << 30
	// DefaultMaxDecoded is 1 GiB.
	DefaultMaxDecoded = 1 << 30
	// DefaultMaxLineBytes is 16 MiB: room for a million numeric columns
	// (package csvfile's MaxColumns), while the line and the copies its
	// reader makes as it grows stay small.
	DefaultMaxLineBytes = 16 << 20
)

// Limits bounds what reading one file may produce. A zero field means the
// default.
type Limits struct {
	// MaxDecompressed caps the bytes decompressed from one file (all of a
	// zip's members, a .mat file's compressed elements, a .gz stream with
	// the entries a tar reader skips).
	MaxDecompressed int64
	// MaxDecoded caps the bytes of data one file yields: raw array
	// elements (NPY, NPZ, MAT, IDX) or float32 values (images, text
	// tables), all arrays and splits of the file together.
	MaxDecoded int64
	// MaxLineBytes caps one line of a text table.
	MaxLineBytes int
}

// Defaults returns the default limits.
func Defaults() Limits {
	return Limits{MaxDecompressed: DefaultMaxDecompressed, MaxDecoded: DefaultMaxDecoded, MaxLineBytes: DefaultMaxLineBytes}
}

// withDefaults fills zero fields.
func (l Limits) withDefaults() Limits {
	d := Defaults()
	if l.MaxDecompressed <= 0 {
		l.MaxDecompressed = d.MaxDecompressed
	}
	if l.MaxDecoded <= 0 {
		l.MaxDecoded = d.MaxDecoded
	}
	if l.MaxLineBytes <= 0 {
		l.MaxLineBytes = d.MaxLineBytes
	}
	return l
}

var (
	mu      sync.RWMutex
	current = Defaults()
)

// Get returns the limits in force.
func Get() Limits {
	mu.RLock()
	defer mu.RUnlock()
	return current
}

// Set puts l in force (zero fields take the defaults) and returns a function
// that restores the limits it replaced, for tests and for commands that
// change them for one load.
func Set(l Limits) (restore func()) {
	mu.Lock()
	defer mu.Unlock()
	old := current
	current = l.withDefaults()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		current = old
	}
}

// ErrExceeded is wrapped by every error about a total over a limit.
var ErrExceeded = errors.New("over a configured limit")

// Exceeded returns the error for a total of what (for example "decoded
// data") that would reach got bytes, over max; name says which limit
// ("MaxDecoded"). The file's name is added by the reader that wraps it.
func Exceeded(what string, got, max int64, name string) error {
	return fmt.Errorf("%s would reach %s, over the limit of %s (limit.%s): %w", what, Size(got), Size(max), name, ErrExceeded)
}

// Size writes a byte count for people: "1.5 GiB (1610612736 bytes)", or
// "512 bytes" below 1 KiB.
func Size(n int64) string {
	units := []string{"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"}
	if n < 1024 {
		return fmt.Sprintf("%d bytes", n)
	}
	v, u := float64(n)/1024, 0
	for v >= 1024 && u < len(units)-1 {
		v /= 1024
		u++
	}
	return fmt.Sprintf("%.4g %s (%d bytes)", v, units[u], n)
}

// ParseSize reads a byte count: a whole number with an optional unit, k/K,
// KB, KiB, M, MB, MiB, G, GB, GiB, T, TB or TiB (all powers of 1024, as the
// other sizes in this project), in any case.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		m      int64
	}{{"tib", 1 << 40}, {"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10},
		{"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10},
		{"t", 1 << 40}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(t, u.suffix) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, u.suffix)), u.m
			break
		}
	}
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v <= 0 || v > (1<<62)/mult {
		return 0, fmt.Errorf("size %q: want a positive whole number of bytes, optionally with a unit such as MiB or GiB", s)
	}
	return v * mult, nil
}

// Budget counts a total against a maximum. It is not safe for concurrent
// use.
type Budget struct {
	// What names the total in errors ("decoded data").
	What string
	// Name is the limit's field name in errors ("MaxDecoded").
	Name string
	// Max is the limit.
	Max  int64
	used int64
}

// Decoded returns a budget for MaxDecoded of l.
func (l Limits) Decoded() *Budget {
	return &Budget{What: "decoded data", Name: "MaxDecoded", Max: l.withDefaults().MaxDecoded}
}

// Decompressed returns a budget for MaxDecompressed of l.
func (l Limits) Decompressed() *Budget {
	return &Budget{What: "decompressed data", Name: "MaxDecompressed", Max: l.withDefaults().MaxDecompressed}
}

// Take adds n bytes, or returns an error wrapping ErrExceeded (and adds
// nothing) when the total would pass the maximum.
func (b *Budget) Take(n int64) error {
	if n < 0 || n > b.Max-b.used {
		got := b.used + n
		if n < 0 || got < b.used { // overflow: report the claim itself
			got = n
		}
		return Exceeded(b.What, got, b.Max, b.Name)
	}
	b.used += n
	return nil
}

// Used is the total taken.
func (b *Budget) Used() int64 { return b.used }

// Left is what may still be taken.
func (b *Budget) Left() int64 { return b.Max - b.used }

// Reader counts the bytes read through it against a Budget: a Read that
// would take the total past the maximum fails with the budget's error
// instead of returning the bytes, unlike io.LimitReader, which would end
// the stream early and silently truncate it.
type Reader struct {
	r io.Reader
	b *Budget
}

// NewReader returns r counted against b.
func NewReader(r io.Reader, b *Budget) *Reader { return &Reader{r: r, b: b} }

// Read reads from the underlying reader, at most one byte past what the
// budget allows, so going over is seen at once.
func (l *Reader) Read(p []byte) (int, error) {
	if left := l.b.Left(); int64(len(p)) > left+1 {
		p = p[:left+1]
	}
	n, err := l.r.Read(p)
	if n > 0 {
		if l.b.Take(int64(n)) != nil {
			// The stream's length is unknown: say it goes past the limit.
			return 0, fmt.Errorf("%s goes past the limit of %s (limit.%s): %w", l.b.What, Size(l.b.Max), l.b.Name, ErrExceeded)
		}
	}
	return n, err
}
