package matrix

import (
	"math"
	"testing"
)

func TestCheck(t *testing.T) {
	if err := Check([]float32{1, 2, 3, 4}, 2, 2); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x    []float32
		n, d int
	}{
		{nil, 0, 2}, {[]float32{1}, 1, 2}, {[]float32{1, float32(math.NaN())}, 1, 2},
		{[]float32{float32(math.Inf(-1)), 1}, 2, 1},
	} {
		if Check(c.x, c.n, c.d) == nil {
			t.Errorf("Check(%v, %d, %d) accepted", c.x, c.n, c.d)
		}
	}
}
