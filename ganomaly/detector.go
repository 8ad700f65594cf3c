package ganomaly

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// Method names under which the detectors register.
const (
	MethodGANomaly = "ganomaly"
	MethodCAE      = "cae"
)

func init() {
	detector.Register(MethodGANomaly, func() detector.Detector { return &GANomaly{base{kind: MethodGANomaly}} })
	detector.Register(MethodCAE, func() detector.Detector { return &CAE{base{kind: MethodCAE}} })
}

// Epoch selection rules (Options.Select).
const (
	// SelectLast keeps the weights after the last epoch.
	SelectLast = "last"
	// SelectVal keeps the weights of the epoch with the lowest validation
	// loss (GANomaly: the weighted generator loss; CAE: the reconstruction
	// loss), measured on held-out normal training images with BatchNorm in
	// inference mode. No anomaly and no test image is involved.
	SelectVal = "val"
)

// Options configure both detectors. Start from DefaultOptions (the paper's
// schedule) or CPUOptions and change what is needed; Fit validates them.
type Options struct {
	// Width is the first convolution's channel count w (64).
	Width int `json:"width"`
	// NZ is the latent size (100).
	NZ int `json:"nz"`
	// WAdv, WCon, WEnc weight GANomaly's adversarial (feature-matching),
	// contextual (L1) and encoder (L2) losses (1, 50, 1). CAE ignores them.
	WAdv float64 `json:"w_adv"`
	WCon float64 `json:"w_con"`
	WEnc float64 `json:"w_enc"`
	// Epochs over the training images (15) in batches of BatchSize (64);
	// the last incomplete batch of an epoch is dropped, as the reference
	// code's loader does.
	Epochs    int `json:"epochs"`
	BatchSize int `json:"batch_size"`
	// LR, Beta1 and Beta2 configure Adam (2e-4, 0.5, 0.999).
	LR    float64 `json:"lr"`
	Beta1 float64 `json:"beta1"`
	Beta2 float64 `json:"beta2"`
	// ReinitBelow re-initialises the discriminator when its loss falls below
	// it (1e-5; 0 never).
	ReinitBelow float64 `json:"reinit_below"`
	// Side is the network input side S (4·2^k); 0 picks the smallest valid
	// side that holds the images (32 for MNIST and CIFAR-10).
	Side int `json:"side"`
	// FitMode is FitPad (default) or FitResize.
	FitMode string `json:"fit_mode"`
	// MaxImages, when positive, uses a seeded random subset of at most that
	// many training images (validation split included).
	MaxImages int `json:"max_images"`
	// ValFraction of the (used) training images is held out for validation
	// (0.1).
	ValFraction float64 `json:"val_fraction"`
	// Select is SelectVal (default) or SelectLast.
	Select string `json:"select"`
	// Loss is the CAE's training loss and score: "l2" (default, mean squared
	// error) or "l1" (mean absolute error). GANomaly ignores it.
	Loss string `json:"loss"`
	// Seed seeds initialisation, the validation split, subsampling and
	// shuffling.
	Seed uint64 `json:"seed"`
}

// DefaultOptions is the paper's schedule: width 64, nz 100, weights
// (1, 50, 1), 15 epochs of batch 64, Adam(2e-4, 0.5, 0.999), D reset below
// 1e-5, plus this package's 10% validation split and validation-selected
// epoch.
func DefaultOptions() Options {
	return Options{Width: 64, NZ: 100, WAdv: 1, WCon: 50, WEnc: 1, Epochs: 15, BatchSize: 64,
		LR: 2e-4, Beta1: 0.5, Beta2: 0.999, ReinitBelow: 1e-5, FitMode: FitPad, ValFraction: 0.1,
		Select: SelectVal, Loss: "l2"}
}

// CPUOptions is the reduced schedule for a CPU: width 16 and 4 epochs on a
// random 12,000 training images (10,800 after the validation split), other
// settings as DefaultOptions. An MNIST leave-one-digit-out sweep (ten
// digits, one seed) fits in two hours on two cores: its GANomaly runs took
// about 45 minutes in all on a 2-core machine shared with other jobs.
func CPUOptions() Options {
	o := DefaultOptions()
	o.Width, o.Epochs, o.MaxImages = 16, 4, 12000
	return o
}

