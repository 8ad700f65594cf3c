package experiments

import (
	"github.com/oddity-ml/oddity/suite/results"

	"context"
	"github.com/oddity-ml/oddity/suite"
	"testing"
)

// The demo suite must run on a fresh clone: every table has an executor,
// every cell is distinct, and its data come from the binary. One cheap cell
// runs end to end against a quality floor (Isolation Forest finds the held-
// out digit better than chance on the embedded digits: 0.67 measured).
func TestDemoSuite(t *testing.T) {
	s := Demo(0)
	if len(s.Specs) < 6 {
		t.Fatalf("demo has %d cells", len(s.Specs))
	}
	seen := map[string]bool{}
	methods := map[string]bool{}
	for _, sp := range s.Specs {
		if seen[sp.ID()] {
			t.Errorf("duplicate cell %+v", sp)
		}
		seen[sp.ID()] = true
		methods[sp.Method] = true
		if suite.ExecutorOf(sp.Table) == nil {
			t.Errorf("table %s has no executor", sp.Table)
		}
	}
	for _, m := range []string{"ganomaly", "dplan", "deepcluster", "deepcluster-clustering", "iforest"} {
		if !methods[m] {
			t.Errorf("demo lacks %s", m)
		}
	}
	t.Setenv("ODDITY_DATASETS", t.TempDir()) // nothing on disk: embedded data only
	var spec results.Spec
	for _, sp := range s.Specs {
		if sp.Table == tableDemoImages && sp.Method == "iforest" {
			spec = sp
		}
	}
	res, err := suite.Run(context.Background(), suite.Suite{Name: "demo", Specs: []results.Spec{spec}}, suite.Options{Out: t.TempDir(), Log: testLog{t}})
	if err != nil {
		t.Fatal(err)
	}
	c := res.Cells[0]
	if roc := c.Metrics["auc_roc"].Mean; roc < 0.6 || roc > 1 {
		t.Errorf("iforest on the embedded digits: AUC-ROC %.3f, want at least 0.6", roc)
	}
	if c.Train < 2000 || c.Test != 1000 {
		t.Errorf("split sizes %d train, %d test; want the embedded 3,000 (less digit 3) and 1,000", c.Train, c.Test)
	}
}

// testLog sends a run's log lines to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) { l.t.Log(string(b)); return len(b), nil }
