package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
)

// forEachImpl runs f once per implementation level this CPU and build have
// (the portable Go path always among them), restoring the default after.
func forEachImpl(t *testing.T, f func(t *testing.T)) {
	t.Helper()
	for _, l := range availableImpls() {
		t.Run(implName(l), func(t *testing.T) {
			old := setImpl(l)
			defer setImpl(old)
			f(t)
		})
	}
}

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = rng.Float32()*2 - 1
	}
	return s
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	padA, padB     int // extra leading-dimension slack
	padC           int
}

func (tc gemmCase) String() string {
	t := func(b bool) string {
		if b {
			return "T"
		}
		return "N"
	}
	return fmt.Sprintf("%s%s/%dx%dx%d/a%g/b%g/pad%d,%d,%d", t(tc.transA), t(tc.transB), tc.m, tc.n, tc.k, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC)
}

// checkGemmCase runs Sgemm through gemm (with the given worker count, or the
// public entry point if workers is 0) and compares against sgemmRef.
func checkGemmCase(t *testing.T, rng *rand.Rand, tc gemmCase, workers int) {
	t.Helper()
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := max(1, ac+tc.padA), max(1, bc+tc.padB), max(1, tc.n+tc.padC)
	a := randSlice(rng, max(0, (ar-1)*lda+ac))
	b := randSlice(rng, max(0, (br-1)*ldb+bc))
	clen := max(0, (tc.m-1)*ldc+tc.n)
	c := randSlice(rng, clen+5)
	if tc.beta == 0 {
		for i := range c {
			c[i] = float32(math.NaN())
		}
	}
	want := append([]float32(nil), c...)
	if tc.beta == 0 {
		// The reference clears C first; NaNs outside the matrix stay.
		for i := 0; i < tc.m; i++ {
			clear(want[i*ldc : i*ldc+tc.n])
		}
	}
	sgemmRef(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, want, ldc)
	got := append([]float32(nil), c...)
	if workers == 0 {
		Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc)
	} else {
		if tc.m == 0 || tc.n == 0 || tc.k == 0 || tc.alpha == 0 {
			return
		}
		gemmBlocked(workers, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, got, ldc)
	}
	// Each entry is a sum of k products of values in [-1, 1].
	tol := 1e-5 * float64(tc.k+2) * float64(1+abs32(tc.alpha)+abs32(tc.beta))
	for i := range got {
		inside := i < clen && i%ldc < tc.n
		if !inside {
			if !sameBits(got[i], c[i]) {
				t.Fatalf("%v: wrote outside C at %d: %v, was %v", tc, i, got[i], c[i])
			}
			continue
		}
		if d := math.Abs(float64(got[i] - want[i])); !(d <= tol) {
			t.Fatalf("%v workers=%d: C[%d,%d] = %v, want %v", tc, workers, i/ldc, i%ldc, got[i], want[i])
		}
	}
}

func abs32(x float32) float64 { return math.Abs(float64(x)) }

func sameBits(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }

var gemmShapes = [][3]int{
	{1, 1, 1}, {1, 7, 3}, {5, 1, 9}, {1, 1, 300}, {1, 100, 1}, {100, 1, 1},
	{2, 3, 4}, {6, 16, 8}, {12, 32, 16}, {13, 33, 17}, {11, 31, 255},
	{17, 31, 13}, {32, 21, 20}, {31, 17, 257}, {67, 129, 257}, {129, 67, 33},
	{1, 513, 70}, {513, 1, 70}, {64, 200, 700}, {250, 48, 300},
}

func TestSgemmShapes(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, s := range gemmShapes {
			for _, ta := range []bool{false, true} {
				for _, tb := range []bool{false, true} {
					checkGemmCase(t, rng, gemmCase{transA: ta, transB: tb, m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0}, 0)
					checkGemmCase(t, rng, gemmCase{transA: ta, transB: tb, m: s[0], n: s[1], k: s[2], alpha: 0.5, beta: 1, padA: 3, padB: 1, padC: 2}, 0)
				}
			}
		}
	})
}

func TestSgemmAlphaBeta(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, ab := range [][2]float32{{1, 0}, {1, 1}, {2, 0}, {-1.5, 0.25}, {0, 0}, {0, 2}, {0.5, -1}, {1, float32(math.Copysign(0, -1))}} {
			for _, s := range [][3]int{{17, 31, 13}, {67, 129, 257}, {40, 70, 600}} {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					checkGemmCase(t, rng, gemmCase{transA: tr[0], transB: tr[1], m: s[0], n: s[1], k: s[2], alpha: ab[0], beta: ab[1], padA: 5, padB: 7, padC: 9}, 0)
				}
			}
		}
	})
}

