package experiments

import (
	"github.com/oddity-ml/oddity/suite/results"

	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/internal/shared"
	"github.com/oddity-ml/oddity/suite"
)

// synthEnv returns an Env whose data set "synthetic" is n normal rows
// around 0 and a anomalous rows shifted by 3 in every one of d features:
// separable, so any working detector ranks nearly all anomalies first.
func synthEnv(n, a, d int, seed uint64) *suite.Env {
	r := rand.New(rand.NewPCG(seed, 1))
	ds := &data.Dataset{Name: "synthetic", N: n + a, Shape: []int{d}, Y: make([]int, n+a)}
	for i := 0; i < n+a; i++ {
		shift := 0.0
		if i >= n {
			shift, ds.Y[i] = 3, 1
		}
		for j := 0; j < d; j++ {
			ds.X = append(ds.X, float32(r.NormFloat64()+shift))
		}
	}
	env := &suite.Env{Log: io.Discard}
	env.Provide("synthetic", &catalog.Splits{Train: ds})
	return env
}

// shortDPLAN is a DPLAN schedule of a few thousand steps for tests.
var shortDPLAN = []string{"episodes", "2", "steps", "1000", "warmup", "500", "eps-steps", "1000", "target-update", "500"}

func synthSpec(t *testing.T, method string, seeds []uint64, kv ...string) results.Spec {
	t.Helper()
	p := map[string]string{"protocol": "adbench", "labeled-ratio": "0.1"}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	st, err := parseTabular(method, p)
	if err != nil {
		t.Fatal(err)
	}
	return results.Spec{Section: results.SectionCommon, Table: tableCommonTabular, Method: method, Data: "synthetic", Task: "labeled=10%", Params: st.all(), Seeds: seeds}
}

func TestTabularCellQuality(t *testing.T) {
	const n, a = 600, 30
	env := synthEnv(n, a, 6, 7)
	for _, tc := range []struct {
		method string
		kv     []string
	}{
		{"iforest", nil},
		{"devnet", []string{"epochs", "10"}},
		{"dplan", shortDPLAN},
	} {
		t.Run(tc.method, func(t *testing.T) {
			spec := synthSpec(t, tc.method, []uint64{3, 4}, tc.kv...)
			c, err := runTabular(context.Background(), env, spec)
			if err != nil {
				t.Fatal(err)
			}
			if len(c.PerSeed) != 2 || c.Metrics["auc_roc"].N != 2 {
				t.Fatalf("want 2 seeds measured, got %d per-seed rows, summary %+v", len(c.PerSeed), c.Metrics["auc_roc"])
			}
			for i, m := range c.PerSeed {
				roc, pr := m["auc_roc"], m["auc_pr"]
				if !(roc >= 0.95 && roc <= 1) || !(pr >= 0.8 && pr <= 1) {
					t.Errorf("seed %d: AUC-ROC %v, AUC-PR %v; want ≥ 0.95 and ≥ 0.8 (and ≤ 1) on separable data", i, roc, pr)
				}
			}
			// Stratified 70/30: 180 normal and 9 anomalous test rows.
			if c.Test != 189 || c.Train != n+a-189 {
				t.Errorf("train %d, test %d; want %d and 189", c.Train, c.Test, n+a-189)
			}
			if c.ROC == nil || c.PR == nil || c.Scores == nil || len(c.Scores.Anomaly) != 9 || len(c.Scores.Normal) != 180 {
				t.Errorf("first seed's curves or scores missing: %+v", c.Scores)
			}
			if c.FitSeconds <= 0 || c.ScoreRate <= 0 {
				t.Errorf("fit %v s, score rate %v", c.FitSeconds, c.ScoreRate)
			}
		})
	}
}

func TestTabularSameSeedSameNumbers(t *testing.T) {
	env := synthEnv(300, 20, 5, 9)
	for _, m := range []struct {
		method string
		kv     []string
	}{{"dplan", shortDPLAN}, {"devnet", []string{"epochs", "5"}}, {"autoencoder", []string{"epochs", "3"}}} {
		spec := synthSpec(t, m.method, []uint64{11}, m.kv...)
		c1, err := runTabular(context.Background(), env, spec)
		if err != nil {
			t.Fatal(err)
		}
		c2, err := runTabular(context.Background(), env, spec)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c1.Metrics, c2.Metrics) || !reflect.DeepEqual(c1.Scores, c2.Scores) {
			t.Errorf("%s: two runs of one spec differ: %v vs %v", m.method, c1.Metrics, c2.Metrics)
		}
		other := spec
		other.Seeds = []uint64{12}
		c3, err := runTabular(context.Background(), env, other)
		if err != nil {
			t.Fatal(err)
		}
		if reflect.DeepEqual(c1.Scores, c3.Scores) {
			t.Errorf("%s: seeds 11 and 12 gave identical scores; is the seed used?", m.method)
		}
	}
}

