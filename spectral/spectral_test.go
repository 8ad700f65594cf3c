package spectral

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/metrics"
)

// planted returns a symmetric n×n matrix U diag(vals) Uᵀ with a random
// orthonormal U (QR of a Gaussian matrix), and U.
func planted(n int, vals []float64, seed uint64) ([]float32, []float64) {
	r := rand.New(rand.NewPCG(seed, 1))
	u := make([]float64, n*n)
	for i := range u {
		u[i] = r.NormFloat64()
	}
	orthonormalize(u, n, n)
	a := make([]float32, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j <= i; j++ {
			var s float64
			for k, l := range vals {
				s += u[i*n+k] * l * u[j*n+k]
			}
			a[i*n+j], a[j*n+i] = float32(s), float32(s)
		}
	}
	return a, u
}

// TestTopEigenPlanted plants a spectrum with positive and negative
// eigenvalues and checks that both solvers find the largest in magnitude,
// in order, with the planted eigenvectors (up to sign).
func TestTopEigenPlanted(t *testing.T) {
	for _, n := range []int{120, 600} { // dense, then subspace iteration
		vals := make([]float64, n)
		for k := range vals {
			vals[k] = 2.5 * math.Pow(0.97, float64(k-12)) // a slowly decaying tail just below the 12 planted below
		}
		top := []float64{10, -9, 8, 7.5, -7, 6, 5, -4.5, 4, 3.5, 3, -2.8}
		copy(vals, top)
		a, u := planted(n, vals, uint64(n))
		r := len(top)
		e, err := TopEigen(context.Background(), a, n, r, EigenOptions{Seed: 3, Tol: 1e-5})
		if err != nil {
			t.Fatal(err)
		}
		if !e.Converged {
			t.Errorf("n=%d: not converged after %d iterations (residual %g)", n, e.Iterations, e.Residual)
		}
		if n == 120 && e.Iterations != 0 || n == 600 && e.Iterations == 0 {
			t.Errorf("n=%d: %d iterations: wrong solver", n, e.Iterations)
		}
		for j, want := range top {
			if math.Abs(e.Values[j]-want) > 1e-4*math.Abs(want) {
				t.Errorf("n=%d: eigenvalue %d = %g, want %g", n, j, e.Values[j], want)
			}
			var dot float64
			for i := 0; i < n; i++ {
				dot += e.Vectors[i*r+j] * u[i*n+j]
			}
			if math.Abs(math.Abs(dot)-1) > 1e-4 {
				t.Errorf("n=%d: eigenvector %d: |<v, u>| = %g, want 1", n, j, math.Abs(dot))
			}
		}
		t.Logf("n=%d: %d iterations, residual %.2g", n, e.Iterations, e.Residual)
	}
}

// TestTopEigenAlgebraic plants large negative eigenvalues that the
// magnitude order would pick first, and a slowly decaying positive tail:
// the algebraic solver must return the planted largest values and their
// vectors, on both paths (dense at n = 150, iterative at n = 800).
func TestTopEigenAlgebraic(t *testing.T) {
	for _, n := range []int{150, 800} {
		vals := make([]float64, n)
		for k := range vals {
			vals[k] = 0.9 * math.Pow(0.995, float64(k)) // tail below 0.9
		}
		top := []float64{3, 2.5, 2.5, 2, 1.5, 1.2, 1.1, 1}
		copy(vals, top)
		vals[n-1], vals[n-2], vals[n-3] = -20, -15, -4 // dominant in magnitude
		a, u := planted(n, vals, uint64(n)+5)
		r := len(top)
		e, err := TopEigen(context.Background(), a, n, r, EigenOptions{Algebraic: true, Seed: 1, Tol: 1e-6})
		if err != nil {
			t.Fatal(err)
		}
		if !e.Converged {
			t.Errorf("n=%d: not converged after %d iterations (residual %g)", n, e.Iterations, e.Residual)
		}
		for j, want := range top {
			if math.Abs(e.Values[j]-want) > 1e-4 {
				t.Errorf("n=%d: eigenvalue %d = %g, want %g", n, j, e.Values[j], want)
			}
		}
		// The repeated 2.5 has a two-dimensional eigenspace: check that the
		// found pair spans the planted one, and single vectors elsewhere.
		proj := func(j, k int) float64 {
			var dot float64
			for i := 0; i < n; i++ {
				dot += e.Vectors[i*r+j] * u[i*n+k]
			}
			return dot
		}
		for j := range top {
			var s float64
			for _, k := range []int{j} {
				s += proj(j, k) * proj(j, k)
			}
			if j == 1 || j == 2 {
				s = proj(j, 1)*proj(j, 1) + proj(j, 2)*proj(j, 2)
			}
			if math.Abs(s-1) > 1e-4 {
				t.Errorf("n=%d: eigenvector %d: squared projection on its planted space %g, want 1", n, j, s)
			}
		}
		t.Logf("n=%d: %d iterations, residual %.2g", n, e.Iterations, e.Residual)
	}
}

