package suite

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/suite/results"
)

// A run restricted with Only computes just the cells it selects, yet its
// results (and so the report) keep every cell already cached in the
// folder, in the suite's order; Force recomputes only the selected cells.
func TestOnlyKeepsOtherCachedCells(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	onlyTableOnce.Do(func() {
		Register("test-only", func(_ context.Context, _ *Env, spec results.Spec) (*results.Cell, error) {
			mu.Lock()
			defer mu.Unlock()
			calls[spec.Method]++
			return &results.Cell{}, nil
		})
	})
	s := Suite{Name: "t", Specs: []results.Spec{
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
	res, err := results.Read(dir + "/results.json")
	if err != nil || len(res.Cells) != 2 {
		t.Fatalf("results.json: %v cells, err %v; want 2", len(res.Cells), err)
	}
}

// onlyTableOnce registers the test table once however often the test runs.
var onlyTableOnce sync.Once

// A run that stops at a failing cell runs nothing after it, yet its
// results still hold the cells cached after it, and cells it was forced
// to recompute but did not reach keep their cached version.
func TestStoppedRunKeepsLaterCachedCells(t *testing.T) {
	var mu sync.Mutex
	fail := false
	calls := 0
	stopTableOnce.Do(func() {
		Register("test-stop", func(_ context.Context, _ *Env, spec results.Spec) (*results.Cell, error) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if fail && spec.Method == "beta" {
				return nil, errors.New("boom")
			}
			return &results.Cell{}, nil
		})
	})
	s := Suite{Name: "t", Specs: []results.Spec{
		{Table: "test-stop", Method: "alpha", Data: "d", Task: "x"},
		{Table: "test-stop", Method: "beta", Data: "d", Task: "x"},
		{Table: "test-stop", Method: "gamma", Data: "d", Task: "x"},
	}}
	dir := t.TempDir()
	if _, err := Run(context.Background(), s, Options{Out: dir, Log: testLog{t}}); err != nil {
		t.Fatal(err)
	}
	fail, calls = true, 0
	res, err := Run(context.Background(), s, Options{Out: dir, Force: true, Log: testLog{t}})
	if err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("error %v, want the failing cell's", err)
	}
	if calls != 2 {
		t.Errorf("%d cells ran, want 2 (alpha, then beta failed and gamma did not run)", calls)
	}
	var got []string
	for _, c := range res.Cells {
		got = append(got, c.Spec.Method)
	}
	if !reflect.DeepEqual(got, []string{"alpha", "gamma"}) {
		t.Errorf("results of the stopped run: %v, want [alpha gamma]", got)
	}
	if len(res.Missing) != 1 || res.Missing[0].Method != "beta" {
		t.Errorf("missing cells %v, want [beta]", res.Missing)
	}
	onDisk, err := results.Read(filepath.Join(dir, "results.json"))
	if err != nil || len(onDisk.Cells) != 2 {
		t.Errorf("results.json: %v, %v; want 2 cells", onDisk, err)
	}
}

// stopTableOnce registers TestStoppedRunKeepsLaterCachedCells's table once.
var stopTableOnce sync.Once

