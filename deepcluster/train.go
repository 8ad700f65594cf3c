package deepcluster

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/kmeans"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// Trainer runs the three phases. Options names the default parts; any of
// Net, Loss, Combination and Final set by the caller replaces its default,
// which is how a new combination of the taxonomy is assembled.
type Trainer struct {
	// Options configures the run; Fit validates them first.
	Options Options
	// Net, when set, replaces the network Options describes (the DCEC
	// autoencoder, or the shallow one of the self-expressive mode); in the
	// DCEC mode its embedding must have Options.Embedding values.
	Net Network
	// Loss, when set, replaces the clustering loss Options.Loss names.
	Loss ClusterLoss
	// Combination, when set, replaces the schedule Options.Schedule names.
	Combination Combination
	// Final, when set, replaces the final clustering Options.Final names.
	Final FinalClustering
	// Labels, when set (one per row), are used only to report ACC in the
	// progress and the history; they never influence training.
	Labels []int
	// Progress, when set, receives a report after every pretraining epoch
	// (phase "pretrain", metric "loss"), after the k-means initialisation
	// when Labels are set (phase "init", metric "acc"), and at every target
	// update of fine-tuning (phase "finetune", Done the step, Total
	// MaxSteps, metrics "loss" and "delta", and "acc" when Labels are set).
	// The self-expressive mode reports "finetune" after every full-batch
	// step (metrics "loss", "self_expression", "recon", per image), then
	// "affinity" (the eigen-solver's "eigen_iterations" and
	// "eigen_residual") and, when Labels are set, "final" ("acc", "nmi").
	Progress func(detector.Progress)
}

// Checkpoint records the state at one target update.
type Checkpoint struct {
	// Step is the fine-tuning step of the update.
	Step int `json:"step"`
	// Loss, Cluster and Recon are the mean combined, clustering and
	// reconstruction losses since the last update. In the self-expressive
	// mode there is one checkpoint per step, Cluster is the self-expression
	// loss, all three are per image, and ACC and NMI are set on the last
	// checkpoint only (the spectral clustering runs once, at the end).
	Loss    float64 `json:"loss"`
	Cluster float64 `json:"cluster"`
	Recon   float64 `json:"recon"`
	// Delta is the fraction of assignments changed since the last update.
	Delta float64 `json:"delta"`
	// ACC and NMI (arithmetic) measure the assignments against
	// Trainer.Labels, when set.
	ACC float64 `json:"acc,omitempty"`
	NMI float64 `json:"nmi,omitempty"`
}

// Timings are the seconds spent in each phase.
type Timings struct {
	// Pretrain, Init, Finetune and Final are the seconds of pretraining,
	// k-means initialisation, fine-tuning and final assignment.
	Pretrain float64 `json:"pretrain_s"`
	Init     float64 `json:"init_s"`
	Finetune float64 `json:"finetune_s"`
	Final    float64 `json:"final_s"`
}

// Result is what a training run produced besides the model.
type Result struct {
	// Labels are the final assignments; InitLabels those of the k-means
	// initialisation.
	Labels, InitLabels []int
	// Embedding (n×d, d = Model.EmbeddingSize()) and Q (n×k) of the
	// training rows after fine-tuning.
	Embedding, Q []float32
	// Coefficients is the self-expressive mode's n×n coefficient matrix C
	// (row i expresses z_i as Σ_j C_ij z_j); nil in the DCEC mode.
	Coefficients []float32
	// PretrainLoss holds the mean reconstruction loss of every epoch.
	PretrainLoss []float64
	// History holds one checkpoint per target update.
	History []Checkpoint
	// Steps is the number of fine-tuning steps run; Converged tells
	// whether the tolerance (rather than MaxSteps) stopped them.
	Steps     int
	Converged bool
	Timings   Timings
}

// Model is a trained deep clustering model: a network and its centroids.
type Model struct {
	// Options are the options the model was trained with.
	Options Options
	// Net is the trained network.
	Net Network
	// Centroids holds the K×Embedding cluster centres.
	Centroids *tensor.Tensor
	// Shape is the shape of one input sample as the network takes it,
	// C×S×S.
	Shape []int
	// InputShape is the shape of the training samples as given (C×S×S, or
	// S×S for one channel); nil in models saved before it was recorded.
	InputShape []int
	// Features is the reference of the "lof" score; nil unless the model
	// was fitted with it (or FitFeatures was called).
	Features *FeatureLOF
}

