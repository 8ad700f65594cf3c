package deepcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/lof"
	"github.com/oddity-ml/oddity/pca"
	"github.com/oddity-ml/oddity/tensor"
)

// The "lof" score's settings. The 64 axes and the 20 neighbours were
// chosen on one leave-one-digit-out MNIST split (digit 4 held out, seed 0;
// docs/methods.md §3), in sample.
const (
	// FeatureAxes is the number of principal axes the normalised features
	// are projected on before the neighbour search.
	FeatureAxes = 64
	// FeatureNeighbors is the LOF neighbourhood size, LOF's default.
	FeatureNeighbors = 20
	// MaxFeatureRows bounds the training images the reference keeps (a
	// seeded random subset beyond it): 20,000 rows of FeatureAxes values,
	// 5 MB in the model file.
	MaxFeatureRows = 20000
)

// FeatureLOF is the "lof" anomaly score: the local outlier factor
// (Breunig et al., SIGMOD 2000; package lof) of an image's hidden features
// among those of the training images. The features are the encoder's last
// hidden layer (the DCEC autoencoder's third convolution, 1,152 values on
// 28×28 images, before the dense code; the self-expressive mode's code),
// each image's vector scaled to unit length and projected on its
// FeatureAxes principal axes. The 10-value code of the clustering keeps
// what tells the training classes apart and loses what tells a new class
// from them; the layer before it still has it.
type FeatureLOF struct {
	proj *pca.PCA
	lof  *lof.Detector
}

// hidden returns the encoder's last hidden layer for the batch xb: the
// input of the DCEC encoder's dense layer, or the self-expressive mode's
// code.
func hidden(net Network, xb *tensor.Tensor) (*tensor.Tensor, error) {
	switch a := net.(type) {
	case *Autoencoder:
		h := xb
		for _, l := range a.Encoder.Layers[:len(a.Encoder.Layers)-1] {
			h = l.Forward(nil, h)
		}
		return h, nil
	case *ShallowAE:
		return a.Encode(nil, xb), nil
	}
	return nil, fmt.Errorf("deepcluster: the lof score needs the DCEC or the self-expressive mode's autoencoder, not %T", net)
}

// features returns the unit-length hidden features of every row of x and
// their size.
func (m *Model) features(ctx context.Context, x *data.Dataset) ([]float32, int, error) {
	dim := x.Dim()
	var out []float32
	size := 0
	for lo := 0; lo < x.N; lo += embedBatch {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		hi := min(x.N, lo+embedBatch)
		xb := tensor.FromData(x.X[lo*dim:hi*dim], append([]int{hi - lo}, m.Shape...)...)
		h, err := hidden(m.Net, xb)
		if err != nil {
			return nil, 0, err
		}
		size = len(h.Data) / (hi - lo)
		if out == nil {
			out = make([]float32, 0, x.N*size)
		}
		for i := range hi - lo {
			row := h.Data[i*size : (i+1)*size]
			var s float64
			for _, v := range row {
				s += float64(v) * float64(v)
			}
			// An all-zero row (every unit inactive) stays zero.
			scale := float32(1)
			if s > 0 {
				scale = float32(1 / math.Sqrt(s))
			}
			for _, v := range row {
				out = append(out, v*scale)
			}
		}
	}
	return out, size, nil
}

// FitFeatures builds the "lof" score's reference from the images x the
// model was trained on (a seeded subset of MaxFeatureRows when there are
// more), so that Score can use kind "lof". Fit does it when Options.Score
// is "lof"; a model trained for another score gains it here.
func (m *Model) FitFeatures(ctx context.Context, x *data.Dataset, seed uint64) error {
	if err := m.check(x); err != nil {
		return err
	}
	if x.N <= FeatureNeighbors {
		return fmt.Errorf("%w: the lof score needs more than %d training images, got %d", ErrInput, FeatureNeighbors, x.N)
	}
	if x.N > MaxFeatureRows {
		idx := rand.New(rand.NewPCG(seed, 0x6c6f66)).Perm(x.N)[:MaxFeatureRows] // "lof"
		slices.Sort(idx)
		sub, err := x.Subset(idx)
		if err != nil {
			return err
		}
		x = sub
	}
	f, size, err := m.features(ctx, x)
	if err != nil {
		return err
	}
	axes := min(FeatureAxes, size, x.N)
	proj, err := pca.Fit(f, x.N, size, pca.Options{NComponents: axes})
	if err != nil {
		return fmt.Errorf("deepcluster: lof score: %w", err)
	}
	z, err := projectFeatures(proj, f, x.N)
	if err != nil {
		return err
	}
	d := lof.New(lof.Options{K: FeatureNeighbors, Algorithm: "auto"})
	if err := d.Fit(ctx, detector.TrainSet{X: &data.Dataset{X: z, N: x.N, Shape: []int{axes}}}); err != nil {
		return fmt.Errorf("deepcluster: lof score: %w", err)
	}
	m.Features = &FeatureLOF{proj: proj, lof: d}
	return nil
}

