package iforest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// Method is the name Isolation Forest is registered, saved and loaded
// under.
const Method = "iforest"

func init() {
	detector.Register(detector.Define(Method, detector.Unsupervised|detector.Tables,
		"Isolation Forest (Liu, Ting and Zhou 2008)",
		DefaultOptions, nil, New))
}

// Detector is Isolation Forest behind the shared detector interface: it
// fits on the training samples (unsupervised; labelled anomalies are
// ignored), flattened to rows, and scores 2^(-E[h(x)]/c(ψ)).
type Detector struct {
	// Options are the detector's settings; Fit reads them.
	Options Options
	shape   []int // training sample shape
	forest  *Forest
}

// New returns an unfitted detector with the given options; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// NewFittedDetector wraps a forest built outside Fit (by Assemble, or read
// with UnmarshalBinary) in a Detector with the options it was grown with, so
// that it can be saved as a model like any fitted detector. The detector
// takes rows of f.Dim() features.
func NewFittedDetector(o Options, f *Forest) (*Detector, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if f == nil || len(f.roots) == 0 {
		return nil, fmt.Errorf("iforest detector: %w: forest not fitted", ErrInput)
	}
	return &Detector{Options: o, shape: []int{f.Dim()}, forest: f}, nil
}

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector: it grows the forest on ts.X.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	if err := detector.CheckFit(ctx, d.Options, ts); err != nil {
		return err
	}
	f, err := fit(ctx, ts.X.X, ts.X.N, ts.X.Dim(), d.Options)
	if err != nil {
		return err
	}
	d.shape, d.forest = append([]int(nil), ts.X.Shape...), f
	return nil
}

// Score implements detector.Detector: the anomaly score of each sample, in
// (0, 1), higher = more anomalous.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, d.forest != nil, x, d.shape); err != nil {
		return nil, err
	}
	return d.forest.Score(x.X, x.N)
}

// Forest returns the fitted forest (nil before Fit).
func (d *Detector) Forest() *Forest { return d.forest }

// config is the stored configuration: the options and the sample shape.
type config struct {
	Options Options `json:"options"`
	Shape   []int   `json:"shape"`
}

// Marshal implements detector.Detector: the options and shape as JSON, the
// forest as the blob "forest" (MarshalBinary's format).
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.forest == nil {
		return nil, detector.ErrNotFitted
	}
	cfg, err := json.Marshal(config{d.Options, d.shape})
	if err != nil {
		return nil, err
	}
	b, err := d.forest.MarshalBinary()
	if err != nil {
		return nil, err
	}
	return &detector.Payload{Config: cfg, Blobs: map[string][]byte{"forest": b}}, nil
}

// Unmarshal implements detector.Detector. It replaces the detector's
// options (all but Workers) with the stored ones. A model saved before the
// options had JSON names (its configuration is the bare Options) loads
// too: its options are read back from the forest, which records them.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: iforest configuration: %v", detector.ErrPayload, err)
	}
	b, ok := p.Blobs["forest"]
	if !ok {
		return fmt.Errorf("%w: no forest blob", detector.ErrPayload)
	}
	f := &Forest{}
	if err := f.UnmarshalBinary(b); err != nil {
		return fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	if c.Shape == nil {
		var old struct{ MaxSamples int }
		_ = json.Unmarshal(p.Config, &old) // the config decoded above
		c.Options = Options{NTrees: f.NTrees(), MaxSamples: old.MaxSamples, MaxFeatures: f.maxFeat, Seed: f.seed}
		if c.Options.MaxSamples == 0 {
			c.Options.MaxSamples = 256 // the zero value meant the default then
		}
		c.Shape = []int{f.Dim()}
	}
	size := 1
	for _, s := range c.Shape {
		size *= max(s, 0)
	}
	if len(c.Shape) == 0 || size != f.Dim() {
		return fmt.Errorf("%w: iforest: sample shape %v for a forest of %d features", detector.ErrPayload, c.Shape, f.Dim())
	}
	c.Options.Workers = d.Options.Workers
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %w", detector.ErrPayload, err)
	}
	if c.Options.Workers > 0 {
		f.SetWorkers(c.Options.Workers)
	}
	d.Options, d.shape, d.forest = c.Options, c.Shape, f
	return nil
}
