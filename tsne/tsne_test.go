package tsne

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// gaussianClusters draws n points in d dimensions from c isotropic Gaussians
// with unit noise whose centres are N(0, spread²) per coordinate; labels are
// the cluster index, assigned round-robin.
func gaussianClusters(n, d, c int, spread float64, seed uint64) ([]float32, []int) {
	rng := rand.New(rand.NewPCG(seed, 1))
	centres := make([]float64, c*d)
	for i := range centres {
		centres[i] = spread * rng.NormFloat64()
	}
	x := make([]float32, n*d)
	y := make([]int, n)
	for i := range n {
		y[i] = i % c
		for j := range d {
			x[i*d+j] = float32(centres[y[i]*d+j] + rng.NormFloat64())
		}
	}
	return x, y
}

// bruteKNN is the naive reference: all distances in float64, full sort.
func bruteKNN(x []float32, n, d, k int) ([]int32, []float64) {
	nbr := make([]int32, n*k)
	dist := make([]float64, n*k)
	type cand struct {
		d float64
		j int
	}
	for i := range n {
		var cs []cand
		for j := range n {
			if j == i {
				continue
			}
			var s float64
			for t := range d {
				e := float64(x[i*d+t]) - float64(x[j*d+t])
				s += e * e
			}
			cs = append(cs, cand{s, j})
		}
		sort.Slice(cs, func(a, b int) bool {
			if cs[a].d != cs[b].d {
				return cs[a].d < cs[b].d
			}
			return cs[a].j < cs[b].j
		})
		for m := range k {
			nbr[i*k+m] = int32(cs[m].j)
			dist[i*k+m] = cs[m].d
		}
	}
	return nbr, dist
}

func TestKNNMatchesBruteForce(t *testing.T) {
	// Small blocks make 700 points cross several row-block and column-tile
	// boundaries, partial ones included.
	defer func(r, c int) { knnRowBlock, knnColBlock = r, c }(knnRowBlock, knnColBlock)
	knnRowBlock, knnColBlock = 48, 160
	const n, d, k = 700, 23, 17
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(rng.NormFloat64() + 5) // an offset, as uncentred data has
	}
	for _, workers := range []int{1, 2} {
		nbr, dist, err := knn(context.Background(), x, n, d, k, workers)
		if err != nil {
			t.Fatal(err)
		}
		wn, wd := bruteKNN(x, n, d, k)
		for i := range n * k {
			if nbr[i] != wn[i] {
				t.Fatalf("workers %d: point %d neighbour %d: got %d, want %d", workers, i/k, i%k, nbr[i], wn[i])
			}
			if math.Abs(dist[i]-wd[i]) > 1e-9*wd[i] {
				t.Fatalf("workers %d: distance %d: got %v, want %v", workers, i, dist[i], wd[i])
			}
		}
	}
}

func TestPerplexityCalibration(t *testing.T) {
	const n, d = 400, 10
	x, _ := gaussianClusters(n, d, 4, 3, 7)
	for _, perp := range []float64{5, 30} {
		k := int(3*perp + 1)
		_, dist, err := knn(context.Background(), x, n, d, k, 2)
		if err != nil {
			t.Fatal(err)
		}
		p := conditionalP(dist, n, k, perp, 2)
		for i := range n {
			row := p[i*k : (i+1)*k]
			var sum, h float64
			for _, v := range row {
				sum += v
				if v > 0 {
					h -= v * math.Log(v)
				}
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Fatalf("perplexity %v: row %d sums to %v", perp, i, sum)
			}
			if math.Abs(h-math.Log(perp)) > 1e-4 {
				t.Fatalf("perplexity %v: row %d entropy %v, want log(perp) = %v", perp, i, h, math.Log(perp))
			}
			for m := 1; m < k; m++ {
				if row[m] > row[m-1]+1e-15 {
					t.Fatalf("row %d: p not decreasing with distance at %d", i, m)
				}
			}
		}
	}
}

