// Package optim owns oddity's gradient-descent optimisers and gradient
// clipping: SGD (momentum, Nesterov, weight decay), Adam and AdamW, and
// RMSprop, each updating a list of parameter tensors (tensor.Param) from the
// gradients a tensor.Tape's Backward left in them.
//
// The update rules are PyTorch's (torch.optim, version 1.13), operation for
// operation and in float32, so a model trained here follows the same
// trajectory as the PyTorch reference the benchmarks compare against; the
// package tests check whole trajectories against fixtures PyTorch generated
// (testdata/make_fixtures.py). They are written here rather than taken from a
// library because no Go library implements these exact update rules over
// oddity's tensors, and each one is a dozen lines.
//
// Mapping the methods' settings (docs/methods.md):
//
//   - GANomaly, deep clustering: Adam (AdamDefaults with LR and Beta1 changed).
//   - DPLAN: RMSprop{LR: 2.5e-4, Alpha: 0.99, Momentum: 0.95, Eps: 0.01}.
//   - DevNet: the official code's Keras 2 RMSprop (lr 1e-3, rho 0.9, epsilon
//     1e-7, clipnorm c) is RMSprop{LR: 1e-3, Alpha: 0.9, Eps: 1e-7} (Keras 2
//     adds epsilon outside the square root, like PyTorch) with
//     ClipGradNormKeras(params, c) called before every Step. The official
//     devnet.py (Keras 2.2.2) passes clipnorm=1.
//
// Parameters whose gradient buffer was never allocated (tensor.HasGrad false)
// are skipped by Step and by the clipping functions, as PyTorch skips
// parameters whose .grad is None. ZeroGrad zeroes the buffers (PyTorch's
// zero_grad(set_to_none=False)), so a parameter once reached keeps being
// updated, with a zero gradient when nothing reaches it again.
//
// Optimiser state (moment buffers and per-parameter step counts) is exposed
// as a map of named float32 slices by State and restored by SetState, so it
// can be stored beside the parameters in a model file.
package optim

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/oddity-ml/oddity/tensor"
)

// ErrConfig reports an invalid optimiser setting (negative learning rate,
// beta outside [0, 1), duplicated parameter, ...).
var ErrConfig = errors.New("optim: invalid configuration")

// ErrState reports optimiser state that does not fit the optimiser it is
// loaded into (missing or unknown entry, wrong length, bad step count).
var ErrState = errors.New("optim: state does not match optimiser")

// Optimizer updates a fixed list of parameters from their gradients.
type Optimizer interface {
	// Step applies one update to every parameter that has a gradient.
	Step()
	// ZeroGrad zeroes every parameter's gradient.
	ZeroGrad()
	// LR returns the current learning rate.
	LR() float64
	// SetLR changes the learning rate for the following steps (for
	// schedules); it panics on a negative or non-finite rate, a programming
	// error.
	SetLR(lr float64)
	// Params returns the parameters, in the order given to the constructor.
	Params() []*tensor.Tensor
	// State returns a deep copy of the optimiser's state: one entry
	// "slot/key" per buffer (slot as PyTorch names it: exp_avg, exp_avg_sq,
	// square_avg, grad_avg, momentum_buffer) and one "step/key" per
	// parameter, where key is the parameter's name when every parameter has
	// a distinct non-empty name and its index otherwise. A step count n is
	// stored exactly as the two float32 values {n >> 24, n & 0xFFFFFF}.
	State() map[string][]float32
	// SetState replaces the state with a copy of st, which must hold exactly
	// the entries State would return; on error nothing is changed.
	SetState(st map[string][]float32) error
}

// base holds what every optimiser shares: the parameters, their state keys,
// the learning rate and each parameter's step count.
type base struct {
	params []*tensor.Tensor
	keys   []string
	lr     float64
	steps  []int64
	// slots maps a buffer name to one buffer per parameter.
	slots map[string][][]float32
	order []string // slot names in a fixed order
}

func newBase(kind string, params []*tensor.Tensor, lr float64) (base, error) {
	if err := checkNonNeg(kind, "learning rate", lr); err != nil {
		return base{}, err
	}
	seen := make(map[*tensor.Tensor]int, len(params))
	for i, p := range params {
		if p == nil {
			return base{}, fmt.Errorf("%s: parameter %d is nil: %w", kind, i, ErrConfig)
		}
		if j, dup := seen[p]; dup {
			return base{}, fmt.Errorf("%s: parameter %d (%q) is also parameter %d: %w", kind, i, p.Name, j, ErrConfig)
		}
		seen[p] = i
	}
	return base{
		params: append([]*tensor.Tensor(nil), params...),
		keys:   paramKeys(params),
		lr:     lr,
		steps:  make([]int64, len(params)),
		slots:  map[string][][]float32{},
	}, nil
}

