package devnet

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

func init() {
	// the defaults are the official code's, which are the paper's
	detector.Register(detector.Define(Method, detector.WeaklySupervised|detector.Tables,
		"DevNet, deviation networks (Pang, Shen and van den Hengel, KDD 2019)",
		DefaultOptions, nil, New))
}

// Detector is DevNet as a detector.Detector.
type Detector struct {
	// Options are the settings Fit uses.
	Options Options
	// Losses holds the mean training loss of each epoch of the last Fit.
	Losses []float64

	w1, b1, w2, b2 *tensor.Tensor
	d              int
	shape          []int // the training samples' shape
}

// New returns an unfitted DevNet with options o; Fit validates them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (m *Detector) Method() string { return Method }

func (m *Detector) params() []*tensor.Tensor { return []*tensor.Tensor{m.w1, m.b1, m.w2, m.b2} }

const scoreChunk = 4096

// Score implements detector.Detector: the network's output φ(x).
func (m *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, m.w1 != nil, x, m.shape); err != nil {
		return nil, err
	}
	n, h := x.N, m.w1.Shape[0]
	dst := make([]float64, n)
	blocks := (n + scoreChunk - 1) / scoreChunk
	workers := m.Options.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, blocks)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			hid := make([]float32, scoreChunk*h)
			for bl := w; bl < blocks; bl += workers {
				if ctx.Err() != nil {
					return
				}
				lo, hi := bl*scoreChunk, min(n, (bl+1)*scoreChunk)
				m.hidden(hid, x.X[lo*m.d:hi*m.d], hi-lo)
				for i := 0; i < hi-lo; i++ {
					s := m.b2.Data[0]
					for j, v := range hid[i*h : (i+1)*h] {
						s += v * m.w2.Data[j]
					}
					dst[lo+i] = float64(s)
				}
			}
		}(w)
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return dst, nil
}

// config is the stored configuration. Shape is absent from models saved
// before it was added; they were fitted on rows of Dim features.
type config struct {
	Options Options `json:"options"`
	Dim     int     `json:"dim"`
	Shape   []int   `json:"shape,omitempty"`
}

// Marshal implements detector.Detector: the options, the input shape and
// the network's four parameter tensors.
func (m *Detector) Marshal() (*detector.Payload, error) {
	if m.w1 == nil {
		return nil, detector.ErrNotFitted
	}
	c, err := json.Marshal(config{Options: m.Options, Dim: m.d, Shape: m.shape})
	if err != nil {
		return nil, err
	}
	return &detector.Payload{Config: c, Tensors: m.params()}, nil
}

// Unmarshal implements detector.Detector. It restores the saved options
// (all but Workers, which stays as m had it).
func (m *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: devnet config: %v", detector.ErrPayload, err)
	}
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	if c.Dim < 1 {
		return fmt.Errorf("%w: devnet input width %d", detector.ErrPayload, c.Dim)
	}
	if c.Shape == nil {
		c.Shape = []int{c.Dim}
	}
	if sh := (&data.Dataset{Shape: c.Shape}); sh.Dim() != c.Dim || slices.ContainsFunc(c.Shape, func(s int) bool { return s < 1 }) {
		return fmt.Errorf("%w: devnet input shape %v does not hold %d features", detector.ErrPayload, c.Shape, c.Dim)
	}
	h := c.Options.Hidden
	shapes := map[string][]int{"hidden.weight": {h, c.Dim}, "hidden.bias": {h}, "score.weight": {1, h}, "score.bias": {1}}
	got := map[string]*tensor.Tensor{}
	for name, shape := range shapes {
		t, err := p.Tensor(name)
		if err != nil {
			return err
		}
		if !tensor.SameShape(t.Shape, shape) {
			return fmt.Errorf("%w: devnet tensor %s has shape %v, want %v", detector.ErrPayload, name, t.Shape, shape)
		}
		if t.HasNaN() {
			return fmt.Errorf("%w: devnet tensor %s holds NaN", detector.ErrPayload, name)
		}
		got[name] = t
	}
	c.Options.Workers = m.Options.Workers
	m.Options, m.d, m.shape = c.Options, c.Dim, c.Shape
	m.w1, m.b1, m.w2, m.b2 = got["hidden.weight"], got["hidden.bias"], got["score.weight"], got["score.bias"]
	return nil
}
