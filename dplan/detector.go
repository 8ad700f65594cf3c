package dplan

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/tensor"
)

// Method is DPLAN's registered method name.
const Method = "dplan"

func init() {
	detector.Register(detector.Define(Method, detector.WeaklySupervised|detector.Tables,
		"DPLAN, deep Q-learning from partially labelled anomalies (Pang, van den Hengel, Shen and Cao, KDD 2021)",
		DefaultOptions, PaperOptions, New))
}

// Detector is DPLAN as a detector.Detector: Fit trains the agent on the
// unlabelled data plus the labelled anomalies, Score returns Q(s, a1). It is
// also a detector.Embedder: Embed returns the Q-network's hidden
// representation.
type Detector struct {
	// Options are the settings Fit uses.
	Options Options
	// History holds one summary per training episode of the last Fit.
	History []EpisodeStats

	net *QNet
	// shape is the training samples' shape; nil for a model saved before
	// it was stored, which checks the sample width only.
	shape []int
	// lo and span are the input scaling (ScaleInput): x' = (x - lo) / span.
	lo, span []float32
}

var _ detector.Embedder = (*Detector)(nil)

// New returns an unfitted DPLAN detector with options o; Fit validates them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (m *Detector) Method() string { return Method }

// Net returns the trained Q-network, or nil before Fit.
func (m *Detector) Net() *QNet { return m.net }

// Fit implements detector.Detector. ts.X is the unlabelled data D_u and
// ts.Anomalies the labelled anomalies D_a (required when P > 0, of the
// same sample shape). Samples of any shape are flattened to rows. Progress
// is reported to ts.Progress once per episode.
func (m *Detector) Fit(ctx context.Context, ts detector.TrainSet) error {
	o := m.Options
	if err := o.Validate(); err != nil {
		return err
	}
	if err := detector.CheckTrainSet(ts); err != nil {
		return fmt.Errorf("dplan: %w", err)
	}
	d := ts.X.Dim()
	nA := 0
	if ts.Anomalies != nil {
		nA = ts.Anomalies.N
	}
	if nA == 0 && o.P > 0 {
		return fmt.Errorf("%w: DPLAN needs labelled anomalies when p = %v > 0", detector.ErrInput, o.P)
	}
	x := make([]float32, 0, (ts.X.N+nA)*d)
	x = append(x, ts.X.X...)
	if nA > 0 {
		x = append(x, ts.Anomalies.X...)
	}
	m.net, m.shape, m.lo, m.span = nil, nil, nil, nil
	var lo, span []float32
	if o.ScaleInput {
		lo, span = fitMinMax(x, d)
		scaleRows(x, x, lo, span)
	}
	ag, err := newAgent(o, x, ts.X.N, nA, d)
	if err != nil {
		return err
	}
	m.History = m.History[:0]
	err = ag.run(ctx, func(st EpisodeStats) {
		m.History = append(m.History, st)
		if ts.Progress != nil {
			ts.Progress(detector.Progress{Phase: "episode", Done: st.Episode, Total: o.Episodes,
				Metrics: map[string]float64{"reward": st.Reward, "loss": st.Loss, "eps": st.Epsilon, "a1": st.AnomalyRate}})
		}
	})
	if err != nil {
		return err
	}
	for _, p := range ag.online.Params() {
		p.SetRequiresGrad(false)
	}
	m.net, m.shape, m.lo, m.span = ag.online, slices.Clone(ts.X.Shape), lo, span
	return nil
}

