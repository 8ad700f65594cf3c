package explain

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
)

// TestMedianBaseline checks the baseline against the middle of each sorted
// column, on odd and even row counts, ties and a constant column.
func TestMedianBaseline(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{1, 2, 3, 4, 7, 10, 101, 1000} {
		const d = 3
		bg := &data.Dataset{N: n, Shape: []int{d}, X: make([]float32, n*d)}
		for i := 0; i < n; i++ {
			bg.X[i*d] = float32(r.NormFloat64())
			bg.X[i*d+1] = float32(r.IntN(4)) // ties
			bg.X[i*d+2] = 2.5
		}
		got, err := MedianBaseline(bg, []int{d})
		if err != nil {
			t.Fatal(err)
		}
		for j := 0; j < d; j++ {
			var col []float64
			for i := 0; i < n; i++ {
				col = append(col, float64(bg.X[i*d+j]))
			}
			slices.Sort(col)
			if want := float32((col[(n-1)/2] + col[n/2]) / 2); got[j] != want {
				t.Errorf("n=%d feature %d: median %v, want %v", n, j, got[j], want)
			}
		}
	}
}