// While a run is under way, results.json already holds the cells cached
// after the running one, not only those the run has passed.
func TestResultsMidRunHoldLaterCachedCells(t *testing.T) {
	dir := t.TempDir()
	var seen []string
	midTableOnce.Do(func() {
		Register("test-mid", func(_ context.Context, env *Env, spec results.Spec) (*results.Cell, error) {
			if spec.Method == "beta" {
				res, err := results.Read(filepath.Join(env.Out, "results.json"))
				if err != nil {
					return nil, err
				}
				for _, c := range res.Cells {
					seen = append(seen, c.Spec.Method)
				}
			}
			return &results.Cell{}, nil
		})
	})
	specs := []results.Spec{
		{Table: "test-mid", Method: "alpha", Data: "d", Task: "x"},
		{Table: "test-mid", Method: "beta", Data: "d", Task: "x"},
		{Table: "test-mid", Method: "gamma", Data: "d", Task: "x"},
	}
	if _, err := Run(context.Background(), Suite{Name: "t", Specs: specs}, Options{Out: dir, Only: []string{"gamma"}, Log: testLog{t}}); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(context.Background(), Suite{Name: "t", Specs: specs}, Options{Out: dir, Log: testLog{t}}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(seen, []string{"alpha", "gamma"}) {
		t.Errorf("results.json while beta ran: %v, want [alpha gamma]", seen)
	}
}

// midTableOnce registers TestResultsMidRunHoldLaterCachedCells's table once.
var midTableOnce sync.Once

// "TABLE/METHOD" needs both halves to match; a plain pattern either.
func TestSelectedTableSlashMethod(t *testing.T) {
	own := results.Spec{Table: "ganomaly-mnist", Method: "ganomaly"}
	common := results.Spec{Table: "common-mnist", Method: "ganomaly"}
	cae := results.Spec{Table: "common-mnist", Method: "cae"}
	for _, c := range []struct {
		only []string
		spec results.Spec
		want bool
	}{
		{[]string{"common-mnist/ganomaly"}, common, true},
		{[]string{"common-mnist/ganomaly"}, own, false},
		{[]string{"common-mnist/ganomaly"}, cae, false},
		{[]string{"common-mnist/ganomaly", "cae"}, cae, true},
		{[]string{"ganomaly"}, own, true},
		{[]string{"ganomaly"}, cae, false},
		{[]string{"mnist/"}, cae, true},
		{[]string{"cifar/"}, cae, false},
		{[]string{"deepcluster-clustering//usps"}, results.Spec{Table: "deepcluster-clustering", Method: "deepcluster-clustering", Data: "usps"}, true},
		{[]string{"deepcluster-clustering//usps"}, results.Spec{Table: "deepcluster-clustering", Method: "deepcluster-clustering", Data: "mnist"}, false},
		{[]string{"//coil"}, results.Spec{Table: "t", Method: "m", Data: "coil20"}, true},
	} {
		if got := c.spec.Selected(c.only); got != c.want {
			t.Errorf("%v selects %s/%s: %v, want %v", c.only, c.spec.Table, c.spec.Method, got, c.want)
		}
	}
}

// cancelOn cancels a context when a log line contains a substring.
type cancelOn struct {
	sub    string
	cancel context.CancelFunc
	log    strings.Builder
}

func (c *cancelOn) Write(p []byte) (int, error) {
	c.log.Write(p)
	if strings.Contains(string(p), c.sub) {
		c.cancel()
	}
	return len(p), nil
}

// A cell stopped between seeds resumes at the next seed: the finished
// seed is not run again, the numbers equal an uninterrupted run's, and the
// progress file is gone once the cell is written.
func TestCellResumesAtNextSeed(t *testing.T) {
	spec := results.Spec{Table: tableTestSeeds, Method: "test", Data: "none", Task: "t", Seeds: []uint64{5, 6}}
	s := Suite{Name: "t", Specs: []results.Spec{spec}}

	whole, err := Run(context.Background(), s, Options{Out: t.TempDir(), Log: io.Discard})
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := &cancelOn{sub: "test seed 5:", cancel: cancel}
	if _, err := Run(ctx, s, Options{Out: dir, Log: stop}); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted run: %v, want context.Canceled", err)
	}
	if _, err := os.Stat(seedsPath(dir, spec.ID())); err != nil {
		t.Fatalf("no progress file after the first seed: %v", err)
	}
	// The progress file records the wall time spent on the finished seed,
	// at least its training time; the resumed cell adds it to its own.
	// Pretend the first run was slow, so that the sum cannot pass by luck.
	p, err := loadSeeds(dir, spec.ID(), len(spec.Seeds))
	if err != nil {
		t.Fatal(err)
	}
	if p.WallSeconds <= 0 || p.WallSeconds < p.FitSeconds[0] {
		t.Errorf("progress records %v s of wall time for a seed that trained %v s", p.WallSeconds, p.FitSeconds[0])
	}
	const slow = 1000.0
	p.WallSeconds += slow
	if err := writeJSON(seedsPath(dir, spec.ID()), p); err != nil {
		t.Fatal(err)
	}
	again := &cancelOn{sub: "\x00", cancel: func() {}}
	res, err := Run(context.Background(), s, Options{Out: dir, Log: again})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(again.log.String(), "resuming after 1 of 2 seeds") || strings.Contains(again.log.String(), "test seed 5:") {
		t.Errorf("resumed run did not skip seed 5:\n%s", again.log.String())
	}
	if len(res.Cells) != 1 || !reflect.DeepEqual(res.Cells[0].PerSeed, whole.Cells[0].PerSeed) || !reflect.DeepEqual(res.Cells[0].ROC, whole.Cells[0].ROC) {
		t.Errorf("resumed cell %v differs from the uninterrupted %v", res.Cells[0].PerSeed, whole.Cells[0].PerSeed)
	}
	if _, err := os.Stat(seedsPath(dir, spec.ID())); !os.IsNotExist(err) {
		t.Errorf("progress file left after the cell was written: %v", err)
	}
	if w := res.Cells[0].WallSeconds; w <= p.WallSeconds {
		t.Errorf("resumed cell's wall time %v s, want the first run's %v s plus this run's", w, p.WallSeconds)
	}

	// A damaged progress file costs its seeds, not the run.
	dir2 := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir2, "cells"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(seedsPath(dir2, spec.ID()), []byte(`{"id": "`+spec.ID()+`", "done": 1`), 0o644); err != nil {
		t.Fatal(err)
	}
	log := &cancelOn{sub: "\x00", cancel: func() {}}
	res, err = Run(context.Background(), s, Options{Out: dir2, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(log.log.String(), "ignoring saved seeds") || !reflect.DeepEqual(res.Cells[0].PerSeed, whole.Cells[0].PerSeed) {
		t.Errorf("damaged progress file: log\n%s\ncell %v", log.log.String(), res.Cells[0].PerSeed)
	}
}

// testLog sends a run's log lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// tableTestSeeds is a table whose executor works as the long image cells
// do: seed by seed, saving its progress after each, resuming from it. Its
// measures are a function of the seed, so a resumed cell must equal an
// uninterrupted one.
const tableTestSeeds = "test-seeds"

func init() { Register(tableTestSeeds, runTestSeeds) }

func runTestSeeds(ctx context.Context, env *Env, spec results.Spec) (*results.Cell, error) {
	prog := env.ResumeSeeds(spec)
	cell := &prog.Cell
	for si := prog.Done; si < len(spec.Seeds); si++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		seed := spec.Seeds[si]
		t0 := time.Now()
		time.Sleep(20 * time.Millisecond) // "training"
		prog.FitSeconds = append(prog.FitSeconds, time.Since(t0).Seconds())
		prog.Rates = append(prog.Rates, 1)
		auc := 0.5 + float64(seed)/100
		cell.PerSeed = append(cell.PerSeed, map[string]float64{"auc_roc": auc})
		if si == 0 {
			cell.ROC = &results.XY{X: []float64{0, 1}, Y: []float64{0, auc}}
		}
		fmt.Fprintf(env.Log, "  test seed %d: AUC-ROC %.4f\n", seed, auc)
		prog.Done = si + 1
		if err := env.SaveSeeds(prog); err != nil {
			return nil, err
		}
	}
	var err error
	if cell.Metrics, err = Summarize(cell.PerSeed); err != nil {
		return nil, err
	}
	return cell, nil
}
