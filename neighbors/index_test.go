package neighbors

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// naive is the reference: every distance in float64 as a plain sum
// (not sqDist's accumulators), sorted by distance then index.
func naive(x []float32, n, d int, q []float32, k int, self int) ([]float64, []int32) {
	type pair struct {
		e float64
		j int
	}
	var ps []pair
	for j := range n {
		if j == self {
			continue
		}
		var e float64
		for l := range d {
			v := float64(q[l]) - float64(x[j*d+l])
			e += v * v
		}
		ps = append(ps, pair{e, j})
	}
	sort.Slice(ps, func(a, b int) bool {
		if ps[a].e != ps[b].e {
			return ps[a].e < ps[b].e
		}
		return ps[a].j < ps[b].j
	})
	dist, idx := make([]float64, k), make([]int32, k)
	for r := range k {
		dist[r], idx[r] = math.Sqrt(ps[r].e), int32(ps[r].j)
	}
	return dist, idx
}

// data returns n rows of d features: Gaussian with an offset (so the
// product suffers cancellation unless centred), rounded to a grid so that
// duplicate rows and tied distances occur, plus a few exact copies.
func data(n, d int, seed uint64, offset float64, grid float64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*d)
	for i := range x {
		v := r.NormFloat64()
		if grid > 0 {
			v = math.Round(v/grid) * grid
		}
		x[i] = float32(v + offset)
	}
	for i := 0; i+1 < n; i += 7 {
		copy(x[(i+1)*d:(i+2)*d], x[i*d:(i+1)*d])
	}
	return x
}

func TestSearchMatchesNaive(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		n, d, m, k   int
		offset, grid float64
	}{
		{300, 3, 50, 5, 0, 0},
		{300, 3, 50, 5, 0, 0.5},   // many ties
		{500, 7, 40, 20, 1000, 0}, // large offset: cancellation
		{1200, 40, 30, 7, 3, 0},
		{1100, 130, 20, 3, 0, 0.25},
		{40, 2, 40, 39, 0, 1},  // k = n − 1
		{500, 2, 60, 20, 0, 2}, // 9 distinct rows, each repeated ~50 times
	} {
		x := data(c.n, c.d, 1, c.offset, c.grid)
		q := data(c.m, c.d, 2, c.offset, c.grid)
		copy(q[:c.d], x[5*c.d:6*c.d]) // a query equal to a training row
		var first *Result
		for _, alg := range []Algorithm{Brute, KDTree} {
			ix, err := New(x, c.n, c.d, alg, 2)
			if err != nil {
				t.Fatal(err)
			}
			res, err := ix.Search(ctx, q, c.m, c.k)
			if err != nil {
				t.Fatal(err)
			}
			for i := range c.m {
				wd, wi := naive(x, c.n, c.d, q[i*c.d:(i+1)*c.d], c.k, -1)
				gd, gi := res.Dist[i*c.k:(i+1)*c.k], res.Index[i*c.k:(i+1)*c.k]
				if !slices.Equal(gi, wi) || !close(gd, wd) {
					t.Fatalf("%s n=%d d=%d query %d: got %v %v, want %v %v", alg, c.n, c.d, i, gi, gd, wi, wd)
				}
			}
			if res.Dist[0] != 0 {
				t.Errorf("%s: a training row as query is at distance %v from itself", alg, res.Dist[0])
			}
			dres, err := ix.Distances(ctx, q, c.m, c.k)
			if err != nil || dres.Index != nil || !slices.Equal(dres.Dist, res.Dist) {
				t.Errorf("%s n=%d d=%d: Distances differs from Search (%v)", alg, c.n, c.d, err)
			}
			if first == nil {
				first = res
			} else if !slices.Equal(first.Index, res.Index) || !slices.Equal(first.Dist, res.Dist) {
				t.Errorf("n=%d d=%d: brute and tree differ", c.n, c.d)
			}
			tr, err := ix.SearchTraining(ctx, c.k)
			if err != nil {
				t.Fatal(err)
			}
			dtr, err := ix.DistancesTraining(ctx, c.k)
			if err != nil || dtr.Index != nil || !slices.Equal(dtr.Dist, tr.Dist) {
				t.Errorf("%s n=%d d=%d: DistancesTraining differs from SearchTraining (%v)", alg, c.n, c.d, err)
			}
			for i := range c.n {
				wd, wi := naive(x, c.n, c.d, x[i*c.d:(i+1)*c.d], c.k, i)
				gd, gi := tr.Dist[i*c.k:(i+1)*c.k], tr.Index[i*c.k:(i+1)*c.k]
				if !slices.Equal(gi, wi) || !close(gd, wd) {
					t.Fatalf("%s training row %d: got %v %v, want %v %v", alg, i, gi, gd, wi, wd)
				}
			}
		}
	}
}