func TestCalibrateFarApartData(t *testing.T) {
	// Squared distances near 1e8: a naive exp(-d·beta) underflows at beta=1.
	d := []float64{1e8, 1e8 + 1e4, 1e8 + 2e4, 1e8 + 5e4, 1e8 + 9e4, 1e8 + 2e5}
	p := make([]float64, len(d))
	calibrateRow(d, p, math.Log(3))
	var h float64
	for _, v := range p {
		if math.IsNaN(v) {
			t.Fatal("NaN probability")
		}
		if v > 0 {
			h -= v * math.Log(v)
		}
	}
	if math.Abs(h-math.Log(3)) > 1e-4 {
		t.Fatalf("entropy %v, want %v", h, math.Log(3))
	}
}

func TestSymmetrise(t *testing.T) {
	// Three points, one neighbour each: 0→1 (p=1), 1→0 (p=1), 2→1 (p=1).
	// C + Cᵀ: (0,1)=2, (1,0)=2, (1,2)=1, (2,1)=1; total 6.
	nbr := []int32{1, 0, 1}
	cond := []float64{1, 1, 1}
	P := symmetrise(nbr, cond, 3, 1)
	want := map[[2]int]float64{{0, 1}: 2.0 / 6, {1, 0}: 2.0 / 6, {1, 2}: 1.0 / 6, {2, 1}: 1.0 / 6}
	got := map[[2]int]float64{}
	for i := range 3 {
		for e := P.rowPtr[i]; e < P.rowPtr[i+1]; e++ {
			got[[2]int{i, int(P.col[e])}] = P.val[e]
		}
	}
	if len(got) != len(want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
	for key, w := range want {
		if math.Abs(got[key]-w) > 1e-15 {
			t.Fatalf("P%v = %v, want %v", key, got[key], w)
		}
	}
}

// exactGradient is the textbook O(N²) t-SNE gradient
// 4 Σ_j (exag·p_ij − q_ij) q_ij Z (y_i − y_j) and the exact KL divergence.
func exactGradient(P *csr, y []float64, exag float64) ([]float64, float64) {
	n := len(y) / 2
	dense := make([]float64, n*n)
	for i := range n {
		for e := P.rowPtr[i]; e < P.rowPtr[i+1]; e++ {
			dense[i*n+int(P.col[e])] = P.val[e] * exag
		}
	}
	w := make([]float64, n*n)
	var z float64
	for i := range n {
		for j := range n {
			if i != j {
				dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
				w[i*n+j] = 1 / (1 + dx*dx + dy*dy)
				z += w[i*n+j]
			}
		}
	}
	g := make([]float64, 2*n)
	var kl float64
	for i := range n {
		for j := range n {
			if i == j {
				continue
			}
			q := w[i*n+j] / z
			p := dense[i*n+j]
			f := 4 * (p - q) * w[i*n+j]
			g[2*i] += f * (y[2*i] - y[2*j])
			g[2*i+1] += f * (y[2*i+1] - y[2*j+1])
			if p > 0 {
				kl += p * math.Log(p/q)
			}
		}
	}
	return g, kl
}

// testProblem builds affinities for clustered data and a spread-out layout.
func testProblem(t *testing.T, n int) (*csr, []float64) {
	t.Helper()
	const d = 8
	x, _ := gaussianClusters(n, d, 3, 4, 11)
	k := 31
	nbr, dist, err := knn(context.Background(), x, n, d, k, 2)
	if err != nil {
		t.Fatal(err)
	}
	P := symmetrise(nbr, conditionalP(dist, n, k, 10, 2), n, k)
	rng := rand.New(rand.NewPCG(5, 6))
	y := make([]float64, 2*n)
	for i := range y {
		y[i] = 10 * rng.NormFloat64()
	}
	// A few exact duplicates exercise the duplicate-leaf path.
	y[2], y[3] = y[0], y[1]
	return P, y
}

func relErr(got, want []float64) float64 {
	var num, den float64
	for i := range got {
		num += (got[i] - want[i]) * (got[i] - want[i])
		den += want[i] * want[i]
	}
	return math.Sqrt(num / den)
}

func TestBarnesHutMatchesExactGradient(t *testing.T) {
	P, y := testProblem(t, 300)
	want, wantKL := exactGradient(P, y, 12)
	for _, tc := range []struct {
		theta, tol float64
	}{{1e-6, 1e-9}, {0.2, 0.002}, {0.5, 0.02}} {
		o := newOptimizer(P, slices.Clone(y), Options{Theta: tc.theta, Workers: 2})
		z := o.gradient(12)
		if e := relErr(o.grad, want); e > tc.tol {
			t.Errorf("theta %v: relative gradient error %.3g > %g", tc.theta, e, tc.tol)
		} else {
			t.Logf("theta %v: relative gradient error %.3g", tc.theta, e)
		}
		if kl := o.kl(12, z); math.Abs(kl-wantKL) > tc.tol*math.Abs(wantKL)+1e-9 {
			t.Errorf("theta %v: KL %v, exact %v", tc.theta, kl, wantKL)
		}
	}
}

// knnAccuracy is the leave-one-out accuracy of a 5-nearest-neighbour majority
// vote in the embedding.
func knnAccuracy(y []float64, labels []int) float64 {
	n := len(labels)
	correct := 0
	type cand struct {
		d float64
		j int
	}
	for i := range n {
		cs := make([]cand, 0, n-1)
		for j := range n {
			if j != i {
				dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
				cs = append(cs, cand{dx*dx + dy*dy, j})
			}
		}
		sort.Slice(cs, func(a, b int) bool { return cs[a].d < cs[b].d })
		votes := map[int]int{}
		best, bestV := -1, 0
		for _, c := range cs[:5] {
			l := labels[c.j]
			votes[l]++
			if votes[l] > bestV {
				best, bestV = l, votes[l]
			}
		}
		if best == labels[i] {
			correct++
		}
	}
	return float64(correct) / float64(n)
}

// separation is the ratio of the mean distance between cluster means to the
// mean distance of points to their own cluster mean.
func separation(y []float64, labels []int, c int) float64 {
	mx := make([]float64, c)
	my := make([]float64, c)
	cnt := make([]float64, c)
	for i, l := range labels {
		mx[l] += y[2*i]
		my[l] += y[2*i+1]
		cnt[l]++
	}
	for l := range c {
		mx[l] /= cnt[l]
		my[l] /= cnt[l]
	}
	var within float64
	for i, l := range labels {
		within += math.Hypot(y[2*i]-mx[l], y[2*i+1]-my[l])
	}
	within /= float64(len(labels))
	var between float64
	pairs := 0
	for a := range c {
		for b := a + 1; b < c; b++ {
			between += math.Hypot(mx[a]-mx[b], my[a]-my[b])
			pairs++
		}
	}
	return between / float64(pairs) / within
}

func TestEmbedSeparatesClusters(t *testing.T) {
	const n, d, c = 600, 50, 6
	x, labels := gaussianClusters(n, d, c, 1.5, 21)
	var reports []Progress
	res, err := Embed(context.Background(), x, n, d, Options{
		Seed: 1, Iterations: 500,
		OnProgress: func(p Progress) { reports = append(reports, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Y) != 2*n || res.N != n || res.Neighbors != 91 {
		t.Fatalf("result shape: len(Y)=%d N=%d k=%d", len(res.Y), res.N, res.Neighbors)
	}
	for _, v := range res.Y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatal("non-finite coordinate")
		}
	}
	acc := knnAccuracy(res.Y, labels)
	sep := separation(res.Y, labels, c)
	t.Logf("5-NN accuracy %.3f, separation ratio %.2f, KL %.3f, %d iterations", acc, sep, res.KL, res.Iterations)
	if acc < 0.95 {
		t.Errorf("5-NN accuracy in the embedding %.3f < 0.95", acc)
	}
	if sep < 3 {
		t.Errorf("between/within distance ratio %.2f < 3", sep)
	}
	if !(res.KL > 0) || res.KL > 3 {
		t.Errorf("final KL %v outside (0, 3]", res.KL)
	}
	// Progress: the affinities report, then one per 50 iterations.
	if len(reports) != 1+500/50 || reports[0].Stage != "affinities" || reports[len(reports)-1].Iter != 500 {
		t.Fatalf("progress reports %+v", reports)
	}
	if !reports[1].Exaggerated || reports[len(reports)-1].Exaggerated {
		t.Errorf("exaggeration flags wrong: %+v", reports)
	}
	// The KL after exaggeration should fall as the descent proceeds.
	last := reports[len(reports)-1].KL
	if first := reports[6].KL; !(last < first) {
		t.Errorf("KL did not decrease after exaggeration: %v at iteration %d, %v at the end", first, reports[6].Iter, last)
	}
}

func TestEmbedDeterministic(t *testing.T) {
	const n, d = 300, 12
	x, _ := gaussianClusters(n, d, 3, 3, 2)
	run := func(opt Options) []float64 {
		t.Helper()
		opt.Iterations = 150
		opt.ExaggerationIters = 100
		res, err := Embed(context.Background(), x, n, d, opt)
		if err != nil {
			t.Fatal(err)
		}
		return res.Y
	}
	for _, init := range []Init{InitPCA, InitRandom} {
		a := run(Options{Seed: 9, Workers: 1, Init: init})
		b := run(Options{Seed: 9, Workers: 2, Init: init})
		if !slices.Equal(a, b) {
			t.Errorf("init %s: same seed, 1 vs 2 workers: embeddings differ", init)
		}
		if c := run(Options{Seed: 9, Workers: 2, Init: init}); !slices.Equal(b, c) {
			t.Errorf("init %s: same seed twice: embeddings differ", init)
		}
	}
	if a, b := run(Options{Seed: 1, Init: InitRandom}), run(Options{Seed: 2, Init: InitRandom}); slices.Equal(a, b) {
		t.Error("different seeds gave the same random-init embedding")
	}
}

func TestEmbedWithPCAReduction(t *testing.T) {
	const n, d, c = 400, 120, 4
	x, labels := gaussianClusters(n, d, c, 1, 5)
	res, err := Embed(context.Background(), x, n, d, Options{Seed: 3, PCADims: 20, Iterations: 400})
	if err != nil {
		t.Fatal(err)
	}
	if acc := knnAccuracy(res.Y, labels); acc < 0.95 {
		t.Errorf("5-NN accuracy %.3f < 0.95 with PCA to 20 dimensions", acc)
	}
}

func TestPCAMatchesEigendecomposition(t *testing.T) {
	const n, d, k = 500, 30, 3
	rng := rand.New(rand.NewPCG(8, 8))
	// Anisotropic data: feature j has scale 1/(1+j) plus a correlated part.
	x := make([]float32, n*d)
	for i := range n {
		f := rng.NormFloat64()
		for j := range d {
			x[i*d+j] = float32(rng.NormFloat64()/float64(1+j) + f*float64(j%3))
		}
	}
	xc := centred(x, n, d)
	got, err := pcaScores(context.Background(), xc, n, d, k, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	cov := mat.NewSymDense(d, nil)
	for a := range d {
		for b := a; b < d; b++ {
			var s float64
			for i := range n {
				s += float64(xc[i*d+a]) * float64(xc[i*d+b])
			}
			cov.SetSym(a, b, s)
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		t.Fatal("eigendecomposition failed")
	}
	vals := eig.Values(nil) // ascending
	var vec mat.Dense
	eig.VectorsTo(&vec)
	for c := range k {
		col := d - 1 - c
		// Exact scores xc·v; compare up to sign.
		var dot, nw, ng float64
		for i := range n {
			var w float64
			for j := range d {
				w += float64(xc[i*d+j]) * vec.At(j, col)
			}
			g := float64(got[i*k+c])
			dot += w * g
			nw += w * w
			ng += g * g
		}
		if math.Abs(nw-vals[col]) > 1e-6*vals[col] {
			t.Fatalf("reference check: |xc·v|² = %v, eigenvalue %v", nw, vals[col])
		}
		if math.Abs(ng-vals[col]) > 1e-3*vals[col] {
			t.Errorf("component %d: score variance·n %v, eigenvalue %v", c, ng, vals[col])
		}
		if cos := math.Abs(dot) / math.Sqrt(nw*ng); cos < 0.9999 {
			t.Errorf("component %d: |cos| with exact scores %v", c, cos)
		}
	}
}

func TestEmbedBadInput(t *testing.T) {
	ctx := context.Background()
	good := make([]float32, 40*3)
	for i := range good {
		good[i] = float32(i % 7)
	}
	nan := slices.Clone(good)
	nan[17] = float32(math.NaN())
	inf := slices.Clone(good)
	inf[3] = float32(math.Inf(1))
	cases := []struct {
		name string
		x    []float32
		n, d int
		opt  Options
	}{
		{"short", good[:100], 40, 3, Options{}},
		{"one point", good[:3], 1, 3, Options{}},
		{"NaN", nan, 40, 3, Options{Perplexity: 5}},
		{"Inf", inf, 40, 3, Options{Perplexity: 5}},
		{"perplexity ≥ n", good, 40, 3, Options{Perplexity: 40}},
		{"negative perplexity", good, 40, 3, Options{Perplexity: -1}},
		{"theta > 1", good, 40, 3, Options{Perplexity: 5, Theta: 2}},
		{"unknown init", good, 40, 3, Options{Perplexity: 5, Init: "spectral"}},
		{"exaggeration < 1", good, 40, 3, Options{Perplexity: 5, EarlyExaggeration: 0.5}},
		{"negative iterations", good, 40, 3, Options{Perplexity: 5, Iterations: -1}},
	}
	for _, tc := range cases {
		_, err := Embed(ctx, tc.x, tc.n, tc.d, tc.opt)
		if !errors.Is(err, ErrBadInput) {
			t.Errorf("%s: error %v, want ErrBadInput", tc.name, err)
		}
	}
}

func TestEmbedCancelled(t *testing.T) {
	const n, d = 2000, 20
	x, _ := gaussianClusters(n, d, 4, 2, 1)
	ctx, cancel := context.WithCancel(context.Background())
	// The descent checks the context before every step, so no progress report
	// may follow the one that cancelled: counting reports, not seconds, keeps
	// the check independent of how busy the machine is.
	cancelledAt, after := 0, 0
	_, err := Embed(ctx, x, n, d, Options{OnProgress: func(p Progress) {
		if cancelledAt > 0 {
			after++
			return
		}
		if p.Iter >= 50 {
			cancelledAt = p.Iter
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if cancelledAt == 0 || after != 0 {
		t.Errorf("cancelled at iteration %d, then %d more progress reports", cancelledAt, after)
	}
	cancel()
	if _, err := Embed(ctx, x, n, d, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("pre-cancelled context: error %v", err)
	}
}

func TestDuplicatePointsStayFinite(t *testing.T) {
	// Identical rows give zero distances; the affinities and the tree must
	// cope without NaN.
	const n, d = 60, 4
	x := make([]float32, n*d)
	for i := range n {
		for j := range d {
			x[i*d+j] = float32((i % 3) * (j + 1))
		}
	}
	res, err := Embed(context.Background(), x, n, d, Options{Perplexity: 5, Iterations: 300, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range res.Y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatal("non-finite coordinate for duplicated input")
		}
	}
}

// BenchmarkEmbed10k784 embeds 10,000 points of 10 Gaussian clusters in 784
// dimensions with the default options (exact neighbours in 784-d).
//
//	go test -run '^$' -bench Embed10k -benchtime 1x ./tsne
func BenchmarkEmbed10k784(b *testing.B) { benchEmbed(b, 0) }

// BenchmarkEmbed10k784PCA50 is the same with the input reduced to 50
// principal components first.
func BenchmarkEmbed10k784PCA50(b *testing.B) { benchEmbed(b, 50) }

func benchEmbed(b *testing.B, pcaDims int) {
	const n, d, c = 10000, 784, 10
	x, labels := gaussianClusters(n, d, c, 0.25, 42)
	b.ResetTimer()
	for b.Loop() {
		res, err := Embed(context.Background(), x, n, d, Options{Seed: 1, PCADims: pcaDims})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.KL, "KL")
		b.ReportMetric(res.Timings.Neighbors.Seconds(), "knn-s")
		b.ReportMetric(res.Timings.Optimize.Seconds(), "optimise-s")
		b.ReportMetric(separation(res.Y, labels, c), "separation")
		b.Logf("timings %+v, %d iterations, KL %.4f", res.Timings, res.Iterations, res.KL)
	}
}