func TestTabularSpecs(t *testing.T) {
	for _, quick := range []bool{true, false} {
		specs := tabularSpecs(5, quick)
		ids := map[string]results.Spec{}
		tables := map[string]int{}
		for _, s := range specs {
			if prev, dup := ids[s.ID()]; dup {
				t.Fatalf("quick=%v: specs share ID %s:\n%+v\n%+v", quick, s.ID(), prev, s)
			}
			ids[s.ID()] = s
			tables[s.Table]++
			if suite.ExecutorOf(s.Table) == nil {
				t.Errorf("table %q has no executor", s.Table)
			}
			if s.Seeds[0] != 5 {
				t.Errorf("%+v: seeds %v do not start at the suite seed 5", s, s.Seeds)
			}
			if quick && len(s.Seeds) != 1 {
				t.Errorf("quick spec with %d seeds", len(s.Seeds))
			}
			if _, na := tabNotApplicable[s.Method]; na {
				continue
			}
			// Every setting is recorded: the parsed spec re-resolves to itself.
			st, err := parseTabular(s.Method, s.Params)
			if err != nil {
				t.Fatalf("%+v: %v", s, err)
			}
			if !reflect.DeepEqual(st.all(), s.Params) {
				t.Errorf("%s %s: params not fully resolved: %v", s.Table, s.Method, s.Params)
			}
		}
		for _, tb := range []string{tableDPLANThyroid, tableDPLANADBench, tableCommonTabular, tableRobustLabels} {
			if tables[tb] == 0 {
				t.Errorf("quick=%v: no cell in table %s", quick, tb)
			}
		}
	}
	if a, b := tabularSpecs(0, true), tabularSpecs(1, true); a[0].ID() == b[0].ID() {
		t.Error("the suite seed does not enter the spec's hash")
	}
	full := tabularSpecs(0, false)
	var adFiles = map[string]bool{}
	for _, s := range full {
		if s.Table == tableDPLANADBench {
			adFiles[s.Data] = true
		}
	}
	if len(adFiles) != 21 {
		t.Errorf("full suite covers %d ADBench files, want 21", len(adFiles))
	}
}

func TestTabularSettingsErrors(t *testing.T) {
	for _, tc := range []struct {
		method string
		params map[string]string
		want   string
	}{
		{"dplan", map[string]string{"protocol": "adbench", "episodse": "3"}, `"episodse"`},
		{"dplan", map[string]string{"protocol": "adbench", "episodes": "three"}, "episodes"},
		{"dplan", map[string]string{"protocol": "adbench", "episodes": "0"}, "episodes"},
		{"dplan", map[string]string{"protocol": "kdd"}, `"kdd"`},
		{"dplan", map[string]string{}, "protocol"},
		{"devnet", map[string]string{"protocol": "adbench", "known-class": "1"}, `"known-class"`},
		{"deepsad", map[string]string{"protocol": "adbench", "hidden": "32,x"}, "hidden"},
		{"ganomaly", map[string]string{"protocol": "adbench"}, `"ganomaly"`},
	} {
		_, err := parseTabular(tc.method, tc.params)
		if !errors.Is(err, ErrTabular) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %v: error %v, want ErrTabular naming %s", tc.method, tc.params, err, tc.want)
		}
	}
}