// imageShape checks that x holds square images and returns C and side; its
// error wraps no sentinel (the caller says whether it is ErrInput or
// detector.ErrSchema).
func imageShape(x *data.Dataset) (c, side int, err error) {
	switch len(x.Shape) {
	case 3:
		c, side = x.Shape[0], x.Shape[1]
		if x.Shape[2] != side {
			return 0, 0, fmt.Errorf("images must be square, got samples of shape %v", x.Shape)
		}
	case 2:
		c, side = 1, x.Shape[0]
		if x.Shape[1] != side {
			return 0, 0, fmt.Errorf("images must be square, got samples of shape %v", x.Shape)
		}
	default:
		return 0, 0, fmt.Errorf("need C×S×S images, got samples of shape %v", x.Shape)
	}
	return c, side, nil
}

// Fit trains on x (labels ignored) and returns the model and what the run
// produced. It checks ctx between steps. With Options.Score "lof" it also
// keeps the reference of that score (Model.FitFeatures).
func (t *Trainer) Fit(ctx context.Context, x *data.Dataset) (*Model, *Result, error) {
	m, res, err := t.fit(ctx, x)
	if err != nil {
		return nil, nil, err
	}
	if m.Options.Score == "lof" {
		if err := m.FitFeatures(ctx, x, m.Options.Seed); err != nil {
			return nil, nil, err
		}
	}
	return m, res, nil
}

func (t *Trainer) fit(ctx context.Context, x *data.Dataset) (*Model, *Result, error) {
	cfg := t.Options
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	if err := detector.CheckInput(x, nil); err != nil {
		return nil, nil, err
	}
	if x.N == 0 {
		return nil, nil, fmt.Errorf("%w: no training data", ErrInput)
	}
	c, side, err := imageShape(x)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	if x.N < cfg.K {
		return nil, nil, fmt.Errorf("%w: %d samples for %d clusters", ErrInput, x.N, cfg.K)
	}
	if t.Labels != nil && len(t.Labels) != x.N {
		return nil, nil, fmt.Errorf("%w: %d monitoring labels for %d samples", ErrInput, len(t.Labels), x.N)
	}
	wr := rand.New(rand.NewPCG(cfg.Seed, 0xdcec))
	order := rand.New(rand.NewPCG(cfg.Seed, 0xdcec+1))
	aug := newAugmenter(cfg, side)
	if cfg.SelfExpressive {
		return t.fitSelfExpressive(ctx, x, c, side, wr, order, aug)
	}
	net := t.Net
	if net == nil {
		ae, err := NewAutoencoder(c, side, cfg.Embedding, wr)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrInput, err)
		}
		net = ae
	}
	loss := t.Loss
	if loss == nil {
		if cfg.Loss == "kmeans" {
			loss = &KMeansLoss{}
		} else {
			loss = &KLHardening{}
		}
	}
	comb := t.Combination
	if comb == nil {
		if cfg.Schedule == "alpha" {
			comb = AlphaRamp{From: cfg.AlphaFrom, To: cfg.AlphaTo, Steps: cfg.alphaSteps()}
		} else {
			comb = Gamma(cfg.Gamma)
		}
	}
	final := t.Final
	if final == nil {
		if cfg.Final == "kmeans" {
			final = KMeansRerun{NInit: cfg.KMeansInit}
		} else {
			final = ArgmaxQ{}
		}
	}
	m := &Model{Options: cfg, Net: net, Shape: []int{c, side, side}, InputShape: append([]int(nil), x.Shape...)}
	res := &Result{}
	report := func(phase string, done, total int, mm map[string]float64) {
		if t.Progress != nil {
			t.Progress(detector.Progress{Phase: phase, Done: done, Total: total, Metrics: mm})
		}
	}

	// Phase 1: pretraining.
	start := time.Now()
	if !cfg.NoPretrain {
		if err := pretrain(ctx, net, x, m.Shape, cfg, order, aug, res, report); err != nil {
			return nil, nil, err
		}
	}
	res.Timings.Pretrain = time.Since(start).Seconds()

	if cfg.Manifold {
		if err := t.clusterManifold(ctx, m, x, res, report); err != nil {
			return nil, nil, err
		}
		return m, res, nil
	}

	// Initialisation: k-means++ on z, best of KMeansInit.
	start = time.Now()
	d := cfg.Embedding
	z, err := m.embed(ctx, x)
	if err != nil {
		return nil, nil, err
	}
	km, err := kmeans.Fit(ctx, z, x.N, d, kmeans.Options{K: cfg.K, NInit: cfg.KMeansInit, Seed: cfg.Seed})
	if err != nil {
		return nil, nil, fmt.Errorf("deepcluster: k-means initialisation: %w", err)
	}
	mu := tensor.New(cfg.K, d)
	mu.Name = "centroids"
	for i, v := range km.Centroids {
		mu.Data[i] = float32(v)
	}
	mu.SetRequiresGrad(loss.TrainsCentroids())
	m.Centroids = mu
	res.InitLabels = km.Labels
	res.Timings.Init = time.Since(start).Seconds()
	if t.Labels != nil {
		acc, _ := metrics.ACC(t.Labels, km.Labels)
		report("init", 1, 1, map[string]float64{"acc": acc})
	}

	// Phase 2: fine-tuning.
	start = time.Now()
	if err := finetune(ctx, m, x, loss, comb, cfg, order, aug, t.Labels, res, report); err != nil {
		return nil, nil, err
	}
	res.Timings.Finetune = time.Since(start).Seconds()

	// Final assignments on the final embedding.
	start = time.Now()
	if res.Embedding, err = m.embed(ctx, x); err != nil {
		return nil, nil, err
	}
	res.Q = SoftAssign(nil, tensor.FromData(res.Embedding, x.N, d), mu, cfg.Alpha).Data
	if res.Labels, err = final.Assign(ctx, res.Embedding, res.Q, mu.Data, x.N, d, cfg.K, cfg.Seed); err != nil {
		return nil, nil, err
	}
	res.Timings.Final = time.Since(start).Seconds()
	mu.SetRequiresGrad(false)
	return m, res, nil
}

