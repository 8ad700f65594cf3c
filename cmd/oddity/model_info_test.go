package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/iforest"
)

// tinyModel fits a small Isolation Forest on 200 generated rows of three
// named features, records metrics, saves it under dir and returns it with
// its path.
func tinyModel(t *testing.T, dir string, metrics map[string]float64) (*detector.Model, string) {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	const n, d = 200, 3
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	ds := &data.Dataset{Name: "gen", X: x, N: n, Shape: []int{d}, FeatureNames: []string{"alpha", "beta", "gamma"}}
	o := iforest.DefaultOptions()
	o.NTrees = 17
	m, err := detector.Fit(context.Background(), iforest.New(o), detector.TrainSet{X: ds}, detector.ThresholdRule{Contamination: 0.05})
	if err != nil {
		t.Fatal(err)
	}
	m.Meta.Metrics = metrics
	m.Meta.Extra = map[string]string{"source": "generated"}
	path := filepath.Join(dir, "tiny.odm")
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	return m, path
}

// `oddity model info` names the method, its kind, its options as stored,
// the input shape and features, the threshold and its rule, and the
// training record; --json carries the same facts.
func TestModelInfo(t *testing.T) {
	m, path := tinyModel(t, t.TempDir(), map[string]float64{"test_auc_roc": 0.91})
	out, errOut, err := runRoot(t, "model", "info", "--json=false", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"iforest", "unsupervised, tables", "[3]", "alpha, beta, gamma",
		"trees", "17", `"n_trees": 17`, "max-samples",
		"threshold:", strconv.FormatFloat(m.Threshold, 'g', -1, 64), "contamination 0.05",
		"200 samples", m.Meta.DataHash, "test_auc_roc=0.91", "source=generated",
		"model format 1", "file format 1.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("model info lacks %q:\n%s", want, out)
		}
	}
	if errOut != "" {
		t.Errorf("model info of a good model warned: %s", errOut)
	}

	out, _, err = runRoot(t, "model", "info", "--json", path)
	if err != nil {
		t.Fatal(err)
	}
	var mi modelInfo
	if err := json.Unmarshal([]byte(out), &mi); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if mi.Method != "iforest" || mi.Kind != "unsupervised, tables" || len(mi.Schema.Shape) != 1 || mi.Schema.Shape[0] != 3 ||
		mi.Threshold != m.Threshold || mi.ThresholdRule.Contamination != 0.05 || mi.Format != detector.FormatVersion ||
		mi.Meta.Train != 200 || mi.Meta.DataHash != m.Meta.DataHash || mi.TrainScores != len(m.TrainScores) {
		t.Errorf("model info --json: %+v", mi)
	}
	if mi.Options["trees"] != "17" || mi.Options["max-samples"] != "256" {
		t.Errorf("options %v, want trees 17 and max-samples 256", mi.Options)
	}
	var cfg struct {
		Options iforest.Options `json:"options"`
	}
	if err := json.Unmarshal(mi.Config, &cfg); err != nil || cfg.Options.NTrees != 17 {
		t.Errorf("config %s: %v", mi.Config, err)
	}
}

// A damaged model file is refused with the loader's error, never a panic
// or a partial description: truncated anywhere, a flipped byte, empty, or
// not there.
func TestModelInfoDamaged(t *testing.T) {
	dir := t.TempDir()
	_, path := tinyModel(t, dir, nil)
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	flipped := append([]byte(nil), good...)
	flipped[len(flipped)/2] ^= 0x40
	cases := map[string]string{
		"half":     write("half.odm", good[:len(good)/2]),
		"all but1": write("short.odm", good[:len(good)-1]),
		"header":   write("head.odm", good[:12]),
		"flipped":  write("flipped.odm", flipped),
		"empty":    write("empty.odm", nil),
		"missing":  filepath.Join(dir, "no-such.odm"),
	}
	for name, p := range cases {
		for _, asJSON := range []string{"--json=false", "--json"} {
			out, _, err := runRoot(t, "model", "info", asJSON, p)
			if err == nil {
				t.Errorf("%s %s: no error; printed\n%s", name, asJSON, out)
				continue
			}
			if out != "" {
				t.Errorf("%s %s: printed %q beside the error %v", name, asJSON, out, err)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("%s: error %q does not name the file", name, err)
			}
		}
	}
	// The truncated file's error is the loader's own.
	_, _, err = runRoot(t, "model", "info", cases["half"])
	_, lerr := detector.LoadFile(cases["half"])
	if err == nil || lerr == nil || err.Error() != lerr.Error() {
		t.Errorf("model info error %v, loader's %v", err, lerr)
	}
}

// A model whose own evaluation ranked worse than chance makes model info
// and score warn on standard error; the output itself is unchanged.
func TestSelfAUCWarning(t *testing.T) {
	dir := t.TempDir()
	_, path := tinyModel(t, dir, map[string]float64{"test_auc_roc": 0.43, "auc_roc": 0.9})
	const says = "this model ranked its own test data worse than chance (AUC-ROC 0.43): are higher scores the anomalies here?"
	out, errOut, err := runRoot(t, "model", "info", "--json=false", path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, says) || strings.Contains(out, "worse than chance") {
		t.Errorf("model info: stderr %q, stdout\n%s", errOut, out)
	}
	out, _, err = runRoot(t, "model", "info", "--json", path)
	if err != nil {
		t.Fatal(err)
	}
	var mi modelInfo
	if err := json.Unmarshal([]byte(out), &mi); err != nil || len(mi.Warnings) != 1 || mi.Warnings[0] != says {
		t.Errorf("model info --json warnings %q (%v)", mi.Warnings, err)
	}

	rootCmd.SetIn(strings.NewReader("[0.1, 0.2, 0.3]\n"))
	defer rootCmd.SetIn(nil)
	out, errOut, err = runRoot(t, "score", "--output", "csv", "--model", path, "-")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, says) || strings.Count(out, "\n") != 2 {
		t.Errorf("score: stderr %q, stdout\n%s", errOut, out)
	}

	// "auc_roc" counts where "test_auc_roc" is absent; 0.5 and above, or
	// no metric at all, say nothing.
	for _, c := range []struct {
		metrics map[string]float64
		warn    bool
	}{
		{map[string]float64{"auc_roc": 0.2}, true},
		{map[string]float64{"auc_roc": 0.5}, false},
		{map[string]float64{"test_auc_roc": 0.7, "auc_roc": 0.1}, false},
		{map[string]float64{"acc": 0.1}, false},
		{nil, false},
	} {
		m := &detector.Model{Meta: detector.Meta{Metrics: c.metrics}}
		if got := selfAUCWarning(m) != ""; got != c.warn {
			t.Errorf("metrics %v: warned %v, want %v", c.metrics, got, c.warn)
		}
	}
}

// The text output shortens long arrays (weights, histories) to their
// first elements and length, keeps short ones, and prints numbers as
// stored.
func TestPrettyConfig(t *testing.T) {
	long := make([]int, 40)
	raw, _ := json.Marshal(map[string]any{"w": long, "short": []float64{1.5, 1e-9}, "n": 12345678901234567})
	got := prettyConfig(raw, "  ")
	for _, want := range []string{`"… 40 elements in all"`, "1e-9", "12345678901234567", "  {\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("prettyConfig lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "\n") > 20 {
		t.Errorf("long array not shortened:\n%s", got)
	}
	if got := prettyConfig(json.RawMessage(`{"a":`), ""); got != `{"a":` {
		t.Errorf("undecodable config printed as %q", got)
	}
}
