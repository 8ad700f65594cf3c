// Package deepsad owns Deep SAD (Ruff et al., "Deep Semi-Supervised Anomaly
// Detection", ICLR 2020), one of the two strongest baselines of DPLAN's
// paper, as a detector.Detector for tabular data.
//
// A bias-free MLP φ (d → 32 → 16 → 8 by default, LeakyReLU(0.01) between
// layers, as the official code's "*_mlp" networks for cardio, satellite,
// shuttle and thyroid) is first pretrained as the encoder of an autoencoder
// (mirror decoder with a sigmoid output, mean squared reconstruction error).
// The centre c is then the mean of φ over all training rows, with
// coordinates closer to 0 than 0.1 pushed to ±0.1 (as the official code
// does). Training minimises, per minibatch,
//
//	mean over unlabelled rows of ‖φ(x) − c‖² + η · mean over labelled anomalies of (‖φ(x) − c‖² + 1e-6)⁻¹
//
// (η = 1), and the score is ‖φ(x) − c‖². Both phases use Adam (lr 1e-3,
// weight decay 1e-6) over shuffled batches of 128 of the union of the
// unlabelled rows and the labelled anomalies (the official defaults).
// Departure from the official network: no batch normalisation (the
// official MLP has BatchNorm1d(affine=False) after each hidden layer), which
// keeps scoring a pure function of one row. MaxBatches caps the batches of
// an epoch on large data sets; 0 (the default) runs full epochs.
//
// The networks run on the tensor package's tape; the per-batch work is large
// enough that the tape's overhead does not matter.
package deepsad

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// Method is Deep SAD's registered method name.
const Method = "deepsad"

func init() {
	detector.Register(Method, func() detector.Detector { return &Detector{} })
}

// Sentinel errors.
var (
	// ErrOption reports an invalid option.
	ErrOption = errors.New("deepsad: bad option")
	// ErrInput reports unusable data.
	ErrInput = errors.New("deepsad: bad input")
)

// Options configures Deep SAD; DefaultOptions gives the official settings.
type Options struct {
	// Hidden are the hidden layers' widths ([32, 16]) and Rep the
	// representation's (8).
	Hidden []int `json:"hidden"`
	Rep    int   `json:"rep"`
	// AEEpochs and Epochs are the pretraining and training epochs (100, 50).
	AEEpochs int `json:"ae_epochs"`
	Epochs   int `json:"epochs"`
	// Batch is the minibatch size (128).
	Batch int `json:"batch"`
	// MaxBatches caps the batches per epoch (0: full epochs).
	MaxBatches int `json:"max_batches"`
	// LR and WeightDecay configure Adam in both phases (1e-3, 1e-6).
	LR          float64 `json:"lr"`
	WeightDecay float64 `json:"weight_decay"`
	// Eta weighs the labelled anomalies' term (1).
	Eta float64 `json:"eta"`
	// Seed seeds every random choice.
	Seed uint64 `json:"seed"`
}

// DefaultOptions returns the official Deep SAD settings for tabular data.
func DefaultOptions() Options {
	return Options{Hidden: []int{32, 16}, Rep: 8, AEEpochs: 100, Epochs: 50, Batch: 128, LR: 1e-3, WeightDecay: 1e-6, Eta: 1}
}

// Validate reports the first invalid option.
func (o Options) Validate() error {
	bad := func(name string, v any) error { return fmt.Errorf("%w: %s = %v", ErrOption, name, v) }
	for _, h := range o.Hidden {
		if h < 1 {
			return bad("hidden", o.Hidden)
		}
	}
	switch {
	case o.Rep < 1:
		return bad("rep", o.Rep)
	case o.AEEpochs < 0 || o.Epochs < 0:
		return bad("epochs", fmt.Sprint(o.AEEpochs, ",", o.Epochs))
	case o.Batch < 1:
		return bad("batch", o.Batch)
	case o.MaxBatches < 0:
		return bad("max batches", o.MaxBatches)
	case !(o.LR > 0) || math.IsInf(o.LR, 0):
		return bad("lr", o.LR)
	case !(o.WeightDecay >= 0) || math.IsInf(o.WeightDecay, 0):
		return bad("weight decay", o.WeightDecay)
	case !(o.Eta >= 0) || math.IsInf(o.Eta, 0):
		return bad("eta", o.Eta)
	}
	return nil
}

// Detector is Deep SAD as a detector.Detector.
type Detector struct {
	// Options are the settings Fit uses.
	Options Options
	// AELosses and Losses hold the mean loss of each epoch of the last Fit.
	AELosses, Losses []float64

	enc []*nn.Linear
	c   []float32
	d   int
}

// New returns an unfitted Deep SAD detector with options o.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (m *Detector) Method() string { return Method }

const slope = 0.01

func widths(d int, o Options) []int {
	return append(append([]int{d}, o.Hidden...), o.Rep)
}

