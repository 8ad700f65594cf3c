package main

import (
	"context"
	"encoding/csv"
	"fmt"
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

// A calibrated model gives every row a p-value; --alpha flags p <= alpha
// (the normal rows' false-alarm rate stays near alpha, the shifted rows are
// all flagged), --fdr flags by Benjamini-Hochberg, and both refuse a model
// without calibration; --fdr refuses a stream.
func TestScoreCalibrated(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(3, 4))
	gauss := func(n int, shift float64, label int) *data.Dataset {
		d := &data.Dataset{Name: "g", N: n, Shape: []int{2}, X: make([]float32, 2*n), Y: make([]int, n)}
		for i := range d.X {
			d.X[i] = float32(r.NormFloat64() + shift)
		}
		for i := range d.Y {
			d.Y[i] = label
		}
		return d
	}
	m, err := detector.FitCalibrated(context.Background(), iforest.New(iforest.DefaultOptions()), detector.TrainSet{X: gauss(3000, 0, 0)},
		detector.ThresholdRule{Contamination: 0.1}, detector.CalibrationOptions{Fraction: 0.3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(dir, "m.odm")
	if err := m.SaveFile(model); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("a,b,class\n")
	test, err := data.Concat("test", gauss(2000, 0, 0), gauss(40, 8, 1))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < test.N; i++ {
		fmt.Fprintf(&b, "%g,%g,%d\n", test.X[2*i], test.X[2*i+1], test.Y[i])
	}
	rows := filepath.Join(dir, "rows.csv")
	if err := os.WriteFile(rows, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rates := func(out string) (falseAlarm, detected float64) {
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(recs[0], ",") != "index,score,p_value,anomaly,label" {
			t.Fatalf("header %v", recs[0])
		}
		var fa, det, n0, n1 float64
		for _, rec := range recs[1:] {
			p, err := strconv.ParseFloat(rec[2], 64)
			if err != nil || p <= 0 || p > 1 {
				t.Fatalf("p-value %q", rec[2])
			}
			if rec[4] == "0" {
				n0++
				if rec[3] == "1" {
					fa++
				}
			} else {
				n1++
				if rec[3] == "1" {
					det++
				}
			}
		}
		return fa / n0, det / n1
	}
	out, _, err := runRoot(t, "score", "--model", model, "--label-column", "class", "--alpha", "0.05", rows)
	if err != nil {
		t.Fatal(err)
	}
	// 2,000 normal rows: the false-alarm rate's binomial sd at 0.05 is
	// 0.005; the calibration set's own spread adds about as much.
	if fa, det := rates(out); fa > 0.075 || det != 1 {
		t.Errorf("--alpha 0.05: false-alarm rate %.4f (want about 0.05), detected %.2f (want 1)", fa, det)
	}
	out, _, err = runRoot(t, "score", "--model", model, "--label-column", "class", "--fdr", "0.1", rows)
	if err != nil {
		t.Fatal(err)
	}
	if fa, det := rates(out); fa > 0.01 || det != 1 {
		t.Errorf("--fdr 0.1: false-alarm rate %.4f, detected %.2f", fa, det)
	}
	_, _, err = runRoot(t, "score", "--model", model, "--fdr", "0.1", "-")
	if err == nil || !strings.Contains(err.Error(), "whole input") {
		t.Errorf("--fdr on a stream: %v", err)
	}
	plain, err := detector.Fit(context.Background(), iforest.New(iforest.DefaultOptions()), detector.TrainSet{X: gauss(300, 0, 0)}, detector.ThresholdRule{Contamination: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	plainPath := filepath.Join(dir, "plain.odm")
	if err := plain.SaveFile(plainPath); err != nil {
		t.Fatal(err)
	}
	_, _, err = runRoot(t, "score", "--model", plainPath, "--alpha", "0.05", rows)
	if err == nil || !strings.Contains(err.Error(), "calibration") {
		t.Errorf("--alpha on a model without calibration: %v", err)
	}
}
