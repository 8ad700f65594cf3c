package explain

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// agree scores how far three features that normally agree are from their
// median: Σ_j (x_j − median)².
func agree(x []float32) float64 {
	a, b, c := float64(x[0]), float64(x[1]), float64(x[2])
	m := math.Max(math.Min(a, b), math.Min(math.Max(a, b), c))
	return (a-m)*(a-m) + (b-m)*(b-m) + (c-m)*(c-m)
}

// TestRepairByHand: normal rows have x0 = x1 = x2 = t for t in {0, 1, 2,
// 3}. The row (3, 1, 1) scores 4; repairing x0 with the background's 1
// brings it to 0, so x0 gets 4; repairing x1 or x2 at best halves the
// disagreement ((3, 2, 1) scores 1 + 0 + 1 = 2), so they get 2. The
// row (2, 0, 1) scores 2: repairing x0 (to 0 or 1) gives 1, x1 (to 1 or
// 2) gives 1, x2 (to 0, 1 or 2) gives 2, so 1, 1, 0.
func TestRepairByHand(t *testing.T) {
	bg := &data.Dataset{N: 4, Shape: []int{3}, X: []float32{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3}}
	x := &data.Dataset{N: 2, Shape: []int{3}, X: []float32{3, 1, 1, 2, 0, 1}}
	for _, batch := range []int{0, 1, 5} {
		det := &funcDetector{f: agree}
		a, err := Repair(context.Background(), det, x, bg, RepairOptions{BatchRows: batch})
		if err != nil {
			t.Fatal(err)
		}
		want := []float32{4, 2, 2, 1, 1, 0}
		for k, w := range want {
			if a.Values[k] != w {
				t.Fatalf("batch %d: attributions %v, want %v", batch, a.Values, want)
			}
		}
		if a.Offset != nil || a.Technique != "repair" {
			t.Errorf("offset %v technique %q", a.Offset, a.Technique)
		}
		if batch == 1 && det.rows > 4 {
			t.Errorf("BatchRows 1: a Score call of %d rows (one group of 4 is the least)", det.rows)
		}
	}
	if _, err := Repair(context.Background(), &funcDetector{f: agree}, x, nil, RepairOptions{}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("no background: %v", err)
	}
	wrong := &data.Dataset{N: 1, Shape: []int{2}, X: []float32{0, 0}}
	if _, err := Repair(context.Background(), &funcDetector{f: agree}, x, wrong, RepairOptions{}); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("background of another shape: %v", err)
	}
}
