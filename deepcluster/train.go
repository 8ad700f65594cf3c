package deepcluster

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/kmeans"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// ErrConfig reports an invalid option; ErrInput unusable data.
var (
	ErrConfig = errors.New("deepcluster: bad option")
	ErrInput  = errors.New("deepcluster: bad input")
)

// Config holds every setting of a deep clustering run; the zero value of a
// field selects the default noted beside it (METHODS.md §3, DCEC's values).
// It is stored with saved models as JSON.
type Config struct {
	// K is the number of clusters (required).
	K int `json:"k"`
	// Embedding is the size of z (default 10).
	Embedding int `json:"embedding"`
	// Seed drives weights, batch order and k-means.
	Seed uint64 `json:"seed"`
	// PretrainEpochs of reconstruction-only training (default 200; set
	// NoPretrain to skip it).
	PretrainEpochs int  `json:"pretrain_epochs"`
	NoPretrain     bool `json:"no_pretrain,omitempty"`
	// BatchSize for both phases (default 256).
	BatchSize int `json:"batch_size"`
	// LR and FinetuneLR are Adam's learning rates (default 1e-3 both).
	LR         float64 `json:"lr"`
	FinetuneLR float64 `json:"finetune_lr"`
	// KMeansInit is the number of k-means++ restarts of the initialisation
	// (default 20).
	KMeansInit int `json:"kmeans_init"`
	// MaxSteps bounds fine-tuning (default 20,000); UpdateInterval is T, the
	// steps between target updates (default 140); Tol stops fine-tuning when
	// fewer than this fraction of assignments change between updates
	// (default 0.001). A negative Tol never stops early.
	MaxSteps       int     `json:"max_steps"`
	UpdateInterval int     `json:"update_interval"`
	Tol            float64 `json:"tol"`
	// Alpha is the Student's t degrees of freedom (default 1).
	Alpha float64 `json:"alpha"`
	// Loss is the clustering loss: "kl" (default) or "kmeans" (DCN).
	Loss string `json:"loss"`
	// Schedule is "gamma" (default: L = Gamma·L_cluster + L_AE, Gamma
	// default 0.1) or "alpha" (L = a·L_cluster + (1-a)·L_AE with a rising
	// from AlphaFrom to AlphaTo over AlphaSteps steps; defaults 0, 0.5 and
	// a fifth of MaxSteps).
	Schedule   string  `json:"schedule"`
	Gamma      float64 `json:"gamma"`
	AlphaFrom  float64 `json:"alpha_from"`
	AlphaTo    float64 `json:"alpha_to"`
	AlphaSteps int     `json:"alpha_steps"`
	// Final is the final clustering: "argmax" (default, argmax_j q_ij) or
	// "kmeans" (k-means re-run on the final embedding).
	Final string `json:"final"`
	// Score is the anomaly score: "distance" (default, Euclidean distance
	// of z to the nearest centroid) or "maxq" (1 - max_j q_ij).
	Score string `json:"score"`
}

// WithDefaults returns c with every zero field set to its default, or an
// error (ErrConfig) naming the first invalid option.
func (c Config) WithDefaults() (Config, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Embedding, 10)
	def(&c.PretrainEpochs, 200)
	def(&c.BatchSize, 256)
	deff(&c.LR, 1e-3)
	deff(&c.FinetuneLR, 1e-3)
	def(&c.KMeansInit, 20)
	def(&c.MaxSteps, 20000)
	def(&c.UpdateInterval, 140)
	deff(&c.Tol, 1e-3)
	deff(&c.Alpha, 1)
	deff(&c.Gamma, 0.1)
	deff(&c.AlphaTo, 0.5)
	def(&c.AlphaSteps, max(1, c.MaxSteps/5))
	if c.Loss == "" {
		c.Loss = "kl"
	}
	if c.Schedule == "" {
		c.Schedule = "gamma"
	}
	if c.Final == "" {
		c.Final = "argmax"
	}
	if c.Score == "" {
		c.Score = "distance"
	}
	switch {
	case c.K < 1:
		return c, fmt.Errorf("%w: k must be at least 1, got %d", ErrConfig, c.K)
	case c.Embedding < 1 || c.PretrainEpochs < 0 || c.BatchSize < 1 || c.KMeansInit < 1 || c.MaxSteps < 0 || c.UpdateInterval < 1:
		return c, fmt.Errorf("%w: sizes and counts must be positive in %+v", ErrConfig, c)
	case !(c.LR > 0) || !(c.FinetuneLR > 0) || !(c.Alpha > 0) || math.IsNaN(c.Tol) || !(c.Gamma > 0):
		return c, fmt.Errorf("%w: learning rates, alpha and gamma must be positive", ErrConfig)
	case c.AlphaFrom < 0 || c.AlphaTo > 1 || c.AlphaFrom > 1 || c.AlphaTo < 0:
		return c, fmt.Errorf("%w: alpha schedule must stay in [0, 1], got %g to %g", ErrConfig, c.AlphaFrom, c.AlphaTo)
	}
	if c.Loss != "kl" && c.Loss != "kmeans" {
		return c, fmt.Errorf("%w: unknown clustering loss %q (kl, kmeans)", ErrConfig, c.Loss)
	}
	if c.Schedule != "gamma" && c.Schedule != "alpha" {
		return c, fmt.Errorf("%w: unknown schedule %q (gamma, alpha)", ErrConfig, c.Schedule)
	}
	if c.Final != "argmax" && c.Final != "kmeans" {
		return c, fmt.Errorf("%w: unknown final clustering %q (argmax, kmeans)", ErrConfig, c.Final)
	}
	if c.Score != "distance" && c.Score != "maxq" {
		return c, fmt.Errorf("%w: unknown score %q (distance, maxq)", ErrConfig, c.Score)
	}
	return c, nil
}

