package experiments

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/oddity-ml/oddity/suite/results"
)

// TestCommittedCellIDs checks that the quick and full suites still name
// every cell of the committed results with the same spec, and so the same
// cache key: a change of a parameter's name or printed value would
// otherwise silently invalidate hours of cached runs.
func TestCommittedCellIDs(t *testing.T) {
	for _, name := range []string{"quick", "full"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join("..", "..", "docs", "results", name, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			var res results.Results
			if err := json.Unmarshal(b, &res); err != nil {
				t.Fatal(err)
			}
			s, err := Named(name, res.Seed)
			if err != nil {
				t.Fatal(err)
			}
			built := map[string]results.Spec{}
			for _, sp := range s.Specs {
				built[sp.ID()] = sp
			}
			committed := map[string]results.Spec{}
			for _, c := range res.Cells {
				if c.Spec.ID() != c.ID {
					t.Errorf("committed cell %s: its spec hashes to %s", c.ID, c.Spec.ID())
				}
				committed[c.ID] = c.Spec
			}
			for _, sp := range res.Missing {
				committed[sp.ID()] = sp
			}
			for id, sp := range committed {
				got, ok := built[id]
				if !ok {
					t.Errorf("committed cell %s (%s %s %s %s) is not built by the suite", id, sp.Table, sp.Method, sp.Variant, sp.Task)
					continue
				}
				if !reflect.DeepEqual(got, sp) {
					t.Errorf("cell %s: built spec %+v, committed %+v", id, got, sp)
				}
			}
			for id, sp := range built {
				if _, ok := committed[id]; !ok {
					t.Errorf("suite builds cell %s (%s %s %s %s, params %v), not in the committed results", id, sp.Table, sp.Method, sp.Variant, sp.Task, sp.Params)
				}
			}
			if len(committed) != len(s.Specs) {
				t.Errorf("%d committed cells, %d built", len(committed), len(s.Specs))
			}
		})
	}
}