// encode runs φ on x (n × d).
func (m *Detector) encode(tp *tensor.Tape, x *tensor.Tensor) *tensor.Tensor {
	for i, l := range m.enc {
		x = l.Forward(tp, x)
		if i < len(m.enc)-1 {
			x = tp.LeakyReLU(x, slope)
		}
	}
	return x
}

func params(ls []*nn.Linear) []*tensor.Tensor {
	var ps []*tensor.Tensor
	for _, l := range ls {
		ps = append(ps, l.Parameters()...)
	}
	return ps
}

// Fit implements detector.Detector: ts.X is the unlabelled data and
// ts.Anomalies the labelled anomalies (may be empty: Deep SVDD).
func (m *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	o := m.Options
	if err := o.Validate(); err != nil {
		return err
	}
	if ts.X == nil || ts.X.N == 0 {
		return fmt.Errorf("%w: no unlabelled training data", ErrInput)
	}
	if err := ts.X.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInput, err)
	}
	d := ts.X.Dim()
	all := ts.X
	nU := ts.X.N
	if ts.Anomalies != nil && ts.Anomalies.N > 0 {
		if err := ts.Anomalies.Validate(); err != nil {
			return fmt.Errorf("%w: labelled anomalies: %v", ErrInput, err)
		}
		if ts.Anomalies.Dim() != d {
			return fmt.Errorf("%w: labelled anomalies have %d features, unlabelled data %d", ErrInput, ts.Anomalies.Dim(), d)
		}
		var err error
		if all, err = data.Concat("train", ts.X, ts.Anomalies); err != nil {
			return err
		}
	}
	n := all.N
	r := rand.New(rand.NewPCG(o.Seed, 0x5341_44))
	w := widths(d, o)
	m.d = d
	m.enc = nil
	for i := 0; i+1 < len(w); i++ {
		m.enc = append(m.enc, nn.Prefix(fmt.Sprintf("enc.%d", i), nn.NewLinear(w[i], w[i+1], false, r)))
	}
	var dec []*nn.Linear
	for i := len(w) - 1; i > 0; i-- {
		dec = append(dec, nn.NewLinear(w[i], w[i-1], false, r))
	}
	xs := tensor.FromData(all.X, n, d)
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	batches := func() int {
		k := (n + o.Batch - 1) / o.Batch
		if o.MaxBatches > 0 {
			k = min(k, o.MaxBatches)
		}
		return k
	}()
	idx := make([]int, 0, o.Batch)
	// Phase 1: autoencoder.
	aeParams := append(params(m.enc), params(dec)...)
	ae, err := optim.NewAdam(aeParams, optim.AdamConfig{LR: o.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: o.WeightDecay})
	if err != nil {
		return err
	}
	m.AELosses, m.Losses = m.AELosses[:0], m.Losses[:0]
	tp := tensor.NewTape()
	for ep := 0; ep < o.AEEpochs; ep++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var sum float64
		for b := 0; b < batches; b++ {
			idx = append(idx[:0], perm[b*o.Batch:min(n, (b+1)*o.Batch)]...)
			x := tensor.NoGrad.Rows(xs, idx)
			z := m.encode(tp, x)
			for i, l := range dec {
				z = l.Forward(tp, z)
				if i < len(dec)-1 {
					z = tp.LeakyReLU(z, slope)
				}
			}
			loss := tp.MSELoss(tp.Sigmoid(z), x)
			sum += float64(loss.Item())
			ae.ZeroGrad()
			tp.Backward(loss)
			ae.Step()
		}
		m.AELosses = append(m.AELosses, sum/float64(batches))
		if ts.Progress != nil {
			ts.Progress(detector.Progress{Phase: "pretrain", Done: ep + 1, Total: o.AEEpochs, Metrics: map[string]float64{"loss": sum / float64(batches)}})
		}
	}
	// Centre.
	z := m.encode(tensor.NoGrad, xs)
	rep := o.Rep
	c := make([]float64, rep)
	for i := 0; i < n; i++ {
		for j := 0; j < rep; j++ {
			c[j] += float64(z.Data[i*rep+j])
		}
	}
	m.c = make([]float32, rep)
	for j := range c {
		v := c[j] / float64(n)
		if math.Abs(v) < 0.1 {
			v = math.Copysign(0.1, v)
		}
		m.c[j] = float32(v)
	}
	// Phase 2: Deep SAD.
	opt, err := optim.NewAdam(params(m.enc), optim.AdamConfig{LR: o.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: o.WeightDecay})
	if err != nil {
		return err
	}
	for ep := 0; ep < o.Epochs; ep++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		r.Shuffle(n, func(i, j int) { perm[i], perm[j] = perm[j], perm[i] })
		var sum float64
		for b := 0; b < batches; b++ {
			idx = append(idx[:0], perm[b*o.Batch:min(n, (b+1)*o.Batch)]...)
			z := m.encode(tp, tensor.NoGrad.Rows(xs, idx))
			loss := m.sadLoss(tp, z, idx, nU)
			sum += float64(loss.Item())
			opt.ZeroGrad()
			tp.Backward(loss)
			opt.Step()
		}
		m.Losses = append(m.Losses, sum/float64(batches))
		if ts.Progress != nil {
			ts.Progress(detector.Progress{Phase: "epoch", Done: ep + 1, Total: o.Epochs, Metrics: map[string]float64{"loss": sum / float64(batches)}})
		}
	}
	for _, p := range params(m.enc) {
		p.SetRequiresGrad(false)
	}
	return nil
}

