package progress

import (
	"bytes"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/detector"
)

func TestLogLines(t *testing.T) {
	var buf bytes.Buffer
	b := NewTo(&buf, "epoch", 4, false)
	b.every = 0 // a line per update
	b.Add(1, map[string]float64{"loss": 0.5})
	b.Add(3, nil)
	b.Finish()
	out := buf.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("want 3 lines, got %q", out)
	}
	if !strings.Contains(lines[0], "epoch: 1/4 (25.0%)") || !strings.Contains(lines[0], "loss=0.5") || !strings.Contains(lines[0], "eta") {
		t.Errorf("first line %q", lines[0])
	}
	if !strings.Contains(lines[1], "4/4 (100.0%)") || strings.Contains(lines[1], "eta") {
		t.Errorf("last progress line %q", lines[1])
	}
	if !strings.HasPrefix(lines[2], "epoch: done 4 in ") {
		t.Errorf("summary %q", lines[2])
	}
}

func TestPhasesOneBarPerPhase(t *testing.T) {
	var buf strings.Builder
	p := NewPhasesTo(&buf, "fit", false)
	for i := 1; i <= 3; i++ {
		p.Report(detector.Progress{Phase: "pretrain", Done: i, Total: 3, Metrics: map[string]float64{"loss": float64(i)}})
	}
	p.Report(detector.Progress{Phase: "finetune", Done: 2, Total: 4})
	p.Close()
	out := buf.String()
	for _, want := range []string{"fit pretrain: done 3", "loss=3", "fit finetune: done 2"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Count(out, "done") != 2 {
		t.Errorf("want two finished bars:\n%s", out)
	}
	// An outer phase survives its inner phase's restarts.
	buf.Reset()
	p = NewPhasesTo(&buf, "", false)
	for e := 1; e <= 2; e++ {
		for b := 1; b <= 3; b++ {
			p.Report(detector.Progress{Phase: "batch", Done: b, Total: 3})
		}
		p.Report(detector.Progress{Phase: "epoch", Done: e, Total: 2})
	}
	p.Close()
	if out := buf.String(); strings.Count(out, "epoch: done") != 1 || strings.Count(out, "batch: done") != 2 {
		t.Errorf("want one epoch bar and two batch bars:\n%s", out)
	}
	var nilPhases *Phases
	nilPhases.Report(detector.Progress{Phase: "x"}) // must not panic
	nilPhases.Close()
}