// batchOf copies the rows idx of x into an N×C×S×S tensor.
func batchOf(x *data.Dataset, idx []int, shape []int) *tensor.Tensor {
	dim := x.Dim()
	b := tensor.New(append([]int{len(idx)}, shape...)...)
	for r, i := range idx {
		copy(b.Data[r*dim:(r+1)*dim], x.X[i*dim:(i+1)*dim])
	}
	return b
}

// pretrain trains net on reconstruction alone; with aug set, every batch
// is a fresh random warp of its images and the target is that warp.
func pretrain(ctx context.Context, net Network, x *data.Dataset, shape []int, cfg Options, order *rand.Rand, aug *augmenter, res *Result, report func(string, int, int, map[string]float64)) error {
	opt, err := optim.NewAdam(net.Parameters(), optim.AdamConfig{LR: cfg.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if err != nil {
		return err
	}
	nb := (x.N + cfg.BatchSize - 1) / cfg.BatchSize
	for ep := 0; ep < cfg.PretrainEpochs; ep++ {
		perm := order.Perm(x.N)
		var sum float64
		for b := 0; b < nb; b++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			idx := perm[b*cfg.BatchSize : min(x.N, (b+1)*cfg.BatchSize)]
			xb := aug.apply(batchOf(x, idx, shape))
			tp := tensor.NewTape()
			l := tp.MSELoss(net.Decode(tp, net.Encode(tp, xb)), xb)
			opt.ZeroGrad()
			tp.Backward(l)
			opt.Step()
			lv := float64(l.Item())
			if math.IsNaN(lv) || math.IsInf(lv, 0) {
				return fmt.Errorf("deepcluster: pretraining diverged at epoch %d (loss %g)", ep+1, lv)
			}
			sum += lv * float64(len(idx))
		}
		res.PretrainLoss = append(res.PretrainLoss, sum/float64(x.N))
		report("pretrain", ep+1, cfg.PretrainEpochs, map[string]float64{"loss": sum / float64(x.N)})
	}
	return nil
}

// finetune trains the network and the centroids on the combined loss. With
// aug set (DEC-DA), the batch is a random warp of its images: the network
// reconstructs the warped images and their embeddings are pulled towards
// the targets P of the images as given, which Refresh computes without
// augmentation, so the clustering must hold for every copy.
func finetune(ctx context.Context, m *Model, x *data.Dataset, loss ClusterLoss, comb Combination, cfg Options, order *rand.Rand, aug *augmenter, labels []int, res *Result, report func(string, int, int, map[string]float64)) error {
	params := m.Net.Parameters()
	if loss.TrainsCentroids() {
		params = append(params, m.Centroids)
	}
	opt, err := optim.NewAdam(params, optim.AdamConfig{LR: cfg.FinetuneLR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if err != nil {
		return err
	}
	d, k := cfg.Embedding, cfg.K
	var perm []int
	pos := 0
	var prev []int
	var sumL, sumC, sumR float64
	cnt := 0
	for step := 0; ; step++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if step%cfg.UpdateInterval == 0 || step == cfg.MaxSteps {
			z, err := m.embed(ctx, x)
			if err != nil {
				return err
			}
			q := SoftAssign(nil, tensor.FromData(z, x.N, d), m.Centroids, cfg.Alpha).Data
			pred := argmaxRows(q, x.N, k)
			cp := Checkpoint{Step: step, Delta: 1}
			if prev != nil {
				ch := 0
				for i := range pred {
					if pred[i] != prev[i] {
						ch++
					}
				}
				cp.Delta = float64(ch) / float64(x.N)
			}
			if cnt > 0 {
				cp.Loss, cp.Cluster, cp.Recon = sumL/float64(cnt), sumC/float64(cnt), sumR/float64(cnt)
			}
			mm := map[string]float64{"loss": cp.Loss, "delta": cp.Delta}
			if labels != nil {
				cp.ACC, _ = metrics.ACC(labels, pred)
				cp.NMI, _ = metrics.NMI(labels, pred, metrics.Arithmetic)
				mm["acc"] = cp.ACC
			}
			res.History = append(res.History, cp)
			report("finetune", step, cfg.MaxSteps, mm)
			if prev != nil && cp.Delta < cfg.Tol {
				res.Converged = true
				res.Steps = step
				return nil
			}
			if step == cfg.MaxSteps {
				res.Steps = step
				return nil
			}
			prev = pred
			loss.Refresh(q, x.N, k)
			sumL, sumC, sumR, cnt = 0, 0, 0, 0
		}
		if pos >= len(perm) {
			perm, pos = order.Perm(x.N), 0
		}
		idx := perm[pos:min(len(perm), pos+cfg.BatchSize)]
		pos += len(idx)
		xb := aug.apply(batchOf(x, idx, m.Shape))
		tp := tensor.NewTape()
		z := m.Net.Encode(tp, xb)
		lr := tp.MSELoss(m.Net.Decode(tp, z), xb)
		lc := loss.Batch(tp, z, m.Centroids, idx, cfg.Alpha)
		wc, wrec := comb.Weights(step)
		total := tp.Add(tp.MulScalar(lc, float32(wc)), tp.MulScalar(lr, float32(wrec)))
		opt.ZeroGrad()
		tp.Backward(total)
		opt.Step()
		loss.AfterStep(z, m.Centroids)
		tv := float64(total.Item())
		if math.IsNaN(tv) || math.IsInf(tv, 0) {
			return fmt.Errorf("deepcluster: fine-tuning diverged at step %d (loss %g)", step, tv)
		}
		sumL += tv
		sumC += float64(lc.Item())
		sumR += float64(lr.Item())
		cnt++
	}
}

// EmbeddingSize is the size of the embedding z: Options.Embedding for the
// DCEC autoencoder, the code size of the self-expressive mode's network
// (SEChannels·(side/2)²).
func (m *Model) EmbeddingSize() int {
	if m.Centroids != nil && len(m.Centroids.Shape) == 2 {
		return m.Centroids.Shape[1]
	}
	if s, ok := m.Net.(interface{ CodeSize() int }); ok {
		return s.CodeSize()
	}
	return m.Options.Embedding
}

// embedBatch is the number of rows encoded at once at inference.
const embedBatch = 512

// embed returns the n×d embedding of every row of x (no gradient).
func (m *Model) embed(ctx context.Context, x *data.Dataset) ([]float32, error) {
	d := m.EmbeddingSize()
	dim := x.Dim()
	out := make([]float32, x.N*d)
	for lo := 0; lo < x.N; lo += embedBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(x.N, lo+embedBatch)
		xb := tensor.FromData(x.X[lo*dim:hi*dim], append([]int{hi - lo}, m.Shape...)...)
		z := m.Net.Encode(nil, xb)
		copy(out[lo*d:hi*d], z.Data)
	}
	return out, nil
}

// check verifies that x fits the model: detector.CheckInput against the
// training sample shape (ErrSchema, or ErrInput for non-finite values), and
// for models saved without it, against the network's input shape.
func (m *Model) check(x *data.Dataset) error {
	if m == nil || m.Net == nil || m.Centroids == nil {
		return fmt.Errorf("deepcluster: %w", detector.ErrNotFitted)
	}
	if err := detector.CheckInput(x, m.InputShape); err != nil {
		return err
	}
	c, side, err := imageShape(x)
	if err != nil {
		return fmt.Errorf("%w: %v", detector.ErrSchema, err)
	}
	if c != m.Shape[0] || side != m.Shape[1] {
		return fmt.Errorf("%w: the model takes %v images, got samples of shape %v", detector.ErrSchema, m.Shape, x.Shape)
	}
	return nil
}

// Embed returns the N×Embedding embedding of x, row-major.
func (m *Model) Embed(ctx context.Context, x *data.Dataset) ([]float32, error) {
	if err := m.check(x); err != nil {
		return nil, err
	}
	return m.embed(ctx, x)
}

// Assign returns the soft assignments q (N×K, row-major) of x and the
// argmax cluster of every row.
func (m *Model) Assign(ctx context.Context, x *data.Dataset) (q []float32, labels []int, err error) {
	z, err := m.Embed(ctx, x)
	if err != nil {
		return nil, nil, err
	}
	q = SoftAssign(nil, tensor.FromData(z, x.N, m.EmbeddingSize()), m.Centroids, m.Options.Alpha).Data
	return q, argmaxRows(q, x.N, m.Options.K), nil
}

// Reconstruct returns the reconstructions of x, row-major like x.X.
func (m *Model) Reconstruct(ctx context.Context, x *data.Dataset) ([]float32, error) {
	if err := m.check(x); err != nil {
		return nil, err
	}
	dim := x.Dim()
	out := make([]float32, len(x.X))
	for lo := 0; lo < x.N; lo += embedBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		hi := min(x.N, lo+embedBatch)
		xb := tensor.FromData(x.X[lo*dim:hi*dim], append([]int{hi - lo}, m.Shape...)...)
		copy(out[lo*dim:hi*dim], m.Net.Decode(nil, m.Net.Encode(nil, xb)).Data)
	}
	return out, nil
}

