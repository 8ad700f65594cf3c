package kmeans

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/metrics"
)

// blobs returns k well-separated Gaussian blobs (std 0.5, centres 20 apart
// along distinct axes), shuffled, with their true labels.
func blobs(k, per, d int, seed uint64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 1))
	n := k * per
	x := make([]float32, n*d)
	y := make([]int, n)
	perm := r.Perm(n)
	for i := 0; i < n; i++ {
		c := i / per
		row := perm[i]
		y[row] = c
		for j := 0; j < d; j++ {
			mu := 0.0
			if j == c%d {
				mu = 20 * float64(1+c/d)
			}
			x[row*d+j] = float32(mu + 0.5*r.NormFloat64())
		}
	}
	return x, y
}

func TestBlobsRecovered(t *testing.T) {
	k, per, d := 6, 80, 4
	x, y := blobs(k, per, d, 3)
	res, err := Fit(context.Background(), x, k*per, d, Options{K: k, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ari, _ := metrics.ARI(y, res.Labels); ari != 1 {
		t.Fatalf("blobs not recovered: ARI %v", ari)
	}
	// Each centroid is the mean of its blob.
	for c := 0; c < k; c++ {
		mean := make([]float64, d)
		cnt := 0
		for i, l := range res.Labels {
			if l == c {
				cnt++
				for j := 0; j < d; j++ {
					mean[j] += float64(x[i*d+j])
				}
			}
		}
		for j := range mean {
			if math.Abs(mean[j]/float64(cnt)-res.Centroids[c*d+j]) > 1e-9 {
				t.Fatalf("centroid %d[%d] = %v, blob mean %v", c, j, res.Centroids[c*d+j], mean[j]/float64(cnt))
			}
		}
	}
}

// naiveInertia recomputes the objective from labels and centroids.
func naiveInertia(x []float32, n, d int, cen []float64, labels []int) float64 {
	var s float64
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			t := float64(x[i*d+j]) - cen[labels[i]*d+j]
			s += t * t
		}
	}
	return s
}

func TestInertiaNeverIncreasesAndIsConsistent(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	n, d := 3000, 3
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.Float64())
	}
	res, err := Fit(context.Background(), x, n, d, Options{K: 12, NInit: 1, Seed: 2, Tol: 1e-300})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.History) < 5 {
		t.Fatalf("only %d iterations on unstructured data", len(res.History))
	}
	for i := 1; i < len(res.History); i++ {
		if res.History[i] > res.History[i-1]*(1+1e-12) {
			t.Fatalf("inertia rose at iteration %d: %v -> %v", i, res.History[i-1], res.History[i])
		}
	}
	if res.Inertia > res.History[len(res.History)-1]*(1+1e-12) {
		t.Errorf("final inertia %v above last iteration %v", res.Inertia, res.History[len(res.History)-1])
	}
	if got := naiveInertia(x, n, d, res.Centroids, res.Labels); math.Abs(got-res.Inertia) > 1e-9*got {
		t.Errorf("inertia %v, recomputed %v", res.Inertia, got)
	}
	// Labels are nearest centroids.
	for i := 0; i < n; i++ {
		for c := 0; c < res.K; c++ {
			if sqDist(x[i*d:i*d+d], res.Centroids[c*d:c*d+d]) < sqDist(x[i*d:i*d+d], res.Centroids[res.Labels[i]*d:res.Labels[i]*d+d]) {
				t.Fatalf("row %d labelled %d but nearer to %d", i, res.Labels[i], c)
			}
		}
	}
}

// A naive single-threaded Lloyd from the same initial centroids must end at
// the same centroids.
func TestAgainstNaiveLloyd(t *testing.T) {
	x, _ := blobs(4, 60, 3, 8)
	n, d, k := 240, 3, 4
	r := rand.New(rand.NewPCG(1, 1))
	for i := range x {
		x[i] += float32(3 * r.NormFloat64()) // blur the blobs so Lloyd has work
	}
	init := make([]float64, k*d)
	for c := 0; c < k; c++ {
		for j := 0; j < d; j++ {
			init[c*d+j] = float64(x[c*d+j])
		}
	}
	res, err := Fit(context.Background(), x, n, d, Options{K: k, Init: init, Tol: 1e-300, MaxIter: 500})
	if err != nil {
		t.Fatal(err)
	}
	if res.NIter < 3 {
		t.Fatalf("only %d iterations; the test needs a longer run", res.NIter)
	}
	cen := append([]float64(nil), init...)
	labels := make([]int, n)
	for it := 0; it < 500; it++ {
		changed := false
		for i := 0; i < n; i++ {
			best, bd := 0, math.Inf(1)
			for c := 0; c < k; c++ {
				var s float64
				for j := 0; j < d; j++ {
					t := float64(x[i*d+j]) - cen[c*d+j]
					s += t * t
				}
				if s < bd {
					best, bd = c, s
				}
			}
			if labels[i] != best || it == 0 {
				changed = changed || labels[i] != best
				labels[i] = best
			}
		}
		if !changed && it > 0 {
			break
		}
		sum := make([]float64, k*d)
		cnt := make([]float64, k)
		for i := 0; i < n; i++ {
			cnt[labels[i]]++
			for j := 0; j < d; j++ {
				sum[labels[i]*d+j] += float64(x[i*d+j])
			}
		}
		for c := 0; c < k; c++ {
			if cnt[c] == 0 {
				t.Fatal("naive reference hit an empty cluster; change the data")
			}
			for j := 0; j < d; j++ {
				cen[c*d+j] = sum[c*d+j] / cnt[c]
			}
		}
	}
	for i := range cen {
		if math.Abs(cen[i]-res.Centroids[i]) > 1e-9 {
			t.Fatalf("centroid value %d: %v, naive %v", i, res.Centroids[i], cen[i])
		}
	}
}

