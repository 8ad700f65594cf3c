//go:build !noasm

package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// asmKernelsAvailable lists every assembly micro-kernel this CPU can run,
// including the variants not in use.
func asmKernelsAvailable() []*gemmKernel {
	return append(avx2Kernels(), avx512Kernels()...)
}

// TestTiles checks every micro-kernel on every edge shape of its tile.
func TestTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 21))
	for _, kn := range asmKernelsAvailable() {
		mr, nr := kn.mr, kn.nr
		for _, kc := range []int{1, 3, 4, 9, 64} {
			a, b := randSlice(rng, mr*kc), randSlice(rng, nr*kc)
			for rows := 1; rows <= mr; rows++ {
				for cols := 1; cols <= nr; cols++ {
					for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
						const ldc = 50
						c := randSlice(rng, mr*ldc)
						if ab[1] == 0 {
							for i := range c {
								c[i] = float32(math.NaN())
							}
						}
						want := append([]float32(nil), c...)
						for r := 0; r < rows; r++ {
							for j := 0; j < cols; j++ {
								var s float32
								for l := 0; l < kc; l++ {
									s += a[l*mr+r] * b[l*nr+j]
								}
								if ab[1] == 0 {
									want[r*ldc+j] = ab[0] * s
								} else {
									want[r*ldc+j] = ab[0]*s + ab[1]*want[r*ldc+j]
								}
							}
						}
						kn.tile(kc, a, b, c, ldc, ab[0], ab[1], rows, cols, pfChunk{p: &a[0], ld: 4, lines: 1, rows: 3})
						for i := range c {
							if d := math.Abs(float64(c[i] - want[i])); !(d <= 1e-4) && !(math.IsNaN(float64(want[i])) && sameBits(c[i], want[i])) {
								t.Fatalf("%s kc=%d rows=%d cols=%d alpha=%v beta=%v: c[%d,%d] = %v, want %v",
									kn.name, kc, rows, cols, ab[0], ab[1], i/ldc, i%ldc, c[i], want[i])
							}
						}
					}
				}
			}
		}
	}
}

// TestPackTrans checks the assembly transposing packs against the loop.
func TestPackTrans(t *testing.T) {
	forEachImpl(t, testPackTrans)
}

func testPackTrans(t *testing.T) {
	rng := rand.New(rand.NewPCG(22, 23))
	for _, width := range []int{6, 8, 12, 14, 16, 32, 48} {
		for _, kc := range []int{1, 5, 15, 16, 17, 40, 256} {
			const ld, r0, l0 = 300, 3, 7
			src := randSlice(rng, (r0+width)*ld)
			got := make([]float32, kc*width+1)
			got[kc*width] = 42
			want := make([]float32, kc*width)
			if !packTransAsm(got, src, ld, r0, l0, kc, width) {
				continue
			}
			for l := 0; l < kc; l++ {
				for r := 0; r < width; r++ {
					want[l*width+r] = src[(r0+r)*ld+l0+l]
				}
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("width=%d kc=%d: dst[%d] = %v, want %v", width, kc, i, got[i], want[i])
				}
			}
			if got[kc*width] != 42 {
				t.Fatalf("width=%d kc=%d: wrote past the end", width, kc)
			}
		}
	}
}

func BenchmarkTile(b *testing.B) {
	for _, kn := range asmKernelsAvailable() {
		for _, kc := range []int{128, 256, 384} {
			a, bb := make([]float32, kn.mr*kc), make([]float32, kn.nr*kc)
			c := make([]float32, kn.mr*kn.nr)
			b.Run(kn.name+"/kc"+itoa(kc), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					kn.tile(kc, a, bb, c, kn.nr, 1, 1, kn.mr, kn.nr, pfChunk{})
				}
				b.ReportMetric(2*float64(kn.mr*kn.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

func BenchmarkPackTrans(b *testing.B) {
	for _, width := range []int{12, 32} {
		const ld, kc = 800, 256
		src := make([]float32, ld*width)
		dst := make([]float32, kc*width)
		b.Run("w"+itoa(width), func(b *testing.B) {
			b.SetBytes(int64(4 * kc * width))
			for i := 0; i < b.N; i++ {
				packTrans(dst, src, ld, 0, width, 0, kc, width)
			}
		})
	}
}

// TestSgemmEveryKernel runs the blocked driver with each micro-kernel forced,
// so the variants pickKernel rarely chooses are covered too.
func TestSgemmEveryKernel(t *testing.T) {
	rng := rand.New(rand.NewPCG(24, 25))
	old := impl
	defer func() { forceKernel, impl = nil, old }()
	for _, kn := range asmKernelsAvailable() {
		impl = implAVX2
		if kn.nr > 16 {
			impl = implAVX512
		}
		forceKernel = kn
		for _, s := range [][3]int{{17, 31, 13}, {67, 129, 257}, {9, 100, 40}, {100, 50, 600}} {
			for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
				for _, w := range []int{1, 2, 3} {
					checkGemmCase(t, rng, gemmCase{transA: tr[0], transB: tr[1], m: s[0], n: s[1], k: s[2], alpha: 1.5, beta: 0.5, padA: 1, padB: 2, padC: 3}, w)
				}
			}
		}
	}
}
