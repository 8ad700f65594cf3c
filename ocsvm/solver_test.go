package ocsvm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// clustered returns n rows of d values in [0, 1]: two Gaussian clusters
// and a few uniform points, so that the solution has free, bounded and
// zero α.
func clustered(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*d)
	for i := range n {
		c := 0.3 + 0.4*float64(i%2)
		for t := range d {
			v := c + 0.08*r.NormFloat64()
			if i%17 == 0 {
				v = r.Float64()
			}
			x[i*d+t] = float32(v)
		}
	}
	return x
}

// exactQ is the kernel matrix in float64, straight from the definition
// exp(−γ Σ (x_it − x_jt)²), independent of the solver's kernel code.
func exactQ(x []float32, l, d int, gamma float64) [][]float64 {
	q := make([][]float64, l)
	for i := range q {
		q[i] = make([]float64, l)
		for j := range q[i] {
			s := 0.0
			for t := range d {
				e := float64(x[i*d+t]) - float64(x[j*d+t])
				s += e * e
			}
			q[i][j] = math.Exp(-gamma * s)
		}
	}
	return q
}

// At the solution: α feasible (0 ≤ α ≤ 1, Σα = νl), the optimality gap
// max_{α>0} ∇ − min_{α<1} ∇ within the tolerance, with ∇ = Qα computed
// afresh in float64 (so this also bounds the drift of the solver's
// incremental gradient and the rounding of its float32 cache), every free
// α's gradient within the tolerance of ρ, and the objective ½αᵀQα.
func TestSolverKKT(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		l, d      int
		nu, eps   float64
		shrinking bool
		cache     int
		gamma     float64 // 0: "scale"; else uniform rows and this γ
	}{
		{300, 4, 0.5, 1e-3, true, 1000, 0},
		{300, 4, 0.5, 1e-3, false, 1000, 0},
		{301, 3, 0.5, 1e-3, true, 2, 0},
		{250, 7, 0.1, 1e-3, true, 40, 0},
		{250, 2, 0.9, 1e-3, true, 40, 0},
		{200, 5, 0.37, 1e-6, true, 1000, 0},
		{200, 5, 0.37, 1e-6, false, 3, 0},
		{120, 1, 0.5, 1e-4, true, 1000, 0},
		// Long enough for shrinking to move variables.
		{120, 3, 0.5, 1e-6, true, 1000, 10},
		{120, 3, 0.2, 1e-3, true, 5, 100},
	} {
		t.Run(fmt.Sprintf("l=%d,d=%d,nu=%g,eps=%g,shrink=%v,cache=%d,gamma=%g", c.l, c.d, c.nu, c.eps, c.shrinking, c.cache, c.gamma), func(t *testing.T) {
			x := clustered(c.l, c.d, uint64(c.l*c.d))
			gamma := resolveGamma(GammaScale, x, c.d)
			if c.gamma > 0 {
				x, gamma = randRows(c.l, c.d, 5), c.gamma
			}
			sol, err := solveOneClass(ctx, newKernel(x, c.l, c.d, gamma, 1), startAlpha(c.l, c.nu), c.eps, c.cache, c.shrinking, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !sol.converged {
				t.Fatalf("not converged after %d steps", sol.iter)
			}
			q := exactQ(x, c.l, c.d, gamma)
			sum := 0.0
			for i, a := range sol.alpha {
				if !(a >= 0 && a <= 1) {
					t.Fatalf("alpha %d = %v outside [0, 1]", i, a)
				}
				sum += a
			}
			nl := c.nu * float64(c.l)
			if math.Abs(sum-nl) > 1e-9*nl {
				t.Errorf("sum of alpha %v, want νl = %v", sum, nl)
			}
			// The float32 kernel values are within 2⁻²⁴ of the exact ones,
			// which moves each gradient by at most 2⁻²⁴·νl.
			slack := 6e-8*nl + 1e-12
			grad := make([]float64, c.l)
			obj := 0.0
			for i := range grad {
				for j, a := range sol.alpha {
					grad[i] += q[i][j] * a
				}
				obj += sol.alpha[i] * grad[i] / 2
				if math.Abs(grad[i]-sol.grad[i]) > slack+1e-12*float64(sol.iter) {
					t.Errorf("gradient %d: solver %v, exact %v", i, sol.grad[i], grad[i])
				}
			}
			upMin, lowMax := math.Inf(1), math.Inf(-1)
			free := 0
			for i, a := range sol.alpha {
				if a < 1 {
					upMin = math.Min(upMin, grad[i])
				}
				if a > 0 {
					lowMax = math.Max(lowMax, grad[i])
				}
				if a > 0 && a < 1 {
					free++
					if math.Abs(grad[i]-sol.rho) > c.eps+slack {
						t.Errorf("free alpha %d: gradient %v, rho %v", i, grad[i], sol.rho)
					}
				}
			}
			if gap := lowMax - upMin; gap > c.eps+2*slack {
				t.Errorf("optimality gap %g > tolerance %g", gap, c.eps)
			}
			if math.Abs(obj-sol.obj) > 1e-7*obj {
				t.Errorf("objective %v, exact %v", sol.obj, obj)
			}
			t.Logf("%d steps, %d exchanges, %d free, rho %.6g, objective %.8g", sol.iter, sol.swaps, free, sol.rho, sol.obj)
		})
	}
}

