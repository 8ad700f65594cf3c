package ocsvm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// expNeg against math.Exp: within 2 units in the last place everywhere on
// the kernel's range, and the float32 values the kernel cache stores are
// the same (a difference needs a float64 within two units of a float32
// rounding boundary: about one chance in 10⁸).
func TestExpNeg(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	worst, flips := 0.0, 0
	check := func(x float64) {
		got, want := expNeg(x), math.Exp(x)
		if want == 0 {
			if got != 0 {
				t.Fatalf("expNeg(%v) = %v, want 0", x, got)
			}
			return
		}
		ulp := math.Abs(got-want) / (math.Nextafter(want, math.Inf(1)) - want)
		worst = math.Max(worst, ulp)
		if float32(got) != float32(want) {
			flips++
		}
	}
	for range 1_000_000 {
		check(-r.ExpFloat64() * 3)
	}
	for range 200_000 {
		check(-r.Float64() * 800)
	}
	for _, x := range []float64{0, math.Copysign(0, -1), 1e-300, 4e-16, -1e-300, -0.5 * math.Ln2 / 128, -math.Ln2, -699.9, -700, -745, -746, -1e10, math.Inf(-1)} {
		check(x)
	}
	if worst > 2 {
		t.Errorf("expNeg is %.2f units in the last place from math.Exp", worst)
	}
	if flips > 1 {
		t.Errorf("float32(expNeg) differs from float32(math.Exp) %d times in 1.2 million", flips)
	}
	t.Logf("largest error %.2f ulp, %d float32 differences", worst, flips)
	if !math.IsNaN(expNeg(math.NaN())) {
		t.Errorf("expNeg(NaN) = %v", expNeg(math.NaN()))
	}
}

func BenchmarkExp(b *testing.B) {
	in, out := make([]float64, 4096), make([]float64, 4096)
	for i := range in {
		in[i] = -float64(i) / 512
	}
	b.Run("math.Exp", func(b *testing.B) {
		for range b.N {
			for j, v := range in {
				out[j] = math.Exp(v)
			}
		}
	})
	b.Run("expNeg", func(b *testing.B) {
		for range b.N {
			for j, v := range in {
				out[j] = expNeg(v)
			}
		}
	})
}
