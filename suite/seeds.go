package suite

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/oddity-ml/oddity/suite/results"
)

// seedProgress is what a cell's seed loop has finished so far. Executors of
// long cells save it after every seed (Env.saveSeeds) and start from it
// (Env.resumeSeeds), so a run stopped by Ctrl-C, or by the end of a working
// session, loses at most the seed in progress: a deep clustering cell on
// all of MNIST takes most of an hour a seed, and the cell cache alone
// would throw all three away.
//
// The cell's pictures are made from the first seed and are files under
// figures/ by then, so Cell holds everything the loop has built.
type SeedProgress struct {
	// ID is the cell's ID, which hashes its whole spec, seeds included; a
	// file whose ID differs is ignored.
	ID string `json:"id"`
	// Done counts the finished seeds: the spec's Seeds[:Done].
	Done int `json:"done"`
	// Cell is the cell as built so far (PerSeed has Done entries).
	Cell results.Cell `json:"cell"`
	// FitSeconds and Rates are the finished seeds' training times and
	// scoring rates.
	FitSeconds []float64 `json:"fit_seconds"`
	Rates      []float64 `json:"rates"`
	// Notes are the finished seeds' notes.
	Notes []string `json:"notes,omitempty"`
	// WallSeconds is the wall time the runs that finished those seeds spent
	// on this cell, up to each run's last saved seed. Run adds it to the
	// resumed run's own time, so that a cell finished over several runs
	// reports what all of them cost, not only the last one.
	WallSeconds float64 `json:"wall_seconds,omitempty"`
}

// seedsPath is where the seed progress of a cell is kept: beside the cell
// file, under a name Run never reads as a cell.
func seedsPath(out, id string) string {
	return filepath.Join(out, "cells", id+".seeds.json")
}

// resumeSeeds returns the saved progress of spec's cell, or a fresh one
// when there is none, it belongs to another cell or it cannot be read (a
// damaged file costs its seeds, not the run; the log says so). Without an
// output folder (executors called directly) it always starts afresh.
func (e *Env) ResumeSeeds(spec results.Spec) *SeedProgress {
	fresh := &SeedProgress{ID: spec.ID()}
	if e.Out == "" {
		return fresh
	}
	path := seedsPath(e.Out, fresh.ID)
	p, err := loadSeeds(e.Out, fresh.ID, len(spec.Seeds))
	if errors.Is(err, fs.ErrNotExist) {
		return fresh
	}
	if err != nil {
		fmt.Fprintf(e.Log, "  ignoring saved seeds %s: %v\n", path, err)
		return fresh
	}
	if p.Done > 0 {
		fmt.Fprintf(e.Log, "  resuming after %d of %d seeds (%s)\n", p.Done, len(spec.Seeds), path)
	}
	e.resumedWall = p.WallSeconds
	return p
}

// loadSeeds reads the seed progress of cell id (with nSeeds seeds) from
// the folder out; an error wrapping fs.ErrNotExist means there is none.
func loadSeeds(out, id string, nSeeds int) (*SeedProgress, error) {
	b, err := os.ReadFile(seedsPath(out, id))
	if err != nil {
		return nil, err
	}
	var p SeedProgress
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if err := p.check(id, nSeeds); err != nil {
		return nil, err
	}
	return &p, nil
}

// check reports whether p is a usable progress record for cell id with
// nSeeds seeds.
func (p *SeedProgress) check(id string, nSeeds int) error {
	if p.ID != id {
		return fmt.Errorf("cell %q, want %q", p.ID, id)
	}
	if p.WallSeconds < 0 || math.IsNaN(p.WallSeconds) || math.IsInf(p.WallSeconds, 0) {
		return fmt.Errorf("wall time %v s", p.WallSeconds)
	}
	if p.Done < 0 || p.Done > nSeeds || len(p.Cell.PerSeed) != p.Done || len(p.FitSeconds) != p.Done || len(p.Rates) != p.Done {
		return fmt.Errorf("inconsistent record: %d of %d seeds done, %d measures, %d times, %d rates",
			p.Done, nSeeds, len(p.Cell.PerSeed), len(p.FitSeconds), len(p.Rates))
	}
	return nil
}

// saveSeeds records p after a finished seed (nothing without an output
// folder).
func (e *Env) SaveSeeds(p *SeedProgress) error {
	if e.Out == "" {
		return nil
	}
	if !e.cellStart.IsZero() {
		p.WallSeconds = e.resumedWall + time.Since(e.cellStart).Seconds()
	}
	path := seedsPath(e.Out, p.ID)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeJSON(path, p)
}

// dropSeeds removes the seed progress of a cell: once the cell is written,
// or before a forced recomputation.
func dropSeeds(out, id string) error {
	err := os.Remove(seedsPath(out, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
