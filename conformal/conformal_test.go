package conformal

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0xc0f0)) }

// Calibration scores 1, 2, 2, 2, 3, 5 (n = 6, given unsorted), p-values
// counted by hand: p(s) = (1 + #{c ≥ s}) / 7.
func TestPValueByHandWithTies(t *testing.T) {
	c, err := New([]float64{2, 5, 1, 2, 3, 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		s  float64
		ge int // calibration scores ≥ s
	}{
		{-10, 6}, {0.5, 6}, {1, 6}, {1.5, 5}, {2, 5}, // the three 2s count when s = 2
		{math.Nextafter(2, 3), 2}, {3, 2}, {4, 1}, {5, 1}, {5.5, 0}, {1e300, 0},
	} {
		want := float64(1+tc.ge) / 7
		got, err := c.PValue(tc.s)
		if err != nil || got != want {
			t.Errorf("PValue(%v) = %v, %v; want %v (%d of 6 scores ≥ s)", tc.s, got, err, want, tc.ge)
		}
	}
	ps, err := c.PValues([]float64{5, 2, 9})
	if err != nil || !slices.Equal(ps, []float64{2.0 / 7, 6.0 / 7, 1.0 / 7}) {
		t.Errorf("PValues = %v, %v", ps, err)
	}
	if c.Len() != 6 || !slices.Equal(c.Scores(), []float64{1, 2, 2, 2, 3, 5}) || c.MinPValue() != 1.0/7 {
		t.Errorf("Len %d, Scores %v, MinPValue %v", c.Len(), c.Scores(), c.MinPValue())
	}
}

// PValue agrees with a linear count on random scores, many of them tied.
func TestPValueMatchesLinearCount(t *testing.T) {
	r := newRand(1)
	cal := make([]float64, 300)
	for i := range cal {
		cal[i] = float64(r.IntN(40)) / 4
	}
	c, err := New(cal)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2000; i++ {
		s := float64(r.IntN(48)-4) / 4
		if i%2 == 1 {
			s += r.Float64() / 8
		}
		ge := 0
		for _, v := range cal {
			if v >= s {
				ge++
			}
		}
		if got, _ := c.PValue(s); got != float64(1+ge)/301 {
			t.Fatalf("PValue(%v) = %v, want %v", s, got, float64(1+ge)/301)
		}
	}
}

func TestBadInputsAreErrors(t *testing.T) {
	inf, nan := math.Inf(1), math.NaN()
	for _, s := range [][]float64{nil, {}, {1, nan}, {inf}, {0, math.Inf(-1)}} {
		if _, err := New(s); !errors.Is(err, ErrInput) {
			t.Errorf("New(%v) = %v, want ErrInput", s, err)
		}
		if _, err := FromSorted(s); !errors.Is(err, ErrInput) {
			t.Errorf("FromSorted(%v) = %v, want ErrInput", s, err)
		}
	}
	if _, err := FromSorted([]float64{1, 3, 2}); !errors.Is(err, ErrInput) {
		t.Errorf("FromSorted of unsorted scores: %v", err)
	}
	if c, err := FromSorted([]float64{1, 2, 2, 3}); err != nil || c.Len() != 4 {
		t.Errorf("FromSorted of sorted scores with a tie: %v", err)
	}
	c, _ := New([]float64{1, 2, 3})
	for _, s := range []float64{nan, inf, -inf} {
		if _, err := c.PValue(s); !errors.Is(err, ErrInput) {
			t.Errorf("PValue(%v) = %v, want ErrInput", s, err)
		}
		if _, err := c.PValues([]float64{1, s}); !errors.Is(err, ErrInput) {
			t.Errorf("PValues with %v: %v, want ErrInput", s, err)
		}
	}
	var zero Calibration
	if _, err := zero.PValue(1); !errors.Is(err, ErrInput) {
		t.Errorf("PValue on the zero Calibration: %v", err)
	}
	if _, err := zero.ScoreThreshold(0.5); !errors.Is(err, ErrInput) {
		t.Errorf("ScoreThreshold on the zero Calibration: %v", err)
	}
	for _, a := range []float64{0, 1, -0.1, 1.5, nan, inf} {
		if _, err := Flag(0.01, a); !errors.Is(err, ErrInput) {
			t.Errorf("Flag at alpha %v: %v", a, err)
		}
		if _, err := BenjaminiHochberg([]float64{0.01}, a); !errors.Is(err, ErrInput) {
			t.Errorf("BenjaminiHochberg at q %v: %v", a, err)
		}
		if _, err := c.ScoreThreshold(a); !errors.Is(err, ErrInput) {
			t.Errorf("ScoreThreshold(%v): %v", a, err)
		}
	}
	for _, p := range []float64{nan, -0.01, 1.01, inf} {
		if _, err := Flag(p, 0.05); !errors.Is(err, ErrInput) {
			t.Errorf("Flag(%v): %v", p, err)
		}
		if _, err := BenjaminiHochberg([]float64{0.01, p}, 0.1); !errors.Is(err, ErrInput) {
			t.Errorf("BenjaminiHochberg with p = %v: %v", p, err)
		}
	}
	// With n = 3 the smallest p-value is 1/4: alpha 0.2 can flag nothing.
	if _, err := c.ScoreThreshold(0.2); !errors.Is(err, ErrInput) {
		t.Errorf("ScoreThreshold below 1/(n+1): %v", err)
	}
}

func TestFlag(t *testing.T) {
	for _, tc := range []struct {
		p, a float64
		want bool
	}{{0.05, 0.05, true}, {0.0500001, 0.05, false}, {0, 0.05, true}, {1, 0.99, false}} {
		if got, err := Flag(tc.p, tc.a); err != nil || got != tc.want {
			t.Errorf("Flag(%v, %v) = %v, %v", tc.p, tc.a, got, err)
		}
	}
}

// ScoreThreshold gives exactly the scores PValue flags, at every
// calibration score, just either side of it, and in between.
func TestScoreThresholdMatchesPValue(t *testing.T) {
	r := newRand(2)
	for _, n := range []int{1, 6, 19, 20, 99, 1000} {
		cal := make([]float64, n)
		for i := range cal {
			cal[i] = math.Round(r.NormFloat64()*8) / 8 // ties
		}
		c, _ := New(cal)
		var probes []float64
		for _, v := range c.Scores() {
			probes = append(probes, v, math.Nextafter(v, math.Inf(-1)), math.Nextafter(v, math.Inf(1)), v+1.0/16)
		}
		for _, a := range []float64{0.001, 0.01, 0.05, 0.1, 1.0 / 7, 2.0 / 7, 0.5, 0.9, 0.999} {
			th, err := c.ScoreThreshold(a)
			if a < c.MinPValue() {
				if err == nil {
					t.Errorf("n=%d alpha %v below 1/(n+1) accepted", n, a)
				}
				continue
			}
			if err != nil {
				t.Fatalf("n=%d alpha %v: %v", n, a, err)
			}
			for _, s := range probes {
				p, _ := c.PValue(s)
				if (s > th) != (p <= a) {
					t.Fatalf("n=%d alpha %v score %v: above threshold %v is %v, p = %v", n, a, s, th, s > th, p)
				}
			}
		}
	}
}

// The step-up procedure on an example worked by hand. m = 10, q = 0.1: the
// bounds k·q/m are 0.01, 0.02, ..., 0.1.
//
//	k:      1     2     3     4     5     6     7     8     9     10
//	p_(k):  0.001 0.008 0.012 0.041 0.041 0.045 0.06  0.2   0.5   0.9
//	bound:  0.01  0.02  0.03  0.04  0.05  0.06  0.07  0.08  0.09  0.10
//	≤?      yes   yes   yes   no    yes   yes   yes   no    no    no
//
// The largest k with p_(k) ≤ k·q/m is 7, so the seven smallest are
// rejected (both tied 0.041s among them), although k = 4 fails its bound:
// a step-down procedure would stop at 3.
func TestBenjaminiHochbergByHand(t *testing.T) {
	p := []float64{0.9, 0.041, 0.001, 0.2, 0.06, 0.045, 0.5, 0.012, 0.041, 0.008}
	want := []bool{false, true, true, false, true, true, false, true, true, true}
	got, err := BenjaminiHochberg(p, 0.1)
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("BH = %v, %v; want %v", got, err, want)
	}
	// m = 4, bounds 0.025, 0.05, 0.075, 0.1: the smallest p-value fails its
	// own bound (0.03 > 0.025) but k = 3 passes (0.045 ≤ 0.075) and takes
	// it along.
	got, _ = BenjaminiHochberg([]float64{0.03, 0.04, 0.045, 0.9}, 0.1)
	if !slices.Equal(got, []bool{true, true, true, false}) {
		t.Errorf("step-up: %v", got)
	}
	// m = 3, bounds 0.033, 0.067, 0.1: only k = 1 passes.
	got, _ = BenjaminiHochberg([]float64{0.5, 0.03, 0.9}, 0.1)
	if !slices.Equal(got, []bool{false, true, false}) {
		t.Errorf("one rejection: %v", got)
	}
	// Nothing passes: none rejected.
	got, _ = BenjaminiHochberg([]float64{0.2, 0.2, 0.2}, 0.1)
	if slices.Contains(got, true) {
		t.Errorf("none should pass: %v", got)
	}
	// m = 4, q = 0.2, bounds 0.05, 0.1, 0.15, 0.2: tied p-values on the first
	// bound exactly; k = 3 is the largest, all three ties rejected.
	got, _ = BenjaminiHochberg([]float64{0.05, 0.05, 0.5, 0.05}, 0.2)
	if !slices.Equal(got, []bool{true, true, false, true}) {
		t.Errorf("tied p-values: %v", got)
	}
	// m = 4, q = 0.1: k = 2 fails (0.06 > 0.05), k = 3 passes (0.06 ≤
	// 0.075): both tied 0.06s go with the 0.04.
	got, _ = BenjaminiHochberg([]float64{0.06, 0.9, 0.04, 0.06}, 0.1)
	if !slices.Equal(got, []bool{true, false, true, true}) {
		t.Errorf("ties past a failed bound: %v", got)
	}
	if got, err := BenjaminiHochberg(nil, 0.1); err != nil || len(got) != 0 {
		t.Errorf("no p-values: %v, %v", got, err)
	}
}

