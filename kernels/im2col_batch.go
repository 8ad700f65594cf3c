package kernels

// Batched lowering. A batch's patch matrix is (C·KH·KW) × (N·OH·OW): row r
// holds, side by side, the r-th patch row of every image. Filling it one
// image at a time (im2col with a large ld) writes N short runs into every
// row, each a whole row stride (N·OH·OW floats, often a multiple of 4 KiB)
// away from the last: on the small feature maps of GANomaly (8×8, 4×4) that
// is one cache line and one TLB page per handful of values, and it ran at a
// seventh of the copy rate. Here the loops run channel-outer instead: each
// worker takes a block of (channel, image-chunk) pairs, copies the chunk's
// planes of that channel once into zero-padded scratch planes (so no bounds
// or padding tests remain), and then writes each patch row's values for the
// whole chunk contiguously, by plain row copies for stride 1 and wide maps,
// or through one precomputed offset table for strided or narrow ones.

// batchChunk is how many images one task lowers together: enough to make
// each row run long, few enough that the padded planes stay in L1/L2.
const batchChunk = 16

// planeSlack pads the buffer of padded planes at its end: gather2 and
// scatter2 touch one value past the last they use, which on the last plane
// can lie beyond it.
const planeSlack = 8

// batchPlan is the geometry shared by a batch's tasks.
type batchPlan struct {
	g      ConvGeom
	n      int // images
	oh, ow int
	ohw    int
	hp, wp int // padded plane
	plane  int // hp*wp
	img    int // C*H*W
	ld     int // n*ohw
	gather bool
	// stride2: the width stride is 2, so gather2/scatter2 lower a whole
	// plane per kernel offset.
	stride2 bool
	idx     []int32 // offset of output position p within a padded plane, for (ki,kj) = (0,0)
	chunks  int
	nTasks  int
}

func newBatchPlan(g ConvGeom, n int) *batchPlan {
	p := &batchPlan{g: g, n: n, oh: g.OutH(), ow: g.OutW()}
	p.ohw = p.oh * p.ow
	p.hp, p.wp = g.H+2*g.PadH, g.W+2*g.PadW
	p.plane = p.hp * p.wp
	p.img = g.C * g.H * g.W
	p.ld = n * p.ohw
	p.gather = g.StrideW != 1 || p.ow < 16
	p.stride2 = g.StrideW == 2
	if p.gather && !p.stride2 { // gather2/scatter2 need no offset table
		p.idx = make([]int32, p.ohw)
		for y := 0; y < p.oh; y++ {
			for x := 0; x < p.ow; x++ {
				p.idx[y*p.ow+x] = int32(y*g.StrideH*p.wp + x*g.StrideW)
			}
		}
	}
	p.chunks = (n + batchChunk - 1) / batchChunk
	p.nTasks = g.C * p.chunks
	return p
}

// loadPlanes copies channel c of images [i0, i1) into zero-padded planes.
func (p *batchPlan) loadPlanes(src, pad []float32, c, i0, i1 int) {
	g := p.g
	for i := i0; i < i1; i++ {
		pl := pad[(i-i0)*p.plane : (i-i0+1)*p.plane]
		clear(pl[:g.PadH*p.wp])
		clear(pl[(g.PadH+g.H)*p.wp:])
		ch := src[i*p.img+c*g.H*g.W : i*p.img+(c+1)*g.H*g.W]
		for y := 0; y < g.H; y++ {
			row := pl[(y+g.PadH)*p.wp : (y+g.PadH+1)*p.wp]
			clear(row[:g.PadW])
			copy(row[g.PadW:g.PadW+g.W], ch[y*g.W:(y+1)*g.W])
			clear(row[g.PadW+g.W:])
		}
	}
}

