package pca

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// MethodName is the name PCA models are saved and loaded under.
const MethodName = "pca"

func init() { detector.Register(MethodName, func() detector.Detector { return &Detector{} }) }

// Detector scores a sample by its squared reconstruction error from the
// principal subspace of the training data (unsupervised).
type Detector struct {
	Options Options
	pca     *PCA
}

// NewDetector returns an unfitted detector. With Options.NComponents 0 it
// keeps half the features, rounded up.
func NewDetector(opt Options) *Detector { return &Detector{Options: opt} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return MethodName }

// Fit implements detector.Detector.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	opt := d.Options
	if opt.NComponents == 0 {
		opt.NComponents = (ts.X.Dim() + 1) / 2
	}
	p, err := Fit(ts.X.X, ts.X.N, ts.X.Dim(), opt)
	if err != nil {
		return err
	}
	d.pca = p
	return nil
}

// Score implements detector.Detector.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if d.pca == nil {
		return nil, detector.ErrNotFitted
	}
	if x.Dim() != d.pca.Dim {
		return nil, fmt.Errorf("%w: PCA takes %d features, got %d", detector.ErrSchema, d.pca.Dim, x.Dim())
	}
	return d.pca.ReconstructionError(x.X, x.N)
}

type stored struct {
	Options Options
	PCA     *PCA
}

// Marshal implements detector.Detector. The model is small, so it is stored
// in the configuration as JSON (float64 values round-trip exactly).
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.pca == nil {
		return nil, detector.ErrNotFitted
	}
	b, err := json.Marshal(stored{d.Options, d.pca})
	return &detector.Payload{Config: b}, err
}

// Unmarshal implements detector.Detector.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var s stored
	if err := json.Unmarshal(p.Config, &s); err != nil {
		return fmt.Errorf("%w: pca: %v", detector.ErrPayload, err)
	}
	if s.PCA == nil || s.PCA.Dim <= 0 || s.PCA.NComponents <= 0 || len(s.PCA.Mean) != s.PCA.Dim || len(s.PCA.Components) != s.PCA.Dim*s.PCA.NComponents {
		return fmt.Errorf("%w: pca: inconsistent stored model", detector.ErrPayload)
	}
	d.Options, d.pca = s.Options, s.PCA
	return nil
}
