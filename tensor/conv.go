package tensor

import (
	"fmt"

	"github.com/oddity-ml/oddity/kernels"
)

// Convolutions are lowered to one large matrix multiply per batch: every
// image's patches are laid side by side in a (C·KH·KW) × (N·OH·OW) matrix, so
// the multiply is big enough to use every core and the packed SGEMM kernel
// well, rather than N small products.

// lowerBatch writes the patches of every image of x (N×C×H×W) into dst, a
// matrix with row stride ld = N·OH·OW: image n's patches occupy columns
// [n·OH·OW, (n+1)·OH·OW).
func lowerBatch(g kernels.ConvGeom, x []float32, n int, dst []float32) {
	kernels.Im2colBatch(g, x, n, dst)
}

// raiseBatch is the adjoint of lowerBatch: it adds the patches in src back
// into the images of dst (N×C×H×W).
func raiseBatch(g kernels.ConvGeom, src []float32, n int, dst []float32) {
	kernels.Col2imBatch(g, src, n, dst)
}

// toCN permutes N×C×P data into C×(N·P); fromCN is its inverse, adding into
// dst when add is true.
func toCN(src, dst []float32, n, c, p int) {
	parallelFor(c, 1, func(lo, hi int) {
		for ci := lo; ci < hi; ci++ {
			for i := 0; i < n; i++ {
				copy(dst[ci*n*p+i*p:ci*n*p+(i+1)*p], src[(i*c+ci)*p:(i*c+ci+1)*p])
			}
		}
	})
}

func fromCN(src, dst []float32, n, c, p int, add bool) {
	parallelFor(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			for ci := 0; ci < c; ci++ {
				s := src[ci*n*p+i*p : ci*n*p+(i+1)*p]
				d := dst[(i*c+ci)*p : (i*c+ci+1)*p]
				if add {
					kernels.Axpy(1, s, d)
				} else {
					copy(d, s)
				}
			}
		}
	})
}

// addChannelBias adds bias[c] to every value of channel c of N×C×P data.
func addChannelBias(x, bias []float32, n, c, p int) {
	for i := 0; i < n; i++ {
		for ci := 0; ci < c; ci++ {
			b := bias[ci]
			d := x[(i*c+ci)*p : (i*c+ci+1)*p]
			for j := range d {
				d[j] += b
			}
		}
	}
}

// channelSums adds the per-channel sums of N×C×P data into dst (C).
func channelSums(x, dst []float32, n, c, p int) {
	for i := 0; i < n; i++ {
		for ci := 0; ci < c; ci++ {
			var s float32
			for _, v := range x[(i*c+ci)*p : (i*c+ci+1)*p] {
				s += v
			}
			dst[ci] += s
		}
	}
}

// ConvOptions are a convolution's stride, zero padding and, for transposed
// convolutions, extra rows/columns added on one side of the output.
type ConvOptions struct {
	Stride, Padding, OutputPadding int
}

func (o ConvOptions) stride() int {
	if o.Stride <= 0 {
		return 1
	}
	return o.Stride
}

// Conv2d convolves x (N×C×H×W) with w (Cout×C×KH×KW) and adds bias (Cout, or
// nil), as PyTorch's conv2d (cross-correlation, same weight layout).
//
// Gradients: with X the lowered patches and G the output gradient as a
// Cout×(N·OH·OW) matrix, dW = G·Xᵀ, dX = Wᵀ·G raised back to images, and
// dbias = per-channel sums of G.
func (tp *Tape) Conv2d(x, w, bias *Tensor, opt ConvOptions) *Tensor {
	if x.Dim() != 4 || w.Dim() != 4 || x.Shape[1] != w.Shape[1] {
		panic(fmt.Sprintf("tensor: Conv2d input %v with weight %v", x.Shape, w.Shape))
	}
	n, c, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	co, kh, kw := w.Shape[0], w.Shape[2], w.Shape[3]
	g := kernels.ConvGeom{C: c, H: h, W: wd, KH: kh, KW: kw, PadH: opt.Padding, PadW: opt.Padding, StrideH: opt.stride(), StrideW: opt.stride()}
	oh, ow := g.OutH(), g.OutW()
	if oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("tensor: Conv2d of %v with kernel %dx%d gives an empty output", x.Shape, kh, kw))
	}
	p, rows := oh*ow, c*kh*kw
	cols := getScratch(rows * n * p)
	lowerBatch(g, x.Data, n, cols)
	outT := getScratch(co * n * p)
	kernels.Sgemm(false, false, co, n*p, rows, 1, w.Data, rows, cols, n*p, 0, outT, n*p)
	out := New(n, co, oh, ow)
	fromCN(outT, out.Data, n, co, p, false)
	if bias != nil {
		addChannelBias(out.Data, bias.Data, n, co, p)
	}
	if !tp.needs(x, w, bias) {
		putScratch(cols, outT)
		return out
	}
	return tp.Record(out, func() {
		defer putScratch(cols, outT)
		gT := outT // reuse the buffer: the forward values are no longer needed
		toCN(out.grad, gT, n, co, p)
		if w.requiresGrad {
			kernels.Sgemm(false, true, co, rows, n*p, 1, gT, n*p, cols, n*p, 1, w.Grad(), rows)
		}
		if bias != nil && bias.requiresGrad {
			channelSums(out.grad, bias.Grad(), n, co, p)
		}
		if x.requiresGrad {
			dcols := cols
			kernels.Sgemm(true, false, rows, n*p, co, 1, w.Data, rows, gT, n*p, 0, dcols, n*p)
			raiseBatch(g, dcols, n, x.Grad())
		}
	}, x, w, bias)
}

