package deepsad

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/tensor"
)

func init() {
	// the defaults are the official code's for tabular data
	detector.Register(detector.Define(Method, detector.WeaklySupervised|detector.Tables,
		"Deep SAD, deep semi-supervised anomaly detection (Ruff et al., ICLR 2020)",
		DefaultOptions, nil, New))
}

// Detector is Deep SAD as a detector.Detector. It is also a
// detector.Embedder: its latent codes are φ(x).
type Detector struct {
	// Options are the settings Fit uses.
	Options Options
	// AELosses and Losses hold the mean loss of each pretraining and
	// training epoch of the last Fit.
	AELosses, Losses []float64

	enc   []*nn.Linear
	c     []float32
	d     int
	shape []int // the training samples' shape
}

// New returns an unfitted Deep SAD detector with options o; Fit validates
// them.
func New(o Options) *Detector { return &Detector{Options: o} }

// Method implements detector.Detector.
func (m *Detector) Method() string { return Method }

// represent runs φ on x in chunks and passes each chunk's codes, rows lo
// onwards, to use.
func (m *Detector) represent(ctx context.Context, x *data.Dataset, use func(lo int, z []float32)) error {
	if m.enc == nil {
		return detector.ErrNotFitted
	}
	if err := detector.CheckInput(x, m.shape); err != nil {
		return err
	}
	const chunk = 8192
	for lo := 0; lo < x.N; lo += chunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(x.N, lo+chunk)
		z := m.encode(tensor.NoGrad, tensor.FromData(x.X[lo*m.d:hi*m.d], hi-lo, m.d))
		use(lo, z.Data)
	}
	return ctx.Err()
}

// Score implements detector.Detector: ‖φ(x) − c‖².
func (m *Detector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	var out []float64
	rep := len(m.c)
	err := m.represent(ctx, x, func(lo int, z []float32) {
		if out == nil {
			out = make([]float64, x.N)
		}
		for i := 0; i < len(z)/rep; i++ {
			var s float64
			for j := 0; j < rep; j++ {
				t := float64(z[i*rep+j] - m.c[j])
				s += t * t
			}
			out[lo+i] = s
		}
	})
	if err != nil {
		return nil, err
	}
	if out == nil {
		out = []float64{}
	}
	return out, nil
}

// Embed implements detector.Embedder: φ(x), Rep values per sample,
// row-major.
func (m *Detector) Embed(ctx context.Context, x *data.Dataset) (codes []float32, dim int, err error) {
	err = m.represent(ctx, x, func(_ int, z []float32) { codes = append(codes, z...) })
	if err != nil {
		return nil, 0, err
	}
	return codes, m.Options.Rep, nil
}

// config is the stored configuration. Shape is absent from models saved
// before it was added; they were fitted on rows of Dim features.
type config struct {
	Options Options   `json:"options"`
	Dim     int       `json:"dim"`
	Shape   []int     `json:"shape,omitempty"`
	Center  []float32 `json:"center"`
}

// Marshal implements detector.Detector: the options, the input shape, the
// centre and φ's weights.
func (m *Detector) Marshal() (*detector.Payload, error) {
	if m.enc == nil {
		return nil, detector.ErrNotFitted
	}
	c, err := json.Marshal(config{Options: m.Options, Dim: m.d, Shape: m.shape, Center: m.c})
	if err != nil {
		return nil, err
	}
	return &detector.Payload{Config: c, Tensors: params(m.enc)}, nil
}

// Unmarshal implements detector.Detector: it restores the saved options,
// whatever m was made with.
func (m *Detector) Unmarshal(p *detector.Payload) error {
	var c config
	if err := json.Unmarshal(p.Config, &c); err != nil {
		return fmt.Errorf("%w: deepsad config: %v", detector.ErrPayload, err)
	}
	if err := c.Options.Validate(); err != nil {
		return fmt.Errorf("%w: %v", detector.ErrPayload, err)
	}
	if c.Dim < 1 || len(c.Center) != c.Options.Rep {
		return fmt.Errorf("%w: deepsad input width %d, centre of %d values for rep %d", detector.ErrPayload, c.Dim, len(c.Center), c.Options.Rep)
	}
	if c.Shape == nil {
		c.Shape = []int{c.Dim}
	}
	if sh := (&data.Dataset{Shape: c.Shape}); sh.Dim() != c.Dim || slices.ContainsFunc(c.Shape, func(s int) bool { return s < 1 }) {
		return fmt.Errorf("%w: deepsad input shape %v does not hold %d features", detector.ErrPayload, c.Shape, c.Dim)
	}
	w := widths(c.Dim, c.Options)
	var enc []*nn.Linear
	for i := 0; i+1 < len(w); i++ {
		name := fmt.Sprintf("enc.%d.weight", i)
		t, err := p.Tensor(name)
		if err != nil {
			return err
		}
		if !tensor.SameShape(t.Shape, []int{w[i+1], w[i]}) {
			return fmt.Errorf("%w: deepsad tensor %s has shape %v, want [%d %d]", detector.ErrPayload, name, t.Shape, w[i+1], w[i])
		}
		if t.HasNaN() {
			return fmt.Errorf("%w: deepsad tensor %s holds NaN", detector.ErrPayload, name)
		}
		enc = append(enc, &nn.Linear{Weight: t})
	}
	m.Options, m.d, m.shape, m.c, m.enc = c.Options, c.Dim, c.Shape, c.Center, enc
	return nil
}
