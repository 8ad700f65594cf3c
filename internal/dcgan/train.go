package dcgan

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

// Losses are one training step's loss values: GANomaly's three generator
// terms (unweighted), its weighted generator loss G and its discriminator
// loss D. ReinitD reports that the step re-initialised the discriminator.
// The autoencoder reports its reconstruction loss as both Con and G.
type Losses struct {
	Adv, Con, Enc, G, D float32
	ReinitD             bool
}

// EpochStats is one epoch of training, as recorded in a detector's history.
type EpochStats struct {
	Epoch int `json:"epoch"`
	// Mean training losses over the epoch's batches (autoencoder: Con is
	// its reconstruction loss and G equals it; Adv, Enc and D are 0).
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

// Net is what the training loop drives: GANomaly's four networks or the
// plain autoencoder, on batches of N×C×S×S network inputs in [-1, 1].
type Net interface {
	// Step trains on one batch and returns its losses.
	Step(x *tensor.Tensor) Losses
	// Eval returns the losses of x without changing any weight; G is the
	// validation criterion.
	Eval(x *tensor.Tensor) Losses
	// Score returns one anomaly score per image.
	Score(x *tensor.Tensor) []float32
	// Reconstruct returns the generator's reconstruction of x.
	Reconstruct(x *tensor.Tensor) *tensor.Tensor
	// Code returns the encoder's code of x (N×NZ×1×1).
	Code(x *tensor.Tensor) *tensor.Tensor
	// SetTraining switches BatchNorm between batch and running statistics.
	SetTraining(bool)
	// Scoring returns the tensors scoring needs (saved in model files).
	Scoring() []*tensor.Tensor
	// All returns every tensor of the networks (for epoch snapshots).
	All() []*tensor.Tensor
	// Metrics names an epoch's mean losses for progress reports.
	Metrics(st EpochStats) map[string]float64
}

// Schedule is what the loop needs from a method's options.
type Schedule struct {
	// Epochs over the training images in batches of BatchSize; the last
	// incomplete batch of an epoch is dropped.
	Epochs, BatchSize int
	// MaxImages, when positive, keeps a seeded random subset of at most
	// that many images (validation split included).
	MaxImages int
	// ValFraction of the (kept) images is held out for validation.
	ValFraction float64
	// SelectVal keeps the epoch with the lowest validation loss; otherwise
	// the last epoch is kept.
	SelectVal bool
	// NZ is the latent size (the dimension of Embed's codes).
	NZ int
	// Seed seeds the validation split, the subsample and the shuffling.
	Seed uint64
}

// Seeds of the split and shuffle streams (ASCII "SPLIT" and "SHUFF").
const (
	splitStream   = 0x53504c4954
	shuffleStream = 0x5348554646
)

// Split returns the validation and training indices Train uses for n
// images: one seeded permutation, cut to MaxImages, validation first.
func (s Schedule) Split(n int) (val, train []int) {
	perm := rand.New(rand.NewPCG(s.Seed, splitStream)).Perm(n)
	if s.MaxImages > 0 && s.MaxImages < len(perm) {
		perm = perm[:s.MaxImages]
	}
	nVal := int(math.Round(s.ValFraction * float64(len(perm))))
	return perm[:nVal], perm[nVal:]
}

// batchReportEvery is the number of training steps between "batch"
// progress reports within an epoch.
const batchReportEvery = 10

// Fitted is a trained network with what scoring, saving and the reports
// need.
type Fitted struct {
	Net Net
	Geo Geometry
	// Shape is the sample shape of the training images ([C,H,W] or [H,W]);
	// Score takes only this shape.
	Shape []int
	// NZ is the latent size.
	NZ int
	// History is the per-epoch record; Best the 1-based epoch kept.
	History []EpochStats
	Best    int
	// Train and Val count the training and validation images.
	Train, Val int
}

// Train runs the training loop of docs/methods.md §1 on x: a seeded
// validation split, Epochs passes over shuffled batches, and the epoch kept
// by the schedule's rule. It reports progress (phases "batch" and "epoch")
// to progress when not nil, and stops with ctx's error when ctx is
// cancelled.
func Train(ctx context.Context, net Net, geo Geometry, x *data.Dataset, s Schedule, progress func(detector.Progress)) (*Fitted, error) {
	val, train := s.Split(x.N)
	if len(train) < 2 {
		return nil, fmt.Errorf("%w: %d training images after the validation split; need at least 2", detector.ErrInput, len(train))
	}
	f := &Fitted{Net: net, Geo: geo, Shape: slices.Clone(x.Shape), NZ: s.NZ, Train: len(train), Val: len(val)}
	bs := min(s.BatchSize, len(train))
	steps := len(train) / bs
	sz := geo.C * geo.S * geo.S
	xb := tensor.New(bs, geo.C, geo.S, geo.S)
	shuf := rand.New(rand.NewPCG(s.Seed, shuffleStream))

	var snap []*tensor.Tensor
	bestVal := math.Inf(1)
	for ep := 1; ep <= s.Epochs; ep++ {
		start := time.Now()
		net.SetTraining(true)
		shuf.Shuffle(len(train), func(i, j int) { train[i], train[j] = train[j], train[i] })
		var sum [5]float64
		st := EpochStats{Epoch: ep}
		for k := 0; k < steps; k++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			geo.Fill(xb.Data[:bs*sz], x, train[k*bs:(k+1)*bs])
			l := net.Step(xb)
			for i, v := range []float32{l.Adv, l.Con, l.Enc, l.G, l.D} {
				sum[i] += float64(v)
			}
			if l.ReinitD {
				st.ReinitD++
			}
			if math.IsNaN(float64(l.G)) || math.IsInf(float64(l.G), 0) {
				return nil, fmt.Errorf("generator loss is %v at epoch %d step %d", l.G, ep, k+1)
			}
			if progress != nil && ((k+1)%batchReportEvery == 0 || k+1 == steps) {
				n := float64(k + 1)
				part := EpochStats{Epoch: ep, Adv: sum[0] / n, Con: sum[1] / n, Enc: sum[2] / n, G: sum[3] / n, D: sum[4] / n}
				progress(detector.Progress{Phase: "batch", Done: k + 1, Total: steps, Metrics: net.Metrics(part)})
			}
		}
		n := float64(steps)
		st.Adv, st.Con, st.Enc, st.G, st.D = sum[0]/n, sum[1]/n, sum[2]/n, sum[3]/n, sum[4]/n
		net.SetTraining(false)
		if len(val) > 0 {
			v, err := f.ValLoss(ctx, x, val)
			if err != nil {
				return nil, err
			}
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("validation loss is %v after epoch %d", v, ep)
			}
			st.Val = v
		}
		st.Seconds = time.Since(start).Seconds()
		f.History = append(f.History, st)
		if progress != nil {
			m := net.Metrics(st)
			if len(val) > 0 {
				m["val"] = st.Val
			}
			progress(detector.Progress{Phase: "epoch", Done: ep, Total: s.Epochs, Metrics: m})
		}
		if s.SelectVal && st.Val < bestVal {
			bestVal, f.Best = st.Val, ep
			snap = cloneAll(net.All(), snap)
		}
	}
	if s.SelectVal && f.Best != s.Epochs {
		for i, t := range net.All() {
			t.CopyFrom(snap[i])
		}
	} else if !s.SelectVal {
		f.Best = s.Epochs
	}
	net.SetTraining(false)
	return f, nil
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

