// Command gen writes the embedded demo data files of package demo from the
// original data sets:
//
//	go run ./data/demo/internal/gen [-data ../shared/datasets] [-out data/demo]
//
// run from the repository root. The output is deterministic (a seeded
// subsample, gzip without timestamps), so running it again changes nothing.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/oddity-ml/oddity/data/demo/internal/build"
)

func main() {
	root := flag.String("data", filepath.Join("..", "shared", "datasets"), "data-set folder holding usps/ and uci-thyroid/")
	out := flag.String("out", filepath.Join("data", "demo"), "package demo's folder")
	flag.Parse()
	files, err := build.Files(*root)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		p := filepath.Join(*out, n)
		if err := os.WriteFile(p, files[n], 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
		fmt.Printf("%s: %d bytes\n", p, len(files[n]))
	}
}