func close(a, b []float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12*(1+math.Abs(b[i])) {
			return false
		}
	}
	return true
}

// The blocked search is exact where a plain float32 distance is not:
// points 1e4 from the origin differing by 1e-3 lose their order in
// ‖a‖² + ‖b‖² − 2ab computed in float32 without centring.
func TestBruteCancellation(t *testing.T) {
	const n, d = 200, 4
	r := rand.New(rand.NewPCG(5, 5))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(1e4 + 1e-2*r.Float64())
	}
	ix, err := New(x, n, d, Brute, 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ix.SearchTraining(context.Background(), 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		_, wi := naive(x, n, d, x[i*d:(i+1)*d], 3, i)
		if gi := res.Index[i*3 : i*3+3]; !slices.Equal(gi, wi) {
			t.Fatalf("row %d: %v, want %v", i, gi, wi)
		}
	}
}

// Rows too large for the float32 product are searched exactly.
func TestHugeValues(t *testing.T) {
	x := []float32{1e30, 0, -1e30, 0, 1e30, 1, 5e29, 0}
	for _, alg := range []Algorithm{Brute, KDTree, Auto} {
		ix, err := New(x, 4, 2, alg, 1)
		if err != nil {
			t.Fatal(err)
		}
		res, err := ix.Search(context.Background(), []float32{1e30, 0.5}, 1, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(res.Index, []int32{0, 2}) || res.Dist[0] != 0.5 {
			t.Errorf("%s: %v %v, want rows 0 and 2 at 0.5", alg, res.Index, res.Dist)
		}
	}
	// Ordinary training rows, a query far beyond float32's squares.
	y := []float32{0, 0, 1, 0, 0, 2, 3, 3}
	ix, err := New(y, 4, 2, Brute, 1)
	if err != nil || ix.Algorithm() != Brute {
		t.Fatal(err, ix.Algorithm())
	}
	res, err := ix.Search(context.Background(), []float32{1e20, 0, 0, 1.9}, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	// The first query is equally far from every row in float64: ties go
	// to the lower rows.
	if !slices.Equal(res.Index, []int32{0, 1, 2, 0}) || math.Abs(res.Dist[2]-0.1) > 1e-6 {
		t.Errorf("far query: %v %v", res.Index, res.Dist)
	}
}

func TestArgs(t *testing.T) {
	x := data(10, 3, 1, 0, 0)
	ix, err := New(x, 10, 3, Auto, 0)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ix.Search(ctx, x[:6], 2, 11); !errors.Is(err, ErrArgs) {
		t.Errorf("k = 11 of 10 rows: %v", err)
	}
	if _, err := ix.SearchTraining(ctx, 10); !errors.Is(err, ErrArgs) {
		t.Errorf("k = 10 other rows of 10: %v", err)
	}
	if _, err := ix.Search(ctx, x[:5], 2, 1); !errors.Is(err, ErrArgs) {
		t.Errorf("5 values for 2 queries: %v", err)
	}
	if _, err := New(x, 10, 3, "ball", 0); !errors.Is(err, ErrArgs) {
		t.Errorf("unknown algorithm: %v", err)
	}
	if _, err := New(x, 9, 3, Auto, 0); !errors.Is(err, ErrArgs) {
		t.Errorf("wrong length: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	for _, alg := range []Algorithm{Brute, KDTree} {
		ix, _ := New(x, 10, 3, alg, 0)
		if _, err := ix.Search(cctx, x, 10, 2); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v", alg, err)
		}
	}
}

func TestSelectNth(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	for trial := range 200 {
		n := 1 + r.IntN(60)
		keys := make([]float32, n)
		for i := range keys {
			keys[i] = float32(r.IntN(1 + trial%10))
		}
		p := make([]int32, n)
		for i := range p {
			p[i] = int32(i)
		}
		k := r.IntN(n)
		selectNth(p, k, func(i int32) float64 { return float64(keys[i]) })
		sorted := slices.Clone(keys)
		slices.Sort(sorted)
		if keys[p[k]] != sorted[k] {
			t.Fatalf("rank %d: %v, want %v", k, keys[p[k]], sorted[k])
		}
		for i := range p {
			if (i < k && keys[p[i]] > keys[p[k]]) || (i > k && keys[p[i]] < keys[p[k]]) {
				t.Fatalf("not partitioned about %d", k)
			}
		}
	}
}