func TestSgemmEmpty(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, s := range [][3]int{{0, 5, 3}, {5, 0, 3}, {0, 0, 0}, {4, 5, 0}, {1, 1, 0}} {
			for _, beta := range []float32{0, 1, 0.5} {
				checkGemmCase(t, rng, gemmCase{m: s[0], n: s[1], k: s[2], alpha: 1, beta: beta, padC: 1}, 0)
				checkGemmCase(t, rng, gemmCase{transA: true, transB: true, m: s[0], n: s[1], k: s[2], alpha: 1, beta: beta}, 0)
			}
		}
		// m == 0 or k == 0 with beta == 1 must not touch C, even with nil
		// operands.
		c := []float32{1, 2, 3}
		Sgemm(false, false, 0, 3, 4, 1, nil, 4, nil, 3, 0, c, 3)
		Sgemm(false, false, 1, 3, 0, 1, nil, 1, nil, 3, 1, c, 3)
		if c[0] != 1 || c[1] != 2 || c[2] != 3 {
			t.Fatalf("empty Sgemm changed C: %v", c)
		}
	})
}

// TestSgemmWorkers forces several worker counts on one shape per transpose
// case, so the shared-B and split-column paths run whatever GOMAXPROCS is.
func TestSgemmWorkers(t *testing.T) {
	defer func() { shareMode = 0 }()
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for i, w := range []int{1, 2, 3, 2, 5} {
			shareMode = 1 + i%2 // B packs shared or private
			for _, s := range [][3]int{{67, 129, 257}, {300, 40, 520}, {20, 700, 300}, {5, 40, 9}} {
				for _, tr := range [][2]bool{{false, false}, {true, false}, {false, true}, {true, true}} {
					checkGemmCase(t, rng, gemmCase{transA: tr[0], transB: tr[1], m: s[0], n: s[1], k: s[2], alpha: 0.75, beta: 0, padA: 1, padC: 3}, w)
					checkGemmCase(t, rng, gemmCase{transA: tr[0], transB: tr[1], m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0.5, padB: 2}, w)
				}
			}
		}
	})
}

func TestSgemmConcurrent(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(g), 9))
				for i := 0; i < 6; i++ {
					s := gemmShapes[(g*7+i)%len(gemmShapes)]
					if i%2 == 0 {
						s = [3]int{96 + g, 130, 200}
					}
					checkGemmCase(t, rng, gemmCase{transA: g%2 == 1, transB: i%2 == 1, m: s[0], n: s[1], k: s[2], alpha: 1, beta: 0.5}, 0)
				}
			}()
		}
		wg.Wait()
	})
}

func TestSgemmPanics(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	a, b, c := make([]float32, 12), make([]float32, 12), make([]float32, 9)
	mustPanic("short A", func() { Sgemm(false, false, 3, 3, 4, 1, a[:11], 4, b, 3, 0, c, 3) })
	mustPanic("short B", func() { Sgemm(false, false, 3, 3, 4, 1, a, 4, b[:11], 3, 0, c, 3) })
	mustPanic("short C", func() { Sgemm(false, false, 3, 3, 4, 1, a, 4, b, 3, 0, c[:8], 3) })
	mustPanic("small lda", func() { Sgemm(false, false, 3, 3, 4, 1, a, 3, b, 3, 0, c, 3) })
	mustPanic("small ldb (T)", func() { Sgemm(false, true, 3, 3, 4, 1, a, 4, b, 3, 0, c, 3) })
	mustPanic("negative", func() { Sgemm(false, false, -1, 3, 4, 1, a, 4, b, 3, 0, c, 3) })
}

func TestVector(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(10, 11))
		for n := 0; n < 140; n++ {
			for _, off := range []int{0, 1, 3} {
				x := randSlice(rng, n+off)[off:]
				y := randSlice(rng, n+off+2)[off:]
				alpha := rng.Float32()*4 - 2

				got := append([]float32(nil), y...)
				want := append([]float32(nil), y...)
				Axpy(alpha, x, got)
				axpyRef(alpha, x, want)
				for i := range got {
					if math.Abs(float64(got[i]-want[i])) > 1e-6 {
						t.Fatalf("Axpy n=%d: y[%d] = %v, want %v", n, i, got[i], want[i])
					}
				}

				d, dw := Dot(x, y), dotRef(x, y)
				if math.Abs(float64(d-dw)) > 1e-5*float64(n+1) {
					t.Fatalf("Dot n=%d: %v, want %v", n, d, dw)
				}

				got = append([]float32(nil), y...)
				want = append([]float32(nil), y...)
				Scale(alpha, got[:n])
				scaleRef(alpha, want[:n])
				for i := range got {
					if got[i] != want[i] {
						t.Fatalf("Scale n=%d: x[%d] = %v, want %v", n, i, got[i], want[i])
					}
				}
			}
		}
	})
}

