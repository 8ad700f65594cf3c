// Package devnet owns DevNet (Pang, Shen and van den Hengel, "Deep Anomaly
// Detection with Deviation Networks", KDD 2019), one of the two strongest
// baselines of DPLAN's paper, as a detector.Detector.
//
// The network is d → Dense(20) + ReLU → Dense(1), the anomaly score its
// output. Training minimises the deviation loss: with reference scores r drawn
// once from N(0, 1) (5,000 draws), dev = (score − mean(r)) / std(r) and
// loss = (1 − y)|dev| + y·max(0, 5 − dev), y = 1 for labelled anomalies, 0
// for unlabelled data; each batch of 512 alternates an unlabelled row and a
// labelled anomaly, drawn at random with replacement; 50 epochs × 20 batches.
//
// Optimiser, as the official devnet.py has it (a lead read it there; the
// METHODS.md figure "gradient clipping at 0.001" is the learning rate):
// Keras RMSprop(lr 0.001, rho 0.9, eps 1e-7, clipnorm = 1), with clipnorm
// applied by optim.ClipGradNormKeras to the global gradient norm; the loss
// includes the L2 penalty 0.01·ΣW² of the hidden layer's weights (Keras
// kernel_regularizer=l2(0.01)). Initialisation is Keras's default
// (Glorot-uniform weights, zero biases). Every setting is an Options field.
//
// The two-layer network's forward and backward passes are written by hand
// with kernels.Sgemm on reused buffers (no tape): at this size the tape's
// per-operation allocations would dominate. The parameters stay
// tensor.Tensor values so optim and the model file handle them.
package devnet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/initw"
	"github.com/oddity-ml/oddity/kernels"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// Method is DevNet's registered method name.
const Method = "devnet"

func init() {
	detector.Register(Method, func() detector.Detector { return &Detector{} })
}

// Sentinel errors.
var (
	// ErrOption reports an invalid option.
	ErrOption = errors.New("devnet: bad option")
	// ErrInput reports unusable data.
	ErrInput = errors.New("devnet: bad input")
)

// Options configures DevNet; DefaultOptions gives the official settings.
type Options struct {
	// Hidden is the hidden layer's width (20).
	Hidden int `json:"hidden"`
	// Epochs × BatchesPerEpoch batches of Batch rows are trained (50 × 20 × 512).
	Epochs          int `json:"epochs"`
	BatchesPerEpoch int `json:"batches_per_epoch"`
	Batch           int `json:"batch"`
	// LR, Rho and Eps configure RMSprop (0.001, 0.9, 1e-7).
	LR  float64 `json:"lr"`
	Rho float64 `json:"rho"`
	Eps float64 `json:"eps"`
	// ClipNorm rescales the gradient to this global norm when larger (1;
	// 0 disables).
	ClipNorm float64 `json:"clipnorm"`
	// L2 is the penalty coefficient on the hidden weights (0.01).
	L2 float64 `json:"l2"`
	// Margin is the deviation margin for anomalies (5).
	Margin float64 `json:"margin"`
	// RefSize is the number of N(0,1) reference scores (5,000).
	RefSize int `json:"ref_size"`
	// Seed seeds every random choice.
	Seed uint64 `json:"seed"`
	// Workers bounds scoring goroutines (0: GOMAXPROCS).
	Workers int `json:"-"`
}

// DefaultOptions returns the official devnet.py settings.
func DefaultOptions() Options {
	return Options{Hidden: 20, Epochs: 50, BatchesPerEpoch: 20, Batch: 512, LR: 1e-3, Rho: 0.9, Eps: 1e-7,
		ClipNorm: 1, L2: 0.01, Margin: 5, RefSize: 5000}
}

// Validate reports the first invalid option.
func (o Options) Validate() error {
	bad := func(name string, v any) error { return fmt.Errorf("%w: %s = %v", ErrOption, name, v) }
	fin := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case o.Hidden < 1:
		return bad("hidden", o.Hidden)
	case o.Epochs < 1 || o.BatchesPerEpoch < 1:
		return bad("epochs × batches", fmt.Sprint(o.Epochs, "×", o.BatchesPerEpoch))
	case o.Batch < 2:
		return bad("batch", o.Batch)
	case !(o.LR > 0) || !fin(o.LR):
		return bad("lr", o.LR)
	case !(o.Rho >= 0 && o.Rho < 1):
		return bad("rho", o.Rho)
	case !(o.Eps >= 0) || !fin(o.Eps):
		return bad("eps", o.Eps)
	case !(o.ClipNorm >= 0) || !fin(o.ClipNorm):
		return bad("clipnorm", o.ClipNorm)
	case !(o.L2 >= 0) || !fin(o.L2):
		return bad("l2", o.L2)
	case !(o.Margin > 0) || !fin(o.Margin):
		return bad("margin", o.Margin)
	case o.RefSize < 2:
		return bad("ref size", o.RefSize)
	case o.Workers < 0:
		return bad("workers", o.Workers)
	}
	return nil
}

