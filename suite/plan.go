package suite

import "github.com/oddity-ml/oddity/suite/results"

// CellState is where an output folder stands on one cell of a suite: what a
// run into it would reuse and what it would compute.
type CellState struct {
	// Spec is the cell's spec and ID its cache key.
	Spec results.Spec
	ID   string
	// Cached is true when the folder holds the finished cell.
	Cached bool
	// SeedsDone counts the seeds of an unfinished cell that a stopped run
	// kept in cells/<id>.seeds.json.
	SeedsDone int
	// EstimateSeconds is the wall time the cell still needs: the seeds
	// left times the mean time a seed took in the cells of the same table,
	// method, variant and data set (the wall time of cached cells, the
	// training time of the seeds kept of unfinished ones); 0 when cached,
	// and -1 when no such seed has run to judge from.
	EstimateSeconds float64
}

// Plan returns, in run order, the state of each cell of s that the --only
// patterns select (every cell when only is empty) in the output folder out,
// without running anything: it answers "what is left of this suite, and
// for how long?" between the sessions of a suite that takes hours.
//
// An estimate assumes the machine runs one cell at a time at the speed it
// ran the seeds it judges from; a cell whose kind has run no seed gets none.
func Plan(s Suite, out string, only []string) []CellState {
	type kind struct{ table, method, variant, data string }
	kindOf := func(s results.Spec) kind { return kind{s.Table, s.Method, s.Variant, s.Data} }
	perSeed := map[kind][2]float64{} // sum of seconds, number of seeds
	add := func(s results.Spec, sec float64, n int) {
		acc := perSeed[kindOf(s)]
		perSeed[kindOf(s)] = [2]float64{acc[0] + sec, acc[1] + float64(n)}
	}
	states := make([]CellState, 0, len(s.Specs))
	sel := selectSpecs(s.Specs, only)
	for i, spec := range s.Specs {
		id := spec.ID()
		st := CellState{Spec: spec, ID: id}
		if c := cachedCell(out, spec); c != nil {
			st.Cached = true
			add(spec, c.WallSeconds, runs(spec))
		} else if p, err := loadSeeds(out, id, len(spec.Seeds)); err == nil {
			st.SeedsDone = p.Done
			var fit float64
			for _, f := range p.FitSeconds {
				fit += f
			}
			add(spec, fit, p.Done)
		}
		if sel[i] {
			states = append(states, st)
		}
	}
	for i := range states {
		st := &states[i]
		if st.Cached {
			continue
		}
		acc := perSeed[kindOf(st.Spec)]
		if acc[1] == 0 {
			st.EstimateSeconds = -1
			continue
		}
		st.EstimateSeconds = acc[0] / acc[1] * float64(runs(st.Spec)-st.SeedsDone)
	}
	return states
}

// runs is the number of seeds a cell runs (a cell without seeds runs once).
func runs(s results.Spec) int {
	return max(1, len(s.Seeds))
}
