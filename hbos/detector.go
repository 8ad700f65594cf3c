package hbos

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

// Method is the name HBOS is registered, saved and loaded under.
const Method = "hbos"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
		"HBOS, histogram-based outlier score (Goldstein and Dengel 2012), PyOD's static histograms",
		DefaultOptions, nil, New))
}

// Detector is HBOS behind the shared detector interface: one histogram
// per feature of the training samples (unsupervised; labelled anomalies
// are ignored), flattened to rows, and a sample's score the negated sum
// of the log densities of its values.
type Detector struct {
	// Options are the detector's settings; Fit reads them.
	Options Options
	shape   []int
	h       *Histograms
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector: it builds the histograms.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := detector.CheckFit(ctx, d.Options, ts); err != nil {
		return err
	}
	h, err := Fit(ctx, ts.X.X, ts.X.N, ts.X.Dim(), d.Options)
	if err != nil {
		return err
	}
	d.shape, d.h = slices.Clone(ts.X.Shape), h
	return nil
}

// Histograms returns the fitted histograms (nil before Fit).
func (d *Detector) Histograms() *Histograms { return d.h }

// Score implements detector.Detector: −Σ_j log2(density_j + alpha) of
// each sample, higher = more anomalous.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, d.h != nil, x, d.shape); err != nil {
		return nil, err
	}
	s, err := d.h.Score(ctx, x.X, x.N, d.Options.workers(), nil)
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

// Marshal implements detector.Detector: the options and shape as JSON,
// and the histograms as two blobs of little-endian float64s: "edges"
// (d × (bins+1)) and "density" (d × bins).
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.h == nil {
		return nil, detector.ErrNotFitted
	}
	cfg, err := json.Marshal(config{d.Options, d.shape})
	if err != nil {
		return nil, err
	}
	return &detector.Payload{Config: cfg, Blobs: map[string][]byte{
		"edges": floats(d.h.edges), "density": floats(d.h.density),
	}}, nil
}

// Unmarshal implements detector.Detector. It replaces the detector's
// options (all but Workers) with the stored ones, and checks the stored
// state before it allocates: the shape's size and the bins within
// MaxCells, the blobs of the sizes they imply, every feature's edges
// finite and strictly ascending, its densities finite and not negative.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: hbos configuration: %v", detector.ErrPayload, err)
	}
	c.Options.Workers = d.Options.Workers
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	dim := 1
	for _, s := range c.Shape {
		if s < 1 || s > MaxCells || dim*s > MaxCells {
			return fmt.Errorf("%w: hbos: sample shape %v", detector.ErrPayload, c.Shape)
		}
		dim *= s
	}
	nb := c.Options.Bins
	if len(c.Shape) == 0 || dim*(nb+1) > MaxCells {
		return fmt.Errorf("%w: hbos: sample shape %v with %d bins", detector.ErrPayload, c.Shape, nb)
	}
	eb, db := p.Blobs["edges"], p.Blobs["density"]
	if len(eb) != 8*dim*(nb+1) || len(db) != 8*dim*nb {
		return fmt.Errorf("%w: hbos: blobs of %d and %d bytes for %d features of %d bins", detector.ErrPayload, len(eb), len(db), dim, nb)
	}
	h := &Histograms{d: dim, bins: nb, alpha: c.Options.Alpha, tol: c.Options.Tol, edges: unfloats(eb), density: unfloats(db)}
	for j := range dim {
		e := h.Edges(j)
		for i, v := range e {
			if math.IsNaN(v) || math.IsInf(v, 0) || i > 0 && !(v > e[i-1]) {
				return fmt.Errorf("%w: hbos: feature %d: edges not finite and ascending", detector.ErrPayload, j)
			}
		}
		for _, v := range h.Density(j) {
			if !(v >= 0) || math.IsInf(v, 0) {
				return fmt.Errorf("%w: hbos: feature %d: density %v", detector.ErrPayload, j, v)
			}
		}
	}
	h.derive()
	d.Options, d.shape, d.h = c.Options, c.Shape, h
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