// Detector is DevNet as a detector.Detector.
type Detector struct {
	// Options are the settings Fit uses.
	Options Options
	// Losses holds the mean training loss of each epoch of the last Fit.
	Losses []float64

	w1, b1, w2, b2 *tensor.Tensor
	d              int
}

// New returns an unfitted DevNet with options o.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (m *Detector) Method() string { return Method }

func (m *Detector) params() []*tensor.Tensor { return []*tensor.Tensor{m.w1, m.b1, m.w2, m.b2} }

// Fit implements detector.Detector: ts.X is the unlabelled data and
// ts.Anomalies the labelled anomalies (at least one).
func (m *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	o := m.Options
	if err := o.Validate(); err != nil {
		return err
	}
	if ts.X == nil || ts.X.N == 0 || ts.Anomalies == nil || ts.Anomalies.N == 0 {
		return fmt.Errorf("%w: DevNet needs unlabelled data and at least one labelled anomaly", ErrInput)
	}
	if err := ts.X.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInput, err)
	}
	if err := ts.Anomalies.Validate(); err != nil {
		return fmt.Errorf("%w: labelled anomalies: %v", ErrInput, err)
	}
	d, h, b := ts.X.Dim(), o.Hidden, o.Batch
	if ts.Anomalies.Dim() != d {
		return fmt.Errorf("%w: labelled anomalies have %d features, unlabelled data %d", ErrInput, ts.Anomalies.Dim(), d)
	}
	r := rand.New(rand.NewPCG(o.Seed, 0x4445_564e))
	if err := m.initParams(d, r); err != nil {
		return err
	}
	// Reference scores: drawn once, as the official code's K.variable.
	var sum, sq float64
	for i := 0; i < o.RefSize; i++ {
		v := r.NormFloat64()
		sum += v
		sq += v * v
	}
	mu := sum / float64(o.RefSize)
	sigma := math.Sqrt(max(sq/float64(o.RefSize)-mu*mu, 1e-12))
	opt, err := optim.NewRMSprop(m.params(), optim.RMSpropConfig{LR: o.LR, Alpha: o.Rho, Eps: o.Eps})
	if err != nil {
		return err
	}
	bb := newBuffers(b, d, h)
	m.Losses = m.Losses[:0]
	for ep := 0; ep < o.Epochs; ep++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		var epLoss float64
		for it := 0; it < o.BatchesPerEpoch; it++ {
			for i := 0; i < b; i++ {
				if i%2 == 0 {
					copy(bb.x[i*d:(i+1)*d], ts.X.Row(r.IntN(ts.X.N)))
					bb.y[i] = 0
				} else {
					copy(bb.x[i*d:(i+1)*d], ts.Anomalies.Row(r.IntN(ts.Anomalies.N)))
					bb.y[i] = 1
				}
			}
			epLoss += m.lossGrad(bb, b, mu, sigma)
			if o.ClipNorm > 0 {
				optim.ClipGradNormKeras(m.params(), o.ClipNorm)
			}
			opt.Step()
		}
		m.Losses = append(m.Losses, epLoss/float64(o.BatchesPerEpoch))
		if ts.Progress != nil {
			ts.Progress(detector.Progress{Phase: "epoch", Done: ep + 1, Total: o.Epochs, Metrics: map[string]float64{"loss": m.Losses[ep]}})
		}
	}
	for _, p := range m.params() {
		p.SetRequiresGrad(false)
	}
	return nil
}

// initParams creates the network for d inputs with Keras's default
// initialisation (Glorot-uniform weights, zero biases).
func (m *Detector) initParams(d int, r *rand.Rand) error {
	h := m.Options.Hidden
	m.d = d
	m.w1, m.b1 = tensor.Param("hidden.weight", h, d), tensor.Param("hidden.bias", h)
	m.w2, m.b2 = tensor.Param("score.weight", 1, h), tensor.Param("score.bias", 1)
	if err := initw.XavierUniform(r, m.w1, 1); err != nil {
		return err
	}
	return initw.XavierUniform(r, m.w2, 1)
}