var convGeoms = []ConvGeom{
	{C: 1, H: 5, W: 5, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 1, StrideW: 1},
	{C: 3, H: 7, W: 6, KH: 3, KW: 2, PadH: 0, PadW: 1, StrideH: 1, StrideW: 1},
	{C: 2, H: 9, W: 11, KH: 4, KW: 4, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2},
	{C: 4, H: 8, W: 8, KH: 5, KW: 5, PadH: 2, PadW: 2, StrideH: 1, StrideW: 1},
	{C: 2, H: 10, W: 7, KH: 3, KW: 3, PadH: 2, PadW: 0, StrideH: 3, StrideW: 2},
	{C: 1, H: 3, W: 3, KH: 3, KW: 3, PadH: 0, PadW: 0, StrideH: 1, StrideW: 1},
	{C: 2, H: 4, W: 5, KH: 1, KW: 1, PadH: 0, PadW: 0, StrideH: 1, StrideW: 1},
	{C: 3, H: 6, W: 6, KH: 2, KW: 2, PadH: 3, PadW: 3, StrideH: 1, StrideW: 1},
}

// TestIm2colConv checks convolution by Im2col + Sgemm against a direct loop.
func TestIm2colConv(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(12, 13))
		for _, g := range convGeoms {
			const f = 3
			oh, ow := g.OutH(), g.OutW()
			kk := g.C * g.KH * g.KW
			x := randSlice(rng, g.C*g.H*g.W)
			w := randSlice(rng, f*kk)
			col := make([]float32, kk*oh*ow)
			for i := range col {
				col[i] = float32(math.NaN()) // Im2col must write every entry
			}
			Im2col(g, x, col)
			got := make([]float32, f*oh*ow)
			Sgemm(false, false, f, oh*ow, kk, 1, w, kk, col, oh*ow, 0, got, oh*ow)
			for o := 0; o < f; o++ {
				for y := 0; y < oh; y++ {
					for xx := 0; xx < ow; xx++ {
						var s float64
						for c := 0; c < g.C; c++ {
							for ki := 0; ki < g.KH; ki++ {
								for kj := 0; kj < g.KW; kj++ {
									iy, ix := y*g.StrideH-g.PadH+ki, xx*g.StrideW-g.PadW+kj
									if iy < 0 || iy >= g.H || ix < 0 || ix >= g.W {
										continue
									}
									s += float64(w[o*kk+(c*g.KH+ki)*g.KW+kj]) * float64(x[(c*g.H+iy)*g.W+ix])
								}
							}
						}
						if d := math.Abs(s - float64(got[(o*oh+y)*ow+xx])); d > 1e-4 {
							t.Fatalf("%+v: out[%d,%d,%d] = %v, want %v", g, o, y, xx, got[(o*oh+y)*ow+xx], s)
						}
					}
				}
			}
		}
	})
}

// TestCol2imAdjoint checks <Im2col(x), y> == <x, Col2im(y)>, and that Col2im
// accumulates into dst.
func TestCol2imAdjoint(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(14, 15))
		for _, g := range convGeoms {
			n := g.C * g.KH * g.KW * g.OutH() * g.OutW()
			x := randSlice(rng, g.C*g.H*g.W)
			y := randSlice(rng, n)
			col := make([]float32, n)
			Im2col(g, x, col)
			base := randSlice(rng, len(x))
			img := append([]float32(nil), base...)
			Col2im(g, y, img)
			var lhs, rhs float64
			for i := range col {
				lhs += float64(col[i]) * float64(y[i])
			}
			for i := range x {
				rhs += float64(x[i]) * float64(img[i]-base[i])
			}
			if math.Abs(lhs-rhs) > 1e-4*(1+math.Abs(lhs)) {
				t.Fatalf("%+v: <Im2col(x), y> = %v, <x, Col2im(y)> = %v", g, lhs, rhs)
			}
			// Against the reference loops.
			wantCol := make([]float32, n)
			im2colRef(g, x, wantCol)
			for i := range col {
				if col[i] != wantCol[i] {
					t.Fatalf("%+v: Im2col[%d] = %v, want %v", g, i, col[i], wantCol[i])
				}
			}
			wantImg := append([]float32(nil), base...)
			col2imRef(g, y, wantImg)
			for i := range img {
				if math.Abs(float64(img[i]-wantImg[i])) > 1e-5 {
					t.Fatalf("%+v: Col2im[%d] = %v, want %v", g, i, img[i], wantImg[i])
				}
			}
		}
	})
}

func itoa(i int) string { return fmt.Sprint(i) }

func TestParallel(t *testing.T) {
	for _, n := range []int{0, 1, 5, 100, 1001} {
		for _, grain := range []int{0, 1, 7, 2000} {
			var mu sync.Mutex
			seen := make([]int, n)
			Parallel(n, grain, func(lo, hi int) {
				if lo >= hi || (grain > 1 && hi-lo < grain && n >= grain) {
					t.Errorf("n=%d grain=%d: chunk [%d, %d)", n, grain, lo, hi)
				}
				mu.Lock()
				defer mu.Unlock()
				for i := lo; i < hi; i++ {
					seen[i]++
				}
			})
			for i, c := range seen {
				if c != 1 {
					t.Fatalf("n=%d grain=%d: item %d ran %d times", n, grain, i, c)
				}
			}
		}
	}
}
