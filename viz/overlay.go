package viz

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"math"
	"os"
)

// OverlayOptions describes the image and anomaly map of an overlay and how
// to draw them.
type OverlayOptions struct {
	// Channels, Height and Width give the image's C×H×W shape; Channels is
	// 1 (grey) or 3 (RGB, channel-major as in the tensors). The map is
	// Height×Width.
	Channels, Height, Width int
	// Lo and Hi are the image values shown as black and white; both zero
	// means [0, 1].
	Lo, Hi float32
	// MapLo and MapHi are the map values at the two ends of the colour
	// scale; values outside are clipped. Both zero stretches each map to
	// its own minimum and maximum, which shows where the anomaly lies in
	// that image but not how strong it is: set them (say, to 0 and a
	// threshold's map value) to compare images.
	MapLo, MapHi float32
	// Alpha is the heat map's opacity over the image, in (0, 1]; 0 means
	// 0.5, which leaves the image's shapes visible under the colour.
	Alpha float64
	// Scale is the pixel magnification (default: the smallest integer that
	// shows the image at least 112 pixels high, so a 28×28 digit is 4×).
	Scale int
}

// HeatColor is the overlay's colour scale at v in [0, 1] (clipped):
// "jet", dark blue through blue, cyan, green, yellow and red to dark red,
// each of red, green and blue a trapezoid in v,
//
//	r = clip(1.5 − |4v − 3|), g = clip(1.5 − |4v − 2|), b = clip(1.5 − |4v − 1|),
//
// clip to [0, 1]. A rainbow scale is not perceptually uniform, but it is
// the one anomaly-map figures use (anomalib, the MVTec papers), so readers
// know that red is anomalous and blue is normal.
func HeatColor(v float64) color.NRGBA {
	v = math.Max(0, math.Min(1, v))
	ch := func(centre float64) uint8 {
		f := math.Max(0, math.Min(1, 1.5-math.Abs(4*v-centre)))
		return uint8(math.Round(255 * f))
	}
	return color.NRGBA{ch(3), ch(2), ch(1), 255}
}

// OverlayImage draws the anomaly map amap (Height×Width values) as a heat
// map (HeatColor) over img (Channels×Height×Width values): each pixel is
// (1 − Alpha)·image + Alpha·colour, magnified Scale times. Bad input gives
// an error wrapping ErrInput.
func OverlayImage(img, amap []float32, opt OverlayOptions) (*image.NRGBA, error) {
	c, h, w := opt.Channels, opt.Height, opt.Width
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("%w: overlay: %d channels (want 1 or 3)", ErrInput, c)
	}
	if h <= 0 || w <= 0 {
		return nil, fmt.Errorf("%w: overlay: image size %d×%d", ErrInput, h, w)
	}
	if len(img) != c*h*w || len(amap) != h*w {
		return nil, fmt.Errorf("%w: overlay: %d image values and %d map values for a %d×%d×%d image", ErrInput, len(img), len(amap), c, h, w)
	}
	for _, vs := range [][]float32{img, amap} {
		for i, v := range vs {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: overlay: value %d is %v", ErrInput, i, v)
			}
		}
	}
	alpha := opt.Alpha
	if alpha == 0 {
		alpha = 0.5
	}
	if !(alpha > 0 && alpha <= 1) {
		return nil, fmt.Errorf("%w: overlay: alpha %v outside (0, 1]", ErrInput, opt.Alpha)
	}
	lo, hi := opt.Lo, opt.Hi
	if lo == 0 && hi == 0 {
		hi = 1
	}
	if !(hi > lo) {
		return nil, fmt.Errorf("%w: overlay: image value range [%v, %v]", ErrInput, lo, hi)
	}
	mlo, mhi := opt.MapLo, opt.MapHi
	if mlo == 0 && mhi == 0 {
		mlo, mhi = amap[0], amap[0]
		for _, v := range amap {
			mlo, mhi = min(mlo, v), max(mhi, v)
		}
	} else if !(mhi > mlo) {
		return nil, fmt.Errorf("%w: overlay: map value range [%v, %v]", ErrInput, mlo, mhi)
	}
	scale := opt.Scale
	if scale == 0 {
		scale = max(1, (112+h-1)/h)
	}
	if scale < 0 || scale > 64 {
		return nil, fmt.Errorf("%w: overlay: scale %d", ErrInput, scale)
	}
	unit := func(v, lo, hi float32) float64 {
		if hi <= lo {
			return 0 // a constant map: all of it at the scale's low end
		}
		return math.Max(0, math.Min(1, float64((v-lo)/(hi-lo))))
	}
	out := image.NewNRGBA(image.Rect(0, 0, w*scale, h*scale))
	hw := h * w
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			j := y*w + x
			var base [3]float64
			for k := range base {
				ch := 0
				if c == 3 {
					ch = k
				}
				base[k] = 255 * unit(img[ch*hw+j], lo, hi)
			}
			heat := HeatColor(unit(amap[j], mlo, mhi))
			blend := func(b float64, hc uint8) uint8 {
				return uint8(math.Round((1-alpha)*b + alpha*float64(hc)))
			}
			col := color.NRGBA{blend(base[0], heat.R), blend(base[1], heat.G), blend(base[2], heat.B), 255}
			for sy := 0; sy < scale; sy++ {
				for sx := 0; sx < scale; sx++ {
					out.SetNRGBA(x*scale+sx, y*scale+sy, col)
				}
			}
		}
	}
	return out, nil
}

// WriteOverlay writes OverlayImage(img, amap, opt) to wr as PNG.
func WriteOverlay(wr io.Writer, img, amap []float32, opt OverlayOptions) error {
	im, err := OverlayImage(img, amap, opt)
	if err != nil {
		return err
	}
	return png.Encode(wr, im)
}

// Overlay writes OverlayImage(img, amap, opt) to the PNG file path.
func Overlay(path string, img, amap []float32, opt OverlayOptions) error {
	im, err := OverlayImage(img, amap, opt)
	if err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := png.Encode(bw, im); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
