package limit_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all"
	"github.com/oddity-ml/oddity/data/limit"
	"github.com/oddity-ml/oddity/data/limit/limittest"
	"github.com/oddity-ml/oddity/data/table"
)

// addressSpace is the cap the readers run under: what `ulimit -v 1048576`
// sets.
const addressSpace = 1 << 30

// bomb is one file that expands to gigabytes; raise says the control run
// (limits lifted) must die, which shows the cap and the bomb are real.
type bomb struct {
	name  string
	build func(dir string) string
	raise bool
	// limits, when set, are the limits the child runs with (else the
	// defaults).
	limits string
	// table says the child reads the file as a table (package data/table:
	// what `oddity train`, `score` and `detect` do with a CSV or Parquet
	// file) instead of through the format registry.
	table bool
}

func write(dir, name string, b []byte) string {
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		panic(err)
	}
	return p
}

func bombs() []bomb {
	return []bomb{
		{name: "npz: 4 entries sharing one 1 GB member", raise: true, build: func(dir string) string {
			return write(dir, "shared.npz", limittest.NPZ([]string{"X.npy", "y.npy", "a.npy", "b.npy"}, "<f8", []int{125000, 1000}))
		}},
		{name: "npy: header claims 80 GB", build: func(dir string) string {
			return write(dir, "claim.npy", append(limittest.NPYHeader("<f8", []int{100000, 100000}), make([]byte, 1024)...))
		}},
		{name: "mat: one element inflating to 3.2 GB", raise: true, build: func(dir string) string {
			return write(dir, "one.mat", append(limittest.MatHeader(), limittest.MatDouble("X", 20000, 20000)...))
		}},
		{name: "mat: five elements of 250 MB", build: func(dir string) string {
			b := limittest.MatHeader()
			for _, n := range []string{"X", "A", "B", "C", "D"} {
				b = append(b, limittest.MatDouble(n, 5590, 5590)...)
			}
			return write(dir, "five.mat", b)
		}},
		{name: "idx.gz: header claims 3.9 GB", build: func(dir string) string {
			return write(dir, "claim-images-idx3-ubyte.gz", limittest.Repeat(limittest.IDXHeader([]int{60000, 256, 256}), []byte{0}, 60000*256*256).Gzip())
		}},
		{name: "idx.gz: 3 GB of zeros after 10 images", build: func(dir string) string {
			head := append(limittest.IDXHeader([]int{10, 28, 28}), make([]byte, 7840)...)
			return write(dir, "tail-images-idx3-ubyte.gz", limittest.Repeat(head, []byte{0}, 3e9).Gzip())
		}},
		{name: "csv.gz: 3 GB of rows", raise: true, build: func(dir string) string {
			return write(dir, "rows.csv.gz", limittest.Repeat([]byte("a,b,c,d,e,f,g,h\n"), []byte("0,0,0,0,0,0,0,0\n"), 3e9/16).Gzip())
		}},
		{name: "csv.gz: one line of 500 MB", build: func(dir string) string {
			return write(dir, "line.csv.gz", limittest.Repeat([]byte("a,b\n1,"), []byte("0"), 500e6).Gzip())
		}},
		{name: "tar.gz: twelve blank 8192² RGB PNGs (9 GiB of float32)", raise: true, build: func(dir string) string {
			img := limittest.PNG(8192, 8192, true)
			files, order := map[string][]byte{}, []string(nil)
			for i := 0; i < 12; i++ {
				n := fmt.Sprintf("bomb/blank/%02d.png", i)
				files[n], order = img, append(order, n)
			}
			return write(dir, "blank.tar.gz", limittest.TarGz(files, order))
		}},
		{name: "tar.gz: forty blank 4096² RGB PNGs (8 GB of float32)", build: func(dir string) string {
			img := limittest.PNG(4096, 4096, true)
			files, order := map[string][]byte{}, []string(nil)
			for i := 0; i < 40; i++ {
				n := fmt.Sprintf("bomb/blank/%02d.png", i)
				files[n], order = img, append(order, n)
			}
			return write(dir, "forty.tar.gz", limittest.TarGz(files, order))
		}},
		// Tables keep every numeric cell in a float64 column, which takes
		// up to twice its bytes while it grows: under the cap's ~300 MB of
		// heap they need limits for such a machine (MaxDecoded 64 MiB: 8
		// million cells), as the flat folder below does. The Parquet file's
		// footer tells its true row count, so it is refused before any
		// page is read.
		{name: "table csv.gz: 3 GB of rows", raise: true, table: true, limits: "67108864", build: func(dir string) string {
			return write(dir, "table-rows.csv.gz", limittest.Repeat([]byte("a,b,c,d,e,f,g,h\n"), []byte("0,0,0,0,0,0,0,0\n"), 3e9/16).Gzip())
		}},
		{name: "table csv.gz: one line of 500 MB", table: true, build: func(dir string) string {
			return write(dir, "table-line.csv.gz", limittest.Repeat([]byte("a,b\n1,"), []byte("0"), 500e6).Gzip())
		}},
		{name: "table parquet: zstd pages of 1.6 GB of zeros", raise: true, table: true, limits: "67108864", build: func(dir string) string {
			return write(dir, "zeros.parquet", limittest.ParquetZeros(200_000_000, 50_000_000, 64<<20))
		}},
		// Within the default limits each image of a flat folder is decoded
		// on its own (256 MiB of RGBA for 8192², which MaxPixels admits) and
		// brought to 256²: more than a Go process holds under a 1 GiB cap
		// (about 300 MB; the runtime reserves the rest of the address space
		// at start). With limits for such a machine (MaxDecoded 256 MiB)
		// the working-memory bound refuses them.
		{name: "flat folder: twelve blank 8192² PNGs, MaxDecoded 256 MiB", limits: "268435456", build: func(dir string) string {
			d := filepath.Join(dir, "flat")
			os.Mkdir(d, 0o755)
			img := limittest.PNG(8192, 8192, true)
			for i := 0; i < 12; i++ {
				write(d, fmt.Sprintf("%02d.png", i), img)
			}
			return d
		}},
	}
}

