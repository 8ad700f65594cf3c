package iforest

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/metrics"
)

// gaussian returns n rows of d N(0,1) features.
func gaussian(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	x := make([]float32, n*d)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

// c(n) worked by hand: c(3) = 2(ln 2 + g) - 4/3, c(256) = 2(ln 255 + g) - 510/256.
func TestAveragePathLength(t *testing.T) {
	g := 0.5772156649015329
	cases := []struct {
		n    int
		want float64
	}{
		{-1, 0}, {0, 0}, {1, 0}, {2, 1},
		{3, 2*(math.Log(2)+g) - 4.0/3},
		{10, 2*(math.Log(9)+g) - 18.0/10},
		{256, 2*(math.Log(255)+g) - 510.0/256},
	}
	for _, c := range cases {
		if got := AveragePathLength(c.n); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("c(%d) = %v, want %v", c.n, got, c.want)
		}
	}
	// Numbers: c(256) = 10.2447..., the normaliser of the paper's psi.
	if v := AveragePathLength(256); math.Abs(v-10.244770920116851) > 1e-9 {
		t.Errorf("c(256) = %v", v)
	}
}

func TestOutlierScoresHighest(t *testing.T) {
	n, d := 1000, 5
	x := gaussian(n, d, 1)
	// Row 17 far from the cloud.
	for j := 0; j < d; j++ {
		x[17*d+j] = 8
	}
	f, err := Fit(x, n, d, Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	s, err := f.Score(x, n)
	if err != nil {
		t.Fatal(err)
	}
	best := 0
	for i, v := range s {
		if !(v > 0 && v < 1) {
			t.Fatalf("score[%d] = %v outside (0,1)", i, v)
		}
		if v > s[best] {
			best = i
		}
	}
	if best != 17 {
		t.Errorf("highest score at row %d (%v), outlier row 17 has %v", best, s[best], s[17])
	}
	if s[17] < 0.6 {
		t.Errorf("outlier score %v, expected well above 0.5", s[17])
	}
	if f.NTrees() != 100 || f.MaxSamples() != 256 || f.HeightLimit() != 8 || f.Dim() != d {
		t.Errorf("forest shape: %d trees, psi %d, limit %d, dim %d", f.NTrees(), f.MaxSamples(), f.HeightLimit(), f.Dim())
	}
}

func TestDeterminism(t *testing.T) {
	n, d := 700, 4
	x := gaussian(n, d, 2)
	score := func(seed uint64, workers int) []float64 {
		f, err := Fit(x, n, d, Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1, Seed: seed, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		f.SetWorkers(workers)
		s, err := f.Score(x, n)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	a, b, c := score(5, 1), score(5, 4), score(6, 2)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different workers: row %d %v vs %v", i, a[i], b[i])
		}
	}
	diff := 0
	for i := range a {
		if a[i] != c[i] {
			diff++
		}
	}
	if diff < n/2 {
		t.Errorf("different seeds changed only %d of %d scores", diff, n)
	}
}

// The path lengths follow from the tree structure: walking the exported
// scoring path must agree with a naive recursive walk over the same nodes.
func TestScoreMatchesNaiveWalk(t *testing.T) {
	n, d := 300, 3
	x := gaussian(n, d, 9)
	f, err := Fit(x, n, d, Options{NTrees: 17, MaxSamples: 64, MaxFeatures: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, n)
	if err := f.MeanPathLength(got, x, n); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		row := x[i*d : (i+1)*d]
		var sum float64
		for _, root := range f.roots {
			k := int(root)
			for {
				nd := f.nodes[k]
				if int(nd.next) == k {
					break
				}
				if row[nd.feat] <= nd.thr {
					k = int(nd.next)
				} else {
					k = int(nd.next) + 1
				}
			}
			sum += f.vals[k]
		}
		want := sum / float64(len(f.roots))
		if math.Abs(got[i]-want) > 1e-12 {
			t.Fatalf("row %d: path %v, naive %v", i, got[i], want)
		}
	}
}

// Structure: every tree is a proper binary tree of at most 2*psi-1 nodes,
// its leaves' recorded sizes sum to psi, and no leaf is deeper than the limit.
func TestTreeStructure(t *testing.T) {
	n, d := 500, 6
	x := gaussian(n, d, 4)
	for _, psi := range []int{2, 3, 100, 256, 1000} {
		f, err := Fit(x, n, d, Options{NTrees: 10, MaxSamples: psi, MaxFeatures: 1, Seed: 8})
		if err != nil {
			t.Fatal(err)
		}
		want := min(psi, n)
		limit := int(math.Ceil(math.Log2(float64(max(want, 2)))))
		if f.MaxSamples() != want || f.HeightLimit() != limit {
			t.Errorf("psi %d: got psi %d limit %d, want %d %d", psi, f.MaxSamples(), f.HeightLimit(), want, limit)
		}
		if err := f.validate(); err != nil {
			t.Errorf("psi %d: %v", psi, err)
		}
		for tr := range f.roots {
			start := int(f.roots[tr])
			end := len(f.nodes)
			if tr+1 < len(f.roots) {
				end = int(f.roots[tr+1])
			}
			if end-start > 2*want-1 {
				t.Errorf("psi %d tree %d has %d nodes", psi, tr, end-start)
			}
		}
	}
}

func TestMaxFeatures(t *testing.T) {
	n, d := 400, 10
	x := gaussian(n, d, 5)
	f, err := Fit(x, n, d, Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 0.25, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	// Each tree may split on floor(0.25*10) = 2 features.
	for tr := range f.roots {
		start := int(f.roots[tr])
		end := len(f.nodes)
		if tr+1 < len(f.roots) {
			end = int(f.roots[tr+1])
		}
		used := map[uint32]bool{}
		for _, nd := range f.nodes[start:end] {
			if !math.IsInf(float64(nd.thr), 1) {
				used[nd.feat] = true
			}
		}
		if len(used) > 2 {
			t.Fatalf("tree %d splits on %d features", tr, len(used))
		}
	}
}

// Duplicated and constant data: constant features are never split, and
// all-identical rows give a root leaf of path c(psi), score exactly 0.5.
func TestConstantData(t *testing.T) {
	n, d := 50, 3
	x := make([]float32, n*d)
	for i := range x {
		x[i] = 1
	}
	f, err := Fit(x, n, d, Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := f.Score(x[:d], 1)
	if math.Abs(s[0]-0.5) > 1e-12 {
		t.Errorf("constant data score %v, want 0.5", s[0])
	}
	// One informative feature among constants.
	for i := 0; i < n; i++ {
		x[i*d+1] = float32(i)
	}
	f, _ = Fit(x, n, d, Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1, Seed: 1})
	for _, nd := range f.nodes {
		if !math.IsInf(float64(nd.thr), 1) && nd.feat != 1 {
			t.Fatalf("split on constant feature %d", nd.feat)
		}
	}
	// A single training row: score 0.5 as scikit-learn.
	f, err = Fit([]float32{1, 2}, 1, 2, Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1})
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := f.Score([]float32{5, 5}, 1); s[0] != 0.5 {
		t.Errorf("single-row forest score %v", s[0])
	}
}

func TestThreshold(t *testing.T) {
	for _, c := range []struct {
		lo, hi float32
		u      float64
	}{{0, 1, 0}, {0, 1, 0.999999999}, {1, math.Nextafter32(1, 2), 0.9999}, {-3, 5, 0.5}, {1e-30, 2e-30, 0.3}} {
		th := drawThreshold(c.lo, c.hi, c.u)
		if !(th >= c.lo && th < c.hi) {
			t.Errorf("threshold %v outside [%v, %v)", th, c.lo, c.hi)
		}
		exact := float64(c.lo) + c.u*(float64(c.hi)-float64(c.lo))
		if float64(th) > exact {
			t.Errorf("threshold %v above the exact draw %v", th, exact)
		}
	}
}

func TestBadInput(t *testing.T) {
	x := gaussian(10, 2, 1)
	if _, err := Fit(x, 10, 3, DefaultOptions()); !errors.Is(err, ErrInput) {
		t.Errorf("shape mismatch: %v", err)
	}
	if _, err := Fit(nil, 0, 2, DefaultOptions()); !errors.Is(err, ErrInput) {
		t.Errorf("empty: %v", err)
	}
	y := append([]float32(nil), x...)
	y[5] = float32(math.NaN())
	if _, err := Fit(y, 10, 2, DefaultOptions()); !errors.Is(err, ErrInput) {
		t.Errorf("NaN: %v", err)
	}
	bad := DefaultOptions()
	bad.NTrees = 0
	if _, err := Fit(x, 10, 2, bad); !errors.Is(err, ErrOption) {
		t.Errorf("options %+v: %v, want ErrOption", bad, err)
	}
	f, _ := Fit(x, 10, 2, DefaultOptions())
	if _, err := f.Score(x, 4); !errors.Is(err, ErrInput) {
		t.Errorf("score shape: %v", err)
	}
	y[5] = float32(math.Inf(1))
	if _, err := f.Score(y, 10); !errors.Is(err, ErrInput) {
		t.Errorf("score Inf: %v", err)
	}
	var empty Forest
	if _, err := empty.Score(x, 10); !errors.Is(err, ErrInput) {
		t.Errorf("unfitted: %v", err)
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	n, d := 300, 4
	x := gaussian(n, d, 3)
	f, err := Fit(x, n, d, Options{NTrees: 20, MaxSamples: 256, MaxFeatures: 1, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var g Forest
	if err := g.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	s1, _ := f.Score(x, n)
	s2, _ := g.Score(x, n)
	for i := range s1 {
		if s1[i] != s2[i] {
			t.Fatalf("row %d: %v after round trip, %v before", i, s2[i], s1[i])
		}
	}
	b2, _ := g.MarshalBinary()
	if !bytes.Equal(b, b2) {
		t.Error("re-marshalled bytes differ")
	}
	// Truncations and flipped bytes are rejected.
	for _, cut := range []int{0, 5, 20, len(b) / 2, len(b) - 1} {
		if err := g.UnmarshalBinary(b[:cut]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("truncated to %d: %v", cut, err)
		}
	}
	for _, pos := range []int{0, 9, 13, 60, len(b) / 2, len(b) - 2} {
		c := append([]byte(nil), b...)
		c[pos] ^= 0x40
		if err := g.UnmarshalBinary(c); !errors.Is(err, ErrCorrupt) {
			t.Errorf("flipped byte %d: %v", pos, err)
		}
	}
}

// Structural damage behind a valid checksum must still be caught.
func TestUnmarshalStructure(t *testing.T) {
	x := gaussian(100, 2, 3)
	f, _ := Fit(x, 100, 2, Options{NTrees: 3, MaxSamples: 16, MaxFeatures: 1, Seed: 1})
	corrupt := func(edit func(g *Forest)) error {
		g := *f
		g.nodes = append([]node(nil), f.nodes...)
		g.roots = append([]int32(nil), f.roots...)
		edit(&g)
		b, err := g.MarshalBinary()
		if err != nil {
			return err
		}
		var h Forest
		return h.UnmarshalBinary(b)
	}
	var internal int
	for i, nd := range f.nodes {
		if int(nd.next) != i {
			internal = i
			break
		}
	}
	edits := map[string]func(g *Forest){
		"feature out of range": func(g *Forest) { g.nodes[internal].feat = 7 },
		"child backwards":      func(g *Forest) { g.nodes[internal].next = int32(internal) - 1 },
		"child out of range":   func(g *Forest) { g.nodes[internal].next = int32(len(g.nodes)) },
		"NaN threshold":        func(g *Forest) { g.nodes[internal].thr = float32(math.NaN()) },
		"bad root":             func(g *Forest) { g.roots[1] = g.roots[2] + 1 },
	}
	for name, e := range edits {
		if err := corrupt(e); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// Quality floor: a 2-d Gaussian with 3% uniform outliers far out.
func TestQualityFloor(t *testing.T) {
	r := rand.New(rand.NewPCG(42, 1))
	n, d := 2000, 2
	x := make([]float32, n*d)
	y := make([]int, n)
	for i := 0; i < n; i++ {
		if i%33 == 0 {
			y[i] = 1
			ang := r.Float64() * 2 * math.Pi
			rad := 4 + 2*r.Float64()
			x[i*d], x[i*d+1] = float32(rad*math.Cos(ang)), float32(rad*math.Sin(ang))
		} else {
			x[i*d], x[i*d+1] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
	}
	f, err := Fit(x, n, d, Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := f.Score(x, n)
	auc, err := metrics.ROCAUC(s, y)
	if err != nil {
		t.Fatal(err)
	}
	if auc < 0.97 {
		t.Errorf("AUC %v on well-separated outliers, want >= 0.97", auc)
	}
}

func benchData(n, d int) []float32 { return gaussian(n, d, 77) }

func BenchmarkScore21(b *testing.B) { benchScore(b, 100000, 21) }

// BenchmarkScore241 is the width of the encoded mixed table of issue #22's
// speed target (scripts/tablebench): rows of 964 bytes.
func BenchmarkScore241(b *testing.B) { benchScore(b, 50000, 241) }

func benchScore(b *testing.B, n, d int) {
	x := benchData(n, d)
	f, err := Fit(x, n, d, Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]float64, n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := f.ScoreInto(dst, x, n); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkFit21(b *testing.B) {
	n, d := 100000, 21
	x := benchData(n, d)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := Fit(x, n, d, Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1, Seed: uint64(i)}); err != nil {
			b.Fatal(err)
		}
	}
}
