// Package data defines the in-memory data set every detector consumes and the
// registry of file formats that produce it.
//
// Format readers live in their own packages (data/idx, data/npy, data/matfile,
// data/csvfile, data/imagefolder) and register themselves here, in the manner
// of image.RegisterFormat, so data.Load opens any known file by extension or
// magic bytes.
package data

import (
	"errors"
	"fmt"
)

// Dataset is a dense float32 matrix of N samples, each of Shape (for example
// [d] for tabular rows, [C, H, W] for images), with optional integer labels.
type Dataset struct {
	// Name identifies the data set in reports (usually the file's base name).
	Name string
	// X holds N samples row-major; each sample has prod(Shape) values.
	X []float32
	// N is the number of samples.
	N int
	// Shape is the shape of one sample.
	Shape []int
	// Y holds one label per sample, or is nil when the data is unlabelled.
	Y []int
	// ClassNames optionally names label values (ClassNames[y]); may be nil.
	ClassNames []string
	// FeatureNames optionally names the columns of tabular data; may be nil.
	FeatureNames []string
}

// Dim is the number of values in one sample.
func (d *Dataset) Dim() int {
	n := 1
	for _, s := range d.Shape {
		n *= s
	}
	return n
}

// Row returns sample i as a slice sharing the data set's storage.
func (d *Dataset) Row(i int) []float32 {
	k := d.Dim()
	return d.X[i*k : (i+1)*k]
}

// Validate checks that the fields agree with each other and that X holds no
// NaN or infinity, returning an error that names the first problem found.
func (d *Dataset) Validate() error {
	if d == nil {
		return errors.New("data: nil data set")
	}
	if len(d.Shape) == 0 {
		return fmt.Errorf("data %s: empty sample shape", d.Name)
	}
	for _, s := range d.Shape {
		if s <= 0 {
			return fmt.Errorf("data %s: sample shape %v has a non-positive size", d.Name, d.Shape)
		}
	}
	if len(d.X) != d.N*d.Dim() {
		return fmt.Errorf("data %s: %d values for %d samples of shape %v", d.Name, len(d.X), d.N, d.Shape)
	}
	if d.Y != nil && len(d.Y) != d.N {
		return fmt.Errorf("data %s: %d labels for %d samples", d.Name, len(d.Y), d.N)
	}
	for i, v := range d.X {
		if v != v || v > 3.4e38 || v < -3.4e38 {
			return fmt.Errorf("data %s: sample %d has a non-finite value %v", d.Name, i/d.Dim(), v)
		}
	}
	return nil
}

// Subset returns a new data set holding copies of the samples idx, in that
// order (an index may repeat). Labels and names are carried over; it returns
// an error for an index out of range.
func (d *Dataset) Subset(idx []int) (*Dataset, error) {
	k := d.Dim()
	out := &Dataset{
		Name:         d.Name,
		X:            make([]float32, 0, len(idx)*k),
		N:            len(idx),
		Shape:        append([]int(nil), d.Shape...),
		ClassNames:   d.ClassNames,
		FeatureNames: d.FeatureNames,
	}
	if d.Y != nil {
		out.Y = make([]int, 0, len(idx))
	}
	for _, i := range idx {
		if i < 0 || i >= d.N {
			return nil, fmt.Errorf("data %s: subset index %d out of range [0,%d)", d.Name, i, d.N)
		}
		out.X = append(out.X, d.X[i*k:(i+1)*k]...)
		if d.Y != nil {
			out.Y = append(out.Y, d.Y[i])
		}
	}
	return out, nil
}

// Concat joins data sets of the same sample shape, in order, into a new one
// named name. Labels are kept only when every part is labelled; class and
// feature names are taken from the first part.
func Concat(name string, parts ...*Dataset) (*Dataset, error) {
	if len(parts) == 0 {
		return nil, errors.New("data: Concat of nothing")
	}
	first := parts[0]
	out := &Dataset{
		Name:         name,
		Shape:        append([]int(nil), first.Shape...),
		ClassNames:   first.ClassNames,
		FeatureNames: first.FeatureNames,
	}
	labelled := true
	for _, p := range parts {
		if !sameShape(p.Shape, first.Shape) {
			return nil, fmt.Errorf("data: Concat %s: sample shape %v of %s differs from %v of %s", name, p.Shape, p.Name, first.Shape, first.Name)
		}
		out.N += p.N
		labelled = labelled && p.Y != nil
	}
	out.X = make([]float32, 0, out.N*out.Dim())
	if labelled {
		out.Y = make([]int, 0, out.N)
	}
	for _, p := range parts {
		out.X = append(out.X, p.X...)
		if labelled {
			out.Y = append(out.Y, p.Y...)
		}
	}
	return out, nil
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