// bruteBH is the procedure written another way: the number of rejections
// is the largest R with #{i : p_i ≤ R·q/m} ≥ R, and the rejected are the
// p_i ≤ R·q/m.
func bruteBH(p []float64, q float64) []bool {
	m := len(p)
	out := make([]bool, m)
	for r := m; r >= 1; r-- {
		bound := float64(r) * q / float64(m)
		n := 0
		for _, v := range p {
			if v <= bound {
				n++
			}
		}
		if n >= r {
			for i, v := range p {
				out[i] = v <= bound
			}
			return out
		}
	}
	return out
}

func TestBenjaminiHochbergMatchesBruteForce(t *testing.T) {
	r := newRand(3)
	for trial := 0; trial < 3000; trial++ {
		m := 1 + r.IntN(30)
		p := make([]float64, m)
		grid := 1 + r.IntN(50) // coarse grids make ties and exact hits of k·q/m
		for i := range p {
			switch r.IntN(3) {
			case 0:
				p[i] = float64(r.IntN(grid+1)) / float64(grid)
			case 1:
				p[i] = r.Float64() * 0.2
			default:
				p[i] = r.Float64()
			}
		}
		q := []float64{0.05, 0.1, 0.2, 0.5, r.Float64()*0.98 + 0.01}[r.IntN(5)]
		got, err := BenjaminiHochberg(p, q)
		if err != nil {
			t.Fatal(err)
		}
		if want := bruteBH(p, q); !slices.Equal(got, want) {
			t.Fatalf("p %v q %v: BH %v, brute force %v", p, q, got, want)
		}
	}
}