// A tighter tolerance reaches an objective no higher, and the loose
// solution's objective is within what its gap allows: by convexity, for a
// feasible α with gap g, f(α) − f* ≤ ∇f(α)ᵀ(α − α*) ≤ g·νl.
func TestSolverTighterIsBetter(t *testing.T) {
	ctx := context.Background()
	const l, d, nu = 250, 3, 0.5
	x := clustered(l, d, 11)
	gamma := resolveGamma(GammaScale, x, d)
	loose, err := solveOneClass(ctx, newKernel(x, l, d, gamma, 1), startAlpha(l, nu), 1e-2, 1000, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	tight, err := solveOneClass(ctx, newKernel(x, l, d, gamma, 1), startAlpha(l, nu), 1e-9, 1000, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tight.obj > loose.obj+1e-9 {
		t.Errorf("tight objective %v above loose %v", tight.obj, loose.obj)
	}
	if loose.obj-tight.obj > 1e-2*nu*l {
		t.Errorf("loose objective %v is %v above the optimum", loose.obj, loose.obj-tight.obj)
	}
}

// The cache only saves work: the solution is the same bit for bit whatever
// its size (two columns, which evicts at every step, to all of them) and
// whatever the number of goroutines computing columns. The tolerance is
// tight enough for shrinking to move variables (it starts after l steps),
// so this checks the cache's reordering of columns too.
func TestSolverCacheAndWorkersDoNotChangeResult(t *testing.T) {
	ctx := context.Background()
	const l, d, gamma = 120, 3, 10
	x := randRows(l, d, 5)
	defer func(w int) { parallelWork = w }(parallelWork)
	parallelWork = 64 // split every column among the workers
	var want *solution
	for _, c := range []struct{ cache, workers int }{{1000, 1}, {2, 1}, {3, 2}, {37, 1}, {150, 3}} {
		sol, err := solveOneClass(ctx, newKernel(x, l, d, gamma, c.workers), startAlpha(l, 0.5), 1e-9, c.cache, true, nil)
		if err != nil {
			t.Fatal(err)
		}
		if sol.swaps == 0 {
			t.Fatalf("shrinking moved nothing in %d steps", sol.iter)
		}
		if want == nil {
			want = sol
			t.Logf("%d steps, %d exchanges", sol.iter, sol.swaps)
			continue
		}
		if sol.iter != want.iter || !slices.Equal(sol.alpha, want.alpha) || sol.rho != want.rho {
			t.Errorf("cache %d, workers %d: %d steps, rho %v; with the full cache %d steps, rho %v", c.cache, c.workers, sol.iter, sol.rho, want.iter, want.rho)
		}
	}
}

// The kernel is symmetric bit for bit and K(x, x) = 1 exactly, for every
// row length (the four-row and one-row dot products sum in the same
// order), which the starting gradient's reuse of columns relies on.
func TestKernelSymmetric(t *testing.T) {
	for d := 1; d <= 9; d++ {
		const l = 23
		x := clustered(l, d, uint64(d))
		k := newKernel(x, l, d, 3.7, 1)
		cols := make([][]float32, l)
		for i := range cols {
			cols[i] = make([]float32, l)
			// In two pieces, so that rows are computed at both offsets of
			// the four-row blocks.
			k.column(i, cols[i], 0, i%5)
			k.column(i, cols[i], i%5, l)
		}
		for i := range l {
			if cols[i][i] != 1 {
				t.Errorf("d=%d: K(x%d, x%d) = %v", d, i, i, cols[i][i])
			}
			for j := range l {
				if cols[i][j] != cols[j][i] {
					t.Errorf("d=%d: K(%d,%d) = %v, K(%d,%d) = %v", d, i, j, cols[i][j], j, i, cols[j][i])
				}
				exact := 0.0
				for t := range d {
					e := float64(x[i*d+t]) - float64(x[j*d+t])
					exact += e * e
				}
				if e := math.Exp(-3.7 * exact); math.Abs(float64(cols[i][j])-e) > 1e-6*e+1e-12 {
					t.Errorf("d=%d: K(%d,%d) = %v, exact %v", d, i, j, cols[i][j], e)
				}
			}
		}
	}
}

// startAlpha is libsvm's start: ⌊νl⌋ ones, the remainder, zeros.
func TestStartAlpha(t *testing.T) {
	for _, c := range []struct {
		l    int
		nu   float64
		want []float64
	}{
		{4, 0.5, []float64{1, 1, 0, 0}},
		{5, 0.5, []float64{1, 1, 0.5, 0, 0}},
		{1, 0.5, []float64{0.5}},
		{3, 1, []float64{1, 1, 1}},
		{4, 0.1, []float64{0.4, 0, 0, 0}},
	} {
		if got := startAlpha(c.l, c.nu); !slices.Equal(got, c.want) {
			t.Errorf("startAlpha(%d, %v) = %v, want %v", c.l, c.nu, got, c.want)
		}
	}
}

// variance against the textbook formula on values whose mean is far from
// 0 (where a one-pass formula loses digits).
func TestVariance(t *testing.T) {
	x := make([]float32, 10001)
	for i := range x {
		x[i] = float32(1000 + i%7)
	}
	mean := 0.0
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	want := 0.0
	for _, v := range x {
		want += (float64(v) - mean) * (float64(v) - mean)
	}
	want /= float64(len(x))
	if got := variance(x); math.Abs(got-want) > 1e-12*want {
		t.Errorf("variance %v, want %v", got, want)
	}
	if v := variance([]float32{3, 3, 3}); v != 0 {
		t.Errorf("variance of a constant %v", v)
	}
}
