package umap

import (
	"cmp"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/kmeans"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/neighbors"
)

// TestFitABMatchesReference checks the fitted curve against umap-learn
// 0.5.3's find_ab_params (scipy's curve_fit) for three settings, and that
// the fit is a least-squares minimum: moving a or b raises the cost.
func TestFitABMatchesReference(t *testing.T) {
	for _, c := range []struct{ spread, minDist, a, b float64 }{
		{1, 0.1, 1.5769434601962196, 0.8950608779914887},
		{1, 0, 1.9328083975546724, 0.7904949734010681},
		{2, 0.5, 0.25887874119038884, 1.057499699581397},
	} {
		a, b := fitAB(c.minDist, c.spread)
		if math.Abs(a-c.a) > 1e-4*c.a || math.Abs(b-c.b) > 1e-4*c.b {
			t.Errorf("spread %g, min dist %g: a, b = %.6f, %.6f; umap-learn %.6f, %.6f", c.spread, c.minDist, a, b, c.a, c.b)
		}
		xs, ys := make([]float64, curvePoints), make([]float64, curvePoints)
		for i := range xs {
			xs[i] = 3 * c.spread * float64(i) / float64(curvePoints-1)
			ys[i] = 1
			if xs[i] >= c.minDist {
				ys[i] = math.Exp(-(xs[i] - c.minDist) / c.spread)
			}
		}
		best := curveCost(xs, ys, a, b)
		for _, d := range [][2]float64{{1e-3, 0}, {-1e-3, 0}, {0, 1e-3}, {0, -1e-3}} {
			if c2 := curveCost(xs, ys, a*(1+d[0]), b*(1+d[1])); c2 <= best {
				t.Errorf("spread %g, min dist %g: moving (a, b) by %v lowers the cost %g to %g", c.spread, c.minDist, d, best, c2)
			}
		}
	}
}

func blobs(n, d, k int, sep float64, seed uint64) ([]float32, []int) {
	r := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float64, k*d)
	for i := range centres {
		centres[i] = sep * r.NormFloat64()
	}
	x := make([]float32, n*d)
	y := make([]int, n)
	for i := range n {
		y[i] = i % k
		for t := range d {
			x[i*d+t] = float32(centres[y[i]*d+t] + r.NormFloat64())
		}
	}
	return x, y
}