// Validate reports the first unusable option.
func (o Options) Validate() error {
	finite := func(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
	switch {
	case o.Width < 1 || o.NZ < 1:
		return fmt.Errorf("ganomaly: width %d and latent size %d must be positive", o.Width, o.NZ)
	case !finite(o.WAdv) || !finite(o.WCon) || !finite(o.WEnc) || o.WAdv < 0 || o.WCon < 0 || o.WEnc < 0:
		return fmt.Errorf("ganomaly: loss weights (%v, %v, %v) must be finite and non-negative", o.WAdv, o.WCon, o.WEnc)
	case o.Epochs < 1:
		return fmt.Errorf("ganomaly: epochs %d must be positive", o.Epochs)
	case o.BatchSize < 2:
		return fmt.Errorf("ganomaly: batch size %d must be at least 2 (BatchNorm)", o.BatchSize)
	case !(o.LR > 0) || !finite(o.LR):
		return fmt.Errorf("ganomaly: learning rate %v must be positive", o.LR)
	case !(o.Beta1 >= 0 && o.Beta1 < 1) || !(o.Beta2 >= 0 && o.Beta2 < 1):
		return fmt.Errorf("ganomaly: Adam betas (%v, %v) must lie in [0, 1)", o.Beta1, o.Beta2)
	case !(o.ReinitBelow >= 0) || !finite(o.ReinitBelow):
		return fmt.Errorf("ganomaly: reinit threshold %v must be non-negative", o.ReinitBelow)
	case o.MaxImages < 0:
		return fmt.Errorf("ganomaly: max images %d must not be negative", o.MaxImages)
	case !(o.ValFraction >= 0 && o.ValFraction <= 0.5):
		return fmt.Errorf("ganomaly: validation fraction %v must lie in [0, 0.5]", o.ValFraction)
	case o.Select != SelectVal && o.Select != SelectLast:
		return fmt.Errorf("ganomaly: unknown epoch selection %q (want %q or %q)", o.Select, SelectVal, SelectLast)
	case o.Select == SelectVal && o.ValFraction == 0:
		return fmt.Errorf("ganomaly: epoch selection %q needs a validation fraction above 0", SelectVal)
	case o.Loss != "l2" && o.Loss != "l1":
		return fmt.Errorf("ganomaly: unknown CAE loss %q (want l2 or l1)", o.Loss)
	case o.FitMode != FitPad && o.FitMode != FitResize:
		return fmt.Errorf("ganomaly: unknown fit mode %q (want %q or %q)", o.FitMode, FitPad, FitResize)
	}
	if o.Side != 0 {
		return ValidSide(o.Side)
	}
	return nil
}

// EpochStats is one epoch of training, as recorded in History.
type EpochStats struct {
	Epoch int `json:"epoch"`
	// Mean training losses over the epoch's batches (CAE: Con is its
	// reconstruction loss and G equals it; Adv, Enc and D are 0).
	Adv float64 `json:"adv"`
	Con float64 `json:"con"`
	Enc float64 `json:"enc"`
	G   float64 `json:"g"`
	D   float64 `json:"d"`
	// Val is the validation criterion (0 without a validation split).
	Val float64 `json:"val"`
	// ReinitD counts discriminator re-initialisations.
	ReinitD int `json:"reinit_d"`
	// Seconds is the epoch's wall time.
	Seconds float64 `json:"seconds"`
}

// model is what the shared training loop drives: GANomaly's four networks
// or the plain autoencoder.
type model interface {
	step(x *tensor.Tensor) Losses
	eval(x *tensor.Tensor) Losses
	score(x *tensor.Tensor) []float32
	reconstruct(x *tensor.Tensor) *tensor.Tensor
	// latent returns the encoder's code of x (N×NZ×1×1).
	latent(x *tensor.Tensor) *tensor.Tensor
	setTraining(bool)
	// scoring returns the tensors scoring needs (saved in model files).
	scoring() []*tensor.Tensor
	// all returns every tensor of the networks (for epoch snapshots).
	all() []*tensor.Tensor
}

// base is the state and behaviour GANomaly and CAE share.
type base struct {
	kind  string
	opt   Options
	geo   geometry
	m     model
	hist  []EpochStats
	best  int // 1-based epoch whose weights are kept
	nTr   int
	nVal  int
	ready bool
}

// config is what Marshal stores as JSON.
type config struct {
	Options Options      `json:"options"`
	Shape   []int        `json:"input_shape"` // C, H, W
	Side    int          `json:"side"`
	History []EpochStats `json:"history"`
	Best    int          `json:"best_epoch"`
	Train   int          `json:"train_images"`
	Val     int          `json:"val_images"`
}

// GANomaly is the GANomaly detector (method "ganomaly"): Fit trains the
// generator, second encoder and discriminator on normal images; Score is the
// latent distance A(x) = mean((GE(x) - E(G(x)))²).
type GANomaly struct{ base }

// CAE is the plain convolutional autoencoder baseline (method "cae"): GE and
// GD of GANomaly's generator (same width and latent size, so the same size),
// trained on reconstruction loss alone, without second encoder or
// adversary; Score is the per-image reconstruction error (mean squared, or
// mean absolute with Loss "l1").
type CAE struct{ base }

// New returns an unfitted GANomaly detector.
func New(opt Options) *GANomaly { return &GANomaly{base{kind: MethodGANomaly, opt: opt}} }

// NewCAE returns an unfitted autoencoder baseline.
func NewCAE(opt Options) *CAE { return &CAE{base{kind: MethodCAE, opt: opt}} }

// Method implements detector.Detector.
func (g *GANomaly) Method() string { return MethodGANomaly }

// Method implements detector.Detector.
func (a *CAE) Method() string { return MethodCAE }

// Options returns the detector's options.
func (b *base) Options() Options { return b.opt }

// History returns the per-epoch training record.
func (b *base) History() []EpochStats { return append([]EpochStats(nil), b.hist...) }

// BestEpoch is the (1-based) epoch whose weights the detector kept.
func (b *base) BestEpoch() int { return b.best }

// TrainImages counts the images Fit trained on (after MaxImages and the
// validation split).
func (b *base) TrainImages() int { return b.nTr }

// ValImages counts the held-out validation images of Fit.
func (b *base) ValImages() int { return b.nVal }

// Side is the network input side the detector uses (0 before Fit).
func (b *base) Side() int { return b.geo.S }

// build makes the networks for the geometry.
func (b *base) build() error {
	o := b.opt
	r := rand.New(rand.NewPCG(o.Seed, 0x4e4554)) // "NET"
	cfg := NetConfig{Channels: b.geo.C, Side: b.geo.S, Width: o.Width, NZ: o.NZ,
		WAdv: float32(o.WAdv), WCon: float32(o.WCon), WEnc: float32(o.WEnc),
		LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2, ReinitBelow: float32(o.ReinitBelow)}
	var err error
	if b.kind == MethodGANomaly {
		var n *Networks
		if n, err = NewNetworks(cfg, r); err == nil {
			b.m = ganModel{n}
		}
	} else {
		b.m, err = newAutoencoder(cfg, o.Loss == "l1", r)
	}
	return err
}

// Fit implements detector.Detector: it trains on ts.X (normal images, pixel
// values in [0, 1]; labels are ignored), holding out Options.ValFraction of
// them for validation.
func (b *base) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := b.opt.Validate(); err != nil {
		return err
	}
	x := ts.X
	if x == nil || x.N == 0 {
		return fmt.Errorf("%s: no training images", b.kind)
	}
	if err := x.Validate(); err != nil {
		return err
	}
	geo, err := newGeometry(x.Shape, b.opt.Side, b.opt.FitMode)
	if err != nil {
		return err
	}
	b.geo, b.ready, b.hist, b.best = geo, false, nil, 0
	if err := b.build(); err != nil {
		return err
	}
	o := b.opt

	// Validation split and subsample, from one seeded permutation.
	r := rand.New(rand.NewPCG(o.Seed, 0x53504c4954)) // "SPLIT"
	perm := r.Perm(x.N)
	if o.MaxImages > 0 && o.MaxImages < len(perm) {
		perm = perm[:o.MaxImages]
	}
	nVal := int(math.Round(o.ValFraction * float64(len(perm))))
	val, train := perm[:nVal], perm[nVal:]
	if len(train) < 2 {
		return fmt.Errorf("%s: %d training images after the validation split; need at least 2", b.kind, len(train))
	}
	b.nTr, b.nVal = len(train), nVal
	bs := min(o.BatchSize, len(train))
	steps := len(train) / bs
	sz := geo.C * geo.S * geo.S
	xb := tensor.New(bs, geo.C, geo.S, geo.S)
	shuf := rand.New(rand.NewPCG(o.Seed, 0x5348554646)) // "SHUFF"

	var snap []*tensor.Tensor
	bestVal := math.Inf(1)
	for ep := 1; ep <= o.Epochs; ep++ {
		start := time.Now()
		b.m.setTraining(true)
		shuf.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
		bar := progress.New(fmt.Sprintf("%s epoch %d/%d", b.kind, ep, o.Epochs), steps)
		var sum [5]float64
		st := EpochStats{Epoch: ep}
		for s := 0; s < steps; s++ {
			if err := ctx.Err(); err != nil {
				bar.Finish()
				return err
			}
			geo.fill(xb.Data[:bs*sz], x, train[s*bs:(s+1)*bs])
			l := b.m.step(xb)
			for i, v := range []float32{l.Adv, l.Con, l.Enc, l.G, l.D} {
				sum[i] += float64(v)
			}
			if l.ReinitD {
				st.ReinitD++
			}
			if math.IsNaN(float64(l.G)) || math.IsInf(float64(l.G), 0) {
				bar.Finish()
				return fmt.Errorf("%s: generator loss is %v at epoch %d step %d", b.kind, l.G, ep, s+1)
			}
			bar.Add(1, map[string]float64{"g": float64(l.G), "d": float64(l.D)})
		}
		bar.Finish()
		st.Adv, st.Con, st.Enc, st.G, st.D = sum[0]/float64(steps), sum[1]/float64(steps), sum[2]/float64(steps), sum[3]/float64(steps), sum[4]/float64(steps)
		b.m.setTraining(false)
		if nVal > 0 {
			st.Val = b.validate(x, val)
			if math.IsNaN(st.Val) || math.IsInf(st.Val, 0) {
				return fmt.Errorf("%s: validation loss is %v after epoch %d", b.kind, st.Val, ep)
			}
		}
		st.Seconds = time.Since(start).Seconds()
		b.hist = append(b.hist, st)
		if ts.Progress != nil {
			ts.Progress(detector.Progress{Phase: "epoch", Done: ep, Total: o.Epochs,
				Metrics: map[string]float64{"g": st.G, "d": st.D, "val": st.Val}})
		}
		if o.Select == SelectVal && st.Val < bestVal {
			bestVal, b.best = st.Val, ep
			snap = cloneAll(b.m.all(), snap)
		}
	}
	if o.Select == SelectVal && b.best != o.Epochs {
		for i, t := range b.m.all() {
			t.CopyFrom(snap[i])
		}
	} else if o.Select == SelectLast {
		b.best = o.Epochs
	}
	b.m.setTraining(false)
	b.ready = true
	return nil
}

