package main

import (
	"os"
	"strings"
	"testing"
)

// A stream line is a bare array or {"id", "x"}; anything else is an error
// that names the expected form, never a sample of zero values.
func TestParseStreamLine(t *testing.T) {
	for _, c := range []struct {
		line string
		want []float64
		id   any
	}{
		{`[1, 2.5, -3]`, []float64{1, 2.5, -3}, nil},
		{`  [0]  `, []float64{0}, nil},
		{`{"id": "r7", "x": [4, 5]}`, []float64{4, 5}, "r7"},
		{`{"x": []}`, []float64{}, nil},
	} {
		rec, err := parseStreamLine([]byte(c.line))
		if err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		if len(rec.X) != len(c.want) || rec.ID != c.id {
			t.Errorf("%s: got %v id %v, want %v id %v", c.line, rec.X, rec.ID, c.want, c.id)
			continue
		}
		for i := range c.want {
			if rec.X[i] != c.want[i] {
				t.Errorf("%s: value %d is %v, want %v", c.line, i, rec.X[i], c.want[i])
			}
		}
	}
	for _, c := range []struct{ line, says string }{
		{`{"a": 1, "b": 2}`, `unknown field "a"`},
		{`{"id": 3}`, `no "x"`},
		{`[1, "two"]`, "array of numbers"},
		{`[1, 2`, "array of numbers"},
		{`{"x": [1]} {"x": [2]}`, "more than one"},
		{`3`, `{"id": ..., "x": [numbers]}`},
		{`{"x": [NaN]}`, "invalid character"},
	} {
		if _, err := parseStreamLine([]byte(c.line)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %v, want one saying %q", c.line, err, c.says)
		}
	}
}

// A null value is refused, naming its line and position, whichever form
// the line takes: read as 0 it would be scored as a real measurement.
func TestParseStreamLineNull(t *testing.T) {
	for _, c := range []struct{ line, says string }{
		{`[25, 3, null, 0]`, "value 3 is null: missing values need a model trained with a table pipeline"},
		{`[null]`, "value 1 is null"},
		{`{"id": "r1", "x": [1, null]}`, "value 2 is null"},
	} {
		if _, err := parseStreamLine([]byte(c.line)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %v, want one saying %q", c.line, err, c.says)
		}
	}
}

// `oddity score -` answers a null with an error record naming the input
// line (blank lines counted) and the value's position, and goes on.
func TestScoreStreamNull(t *testing.T) {
	_, path := tinyModel(t, t.TempDir(), nil)
	rootCmd.SetIn(strings.NewReader("[25, 3, 0]\n\n[25, 3, null]\n[1, 2, 3]\n"))
	defer rootCmd.SetIn(nil)
	out, _, err := runRoot(t, "score", "--output", "jsonl", "--model", path, "-")
	const want = `{"index":1,"line":3,"error":"line 3: value 3 is null: missing values need a model trained with a table pipeline"}`
	if err == nil || !strings.Contains(out, want+"\n") || strings.Count(out, "\n") != 3 || !strings.Contains(out, `"index":2,"score"`) {
		t.Errorf("error %v; output:\n%s", err, out)
	}
}

// The --help texts of score, data inspect, model info and version show no
// Go type names or "(default -1)"; data inspect's --label-column keeps
// --label as a hidden, deprecated alias.
func TestFlagHelpAndLabelAlias(t *testing.T) {
	for _, args := range [][]string{{"score"}, {"data", "inspect"}, {"model", "info"}, {"version"}} {
		cmd, _, err := rootCmd.Find(args)
		if err != nil {
			t.Fatal(err)
		}
		usage := cmd.LocalFlags().FlagUsages()
		for _, bad := range []string{" string ", " int ", " float ", " float64 ", " bool ", "(default -1)", "--label "} {
			if strings.Contains(usage, bad) {
				t.Errorf("%v --help shows %q:\n%s", args, bad, usage)
			}
		}
	}
	dir := t.TempDir()
	csv := dir + "/t.csv"
	if err := os.WriteFile(csv, []byte("a,b,class\n1,2,0\n3,4,1\n5,6,0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var outs []string
	for _, flag := range []string{"--label-column", "--label"} {
		out, errOut, err := runRoot(t, "data", "inspect", "--json", flag, "class", csv)
		if err != nil {
			t.Fatalf("%s: %v", flag, err)
		}
		if flag == "--label" {
			// Cobra prints the notice with Command.Print: on standard
			// error, or here on the test's output writer.
			const notice = "Flag --label has been deprecated, use --label-column\n"
			if !strings.Contains(out+errOut, notice) {
				t.Errorf("--label gave no deprecation notice: %q %q", out, errOut)
			}
			out = strings.ReplaceAll(out, notice, "") // cobra repeats earlier notices in-process
		}
		outs = append(outs, out)
	}
	if outs[0] != outs[1] || !strings.Contains(outs[0], `"classes"`) {
		t.Errorf("--label-column and --label differ or read no classes:\n%s\n%s", outs[0], outs[1])
	}
	// Later commands start from the flags' defaults again.
	f := dataInspectCmd.Flags()
	_ = f.Set("label-column", "")
	_ = f.Set("json", "false")
}
