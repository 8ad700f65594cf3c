package metrics

import (
	"fmt"
	"math"
)

// Mean returns the arithmetic mean of xs; ErrEmpty when xs is empty.
func Mean(xs []float64) (float64, error) {
	if len(xs) == 0 {
		return 0, fmt.Errorf("mean: %w", ErrEmpty)
	}
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs)), nil
}

// SampleStd returns the sample standard deviation of xs (divisor n-1, as
// numpy's std with ddof=1); ErrTooFew when fewer than two values are given,
// since one value measures no spread.
func SampleStd(xs []float64) (float64, error) {
	if len(xs) < 2 {
		return 0, fmt.Errorf("sample std of %d values: %w", len(xs), ErrTooFew)
	}
	m, _ := Mean(xs)
	var s float64
	for _, x := range xs {
		s += (x - m) * (x - m)
	}
	return math.Sqrt(s / float64(len(xs)-1)), nil
}

// Summary is the mean and sample standard deviation of a measure over runs
// (seeds).
type Summary struct {
	// N is the number of runs.
	N int `json:"n"`
	// Mean is the arithmetic mean.
	Mean float64 `json:"mean"`
	// Std is the sample standard deviation; 0 when N == 1 (no spread was
	// measured; String then prints no ± part).
	Std float64 `json:"std"`
}

// Summarize returns the Summary of xs; ErrEmpty when xs is empty.
func Summarize(xs []float64) (Summary, error) {
	m, err := Mean(xs)
	if err != nil {
		return Summary{}, fmt.Errorf("summarize: %w", err)
	}
	s := Summary{N: len(xs), Mean: m}
	if len(xs) > 1 {
		s.Std, _ = SampleStd(xs)
	}
	return s, nil
}

// String formats the summary as "0.8123 ± 0.0100 (n=3)", or "0.8123 (n=1)"
// for a single run.
func (s Summary) String() string {
	if s.N < 2 {
		return fmt.Sprintf("%.4f (n=%d)", s.Mean, s.N)
	}
	return fmt.Sprintf("%.4f ± %.4f (n=%d)", s.Mean, s.Std, s.N)
}