// cloneAll copies the tensors into dst (allocated on first use).
func cloneAll(ts, dst []*tensor.Tensor) []*tensor.Tensor {
	if dst == nil {
		dst = make([]*tensor.Tensor, len(ts))
		for i, t := range ts {
			dst[i] = t.Clone()
		}
		return dst
	}
	for i, t := range ts {
		dst[i].CopyFrom(t)
	}
	return dst
}

// validate returns the mean validation criterion over the images idx, with
// the networks in inference mode.
func (b *base) validate(x *data.Dataset, idx []int) float64 {
	const bs = 256
	sz := b.geo.C * b.geo.S * b.geo.S
	var sum float64
	for lo := 0; lo < len(idx); lo += bs {
		hi := min(lo+bs, len(idx))
		xb := tensor.New(hi-lo, b.geo.C, b.geo.S, b.geo.S)
		b.geo.fill(xb.Data[:(hi-lo)*sz], x, idx[lo:hi])
		sum += float64(b.m.eval(xb).G) * float64(hi-lo)
	}
	return sum / float64(len(idx))
}

// scoreBatch is the number of images scored per forward pass.
const scoreBatch = 256

// Score implements detector.Detector: one raw anomaly score per image of x
// (same shape as the training images, pixel values in [0, 1]), higher is
// more anomalous. BatchNorm uses its running statistics, so an image's score
// does not depend on the other images scored with it. Safe for concurrent
// use.
func (b *base) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if !b.ready {
		return nil, detector.ErrNotFitted
	}
	if err := b.geo.check(x); err != nil {
		return nil, err
	}
	if err := x.Validate(); err != nil {
		return nil, err
	}
	out := make([]float64, 0, x.N)
	sz := b.geo.C * b.geo.S * b.geo.S
	idx := make([]int, scoreBatch)
	for lo := 0; lo < x.N; lo += scoreBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+scoreBatch, x.N)
		for i := lo; i < hi; i++ {
			idx[i-lo] = i
		}
		xb := tensor.New(hi-lo, b.geo.C, b.geo.S, b.geo.S)
		b.geo.fill(xb.Data[:(hi-lo)*sz], x, idx[:hi-lo])
		for _, s := range b.m.score(xb) {
			out = append(out, float64(s))
		}
	}
	return out, nil
}

