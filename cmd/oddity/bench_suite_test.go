package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/suite/experiments"
	"github.com/oddity-ml/oddity/suite/results"
)

// `oddity bench report DIR` renders the report from DIR/results.json alone.
func TestBenchReport(t *testing.T) {
	dir := t.TempDir()
	res := results.Results{Version: results.Version, Suite: "quick", Commit: "c0ffee",
		Cells: []results.Cell{{ID: "x", Spec: results.Spec{Section: results.SectionOwn, Table: "dplan-thyroid", Method: "dplan", Data: "thyroid", Task: "known=1"},
			Metrics: map[string]metrics.Summary{"auc_pr": {N: 2, Mean: 0.5432, Std: 0.0123}}, Published: map[string]float64{"auc_pr": 0.61}}}}
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	rootCmd.SetArgs([]string{"bench", "report", dir})
	defer rootCmd.SetArgs(nil)
	if err := rootCmd.Execute(); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(md), "0.543 ± 0.012 (paper 0.610)") || !strings.Contains(string(md), "c0ffee") {
		t.Errorf("report lacks the cell or the commit:\n%s", md)
	}
	if _, err := os.Stat(filepath.Join(dir, "report.html")); err != nil {
		t.Error(err)
	}
	if !strings.Contains(out.String(), "1 cells") {
		t.Errorf("output %q", out.String())
	}
	rootCmd.SetArgs([]string{"bench", "report", filepath.Join(dir, "nothing-here")})
	if err := rootCmd.Execute(); err == nil || !strings.Contains(err.Error(), "results.json") {
		t.Errorf("missing results.json: error %v", err)
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"/usr/bin/oddity", "bench", "--out", "my dir", "--only", "a,b", "it's"})
	want := `oddity bench --out 'my dir' --only a,b 'it'\''s'`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// --plan lists what a run would compute and runs nothing: in an empty
// folder every cell of the quick suite is still to run, with no time to
// judge from, and the folder stays empty.
func TestBenchPlan(t *testing.T) {
	dir := t.TempDir()
	s, err := experiments.Named("quick", 0)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	defer rootCmd.SetOut(nil)
	rootCmd.SetArgs([]string{"bench", "--suite", "quick", "--out", dir, "--plan"})
	defer rootCmd.SetArgs(nil)
	defer func() { // cobra keeps flag values between executions
		for _, f := range []string{"plan", "force", "suite", "out"} {
			if err := benchCmd.Flags().Set(f, benchCmd.Flags().Lookup(f).DefValue); err != nil {
				t.Error(err)
			}
		}
	}()
	if err := rootCmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("0 of %d selected cells cached, %d to run", len(s.Specs), len(s.Specs))
	if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), s.Specs[0].ID()) {
		t.Errorf("plan output lacks %q or the first cell's ID:\n%s", want, out.String())
	}
	if entries, err := os.ReadDir(dir); err != nil || len(entries) != 0 {
		t.Errorf("--plan wrote into the folder: %v, %v", entries, err)
	}
	rootCmd.SetArgs([]string{"bench", "--suite", "quick", "--out", dir, "--plan", "--force"})
	if err := rootCmd.Execute(); err == nil || !strings.Contains(err.Error(), "--plan") {
		t.Errorf("--plan --force: error %v, want one naming --plan", err)
	}
}