// TestTopEigenHandWorked: [[2,1],[1,2]] has eigenvalues 3 and 1 with
// eigenvectors (1,1)/√2 and (1,-1)/√2.
func TestTopEigenHandWorked(t *testing.T) {
	e, err := TopEigen(context.Background(), []float32{2, 1, 1, 2}, 2, 2, EigenOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(e.Values[0]-3) > 1e-12 || math.Abs(e.Values[1]-1) > 1e-12 {
		t.Errorf("values %v, want [3 1]", e.Values)
	}
	h := 1 / math.Sqrt2
	if math.Abs(math.Abs(e.Vectors[0])-h) > 1e-12 || math.Abs(e.Vectors[0]-e.Vectors[2]) > 1e-12 ||
		math.Abs(e.Vectors[1]+e.Vectors[3]) > 1e-12 {
		t.Errorf("vectors %v, want columns ±(1,1)/√2 and ±(1,-1)/√2", e.Vectors)
	}
}

// blocks returns an affinity of planted groups: within a group 0.5 to 1,
// between groups 0 to noise, and the true group of every point.
func blocks(sizes []int, noise float64, seed uint64) ([]float32, []int, int) {
	var truth []int
	for g, s := range sizes {
		for range s {
			truth = append(truth, g)
		}
	}
	n := len(truth)
	r := rand.New(rand.NewPCG(seed, 2))
	perm := r.Perm(n)
	y := make([]int, n)
	for i, p := range perm {
		y[i] = truth[p]
	}
	a := make([]float32, n*n)
	for i := 0; i < n; i++ {
		for j := 0; j < i; j++ {
			v := noise * r.Float64()
			if y[i] == y[j] {
				v = 0.5 + 0.5*r.Float64()
			}
			a[i*n+j], a[j*n+i] = float32(v), float32(v)
		}
	}
	return a, y, n
}

// TestClusterBlocks: planted groups are recovered exactly, on both solver
// paths; with no edges between the groups the top K eigenvalues of the
// normalised affinity are exactly 1 (one per connected component).
func TestClusterBlocks(t *testing.T) {
	for _, tc := range []struct {
		sizes []int
		noise float64
	}{
		{[]int{40, 60, 80}, 0},
		{[]int{40, 60, 80}, 0.3},
		{[]int{150, 120, 90, 110, 130}, 0.4}, // n = 600: subspace iteration
	} {
		a, y, n := blocks(tc.sizes, tc.noise, uint64(len(tc.sizes)))
		res, err := Cluster(context.Background(), a, n, Options{K: len(tc.sizes), Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		ari, _ := metrics.ARI(y, res.Labels)
		if ari != 1 {
			t.Errorf("sizes %v noise %g: ARI %g, want 1", tc.sizes, tc.noise, ari)
		}
		if tc.noise == 0 {
			for _, v := range res.Values {
				if math.Abs(v-1) > 1e-5 {
					t.Errorf("disconnected groups: eigenvalues %v, want all 1", res.Values)
					break
				}
			}
		}
		for i := 0; i < n; i++ {
			var s float64
			for _, v := range res.Embedding[i*len(tc.sizes) : (i+1)*len(tc.sizes)] {
				s += float64(v) * float64(v)
			}
			if math.Abs(s-1) > 1e-4 {
				t.Fatalf("row %d of the embedding has squared norm %g, want 1", i, s)
			}
		}
	}
}

// TestClusterEigenvaluesMatchDense: Cluster's eigenvalues of
// D^(-1/2) A D^(-1/2) (iterative path, n = 500) are those of gonum's dense
// solver.
func TestClusterEigenvaluesMatchDense(t *testing.T) {
	a, _, n := blocks([]int{150, 150, 200}, 0.6, 9)
	res, err := Cluster(context.Background(), a, n, Options{K: 3, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	deg := make([]float64, n)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			deg[i] += float64(a[i*n+j])
		}
	}
	s := mat.NewSymDense(n, nil)
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			s.SetSym(i, j, float64(a[i*n+j])/math.Sqrt(deg[i]*deg[j]))
		}
	}
	var es mat.EigenSym
	if !es.Factorize(s, false) {
		t.Fatal("dense solver failed")
	}
	vals := es.Values(nil) // ascending
	for j := 0; j < 3; j++ {
		want := vals[n-1-j]
		if math.Abs(res.Values[j]-want) > 1e-4 {
			t.Errorf("eigenvalue %d = %g, dense solver %g", j, res.Values[j], want)
		}
	}
}

// TestIsolatedPoint: a point with no edge gives a zero row, no NaN.
func TestIsolatedPoint(t *testing.T) {
	a, _, n := blocks([]int{10, 10}, 0, 4)
	for j := 0; j < n; j++ {
		a[0*n+j], a[j*n+0] = 0, 0
	}
	res, err := Cluster(context.Background(), a, n, Options{K: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Embedding {
		if math.IsNaN(float64(v)) {
			t.Fatal("NaN in the embedding")
		}
	}
}

// TestBadInput: every malformed matrix or setting is refused with an error
// wrapping ErrInput and detector.ErrInput.
func TestBadInput(t *testing.T) {
	ok := []float32{1, 0.5, 0.5, 1}
	ctx := context.Background()
	cases := map[string]func() error{
		"length":     func() error { _, err := Cluster(ctx, ok[:3], 2, Options{K: 1}); return err },
		"size":       func() error { _, err := TopEigen(ctx, nil, 0, 1, EigenOptions{}); return err },
		"asymmetric": func() error { _, err := Cluster(ctx, []float32{1, 0.5, 0.2, 1}, 2, Options{K: 1}); return err },
		"nan": func() error {
			_, err := Cluster(ctx, []float32{1, float32(math.NaN()), 0, 1}, 2, Options{K: 1})
			return err
		},
		"negative": func() error { _, err := Cluster(ctx, []float32{1, -0.5, -0.5, 1}, 2, Options{K: 1}); return err },
		"k":        func() error { _, err := Cluster(ctx, ok, 2, Options{K: 3}); return err },
		"k0":       func() error { _, err := Cluster(ctx, ok, 2, Options{K: 0}); return err },
		"r":        func() error { _, err := TopEigen(ctx, ok, 2, 3, EigenOptions{}); return err },
		"tol":      func() error { _, err := TopEigen(ctx, ok, 2, 1, EigenOptions{Tol: math.NaN()}); return err },
	}
	for name, f := range cases {
		err := f()
		if !errors.Is(err, ErrInput) || !errors.Is(err, detector.ErrInput) {
			t.Errorf("%s: error %v does not wrap ErrInput", name, err)
		}
	}
}

// TestDeterministic: the same seed gives the same labels.
func TestDeterministic(t *testing.T) {
	a, _, n := blocks([]int{200, 200, 200}, 0.9, 5)
	r1, err := Cluster(context.Background(), a, n, Options{K: 3, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := Cluster(context.Background(), a, n, Options{K: 3, Seed: 7})
	for i := range r1.Labels {
		if r1.Labels[i] != r2.Labels[i] || r1.Embedding[i] != r2.Embedding[i] {
			t.Fatal("same seed, different result")
		}
	}
}
