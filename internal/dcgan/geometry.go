package dcgan

import (
	"fmt"
	"math"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// Fit modes: how an H×W image is brought to the networks' S×S.
const (
	// FitPad centres the image on an S×S canvas of the value that 0 maps to
	// (black, -1 after scaling). It needs H, W ≤ S and loses nothing: MNIST's
	// 28×28 digits get a 2-pixel border.
	FitPad = "pad"
	// FitResize resamples the image to S×S bilinearly (half-pixel centres,
	// no antialiasing), as the reference code's transforms.Resize(32) does
	// for MNIST up to the interpolation filter.
	FitResize = "resize"
)

// Geometry describes how samples of a data set become network inputs.
type Geometry struct {
	C, H, W int    // input sample shape
	S       int    // network side
	Mode    string // FitPad or FitResize
}

// imageShape reads C, H, W from a sample shape [C,H,W] or [H,W].
func imageShape(shape []int) (c, h, w int, err error) {
	switch len(shape) {
	case 2:
		return 1, shape[0], shape[1], nil
	case 3:
		return shape[0], shape[1], shape[2], nil
	}
	return 0, 0, 0, fmt.Errorf("%w: samples of shape %v are not images ([C,H,W] or [H,W])", detector.ErrInput, shape)
}

// SideFor returns the network side for h×w images: side if it is non-zero
// (it must then be 4·2^k), else the smallest 4·2^k ≥ max(h, w), at least 8.
func SideFor(h, w, side int) (int, error) {
	if side != 0 {
		return side, ValidSide(side)
	}
	s := 8
	for s < max(h, w) {
		s *= 2
	}
	return s, nil
}

// NewGeometry checks the sample shape against a side (0: the smallest that
// holds the images) and a fit mode. Errors about the shape wrap
// detector.ErrInput.
func NewGeometry(shape []int, side int, mode string) (Geometry, error) {
	c, h, w, err := imageShape(shape)
	if err != nil {
		return Geometry{}, err
	}
	if c < 1 || h < 1 || w < 1 {
		return Geometry{}, fmt.Errorf("%w: image shape %v", detector.ErrInput, shape)
	}
	s, err := SideFor(h, w, side)
	if err != nil {
		return Geometry{}, err
	}
	switch mode {
	case FitPad:
		if h > s || w > s {
			return Geometry{}, fmt.Errorf("%w: %d×%d images do not fit a %d×%d canvas by padding; use the %q fit mode or a larger side",
				detector.ErrInput, h, w, s, s, FitResize)
		}
	case FitResize:
	default:
		return Geometry{}, fmt.Errorf("unknown fit mode %q (want %q or %q)", mode, FitPad, FitResize)
	}
	return Geometry{C: c, H: h, W: w, S: s, Mode: mode}, nil
}

// Fill writes the network inputs for samples idx of ds into dst
// (len(idx)·C·S·S values): pixel values v in [0, 1] become 2v - 1, then the
// image is padded or resized to S×S.
func (g Geometry) Fill(dst []float32, ds *data.Dataset, idx []int) {
	in, out := g.C*g.H*g.W, g.C*g.S*g.S
	for b, i := range idx {
		src := ds.X[i*in : (i+1)*in]
		o := dst[b*out : (b+1)*out]
		for ch := 0; ch < g.C; ch++ {
			plane := src[ch*g.H*g.W : (ch+1)*g.H*g.W]
			op := o[ch*g.S*g.S : (ch+1)*g.S*g.S]
			if g.Mode == FitResize && (g.H != g.S || g.W != g.S) {
				resizeBilinear(op, g.S, g.S, plane, g.H, g.W)
				for j, v := range op {
					op[j] = 2*v - 1
				}
				continue
			}
			for j := range op {
				op[j] = -1
			}
			top, left := (g.S-g.H)/2, (g.S-g.W)/2
			for y := 0; y < g.H; y++ {
				row := op[(top+y)*g.S+left : (top+y)*g.S+left+g.W]
				for x, v := range plane[y*g.W : (y+1)*g.W] {
					row[x] = 2*v - 1
				}
			}
		}
	}
}

// resizeBilinear resamples the h×w plane src to the oh×ow plane dst with
// half-pixel centres (PyTorch's align_corners=False, OpenCV's INTER_LINEAR):
// output pixel (y, x) samples the input at ((y+½)·h/oh - ½, (x+½)·w/ow - ½),
// clamped to the image.
func resizeBilinear(dst []float32, oh, ow int, src []float32, h, w int) {
	coord := func(o, n, on int) (int, int, float32) {
		f := (float64(o)+0.5)*float64(n)/float64(on) - 0.5
		f = math.Max(0, math.Min(f, float64(n-1)))
		i0 := int(math.Floor(f))
		i1 := min(i0+1, n-1)
		return i0, i1, float32(f - float64(i0))
	}
	for y := 0; y < oh; y++ {
		y0, y1, fy := coord(y, h, oh)
		for x := 0; x < ow; x++ {
			x0, x1, fx := coord(x, w, ow)
			top := src[y0*w+x0]*(1-fx) + src[y0*w+x1]*fx
			bot := src[y1*w+x0]*(1-fx) + src[y1*w+x1]*fx
			dst[y*ow+x] = top*(1-fy) + bot*fy
		}
	}
}
