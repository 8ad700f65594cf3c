package pca

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// lowRank builds n rows in 6-d lying exactly on the plane spanned by the
// orthonormal w1 = (1,1,0,0,0,0)/sqrt2 and w2 = (0,0,1,-1,1,-1)/2 through
// mu, with coordinates z1 = 3 sqrt2 cos(2 pi i/n), z2 = sqrt2 sin(2 pi i/n):
// uncorrelated, mean zero, sample variances 9n/(n-1) and n/(n-1).
var (
	w1 = []float64{1 / math.Sqrt2, 1 / math.Sqrt2, 0, 0, 0, 0}
	w2 = []float64{0, 0, 0.5, -0.5, 0.5, -0.5}
	mu = []float64{1, -2, 0.5, 3, 0, 1}
)

func lowRank(n int) []float32 {
	x := make([]float32, n*6)
	for i := 0; i < n; i++ {
		a := 2 * math.Pi * float64(i) / float64(n)
		z1, z2 := 3*math.Sqrt2*math.Cos(a), math.Sqrt2*math.Sin(a)
		for j := 0; j < 6; j++ {
			x[i*6+j] = float32(mu[j] + z1*w1[j] + z2*w2[j])
		}
	}
	return x
}

func TestLowRankHandBuilt(t *testing.T) {
	n := 400
	x := lowRank(n)
	for _, m := range []Solver{Covariance, SVD, Auto} {
		p, err := Fit(x, n, 6, Options{NComponents: 2, Solver: m})
		if err != nil {
			t.Fatal(err)
		}
		const tol = 1e-5 // the rows are stored as float32
		f := float64(n) / float64(n-1)
		if math.Abs(p.ExplainedVariance[0]-9*f) > tol*10 || math.Abs(p.ExplainedVariance[1]-f) > tol*10 {
			t.Errorf("solver %v: explained variance %v, want [%v %v]", m, p.ExplainedVariance, 9*f, f)
		}
		if math.Abs(p.TotalVariance-10*f) > tol*10 {
			t.Errorf("total variance %v, want %v", p.TotalVariance, 10*f)
		}
		if math.Abs(p.ExplainedVarianceRatio[0]-0.9) > tol || math.Abs(p.ExplainedVarianceRatio[1]-0.1) > tol {
			t.Errorf("ratios %v, want [0.9 0.1]", p.ExplainedVarianceRatio)
		}
		// Axes: w1 exactly (its largest entries tie; the first is positive);
		// w2 up to the sign rule: largest |entry| 0.5 first at index 2, positive.
		for j := 0; j < 6; j++ {
			if math.Abs(p.Components[j]-w1[j]) > tol || math.Abs(p.Components[6+j]-w2[j]) > tol {
				t.Fatalf("solver %v: components %v, want %v and %v", m, p.Components, w1, w2)
			}
			if math.Abs(p.Mean[j]-mu[j]) > tol {
				t.Fatalf("mean %v, want %v", p.Mean, mu)
			}
		}
		// Training rows are reconstructed exactly.
		e, err := p.ReconstructionError(x, n)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range e {
			if v > 1e-9 {
				t.Fatalf("row %d reconstruction error %v", i, v)
			}
		}
		// A point off the plane by e = 2 (1,-1,0,0,0,0)/sqrt2, orthogonal to
		// both axes: score (2, 0.5), error |e|^2 = 4.
		q := make([]float32, 6)
		for j := range q {
			ej := 0.0
			if j < 2 {
				ej = 2 / math.Sqrt2 * float64(1-2*j)
			}
			q[j] = float32(mu[j] + 2*w1[j] + 0.5*w2[j] + ej)
		}
		z, _ := p.Transform(q, 1)
		if math.Abs(z[0]-2) > tol || math.Abs(z[1]-0.5) > tol {
			t.Errorf("transform %v, want [2 0.5]", z)
		}
		eq, _ := p.ReconstructionError(q, 1)
		if math.Abs(eq[0]-4) > 1e-4 {
			t.Errorf("reconstruction error %v, want 4", eq[0])
		}
	}
}

func randomData(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 3))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64() * float64(1+i%d)) // unequal variances
	}
	return x
}

