package hbos

import (
	"context"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

// brute scores from the definitions, with no code shared with the
// package: per feature, the range (±0.5 when constant), edges lo +
// i·((hi−lo)/nb), counts by scanning the edges, density count/width/n,
// and for each test value the term of its bin (the tol rule outside).
func brute(train []float32, n, d int, test []float32, m int, o Options) []float64 {
	nb := o.Bins
	out := make([]float64, m)
	for j := 0; j < d; j++ {
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := 0; i < n; i++ {
			lo, hi = math.Min(lo, float64(train[i*d+j])), math.Max(hi, float64(train[i*d+j]))
		}
		if lo == hi {
			lo, hi = lo-0.5, hi+0.5
		}
		step := (hi - lo) / float64(nb)
		e := make([]float64, nb+1)
		for i := range e {
			p := float64(i) * step
			e[i] = p + lo
		}
		e[nb] = hi
		which := func(v float64) int {
			for i := nb - 1; i > 0; i-- {
				if v >= e[i] {
					return i
				}
			}
			return 0
		}
		count := make([]float64, nb)
		for i := 0; i < n; i++ {
			count[which(float64(train[i*d+j]))]++
		}
		logd := make([]float64, nb)
		least := math.Inf(1)
		for i := range logd {
			logd[i] = math.Log2(count[i]/(e[i+1]-e[i])/float64(n) + o.Alpha)
			least = math.Min(least, logd[i])
		}
		for r := 0; r < m; r++ {
			v := float64(test[r*d+j])
			var t float64
			switch {
			case v < e[0] && e[0]-v <= o.Tol*(e[1]-e[0]):
				t = logd[0]
			case v >= e[nb] && v-e[nb] <= o.Tol*(e[nb]-e[nb-1]):
				t = logd[nb-1]
			case v < e[0] || v >= e[nb]:
				t = least
			default:
				t = logd[which(v)]
			}
			out[r] -= t
		}
	}
	return out
}

func table(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 11))
	x := make([]float32, n*d)
	for i := range x {
		switch (i % d) % 3 {
		case 0:
			x[i] = float32(r.NormFloat64())
		case 1:
			x[i] = float32(r.ExpFloat64() * 10)
		default:
			x[i] = float32(r.IntN(6))
		}
	}
	return x
}

func ds(x []float32, n, d int) *data.Dataset {
	return &data.Dataset{Name: "t", N: n, Shape: []int{d}, X: x}
}

func fitScore(t *testing.T, o Options, train []float32, n, d int, test []float32, m int) (*Detector, []float64) {
	t.Helper()
	det := New(o)
	if err := det.Fit(context.Background(), detector.TrainSet{X: ds(train, n, d)}); err != nil {
		t.Fatal(err)
	}
	s, err := det.Score(context.Background(), ds(test, m, d))
	if err != nil {
		t.Fatal(err)
	}
	return det, s
}

func TestScoresMatchDefinition(t *testing.T) {
	for _, o := range []Options{DefaultOptions(), {Bins: 1, Alpha: 0.5, Tol: 0.1}, {Bins: 37, Alpha: 0.01, Tol: 0.9}} {
		for _, n := range []int{1, 5, 2000} {
			d, m := 6, 300
			train, test := table(n, d, uint64(n)), table(m, d, 5)
			for i := range test[:120] {
				test[i] = test[i]*3 - 2 // beyond the range, near and far
			}
			det, got := fitScore(t, o, train, n, d, test, m)
			want := brute(train, n, d, test, m, o)
			for i := range want {
				if math.Abs(got[i]-want[i]) > 1e-12*max(1, math.Abs(want[i])) {
					t.Fatalf("%+v n=%d: score %d = %v, want %v", o, n, i, got[i], want[i])
				}
			}
			a, err := det.Explain(context.Background(), ds(test, m, d), nil)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < m; i++ {
				var sum float64
				for _, v := range a.Row(i) {
					sum += float64(v)
				}
				if a.Offset[i] != 0 || a.Technique != "exact" || math.Abs(sum-got[i]) > 1e-5*float64(d)*max(1, math.Abs(got[i])) {
					t.Fatalf("row %d: attributions sum to %v, score %v", i, sum, got[i])
				}
			}
		}
	}
}

// One feature by hand: training values 0, 1, 2, 3, 6, 7, 8, 9, 10, 10 in
// two bins [0, 5) and [5, 10] hold 4 and 6 values, densities 4/(5·10) =
// 0.08 and 0.12.
func TestHandComputed(t *testing.T) {
	train := []float32{0, 1, 2, 3, 6, 7, 8, 9, 10, 10}
	o := Options{Bins: 2, Alpha: 0.1, Tol: 0.5}
	test := []float32{1, 4.99, 5, 10, 12.5, 12.6, -2.5, -2.6}
	det, got := fitScore(t, o, train, 10, 1, test, 8)
	if e := det.h.Edges(0); !slices.Equal(e, []float64{0, 5, 10}) {
		t.Fatalf("edges %v", e)
	}
	if dn := det.h.Density(0); math.Abs(dn[0]-0.08) > 1e-15 || math.Abs(dn[1]-0.12) > 1e-15 {
		t.Fatalf("densities %v", dn)
	}
	lo, hi := -math.Log2(0.18), -math.Log2(0.22)
	// 12.5 and −2.5 lie half a bin outside (in the edge bins), 12.6 and
	// −2.6 further (the least dense bin: the first).
	want := []float64{lo, lo, hi, hi, hi, lo, lo, lo}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-12 {
			t.Errorf("score of %v = %v, want %v", test[i], got[i], want[i])
		}
	}
}