func im2colBatch(g ConvGeom, src []float32, n int, dst []float32) {
	p := newBatchPlan(g, n)
	if p.ohw <= 0 || g.C == 0 || n == 0 {
		return
	}
	src = src[:n*p.img]
	dst = dst[:g.C*g.KH*g.KW*p.ld]
	Parallel(p.nTasks, 1, func(lo, hi int) {
		pad := make([]float32, batchChunk*p.plane+planeSlack)
		for t := lo; t < hi; t++ {
			c, ch := t/p.chunks, t%p.chunks
			i0, i1 := ch*batchChunk, min(n, (ch+1)*batchChunk)
			p.loadPlanes(src, pad, c, i0, i1)
			for ki := 0; ki < g.KH; ki++ {
				for kj := 0; kj < g.KW; kj++ {
					r := (c*g.KH+ki)*g.KW + kj
					off := ki*p.wp + kj
					for i := i0; i < i1; i++ {
						pl := pad[(i-i0)*p.plane : (i-i0+1)*p.plane]
						d := dst[r*p.ld+i*p.ohw : r*p.ld+(i+1)*p.ohw]
						if p.stride2 {
							gather2(d, pad[(i-i0)*p.plane+off:], p.oh, p.ow, g.StrideH*p.wp)
							continue
						}
						if p.gather {
							s := pl[off:]
							for q, ix := range p.idx[:len(d)] {
								d[q] = s[ix]
							}
							continue
						}
						for y := 0; y < p.oh; y++ {
							b := (y*g.StrideH)*p.wp + off
							copy(d[y*p.ow:(y+1)*p.ow], pl[b:b+p.ow])
						}
					}
				}
			}
		}
	})
}

func col2imBatch(g ConvGeom, src []float32, n int, dst []float32) {
	p := newBatchPlan(g, n)
	if p.ohw <= 0 || g.C == 0 || n == 0 {
		return
	}
	src = src[:g.C*g.KH*g.KW*p.ld]
	dst = dst[:n*p.img]
	Parallel(p.nTasks, 1, func(lo, hi int) {
		pad := make([]float32, batchChunk*p.plane+planeSlack)
		for t := lo; t < hi; t++ {
			c, ch := t/p.chunks, t%p.chunks
			i0, i1 := ch*batchChunk, min(n, (ch+1)*batchChunk)
			clear(pad[:(i1-i0)*p.plane])
			for ki := 0; ki < g.KH; ki++ {
				for kj := 0; kj < g.KW; kj++ {
					r := (c*g.KH+ki)*g.KW + kj
					off := ki*p.wp + kj
					for i := i0; i < i1; i++ {
						pl := pad[(i-i0)*p.plane : (i-i0+1)*p.plane]
						s := src[r*p.ld+i*p.ohw : r*p.ld+(i+1)*p.ohw]
						if p.stride2 {
							scatter2(pad[(i-i0)*p.plane+off:], s, p.oh, p.ow, g.StrideH*p.wp)
							continue
						}
						if p.gather {
							d := pl[off:]
							for q, ix := range p.idx[:len(s)] {
								d[ix] += s[q]
							}
							continue
						}
						for y := 0; y < p.oh; y++ {
							b := (y*g.StrideH)*p.wp + off
							axpy(1, s[y*p.ow:(y+1)*p.ow], pl[b:b+p.ow])
						}
					}
				}
			}
			// Add the planes' interiors into the images; padding is dropped.
			for i := i0; i < i1; i++ {
				pl := pad[(i-i0)*p.plane : (i-i0+1)*p.plane]
				ch := dst[i*p.img+c*g.H*g.W : i*p.img+(c+1)*g.H*g.W]
				for y := 0; y < g.H; y++ {
					row := pl[(y+g.PadH)*p.wp+g.PadW : (y+g.PadH)*p.wp+g.PadW+g.W]
					out := ch[y*g.W : (y+1)*g.W]
					if g.W >= 16 {
						axpy(1, row, out)
						continue
					}
					for x, v := range row {
						out[x] += v
					}
				}
			}
		}
	})
}
