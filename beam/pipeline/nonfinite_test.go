package pipeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// nanDetector scores a row by its first value, and NaN when that is above
// 1e20: a stand-in for a network whose activations overflow (a GANomaly
// model given rows of 1e25 scores +Inf or NaN).
type nanDetector struct{}

func (nanDetector) Method() string                               { return "test-beam-nan" }
func (nanDetector) Fit(context.Context, detector.TrainSet) error { return nil }
func (nanDetector) Marshal() (*detector.Payload, error) {
	return &detector.Payload{Config: json.RawMessage(`{}`)}, nil
}
func (nanDetector) Unmarshal(*detector.Payload) error { return nil }
func (nanDetector) Score(_ context.Context, x *data.Dataset) ([]float64, error) {
	out := make([]float64, x.N)
	for i := range out {
		if v := x.Row(i)[0]; v > 1e20 {
			out[i] = math.NaN()
		} else {
			out[i] = float64(v)
		}
	}
	return out, nil
}

func init() {
	detector.Register(detector.Info{Method: "test-beam-nan", Kind: detector.Unsupervised | detector.Tables, Summary: "test: NaN for huge rows",
		Options: func() any { return &struct{}{} },
		New:     func(any) (detector.Detector, error) { return nanDetector{}, nil }})
}

// A pipeline whose model gives a NaN score fails, naming the rows by their
// index in the input, as `oddity score` does and as the server's 422 does;
// no NaN is written as a score.
func TestScoreNonFiniteFails(t *testing.T) {
	dir := t.TempDir()
	model := filepath.Join(dir, "nan.odm")
	m := &detector.Model{Detector: nanDetector{}, Schema: detector.Schema{Shape: []int{3}}, Threshold: 1}
	if err := m.SaveFile(model); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("a,b,c\n")
	for i := 0; i < 200; i++ {
		v := float64(i)
		if i == 57 || i == 120 {
			v = 1e25
		}
		fmt.Fprintf(&b, "%g,1,2\n", v)
	}
	in := filepath.Join(dir, "rows.csv")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "scores.csv")
	p, s := beam.NewPipelineWithRoot()
	if err := BuildScore(context.Background(), s, ScoreOptions{Model: model, Input: in, Output: out}); err != nil {
		t.Fatal(err)
	}
	err := Run(context.Background(), p, RunOptions{Runner: "prism"})
	if err == nil || !strings.Contains(err.Error(), "non-finite score (NaN or infinite) for 2 of 200 samples, rows 57, 120") {
		t.Errorf("pipeline error %v", err)
	}
	if got, _ := os.ReadFile(out); strings.Contains(string(got), "NaN") {
		t.Errorf("a NaN score was written:\n%s", got)
	}
}

// checkFinite names the rows by their index in the input, the first ten.
func TestCheckFinite(t *testing.T) {
	if checkFinite(5, []float64{1, 2}) != nil {
		t.Error("finite scores refused")
	}
	s := make([]float64, 30)
	for i := range s {
		s[i] = math.Inf(1)
	}
	s[0] = 0
	err := checkFinite(100, s)
	if !errors.Is(err, detector.ErrInput) || !strings.Contains(err.Error(), "29 of 30 samples, rows 101, 102, 103, 104, 105, 106, 107, 108, 109, 110 and 19 more") {
		t.Errorf("error %v", err)
	}
}
