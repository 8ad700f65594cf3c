package iforest

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain/explaintest"
)

// handTree is one tree of ψ = 8 samples over 2 features:
//
//	node 0: x1 <= 0 ? node 1 : node 2
//	node 1: leaf, 1 sample, depth 1
//	node 2: x0 <= 0.5 ? node 3 : node 4
//	node 3: leaf, 3 samples, depth 2
//	node 4: leaf, 4 samples, depth 2
func handTree() *Forest {
	inf := float32(math.Inf(1))
	f := &Forest{dim: 2, psi: 8, limit: 3, workers: 1, roots: []int32{0}, depths: []uint8{2}}
	f.nodes = []node{
		{thr: 0, feat: 1, next: 1},
		{thr: inf, next: 1},
		{thr: 0.5, feat: 0, next: 3},
		{thr: inf, next: 3},
		{thr: inf, next: 4},
	}
	f.vals = []float64{0, 1, 0, 2 + AveragePathLength(3), 2 + AveragePathLength(4)}
	f.denom = AveragePathLength(8)
	return f
}

// The attributions of the hand-built tree, by hand: a row cut off at the
// root gains log₂(8/1) = 3 bits on feature 1, in a leaf of path length
// h = 1 + c(1) = 1; a row that goes right and then left gains log₂(8/7) on
// feature 1 and log₂(7/3) on feature 0, each divided by h = 2 + c(3).
func TestAttributionsByHand(t *testing.T) {
	f := handTree()
	x := []float32{
		5, -1, // root → node 1
		0, 1, // root → node 2 → node 3
		2, 1, // root → node 2 → node 4
	}
	got := make([]float32, 6)
	if err := f.Attributions(got, x, 3); err != nil {
		t.Fatal(err)
	}
	h3, h4 := 2+AveragePathLength(3), 2+AveragePathLength(4)
	want := []float64{
		0, 3,
		math.Log2(7.0/3) / h3, math.Log2(8.0/7) / h3,
		math.Log2(7.0/4) / h4, math.Log2(8.0/7) / h4,
	}
	for k, w := range want {
		if math.Abs(float64(got[k])-w) > 1e-6 {
			t.Errorf("row %d feature %d: %v, want %v", k/2, k%2, got[k], w)
		}
	}
}

