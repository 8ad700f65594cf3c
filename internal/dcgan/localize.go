package dcgan

import (
	"context"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
	"github.com/oddity-ml/oddity/tensor"
)

// DefaultSigma is the standard deviation, in pixels of the input image,
// of the Gaussian that Localize smooths its residual maps with. Of 0, 1,
// 2 and 3 pixels, 2 was the best or within 0.006 of it for every detector
// on MNIST's planted defects, both defect kinds pooled, with normal digits
// 0 and 1 (docs/methods.md §7): the raw residual misses the parts of a
// pasted patch that happen to match the image (black on black), and
// smoothing carries the patch's visible residual over them, while wider
// kernels spread thin strokes into their surroundings. It suits images of
// 28 to 32 pixels; it is a scoring-time choice, not a training option,
// and LocalizeSigma takes any other.
const DefaultSigma = 2.0

// Localize implements detector.Localizer: LocalizeSigma with DefaultSigma.
func (d *Detector[O]) Localize(ctx context.Context, x *data.Dataset) (*data.Dataset, error) {
	return d.LocalizeSigma(ctx, x, DefaultSigma)
}

// LocalizeSigma returns the anomaly map of every image of x (the training
// images' shape, values in [0, 1]): the generator's residual |x − G(x)|,
// averaged over channels, in x's [0, 1] scale, brought back to x's H×W
// (the padding cropped off, or the map resized bilinearly in the resize fit
// mode), then smoothed with a Gaussian of sigma pixels (0: unsmoothed).
// The maps have shape [H, W]. It costs one pass through the generator, as
// the autoencoder's Score does and a little less than GANomaly's, whose
// score also runs the second encoder. Safe for concurrent use.
func (d *Detector[O]) LocalizeSigma(ctx context.Context, x *data.Dataset, sigma float64) (*data.Dataset, error) {
	f, err := d.fitted()
	if err != nil {
		return nil, err
	}
	return f.Localize(ctx, x, sigma)
}

// Localize returns the residual maps of x's images, as
// Detector.LocalizeSigma describes.
func (f *Fitted) Localize(ctx context.Context, x *data.Dataset, sigma float64) (*data.Dataset, error) {
	if err := explain.CheckSigma(sigma); err != nil {
		return nil, err
	}
	if err := detector.CheckInput(x, f.Shape); err != nil {
		return nil, err
	}
	g := f.Geo
	ss, hw, sz := g.S*g.S, g.H*g.W, g.C*g.S*g.S
	out := explain.NewMaps(x, g.H, g.W)
	res := make([]float32, ss)
	i := 0
	err := f.inputs(ctx, x, func(xb *tensor.Tensor) {
		rec := f.Net.Reconstruct(xb)
		for b := 0; b < xb.Shape[0]; b++ {
			explain.MeanAbsDiff(res, xb.Data[b*sz:(b+1)*sz], rec.Data[b*sz:(b+1)*sz], g.C, ss)
			g.unfit(out.X[i*hw:(i+1)*hw], res)
			i++
		}
	})
	if err != nil {
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

// unfit writes the H×W map of the S×S residual res, measured in the
// networks' [-1, 1] scale, into dst, undoing Fill: in x's [0, 1] scale
// (halved), the padding cropped off or the resizing reversed.
func (g Geometry) unfit(dst, res []float32) {
	if g.Mode == FitResize && (g.H != g.S || g.W != g.S) {
		resizeBilinear(dst, g.H, g.W, res, g.S, g.S)
		for j := range dst {
			dst[j] *= 0.5
		}
		return
	}
	top, left := (g.S-g.H)/2, (g.S-g.W)/2
	for y := 0; y < g.H; y++ {
		row := res[(top+y)*g.S+left : (top+y)*g.S+left+g.W]
		for x, v := range row {
			dst[y*g.W+x] = 0.5 * v
		}
	}
}