// TestBombsUnderAddressSpaceCap runs data.Inspect and data.Load (what
// `oddity data inspect` and every command's loading call) on a bomb of each
// format, each in a child process started under `ulimit -v 1048576` (a
// 1 GiB address-space cap, set before exec so that the Go runtime sizes
// its reservations to it): each must end with a clear error wrapping
// limit.ErrExceeded (or data.ErrTruncated for a claim the file cannot
// hold), never a fatal out-of-memory error. A control run with the limits
// lifted must die on the bombs marked raise, which shows that the cap
// bites and the bombs are real.
//
// Under such a cap a Go process has about 300 MB of heap: the runtime
// reserves about 700 MB of address space at start. A binary built with cgo
// has less still (the C allocator reserves 64 MiB per thread), so the test
// needs CGO_ENABLED=0, as the project's binaries are built. It takes about
// a minute and writes about 30 MB, so it runs only with ODDITY_BOMB_TEST=1
// (ODDITY_BOMB_DIR=DIR keeps the bombs there, to try `oddity data inspect`
// on them):
//
//	CGO_ENABLED=0 ODDITY_BOMB_TEST=1 go test ./data/limit/ -run Bombs -v
func TestBombsUnderAddressSpaceCap(t *testing.T) {
	if p := os.Getenv("ODDITY_BOMB_CHILD"); p != "" {
		child(p)
		return
	}
	if os.Getenv("ODDITY_BOMB_TEST") != "1" {
		t.Skip("set ODDITY_BOMB_TEST=1 to run the decompression bombs under a 1 GiB address-space cap")
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "CGO_ENABLED" && s.Value != "0" {
				t.Fatal("run with CGO_ENABLED=0: a cgo binary's C allocator reserves most of a 1 GiB address space before any data is read")
			}
		}
	}
	dir := os.Getenv("ODDITY_BOMB_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	for _, b := range bombs() {
		t.Run(b.name, func(t *testing.T) {
			start := time.Now()
			p := b.build(dir)
			size := diskSize(p)
			built := time.Since(start)
			out, rss, err := run(t, p, b.limits, b.table)
			t.Logf("%s: %s on disk (built in %v); capped child: peak RSS %d MiB; %s", filepath.Base(p), limit.Size(size), built.Round(time.Millisecond), rss>>20, out)
			switch {
			case err != nil:
				t.Errorf("child died under the cap: %v\n%s", err, out)
			case !strings.Contains(out, "RESULT refused") && !strings.Contains(out, "RESULT truncated"):
				t.Errorf("want a limit error: %s", out)
			}
			if b.raise {
				out, rss, err := run(t, p, "lift", b.table)
				t.Logf("control, limits lifted: peak RSS %d MiB, %v: %s", rss>>20, err, lastLine(out))
				if err == nil {
					t.Errorf("with the limits lifted the child survived the cap: the bomb or the cap is not real: %s", out)
				}
			}
		})
	}
}

