package iforest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// MethodName is the name Isolation Forest models are saved and loaded under.
const MethodName = "iforest"

func init() { detector.Register(MethodName, func() detector.Detector { return &Detector{} }) }

// Detector is Isolation Forest behind the shared detector interface: it
// fits on the training rows (unsupervised; labelled anomalies are ignored)
// and scores 2^(-E[h(x)]/c(ψ)).
type Detector struct {
	Options Options
	forest  *Forest
}

// NewDetector returns an unfitted detector with the given options.
func NewDetector(opt Options) *Detector { return &Detector{Options: opt} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return MethodName }

// Fit implements detector.Detector.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := Fit(ts.X.X, ts.X.N, ts.X.Dim(), d.Options)
	if err != nil {
		return err
	}
	d.forest = f
	return nil
}

// Score implements detector.Detector.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if d.forest == nil {
		return nil, detector.ErrNotFitted
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if x.Dim() != d.forest.Dim() {
		return nil, fmt.Errorf("%w: forest takes %d features, got %d", detector.ErrSchema, d.forest.Dim(), x.Dim())
	}
	return d.forest.Score(x.X, x.N)
}

// Forest returns the fitted forest (nil before Fit).
func (d *Detector) Forest() *Forest { return d.forest }

// Marshal implements detector.Detector.
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.forest == nil {
		return nil, detector.ErrNotFitted
	}
	cfg, err := json.Marshal(d.Options)
	if err != nil {
		return nil, err
	}
	b, err := d.forest.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return &detector.Payload{Config: cfg, Blobs: map[string][]byte{"forest": b}}, nil
}

// Unmarshal implements detector.Detector.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	if err := json.Unmarshal(p.Config, &d.Options); err != nil {
		return fmt.Errorf("%w: iforest options: %v", detector.ErrPayload, err)
	}
	b, ok := p.Blobs["forest"]
	if !ok {
		return fmt.Errorf("%w: no forest blob", detector.ErrPayload)
	}
	f := &Forest{}
	if err := f.UnmarshalBinary(b); err != nil {
		return err
	}
	d.forest = f
	return nil
}