// Degenerate training data: a constant feature gets numpy's range of
// ±0.5 around its value, so a single row or identical rows fit, and a
// value away from the constant scores as the definition says.
func TestDegenerateTraining(t *testing.T) {
	for _, c := range []struct {
		x    []float32
		n, d int
	}{{[]float32{1, 7, 2, 7, 3, 7}, 3, 2}, {[]float32{4, 4, 4, 4}, 2, 2}, {[]float32{4, 4}, 1, 2}} {
		test := []float32{c.x[0], 7, c.x[0], 7.3, -3, 6, 4, 4.56}
		det, got := fitScore(t, DefaultOptions(), c.x, c.n, c.d, test, 4)
		if e := det.h.Edges(1); math.Abs(e[0]-(float64(c.x[1])-0.5)) > 1e-12 || math.Abs(e[10]-(float64(c.x[1])+0.5)) > 1e-12 {
			t.Errorf("%v: constant feature's edges %v", c.x, e)
		}
		want := brute(c.x, c.n, c.d, test, 4, DefaultOptions())
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-12 {
				t.Errorf("%v: score %d = %v, want %v", c.x, i, got[i], want[i])
			}
		}
	}
	// A constant too large for ±0.5 to widen its range at float64
	// precision is refused, not scored as infinite.
	det := New(DefaultOptions())
	err := det.Fit(context.Background(), detector.TrainSet{X: ds([]float32{1e30, 1e30}, 2, 1)})
	if !errors.Is(err, detector.ErrInput) {
		t.Errorf("constant 1e30: %v, want ErrInput", err)
	}
}

func TestUnmarshalChecks(t *testing.T) {
	train := table(50, 3, 1)
	det, _ := fitScore(t, DefaultOptions(), train, 50, 3, train[:3], 1)
	good, err := det.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	put := func(b []byte, i int, v float64) []byte {
		b = slices.Clone(b)
		copy(b[8*i:], floats([]float64{v}))
		return b
	}
	mutate := map[string]func(p *detector.Payload){
		"bad json": func(p *detector.Payload) { p.Config = []byte("[") },
		"huge shape": func(p *detector.Payload) {
			p.Config = []byte(`{"options":{"bins":10,"alpha":0.1,"tol":0.5},"shape":[1048576,1048576]}`)
		},
		"bins x shape": func(p *detector.Payload) {
			p.Config = []byte(`{"options":{"bins":1048576,"alpha":0.1,"tol":0.5},"shape":[100]}`)
		},
		"bad option": func(p *detector.Payload) {
			p.Config = []byte(`{"options":{"bins":10,"alpha":2,"tol":0.5},"shape":[3]}`)
		},
		"other bins": func(p *detector.Payload) {
			p.Config = []byte(`{"options":{"bins":11,"alpha":0.1,"tol":0.5},"shape":[3]}`)
		},
		"no edges":      func(p *detector.Payload) { delete(p.Blobs, "edges") },
		"short density": func(p *detector.Payload) { p.Blobs["density"] = p.Blobs["density"][:8] },
		"edges down":    func(p *detector.Payload) { p.Blobs["edges"] = put(p.Blobs["edges"], 3, -100) },
		"edges NaN":     func(p *detector.Payload) { p.Blobs["edges"] = put(p.Blobs["edges"], 0, math.NaN()) },
		"density < 0":   func(p *detector.Payload) { p.Blobs["density"] = put(p.Blobs["density"], 2, -1) },
		"density Inf":   func(p *detector.Payload) { p.Blobs["density"] = put(p.Blobs["density"], 2, math.Inf(1)) },
	}
	for name, f := range mutate {
		p := &detector.Payload{Config: slices.Clone(good.Config), Blobs: maps.Clone(good.Blobs)}
		f(p)
		if err := New(DefaultOptions()).Unmarshal(p); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("%s: %v, want ErrPayload", name, err)
		}
	}
}

func TestConformance(t *testing.T) {
	// No setting makes Fit slow (one pass over each column): the
	// cancellation check alone trains on SlowTrain, large enough that a
	// fit on one goroutine takes well over 200 ms, with garbage collected
	// early to bound its memory.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	detectortest.Conformance(t, detectortest.Case{
		Method:    Method,
		Settings:  map[string]string{"bins": "8"},
		Slow:      map[string]string{},
		Bad:       map[string]string{"bins": "0", "alpha": "1", "tol": "0"},
		Train:     detectortest.Gaussian(500, 16, 0, 0, 1),
		SlowTrain: detectortest.Gaussian(200000, 256, 0, 0, 1),
		Test:      detectortest.Gaussian(40, 16, 0.5, 0, 2),
	})
}

func TestRegistered(t *testing.T) {
	detectortest.Registered(t, Method, detector.Unsupervised|detector.Tables)
	o := DefaultOptions()
	detectortest.OptionValues(t, &o, map[string]string{"bins": "10", "alpha": "0.1", "tol": "0.5"})
}