// projectFeatures projects n feature rows on proj's axes, in float32.
func projectFeatures(proj *pca.PCA, f []float32, n int) ([]float32, error) {
	z64, err := proj.Transform(f, n)
	if err != nil {
		return nil, fmt.Errorf("deepcluster: lof score: %w", err)
	}
	z := make([]float32, len(z64))
	for i, v := range z64 {
		z[i] = float32(v)
	}
	return z, nil
}

// scoreFeatures returns the "lof" score of every row of x.
func (m *Model) scoreFeatures(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if m.Features == nil {
		return nil, fmt.Errorf("%w: score = lof: the model keeps no training features (fit it with score lof, or call Model.FitFeatures)", ErrOption)
	}
	f, _, err := m.features(ctx, x)
	if err != nil {
		return nil, err
	}
	z, err := projectFeatures(m.Features.proj, f, x.N)
	if err != nil {
		return nil, err
	}
	return m.Features.lof.Score(ctx, &data.Dataset{X: z, N: x.N, Shape: []int{m.Features.proj.NComponents}})
}

// featureConfig is the stored description of a FeatureLOF.
type featureConfig struct {
	Dim  int             `json:"dim"`
	Axes int             `json:"axes"`
	LOF  json.RawMessage `json:"lof"`
}

// Names of the FeatureLOF's tensors and blobs in a deep clustering payload.
const (
	featurePrefix = "features."
	featureMean   = featurePrefix + "mean"
	featureAxes   = featurePrefix + "axes"
)

// marshal adds the reference to p: the projection as float64 blobs (so
// the scores are bit-identical after loading) and the LOF detector's
// tensors and blobs under the "features." prefix. It returns the
// configuration to store.
func (f *FeatureLOF) marshal(p *detector.Payload) (*featureConfig, error) {
	lp, err := f.lof.Marshal()
	if err != nil {
		return nil, err
	}
	p.SetFloat64s(featureMean, f.proj.Mean)
	p.SetFloat64s(featureAxes, f.proj.Components)
	if p.Blobs == nil {
		p.Blobs = map[string][]byte{}
	}
	for name, b := range lp.Blobs {
		p.Blobs[featurePrefix+name] = b
	}
	for _, t := range lp.Tensors {
		c := tensor.FromData(t.Data, t.Shape...)
		c.Name = featurePrefix + t.Name
		p.Tensors = append(p.Tensors, c)
	}
	return &featureConfig{Dim: f.proj.Dim, Axes: f.proj.NComponents, LOF: lp.Config}, nil
}

// unmarshalFeatures restores a FeatureLOF stored by marshal.
func unmarshalFeatures(c *featureConfig, p *detector.Payload) (*FeatureLOF, error) {
	if c.Dim < 1 || c.Axes < 1 || c.Axes > c.Dim {
		return nil, fmt.Errorf("%w: deepcluster lof score of %d axes for %d features", detector.ErrPayload, c.Axes, c.Dim)
	}
	mean, err := p.Float64s(featureMean, c.Dim)
	if err != nil {
		return nil, err
	}
	axes, err := p.Float64s(featureAxes, c.Axes*c.Dim)
	if err != nil {
		return nil, err
	}
	lp := &detector.Payload{Config: c.LOF, Blobs: map[string][]byte{}}
	for name, b := range p.Blobs {
		if rest, ok := strings.CutPrefix(name, featurePrefix); ok && name != featureMean && name != featureAxes {
			lp.Blobs[rest] = b
		}
	}
	for _, t := range p.Tensors {
		if rest, ok := strings.CutPrefix(t.Name, featurePrefix); ok {
			c := tensor.FromData(t.Data, t.Shape...)
			c.Name = rest
			lp.Tensors = append(lp.Tensors, c)
		}
	}
	d := lof.New(lof.DefaultOptions())
	if err := d.Unmarshal(lp); err != nil {
		return nil, fmt.Errorf("deepcluster lof score: %w", err)
	}
	proj := &pca.PCA{Dim: c.Dim, NComponents: c.Axes, Mean: mean, Components: axes}
	return &FeatureLOF{proj: proj, lof: d}, nil
}
