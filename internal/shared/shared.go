// Package shared locates the data sets that live beside the repository in
// ../shared/datasets, for tests and benchmarks only: it finds the source
// tree through runtime.Caller, which means nothing in an installed binary.
// Commands resolve data sets through package data/catalog.
//
// A user's fresh clone has no ../shared: tests that need it skip with a
// message. CI sets ODDITY_REQUIRE_SHARED=1, which turns those skips into
// failures so the real data is always exercised there.
package shared

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// EnvRequire is the environment variable that makes a missing shared data set
// a test failure instead of a skip.
const EnvRequire = "ODDITY_REQUIRE_SHARED"

// Root returns the path of the shared datasets folder (ODDITY_DATASETS if set,
// else ../shared/datasets relative to the repository root), and whether it
// exists.
func Root() (string, bool) {
	if d := os.Getenv("ODDITY_DATASETS"); d != "" {
		_, err := os.Stat(d)
		return d, err == nil
	}
	_, file, _, _ := runtime.Caller(0)
	// file is <repo>/internal/shared/shared.go
	repo := filepath.Dir(filepath.Dir(filepath.Dir(file)))
	d := filepath.Join(repo, "..", "shared", "datasets")
	_, err := os.Stat(d)
	return filepath.Clean(d), err == nil
}

// Path returns the path of rel inside the shared datasets folder. If the file
// is missing the test is skipped, or failed when ODDITY_REQUIRE_SHARED=1.
func Path(tb testing.TB, rel string) string {
	tb.Helper()
	root, _ := Root()
	p := filepath.Join(root, rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv(EnvRequire) == "1" {
			tb.Fatalf("shared data %s is required (%s=1) but missing: %v", p, EnvRequire, err)
		}
		tb.Skipf("shared data %s not found (a fresh clone has no ../shared); skipping", p)
	}
	return p
}
