package kernels

import (
	"math/bits"
	"runtime"
	"sync"
)

// The blocked SGEMM follows Goto and van de Geijn ("Anatomy of
// high-performance matrix multiplication", 2008) and BLIS. Each worker owns a
// block of C (whole mr-row tiles × whole nr-column slivers) and runs
//
//	for jc over its columns in steps of nc
//	  for pc over k in steps of kc                  rank-kc updates of C
//	    for ic over its rows in steps of mc
//	      pack op(A)[ic:ic+mc, pc:pc+kc] in mr-high slivers (kept in L2)
//	      for jr over the nr-wide slivers of op(B)[pc:pc+kc, jc:jc+nc]
//	        (pack the B sliver when first used)      (kept in L1)
//	        for ir over the A slivers
//	          micro-kernel: mr×nr tile of C (+)= A sliver · B sliver
//
// Workers with few rows share the packing of B instead: each packs part of
// it into a double-buffered shared panel and they meet at a barrier (see
// gemmPlan.shareB). Transposed operands only change how the slivers are
// packed (pack.go). The packed slivers are zero-padded to full mr/nr, so the
// micro-kernel always computes a whole tile; at the edges of C it stores only
// the part inside C. While it computes, it prefetches the source of the next
// packing (prefetch.go).

// gemmKernel is one micro-kernel with the block sizes tuned for it.
type gemmKernel struct {
	name   string
	mr, nr int
	eff    float64 // relative speed, to weigh kernels against each other
	kc     int     // largest k block: a kc×nr B sliver should stay in L1
	mc     int     // largest row block (multiple of mr): the mc×kc A block should stay in L2
	nc     int     // largest column block (multiple of nr)
	// tile computes c[r*ldc+j] = alpha*Σ_l a[l*mr+r]*b[l*nr+j] + beta*c[r*ldc+j]
	// for r < rows <= mr and j < cols <= nr; beta == 0 does not read c.
	// kc >= 1.
	// While it runs it prefetches pf into L2.
	tile func(kc int, a, b, c []float32, ldc int, alpha, beta float32, rows, cols int, pf pfChunk)
}

// Implementation levels. Tests switch between them with setImpl.
const (
	implGo = iota
	implAVX2
	implAVX512
)

var (
	// kernelsByLevel[l] lists the micro-kernels of level l, empty where the
	// CPU or the build lacks it.
	kernelsByLevel = [3][]*gemmKernel{implGo: {&goKernel}, implAVX2: avx2Kernels(), implAVX512: avx512Kernels()}
	// impl is the level in use: the best available unless a test forces a
	// lower one.
	impl = availableImpls()[len(availableImpls())-1]
	// forceKernel, when set by a test, replaces the choice of kernel.
	forceKernel *gemmKernel
)

// pickKernel returns the kernel of the current level that is fastest for an
// m×n result, counting the work wasted on partial tiles at the edges.
func pickKernel(m, n int) *gemmKernel {
	if forceKernel != nil {
		return forceKernel
	}
	ks := kernelsByLevel[impl]
	best, bestCost := ks[0], -1.0
	for _, kn := range ks {
		cost := float64(ceilDiv(m, kn.mr)*kn.mr*ceilDiv(n, kn.nr)*kn.nr) / kn.eff
		if bestCost < 0 || cost < bestCost {
			best, bestCost = kn, cost
		}
	}
	return best
}

// setImpl selects an implementation level and returns the previous one. It
// panics if the CPU (or the build) does not support the level. Not safe to call
// while kernels are running.
func setImpl(level int) int {
	if level < 0 || level >= len(kernelsByLevel) || len(kernelsByLevel[level]) == 0 {
		panic("kernels: implementation level not available")
	}
	old := impl
	impl = level
	return old
}

// availableImpls lists the implementation levels this CPU and build support.
func availableImpls() []int {
	var ls []int
	for l, ks := range kernelsByLevel {
		if len(ks) > 0 {
			ls = append(ls, l)
		}
	}
	return ls
}

func implName(level int) string {
	return [...]string{"go", "avx2", "avx512"}[level]
}

// workerMACs is the least multiply-add count (m·n·k) worth a worker of its
// own: starting and joining one costs a few microseconds, and each packs its
// own A blocks. Smaller products stay on the calling goroutine.
const workerMACs = 1 << 20

func sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	if alpha == 0 || k == 0 {
		scaleMatrix(m, n, beta, c, ldc)
		return
	}
	macs := float64(m) * float64(n) * float64(k)
	workers := int(max(1, min(float64(runtime.GOMAXPROCS(0)), macs/workerMACs)))
	gemmBlocked(workers, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmBlocked runs the blocked algorithm on at most workers goroutines.
func gemmBlocked(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	p := gemmPlan{
		kern: pickKernel(m, n), transA: transA, transB: transB,
		m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc,
	}
	p.plan(workers)
	if p.workers == 1 {
		p.work(0)
		return
	}
	pp := new(gemmPlan)
	*pp = p
	pp.run()
}

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic("kernels: negative dimension")
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	if lda < max(1, ac) || ldb < max(1, bc) || ldc < max(1, n) {
		panic("kernels: leading dimension too small")
	}
	if m == 0 || n == 0 {
		return
	}
	if len(c) < (m-1)*ldc+n {
		panic("kernels: C too short")
	}
	if k == 0 {
		return
	}
	if len(a) < (ar-1)*lda+ac {
		panic("kernels: A too short")
	}
	if len(b) < (br-1)*ldb+bc {
		panic("kernels: B too short")
	}
}

// scaleMatrix sets the m×n matrix c to beta*c; beta == 0 clears it without
// reading it.
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else {
			scale(beta, row)
		}
	}
}

// gemmPlan is one SGEMM call cut into blocks and spread over workers.
type gemmPlan struct {
	kern           *gemmKernel
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	a, b, c        []float32
	lda, ldb, ldc  int

	kc, nkb int // k block size (largest) and number of k blocks
	nc      int // column block width, a multiple of nr
	mc      int // row block height, a multiple of mr

	// Workers form a tm×tn grid over C: tm row groups of whole mr tiles, tn
	// column groups of whole nr slivers. With shareB the tm workers of one
	// column group share its packed B slivers (each packs some, then they
	// meet at a barrier); without, each packs all it uses, which costs
	// little next to its multiply when it has many rows, and needs no
	// barrier.
	workers, tm, tn int
	shareB          bool

	bbuf [2][]float32 // shared packed B, double-buffered across k blocks
	bar  *barrier
}

// shareRows: row groups shorter than this share their packed B. A worker
// that packs all of B itself does kc·nc copies per kc·nc·rows multiply-adds,
// a small overhead when rows is large, and needs no barrier.
const shareRows = 32

// shareMode lets tests and measurements force the B packing: 0 chooses by
// shareRows, 1 always shares, 2 never does.
var shareMode = 0

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func (p *gemmPlan) plan(workers int) {
	kn := p.kern
	mr, nr := kn.mr, kn.nr
	p.nkb = ceilDiv(p.k, kn.kc)
	p.kc = ceilDiv(p.k, p.nkb)
	p.nc = min(kn.nc, ceilDiv(p.n, nr)*nr)
	if p.n > p.nc {
		// Balance the column blocks.
		p.nc = ceilDiv(ceilDiv(p.n, ceilDiv(p.n, p.nc)), nr) * nr
	}

	mTiles := ceilDiv(p.m, mr)
	nTiles := ceilDiv(p.nc, nr)
	// Split rows while every worker keeps at least minTiles A slivers per B
	// sliver (the reuse that amortises loading the B sliver into L1); split
	// the columns for the rest.
	const minTiles = 4
	tm := 1
	for _, f := range factors(workers) {
		if mTiles/(tm*f) >= minTiles || (tm*f <= mTiles && nTiles < workers/tm) {
			tm *= f
		}
	}
	tn := max(1, min(workers/tm, nTiles))
	p.tm, p.tn = tm, tn
	p.workers = tm * tn
	switch shareMode {
	case 0:
		p.shareB = tm > 1 && p.m/tm < shareRows
	case 1:
		p.shareB = tm > 1
	}

	rowsPer := ceilDiv(mTiles, tm) * mr
	nmb := ceilDiv(rowsPer, kn.mc)
	p.mc = ceilDiv(ceilDiv(rowsPer, nmb), mr) * mr
}

// factors returns the prime factors of n, largest first.
func factors(n int) []int {
	var fs []int
	for f := 2; f*f <= n; f++ {
		for n%f == 0 {
			fs = append(fs, f)
			n /= f
		}
	}
	if n > 1 {
		fs = append(fs, n)
	}
	for i, j := 0, len(fs)-1; i < j; i, j = i+1, j-1 {
		fs[i], fs[j] = fs[j], fs[i]
	}
	return fs
}

// span returns the half-open range of part i when n items are split into
// parts nearly equal parts.
func span(n, parts, i int) (lo, hi int) {
	q, r := n/parts, n%parts
	lo = i*q + min(i, r)
	hi = lo + q
	if i < r {
		hi++
	}
	return lo, hi
}

func (p *gemmPlan) run() {
	bsize := p.kc * p.nc
	if p.shareB {
		p.bar = newBarrier(p.workers)
		b0, b1 := getBuf(bsize), getBuf(bsize)
		defer putBuf(b0)
		defer putBuf(b1)
		p.bbuf = [2][]float32{*b0, *b1}
	}
	var wg sync.WaitGroup
	wg.Add(p.workers - 1)
	for w := 1; w < p.workers; w++ {
		go func() {
			defer wg.Done()
			p.work(w)
		}()
	}
	p.work(0)
	wg.Wait()
}