// normals returns n draws of N(0, 1).
func normals(r *rand.Rand, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = r.NormFloat64()
	}
	return out
}

// The guarantee, simulated: N(0, 1) scores, calibration sets of n = 1000,
// 20,000 fresh normal points in all (1,000 against each of 20 independent
// calibration sets, so the test measures the marginal rate rather than one
// calibration set's). At α = 0.05 the exact marginal rate is
// ⌊α(n+1)⌋/(n+1) = 50/1001; the realised rate must lie within 3.5 standard
// deviations of it, the variance counting both the binomial noise and the
// spread of each calibration set's own rate, Beta(50, 951).
func TestFalseAlarmRateSimulation(t *testing.T) {
	const (
		alpha = 0.05
		n     = 1000
		sets  = 20
		per   = 1000
	)
	r := newRand(4)
	alarms := 0
	for k := 0; k < sets; k++ {
		c, err := New(normals(r, n))
		if err != nil {
			t.Fatal(err)
		}
		ps, err := c.PValues(normals(r, per))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if f, _ := Flag(p, alpha); f {
				alarms++
			}
		}
	}
	rate := float64(alarms) / (sets * per)
	a, b := 50.0, 951.0 // the calibration-conditional rate is Beta(⌊α(n+1)⌋, n+1-⌊α(n+1)⌋)
	mean := a / (a + b)
	varF := a * b / ((a + b) * (a + b) * (a + b + 1))
	sd := math.Sqrt((mean*(1-mean)-varF)/(sets*per) + varF/sets) // E[F(1-F)] = mean(1-mean) - Var F
	if math.Abs(rate-mean) > 3.5*sd {
		t.Fatalf("false-alarm rate %.4f over %d normals, want %.4f ± %.4f (3.5 sd)", rate, sets*per, mean, 3.5*sd)
	}
	if rate > alpha+3.5*sd {
		t.Fatalf("false-alarm rate %.4f above alpha %.2f", rate, alpha)
	}
	t.Logf("false-alarm rate %.4f (marginal %.4f, sd %.4f)", rate, mean, sd)
}

