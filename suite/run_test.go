package suite

import (
	"context"
	"sync"
	"testing"
)

// A run restricted with Only computes just the cells it selects, yet its
// results (and so the report) keep every cell already cached in the
// folder, in the suite's order; Force recomputes only the selected cells.
func TestOnlyKeepsOtherCachedCells(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	onlyTableOnce.Do(func() {
		register("test-only", func(_ context.Context, _ *Env, spec Spec) (*Cell, error) {
			mu.Lock()
			defer mu.Unlock()
			calls[spec.Method]++
			return &Cell{}, nil
		})
	})
	s := Suite{Name: "t", Specs: []Spec{
		{Table: "test-only", Method: "alpha", Data: "d", Task: "x"},
		{Table: "test-only", Method: "beta", Data: "d", Task: "x"},
	}}
	dir := t.TempDir()
	run := func(force bool, only ...string) []string {
		t.Helper()
		res, err := Run(context.Background(), s, Options{Out: dir, Only: only, Force: force, Log: testLog{t}})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, c := range res.Cells {
			got = append(got, c.Spec.Method)
		}
		return got
	}
	if got := run(false, "alpha"); len(got) != 1 || got[0] != "alpha" {
		t.Fatalf("first run: cells %v, want [alpha]", got)
	}
	if got := run(false, "beta"); len(got) != 2 || got[0] != "alpha" || got[1] != "beta" {
		t.Fatalf("second run: cells %v, want [alpha beta]", got)
	}
	if calls["alpha"] != 1 || calls["beta"] != 1 {
		t.Fatalf("executor calls %v, want one each", calls)
	}
	if got := run(true, "alpha"); len(got) != 2 {
		t.Fatalf("forced run: cells %v, want both", got)
	}
	if calls["alpha"] != 2 || calls["beta"] != 1 {
		t.Fatalf("after --force --only alpha: calls %v, want alpha 2, beta 1", calls)
	}
	res, err := ReadResults(dir + "/results.json")
	if err != nil || len(res.Cells) != 2 {
		t.Fatalf("results.json: %v cells, err %v; want 2", len(res.Cells), err)
	}
}

// onlyTableOnce registers the test table once however often the test runs.
var onlyTableOnce sync.Once