// Reconstruct returns, for every image of x, the network input (scaled to
// [-1, 1] and brought to S×S) and the generator's reconstruction G(x), both
// N·C·S·S values in [-1, 1], for showing side by side.
func (b *base) Reconstruct(ctx context.Context, x *data.Dataset) (inputs, recs []float32, err error) {
	if !b.ready {
		return nil, nil, detector.ErrNotFitted
	}
	if err := b.geo.check(x); err != nil {
		return nil, nil, err
	}
	sz := b.geo.C * b.geo.S * b.geo.S
	inputs, recs = make([]float32, x.N*sz), make([]float32, 0, x.N*sz)
	idx := make([]int, x.N)
	for i := range idx {
		idx[i] = i
	}
	b.geo.fill(inputs, x, idx)
	for lo := 0; lo < x.N; lo += scoreBatch {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		hi := min(lo+scoreBatch, x.N)
		xb := tensor.FromData(inputs[lo*sz:hi*sz], hi-lo, b.geo.C, b.geo.S, b.geo.S)
		recs = append(recs, b.m.reconstruct(xb).Data...)
	}
	return inputs, recs, nil
}

// Latent returns the encoder's code of every image of x (GANomaly: the
// generator's encoder G_E; CAE: its encoder), x.N rows of Options.NZ values,
// computed in inference mode: the latent space reports draw with t-SNE.
func (b *base) Latent(ctx context.Context, x *data.Dataset) ([]float32, error) {
	if !b.ready {
		return nil, detector.ErrNotFitted
	}
	if err := b.geo.check(x); err != nil {
		return nil, err
	}
	sz := b.geo.C * b.geo.S * b.geo.S
	inputs := make([]float32, x.N*sz)
	idx := make([]int, x.N)
	for i := range idx {
		idx[i] = i
	}
	b.geo.fill(inputs, x, idx)
	z := make([]float32, 0, x.N*b.opt.NZ)
	for lo := 0; lo < x.N; lo += scoreBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(lo+scoreBatch, x.N)
		z = append(z, b.m.latent(tensor.FromData(inputs[lo*sz:hi*sz], hi-lo, b.geo.C, b.geo.S, b.geo.S)).Data...)
	}
	return z, nil
}