// Benjamini-Hochberg on conformal p-values, simulated: 300 batches of 200
// points, 10% of them anomalies scoring N(3, 1), calibration n = 500. The
// mean false discovery proportion must not exceed q·m₀/m = 0.09 by more
// than 3.5 standard errors, and BH must find most anomalies.
func TestBenjaminiHochbergFDRSimulation(t *testing.T) {
	const (
		q      = 0.1
		n      = 500
		m      = 200
		m1     = 20
		trials = 300
	)
	r := newRand(5)
	var sum, sum2, power float64
	for trial := 0; trial < trials; trial++ {
		c, _ := New(normals(r, n))
		s := normals(r, m)
		for i := 0; i < m1; i++ {
			s[i] += 3
		}
		ps, err := c.PValues(s)
		if err != nil {
			t.Fatal(err)
		}
		rej, err := BenjaminiHochberg(ps, q)
		if err != nil {
			t.Fatal(err)
		}
		var fd, d, td float64
		for i, x := range rej {
			if x {
				d++
				if i >= m1 {
					fd++
				} else {
					td++
				}
			}
		}
		if d > 0 {
			sum += fd / d
			sum2 += (fd / d) * (fd / d)
		}
		power += td / m1
	}
	fdr := sum / trials
	se := math.Sqrt((sum2/trials - fdr*fdr) / trials)
	bound := q * float64(m-m1) / m
	if fdr > bound+3.5*se {
		t.Fatalf("FDR %.4f above q·m0/m = %.3f (se %.4f)", fdr, bound, se)
	}
	if power/trials < 0.3 {
		t.Fatalf("BH found %.2f of the anomalies", power/trials)
	}
	t.Logf("FDR %.4f (bound %.3f, se %.4f), power %.3f", fdr, bound, se, power/trials)
}