// Score returns the anomaly score of every row of x, higher = more
// anomalous: by kind "distance" the Euclidean distance of z to the nearest
// centroid, by "maxq" 1 - max_j q_ij, by "lof" the local outlier factor of
// the image's hidden features (FeatureLOF); "" uses the model's
// Options.Score.
func (m *Model) Score(ctx context.Context, x *data.Dataset, kind string) ([]float64, error) {
	if kind == "" {
		kind = m.Options.Score
	}
	if kind == "lof" {
		if err := m.check(x); err != nil {
			return nil, err
		}
		return m.scoreFeatures(ctx, x)
	}
	z, err := m.Embed(ctx, x)
	if err != nil {
		return nil, err
	}
	d, k := m.EmbeddingSize(), m.Options.K
	out := make([]float64, x.N)
	switch kind {
	case "distance":
		nearest(z, m.Centroids.Data, x.N, d, k, out)
	case "maxq":
		q := SoftAssign(nil, tensor.FromData(z, x.N, d), m.Centroids, m.Options.Alpha).Data
		for i := range out {
			best := q[i*k]
			for j := 1; j < k; j++ {
				best = max(best, q[i*k+j])
			}
			out[i] = 1 - float64(best)
		}
	default:
		return nil, fmt.Errorf("%w: score = %q: must be distance, maxq or lof", ErrOption, kind)
	}
	return out, nil
}

func sqrt(v float64) float64 { return math.Sqrt(v) }