func TestTabularNotApplicable(t *testing.T) {
	c, err := runTabular(context.Background(), &suite.Env{}, results.Spec{Table: tableCommonTabular, Method: "ganomaly", Data: "adbench/14_glass", Seeds: []uint64{0}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.Note, "not applicable") || c.Metrics != nil {
		t.Errorf("ganomaly on tabular data: note %q, metrics %v", c.Note, c.Metrics)
	}
}

// dense counts a stack of dense layers of the given widths by hand.
func dense(widths []int, bias bool) (params, flops int64) {
	for i := 1; i < len(widths); i++ {
		in, out := int64(widths[i-1]), int64(widths[i])
		params += in * out
		if bias {
			params += out
		}
		flops += 2 * in * out
	}
	return params, flops
}

func TestTabularArchitectures(t *testing.T) {
	want := map[string][]int{
		"dplan":       {21, 20, 2},
		"devnet":      {21, 20, 1},
		"deepsad":     {21, 32, 16, 8},
		"autoencoder": {21, 21, 10, 21, 21}, // auto widths: min(64, 21), min(32, 21/2)
	}
	got := tabularArchitectures()
	if len(got) != len(want) {
		t.Fatalf("%d architectures, want %d", len(got), len(want))
	}
	for _, a := range got {
		w, ok := want[a.Method]
		if !ok {
			t.Errorf("unexpected method %q", a.Method)
			continue
		}
		p, f := dense(w, a.Method != "deepsad")
		n := a.Networks[0]
		if n.Params != p || n.FLOPs != f {
			t.Errorf("%s: %d parameters, %d FLOPs; counted by hand from widths %v: %d, %d (%s)", a.Method, n.Params, n.FLOPs, w, p, f, n.Layers)
		}
		if head := fmt.Sprintf("Dense(%d→%d", w[0], w[1]); !strings.HasPrefix(n.Layers, head) {
			t.Errorf("%s: layers %q do not start with %s", a.Method, n.Layers, head)
		}
		if len(a.Hyper) == 0 {
			t.Errorf("%s: no hyper-parameters", a.Method)
		}
	}
}

// TestTabularThyroid runs one cell of DPLAN's protocol on the real UCI
// thyroid data: 7,200 rows, 20% test, 60 labelled anomalies.
func TestTabularThyroid(t *testing.T) {
	dir := shared.Path(t, "uci-thyroid")
	t.Setenv("ODDITY_DATASETS", filepath.Dir(dir))
	var spec results.Spec
	for _, s := range tabularSpecs(0, true) {
		if s.Table == tableDPLANThyroid && s.Method == "devnet" && s.Task == "known=1" {
			spec = s
		}
	}
	c, err := runTabular(context.Background(), &suite.Env{Log: io.Discard}, spec)
	if err != nil {
		t.Fatal(err)
	}
	if c.Test != 1440 {
		t.Errorf("test rows %d, want 1440 (20%% of 7,200)", c.Test)
	}
	// Unlabelled: 5,333 training normals plus 109 anomalies (2%); 60 labelled.
	if c.Train != 5333+109+60 {
		t.Errorf("training rows %d, want %d", c.Train, 5333+109+60)
	}
	if roc := c.Metrics["auc_roc"].Mean; !(roc >= 0.75 && roc <= 1) {
		t.Errorf("DevNet AUC-ROC %v on Hypothyroid; the paper's protocol gives about 0.85", roc)
	}
	if c.Published["auc_pr"] != 0.469 || c.Source == "" {
		t.Errorf("published %v (%q), want DevNet's AUC-PR 0.469 with a source", c.Published, c.Source)
	}
}

// TestTabularADBenchSmallFile checks the ADBench split on glass (214 rows, 9
// anomalies): 5% of its 6 training anomalies rounds to none, so one is
// revealed and the cell says so.
func TestTabularADBenchSmallFile(t *testing.T) {
	p := shared.Path(t, "adbench/14_glass.npz")
	t.Setenv("ODDITY_DATASETS", filepath.Dir(filepath.Dir(p)))
	var spec results.Spec
	for _, s := range tabularSpecs(0, true) {
		if s.Table == tableDPLANADBench && s.Method == "iforest" && s.Data == "adbench/14_glass" {
			spec = s
		}
	}
	c, err := runTabular(context.Background(), &suite.Env{Log: io.Discard}, spec)
	if err != nil {
		t.Fatal(err)
	}
	// 30% of 205 normals (61.5, rounded half away from zero) and of 9 anomalies.
	if c.Test != 62+3 || c.Train != 214-65 {
		t.Errorf("train %d, test %d; want 149 and 65", c.Train, c.Test)
	}
	if !strings.Contains(c.Note, "1 labelled (min-labeled)") {
		t.Errorf("note %q does not say one anomaly was revealed", c.Note)
	}
	if roc := c.Metrics["auc_roc"].Mean; !(roc >= 0.6 && roc <= 1) {
		t.Errorf("iForest AUC-ROC %v on glass, want ≥ 0.6", roc)
	}
}