// ConvTranspose2d is the transpose (adjoint) of Conv2d with the same stride
// and padding, as PyTorch's conv_transpose2d: x is N×Cin×H×W, w is
// Cin×Cout×KH×KW, and the output side is (H-1)·stride - 2·padding + KH +
// outputPadding.
//
// Gradients: it is Conv2d's input-gradient computation run forwards, so its
// own input gradient is a Conv2d of the output gradient with the same
// weights, dW = X·Gᵀ with G the lowered output gradient.
func (tp *Tape) ConvTranspose2d(x, w, bias *Tensor, opt ConvOptions) *Tensor {
	if x.Dim() != 4 || w.Dim() != 4 || x.Shape[1] != w.Shape[0] {
		panic(fmt.Sprintf("tensor: ConvTranspose2d input %v with weight %v", x.Shape, w.Shape))
	}
	n, ci, h, wd := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	co, kh, kw := w.Shape[1], w.Shape[2], w.Shape[3]
	s := opt.stride()
	if opt.OutputPadding >= s && opt.OutputPadding > 0 {
		panic(fmt.Sprintf("tensor: ConvTranspose2d output padding %d must be smaller than stride %d", opt.OutputPadding, s))
	}
	oh := (h-1)*s - 2*opt.Padding + kh + opt.OutputPadding
	ow := (wd-1)*s - 2*opt.Padding + kw + opt.OutputPadding
	if oh <= 0 || ow <= 0 {
		panic(fmt.Sprintf("tensor: ConvTranspose2d of %v gives an empty output", x.Shape))
	}
	g := kernels.ConvGeom{C: co, H: oh, W: ow, KH: kh, KW: kw, PadH: opt.Padding, PadW: opt.Padding, StrideH: s, StrideW: s}
	p, rows := h*wd, co*kh*kw
	xT := getScratch(ci * n * p)
	toCN(x.Data, xT, n, ci, p)
	cols := getScratch(rows * n * p)
	kernels.Sgemm(true, false, rows, n*p, ci, 1, w.Data, rows, xT, n*p, 0, cols, n*p)
	out := New(n, co, oh, ow)
	raiseBatch(g, cols, n, out.Data)
	if bias != nil {
		addChannelBias(out.Data, bias.Data, n, co, oh*ow)
	}
	if !tp.needs(x, w, bias) {
		putScratch(xT, cols)
		return out
	}
	return tp.Record(out, func() {
		defer putScratch(xT, cols)
		gcols := cols
		lowerBatch(g, out.grad, n, gcols)
		if w.requiresGrad {
			kernels.Sgemm(false, true, ci, rows, n*p, 1, xT, n*p, gcols, n*p, 1, w.Grad(), rows)
		}
		if bias != nil && bias.requiresGrad {
			channelSums(out.grad, bias.Grad(), n, co, oh*ow)
		}
		if x.requiresGrad {
			dxT := xT
			kernels.Sgemm(false, false, ci, n*p, rows, 1, w.Data, rows, gcols, n*p, 0, dxT, n*p)
			fromCN(dxT, x.Grad(), n, ci, p, true)
		}
	}, x, w, bias)
}

// UpsampleNearest repeats every pixel of x (N×C×H×W) factor×factor times.
func (tp *Tape) UpsampleNearest(x *Tensor, factor int) *Tensor {
	if x.Dim() != 4 || factor < 1 {
		panic(fmt.Sprintf("tensor: UpsampleNearest of %v by %d", x.Shape, factor))
	}
	n, c, h, w := x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]
	H, W := h*factor, w*factor
	out := New(n, c, H, W)
	for pl := 0; pl < n*c; pl++ {
		src, dst := x.Data[pl*h*w:(pl+1)*h*w], out.Data[pl*H*W:(pl+1)*H*W]
		for y := 0; y < H; y++ {
			for xx := 0; xx < W; xx++ {
				dst[y*W+xx] = src[(y/factor)*w+xx/factor]
			}
		}
	}
	return tp.Record(out, func() {
		ga := x.Grad()
		for pl := 0; pl < n*c; pl++ {
			g, d := out.grad[pl*H*W:(pl+1)*H*W], ga[pl*h*w:(pl+1)*h*w]
			for y := 0; y < H; y++ {
				for xx := 0; xx < W; xx++ {
					d[(y/factor)*w+xx/factor] += g[y*W+xx]
				}
			}
		}
	}, x)
}
