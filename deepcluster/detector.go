package deepcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

// Method is the name under which the detector registers.
const Method = "deepcluster"

func init() {
	detector.Register(Method, func() detector.Detector { return &Detector{} })
}

// Detector is deep clustering as an anomaly detector (detector.Detector):
// Fit clusters the (unlabelled) training images, Score is the distance of
// z to the nearest centroid or 1 - max q (Config.Score).
type Detector struct {
	// Config configures Fit; after Fit or Unmarshal it holds the defaults
	// that were applied.
	Config Config
	// Model is the trained model (nil before Fit).
	Model *Model
	// Result is what the last Fit produced (not saved).
	Result *Result
	// MonitorLabels makes Fit report ACC from the training labels, when
	// present, in its progress; they never influence training.
	MonitorLabels bool
}

// New returns a detector with the given configuration.
func New(cfg Config) *Detector { return &Detector{Config: cfg} }

// Method implements detector.Detector.
func (d *Detector) Method() string { return Method }

// Fit implements detector.Detector.
func (d *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	t := &Trainer{Config: d.Config}
	if d.MonitorLabels && ts.X != nil && ts.X.Y != nil {
		t.Labels = ts.X.Y
	}
	if ts.Progress != nil {
		t.OnProgress = func(phase string, done, total int, m map[string]float64) {
			ts.Progress(detector.Progress{Phase: phase, Done: done, Total: total, Metrics: m})
		}
	}
	m, res, err := t.Fit(ctx, ts.X)
	if err != nil {
		return err
	}
	d.Model, d.Result, d.Config = m, res, m.Config
	return nil
}

// Score implements detector.Detector.
func (d *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if d.Model == nil {
		return nil, detector.ErrNotFitted
	}
	return d.Model.Score(ctx, x, "")
}

// stored is the configuration saved with a model.
type stored struct {
	Config Config `json:"config"`
	Shape  []int  `json:"shape"`
}

// Marshal implements detector.Detector: the configuration and input shape
// as JSON, the autoencoder's parameters and the centroids as tensors.
func (d *Detector) Marshal() (*detector.Payload, error) {
	if d.Model == nil {
		return nil, detector.ErrNotFitted
	}
	if _, ok := d.Model.Net.(*Autoencoder); !ok {
		return nil, fmt.Errorf("deepcluster: only the DCEC autoencoder can be saved, not %T", d.Model.Net)
	}
	cfg, err := json.Marshal(stored{Config: d.Model.Config, Shape: d.Model.Shape})
	if err != nil {
		return nil, err
	}
	ts := append([]*tensor.Tensor(nil), d.Model.Net.Parameters()...)
	ts = append(ts, d.Model.Centroids)
	return &detector.Payload{Config: cfg, Tensors: ts}, nil
}

// Unmarshal implements detector.Detector.
func (d *Detector) Unmarshal(p *detector.Payload) error {
	var s stored
	if err := json.Unmarshal(p.Config, &s); err != nil {
		return fmt.Errorf("%w: deepcluster config: %v", detector.ErrPayload, err)
	}
	cfg, err := s.Config.WithDefaults()
	if err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	if len(s.Shape) != 3 || s.Shape[1] != s.Shape[2] {
		return fmt.Errorf("%w: deepcluster input shape %v", detector.ErrPayload, s.Shape)
	}
	ae, err := NewAutoencoder(s.Shape[0], s.Shape[1], cfg.Embedding, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	mu := tensor.New(cfg.K, cfg.Embedding)
	mu.Name = "centroids"
	for _, dst := range append(ae.Parameters(), mu) {
		src, err := p.Tensor(dst.Name)
		if err != nil {
			return err
		}
		if !tensor.SameShape(src.Shape, dst.Shape) {
			return fmt.Errorf("%w: tensor %q has shape %v, want %v", detector.ErrPayload, dst.Name, src.Shape, dst.Shape)
		}
		if src.HasNaN() {
			return fmt.Errorf("%w: tensor %q holds NaN or infinity", detector.ErrPayload, dst.Name)
		}
		copy(dst.Data, src.Data)
	}
	d.Config = cfg
	d.Model = &Model{Config: cfg, Net: ae, Centroids: mu, Shape: s.Shape}
	return nil
}
