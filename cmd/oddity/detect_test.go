package main

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// oddity detect on a table nobody prepared (an id column, text, blanks):
// it prints the detector and why, ranks the planted rows first with their
// ids and p-values, and writes scores.csv, report.html (self-contained: its
// histogram and table inline) and a model that oddity score can use.
func TestDetectTable(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(8, 9))
	var b strings.Builder
	b.WriteString("id,city,amount,items\n")
	for i := 0; i < 600; i++ {
		amount, items, city := fmt.Sprintf("%.2f", 20+5*r.NormFloat64()), fmt.Sprint(1+r.IntN(4)), []string{"Lyon", "Paris", "Nantes"}[r.IntN(3)]
		if i%100 == 42 {
			amount, items = "480", "60"
		}
		if i%13 == 0 {
			amount = "NA"
		}
		fmt.Fprintf(&b, "T%04d,%s,%s,%s\n", i, city, amount, items)
	}
	path := filepath.Join(dir, "tx.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	stdout, stderr, err := runRoot(t, "detect", path, "--out", out, "--top", "6")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "detector: iforest") || !strings.Contains(stderr, "city") {
		t.Errorf("stderr lacks the detector or the schema:\n%s", stderr)
	}
	lines := strings.Split(stdout, "\n")
	planted := 0
	for _, l := range lines[2:8] {
		for _, id := range []string{"T0042", "T0142", "T0242", "T0342", "T0442", "T0542"} {
			if strings.Contains(l, id) {
				planted++
			}
		}
	}
	if planted != 6 {
		t.Errorf("%d of the 6 planted rows in the top 6:\n%s", planted, stdout)
	}
	page, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"data:image/svg+xml;base64,", "T0042", "iforest", "<td>city</td>"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if strings.Contains(string(page), "src=\"http") {
		t.Error("report.html loads something from outside")
	}
	f, err := os.Open(filepath.Join(out, "scores.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 601 || strings.Join(recs[0], ",") != "index,id,score,p_value,anomaly" {
		t.Errorf("scores.csv: %d lines, header %v", len(recs), recs[0])
	}
	// scores.csv flags the rows the printout counts (p <= alpha), not by
	// the model's stored threshold.
	flagged := 0
	for _, rec := range recs[1:] {
		if rec[4] == "1" {
			flagged++
		}
	}
	if want := fmt.Sprintf("%d of 600 flagged", flagged); !strings.HasPrefix(stdout, want) {
		t.Errorf("scores.csv flags %d rows; the printout says %.40q", flagged, stdout)
	}
	again, _, err := runRoot(t, "score", "--model", filepath.Join(out, "model.odm"), path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(again, "index,id,score,p_value,anomaly\n0,T0000,") {
		t.Errorf("scoring with the saved model:\n%.200s", again)
	}
}