// On full-rank random data: orthonormal axes, decreasing variances equal to
// the sample variances of the scores, ratios summing to 1 when all axes are
// kept, an exact round trip, and both methods agreeing.
func TestProperties(t *testing.T) {
	n, d := 300, 7
	x := randomData(n, d, 1)
	pc, err := Fit(x, n, d, Options{NComponents: d, Solver: Covariance})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := Fit(x, n, d, Options{NComponents: d, Solver: SVD})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*PCA{pc, ps} {
		if p.NComponents != d {
			t.Fatalf("NComponents %d", p.NComponents)
		}
		var sum float64
		for c := 0; c < d; c++ {
			sum += p.ExplainedVarianceRatio[c]
			if c > 0 && p.ExplainedVariance[c] > p.ExplainedVariance[c-1] {
				t.Errorf("variances not decreasing: %v", p.ExplainedVariance)
			}
			for c2 := 0; c2 < d; c2++ {
				var dot float64
				for j := 0; j < d; j++ {
					dot += p.Components[c*d+j] * p.Components[c2*d+j]
				}
				want := 0.0
				if c == c2 {
					want = 1
				}
				if math.Abs(dot-want) > 1e-10 {
					t.Fatalf("axes %d.%d = %v", c, c2, dot)
				}
			}
		}
		if math.Abs(sum-1) > 1e-10 {
			t.Errorf("ratios sum to %v", sum)
		}
		z, _ := p.Transform(x, n)
		for c := 0; c < d; c++ {
			var s float64
			for i := 0; i < n; i++ {
				s += z[i*d+c] * z[i*d+c] // scores have mean 0
			}
			if v := s / float64(n-1); math.Abs(v-p.ExplainedVariance[c]) > 1e-8*v {
				t.Errorf("axis %d: score variance %v, explained %v", c, v, p.ExplainedVariance[c])
			}
		}
		back, _ := p.InverseTransform(z, n)
		for i := range back {
			if math.Abs(back[i]-float64(x[i])) > 1e-9 {
				t.Fatalf("round trip value %d: %v vs %v", i, back[i], x[i])
			}
		}
	}
	for i := range pc.Components {
		if math.Abs(pc.Components[i]-ps.Components[i]) > 1e-8 {
			t.Fatalf("covariance and SVD axes differ at %d: %v vs %v", i, pc.Components[i], ps.Components[i])
		}
	}
}

// Fewer rows than features: n centred rows span n-1 dimensions, so n-1
// axes reconstruct them exactly.
func TestWide(t *testing.T) {
	n, d := 6, 20
	x := randomData(n, d, 2)
	p, err := Fit(x, n, d, Options{NComponents: n - 1})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := p.ReconstructionError(x, n)
	for i, v := range e {
		if v > 1e-8 {
			t.Errorf("row %d error %v", i, v)
		}
	}
	var sum float64
	for _, r := range p.ExplainedVarianceRatio {
		sum += r
	}
	if math.Abs(sum-1) > 1e-10 {
		t.Errorf("ratios sum to %v", sum)
	}
}

func TestBadInput(t *testing.T) {
	x := randomData(10, 3, 1)
	cases := []struct {
		x    []float32
		n, d int
		o    Options
		want error
	}{
		{x, 10, 4, Options{}, ErrInput},
		{x[:3], 1, 3, Options{}, ErrInput},
		{x, 10, 3, Options{NComponents: 4}, ErrOption},
		{x, 10, 3, Options{NComponents: -1}, ErrOption},
		{x, 10, 3, Options{Solver: Solver(7)}, ErrOption},
		{x, 10, 3, Options{Solver: -1}, ErrOption},
		{x, 10, 3, Options{Workers: -1}, ErrOption},
		{x[:6], 2, 3, Options{}, nil},
		{x[:6], 2, 3, Options{NComponents: 3}, ErrOption},
		{[]float32{1, float32(math.NaN()), 2, 3}, 2, 2, Options{}, ErrInput},
	}
	for _, c := range cases {
		if _, err := Fit(c.x, c.n, c.d, c.o); !errors.Is(err, c.want) {
			t.Errorf("%+v: %v, want %v", c.o, err, c.want)
		}
	}
	p, _ := Fit(x, 10, 3, Options{NComponents: 2})
	if _, err := p.Transform(x, 9); !errors.Is(err, ErrInput) {
		t.Errorf("transform shape: %v", err)
	}
	if _, err := p.InverseTransform(make([]float64, 5), 2); !errors.Is(err, ErrInput) {
		t.Errorf("inverse shape: %v", err)
	}
	var empty PCA
	if _, err := empty.Transform(x, 10); !errors.Is(err, ErrInput) {
		t.Errorf("unfitted: %v", err)
	}
}

func BenchmarkFitMNISTShape(b *testing.B) {
	n, d := 10000, 784
	x := randomData(n, d, 1)
	for i := 0; i < b.N; i++ {
		if _, err := Fit(x, n, d, Options{NComponents: 50}); err != nil {
			b.Fatal(err)
		}
	}
}

// The covariance is accumulated over several row parts in parallel; the
// result must not depend on the number of workers.
func TestWorkersIndependent(t *testing.T) {
	n, d := 5000, 5
	x := randomData(n, d, 4)
	a, err := Fit(x, n, d, Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Fit(x, n, d, Options{Workers: 3})
	for i := range a.Components {
		if a.Components[i] != b.Components[i] {
			t.Fatalf("component value %d: %v with 1 worker, %v with 3", i, a.Components[i], b.Components[i])
		}
	}
	for i := range a.ExplainedVariance {
		if a.ExplainedVariance[i] != b.ExplainedVariance[i] {
			t.Fatalf("variance %d differs", i)
		}
	}
}
