package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// jsonLines decodes JSON output lines into maps.
func jsonLines(t *testing.T, out string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// A bad line of `oddity score -` gets an error record naming its line
// (blank lines counted) and the stream goes on; the command fails at the
// end, saying how many lines were not scored.
func TestScoreStreamBadLinesContinue(t *testing.T) {
	_, path := tinyModel(t, t.TempDir(), nil)
	in := "[25, 3, 0]\n\n[25, 3, null]\n{\"id\": \"r4\", \"x\": [1, 2, 3]}\nnot json\n{\"id\": 6, \"x\": [1, 2]}\n[1e39, 0, 0]\n[0, 0, 0]"
	rootCmd.SetIn(strings.NewReader(in))
	defer rootCmd.SetIn(nil)
	out, _, err := runRoot(t, "score", "--output", "jsonl", "--model", path, "-")
	const want = "stdin: 4 of 7 lines not scored (error records written; the first is line 3)"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	recs := jsonLines(t, out)
	if len(recs) != 7 {
		t.Fatalf("%d output lines for 7 input lines:\n%s", len(recs), out)
	}
	wantErr := map[int]string{
		1: "line 3: value 3 is null",
		3: "line 5: want [numbers]",
		4: "line 6: 2 values, the model takes 3",
		5: "line 7: data stdin: sample 0 has a non-finite value",
	}
	for i, r := range recs {
		if r["index"] != float64(i) {
			t.Errorf("record %d has index %v", i, r["index"])
		}
		msg, isErr := r["error"].(string)
		if w, ok := wantErr[i]; ok {
			if !isErr || !strings.HasPrefix(msg, w) {
				t.Errorf("record %d: error %q, want one starting %q", i, msg, w)
			}
			continue
		}
		if isErr || r["score"] == nil {
			t.Errorf("record %d: %v, want a score", i, r)
		}
	}
	if recs[2]["id"] != "r4" || recs[4]["id"] != float64(6) || recs[4]["line"] != float64(6) {
		t.Errorf("ids and lines: %v %v", recs[2], recs[4])
	}
	// CSV carries the message in an error column.
	rootCmd.SetIn(strings.NewReader("[25, 3, null]\n[0, 0, 0]\n"))
	out, _, _ = runRoot(t, "score", "--model", path, "-")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || lines[0] != "index,score,anomaly,error" ||
		!strings.HasPrefix(lines[1], "0,,,line 1: value 3 is null") || !strings.HasPrefix(lines[2], "1,") || !strings.HasSuffix(lines[2], ",") {
		t.Errorf("CSV stream:\n%s", out)
	}
}

// repeat is a reader of n copies of s.
type repeat struct {
	s string
	n int
	i int
}

func (r *repeat) Read(p []byte) (int, error) {
	k := 0
	for k < len(p) && r.n > 0 {
		c := copy(p[k:], r.s[r.i:])
		k += c
		r.i += c
		if r.i == len(r.s) {
			r.i, r.n = 0, r.n-1
		}
	}
	if k == 0 {
		return 0, io.EOF
	}
	return k, nil
}

// A line longer than --max-line-bytes (by default 1 MiB for a small model)
// gets an error record without being held in memory, and the next line is
// scored.
func TestScoreStreamLongLine(t *testing.T) {
	_, path := tinyModel(t, t.TempDir(), nil)
	rootCmd.SetIn(strings.NewReader("[1, 2, 3" + strings.Repeat(" ", 300) + "]\n[1, 2, 3]\n"))
	out, _, err := runRoot(t, "score", "--output", "jsonl", "--max-line-bytes", "200", "--model", path, "-")
	recs := jsonLines(t, out)
	if err == nil || len(recs) != 2 || recs[0]["error"] != "line 1: longer than 200 bytes (--max-line-bytes; the model takes 3 values)" || recs[1]["score"] == nil {
		t.Errorf("long line: %v\n%s", err, out)
	}
	// 40 MB of values on one line (20 million), then a good line.
	in := io.MultiReader(strings.NewReader("["), &repeat{s: "0,", n: 20_000_000}, strings.NewReader("0]\n[1, 2, 3]\n"))
	rootCmd.SetIn(in)
	defer rootCmd.SetIn(nil)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, _, err = runRoot(t, "score", "--output", "jsonl", "--model", path, "-")
	runtime.ReadMemStats(&after)
	recs = jsonLines(t, out)
	if err == nil || len(recs) != 2 || !strings.Contains(recs[0]["error"].(string), "longer than 1048576 bytes") || recs[1]["score"] == nil {
		t.Errorf("40 MB line: %v\n%s", err, out)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("a 40 MB line allocated %d bytes", n)
	}
}

// nanDetector scores a row by its first value, NaN above 1e20 and -Inf
// below -1e20: a stand-in for a network whose activations overflow (a
// GANomaly model given rows of 1e25 scores +Inf).
type nanDetector struct{}

func (nanDetector) Method() string                               { return "test-nan" }
func (nanDetector) Fit(context.Context, detector.TrainSet) error { return nil }
func (nanDetector) Marshal() (*detector.Payload, error)          { return &detector.Payload{}, nil }
func (nanDetector) Unmarshal(*detector.Payload) error            { return nil }
func (nanDetector) Score(_ context.Context, x *data.Dataset) ([]float64, error) {
	out := make([]float64, x.N)
	for i := range out {
		switch v := x.Row(i)[0]; {
		case v > 1e20:
			out[i] = math.NaN()
		case v < -1e20:
			out[i] = math.Inf(-1)
		default:
			out[i] = float64(v)
		}
	}
	return out, nil
}

// A NaN or infinite score is never written as a result: scoring a file
// fails with an error naming the rows (as the server's 422 does) and
// writes nothing, in CSV (where NaN read as "not anomalous") and in JSON
// lines (which cannot hold NaN); on a stream the line gets an error record.
func TestScoreNonFinite(t *testing.T) {
	m := &detector.Model{Detector: nanDetector{}, Schema: detector.Schema{Shape: []int{2}}, Threshold: 1}
	cmd := &cobra.Command{}
	cmd.SetContext(context.Background())
	ds := &data.Dataset{Name: "t", N: 5, Shape: []int{2}, X: []float32{0, 0, 1e25, 0, 0.5, 0, -1e25, 0, 2, 0}}
	for _, format := range []string{"csv", "jsonl"} {
		var buf bytes.Buffer
		out := bufio.NewWriter(&buf)
		err := scoreDataset(cmd, m, ds, nil, "", out, format, 2, 0, scoreExtras{})
		out.Flush()
		if !errors.Is(err, detector.ErrInput) || !strings.Contains(err.Error(), "for 2 of 5 samples, rows 1, 3 (counting from 0)") {
			t.Errorf("%s: error %v", format, err)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: wrote %q", format, buf.String())
		}
		buf.Reset()
		if err := writeScores(&buf, format, scored{scores: []float64{0.5, math.NaN()}, flags: []bool{false, false}}); err == nil || buf.Len() != 0 {
			t.Errorf("%s: writeScores of a NaN: %v, wrote %q", format, err, buf.String())
		}
	}
	var buf bytes.Buffer
	out := bufio.NewWriter(&buf)
	err := scoreStream(cmd, m, strings.NewReader("[0, 0]\n[1e25, 0]\n[-1e25, 0]\n[2, 0]\n"), out, "jsonl", 0)
	recs := jsonLines(t, buf.String())
	if err == nil || len(recs) != 4 || recs[0]["score"] != float64(0) || recs[3]["anomaly"] != true ||
		!strings.Contains(recs[1]["error"].(string), "line 2: the model's score is not finite") ||
		!strings.Contains(recs[2]["error"].(string), "line 3: the model's score is not finite") {
		t.Errorf("stream: %v\n%s", err, buf.String())
	}
}
