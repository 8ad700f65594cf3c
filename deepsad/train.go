package deepsad

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// Fit implements detector.Detector: ts.X is the unlabelled data and
// ts.Anomalies the labelled anomalies, of the same sample shape (none:
// Deep SVDD). It reports one Progress per epoch, phase "pretrain" then
// "epoch", with the epoch's mean loss.
func (m *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	o := m.Options
	if err := detector.CheckFit(ctx, o, ts); err != nil {
		return err
	}
	all, nU := ts.X, ts.X.N
	if ts.Anomalies != nil && ts.Anomalies.N > 0 {
		var err error
		if all, err = data.Concat("train", ts.X, ts.Anomalies); err != nil {
			return err
		}
	}
	d := ts.X.Dim()
	r := rand.New(rand.NewPCG(o.Seed, 0x5341_44))
	w := widths(d, o)
	m.d, m.shape = d, slices.Clone(ts.X.Shape)
	m.enc = newEncoder(w, r)
	dec := newDecoder(w, r)
	b := newBatcher(all.N, o)
	xs := tensor.FromData(all.X, all.N, d)
	tp := tensor.NewTape()
	m.AELosses, m.Losses = m.AELosses[:0], m.Losses[:0]
	err := m.pretrain(ctx, tp, dec, xs, b, r, ts.Progress)
	if err == nil {
		m.setCentre(xs)
		err = m.train(ctx, tp, xs, nU, b, r, ts.Progress)
	}
	if err != nil {
		m.enc = nil // not fitted
		return err
	}
	for _, p := range params(m.enc) {
		p.SetRequiresGrad(false)
	}
	return nil
}

// batcher splits a shuffled order of the n training rows into minibatches.
type batcher struct {
	n, size, batches int
	perm, idx        []int
}

func newBatcher(n int, o Options) *batcher {
	k := (n + o.BatchSize - 1) / o.BatchSize
	if o.MaxBatches > 0 {
		k = min(k, o.MaxBatches)
	}
	b := &batcher{n: n, size: o.BatchSize, batches: k, perm: make([]int, n), idx: make([]int, 0, o.BatchSize)}
	for i := range b.perm {
		b.perm[i] = i
	}
	return b
}

// shuffle starts an epoch.
func (b *batcher) shuffle(r *rand.Rand) {
	r.Shuffle(b.n, func(i, j int) { b.perm[i], b.perm[j] = b.perm[j], b.perm[i] })
}

// batch returns the rows of the epoch's k-th batch.
func (b *batcher) batch(k int) []int {
	b.idx = append(b.idx[:0], b.perm[k*b.size:min(b.n, (k+1)*b.size)]...)
	return b.idx
}

func adam(ps []*tensor.Tensor, o Options) (*optim.Adam, error) {
	return optim.NewAdam(ps, optim.AdamConfig{LR: o.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: o.WeightDecay})
}

// pretrain trains φ as the encoder of an autoencoder whose decoder is dec:
// sigmoid output, mean squared reconstruction error.
func (m *Detector) pretrain(ctx context.Context, tp *tensor.Tape, dec []*nn.Linear, xs *tensor.Tensor, b *batcher, r *rand.Rand, progress func(detector.Progress)) error {
	o := m.Options
	opt, err := adam(append(params(m.enc), params(dec)...), o)
	if err != nil {
		return err
	}
	for ep := 0; ep < o.AEEpochs; ep++ {
		b.shuffle(r)
		var sum float64
		for k := 0; k < b.batches; k++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			x := tensor.NoGrad.Rows(xs, b.batch(k))
			z := forward(tp, dec, m.encode(tp, x))
			loss := tp.MSELoss(tp.Sigmoid(z), x)
			sum += float64(loss.Item())
			opt.ZeroGrad()
			tp.Backward(loss)
			opt.Step()
		}
		m.AELosses = append(m.AELosses, sum/float64(b.batches))
		if progress != nil {
			progress(detector.Progress{Phase: "pretrain", Done: ep + 1, Total: o.AEEpochs, Metrics: map[string]float64{"loss": sum / float64(b.batches)}})
		}
	}
	return nil
}

// setCentre sets c to the mean of φ over the rows of xs, each coordinate
// closer to 0 than 0.1 pushed to ±0.1.
func (m *Detector) setCentre(xs *tensor.Tensor) {
	z := m.encode(tensor.NoGrad, xs)
	rep, n := m.Options.Rep, xs.Shape[0]
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
}

// train minimises the Deep SAD loss over φ's weights; rows of xs from nU
// on are labelled anomalies.
func (m *Detector) train(ctx context.Context, tp *tensor.Tape, xs *tensor.Tensor, nU int, b *batcher, r *rand.Rand, progress func(detector.Progress)) error {
	o := m.Options
	opt, err := adam(params(m.enc), o)
	if err != nil {
		return err
	}
	for ep := 0; ep < o.Epochs; ep++ {
		b.shuffle(r)
		var sum float64
		for k := 0; k < b.batches; k++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			idx := b.batch(k)
			z := m.encode(tp, tensor.NoGrad.Rows(xs, idx))
			loss := m.sadLoss(tp, z, idx, nU)
			sum += float64(loss.Item())
			opt.ZeroGrad()
			tp.Backward(loss)
			opt.Step()
		}
		m.Losses = append(m.Losses, sum/float64(b.batches))
		if progress != nil {
			progress(detector.Progress{Phase: "epoch", Done: ep + 1, Total: o.Epochs, Metrics: map[string]float64{"loss": sum / float64(b.batches)}})
		}
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
