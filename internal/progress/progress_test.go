package progress

import (
	"bytes"
	"strings"
	"testing"
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