// Trainer runs the three phases. Config names the default parts; any of
// Net, Loss, Combination and Final set by the caller replaces its default,
// which is how a new combination of the taxonomy is assembled.
type Trainer struct {
	Config      Config
	Net         Network
	Loss        ClusterLoss
	Combination Combination
	Final       FinalClustering
	// Labels, when set (one per row), are used only to report ACC in the
	// progress and the history; they never influence training.
	Labels []int
	// OnProgress, when set, receives a report after every pretraining epoch
	// and every target update.
	OnProgress func(phase string, done, total int, m map[string]float64)
}

// Checkpoint records the state at one target update.
type Checkpoint struct {
	Step    int     `json:"step"`
	Loss    float64 `json:"loss"`    // mean combined loss since the last update
	Cluster float64 `json:"cluster"` // mean clustering loss since the last update
	Recon   float64 `json:"recon"`   // mean reconstruction loss since the last update
	Delta   float64 `json:"delta"`   // fraction of assignments changed
	ACC     float64 `json:"acc,omitempty"`
	NMI     float64 `json:"nmi,omitempty"`
}

// Timings are the seconds spent in each phase.
type Timings struct {
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
	// Embedding (n×d) and Q (n×k) of the training rows after fine-tuning.
	Embedding, Q []float32
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
	Config    Config
	Net       Network
	Centroids *tensor.Tensor // K×Embedding
	// shape of one input sample, C×S×S.
	Shape []int
}

// imageShape checks that x holds square images and returns C and side.
func imageShape(x *data.Dataset) (c, side int, err error) {
	switch len(x.Shape) {
	case 3:
		c, side = x.Shape[0], x.Shape[1]
		if x.Shape[2] != side {
			return 0, 0, fmt.Errorf("%w: images must be square, got %v", ErrInput, x.Shape)
		}
	case 2:
		c, side = 1, x.Shape[0]
		if x.Shape[1] != side {
			return 0, 0, fmt.Errorf("%w: images must be square, got %v", ErrInput, x.Shape)
		}
	default:
		return 0, 0, fmt.Errorf("%w: need C×S×S images, got samples of shape %v", ErrInput, x.Shape)
	}
	return c, side, nil
}

