package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/oddity-ml/oddity/detector"
)

func TestMain(m *testing.M) {
	beam.Init()
	os.Exit(m.Run())
}

func TestIsWorker(t *testing.T) {
	for args, want := range map[string]bool{
		"--worker=true --id=1": true, "-worker": true, "--id=1 --worker": true,
		"score --model m": false, "--workers=2": false, "": false,
	} {
		if got := isWorker(strings.Fields(args)); got != want {
			t.Errorf("isWorker(%q) = %v", args, got)
		}
	}
}

// The two commands, end to end on Prism: fit a forest from a CSV file, then
// score the file with it; every row gets one line, and the flags reach the
// pipeline (trees, seed, contamination, anomalies-only).
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "rows.csv")
	var b strings.Builder
	b.WriteString("x,y,class\n")
	for i := 0; i < 300; i++ {
		if i%30 == 0 {
			fmt.Fprintf(&b, "%d,%d,1\n", 50+i, -40-i)
		} else {
			fmt.Fprintf(&b, "%d.5,%d.25,0\n", i%7, i%5)
		}
	}
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	model, out := filepath.Join(dir, "m.odm"), filepath.Join(dir, "s.csv")
	exec := func(args ...string) {
		t.Helper()
		rootCmd.SetArgs(args)
		var errBuf bytes.Buffer
		rootCmd.SetErr(&errBuf)
		if err := rootCmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, errBuf.String())
		}
	}
	exec("fit-iforest", "--input", in, "--label-column", "class", "--trees", "30", "--seed", "4", "--contamination", "0.1", "--output", model)
	m, err := detector.LoadFile(model)
	if err != nil {
		t.Fatal(err)
	}
	if m.Meta.Extra["seed"] != "4" || m.ThresholdRule.Contamination != 0.1 || m.Meta.Train != 300 {
		t.Errorf("model: seed %s, rule %+v, %d rows", m.Meta.Extra["seed"], m.ThresholdRule, m.Meta.Train)
	}
	exec("score", "--model", model, "--input", in, "--label-column", "class", "--anomalies-only", "--output", out)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(got)), "\n")
	// 10% contamination over 300 rows: about 30 rows above the threshold,
	// and the 10 planted outliers among them.
	if len(lines) < 10 || len(lines) > 45 || lines[0] != "index,score,anomaly,label" {
		t.Fatalf("%d lines, header %q", len(lines), lines[0])
	}
	planted := 0
	for _, l := range lines[1:] {
		if strings.HasSuffix(l, ",1,1") {
			planted++
		}
	}
	if planted != 10 {
		t.Errorf("%d of the 10 planted outliers flagged", planted)
	}
}
