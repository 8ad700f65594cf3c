package ocsvm

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
		"One-class SVM, RBF kernel (Schölkopf et al. 2001), libsvm's SMO",
		DefaultOptions, nil, New))
}

// Detector is the one-class SVM behind the shared detector interface: it
// fits on the training samples flattened to rows (unsupervised; labelled
// anomalies are ignored) and scores −f(x), the negated decision function,
// so that higher is more anomalous.
type Detector struct {
	// Options are the detector's settings; Fit reads them.
	Options Options
	shape   []int
	m       *model
	info    Info
}

// Info describes a fit: what the solver was given and what it found.
type Info struct {
	// TrainRows is the number of rows given to Fit; Rows the number the
	// SVM was trained on (fewer when MaxSamples subsampled).
	TrainRows int `json:"train_rows"`
	Rows      int `json:"rows"`
	// Gamma is the kernel width used (the "scale" or "auto" value
	// resolved on the training rows).
	Gamma float64 `json:"gamma"`
	// Rho is ρ, the decision function's offset (scikit-learn's offset_).
	Rho float64 `json:"rho"`
	// SupportVectors counts the rows with α > 0, BoundedSupportVectors
	// those with α = 1.
	SupportVectors        int `json:"support_vectors"`
	BoundedSupportVectors int `json:"bounded_support_vectors"`
	// Iterations is the number of SMO steps; Converged is false when the
	// solver stopped at libsvm's iteration limit rather than at Tol.
	Iterations int  `json:"iterations"`
	Converged  bool `json:"converged"`
	// Objective is the dual objective ½αᵀQα at the solution.
	Objective float64 `json:"objective"`
	// Note says what Fit did that a user would not assume (a subsample, a
	// stop at the iteration limit), or is empty.
	Note string `json:"note,omitempty"`
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Info returns the description of the last fit (the zero Info before
// Fit).
func (d *Detector) Info() Info { return d.info }

// Fit implements detector.Detector: it solves the one-class dual on the
// rows of ts.X, or on a seeded subsample of Options.MaxSamples rows when
// there are more (reported as the progress phase "subsample" and in
// Info().Note). It reports the solver's progress every 1,000 steps as the
// phase "smo" (Done: steps, Total: the iteration limit; Metrics: the
// optimality gap, which falls to Tol).
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := detector.CheckFit(ctx, d.Options, ts); err != nil {
		return err
	}
	o := d.Options
	n, dim := ts.X.N, ts.X.Dim()
	x := ts.X.X[:n*dim]
	info := Info{TrainRows: n, Rows: n}
	if o.MaxSamples > 0 && n > o.MaxSamples {
		rows := subsample(n, o.MaxSamples, o.Seed)
		sub := make([]float32, 0, len(rows)*dim)
		for _, r := range rows {
			sub = append(sub, x[r*dim:(r+1)*dim]...)
		}
		x, info.Rows = sub, len(rows)
		info.Note = fmt.Sprintf("trained on %d of the %d rows, drawn at random with seed %d (max-samples = %d)", len(rows), n, o.Seed, o.MaxSamples)
		if ts.Progress != nil {
			ts.Progress(detector.Progress{Phase: "subsample", Done: len(rows), Total: n,
				Metrics: map[string]float64{"max_samples": float64(o.MaxSamples)}})
		}
	}
	l := info.Rows
	info.Gamma = resolveGamma(o.Gamma, x, dim)
	k := newKernel(x, l, dim, info.Gamma, o.workers())
	var report func(iter, maxIter int, gap float64)
	if ts.Progress != nil {
		report = func(iter, maxIter int, gap float64) {
			ts.Progress(detector.Progress{Phase: "smo", Done: iter, Total: maxIter, Metrics: map[string]float64{"gap": gap}})
		}
	}
	sol, err := solveOneClass(ctx, k, startAlpha(l, o.Nu), o.Tol, o.cacheColumns(l), o.Shrinking, report)
	if err != nil {
		return err
	}
	m := newModel(x, dim, info.Gamma, sol)
	for _, a := range m.coef {
		if a >= 1 {
			info.BoundedSupportVectors++
		}
	}
	info.Rho, info.SupportVectors, info.Iterations, info.Converged, info.Objective = sol.rho, m.nSV(), sol.iter, sol.converged, sol.obj
	if !sol.converged {
		if info.Note != "" {
			info.Note += "; "
		}
		info.Note += fmt.Sprintf("stopped at the iteration limit (%d steps) before reaching tol = %g", sol.iter, o.Tol)
	}
	if math.IsNaN(sol.rho) || math.IsInf(sol.rho, 0) {
		return fmt.Errorf("%w: ocsvm: the solver's offset ρ is %v", detector.ErrInput, sol.rho)
	}
	d.shape, d.m, d.info = slices.Clone(ts.X.Shape), m, info
	return nil
}

// newModel keeps the rows of x (l×dim) with α > 0 as support vectors, in
// order, with their α as coefficients.
func newModel(x []float32, dim int, gamma float64, sol *solution) *model {
	var sv []float32
	var coef []float64
	for i, a := range sol.alpha {
		if a > 0 {
			coef = append(coef, a)
			sv = append(sv, x[i*dim:(i+1)*dim]...)
		}
	}
	return newModelFrom(dim, gamma, sol.rho, sv, coef)
}

// subsample returns m of the row indices 0 … n−1, drawn without
// replacement from a PCG stream of seed, in increasing order (the solver's
// starting point depends on the order of the rows, so the subsample keeps
// the data's).
func subsample(n, m int, seed uint64) []int {
	r := rand.New(rand.NewPCG(seed, 0x4f43_5356_4d)) // "OCSVM"
	p := r.Perm(n)[:m]
	slices.Sort(p)
	return p
}

// Score implements detector.Detector: −f(x) = ρ − Σ_k α_k·exp(−γ‖x−s_k‖²)
// for each sample, higher = more anomalous. It equals scikit-learn's
// −decision_function(x), and offset_ − score_samples(x).
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, d.m != nil, x, d.shape); err != nil {
		return nil, err
	}
	return d.m.score(ctx, x.X, x.N, d.Options.workers())
}