func TestDeterminism(t *testing.T) {
	x, _ := blobs(5, 300, 6, 4)
	n, d := 1500, 6
	for i := range x {
		x[i] *= 0.1 // overlapping blobs: several local optima
	}
	run := func(seed uint64, workers int) *Result {
		r, err := Fit(context.Background(), x, n, d, Options{K: 7, NInit: 3, Seed: seed, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a, b, c := run(9, 1), run(9, 4), run(10, 2)
	if a.Inertia != b.Inertia {
		t.Fatalf("same seed, different workers: inertia %v vs %v", a.Inertia, b.Inertia)
	}
	for i := range a.Centroids {
		if a.Centroids[i] != b.Centroids[i] {
			t.Fatalf("centroid %d differs across workers", i)
		}
	}
	same := a.Inertia == c.Inertia
	for i := range a.Centroids {
		same = same && a.Centroids[i] == c.Centroids[i]
	}
	if same {
		t.Error("different seeds gave identical clusterings")
	}
}

// k-means++ never picks a row already at distance 0 while others remain,
// so with K = number of distinct rows every row is a centroid: inertia 0.
func TestPlusPlusCoversDistinctPoints(t *testing.T) {
	x := []float32{0, 0, 1, 0, 0, 1, 5, 5, 9, 1, 3, 3, 3, 3.5}
	res, err := Fit(context.Background(), x, 7, 2, Options{K: 7, NInit: 2, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if res.Inertia != 0 {
		t.Errorf("inertia %v with K = n distinct points", res.Inertia)
	}
}

// A centroid placed far from every row loses all rows in the first
// assignment; it is moved to the farthest row and the run ends with no
// empty cluster.
func TestEmptyClusterRelocated(t *testing.T) {
	x, _ := blobs(2, 50, 2, 6)
	init := []float64{20, 0, 0, 20, 1000, 1000}
	res, err := Fit(context.Background(), x, 100, 2, Options{K: 3, Init: init})
	if err != nil {
		t.Fatal(err)
	}
	cnt := make([]int, 3)
	for _, l := range res.Labels {
		cnt[l]++
	}
	for c, m := range cnt {
		if m == 0 {
			t.Errorf("cluster %d empty; counts %v", c, cnt)
		}
	}
	for i := 1; i < len(res.History); i++ {
		if res.History[i] > res.History[i-1]*(1+1e-12) {
			t.Fatalf("inertia rose at iteration %d: %v", i, res.History)
		}
	}
}

func TestPredict(t *testing.T) {
	x, _ := blobs(3, 40, 3, 2)
	res, err := Fit(context.Background(), x, 120, 3, Options{K: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	labels, dist2, err := res.Predict(x, 120)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for i, l := range labels {
		if l != res.Labels[i] {
			t.Fatalf("predict row %d: %d, fit label %d", i, l, res.Labels[i])
		}
		s += dist2[i]
	}
	if math.Abs(s-res.Inertia) > 1e-9*s {
		t.Errorf("sum of predicted distances %v, inertia %v", s, res.Inertia)
	}
	if _, _, err := res.Predict(x[:5], 2); !errors.Is(err, ErrInput) {
		t.Errorf("wrong shape: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	x := []float32{0, 1, 2, 3}
	ctx := context.Background()
	cases := []struct {
		x    []float32
		n, d int
		o    Options
		want error
	}{
		{x, 2, 2, Options{K: 0}, ErrOption},
		{x, 2, 2, Options{K: 3}, ErrInput},
		{x, 2, 3, Options{K: 1}, ErrInput},
		{[]float32{0, float32(math.NaN())}, 1, 2, Options{K: 1}, ErrInput},
		{x, 2, 2, Options{K: 1, Tol: -1}, ErrOption},
		{x, 2, 2, Options{K: 1, Init: []float64{1}}, ErrOption},
		{x, 2, 2, Options{K: 1, Init: []float64{1, 2}, NInit: 3}, ErrOption},
		{x, 2, 2, Options{K: 1, Init: []float64{1, math.Inf(1)}}, ErrOption},
	}
	for _, c := range cases {
		if _, err := Fit(ctx, c.x, c.n, c.d, c.o); !errors.Is(err, c.want) {
			t.Errorf("%+v: err %v, want %v", c.o, err, c.want)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Fit(cctx, x, 2, 2, Options{K: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func BenchmarkFit70kx10(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	n, d := 70000, 10
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	for i := 0; i < b.N; i++ {
		r, err := Fit(context.Background(), x, n, d, Options{K: 10, NInit: 1, Seed: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(r.NIter), "iters")
	}
}
