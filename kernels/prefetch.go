package kernels

import (
	"sync"
	"unsafe"
)

// Packing reads its source from memory in a burst between micro-kernel
// calls; when the operand is streamed from DRAM (a long k with a short m or n)
// the core would stall there. So each micro-kernel call also prefetches into
// L2 a slice of the source that the worker packs next, and the packing then
// finds it in cache. The prefetcher walks this worker's packing sources in the
// order it packs them, a bounded distance ahead of the packing.

// region is a packing source: rows rows ld floats apart from src[0], each
// spanning lines cache lines.
type region struct {
	src      []float32
	ld, rows int
	lines    int
}

// pfChunk is what one micro-kernel call prefetches: lines cache lines from
// each of rows rows, ld bytes apart, from p.
type pfChunk struct {
	p               *float32
	ld, lines, rows int
}

// newRegion is the region of rows rows of w floats, ld apart, from
// src[start].
func newRegion(src []float32, start, ld, w, rows int) region {
	src = src[start : start+(rows-1)*ld+w]
	off := int(uintptr(unsafe.Pointer(&src[0])) % 64)
	lines := (off + 4*w + 63) / 64
	if ld*4%64 != 0 {
		// Rows start at varying offsets within a line.
		lines = (4*w+63)/64 + 1
	}
	return region{src: src, ld: ld, rows: rows, lines: lines}
}

// schedule appends to dst, in packing order, the sources that worker w packs
// in iteration it of the plan.
func (p *gemmPlan) schedule(w, it int, dst []region) []region {
	mr, nr := p.kern.mr, p.kern.nr
	wm, wn := w/p.tn, w%p.tn
	jc, kb := it/p.nkb*p.nc, it%p.nkb
	ncur := min(p.nc, p.n-jc)
	plo, phi := span(ceilDiv(ncur, nr), p.tn, wn)
	l0, l1 := span(p.k, p.nkb, kb)
	kc := l1 - l0
	tlo, thi := span(ceilDiv(p.m, mr), p.tm, wm)
	rowLo, rowHi := tlo*mr, min(thi*mr, p.m)

	bRegion := func(s0, s1 int) region {
		j0, j1 := jc+s0*nr, min(jc+s1*nr, p.n)
		if p.transB {
			return newRegion(p.b, j0*p.ldb+l0, p.ldb, kc, j1-j0)
		}
		return newRegion(p.b, l0*p.ldb+j0, p.ldb, j1-j0, kc)
	}
	aRegion := func(ic, mcur int) region {
		if p.transA {
			return newRegion(p.a, l0*p.lda+ic, p.lda, mcur, kc)
		}
		return newRegion(p.a, ic*p.lda+l0, p.lda, kc, mcur)
	}
	shared := p.shareB
	if shared {
		qlo, qhi := span(phi-plo, p.tm, wm)
		if qlo < qhi {
			dst = append(dst, bRegion(plo+qlo, plo+qhi))
		}
	}
	for ic := rowLo; ic < rowHi; ic += p.mc {
		dst = append(dst, aRegion(ic, min(p.mc, rowHi-ic)))
		if !shared && ic == rowLo {
			for s := plo; s < phi; s++ {
				dst = append(dst, bRegion(s, s+1))
			}
		}
	}
	return dst
}

// maxAhead bounds how far (in cache lines) the prefetcher runs ahead of the
// packing, so that what it fetches is still in L2 when packed.
const maxAhead = 8192

type prefetcher struct {
	sched  []region // this iteration's sources, then the next iteration's
	nCur   int      // how many of sched belong to this iteration
	packed int      // sources packed so far, or about to be
	ri, r  int      // cursor: source ri, row r
	ahead  int      // lines between the packing and the cursor
	budget int      // lines per micro-kernel call
}

// startIteration moves on to iteration it, keeping the progress the cursor
// made into it during the previous one.
func (f *prefetcher) startIteration(p *gemmPlan, w, it, nIter int) {
	if it > 0 {
		// Drop the previous iteration's sources.
		n := f.nCur
		f.sched = append(f.sched[:0], f.sched[n:]...)
		f.ri -= n
		if f.ri < 0 {
			f.ri, f.r = 0, 0
		}
	}
	f.nCur = len(f.sched)
	if it+1 < nIter {
		f.sched = p.schedule(w, it+1, f.sched)
	}
	f.packed = 0
	f.ahead = 0
	for i := 0; i < f.ri && i < len(f.sched); i++ {
		f.ahead += f.sched[i].rows * f.sched[i].lines
	}
	if f.ri < len(f.sched) {
		f.ahead += f.r * f.sched[f.ri].lines
	}
}

// packing notes that the next source in the schedule is being packed now:
// the cursor skips past it if it has not got there.
func (f *prefetcher) packing() {
	i := f.packed
	f.packed++
	if i >= len(f.sched) {
		return
	}
	if f.ri <= i {
		f.ri, f.r, f.ahead = i+1, 0, 0
		return
	}
	f.ahead -= f.sched[i].rows * f.sched[i].lines
}

// take returns the next chunk for one micro-kernel call.
func (f *prefetcher) take() pfChunk {
	for f.ri < len(f.sched) && f.r >= f.sched[f.ri].rows {
		f.ri, f.r = f.ri+1, 0
	}
	if prefetchOff || f.ri >= len(f.sched) || f.ahead >= maxAhead {
		return pfChunk{}
	}
	g := &f.sched[f.ri]
	rows := min(g.rows-f.r, max(1, f.budget/g.lines))
	c := pfChunk{p: &g.src[f.r*g.ld], ld: 4 * g.ld, lines: g.lines, rows: rows}
	f.r += rows
	f.ahead += rows * g.lines
	return c
}

// prefetchOff turns the prefetching off, for measurements.
var prefetchOff = false

var prefetcherPool = sync.Pool{New: func() any { return new(prefetcher) }}

func getPrefetcher() *prefetcher {
	f := prefetcherPool.Get().(*prefetcher)
	sched := f.sched[:0]
	*f = prefetcher{sched: sched}
	return f
}

func putPrefetcher(f *prefetcher) {
	clear(f.sched) // drop references to the operands
	prefetcherPool.Put(f)
}