// Fit trains on x (labels ignored) and returns the model and what the run
// produced. It checks ctx between steps.
func (t *Trainer) Fit(ctx context.Context, x *data.Dataset) (*Model, *Result, error) {
	cfg, err := t.Config.WithDefaults()
	if err != nil {
		return nil, nil, err
	}
	if x == nil || x.N == 0 {
		return nil, nil, fmt.Errorf("%w: no training data", ErrInput)
	}
	if err := x.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	c, side, err := imageShape(x)
	if err != nil {
		return nil, nil, err
	}
	if x.N < cfg.K {
		return nil, nil, fmt.Errorf("%w: %d samples for %d clusters", ErrInput, x.N, cfg.K)
	}
	if t.Labels != nil && len(t.Labels) != x.N {
		return nil, nil, fmt.Errorf("%w: %d monitoring labels for %d samples", ErrInput, len(t.Labels), x.N)
	}
	wr := rand.New(rand.NewPCG(cfg.Seed, 0xdcec))
	order := rand.New(rand.NewPCG(cfg.Seed, 0xdcec+1))
	net := t.Net
	if net == nil {
		ae, err := NewAutoencoder(c, side, cfg.Embedding, wr)
		if err != nil {
			return nil, nil, err
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
			comb = AlphaRamp{From: cfg.AlphaFrom, To: cfg.AlphaTo, Steps: cfg.AlphaSteps}
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
	m := &Model{Config: cfg, Net: net, Shape: []int{c, side, side}}
	res := &Result{}
	report := func(phase string, done, total int, mm map[string]float64) {
		if t.OnProgress != nil {
			t.OnProgress(phase, done, total, mm)
		}
	}

	// Phase 1: pretraining.
	start := time.Now()
	if !cfg.NoPretrain {
		if err := pretrain(ctx, net, x, m.Shape, cfg, order, res, report); err != nil {
			return nil, nil, err
		}
	}
	res.Timings.Pretrain = time.Since(start).Seconds()

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
	if err := finetune(ctx, m, x, loss, comb, cfg, order, t.Labels, res, report); err != nil {
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

func pretrain(ctx context.Context, net Network, x *data.Dataset, shape []int, cfg Config, order *rand.Rand, res *Result, report func(string, int, int, map[string]float64)) error {
	opt, err := optim.NewAdam(net.Parameters(), optim.AdamConfig{LR: cfg.LR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if err != nil {
		return err
	}
	nb := (x.N + cfg.BatchSize - 1) / cfg.BatchSize
	bar := progress.New("pretrain", cfg.PretrainEpochs*nb)
	defer bar.Finish()
	for ep := 0; ep < cfg.PretrainEpochs; ep++ {
		perm := order.Perm(x.N)
		var sum float64
		for b := 0; b < nb; b++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			idx := perm[b*cfg.BatchSize : min(x.N, (b+1)*cfg.BatchSize)]
			xb := batchOf(x, idx, shape)
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
			bar.Add(1, map[string]float64{"epoch": float64(ep + 1), "loss": lv})
		}
		res.PretrainLoss = append(res.PretrainLoss, sum/float64(x.N))
		report("pretrain", ep+1, cfg.PretrainEpochs, map[string]float64{"loss": sum / float64(x.N)})
	}
	return nil
}

func finetune(ctx context.Context, m *Model, x *data.Dataset, loss ClusterLoss, comb Combination, cfg Config, order *rand.Rand, labels []int, res *Result, report func(string, int, int, map[string]float64)) error {
	params := m.Net.Parameters()
	if loss.TrainsCentroids() {
		params = append(params, m.Centroids)
	}
	opt, err := optim.NewAdam(params, optim.AdamConfig{LR: cfg.FinetuneLR, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8})
	if err != nil {
		return err
	}
	d, k := cfg.Embedding, cfg.K
	bar := progress.New("finetune", cfg.MaxSteps)
	defer bar.Finish()
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
			bar.Add(0, mm)
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
		xb := batchOf(x, idx, m.Shape)
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
		bar.Add(1, nil)
	}
}

// embedBatch is the number of rows encoded at once at inference.
const embedBatch = 512

// embed returns the n×d embedding of every row of x (no gradient).
func (m *Model) embed(ctx context.Context, x *data.Dataset) ([]float32, error) {
	d := m.Config.Embedding
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

// check verifies that x fits the model.
func (m *Model) check(x *data.Dataset) error {
	if m == nil || m.Net == nil || m.Centroids == nil {
		return fmt.Errorf("deepcluster: model not trained")
	}
	if x == nil {
		return fmt.Errorf("%w: no data", ErrInput)
	}
	c, side, err := imageShape(x)
	if err != nil {
		return err
	}
	if c != m.Shape[0] || side != m.Shape[1] {
		return fmt.Errorf("%w: model expects %v images, got %v", ErrInput, m.Shape, x.Shape)
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
	q = SoftAssign(nil, tensor.FromData(z, x.N, m.Config.Embedding), m.Centroids, m.Config.Alpha).Data
	return q, argmaxRows(q, x.N, m.Config.K), nil
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
// centroid, by "maxq" 1 - max_j q_ij; "" uses the model's Config.Score.
func (m *Model) Score(ctx context.Context, x *data.Dataset, kind string) ([]float64, error) {
	if kind == "" {
		kind = m.Config.Score
	}
	z, err := m.Embed(ctx, x)
	if err != nil {
		return nil, err
	}
	d, k := m.Config.Embedding, m.Config.K
	out := make([]float64, x.N)
	switch kind {
	case "distance":
		nearest(z, m.Centroids.Data, x.N, d, k, out)
	case "maxq":
		q := SoftAssign(nil, tensor.FromData(z, x.N, d), m.Centroids, m.Config.Alpha).Data
		for i := range out {
			best := q[i*k]
			for j := 1; j < k; j++ {
				best = max(best, q[i*k+j])
			}
			out[i] = 1 - float64(best)
		}
	default:
		return nil, fmt.Errorf("%w: unknown score %q (distance, maxq)", ErrConfig, kind)
	}
	return out, nil
}

func sqrt(v float64) float64 { return math.Sqrt(v) }
