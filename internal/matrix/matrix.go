// Package matrix checks the row-major float32 matrices the classic detectors
// (iforest, kmeans, pca) take, so each reports bad input the same way.
package matrix

import (
	"fmt"
	"math"
)

// Check returns an error unless x holds n rows of d finite values, n, d > 0.
func Check(x []float32, n, d int) error {
	if n <= 0 || d <= 0 {
		return fmt.Errorf("%d rows x %d features", n, d)
	}
	if len(x) != n*d {
		return fmt.Errorf("%d values for %d rows x %d features", len(x), n, d)
	}
	// A float32 is NaN or infinite when its exponent bits are all ones.
	const expMask = 0x7f800000
	for i, v := range x {
		if math.Float32bits(v)&expMask == expMask {
			return fmt.Errorf("row %d feature %d is %v", i/d, i%d, v)
		}
	}
	return nil
}
