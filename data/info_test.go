package data

import (
	"math"
	"testing"
)

// An all-NaN array is described as such, not as "min 0 max 0", and NaNs
// among other values are counted and left out of the range.
func TestSummaryNaN(t *testing.T) {
	nan := float32(math.NaN())
	s := SummarizeValues([]float32{nan, nan, nan}, 3)
	s.N, s.SampleShape = 3, []int{}
	if s.Count != 0 || s.NaN != 3 || s.Range() != "all 3 values are NaN" {
		t.Errorf("all NaN: %+v %q", s, s.Range())
	}
	s = SummarizeValues([]float64{1, math.NaN(), 3}, 3)
	s.N, s.SampleShape = 1, []int{3}
	if s.Count != 2 || s.NaN != 1 || s.Range() != "min 1 max 3 mean 2 (1 NaN left out)" {
		t.Errorf("one NaN: %+v %q", s, s.Range())
	}
	// A summary that counts only the values (an array summary) has its
	// NaNs inferred from its shape.
	a := Summary{N: 2, SampleShape: []int{2}}
	if a.Range() != "all 4 values are NaN" {
		t.Errorf("array summary: %q", a.Range())
	}
	if (Summary{N: 0, SampleShape: []int{5}}).Range() != "no values" {
		t.Error("empty summary")
	}
}
