package modelfile

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/oddity-ml/oddity/tensor"
)

// WithPrefix returns views of ts named prefix + Name that share their
// values, so one file can hold several networks' parameters ("generator/",
// "discriminator/") and LoadParams on the views fills the originals.
func WithPrefix(prefix string, ts []*tensor.Tensor) []*tensor.Tensor {
	out := make([]*tensor.Tensor, len(ts))
	for i, t := range ts {
		if t == nil {
			continue
		}
		out[i] = &tensor.Tensor{Shape: t.Shape, Data: t.Data, Name: prefix + t.Name}
	}
	return out
}

// LoadParams copies the stored tensor of each parameter's Name into it. It
// checks every parameter first (present: ErrNotFound; same shape: ErrShape;
// finite values: ErrNonFinite), naming the parameter and both shapes, and
// changes nothing unless all pass. Tensors in the file that no parameter
// asks for are ignored.
func (f *File) LoadParams(params []*tensor.Tensor) error {
	src := make([]*tensor.Tensor, len(params))
	for i, p := range params {
		if p == nil {
			return fmt.Errorf("modelfile: parameter %d is nil: %w", i, ErrInput)
		}
		t, err := f.Tensor(p.Name)
		if err != nil {
			return fmt.Errorf("modelfile: parameter %q %v: %w", p.Name, p.Shape, err)
		}
		if !tensor.SameShape(t.Shape, p.Shape) {
			return fmt.Errorf("modelfile: parameter %q: file has shape %v, model has shape %v: %w", p.Name, t.Shape, p.Shape, ErrShape)
		}
		for j, v := range t.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("modelfile: parameter %q %v: value %d is %v: %w", p.Name, p.Shape, j, v, ErrNonFinite)
			}
		}
		src[i] = t
	}
	for i, p := range params {
		copy(p.Data, src[i].Data)
	}
	return nil
}

// StateTensors turns a map of named float32 slices (an optimiser's State)
// into 1-D tensors named prefix + key, in key order, sharing the slices.
func StateTensors(prefix string, st map[string][]float32) []*tensor.Tensor {
	keys := make([]string, 0, len(st))
	for k := range st {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*tensor.Tensor, len(keys))
	for i, k := range keys {
		out[i] = &tensor.Tensor{Shape: []int{len(st[k])}, Data: st[k], Name: prefix + k}
	}
	return out
}

// State collects the tensors whose names start with prefix into a map keyed
// by the rest of the name: the inverse of StateTensors. The slices belong to
// the File.
func (f *File) State(prefix string) map[string][]float32 {
	st := map[string][]float32{}
	for _, t := range f.tensors {
		if k, ok := strings.CutPrefix(t.Name, prefix); ok {
			st[k] = t.Data
		}
	}
	return st
}