// config is the stored configuration: the options, the sample shape and
// the fit's description (γ and ρ among it).
type config struct {
	Options Options `json:"options"`
	Shape   []int   `json:"shape"`
	Info    Info    `json:"info"`
}

// Marshal implements detector.Detector: the configuration as JSON (γ and ρ
// in it round-trip exactly), the support vectors as the tensor
// "support_vectors" (n×d float32, the training values exactly) and the
// coefficients α as the blob "dual_coef" (n little-endian float64).
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.m == nil {
		return nil, detector.ErrNotFitted
	}
	cfg, err := json.Marshal(config{d.Options, d.shape, d.info})
	if err != nil {
		return nil, err
	}
	sv := tensor.FromData(slices.Clone(d.m.sv), d.m.nSV(), d.m.dim)
	sv.Name = "support_vectors"
	coef := make([]byte, 8*d.m.nSV())
	for i, c := range d.m.coef {
		binary.LittleEndian.PutUint64(coef[8*i:], math.Float64bits(c))
	}
	return &detector.Payload{Config: cfg, Tensors: []*tensor.Tensor{sv}, Blobs: map[string][]byte{"dual_coef": coef}}, nil
}

// Unmarshal implements detector.Detector. It checks that the stored sizes
// agree (support vectors of the sample shape's size, one coefficient
// each, in (0, 1]) and that γ and ρ are finite, and replaces the
// detector's options (all but Workers) with the stored ones.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: ocsvm configuration: %v", detector.ErrPayload, err)
	}
	size := 1
	for _, s := range c.Shape {
		if s <= 0 {
			size = 0
		}
		size *= max(s, 0)
	}
	if len(c.Shape) == 0 || size == 0 {
		return fmt.Errorf("%w: ocsvm: sample shape %v", detector.ErrPayload, c.Shape)
	}
	sv, err := p.Tensor("support_vectors")
	if err != nil {
		return err
	}
	if len(sv.Shape) != 2 || sv.Shape[1] != size || sv.Shape[0] < 1 || len(sv.Data) != sv.Shape[0]*size {
		return fmt.Errorf("%w: ocsvm: support vectors of shape %v for samples of %d values", detector.ErrPayload, sv.Shape, size)
	}
	nSV := sv.Shape[0]
	blob, ok := p.Blobs["dual_coef"]
	if !ok || len(blob) != 8*nSV {
		return fmt.Errorf("%w: ocsvm: %d bytes of coefficients for %d support vectors", detector.ErrPayload, len(blob), nSV)
	}
	if c.Info.SupportVectors != nSV {
		return fmt.Errorf("%w: ocsvm: %d support vectors stored, the configuration says %d", detector.ErrPayload, nSV, c.Info.SupportVectors)
	}
	gamma, rho := c.Info.Gamma, c.Info.Rho
	if !(gamma > 0) || math.IsInf(gamma, 0) || math.IsNaN(rho) || math.IsInf(rho, 0) {
		return fmt.Errorf("%w: ocsvm: gamma %v, rho %v", detector.ErrPayload, gamma, rho)
	}
	for i, v := range sv.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: ocsvm: support vector value %d is %v", detector.ErrPayload, i, v)
		}
	}
	coef := make([]float64, nSV)
	for i := range coef {
		coef[i] = math.Float64frombits(binary.LittleEndian.Uint64(blob[8*i:]))
		if !(coef[i] > 0 && coef[i] <= 1) {
			return fmt.Errorf("%w: ocsvm: coefficient %d is %v, want (0, 1]", detector.ErrPayload, i, coef[i])
		}
	}
	c.Options.Workers = d.Options.Workers
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	m := newModelFrom(size, gamma, rho, slices.Clone(sv.Data), coef)
	d.Options, d.shape, d.m, d.info = c.Options, c.Shape, m, c.Info
	return nil
}