// The node sizes recovered from the leaves' path lengths are the numbers
// of training rows that reach each leaf, counted by walking them, when
// every tree is grown on all the rows (ψ = n).
func TestNodeSizesMatchCounts(t *testing.T) {
	const n, d = 200, 3
	x := gaussian(n, d, 5)
	f, err := Fit(x, n, d, Options{NTrees: 20, MaxSamples: n, MaxFeatures: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	bits := f.nodeBits()
	count := make([]int, len(f.nodes))
	for i := 0; i < n; i++ {
		row := x[i*d : i*d+d]
		for _, root := range f.roots {
			id := root
			for {
				nd := f.nodes[id]
				if int(nd.next) == int(id) {
					break
				}
				id = nd.next + b2i(row[nd.feat] > nd.thr)
			}
			count[id]++
		}
	}
	for id, nd := range f.nodes {
		if int(nd.next) != id {
			continue
		}
		if want := math.Log2(float64(count[id])); math.Abs(float64(bits[id])-want) > 1e-5 {
			t.Fatalf("leaf %d: log₂ size %v, %d rows reach it", id, bits[id], count[id])
		}
	}
	for _, r := range f.roots {
		if math.Abs(float64(bits[r])-math.Log2(n)) > 1e-5 {
			t.Fatalf("root %d: log₂ size %v, want log₂ %d", r, bits[r], n)
		}
	}
}

// The attributions add up to the bits of isolation weighted by the
// trees' 1/h, (1/T) Σ_t log₂(ψ/n_t)/h_t, and the far feature of an outlier
// gets most of them.
func TestAttributionsSumAndOutlier(t *testing.T) {
	const n, d = 500, 4
	x := gaussian(n, d, 6)
	f, err := Fit(x, n, d, Options{NTrees: 50, MaxSamples: 128, MaxFeatures: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	probe := []float32{0, 0, 8, 0, 0.1, -0.2, 0.3, 0}
	got := make([]float32, 8)
	if err := f.Attributions(got, probe, 2); err != nil {
		t.Fatal(err)
	}
	bits := f.nodeBits()
	for i := 0; i < 2; i++ {
		row := probe[i*d : i*d+d]
		want := 0.0
		for _, root := range f.roots {
			id := root
			for int(f.nodes[id].next) != int(id) {
				id = f.nodes[id].next + b2i(row[f.nodes[id].feat] > f.nodes[id].thr)
			}
			want += float64(bits[root]-bits[id]) / f.vals[id]
		}
		want /= float64(len(f.roots))
		sum := 0.0
		for _, v := range got[i*d : i*d+d] {
			sum += float64(v)
		}
		if math.Abs(sum-want) > 1e-4*want {
			t.Errorf("row %d: attributions sum to %v, bits of isolation %v", i, sum, want)
		}
	}
	if a := got[:4]; a[2] < 2*max(a[0], a[1], a[3]) {
		t.Errorf("outlier in feature 2: attributions %v", a)
	}
}

func TestExplainPlantedFeatures(t *testing.T) {
	explaintest.PlantedFeatures(t, New(DefaultOptions()))
}

// A forest's attributions do not depend on the workers, and a saved and
// loaded model explains as the original.
func TestExplainWorkersAndLoad(t *testing.T) {
	x := &data.Dataset{N: 700, Shape: []int{5}, X: gaussian(700, 5, 2)}
	o := DefaultOptions()
	o.Workers = 1
	det := New(o)
	if err := det.Fit(context.Background(), detector.TrainSet{X: x}); err != nil {
		t.Fatal(err)
	}
	a, err := det.Explain(context.Background(), x, nil)
	if err != nil {
		t.Fatal(err)
	}
	det.forest.SetWorkers(3)
	b, _ := det.Explain(context.Background(), x, nil)
	p, _ := det.Marshal()
	loaded := New(DefaultOptions())
	if err := loaded.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	c, _ := loaded.Explain(context.Background(), x, nil)
	for k := range a.Values {
		if a.Values[k] != b.Values[k] || a.Values[k] != c.Values[k] {
			t.Fatalf("value %d: %v with 1 worker, %v with 3, %v loaded", k, a.Values[k], b.Values[k], c.Values[k])
		}
	}
	if a.Technique != "path" || a.Offset != nil {
		t.Errorf("technique %q offset %v", a.Technique, a.Offset)
	}
}

func TestExplainBadInput(t *testing.T) {
	ctx := context.Background()
	x := &data.Dataset{N: 2, Shape: []int{3}, X: gaussian(2, 3, 1)}
	if _, err := New(DefaultOptions()).Explain(ctx, x, nil); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("before Fit: %v", err)
	}
	det := New(DefaultOptions())
	if err := det.Fit(ctx, detector.TrainSet{X: &data.Dataset{N: 50, Shape: []int{3}, X: gaussian(50, 3, 2)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := det.Explain(ctx, &data.Dataset{N: 1, Shape: []int{4}, X: make([]float32, 4)}, nil); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("4 features for 3: %v", err)
	}
	if _, err := det.Explain(ctx, &data.Dataset{N: 1, Shape: []int{3}, X: []float32{0, float32(math.NaN()), 0}}, nil); !errors.Is(err, detector.ErrInput) {
		t.Errorf("NaN: %v", err)
	}
	if err := det.forest.Attributions(make([]float32, 5), x.X, 2); !errors.Is(err, ErrInput) {
		t.Errorf("short dst: %v", err)
	}
}

// BenchmarkExplain measures path-based attributions beside plain scoring
// on the same 100,000 rows of 20 features, through the Detector; the
// issue's target is explain at no less than a third of score's rows/s.
//
//	go test ./iforest/ -run '^$' -bench BenchmarkExplain -benchtime 20x
func BenchmarkExplain(b *testing.B) {
	const n, d = 100000, 20
	r := rand.New(rand.NewPCG(1, 2))
	x := &data.Dataset{Name: "b", N: n, Shape: []int{d}, X: make([]float32, n*d)}
	for i := range x.X {
		x.X[i] = float32(r.NormFloat64())
	}
	det := New(DefaultOptions())
	if err := det.Fit(context.Background(), detector.TrainSet{X: x}); err != nil {
		b.Fatal(err)
	}
	b.Run("score", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := det.Score(context.Background(), x); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("explain", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := det.Explain(context.Background(), x, nil); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}