// sadLoss is the Deep SAD loss of the batch representations z (rows idx of
// the training set; an index >= nU is a labelled anomaly).
func (m *Detector) sadLoss(tp *tensor.Tape, z *tensor.Tensor, idx []int, nU int) *tensor.Tensor {
	rep := len(m.c)
	eta := m.Options.Eta
	const eps = 1e-6
	var nu, na int
	for _, i := range idx {
		if i < nU {
			nu++
		} else {
			na++
		}
	}
	dist := make([]float64, len(idx))
	var lu, la float64
	for b, i := range idx {
		var s float64
		for j := 0; j < rep; j++ {
			t := float64(z.Data[b*rep+j] - m.c[j])
			s += t * t
		}
		dist[b] = s
		if i < nU {
			lu += s
		} else {
			la += 1 / (s + eps)
		}
	}
	var loss float64
	if nu > 0 {
		loss += lu / float64(nu)
	}
	if na > 0 {
		loss += eta * la / float64(na)
	}
	out := tensor.Scalar(float32(loss))
	return tp.Record(out, func() {
		g := out.Grad()[0]
		gz := z.Grad()
		for b, i := range idx {
			var k float64
			if i < nU {
				k = 1 / float64(nu)
			} else {
				s := dist[b] + eps
				k = -eta / float64(na) / (s * s)
			}
			for j := 0; j < rep; j++ {
				gz[b*rep+j] += g * float32(2*k*float64(z.Data[b*rep+j]-m.c[j]))
			}
		}
	}, z)
}

// Score implements detector.Detector: ‖φ(x) − c‖².
func (m *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if m.enc == nil {
		return nil, detector.ErrNotFitted
	}
	if x == nil || x.Dim() != m.d || len(x.X) != x.N*m.d {
		return nil, fmt.Errorf("%w: data does not have the model's %d features", detector.ErrSchema, m.d)
	}
	out := make([]float64, x.N)
	rep := len(m.c)
	const chunk = 8192
	for lo := 0; lo < x.N; lo += chunk {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(x.N, lo+chunk)
		z := m.encode(tensor.NoGrad, tensor.FromData(x.X[lo*m.d:hi*m.d], hi-lo, m.d))
		for i := 0; i < hi-lo; i++ {
			var s float64
			for j := 0; j < rep; j++ {
				t := float64(z.Data[i*rep+j] - m.c[j])
				s += t * t
			}
			out[lo+i] = s
		}
	}
	return out, nil
}

type config struct {
	Options Options   `json:"options"`
	Dim     int       `json:"dim"`
	Center  []float32 `json:"center"`
}

// Marshal implements detector.Detector: options, centre and φ's weights.
func (m *Detector) Marshal() (*detector.Payload, error) {
	if m.enc == nil {
		return nil, detector.ErrNotFitted
	}
	c, err := json.Marshal(config{Options: m.Options, Dim: m.d, Center: m.c})
	if err != nil {
		return nil, err
	}
	return &detector.Payload{Config: c, Tensors: params(m.enc)}, nil
}

// Unmarshal implements detector.Detector.
func (m *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: deepsad config: %v", detector.ErrPayload, err)
	}
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	if c.Dim < 1 || len(c.Center) != c.Options.Rep {
		return fmt.Errorf("%w: deepsad input width %d, centre of %d values for rep %d", detector.ErrPayload, c.Dim, len(c.Center), c.Options.Rep)
	}
	w := widths(c.Dim, c.Options)
	var enc []*nn.Linear
	for i := 0; i+1 < len(w); i++ {
		name := fmt.Sprintf("enc.%d.weight", i)
		t, err := p.Tensor(name)
		if err != nil {
			return err
		}
		if !tensor.SameShape(t.Shape, []int{w[i+1], w[i]}) {
			return fmt.Errorf("%w: deepsad tensor %s has shape %v, want [%d %d]", detector.ErrPayload, name, t.Shape, w[i+1], w[i])
		}
		if t.HasNaN() {
			return fmt.Errorf("%w: deepsad tensor %s holds NaN", detector.ErrPayload, name)
		}
		enc = append(enc, &nn.Linear{Weight: t})
	}
	m.Options, m.d, m.c, m.enc = c.Options, c.Dim, c.Center, enc
	return nil
}
