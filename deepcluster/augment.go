package deepcluster

import (
	"math"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/tensor"
)

// augmenter draws the random copies of Options.Augment (DEC-DA): every
// image of a batch is rotated about its centre by an angle uniform in
// ±rotate, shifted by offsets uniform in ±shift pixels along each axis, and
// with flip mirrored left-right with probability 1/2, all in one bilinear
// resampling; what falls outside the image reads as 0, the background of
// the digit and COIL-20 images. It has its own random stream, so runs
// without augmentation draw exactly the numbers they drew before it
// existed.
type augmenter struct {
	r             *rand.Rand
	shift, rotate float64 // pixels, radians
	flip          bool
}

// newAugmenter returns the augmenter of o for side×side images, or nil
// when o.Augment is off.
func newAugmenter(o Options, side int) *augmenter {
	if !o.Augment {
		return nil
	}
	shift, rot := o.augmentRanges()
	return &augmenter{r: rand.New(rand.NewPCG(o.Seed, 0xdcec+2)), shift: shift * float64(side), rotate: rot, flip: o.AugmentFlip}
}

// apply returns a randomly warped copy of the N×C×S×S batch x; a nil
// augmenter returns x itself.
func (a *augmenter) apply(x *tensor.Tensor) *tensor.Tensor {
	if a == nil {
		return x
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	out := tensor.New(x.Shape...)
	for i := 0; i < n; i++ {
		theta := (2*a.r.Float64() - 1) * a.rotate
		ty := (2*a.r.Float64() - 1) * a.shift
		tx := (2*a.r.Float64() - 1) * a.shift
		flip := a.flip && a.r.IntN(2) == 1
		warp(out.Data[i*c*h*w:(i+1)*c*h*w], x.Data[i*c*h*w:(i+1)*c*h*w], c, h, w, theta, ty, tx, flip)
	}
	return out
}

// warp writes into dst (C×H×W) the image src moved by the rigid motion
// "rotate by theta about the centre, then shift by (ty, tx)" and, with
// flip, mirrored left-right first. Each output pixel reads the source at
// the inverse-mapped position by bilinear interpolation, with zeros
// outside.
func warp(dst, src []float32, c, h, w int, theta, ty, tx float64, flip bool) {
	cy, cx := float64(h-1)/2, float64(w-1)/2
	cs, sn := math.Cos(theta), math.Sin(theta)
	hw := h * w
	for oy := 0; oy < h; oy++ {
		for ox := 0; ox < w; ox++ {
			// Undo the shift, then the rotation (R(-theta)).
			dy, dx := float64(oy)-cy-ty, float64(ox)-cx-tx
			sy := cs*dy - sn*dx + cy
			sx := sn*dy + cs*dx + cx
			if flip {
				sx = float64(w-1) - sx
			}
			y0, x0 := math.Floor(sy), math.Floor(sx)
			fy, fx := sy-y0, sx-x0
			iy, ix := int(y0), int(x0)
			if iy < -1 || iy >= h || ix < -1 || ix >= w {
				for ch := 0; ch < c; ch++ {
					dst[ch*hw+oy*w+ox] = 0
				}
				continue
			}
			w00, w01 := (1-fy)*(1-fx), (1-fy)*fx
			w10, w11 := fy*(1-fx), fy*fx
			in00 := iy >= 0 && ix >= 0
			in01 := iy >= 0 && ix+1 < w
			in10 := iy+1 < h && ix >= 0
			in11 := iy+1 < h && ix+1 < w
			for ch := 0; ch < c; ch++ {
				p := src[ch*hw:]
				var v float64
				if in00 {
					v += w00 * float64(p[iy*w+ix])
				}
				if in01 {
					v += w01 * float64(p[iy*w+ix+1])
				}
				if in10 {
					v += w10 * float64(p[(iy+1)*w+ix])
				}
				if in11 {
					v += w11 * float64(p[(iy+1)*w+ix+1])
				}
				dst[ch*hw+oy*w+ox] = float32(v)
			}
		}
	}
}
