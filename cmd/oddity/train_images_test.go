package main

import (
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBlobs writes n PNG images of side×side pixels: a bright square in
// one of four places (normal), or a bright diagonal (odd).
func writeBlobs(t *testing.T, dir, prefix string, n, side int, odd bool) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(uint64(n), 7))
	for i := 0; i < n; i++ {
		img := image.NewGray(image.Rect(0, 0, side, side))
		for p := 0; p < side*side; p++ {
			img.SetGray(p%side, p/side, color.Gray{uint8(r.IntN(25))})
		}
		q := side / 2
		ox, oy := (i%2)*q, (i/2%2)*q
		for y := 0; y < side; y++ {
			for x := 0; x < side; x++ {
				if odd && x == y || !odd && x >= ox+q/4 && x < ox+3*q/4 && y >= oy+q/4 && y < oy+3*q/4 {
					img.SetGray(x, y, color.Gray{230})
				}
			}
		}
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("%s%03d.png", prefix, i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
}

// `oddity train deepcluster --data FOLDER` trains on a flat folder of
// normal images of mixed sizes (with a calibration share held out), and
// `oddity score` on a folder names each file and gives its p-value.
func TestTrainOnImageFolder(t *testing.T) {
	dir := t.TempDir()
	good, fresh := filepath.Join(dir, "good"), filepath.Join(dir, "new")
	writeBlobs(t, good, "good", 120, 16, false)
	writeBlobs(t, good, "big", 4, 20, false) // another size: resized
	writeBlobs(t, fresh, "normal", 6, 16, false)
	writeBlobs(t, fresh, "odd", 3, 16, true)
	model := filepath.Join(dir, "dc.odm")
	out, _, err := runRoot(t, "train", "deepcluster", "--data", good, "--k", "4", "--epochs", "2", "--batch", "32",
		"--max-steps", "20", "--update-interval", "5", "--kmeans-init", "2", "--out", model)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "wrote "+model) {
		t.Errorf("train output: %s", out)
	}
	out, _, err = runRoot(t, "score", "--model", model, fresh)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(recs[0], ",") != "index,file,score,p_value,anomaly" || len(recs) != 10 {
		t.Fatalf("score output:\n%s", out)
	}
	names := map[string]bool{}
	for _, rec := range recs[1:] {
		names[rec[1]] = true
	}
	for _, want := range []string{"normal000.png", "odd002.png"} {
		if !names[want] {
			t.Errorf("no line names %s:\n%s", want, out)
		}
	}
}
