// Package suite is oddity's benchmark runner: it runs a list of cells
// (results.Spec), each by the executor its table registered, measures
// quality, time and memory, caches each finished cell by the hash of its
// spec so an interrupted run resumes (seed by seed for long cells), and
// records everything in one results.Results value (results.json). It knows
// nothing of any method or data set: the experiments (package
// suite/experiments) register their tables and suites with it.
package suite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/kernels"
	"github.com/oddity-ml/oddity/suite/results"
)

// Suite is a named list of cells.
type Suite struct {
	// Name is "quick", "full" or "demo".
	Name string
	// Description says what the suite shortens; the report repeats it on
	// every table of a shortened suite.
	Description string
	// Seed is the base seed the specs' seeds derive from.
	Seed uint64
	// Specs are the cells, in report order.
	Specs []results.Spec
}

// Options control a run.
type Options struct {
	// Out is the output folder: results.json, cells/<id>.json (the cache)
	// and figure files.
	Out string
	// Force recomputes cached cells.
	Force bool
	// Only, when non-empty, runs only the cells it selects (Spec.Selected:
	// a substring of the table or method, or "TABLE/METHOD[/DATA]"). The
	// other cells are neither run nor failed: those already cached in Out still enter the results (and
	// so the report), so a partial run into a folder keeps what it holds.
	Only []string
	// Log receives one line per cell (and executors' progress lines); nil
	// means os.Stderr.
	Log io.Writer
	// Command is the command line recorded in Results.
	Command string
}

// Env is what an executor gets besides its spec.
type Env struct {
	// Out is the output folder; executors write image files under
	// Out/figures and list them relative to Out in Cell.Images.
	Out string
	// Log receives progress lines.
	Log io.Writer

	mu    sync.Mutex
	cache map[string]*catalog.Splits

	// cellStart is when Run started the cell in progress; resumedWall is
	// the wall time earlier runs spent on its saved seeds (resumeSeeds
	// sets it). Cells run one at a time, so one pair serves the run.
	cellStart   time.Time
	resumedWall float64
}

// Phases reports a detector's training progress (detector.Progress) as
// log lines on env.Log, one bar a phase: detectors never print, the runner
// shows their progress.
func (env *Env) Phases(prefix string) *progress.Phases {
	if env.Log == nil {
		return nil
	}
	return progress.NewPhasesTo(env.Log, prefix, false)
}

// Provide makes the data set name resolve to s for the rest of the run:
// for callers (and tests) that hold data in memory.
func (e *Env) Provide(name string, s *catalog.Splits) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cache == nil {
		e.cache = map[string]*catalog.Splits{}
	}
	e.cache[name] = s
}

// Data loads a catalog data set once per run.
func (e *Env) Data(name string) (*catalog.Splits, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if s, ok := e.cache[name]; ok {
		return s, nil
	}
	s, err := catalog.Load(name)
	if err != nil {
		return nil, err
	}
	if e.cache == nil {
		e.cache = map[string]*catalog.Splits{}
	}
	e.cache[name] = s
	return s, nil
}

// Executor runs one cell. It fills the measures, curves and figures of the
// returned Cell; Run sets ID, Spec, WallSeconds (this run's time on the
// cell plus that of earlier runs whose seeds it resumed) and PeakRSSBytes.
type Executor func(ctx context.Context, env *Env, spec results.Spec) (*results.Cell, error)

var (
	execMu    sync.Mutex
	executors = map[string]Executor{}
)

// Register binds the executor of a table. Each table belongs to one
// experiment (package suite/experiments), which registers it in init.
func Register(table string, ex Executor) {
	execMu.Lock()
	defer execMu.Unlock()
	if _, dup := executors[table]; dup {
		panic("suite: table registered twice: " + table)
	}
	executors[table] = ex
}

// ExecutorOf returns the executor registered for table, or nil.
func ExecutorOf(table string) Executor {
	execMu.Lock()
	defer execMu.Unlock()
	return executors[table]
}

