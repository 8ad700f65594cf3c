package loda

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// Method is the name LODA is registered, saved and loaded under.
const Method = "loda"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
		"LODA, lightweight on-line detector of anomalies (Pevný 2016)",
		DefaultOptions, nil, New))
}

// Detector is LODA behind the shared detector interface: an ensemble of
// one-dimensional histograms of the training samples (unsupervised;
// labelled anomalies are ignored), flattened to rows, each on a sparse
// random projection.
type Detector struct {
	// Options are the detector's settings; Fit reads them.
	Options Options
	shape   []int
	e       *Ensemble
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector: it draws the projections and builds
// their histograms.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := detector.CheckFit(ctx, d.Options, ts); err != nil {
		return err
	}
	e, err := Fit(ctx, ts.X.X, ts.X.N, ts.X.Dim(), d.Options)
	if err != nil {
		return err
	}
	d.shape, d.e = slices.Clone(ts.X.Shape), e
	return nil
}

// Ensemble returns the fitted ensemble (nil before Fit).
func (d *Detector) Ensemble() *Ensemble { return d.e }

// Score implements detector.Detector: −(1/k) Σ_t log p̂_t(w_tᵀx) of each
// sample, higher = more anomalous.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, d.e != nil, x, d.shape); err != nil {
		return nil, err
	}
	s, err := d.e.Score(ctx, x.X, x.N, d.Options.workers())
	if err != nil {
		return nil, err
	}
	for i, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: score %d is %v", ErrInput, i, v)
		}
	}
	return s, nil
}

// config is the stored configuration: the options and the sample shape.
type config struct {
	Options Options `json:"options"`
	Shape   []int   `json:"shape"`
}

// maxFeatures bounds the features of a stored model's sample shape.
const maxFeatures = 1 << 28

// Marshal implements detector.Detector: the options and shape as JSON,
// and the ensemble as four little-endian blobs: "features" (int32) and
// "weights" (float32), k × ⌊√d⌋ each, "edges" (float64, k × (bins+1)) and
// "density" (float64, k × bins).
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.e == nil {
		return nil, detector.ErrNotFitted
	}
	cfg, err := json.Marshal(config{d.Options, d.shape})
	if err != nil {
		return nil, err
	}
	e := d.e
	feat := make([]byte, 0, 4*len(e.feat))
	for _, f := range e.feat {
		feat = binary.LittleEndian.AppendUint32(feat, uint32(f))
	}
	w := make([]byte, 0, 4*len(e.w))
	for _, v := range e.w {
		w = binary.LittleEndian.AppendUint32(w, math.Float32bits(v))
	}
	return &detector.Payload{Config: cfg, Blobs: map[string][]byte{
		"features": feat, "weights": w, "edges": floats(e.edges), "density": floats(e.density),
	}}, nil
}

// Unmarshal implements detector.Detector. It replaces the detector's
// options (all but Workers) with the stored ones, and checks the stored
// state before it allocates: the options valid (so the histograms within
// MaxCells), the shape within 2^28 features, every blob of the size these
// imply, each projection's features in range and ascending, its weights
// finite, its edges finite and ascending, its densities finite and
// positive.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: loda configuration: %v", detector.ErrPayload, err)
	}
	c.Options.Workers = d.Options.Workers
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	dim := 1
	for _, s := range c.Shape {
		if s < 1 || s > maxFeatures || dim*s > maxFeatures {
			return fmt.Errorf("%w: loda: sample shape %v", detector.ErrPayload, c.Shape)
		}
		dim *= s
	}
	if len(c.Shape) == 0 {
		return fmt.Errorf("%w: loda: empty sample shape", detector.ErrPayload)
	}
	k, nb, m := c.Options.Projections, c.Options.Bins, Nonzero(dim)
	fb, wb, eb, db := p.Blobs["features"], p.Blobs["weights"], p.Blobs["edges"], p.Blobs["density"]
	if len(fb) != 4*k*m || len(wb) != 4*k*m || len(eb) != 8*k*(nb+1) || len(db) != 8*k*nb {
		return fmt.Errorf("%w: loda: blobs of %d, %d, %d and %d bytes for %d projections of %d features and %d bins",
			detector.ErrPayload, len(fb), len(wb), len(eb), len(db), k, m, nb)
	}
	e := &Ensemble{d: dim, k: k, m: m, bins: nb, feat: make([]int32, k*m), w: make([]float32, k*m),
		edges: unfloats(eb), density: unfloats(db), nlog: make([]float64, k*nb)}
	for i := range e.feat {
		f := binary.LittleEndian.Uint32(fb[4*i:])
		v := math.Float32frombits(binary.LittleEndian.Uint32(wb[4*i:]))
		if f >= uint32(dim) || i%m > 0 && int32(f) <= e.feat[i-1] || math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: loda: projection %d: feature %d weight %v", detector.ErrPayload, i/m, f, v)
		}
		e.feat[i], e.w[i] = int32(f), v
	}
	for t := range k {
		edges := e.edges[t*(nb+1) : (t+1)*(nb+1)]
		for b, v := range edges {
			if math.IsNaN(v) || math.IsInf(v, 0) || b > 0 && !(v > edges[b-1]) {
				return fmt.Errorf("%w: loda: projection %d: edges not finite and ascending", detector.ErrPayload, t)
			}
		}
		for b := range nb {
			v := e.density[t*nb+b]
			if !(v > 0) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: loda: projection %d: density %v", detector.ErrPayload, t, v)
			}
			e.nlog[t*nb+b] = -math.Log(v)
		}
	}
	d.Options, d.shape, d.e = c.Options, c.Shape, e
	return nil
}

func floats(v []float64) []byte {
	b := make([]byte, 0, 8*len(v))
	for _, x := range v {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
	}
	return b
}

func unfloats(b []byte) []float64 {
	v := make([]float64, len(b)/8)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return v
}