// input checks x against the fitted model and returns its rows as the
// network takes them (scaled when ScaleInput was on).
func (m *Detector) input(ctx context.Context, x *data.Dataset) ([]float32, error) {
	if m.net == nil {
		return nil, detector.ErrNotFitted
	}
	if err := detector.CheckInput(x, m.shape); err != nil {
		return nil, err
	}
	if x.Dim() != m.net.d {
		return nil, fmt.Errorf("%w: the model takes %d features, data %s has %d", detector.ErrSchema, m.net.d, x.Name, x.Dim())
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if m.lo == nil {
		return x.X, nil
	}
	xs := make([]float32, len(x.X))
	scaleRows(xs, x.X, m.lo, m.span)
	return xs, nil
}

// Score implements detector.Detector: Q(s, a1) of each sample. It is safe
// for concurrent use.
func (m *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	in, err := m.input(ctx, x)
	if err != nil {
		return nil, err
	}
	return m.net.ScoreAnomaly(in, x.N, m.Options.Workers)
}

// Embed implements detector.Embedder: the Q-network's hidden representation
// relu(W1·x + b1) of each sample of x (x.N × H values, with the input
// scaling of ScaleInput applied) and H. It is the space in which the agent
// tells anomalies apart and in which the sampler measures distances.
func (m *Detector) Embed(ctx context.Context, x *data.Dataset) ([]float32, int, error) {
	in, err := m.input(ctx, x)
	if err != nil {
		return nil, 0, err
	}
	hid := make([]float32, x.N*m.net.h)
	m.net.Hidden(hid, in, x.N)
	return hid, m.net.h, nil
}

// fitMinMax returns each feature's minimum and range (1 for a constant
// feature) over the rows of x.
func fitMinMax(x []float32, d int) (lo, span []float32) {
	lo, hi := make([]float32, d), make([]float32, d)
	copy(lo, x[:d])
	copy(hi, x[:d])
	for i := d; i < len(x); i += d {
		for j, v := range x[i : i+d] {
			lo[j], hi[j] = min(lo[j], v), max(hi[j], v)
		}
	}
	span = make([]float32, d)
	for j := range span {
		span[j] = hi[j] - lo[j]
		if span[j] == 0 {
			span[j] = 1
		}
	}
	return lo, span
}

// scaleRows writes (src - lo) / span row by row into dst.
func scaleRows(dst, src, lo, span []float32) {
	d := len(lo)
	for i := 0; i < len(src); i += d {
		for j, v := range src[i : i+d] {
			dst[i+j] = (v - lo[j]) / span[j]
		}
	}
}

// config is the stored configuration.
type config struct {
	Options Options   `json:"options"`
	Dim     int       `json:"dim"`
	Shape   []int     `json:"shape,omitempty"`
	Min     []float32 `json:"input_min,omitempty"`
	Span    []float32 `json:"input_span,omitempty"`
}

// Marshal implements detector.Detector: the options, the sample shape, the
// input scaling and the Q-network's four tensors.
func (m *Detector) Marshal() (*detector.Payload, error) {
	if m.net == nil {
		return nil, detector.ErrNotFitted
	}
	c, err := json.Marshal(config{Options: m.Options, Dim: m.net.d, Shape: m.shape, Min: m.lo, Span: m.span})
	if err != nil {
		return nil, err
	}
	return &detector.Payload{Config: c, Tensors: m.net.Params()}, nil
}

// Unmarshal implements detector.Detector. It restores the saved options
// whatever the detector was made with, except Workers, which is not saved
// and keeps the receiver's value.
func (m *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: dplan config: %v", detector.ErrPayload, err)
	}
	c.Options.Workers = m.Options.Workers
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	if c.Dim < 1 {
		return fmt.Errorf("%w: dplan input width %d", detector.ErrPayload, c.Dim)
	}
	if c.Shape != nil {
		n := 1
		for _, s := range c.Shape {
			if s < 1 || s > c.Dim {
				n = -1
				break
			}
			n *= s
		}
		if n != c.Dim {
			return fmt.Errorf("%w: dplan sample shape %v for %d features", detector.ErrPayload, c.Shape, c.Dim)
		}
	}
	if (c.Min != nil || c.Span != nil) && (len(c.Min) != c.Dim || len(c.Span) != c.Dim) {
		return fmt.Errorf("%w: dplan input scaling has %d/%d values for %d features", detector.ErrPayload, len(c.Min), len(c.Span), c.Dim)
	}
	for _, v := range c.Min {
		if v != v || v > 3.4e38 || v < -3.4e38 {
			return fmt.Errorf("%w: dplan input scaling has a minimum %v", detector.ErrPayload, v)
		}
	}
	for _, v := range c.Span {
		if !(v > 0) || v > 3.4e38 {
			return fmt.Errorf("%w: dplan input scaling has a range %v", detector.ErrPayload, v)
		}
	}
	h := c.Options.Hidden
	q := &QNet{d: c.Dim, h: h}
	want := []struct {
		name  string
		dst   **tensor.Tensor
		shape []int
	}{
		{"q.hidden.weight", &q.W1, []int{h, c.Dim}},
		{"q.hidden.bias", &q.B1, []int{h}},
		{"q.out.weight", &q.W2, []int{nActions, h}},
		{"q.out.bias", &q.B2, []int{nActions}},
	}
	for _, w := range want {
		t, err := p.Tensor(w.name)
		if err != nil {
			return err
		}
		if !tensor.SameShape(t.Shape, w.shape) {
			return fmt.Errorf("%w: dplan tensor %s has shape %v, want %v", detector.ErrPayload, w.name, t.Shape, w.shape)
		}
		for _, v := range t.Data {
			if v != v || v > 3.4e38 || v < -3.4e38 {
				return fmt.Errorf("%w: dplan tensor %s holds a non-finite value", detector.ErrPayload, w.name)
			}
		}
		*w.dst = t
	}
	m.Options, m.net, m.shape, m.lo, m.span = c.Options, q, c.Shape, c.Min, c.Span
	return nil
}
