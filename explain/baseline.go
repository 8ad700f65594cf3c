package explain

import (
	"fmt"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// MedianBaseline returns the per-feature median of background's samples,
// which must have the given shape: the integrated-gradients baseline of the
// differentiable detectors (typical normal data; the median rather than
// the mean, so a few anomalies in the background do not move it). Each
// column's median is found by selection, in time linear in the rows, so a
// large background costs little beside the gradients.
func MedianBaseline(background *data.Dataset, shape []int) ([]float32, error) {
	if err := detector.CheckInput(background, shape); err != nil {
		return nil, fmt.Errorf("background: %w", err)
	}
	n, d := background.N, background.Dim()
	if n == 0 {
		return nil, fmt.Errorf("%w: an empty background: integrated gradients need typical normal rows for their baseline", detector.ErrInput)
	}
	b, col := make([]float32, d), make([]float32, n)
	for j := range b {
		for i := range col {
			col[i] = background.X[i*d+j]
		}
		k := n / 2
		b[j] = selectKth(col, k)
		if n%2 == 0 {
			// selectKth leaves the k smallest values in col[:k]
			b[j] = float32((float64(slices.Max(col[:k])) + float64(b[j])) / 2)
		}
	}
	return b, nil
}

// selectKth reorders a (finite values) so that a[k] is the value sorting
// would put there, every value before it no larger and every value after
// it no smaller, and returns a[k]: Hoare's selection with a median-of-three
// pivot, falling back to a sort should the pivots keep splitting badly.
func selectKth(a []float32, k int) float32 {
	lo, hi := 0, len(a)-1
	for round := 0; lo < hi; round++ {
		if round == 64 {
			slices.Sort(a[lo : hi+1])
			break
		}
		x, y, z := a[lo], a[lo+(hi-lo)/2], a[hi]
		p := max(min(x, y), min(max(x, y), z))
		i, j := lo, hi
		for i <= j {
			for a[i] < p {
				i++
			}
			for a[j] > p {
				j--
			}
			if i <= j {
				a[i], a[j] = a[j], a[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return a[k]
		}
	}
	return a[k]
}
