package data

import (
	"fmt"
	"math"
	"sort"
)

// Info describes a data file for `oddity data inspect`.
type Info struct {
	// Path is the file inspected.
	Path string `json:"path"`
	// Format is the registered format's name.
	Format string `json:"format"`
	// Arrays lists what the file stores (npz members, .mat variables, the
	// splits of an image archive), each summarised on its own.
	Arrays []Summary `json:"arrays,omitempty"`
	// Dataset summarises the data set data.Load returns with the same
	// options, or is nil when the file needs options to form one.
	Dataset *Summary `json:"dataset,omitempty"`
	// Notes are remarks (skipped variables, how labels were derived).
	Notes []string `json:"notes,omitempty"`
}

// Summary describes one array or data set: its stored element type, shape,
// value range and, when it carries labels, the class counts.
type Summary struct {
	// Name is the array, member, variable or split name ("" for the data set).
	Name string `json:"name,omitempty"`
	// DType is the element type as stored in the file (for example "float64",
	// "uint8", "jpeg"), with the class for .mat variables.
	DType string `json:"dtype,omitempty"`
	// N is the number of samples (the first dimension of a stored array).
	N int `json:"n"`
	// SampleShape is the shape of one sample (the remaining dimensions).
	SampleShape []int `json:"sample_shape"`
	// Count is the number of values summarised: all but the NaNs.
	Count int `json:"count"`
	// NaN is the number of NaN values, left out of Count, Min, Max and
	// Mean.
	NaN int `json:"nan,omitempty"`
	// Min, Max and Mean summarise the values (of X for a data set); they
	// are 0, and mean nothing, when Count is 0 (no values, or all NaN).
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
	// Classes counts samples per label, sorted by label; nil when unlabelled.
	Classes []ClassCount `json:"classes,omitempty"`
}

// ClassCount is the number of samples with one label.
type ClassCount struct {
	Label int    `json:"label"`
	Name  string `json:"name,omitempty"`
	Count int    `json:"count"`
}

// ClassCounts counts the samples per label, sorted by label, or returns nil
// for an unlabelled data set.
func (d *Dataset) ClassCounts() []ClassCount {
	if d.Y == nil {
		return nil
	}
	return CountLabels(d.Y, d.ClassNames)
}

// CountLabels counts each distinct value of y, sorted by value, naming it by
// names[value] where names covers it.
func CountLabels(y []int, names []string) []ClassCount {
	m := map[int]int{}
	for _, v := range y {
		m[v]++
	}
	out := make([]ClassCount, 0, len(m))
	for k, c := range m {
		cc := ClassCount{Label: k, Count: c}
		if k >= 0 && k < len(names) {
			cc.Name = names[k]
		}
		out = append(out, cc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// Summarize describes a data set; dtype names the stored element type ("" if
// unknown).
func Summarize(d *Dataset, dtype string) Summary {
	s := SummarizeValues(d.X, len(d.X))
	s.DType = dtype
	s.N = d.N
	s.SampleShape = append([]int(nil), d.Shape...)
	s.Classes = d.ClassCounts()
	return s
}

// SummarizeValues returns the count, minimum, maximum and mean of the first
// n values given by x (a []float32 or []float64); NaNs are skipped.
func SummarizeValues[T float32 | float64](x []T, n int) Summary {
	s := Summary{Min: math.Inf(1), Max: math.Inf(-1)}
	sum := 0.0
	for _, v := range x[:n] {
		f := float64(v)
		if f != f {
			s.NaN++
			continue
		}
		s.Count++
		sum += f
		if f < s.Min {
			s.Min = f
		}
		if f > s.Max {
			s.Max = f
		}
	}
	if s.Count == 0 {
		s.Min, s.Max = 0, 0
		return s
	}
	s.Mean = sum / float64(s.Count)
	return s
}

// Range describes the summary's values for people: "min 0 max 1 mean 0.5",
// with the number of NaNs when there are some, and "all 12 values are NaN"
// rather than a minimum and maximum of 0 that no value has. Summaries that
// do not fill NaN (array summaries) have it inferred from N × SampleShape.
func (s Summary) Range() string {
	total := s.N
	for _, d := range s.SampleShape {
		total *= d
	}
	nan := max(s.NaN, total-s.Count)
	switch {
	case s.Count == 0 && nan > 0:
		if nan == 1 {
			return "the one value is NaN"
		}
		return fmt.Sprintf("all %d values are NaN", nan)
	case s.Count == 0:
		return "no values"
	}
	r := fmt.Sprintf("min %.6g max %.6g mean %.6g", s.Min, s.Max, s.Mean)
	if nan > 0 {
		r += fmt.Sprintf(" (%d NaN left out)", nan)
	}
	return r
}
