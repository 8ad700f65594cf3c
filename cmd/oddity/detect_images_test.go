package main

import (
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/demo"
	"github.com/oddity-ml/oddity/metrics"
)

// writeDigit writes sample i of x (1×16×16 in [0, 1]) as a grey PNG.
func writeDigit(t *testing.T, path string, x *data.Dataset, i int) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, 16, 16))
	for p, v := range x.Row(i) {
		img.SetGray(p%16, p/16, color.Gray{Y: uint8(255*v + 0.5)})
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// oddity detect on a flat folder of images nobody prepared: 300 scans of
// zeros with 12 other digits mixed in. It names the detector, ranks the
// mixed-in digits high (scores.csv names each file), writes their anomaly maps, and its
// model scores the folder again with oddity score.
func TestDetectImageFolder(t *testing.T) {
	train, _, err := demo.Digits()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "scans")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	zeros, odd := 0, 0
	planted := map[string]bool{}
	for i := 0; i < train.N && (zeros < 300 || odd < 12); i++ {
		name := fmt.Sprintf("scan-%04d.png", i)
		switch {
		case train.Y[i] == 0 && zeros < 300:
			zeros++
		case train.Y[i] != 0 && odd < 12 && i%7 == 0:
			odd++
			planted[name] = true
		default:
			continue
		}
		writeDigit(t, filepath.Join(dir, name), train, i)
	}
	out := filepath.Join(t.TempDir(), "out")
	stdout, stderr, err := runRoot(t, "detect", dir, "--out", out, "--top", "6")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "detector: lof") || !strings.Contains(stderr, "312 images") {
		t.Errorf("stderr lacks the detector or the image count:\n%s", stderr)
	}
	// The mixed-in digits rank high: AUC-ROC from scores.csv at least 0.85.
	f, err := os.Open(filepath.Join(out, "scores.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var scores []float64
	var labels []int
	for _, r := range rows[1:] {
		s, err := strconv.ParseFloat(r[2], 64)
		if err != nil {
			t.Fatalf("scores.csv row %v: %v", r, err)
		}
		scores = append(scores, s)
		labels = append(labels, map[bool]int{false: 0, true: 1}[planted[r[1]]])
	}
	if auc, _, err := metrics.AUCs(scores, labels); err != nil || auc < 0.85 {
		t.Errorf("AUC-ROC of the mixed-in digits %.3f (%v), want ≥ 0.85:\n%s", auc, err, stdout)
	}
	maps, err := filepath.Glob(filepath.Join(out, "maps", "*.png"))
	if err != nil || len(maps) == 0 {
		t.Errorf("no anomaly maps written (%v)", err)
	}
	again, _, err := runRoot(t, "score", "--model", filepath.Join(out, "model.odm"), dir)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(again)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 313 || !strings.Contains(strings.Join(recs[0], ","), "file") {
		t.Errorf("oddity score on the folder: %d lines, header %v", len(recs), recs[0])
	}
}
