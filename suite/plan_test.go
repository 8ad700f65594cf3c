package suite

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/oddity-ml/oddity/suite/results"
)

// Plan reads the cache and the seed progress files of a folder: cached
// cells, seeds kept by a stopped run, and the time left judged from the
// seeds run of the same kind: here a cached cell of 2 seeds in 10 s and a
// kept seed that trained in 8 s, 6 s a seed.
func TestPlan(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "cells"), 0o755); err != nil {
		t.Fatal(err)
	}
	done := results.Spec{Table: "t", Method: "m", Task: "a", Seeds: []uint64{1, 2}}
	half := results.Spec{Table: "t", Method: "m", Task: "b", Seeds: []uint64{1, 2}}
	fresh := results.Spec{Table: "t", Method: "m", Task: "c", Seeds: []uint64{1, 2, 3}}
	other := results.Spec{Table: "t", Method: "n", Task: "a", Seeds: []uint64{1}}
	broken := results.Spec{Table: "t", Method: "m", Task: "d", Seeds: []uint64{1, 2}}
	elsewhere := results.Spec{Table: "t", Method: "m", Data: "other", Task: "a", Seeds: []uint64{1}}
	s := Suite{Specs: []results.Spec{done, half, fresh, other, broken, elsewhere}}

	if err := writeJSON(filepath.Join(dir, "cells", done.ID()+".json"), results.Cell{ID: done.ID(), Spec: done, WallSeconds: 10}); err != nil {
		t.Fatal(err)
	}
	p := SeedProgress{ID: half.ID(), Done: 1, Cell: results.Cell{PerSeed: make([]map[string]float64, 1)}, FitSeconds: []float64{8}, Rates: []float64{1}}
	if err := writeJSON(seedsPath(dir, half.ID()), p); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seedsPath(dir, broken.ID()), []byte(`{"id":`), 0o644); err != nil {
		t.Fatal(err)
	}

	got := Plan(s, dir, nil)
	want := []struct {
		cached   bool
		seeds    int
		estimate float64
	}{{true, 0, 0}, {false, 1, 6}, {false, 0, 18}, {false, 0, -1}, {false, 0, 12}, {false, 0, -1}}
	if len(got) != len(want) {
		t.Fatalf("%d states, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.ID != s.Specs[i].ID() || g.Cached != w.cached || g.SeedsDone != w.seeds || g.EstimateSeconds != w.estimate {
			t.Errorf("cell %s/%s: cached %v, seeds kept %d, estimate %g s; want %v, %d, %g",
				g.Spec.Method, g.Spec.Task, g.Cached, g.SeedsDone, g.EstimateSeconds, w.cached, w.seeds, w.estimate)
		}
	}

	// --only narrows the list but not the cells estimates are judged from.
	got = Plan(s, dir, []string{"t/m"})
	if len(got) != 5 || got[1].EstimateSeconds != 6 {
		t.Errorf("with --only t/m: %d states (want 5), second estimate %g (want 6)", len(got), got[1].EstimateSeconds)
	}
}