// Marshal implements detector.Detector: the options, input geometry and
// training history as JSON, and the tensors scoring needs (GANomaly: GE,
// GD, E; CAE: its encoder and decoder), BatchNorm running statistics
// included.
func (b *base) Marshal() (*detector.Payload, error) {
	if !b.ready {
		return nil, detector.ErrNotFitted
	}
	cfg, err := json.Marshal(config{Options: b.opt, Shape: []int{b.geo.C, b.geo.H, b.geo.W}, Side: b.geo.S,
		History: b.hist, Best: b.best, Train: b.nTr, Val: b.nVal})
	if err != nil {
		return nil, err
	}
	return &detector.Payload{Config: cfg, Tensors: b.m.scoring()}, nil
}

// Unmarshal implements detector.Detector.
func (b *base) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: %s config: %v", detector.ErrPayload, b.kind, err)
	}
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	if len(c.Shape) != 3 {
		return fmt.Errorf("%w: %s input shape %v", detector.ErrPayload, b.kind, c.Shape)
	}
	geo, err := newGeometry(c.Shape, c.Side, c.Options.FitMode)
	if err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	b.opt, b.geo, b.hist, b.best, b.nTr, b.nVal = c.Options, geo, c.History, c.Best, c.Train, c.Val
	if err := b.build(); err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	for _, t := range b.m.scoring() {
		s, err := p.Tensor(t.Name)
		if err != nil {
			return err
		}
		if !tensor.SameShape(s.Shape, t.Shape) {
			return fmt.Errorf("%w: tensor %q has shape %v, want %v", detector.ErrPayload, t.Name, s.Shape, t.Shape)
		}
		for _, v := range s.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%w: tensor %q holds a non-finite value", detector.ErrPayload, t.Name)
			}
		}
		t.CopyFrom(s)
	}
	b.m.setTraining(false)
	b.ready = true
	return nil
}

