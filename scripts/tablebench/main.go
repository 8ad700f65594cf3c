// Command tablebench times oddity's table pipeline on a large mixed CSV,
// the measurement behind issue #22's speed targets: reading a 1M-row ×
// 50-column file against pandas' read_csv on the same file
// (scripts/reference/pandas_read.py), peak memory against the encoded
// float32 matrix, and Isolation Forest scoring through the pipeline.
//
//	go run ./scripts/tablebench --rows 1000000 --file /tmp/mixed-1m.csv
//	/usr/bin/python3 scripts/reference/pandas_read.py /tmp/mixed-1m.csv
//
// The file is written first when it does not exist (data/table/tabletest:
// an id, 30 numeric columns with missing cells, 10 categorical, 4 yes/no,
// 3 timestamps, a label with blanks, a constant). Peak memory is the
// process's resident high-water mark (VmHWM) after each stage.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/data/table/tabletest"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/iforest"
)

func main() {
	rows := flag.Int("rows", 1_000_000, "rows of the file to write when it does not exist")
	file := flag.String("file", "/tmp/oddity-mixed.csv", "the CSV to read")
	fitRows := flag.Int("fit-rows", 100_000, "rows the Isolation Forest is fitted on (the pipeline is fitted on all)")
	prof := flag.String("cpuprofile", "", "write a CPU profile to `FILE`")
	flag.Parse()
	if *prof != "" {
		f, err := os.Create(*prof)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "tablebench:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	if err := run(*file, *rows, *fitRows); err != nil {
		fmt.Fprintln(os.Stderr, "tablebench:", err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func run(file string, rows, fitRows int) error {
	if _, err := os.Stat(file); os.IsNotExist(err) {
		t := time.Now()
		if err := tabletest.WriteMixed(file, rows); err != nil {
			return err
		}
		fmt.Printf("wrote %s (%d rows) in %.1f s\n", file, rows, time.Since(t).Seconds())
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	fmt.Printf("file %s: %.1f MB; GOMAXPROCS %d\n", file, float64(st.Size())/1e6, runtime.GOMAXPROCS(0))
	t := time.Now()
	raw, err := table.ReadFile(file, table.Options{LabelColumn: "label"})
	if err != nil {
		return err
	}
	read := time.Since(t).Seconds()
	fmt.Printf("read:      %8.2f s  %9.0f rows/s  peak RSS %s\n", read, float64(raw.Rows)/read, peak())
	t = time.Now()
	p, err := table.Fit(raw)
	if err != nil {
		return err
	}
	fit := time.Since(t).Seconds()
	fmt.Printf("fit:       %8.2f s  (kinds, medians, levels, ranges)\n", fit)
	t = time.Now()
	ds, _, err := p.Transform(raw)
	if err != nil {
		return err
	}
	tr := time.Since(t).Seconds()
	matrix := int64(ds.N) * int64(ds.Dim()) * 4
	fmt.Printf("transform: %8.2f s  %9.0f rows/s  -> %d × %d float32 (%.0f MB)  peak RSS %s\n", tr, float64(ds.N)/tr, ds.N, ds.Dim(), float64(matrix)/1e6, peak())
	fmt.Printf("read + fit + transform: %.2f s, %.0f rows/s\n", read+fit+tr, float64(ds.N)/(read+fit+tr))
	raw = nil
	runtime.GC()

	ctx := context.Background()
	idx := make([]int, min(fitRows, ds.N))
	for i := range idx {
		idx[i] = i * ds.N / len(idx)
	}
	train, err := ds.Subset(idx)
	if err != nil {
		return err
	}
	o := iforest.DefaultOptions()
	o.Seed = 1
	m, err := detector.Fit(ctx, iforest.New(o), detector.TrainSet{X: train}, detector.ThresholdRule{})
	if err != nil {
		return err
	}
	t = time.Now()
	if _, err := m.Score(ctx, ds); err != nil {
		return err
	}
	sc := time.Since(t).Seconds()
	fmt.Printf("iforest score: %.2f s  %9.0f rows/s  (through the pipeline's output; peak RSS %s)\n", sc, float64(ds.N)/sc, peak())
	fmt.Printf("peak RSS / encoded matrix: %s / %.0f MB\n", peak(), float64(matrix)/1e6)
	return nil
}

// peak returns the process's resident high-water mark (Linux VmHWM).
func peak() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(l, "VmHWM:"))
		}
	}
	return "?"
}
