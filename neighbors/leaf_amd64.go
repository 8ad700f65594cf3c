//go:build !noasm

package neighbors

import "golang.org/x/sys/cpu"

// Kernels of leaf_amd64.s.
//
//go:noescape
func leafDistsAVX2(q *float64, blk *float32, d, nb int, bound float64, dist *float64, mask *uint8)

//go:noescape
func leafDistsAVX512(q *float64, blk *float32, d, nb int, bound float64, dist *float64, mask *uint8)

//go:noescape
func boxPairAVX2(q, box *float64, dp int) (dl, dr float64)

//go:noescape
func boxPairAVX512(q, box *float64, dp int) (dl, dr float64)

const (
	kernelGo = iota
	kernelAVX2
	kernelAVX512
)

// best is the widest kernel set the CPU runs; kernel the one in use (the
// tests switch it to check each against the plain-Go reference).
var (
	best   = pickKernel()
	kernel = best
)

func pickKernel() int {
	switch {
	case cpu.X86.HasAVX512F:
		return kernelAVX512
	case cpu.X86.HasAVX2:
		return kernelAVX2
	}
	return kernelGo
}

func leafDistsAsm(q []float64, blk []float32, d int, bound float64, dist []float64, mask []uint8) bool {
	nb := len(dist) / lanes
	if kernel == kernelGo || d == 0 || nb == 0 {
		return false
	}
	_, _, _ = q[d-1], blk[nb*lanes*d-1], mask[nb-1]
	if kernel == kernelAVX512 {
		leafDistsAVX512(&q[0], &blk[0], d, nb, bound, &dist[0], &mask[0])
	} else {
		leafDistsAVX2(&q[0], &blk[0], d, nb, bound, &dist[0], &mask[0])
	}
	return true
}

func boxPairAsm(q, box []float64, dp int) (dl, dr float64, ok bool) {
	if kernel == kernelGo || dp == 0 {
		return 0, 0, false
	}
	_, _ = q[dp-1], box[4*dp-1]
	if kernel == kernelAVX512 {
		dl, dr = boxPairAVX512(&q[0], &box[0], dp)
	} else {
		dl, dr = boxPairAVX2(&q[0], &box[0], dp)
	}
	return dl, dr, true
}

// kernelName names the kernels in use, for tests and benchmarks.
func kernelName() string {
	return [...]string{"go", "avx2", "avx512"}[kernel]
}

// setKernels switches to the named kernels ("go", "avx2", "avx512") and
// reports whether the CPU runs them (if not, nothing changes).
func setKernels(name string) bool {
	for k, s := range [...]string{"go", "avx2", "avx512"} {
		if s == name && k <= best {
			kernel = k
			return true
		}
	}
	return false
}
