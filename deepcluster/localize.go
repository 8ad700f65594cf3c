package deepcluster

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
	"github.com/oddity-ml/oddity/tensor"
)

// Anomaly maps: the two ways of LocalizeBy.
const (
	// MapResidual is the autoencoder's reconstruction residual |x − x'|,
	// averaged over channels.
	MapResidual = "residual"
	// MapGradient is the magnitude of the anomaly score's gradient with
	// respect to the input, |∂s/∂x|, averaged over channels: how much a
	// change of each pixel would move the score.
	MapGradient = "gradient"
)

// DefaultMap is the map Localize draws: the reconstruction residual, which
// beat the score's gradient on MNIST's planted defects by a wide margin
// (docs/methods.md §7). The gradient says which pixels the score is
// sensitive to, and the encoder is sensitive to the digit's strokes
// wherever a defect lies; the residual says which pixels the model could
// not explain, which is where the defect is.
const DefaultMap = MapResidual

// DefaultSigma is the standard deviation, in pixels, of the Gaussian that
// Localize smooths its maps with: 2, as GANomaly's and the CAE's, which
// did best on MNIST's planted defects (docs/methods.md §7).
const DefaultSigma = 2.0

// gradBatch is the number of images per forward and backward pass of the
// gradient map: it bounds the tape's memory.
const gradBatch = 128

// Localize implements detector.Localizer: LocalizeBy with DefaultMap and
// DefaultSigma.
func (d *Detector) Localize(ctx context.Context, x *data.Dataset) (*data.Dataset, error) {
	return d.LocalizeBy(ctx, x, DefaultMap, DefaultSigma)
}

// LocalizeBy returns one anomaly map of shape [S, S] per image of x, by
// method MapResidual or MapGradient, smoothed with a Gaussian of sigma
// pixels (0: unsmoothed). Safe for concurrent use.
func (d *Detector) LocalizeBy(ctx context.Context, x *data.Dataset, method string, sigma float64) (*data.Dataset, error) {
	if d.Model == nil {
		return nil, detector.ErrNotFitted
	}
	return d.Model.Localize(ctx, x, method, sigma)
}

// Localize returns the anomaly maps of x, as Detector.LocalizeBy
// describes. The gradient map is of the model's score (Options.Score) and
// needs the DCEC autoencoder.
func (m *Model) Localize(ctx context.Context, x *data.Dataset, method string, sigma float64) (*data.Dataset, error) {
	if err := explain.CheckSigma(sigma); err != nil {
		return nil, err
	}
	if method != MapResidual && method != MapGradient {
		return nil, fmt.Errorf("%w: anomaly map %q (want %q or %q)", ErrOption, method, MapResidual, MapGradient)
	}
	if method == MapGradient && m.Options.Score == "lof" {
		return nil, fmt.Errorf("%w: the gradient map follows the distance or maxq score, not lof (use the residual map)", ErrOption)
	}
	if err := m.check(x); err != nil {
		return nil, err
	}
	c, side := m.Shape[0], m.Shape[1]
	hw := side * side
	out := explain.NewMaps(x, side, side)
	if method == MapResidual {
		rec, err := m.Reconstruct(ctx, x)
		if err != nil {
			return nil, err
		}
		dim := x.Dim()
		for i := 0; i < x.N; i++ {
			explain.MeanAbsDiff(out.X[i*hw:(i+1)*hw], x.Row(i), rec[i*dim:(i+1)*dim], c, hw)
		}
	} else if err := m.gradientMaps(ctx, x, out); err != nil {
		return nil, err
	}
	if err := explain.SmoothMaps(out, sigma); err != nil {
		return nil, err
	}
	if err := explain.CheckMaps(out); err != nil {
		return nil, err
	}
	return out, nil
}

// frozen returns a copy of the network (the DCEC autoencoder or the
// self-expressive mode's shallow one) whose parameters take no gradient, so
// that a backward pass to the input writes nothing shared and concurrent
// calls do not race.
func (m *Model) frozen() (Network, error) {
	var cp Network
	var err error
	switch a := m.Net.(type) {
	case *Autoencoder:
		cp, err = NewAutoencoder(a.Channels, a.Side, a.Embedding, rand.New(rand.NewPCG(0, 0)))
	case *ShallowAE:
		cp, err = NewShallowAE(a.Channels, a.Side, a.Filters, rand.New(rand.NewPCG(0, 0)))
	default:
		return nil, fmt.Errorf("%w: gradient maps need one of the package's networks, not %T", ErrOption, m.Net)
	}
	if err != nil {
		return nil, err
	}
	src := m.Net.Parameters()
	for k, p := range cp.Parameters() {
		copy(p.Data, src[k].Data)
		p.SetRequiresGrad(false)
	}
	return cp, nil
}

// gradientMaps writes |∂s/∂x| averaged over channels into maps, s the
// model's score of each image. The network has no BatchNorm, so an image's
// score depends on that image alone and one backward pass of the batch's
// summed scores gives every image's own gradient.
func (m *Model) gradientMaps(ctx context.Context, x *data.Dataset, maps *data.Dataset) error {
	net, err := m.frozen()
	if err != nil {
		return err
	}
	c, side := m.Shape[0], m.Shape[1]
	hw, dim := side*side, x.Dim()
	d, k := m.EmbeddingSize(), m.Options.K
	zero := make([]float32, dim)
	for lo := 0; lo < x.N; lo += gradBatch {
		if err := ctx.Err(); err != nil {
			return err
		}
		hi := min(x.N, lo+gradBatch)
		n := hi - lo
		xb := tensor.FromData(append([]float32(nil), x.X[lo*dim:hi*dim]...), append([]int{n}, m.Shape...)...)
		xb.SetRequiresGrad(true)
		tp := tensor.NewTape()
		z := net.Encode(tp, xb)
		var loss *tensor.Tensor
		switch m.Options.Score {
		case "maxq":
			q := SoftAssign(tp, z, m.Centroids, m.Options.Alpha)
			mx, _ := tp.MaxAxis(q, 1, false)
			loss = tp.Neg(tp.Sum(mx))
		default: // "distance": ∂‖z − μ‖/∂z = (z − μ)/‖z − μ‖ for the nearest μ
			g := tensor.New(n, d)
			dist := make([]float64, n)
			near := nearest(z.Data, m.Centroids.Data, n, d, k, dist)
			for i := 0; i < n; i++ {
				if dist[i] == 0 {
					continue // no direction moves the score at first order
				}
				mu := m.Centroids.Data[near[i]*d : (near[i]+1)*d]
				for t := 0; t < d; t++ {
					g.Data[i*d+t] = float32(float64(z.Data[i*d+t]-mu[t]) / dist[i])
				}
			}
			loss = tp.Sum(tp.Mul(z, g)) // its gradient with respect to z is g
		}
		tp.Backward(loss)
		grad := xb.Grad()
		for i := 0; i < n; i++ {
			dst := maps.X[(lo+i)*hw : (lo+i+1)*hw]
			explain.MeanAbsDiff(dst, grad[i*dim:(i+1)*dim], zero, c, hw)
		}
	}
	return nil
}