// ValLoss returns the mean validation criterion (Eval's G) over the images
// idx of x, with the networks as they are (Train calls it in inference
// mode).
func (f *Fitted) ValLoss(ctx context.Context, x *data.Dataset, idx []int) (float64, error) {
	const bs = 256
	sz := f.Geo.C * f.Geo.S * f.Geo.S
	var sum float64
	for lo := 0; lo < len(idx); lo += bs {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		hi := min(lo+bs, len(idx))
		xb := tensor.New(hi-lo, f.Geo.C, f.Geo.S, f.Geo.S)
		f.Geo.Fill(xb.Data[:(hi-lo)*sz], x, idx[lo:hi])
		sum += float64(f.Net.Eval(xb).G) * float64(hi-lo)
	}
	return sum / float64(len(idx)), nil
}

// scoreBatch is the number of images per forward pass when scoring.
const scoreBatch = 256

// inputs checks x and runs fn on its network inputs, scoreBatch images at
// a time.
func (f *Fitted) inputs(ctx context.Context, x *data.Dataset, fn func(xb *tensor.Tensor)) error {
	if err := detector.CheckInput(x, f.Shape); err != nil {
		return err
	}
	sz := f.Geo.C * f.Geo.S * f.Geo.S
	idx := make([]int, min(scoreBatch, x.N))
	for lo := 0; lo < x.N; lo += scoreBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(lo+scoreBatch, x.N)
		for i := lo; i < hi; i++ {
			idx[i-lo] = i
		}
		xb := tensor.New(hi-lo, f.Geo.C, f.Geo.S, f.Geo.S)
		f.Geo.Fill(xb.Data[:(hi-lo)*sz], x, idx[:hi-lo])
		fn(xb)
	}
	return nil
}

