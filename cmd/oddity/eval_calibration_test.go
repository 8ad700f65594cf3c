package main

import (
	"encoding/json"
	"testing"

	"github.com/oddity-ml/oddity/internal/shared"
)

// On a real ADBench file the realised false-alarm rate of p <= alpha stays
// near alpha (the conformal guarantee), while the detection rate is far
// above it.
func TestEvalCalibration(t *testing.T) {
	path := shared.Path(t, "adbench/38_thyroid.npz")
	out, _, err := runRoot(t, "eval", "calibration", "--data", path, "--seeds", "3", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var rows []calibRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(rows) != 1 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	// About 1,000 normal test rows a seed, 3 seeds: the rate's sd is about
	// 0.003 at 0.01 and 0.007 at 0.05.
	if r.FAR["0.01"] > 0.025 || r.FAR["0.05"] > 0.07 {
		t.Errorf("false-alarm rates %v, want about 0.01 and 0.05", r.FAR)
	}
	if r.Detect["0.05"] < 0.5 || r.AUCROC < 0.9 {
		t.Errorf("detection %v, AUC-ROC %.3f: Isolation Forest finds thyroid's anomalies", r.Detect, r.AUCROC)
	}
	if r.BHFDR > 0.2 {
		t.Errorf("Benjamini-Hochberg's realised FDR %.3f at q = 0.1", r.BHFDR)
	}
}