type buffers struct {
	x, y, hid, ds, dh []float32
}

func newBuffers(b, d, h int) *buffers {
	return &buffers{x: make([]float32, b*d), y: make([]float32, b), hid: make([]float32, b*h),
		ds: make([]float32, b), dh: make([]float32, b*h)}
}

// lossGrad returns the loss of the batch (bb.x, bb.y) — mean deviation loss
// plus L2·ΣW1² — and writes its gradient into the parameters' gradients.
func (m *Detector) lossGrad(bb *buffers, b int, mu, sigma float64) float64 {
	o := m.Options
	h, d := m.w1.Shape[0], m.d
	m.hidden(bb.hid, bb.x, b)
	var loss float64
	inv := 1 / float64(b)
	for i := 0; i < b; i++ {
		s := float64(m.b2.Data[0])
		for j, v := range bb.hid[i*h : (i+1)*h] {
			s += float64(v * m.w2.Data[j])
		}
		dev := (s - mu) / sigma
		var g float64
		if bb.y[i] == 0 {
			loss += math.Abs(dev)
			if dev > 0 {
				g = 1
			} else if dev < 0 {
				g = -1
			}
		} else if dev < o.Margin {
			loss += o.Margin - dev
			g = -1
		}
		bb.ds[i] = float32(g * inv / sigma)
	}
	var l2 float64
	for _, w := range m.w1.Data {
		l2 += float64(w) * float64(w)
	}
	gW1, gB1, gW2, gB2 := m.w1.Grad(), m.b1.Grad(), m.w2.Grad(), m.b2.Grad()
	clear(gW2)
	gB2[0] = 0
	for i := 0; i < b; i++ {
		g := bb.ds[i]
		gB2[0] += g
		for j, v := range bb.hid[i*h : (i+1)*h] {
			gW2[j] += g * v
			if v > 0 {
				bb.dh[i*h+j] = g * m.w2.Data[j]
			} else {
				bb.dh[i*h+j] = 0
			}
		}
	}
	clear(gB1)
	for i := 0; i < b; i++ {
		for j, v := range bb.dh[i*h : (i+1)*h] {
			gB1[j] += v
		}
	}
	copy(gW1, m.w1.Data)
	kernels.Sgemm(true, false, h, d, b, 1, bb.dh, h, bb.x, d, float32(2*o.L2), gW1, d)
	return loss*inv + o.L2*l2
}

// hidden writes relu(x·W1ᵀ + b1) for n rows into hid.
func (m *Detector) hidden(hid, x []float32, n int) {
	h := m.w1.Shape[0]
	for i := 0; i < n; i++ {
		copy(hid[i*h:(i+1)*h], m.b1.Data)
	}
	kernels.Sgemm(false, true, n, h, m.d, 1, x[:n*m.d], m.d, m.w1.Data, m.d, 1, hid[:n*h], h)
	for i, v := range hid[:n*h] {
		if v < 0 {
			hid[i] = 0
		}
	}
}

const scoreChunk = 4096

// Score implements detector.Detector: the network's output.
func (m *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if m.w1 == nil {
		return nil, detector.ErrNotFitted
	}
	if x == nil || x.Dim() != m.d || len(x.X) != x.N*m.d {
		return nil, fmt.Errorf("%w: data does not have the model's %d features", detector.ErrSchema, m.d)
	}
	if err := ctx.Err(); err != nil {
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
	return dst, nil
}

type config struct {
	Options Options `json:"options"`
	Dim     int     `json:"dim"`
}

// Marshal implements detector.Detector.
func (m *Detector) Marshal() (*detector.Payload, error) {
	if m.w1 == nil {
		return nil, detector.ErrNotFitted
	}
	c, err := json.Marshal(config{Options: m.Options, Dim: m.d})
	if err != nil {
		return nil, err
	}
	return &detector.Payload{Config: c, Tensors: m.params()}, nil
}

// Unmarshal implements detector.Detector.
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
	m.Options, m.d = c.Options, c.Dim
	m.w1, m.b1, m.w2, m.b2 = got["hidden.weight"], got["hidden.bias"], got["score.weight"], got["score.bias"]
	return nil
}