// ganModel adapts Networks to the training loop.
type ganModel struct{ n *Networks }

func (g ganModel) step(x *tensor.Tensor) Losses                { return g.n.TrainStep(x) }
func (g ganModel) eval(x *tensor.Tensor) Losses                { return g.n.Eval(x) }
func (g ganModel) score(x *tensor.Tensor) []float32            { return g.n.Score(x) }
func (g ganModel) reconstruct(x *tensor.Tensor) *tensor.Tensor { return g.n.Reconstruct(x) }
func (g ganModel) latent(x *tensor.Tensor) *tensor.Tensor      { return g.n.GE.Forward(nil, x) }
func (g ganModel) setTraining(t bool)                          { g.n.SetTraining(t) }
func (g ganModel) scoring() []*tensor.Tensor {
	var ts []*tensor.Tensor
	for _, m := range []nn.Module{g.n.GE, g.n.GD, g.n.E2} {
		ts = append(ts, nn.State(m)...)
	}
	return ts
}
func (g ganModel) all() []*tensor.Tensor { return append(g.scoring(), nn.State(g.n.D)...) }

// autoencoder is the CAE baseline: GANomaly's GE and GD trained on
// reconstruction loss alone.
type autoencoder struct {
	enc *Encoder
	dec *nn.Sequential
	opt *optim.Adam
	l1  bool
}

func newAutoencoder(cfg NetConfig, l1 bool, r *rand.Rand) (*autoencoder, error) {
	enc, err := NewEncoder(cfg.Channels, cfg.Side, cfg.Width, cfg.NZ, r)
	if err != nil {
		return nil, err
	}
	dec, err := NewDecoder(cfg.Channels, cfg.Side, cfg.Width, cfg.NZ, r)
	if err != nil {
		return nil, err
	}
	nn.Prefix("enc", enc)
	nn.Prefix("dec", dec)
	dcganInit(enc, r)
	dcganInit(dec, r)
	a := &autoencoder{enc: enc, dec: dec, l1: l1}
	a.opt, err = optim.NewAdam(append(enc.Parameters(), dec.Parameters()...),
		optim.AdamConfig{LR: cfg.LR, Beta1: cfg.Beta1, Beta2: cfg.Beta2, Eps: 1e-8})
	return a, err
}

func (a *autoencoder) loss(tp *tensor.Tape, xh, x *tensor.Tensor) *tensor.Tensor {
	if a.l1 {
		return tp.L1Loss(xh, x)
	}
	return tp.MSELoss(xh, x)
}

func (a *autoencoder) step(x *tensor.Tensor) Losses {
	tp := tensor.NewTape()
	l := a.loss(tp, a.dec.Forward(tp, a.enc.Forward(tp, x)), x)
	a.opt.ZeroGrad()
	tp.Backward(l)
	a.opt.Step()
	return Losses{Con: l.Item(), G: l.Item()}
}

func (a *autoencoder) eval(x *tensor.Tensor) Losses {
	l := a.loss(nil, a.reconstruct(x), x).Item()
	return Losses{Con: l, G: l}
}

func (a *autoencoder) latent(x *tensor.Tensor) *tensor.Tensor { return a.enc.Forward(nil, x) }

func (a *autoencoder) reconstruct(x *tensor.Tensor) *tensor.Tensor {
	return a.dec.Forward(nil, a.enc.Forward(nil, x))
}

func (a *autoencoder) score(x *tensor.Tensor) []float32 {
	xh := a.reconstruct(x)
	n := x.Shape[0]
	k := x.Len() / n
	out := make([]float32, n)
	for i := range out {
		var s float64
		for j := i * k; j < (i+1)*k; j++ {
			d := float64(xh.Data[j] - x.Data[j])
			if a.l1 {
				s += math.Abs(d)
			} else {
				s += d * d
			}
		}
		out[i] = float32(s / float64(k))
	}
	return out
}

func (a *autoencoder) setTraining(t bool) { a.enc.SetTraining(t); nn.SetTraining(a.dec, t) }
func (a *autoencoder) scoring() []*tensor.Tensor {
	return append(nn.State(a.enc), nn.State(a.dec)...)
}
func (a *autoencoder) all() []*tensor.Tensor { return a.scoring() }