// work is worker w's share of the plan.
func (p *gemmPlan) work(w int) {
	kn := p.kern
	mr, nr := kn.mr, kn.nr
	wm, wn := w/p.tn, w%p.tn
	mTiles := ceilDiv(p.m, mr)
	tlo, thi := span(mTiles, p.tm, wm)
	rowLo, rowHi := tlo*mr, min(thi*mr, p.m)

	abufp := getBuf(p.mc * p.kc)
	defer putBuf(abufp)
	abuf := *abufp
	shared := p.shareB
	var bbuf []float32
	if !shared {
		bp := getBuf(p.kc * p.nc)
		defer putBuf(bp)
		bbuf = *bp
	}

	pf := getPrefetcher()
	defer putPrefetcher(pf)
	nIter := ceilDiv(p.n, p.nc) * p.nkb
	pf.sched = p.schedule(w, 0, pf.sched[:0])
	for it := 0; it < nIter; it++ {
		jc, kb := it/p.nkb*p.nc, it%p.nkb
		ncur := min(p.nc, p.n-jc)
		plo, phi := span(ceilDiv(ncur, nr), p.tn, wn)
		l0, l1 := span(p.k, p.nkb, kb)
		kc := l1 - l0
		// The prefetcher looks at this iteration's packing sources and
		// the next's.
		pf.startIteration(p, w, it, nIter)
		pf.budget = kc / 4 * 4 // lines one micro-kernel call prefetches
		if shared {
			bbuf = p.bbuf[it&1]
			// The tm workers of this column group pack its slivers.
			qlo, qhi := span(phi-plo, p.tm, wm)
			if qlo < qhi {
				pf.packing()
			}
			p.packB(bbuf, kc, l0, jc, ncur, plo+qlo, plo+qhi)
			p.bar.wait()
		}
		beta := p.beta
		if kb > 0 {
			beta = 1
		}
		for ic := rowLo; ic < rowHi; ic += p.mc {
			mcur := min(p.mc, rowHi-ic)
			pf.packing()
			packA(abuf, p.transA, p.a, p.lda, ic, mcur, l0, kc, mr)
			for s := plo; s < phi; s++ {
				if !shared && ic == rowLo {
					// Pack each B sliver just before its first use, so
					// that the kernels before it prefetch its source.
					pf.packing()
					p.packB(bbuf, kc, l0, jc, ncur, s, s+1)
				}
				p.sliver(abuf, bbuf, kc, ic, mcur, jc, ncur, s, beta, pf)
			}
		}
	}
}

// packB packs slivers [s0, s1) of op(B)[l0:l0+kc, jc:jc+ncur] into buf;
// sliver s lives at buf[s*kc*nr:].
func (p *gemmPlan) packB(buf []float32, kc, l0, jc, ncur, s0, s1 int) {
	nr := p.kern.nr
	for s := s0; s < s1; s++ {
		j0 := s * nr
		w := min(nr, ncur-j0)
		packBSliver(buf[s*kc*nr:(s+1)*kc*nr], p.transB, p.b, p.ldb, l0, kc, jc+j0, w, nr)
	}
}

// sliver runs the micro-kernel over rows [ic, ic+mcur) against B sliver s.
func (p *gemmPlan) sliver(abuf, bbuf []float32, kc, ic, mcur, jc, ncur, s int, beta float32, pf *prefetcher) {
	kn := p.kern
	mr, nr := kn.mr, kn.nr
	c, ldc, alpha := p.c, p.ldc, p.alpha
	bs := bbuf[s*kc*nr : (s+1)*kc*nr]
	j := jc + s*nr
	w := min(nr, ncur-s*nr)
	for ir := 0; ir < mcur; ir += mr {
		h := min(mr, mcur-ir)
		ci := (ic+ir)*ldc + j
		kn.tile(kc, abuf[ir*kc:ir*kc+mr*kc], bs, c[ci:ci+(h-1)*ldc+w], ldc, alpha, beta, h, w, pf.take())
	}
}

// Packing buffers are recycled; sizes are rounded up to a power of two so
// that calls of similar shape share them.
var bufPool sync.Pool

func getBuf(n int) *[]float32 {
	size := 1 << bits.Len(uint(max(n, 64)-1))
	if v := bufPool.Get(); v != nil {
		b := v.(*[]float32)
		if cap(*b) >= size {
			*b = (*b)[:n]
			return b
		}
	}
	b := make([]float32, n, size)
	return &b
}

func putBuf(b *[]float32) { bufPool.Put(b) }

// Level names the SGEMM implementation in use: "avx512", "avx2" or "go".
// Reports record it beside their timings.
func Level() string {
	return [...]string{implGo: "go", implAVX2: "avx2", implAVX512: "avx512"}[impl]
}
