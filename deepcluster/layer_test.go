package deepcluster

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/tensor"
)

// TestSoftAssignHandWorked: z = (0,0), mu = (1,0) and (0,2), alpha = 1:
// kernels 1/2 and 1/5, so q = (5/7, 2/7).
func TestSoftAssignHandWorked(t *testing.T) {
	z := tensor.FromData([]float32{0, 0}, 1, 2)
	mu := tensor.FromData([]float32{1, 0, 0, 2}, 2, 2)
	q := SoftAssign(nil, z, mu, 1)
	if math.Abs(float64(q.Data[0])-5.0/7) > 1e-6 || math.Abs(float64(q.Data[1])-2.0/7) > 1e-6 {
		t.Fatalf("q = %v, want [5/7 2/7]", q.Data)
	}
}

// TestSoftAssignReference compares with the formula evaluated directly, for
// alpha 1 and 3.
func TestSoftAssignReference(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	n, k, d := 7, 4, 3
	z, mu := randT(r, n, d), randT(r, k, d)
	for _, alpha := range []float64{1, 3} {
		q := SoftAssign(nil, z, mu, alpha)
		for i := 0; i < n; i++ {
			u := make([]float64, k)
			var s float64
			for j := 0; j < k; j++ {
				var d2 float64
				for c := 0; c < d; c++ {
					e := float64(z.Data[i*d+c] - mu.Data[j*d+c])
					d2 += e * e
				}
				u[j] = math.Pow(1+d2/alpha, -(alpha+1)/2)
				s += u[j]
			}
			for j := 0; j < k; j++ {
				if got, want := float64(q.Data[i*k+j]), u[j]/s; math.Abs(got-want) > 1e-6 {
					t.Errorf("alpha %g q[%d,%d] = %g, want %g", alpha, i, j, got, want)
				}
			}
		}
	}
}

func randT(r *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	return x
}

// TestSoftAssignGradient checks the fused backward pass against central
// finite differences of L = Σ w_ij q_ij (random w), for z and mu, and
// through the KL loss as used in training.
func TestSoftAssignGradient(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	n, k, d := 5, 3, 4
	w := randT(r, n, k)
	p := tensor.New(n, k)
	for i := 0; i < n; i++ {
		var s float32
		for j := 0; j < k; j++ {
			p.Data[i*k+j] = r.Float32() + 0.1
			s += p.Data[i*k+j]
		}
		for j := 0; j < k; j++ {
			p.Data[i*k+j] /= s
		}
	}
	losses := map[string]func(tp *tensor.Tape, q *tensor.Tensor) *tensor.Tensor{
		"weighted": func(tp *tensor.Tape, q *tensor.Tensor) *tensor.Tensor { return tp.Sum(tp.Mul(q, w)) },
		"kl":       func(tp *tensor.Tape, q *tensor.Tensor) *tensor.Tensor { return tp.KLDiv(p, q) },
	}
	for name, lf := range losses {
		for _, alpha := range []float64{1, 2.5} {
			z, mu := randT(r, n, d), randT(r, k, d)
			z.SetRequiresGrad(true)
			mu.SetRequiresGrad(true)
			tp := tensor.NewTape()
			tp.Backward(lf(tp, SoftAssign(tp, z, mu, alpha)))
			f := func() float64 { return float64(lf(nil, SoftAssign(nil, z, mu, alpha)).Item()) }
			for _, x := range []*tensor.Tensor{z, mu} {
				g := x.Grad()
				for i := range x.Data {
					num := detectortest.CentralDifference(x.Data, i, 1e-2, f)
					if math.Abs(num-float64(g[i])) > 2e-3+2e-2*math.Abs(num) {
						t.Errorf("%s alpha %g: d/d%v[%d] analytic %g, numeric %g", name, alpha, x.Shape, i, g[i], num)
					}
				}
			}
		}
	}
}

// TestTargetDistributionHandWorked: q = [[.5 .5] [.9 .1]] gives f = (1.4,
// 0.6); row 0 weights .25/1.4 and .25/.6, i.e. p = (0.3, 0.7); row 1
// .81/1.4 and .01/.6, i.e. p = (0.97200, 0.02800).
func TestTargetDistributionHandWorked(t *testing.T) {
	p := TargetDistribution([]float32{.5, .5, .9, .1}, 2, 2)
	want := []float64{0.3, 0.7, 0.578571428 / (0.578571428 + 0.016666667), 0.016666667 / (0.578571428 + 0.016666667)}
	for i := range want {
		if math.Abs(float64(p[i])-want[i]) > 1e-5 {
			t.Fatalf("p = %v, want %v", p, want)
		}
	}
}

// TestTargetDistributionSharpens: rows sum to one and the largest entry of
// every row never shrinks when cluster sizes are equal.
func TestTargetDistributionSharpens(t *testing.T) {
	q := []float32{.6, .4, .4, .6, .7, .3, .3, .7}
	p := TargetDistribution(q, 4, 2)
	for i := 0; i < 4; i++ {
		if s := p[2*i] + p[2*i+1]; math.Abs(float64(s)-1) > 1e-6 {
			t.Errorf("row %d sums to %g", i, s)
		}
		if max(p[2*i], p[2*i+1]) <= max(q[2*i], q[2*i+1]) {
			t.Errorf("row %d not sharpened: q %v p %v", i, q[2*i:2*i+2], p[2*i:2*i+2])
		}
	}
}

// TestKMeansLossStep: one row at (2,0) nearest to centroid (0,0) with count
// 1 (first update: eta = 1/2) moves it to (1,0); loss = 4.
func TestKMeansLossStep(t *testing.T) {
	l := &KMeansLoss{InitialCount: 1}
	l.Refresh(nil, 1, 2)
	z := tensor.FromData([]float32{2, 0}, 1, 2)
	z.SetRequiresGrad(true)
	mu := tensor.FromData([]float32{0, 0, 10, 10}, 2, 2)
	tp := tensor.NewTape()
	loss := l.Batch(tp, z, mu, []int{0}, 1)
	if loss.Item() != 4 {
		t.Fatalf("loss %g, want 4", loss.Item())
	}
	tp.Backward(loss)
	if g := z.Grad(); g[0] != 4 || g[1] != 0 {
		t.Errorf("gradient %v, want [4 0]", g)
	}
	l.AfterStep(z, mu)
	if mu.Data[0] != 1 || mu.Data[1] != 0 || mu.Data[2] != 10 {
		t.Errorf("centroids %v, want [1 0 10 10]", mu.Data)
	}
}

func TestCombinations(t *testing.T) {
	if c, r := Gamma(0.1).Weights(99); c != 0.1 || r != 1 {
		t.Errorf("gamma: %g %g", c, r)
	}
	a := AlphaRamp{From: 0, To: 0.5, Steps: 10}
	for _, c := range []struct {
		step int
		want float64
	}{{0, 0}, {5, 0.25}, {10, 0.5}, {1000, 0.5}} {
		if w, r := a.Weights(c.step); math.Abs(w-c.want) > 1e-12 || math.Abs(r-(1-c.want)) > 1e-12 {
			t.Errorf("alpha ramp step %d: %g %g, want %g", c.step, w, r, c.want)
		}
	}
}