// TestMemberships checks the defining equation of the local fuzzy sets:
// each point's memberships sum to log₂(k+1), its nearest neighbour's is 1,
// and they fall with distance.
func TestMemberships(t *testing.T) {
	x, _ := blobs(300, 5, 3, 4, 1)
	ix, err := neighbors.New(x, 300, 5, neighbors.Auto, 1)
	if err != nil {
		t.Fatal(err)
	}
	const k = 14
	nb, err := ix.SearchTraining(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	m := memberships(nb, 300)
	for i := range 300 {
		w := m.w[i*k : (i+1)*k]
		var s float64
		for _, v := range w {
			s += v
		}
		if math.Abs(s-math.Log2(k+1)) > 1e-4 {
			t.Fatalf("point %d: memberships sum to %g, want log2(%d) = %g", i, s, k+1, math.Log2(k+1))
		}
		if w[0] != 1 {
			t.Fatalf("point %d: nearest neighbour's membership %g, want 1", i, w[0])
		}
		if !slices.IsSortedFunc(w, func(a, b float64) int { return -cmp.Compare(a, b) }) {
			t.Fatalf("point %d: memberships %v do not fall with distance", i, w)
		}
	}
}

// TestFuzzyUnion checks the union on a hand-made case: 0→1 (0.5) and 1→0
// (0.4) merge to 0.5 + 0.4 - 0.2 = 0.7; 0→2 (1) has no reverse and stays
// 1; 2→1 (0.25) likewise; every edge appears in both directions.
func TestFuzzyUnion(t *testing.T) {
	m := directed{k: 1, nbr: []int32{1, 0, 1}, w: []float64{0.5, 0.4, 0.25}}
	g := fuzzyUnion(m, 3)
	want := map[[2]int32]float64{{0, 1}: 0.7, {1, 0}: 0.7, {1, 2}: 0.25, {2, 1}: 0.25}
	if len(g.w) != len(want) {
		t.Fatalf("%d edges, want %d: %v %v %v", len(g.w), len(want), g.head, g.tail, g.w)
	}
	for e := range g.w {
		w, ok := want[[2]int32{g.head[e], g.tail[e]}]
		if !ok || math.Abs(g.w[e]-w) > 1e-12 {
			t.Errorf("edge %d→%d weight %g, want %g (present %v)", g.head[e], g.tail[e], g.w[e], w, ok)
		}
	}
	m = directed{k: 2, nbr: []int32{1, 2, 0, 2, 0, 1}, w: []float64{1, 0.3, 1, 0.6, 0.8, 1}}
	g = fuzzyUnion(m, 3)
	for e := range g.w {
		i, j := int(g.head[e]), int(g.tail[e])
		var wij, wji float64
		for s := range 2 {
			if int(m.nbr[i*2+s]) == j {
				wij = m.w[i*2+s]
			}
			if int(m.nbr[j*2+s]) == i {
				wji = m.w[j*2+s]
			}
		}
		if want := wij + wji - wij*wji; math.Abs(g.w[e]-want) > 1e-12 {
			t.Errorf("edge %d→%d weight %g, want %g", i, j, g.w[e], want)
		}
	}
	if !slices.IsSorted(g.head) {
		t.Errorf("edges not sorted by head: %v", g.head)
	}
}

// TestEmbedSeparatesClusters lays out well separated Gaussian blobs in 2
// and 5 dimensions; k-means on the layout must find the blobs exactly.
func TestEmbedSeparatesClusters(t *testing.T) {
	x, y := blobs(600, 20, 4, 3, 2)
	for _, dim := range []int{2, 5} {
		r, err := Embed(context.Background(), x, 600, 20, Options{Components: dim, MinDist: 0, Seed: 3})
		if err != nil {
			t.Fatal(err)
		}
		km, err := kmeans.Fit(context.Background(), r.Y, 600, dim, kmeans.Options{K: 4, NInit: 5, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		if acc, _ := metrics.ACC(y, km.Labels); acc != 1 {
			t.Errorf("%d-D layout: k-means ACC %g, want 1", dim, acc)
		}
		for _, v := range r.Y {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("%d-D layout holds %v", dim, v)
			}
		}
	}
}

// TestEmbedKeepsNeighbourhoods checks that points close in the input stay
// close: on a noisy circle in 10 dimensions laid out in 2, most of each
// point's 10 nearest neighbours in the layout are among its 20 nearest in
// the input (a random layout keeps about 20/400 = 5%).
func TestEmbedKeepsNeighbourhoods(t *testing.T) {
	const n, d = 400, 10
	r := rand.New(rand.NewPCG(9, 9))
	x := make([]float32, n*d)
	for i := range n {
		a := 2 * math.Pi * float64(i) / n
		x[i*d], x[i*d+1] = float32(10*math.Cos(a)), float32(10*math.Sin(a))
		for t := 2; t < d; t++ {
			x[i*d+t] = float32(0.1 * r.NormFloat64())
		}
	}
	res, err := Embed(context.Background(), x, n, d, Options{Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	in := knnSets(t, x, n, d, 20)
	out := knnSets(t, res.Y, n, 2, 10)
	kept := 0
	for i := range n {
		for _, j := range out[i] {
			if slices.Contains(in[i], j) {
				kept++
			}
		}
	}
	if frac := float64(kept) / float64(n*10); frac < 0.8 {
		t.Errorf("%.2f of the layout's 10 nearest neighbours are among the input's 20 nearest, want ≥ 0.8", frac)
	}
}

func knnSets(t *testing.T, x []float32, n, d, k int) [][]int32 {
	ix, err := neighbors.New(x, n, d, neighbors.Brute, 1)
	if err != nil {
		t.Fatal(err)
	}
	nb, err := ix.SearchTraining(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][]int32, n)
	for i := range n {
		out[i] = nb.Index[i*k : (i+1)*k]
	}
	return out
}

// TestEmbedDeterministic: the same seed gives the same layout bit for bit
// whatever the workers; another seed gives another.
func TestEmbedDeterministic(t *testing.T) {
	x, _ := blobs(200, 6, 3, 3, 5)
	a, err := Embed(context.Background(), x, 200, 6, Options{Seed: 7, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Embed(context.Background(), x, 200, 6, Options{Seed: 7, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Y, b.Y) {
		t.Error("the same seed gave two layouts")
	}
	c, err := Embed(context.Background(), x, 200, 6, Options{Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(a.Y, c.Y) {
		t.Error("seeds 7 and 8 gave the same layout")
	}
}

func TestEmbedBadInput(t *testing.T) {
	x, _ := blobs(50, 3, 2, 3, 1)
	nan := slices.Clone(x)
	nan[17] = float32(math.NaN())
	ctx := context.Background()
	for name, c := range map[string]struct {
		x    []float32
		n, d int
		o    Options
	}{
		"NaN":               {nan, 50, 3, Options{}},
		"short":             {x[:10], 50, 3, Options{}},
		"one point":         {x[:3], 1, 3, Options{}},
		"too many nbrs":     {x, 50, 3, Options{Neighbors: 51}},
		"one neighbour":     {x, 50, 3, Options{Neighbors: 1}},
		"negative min dist": {x, 50, 3, Options{MinDist: -1}},
		"min dist > spread": {x, 50, 3, Options{MinDist: 2, Spread: 1}},
		"negative epochs":   {x, 50, 3, Options{Epochs: -3}},
		"NaN learning rate": {x, 50, 3, Options{LearningRate: math.NaN()}},
	} {
		if _, err := Embed(ctx, c.x, c.n, c.d, c.o); !errors.Is(err, ErrInput) {
			t.Errorf("%s: error %v, want ErrInput", name, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Embed(cctx, x, 50, 3, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: error %v, want context.Canceled", err)
	}
}

// BenchmarkLayout times the layout of 10,000 points of 10 dimensions in 10
// (200 epochs would be umap-learn's above 10,000; 50 here).
func BenchmarkLayout(b *testing.B) {
	x, _ := blobs(10000, 10, 10, 3, 1)
	for b.Loop() {
		if _, err := Embed(context.Background(), x, 10000, 10, Options{Neighbors: 20, Components: 10, MinDist: 0, Epochs: 50, Seed: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEmbedDuplicates lays out points that are all copies of three: every
// neighbour sits at distance 0, which must still give a finite layout
// whose copies of one point stay together.
func TestEmbedDuplicates(t *testing.T) {
	const n = 90
	x := make([]float32, n*2)
	for i := range n {
		x[2*i], x[2*i+1] = float32(10*(i%3)), float32(-5*(i%3))
	}
	r, err := Embed(context.Background(), x, n, 2, Options{Neighbors: 10, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range r.Y {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("layout holds %v", v)
		}
	}
	km, err := kmeans.Fit(context.Background(), r.Y, n, 2, kmeans.Options{K: 3, NInit: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	truth := make([]int, n)
	for i := range truth {
		truth[i] = i % 3
	}
	if acc, _ := metrics.ACC(truth, km.Labels); acc != 1 {
		t.Errorf("copies of three points: k-means ACC %g on the layout, want 1", acc)
	}
}