// Tables lists the registered tables, sorted.
func Tables() []string {
	execMu.Lock()
	defer execMu.Unlock()
	out := make([]string, 0, len(executors))
	for t := range executors {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// ErrUnknownTable is returned for a spec whose table has no executor.
var ErrUnknownTable = errors.New("suite: no executor for table")

// Run runs every cell of s that is not already cached in opt.Out, writing
// each finished cell to opt.Out/cells/<id>.json and the whole Results to
// opt.Out/results.json after every cell, so an interrupted run keeps what
// it finished and a re-run skips it. It returns the results together with
// the first error (a cancelled context included); after an error or an
// interrupt nothing more runs, but the results still hold every cell cached
// in opt.Out.
func Run(ctx context.Context, s Suite, opt Options) (*results.Results, error) {
	if opt.Out == "" {
		return nil, errors.New("suite: no output folder")
	}
	log := opt.Log
	if log == nil {
		log = os.Stderr
	}
	for _, sub := range []string{"cells", "figures"} {
		if err := os.MkdirAll(filepath.Join(opt.Out, sub), 0o755); err != nil {
			return nil, err
		}
	}
	res := &results.Results{Version: results.Version, Suite: s.Name, Description: s.Description, Seed: s.Seed,
		Commit: gitCommit(), Command: opt.Command, Machine: DescribeMachine(), Started: time.Now().UTC(),
		Architectures: Architectures(), Defaults: Defaults()}
	env := &Env{Out: opt.Out, Log: log}
	selected := selectSpecs(s.Specs, opt.Only)
	nsel := 0
	for _, sel := range selected {
		if sel {
			nsel++
		}
	}
	bar := progress.New("bench "+s.Name, nsel)
	defer bar.Finish()
	// cells holds, by spec, the cell the folder has or the run made;
	// results.json is written from it after every cell, so it holds every
	// finished cell of the folder at all times, not only those the run has
	// passed, and so does the report of a stopped run.
	cells := make([]*results.Cell, len(s.Specs))
	read := func(i int) { cells[i] = cachedCell(opt.Out, s.Specs[i]) }
	for i := range s.Specs {
		if !opt.Force || !selected[i] {
			read(i)
		}
	}
	write := func() error {
		res.Cells, res.Missing, res.WallSeconds = res.Cells[:0], nil, 0
		for i, c := range cells {
			if c == nil {
				res.Missing = append(res.Missing, s.Specs[i])
				continue
			}
			res.Cells = append(res.Cells, *c)
			res.WallSeconds += c.WallSeconds
		}
		res.Finished = time.Now().UTC()
		return writeJSON(filepath.Join(opt.Out, "results.json"), res)
	}
	var firstErr error
	failed := -1
	k := 0 // position among the selected cells
	for i, spec := range s.Specs {
		if !selected[i] {
			continue
		}
		k++
		id := spec.ID()
		if cells[i] != nil {
			fmt.Fprintf(log, "[%d/%d] %s %s %s %s: cached (%s)\n", k, nsel, spec.Table, spec.Method, spec.Variant, spec.Task, id)
			bar.Add(1, nil)
			continue
		}
		if err := ctx.Err(); err != nil {
			firstErr = err
			break
		}
		if err := runOne(ctx, env, opt, spec, res.Commit, k, nsel, &cells[i]); err != nil {
			firstErr, failed = err, i
			break
		}
		if err := write(); err != nil {
			firstErr = err
			break
		}
		bar.Add(1, nil)
	}
	// Cells that arrived in the folder during the run, and forced cells the
	// run did not reach, enter the results as the folder holds them; a cell
	// that failed does not.
	for i := range s.Specs {
		if cells[i] == nil && i != failed {
			read(i)
		}
	}
	if err := write(); err != nil && firstErr == nil {
		firstErr = err
	}
	return res, firstErr
}

// runOne runs the cell of spec and writes it to the folder's cache; *out
// receives it.
func runOne(ctx context.Context, env *Env, opt Options, spec results.Spec, commit string, k, nsel int, out **results.Cell) error {
	id := spec.ID()
	execMu.Lock()
	ex := executors[spec.Table]
	execMu.Unlock()
	if ex == nil {
		return fmt.Errorf("%w %q", ErrUnknownTable, spec.Table)
	}
	if opt.Force {
		if err := dropSeeds(opt.Out, id); err != nil {
			return err
		}
	}
	fmt.Fprintf(env.Log, "[%d/%d] %s %s %s %s: running\n", k, nsel, spec.Table, spec.Method, spec.Variant, spec.Task)
	t0 := time.Now()
	env.cellStart, env.resumedWall = t0, 0
	defer func() { env.cellStart = time.Time{} }()
	c, err := ex(ctx, env, spec)
	if err != nil {
		return fmt.Errorf("cell %s %s %s %s: %w", spec.Table, spec.Method, spec.Variant, spec.Task, err)
	}
	c.ID, c.Spec, c.Commit = id, spec, commit
	// A cell resumed from saved seeds also counts the runs that ran them.
	c.WallSeconds = env.resumedWall + time.Since(t0).Seconds()
	c.PeakRSSBytes = peakRSS()
	if err := writeJSON(filepath.Join(opt.Out, "cells", id+".json"), c); err != nil {
		return err
	}
	*out = c
	return dropSeeds(opt.Out, id)
}

// selectSpecs marks the specs that --only keeps (all when only is empty).
func selectSpecs(specs []results.Spec, only []string) []bool {
	sel := make([]bool, len(specs))
	for i, s := range specs {
		sel[i] = len(only) == 0 || s.Selected(only)
	}
	return sel
}

// cachedCell returns the finished cell of spec that the folder out holds,
// or nil when it holds none (or a file of another spec under its name).
func cachedCell(out string, spec results.Spec) *results.Cell {
	id := spec.ID()
	c, err := readCell(filepath.Join(out, "cells", id+".json"))
	if err != nil || c.ID != id {
		return nil
	}
	return c
}

func readCell(path string) (*results.Cell, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var c results.Cell
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// writeJSON writes v indented to path through a temporary file and a
// rename, so a crash never leaves a half-written file.
func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// DescribeMachine reads the CPU model, core count and memory of this
// computer (from /proc on Linux; fields it cannot read stay empty).
func DescribeMachine() results.Machine {
	m := results.Machine{Cores: runtime.NumCPU(), OS: runtime.GOOS + "/" + runtime.GOARCH, GoVersion: runtime.Version(), Kernels: kernels.Level()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			var kb float64
			if _, err := fmt.Sscanf(line, "MemTotal: %f kB", &kb); err == nil {
				m.MemoryGiB = float64(int(kb/(1<<20)*10+0.5)) / 10
				break
			}
		}
	}
	return m
}

// gitCommit returns the checkout's commit, "-dirty" appended when the tree
// has uncommitted changes, or "unknown".
func gitCommit() string {
	out, err := exec.Command("git", "rev-parse", "--short=12", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	c := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "status", "--porcelain", "--untracked-files=no").Output(); err == nil && len(strings.TrimSpace(string(st))) > 0 {
		c += "-dirty"
	}
	return c
}