// paramKeys names the parameters in the state map: their names when those
// are all distinct and non-empty, otherwise their indices.
func paramKeys(params []*tensor.Tensor) []string {
	keys := make([]string, len(params))
	seen := make(map[string]bool, len(params))
	byName := true
	for i, p := range params {
		if p.Name == "" || seen[p.Name] {
			byName = false
			break
		}
		seen[p.Name] = true
		keys[i] = p.Name
	}
	if !byName {
		for i := range keys {
			keys[i] = strconv.Itoa(i)
		}
	}
	return keys
}

// addSlot allocates a zero buffer per parameter under name.
func (b *base) addSlot(name string) [][]float32 {
	bufs := make([][]float32, len(b.params))
	for i, p := range b.params {
		bufs[i] = make([]float32, p.Len())
	}
	b.slots[name] = bufs
	b.order = append(b.order, name)
	return bufs
}

// ZeroGrad zeroes every parameter's gradient buffer (see Optimizer).
func (b *base) ZeroGrad() {
	for _, p := range b.params {
		p.ZeroGrad()
	}
}

// LR returns the learning rate (see Optimizer).
func (b *base) LR() float64 { return b.lr }

// SetLR sets the learning rate (see Optimizer).
func (b *base) SetLR(lr float64) {
	if lr < 0 || math.IsNaN(lr) || math.IsInf(lr, 0) {
		panic(fmt.Sprintf("optim: SetLR(%g): the learning rate must be finite and non-negative", lr))
	}
	b.lr = lr
}

// Params returns the parameters (see Optimizer).
func (b *base) Params() []*tensor.Tensor { return append([]*tensor.Tensor(nil), b.params...) }

// State returns a copy of the state (see Optimizer).
func (b *base) State() map[string][]float32 {
	st := make(map[string][]float32, len(b.params)*(len(b.order)+1))
	for i, k := range b.keys {
		n := b.steps[i]
		st["step/"+k] = []float32{float32(n >> 24), float32(n & 0xFFFFFF)}
		for _, s := range b.order {
			st[s+"/"+k] = append([]float32(nil), b.slots[s][i]...)
		}
	}
	return st
}

// SetState restores a state (see Optimizer).
func (b *base) SetState(st map[string][]float32) error {
	want := 0
	steps := make([]int64, len(b.params))
	for i, k := range b.keys {
		v, ok := st["step/"+k]
		if !ok {
			return fmt.Errorf("optim: state has no %q: %w", "step/"+k, ErrState)
		}
		n, err := decodeStep(v)
		if err != nil {
			return fmt.Errorf("optim: state %q: %v: %w", "step/"+k, err, ErrState)
		}
		steps[i] = n
		want++
		for _, s := range b.order {
			name := s + "/" + k
			v, ok := st[name]
			if !ok {
				return fmt.Errorf("optim: state has no %q: %w", name, ErrState)
			}
			if len(v) != b.params[i].Len() {
				return fmt.Errorf("optim: state %q has %d values, parameter %v needs %d: %w", name, len(v), b.params[i].Shape, b.params[i].Len(), ErrState)
			}
			want++
		}
	}
	if len(st) != want {
		var extra []string
		for name := range st {
			if !b.knows(name) {
				extra = append(extra, name)
			}
		}
		sort.Strings(extra)
		return fmt.Errorf("optim: state has unknown entries %q: %w", extra, ErrState)
	}
	copy(b.steps, steps)
	for i, k := range b.keys {
		for _, s := range b.order {
			copy(b.slots[s][i], st[s+"/"+k])
		}
	}
	return nil
}

// knows reports whether name is one of the state's entries.
func (b *base) knows(name string) bool {
	for _, k := range b.keys {
		if name == "step/"+k {
			return true
		}
		for _, s := range b.order {
			if name == s+"/"+k {
				return true
			}
		}
	}
	return false
}

// decodeStep reads a step count stored as {n >> 24, n & 0xFFFFFF}.
func decodeStep(v []float32) (int64, error) {
	if len(v) != 2 {
		return 0, fmt.Errorf("step count has %d values, want 2", len(v))
	}
	hi, lo := float64(v[0]), float64(v[1])
	if hi != math.Trunc(hi) || lo != math.Trunc(lo) || hi < 0 || lo < 0 || lo >= 1<<24 || hi >= 1<<24 {
		return 0, fmt.Errorf("step count %v is not two integers in [0, 2^24)", v)
	}
	return int64(hi)<<24 | int64(lo), nil
}

func checkNonNeg(kind, what string, v float64) error {
	if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return fmt.Errorf("%s: %s %g must be finite and non-negative: %w", kind, what, v, ErrConfig)
	}
	return nil
}

func checkUnit(kind, what string, v float64) error {
	if !(v >= 0 && v < 1) {
		return fmt.Errorf("%s: %s %g must be in [0, 1): %w", kind, what, v, ErrConfig)
	}
	return nil
}