// tableLimits are the table reader's limits in the child: the defaults,
// which follow package limit's, or none with the limits lifted.
var tableLimits table.Limits

// child loads p under the cap and prints one RESULT line.
func child(p string) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &rl); err != nil || rl.Cur > addressSpace {
		fmt.Println("RESULT no address-space cap:", rl.Cur, err)
		os.Exit(3)
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "VmSize:") {
				fmt.Println("at start", strings.Join(strings.Fields(l), " "))
			}
		}
	}
	switch l := os.Getenv("ODDITY_BOMB_LIMITS"); l {
	case "":
	case "lift":
		limit.Set(limit.Limits{MaxDecompressed: 1 << 40, MaxDecoded: 1 << 40, MaxLineBytes: 1 << 40})
		if os.Getenv("ODDITY_BOMB_TABLE") == "1" {
			tableLimits = table.Limits{MaxRows: -1, MaxCells: -1, MaxBytes: -1}
		}
	default:
		n, err := limit.ParseSize(l)
		if err != nil {
			panic(err)
		}
		limit.Set(limit.Limits{MaxDecoded: n, MaxDecompressed: n})
	}
	var err error
	if os.Getenv("ODDITY_BOMB_TABLE") == "1" {
		var raw *table.Raw
		if raw, err = table.ReadFile(p, table.Options{Limits: tableLimits}); err == nil {
			fmt.Printf("RESULT loaded a table of %d columns\n", len(raw.Columns))
			return
		}
	} else if _, err = data.Inspect(p); err == nil {
		var ds *data.Dataset
		if ds, err = data.Load(p); err == nil {
			fmt.Printf("RESULT loaded %d samples of %v\n", ds.N, ds.Shape)
			return
		}
	}
	switch {
	case errors.Is(err, limit.ErrExceeded):
		fmt.Println("RESULT refused:", err)
	case errors.Is(err, data.ErrTruncated):
		fmt.Println("RESULT truncated:", err)
	default:
		fmt.Println("RESULT other error:", err)
	}
}

// run re-executes the test binary under the cap as a child loading p with
// the given limits ("" for the defaults, "lift", or a size for MaxDecoded
// and MaxDecompressed), as a table when asTable; it returns the child's output, its peak resident
// memory and its exit error.
func run(t *testing.T, p, limits string, asTable bool) (string, int64, error) {
	cmd := exec.Command("/bin/sh", "-c", fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, addressSpace>>10),
		os.Args[0], "-test.run=^TestBombsUnderAddressSpaceCap$")
	cmd.Env = append(os.Environ(), "ODDITY_BOMB_CHILD="+p, "ODDITY_BOMB_LIMITS="+limits)
	if asTable {
		cmd.Env = append(cmd.Env, "ODDITY_BOMB_TABLE=1")
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var rss int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss << 10
	}
	s := out.String()
	if i := strings.Index(s, "RESULT"); i >= 0 && err == nil {
		start := ""
		if j := strings.Index(s, "at start "); j >= 0 {
			start = "(" + strings.TrimSpace(strings.SplitN(s[j:], "\n", 2)[0]) + ") "
		}
		s = start + strings.TrimSpace(strings.SplitN(s[i:], "\n", 2)[0])
	}
	return s, rss, err
}

func lastLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, "fatal error") || strings.Contains(l, "RESULT") {
			return strings.TrimSpace(l)
		}
	}
	if len(s) > 200 {
		s = s[:200]
	}
	return s
}

func diskSize(p string) int64 {
	var n int64
	filepath.Walk(p, func(_ string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			n += fi.Size()
		}
		return nil
	})
	return n
}
