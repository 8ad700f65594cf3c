package kernels

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestTune compares SGEMM configurations side by side, interleaved round by
// round and keeping each one's best, so that a busy machine disturbs the
// comparison less. It runs only when asked:
//
//	KERNELS_TUNE=1 KERNELS_CONFIGS="auto;v0;v1;v2;nopf;share1;share2;kc192;mc480" \
//		ROUNDS=5 [ALL=1] go test -run Tune ./kernels
//
// A configuration is comma-separated: vN forces the Nth AVX-512 kernel, nopf
// turns prefetching off, shareN sets shareMode, kcN and mcN the block sizes.
// ALL=1 adds the small and transposed shapes to those of the NumPy reference.
func TestTune(t *testing.T) {
	if os.Getenv("KERNELS_TUNE") == "" {
		t.Skip("set KERNELS_TUNE=1 to compare configurations")
	}
	configs := strings.Split(os.Getenv("KERNELS_CONFIGS"), ";")
	rounds, _ := strconv.Atoi(os.Getenv("ROUNDS"))
	rounds = max(rounds, 3)
	apply := func(cfg string, m, n int) {
		forceKernel, shareMode, prefetchOff = nil, 0, false
		for _, f := range strings.Split(cfg, ",") {
			switch {
			case f == "auto" || f == "":
			case f[0] == 'v':
				i, _ := strconv.Atoi(f[1:])
				k := *avx512Kernels()[i]
				forceKernel = &k
			case f == "nopf":
				prefetchOff = true
			case strings.HasPrefix(f, "share"):
				shareMode, _ = strconv.Atoi(f[5:])
			case strings.HasPrefix(f, "kc"):
				if forceKernel == nil {
					k := *pickKernel(m, n)
					forceKernel = &k
				}
				forceKernel.kc, _ = strconv.Atoi(f[2:])
			case strings.HasPrefix(f, "mc"):
				if forceKernel == nil {
					k := *pickKernel(m, n)
					forceKernel = &k
				}
				forceKernel.mc, _ = strconv.Atoi(f[2:])
			}
		}
	}
	defer apply("", 0, 0)
	rng := rand.New(rand.NewPCG(0, 0))
	shapes := benchShapes
	if os.Getenv("ALL") == "" {
		shapes = shapes[:6]
	}
	for _, s := range shapes {
		m, n, k := s.m, s.n, s.k
		a, b, c := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		lda, ldb := k, n
		if s.transA {
			lda = m
		}
		if s.transB {
			ldb = k
		}
		flop := 2.0 * float64(m) * float64(n) * float64(k)
		reps := max(2, int(1e10/flop))
		best := make([]float64, len(configs))
		for r := 0; r < rounds; r++ {
			for i, cfg := range configs {
				apply(cfg, m, n)
				Sgemm(s.transA, s.transB, m, n, k, 1, a, lda, b, ldb, 0, c, n)
				t0 := time.Now()
				for range reps {
					Sgemm(s.transA, s.transB, m, n, k, 1, a, lda, b, ldb, 0, c, n)
				}
				best[i] = max(best[i], flop*float64(reps)/time.Since(t0).Seconds()/1e9)
			}
		}
		apply("", 0, 0)
		line := fmt.Sprintf("%-5v%-5v %5d %5d %5d [%s]", s.transA, s.transB, m, n, k, pickKernel(m, n).name)
		for i, cfg := range configs {
			line += fmt.Sprintf("  %s=%.0f", cfg, best[i])
		}
		fmt.Println(line)
	}
}
