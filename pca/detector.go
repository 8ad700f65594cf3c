package pca

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// Method is the name PCA is registered, saved and loaded under.
const Method = "pca"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
		"PCA reconstruction error: squared distance to the principal subspace",
		DefaultOptions, nil, New))
}

// Detector scores a sample by its squared reconstruction error from the
// principal subspace of the training data (unsupervised; labelled
// anomalies are ignored). Samples are flattened to rows.
type Detector struct {
	// Options are the detector's settings; Fit reads them.
	Options Options
	shape   []int // training sample shape
	pca     *PCA
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector: it finds the principal axes of ts.X.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := detector.CheckFit(ctx, d.Options, ts); err != nil {
		return err
	}
	p, err := fit(ctx, ts.X.X, ts.X.N, ts.X.Dim(), d.Options)
	if err != nil {
		return err
	}
	d.shape, d.pca = append([]int(nil), ts.X.Shape...), p
	return nil
}

// Score implements detector.Detector: the squared Euclidean distance of
// each sample to its reconstruction from the kept axes.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, d.pca != nil, x, d.shape); err != nil {
		return nil, err
	}
	return d.pca.ReconstructionError(x.X, x.N)
}

// Model returns the fitted PCA (nil before Fit).
func (d *Detector) Model() *PCA { return d.pca }

// stored is the saved state. Its keys match the field names of the state
// saved before they had JSON names, so older models load (with their
// shape taken as rows of Dim features).
type stored struct {
	Options Options `json:"options"`
	PCA     *PCA    `json:"pca"`
	Shape   []int   `json:"shape"`
}

// Marshal implements detector.Detector. The model is small, so it is stored
// in the configuration as JSON (float64 values round-trip exactly).
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.pca == nil {
		return nil, detector.ErrNotFitted
	}
	b, err := json.Marshal(stored{d.Options, d.pca, d.shape})
	return &detector.Payload{Config: b}, err
}

// Unmarshal implements detector.Detector. It replaces the detector's
// options (all but Workers) with the stored ones.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var s stored
	if err := json.Unmarshal(p.Config, &s); err != nil {
		return fmt.Errorf("%w: pca: %v", detector.ErrPayload, err)
	}
	if s.PCA == nil || s.PCA.Dim <= 0 || s.PCA.NComponents <= 0 || len(s.PCA.Mean) != s.PCA.Dim || len(s.PCA.Components) != s.PCA.Dim*s.PCA.NComponents {
		return fmt.Errorf("%w: pca: inconsistent stored model", detector.ErrPayload)
	}
	if s.Shape == nil {
		s.Shape = []int{s.PCA.Dim}
	}
	size := 1
	for _, v := range s.Shape {
		size *= max(v, 0)
	}
	if len(s.Shape) == 0 || size != s.PCA.Dim {
		return fmt.Errorf("%w: pca: sample shape %v for a model of %d features", detector.ErrPayload, s.Shape, s.PCA.Dim)
	}
	s.Options.Workers = d.Options.Workers
	if err := s.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	d.Options, d.shape, d.pca = s.Options, s.Shape, s.PCA
	return nil
}