// Score returns the net's score of every image of x (the training sample
// shape, pixel values in [0, 1]). Safe for concurrent use.
func (f *Fitted) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	out := make([]float64, 0, x.N)
	err := f.inputs(ctx, x, func(xb *tensor.Tensor) {
		for _, s := range f.Net.Score(xb) {
			out = append(out, float64(s))
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Embed returns the encoder's code of every image of x: x.N rows of NZ
// values.
func (f *Fitted) Embed(ctx context.Context, x *data.Dataset) ([]float32, int, error) {
	z := make([]float32, 0, x.N*f.NZ)
	err := f.inputs(ctx, x, func(xb *tensor.Tensor) { z = append(z, f.Net.Code(xb).Data...) })
	if err != nil {
		return nil, 0, err
	}
	return z, f.NZ, nil
}

// Reconstruct returns the network inputs of x's images (brought to S×S)
// and their reconstructions, as data sets of C×S×S images in x's scale:
// the network's [-1, 1] maps back to [0, 1] by v ↦ (v + 1)/2.
func (f *Fitted) Reconstruct(ctx context.Context, x *data.Dataset) (in, out *data.Dataset, err error) {
	shape := []int{f.Geo.C, f.Geo.S, f.Geo.S}
	in = &data.Dataset{Name: x.Name, N: x.N, Shape: shape, Y: slices.Clone(x.Y), ClassNames: slices.Clone(x.ClassNames),
		X: make([]float32, 0, x.N*f.Geo.C*f.Geo.S*f.Geo.S)}
	out = &data.Dataset{Name: x.Name + " reconstructed", N: x.N, Shape: slices.Clone(shape), Y: slices.Clone(x.Y),
		ClassNames: slices.Clone(x.ClassNames), X: make([]float32, 0, len(in.X))}
	err = f.inputs(ctx, x, func(xb *tensor.Tensor) {
		in.X = appendUnit(in.X, xb.Data)
		out.X = appendUnit(out.X, f.Net.Reconstruct(xb).Data)
	})
	if err != nil {
		return nil, nil, err
	}
	return in, out, nil
}

// appendUnit appends the values of src, mapped from [-1, 1] to [0, 1].
func appendUnit(dst, src []float32) []float32 {
	for _, v := range src {
		dst = append(dst, (v+1)/2)
	}
	return dst
}

// saved is the JSON configuration both detectors store: the options, the
// input geometry and the training record.
type saved struct {
	Options json.RawMessage `json:"options"`
	Shape   []int           `json:"input_shape"` // C, H, W
	// Sample is the training sample shape ([C,H,W] or [H,W]); models saved
	// before it was recorded have none, and take [C,H,W].
	Sample  []int        `json:"sample_shape,omitempty"`
	Side    int          `json:"side"`
	History []EpochStats `json:"history"`
	Best    int          `json:"best_epoch"`
	Train   int          `json:"train_images"`
	Val     int          `json:"val_images"`
}

// Marshal returns the payload of a fitted detector with options opt: the
// configuration as JSON and the tensors scoring needs, BatchNorm running
// statistics included.
func (f *Fitted) Marshal(opt any) (*detector.Payload, error) {
	o, err := json.Marshal(opt)
	if err != nil {
		return nil, err
	}
	cfg, err := json.Marshal(saved{Options: o, Shape: []int{f.Geo.C, f.Geo.H, f.Geo.W}, Sample: f.Shape, Side: f.Geo.S,
		History: f.History, Best: f.Best, Train: f.Train, Val: f.Val})
	if err != nil {
		return nil, err
	}
	return &detector.Payload{Config: cfg, Tensors: f.Net.Scoring()}, nil
}

// Stored is a decoded payload configuration, waiting for its networks.
type Stored struct {
	s saved
	p *detector.Payload
	// width and nz are the stored options' network width and latent size
	// (0 when the options do not embed Settings).
	width, nz int
}

// Bounds on what a model file may declare, checked before anything is
// allocated for it. A checksum says a file is intact, not that its sizes
// are sane: a header saying width 2000 or side 65536 would otherwise have
// the networks built (gigabytes) before their tensors are found missing.
const (
	// MaxStoredSide bounds the network side S and the image height and
	// width a model file may declare.
	MaxStoredSide = 1 << 13
	// MaxStoredChannels bounds the image channels.
	MaxStoredChannels = 64
	// MaxStoredWidth bounds the network width and the latent size.
	MaxStoredWidth = 1 << 14
)

// Decode reads a payload's configuration, its options into opt (a pointer
// to a zero options struct, so that every option comes from the payload).
// The sizes it declares are checked against MaxStoredSide,
// MaxStoredChannels and MaxStoredWidth here, and against the tensors the
// payload holds by Geometry, before any network is built. Errors wrap
// detector.ErrPayload.
func Decode(p *detector.Payload, opt any) (*Stored, error) {
	var s saved
	if err := json.Unmarshal(p.Config, &s); err != nil {
		return nil, fmt.Errorf("%w: config: %v", detector.ErrPayload, err)
	}
	if len(s.Options) == 0 {
		return nil, fmt.Errorf("%w: config has no options", detector.ErrPayload)
	}
	if err := json.Unmarshal(s.Options, opt); err != nil {
		return nil, fmt.Errorf("%w: options: %v", detector.ErrPayload, err)
	}
	if len(s.Shape) != 3 {
		return nil, fmt.Errorf("%w: input shape %v", detector.ErrPayload, s.Shape)
	}
	if s.Sample == nil {
		s.Sample = slices.Clone(s.Shape)
	}
	for _, shape := range [][]int{s.Shape, s.Sample} {
		c, h, w, err := imageShape(shape)
		if err != nil || c < 1 || c > MaxStoredChannels || h < 1 || h > MaxStoredSide || w < 1 || w > MaxStoredSide {
			return nil, fmt.Errorf("%w: image shape %v is outside what a model may declare (at most %d channels, sides at most %d)", detector.ErrPayload, shape, MaxStoredChannels, MaxStoredSide)
		}
	}
	if s.Side < 0 || s.Side > MaxStoredSide {
		return nil, fmt.Errorf("%w: network side %d is outside [0, %d]", detector.ErrPayload, s.Side, MaxStoredSide)
	}
	st := &Stored{s: s, p: p}
	if es, ok := opt.(embedsSettings); ok {
		set := es.settings()
		if set.Width < 1 || set.Width > MaxStoredWidth || set.NZ < 1 || set.NZ > MaxStoredWidth {
			return nil, fmt.Errorf("%w: width %d and latent size %d must lie in [1, %d]", detector.ErrPayload, set.Width, set.NZ, MaxStoredWidth)
		}
		st.width, st.nz = set.Width, set.NZ
	}
	return st, nil
}

// encoderWeights is the number of convolution weights of the encoder
// NewEncoder builds for c×side×side inputs, width w and latent size nz
// (counted in float64: a hostile header must not overflow the count).
func encoderWeights(c, side, w, nz int) float64 {
	n := 16 * float64(w) * float64(c)
	ch := float64(w)
	for s := side / 2; s > 4; s /= 2 {
		n += 16 * ch * 2 * ch
		ch *= 2
	}
	return n + 16*float64(nz)*ch
}

// Geometry returns the stored input geometry for the fit mode mode. It
// refuses a geometry whose networks could not be restored from the
// payload: every network saved holds at least one encoder (GANomaly's
// G_E, the autoencoder's), so the encoder's weights for the declared
// channels, side, width and latent size must not outnumber the values of
// the payload's tensors. Checked here, before the networks are built, the
// memory a model file costs is bounded by the file's size.
func (st *Stored) Geometry(mode string) (Geometry, error) {
	g, err := NewGeometry(st.s.Shape, st.s.Side, mode)
	if err != nil {
		return Geometry{}, fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	c, h, w, err := imageShape(st.s.Sample)
	if err != nil || c != g.C || h != g.H || w != g.W {
		return Geometry{}, fmt.Errorf("%w: sample shape %v does not match input shape %v", detector.ErrPayload, st.s.Sample, st.s.Shape)
	}
	if g.S > MaxStoredSide {
		return Geometry{}, fmt.Errorf("%w: network side %d is above %d", detector.ErrPayload, g.S, MaxStoredSide)
	}
	if st.width > 0 {
		held := 0
		for _, t := range st.p.Tensors {
			held += len(t.Data)
		}
		if need := encoderWeights(g.C, g.S, st.width, st.nz); need > float64(held) {
			return Geometry{}, fmt.Errorf("%w: the configuration (%d channels, side %d, width %d, latent size %d) needs at least %.0f weights, the file holds %d values",
				detector.ErrPayload, g.C, g.S, st.width, st.nz, need, held)
		}
	}
	return g, nil
}

// Restore loads the stored tensors into net, built for geo, and returns the
// fitted state. Errors wrap detector.ErrPayload.
func (st *Stored) Restore(net Net, geo Geometry, nz int) (*Fitted, error) {
	for _, t := range net.Scoring() {
		s, err := st.p.Tensor(t.Name)
		if err != nil {
			return nil, err
		}
		if !tensor.SameShape(s.Shape, t.Shape) {
			return nil, fmt.Errorf("%w: tensor %q has shape %v, want %v", detector.ErrPayload, t.Name, s.Shape, t.Shape)
		}
		for _, v := range s.Data {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: tensor %q holds a non-finite value", detector.ErrPayload, t.Name)
			}
		}
		t.CopyFrom(s)
	}
	net.SetTraining(false)
	return &Fitted{Net: net, Geo: geo, Shape: st.s.Sample, NZ: nz, History: st.s.History, Best: st.s.Best,
		Train: st.s.Train, Val: st.s.Val}, nil
}
