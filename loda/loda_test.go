package loda

import (
	"context"
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

func ds(x []float32, n, d int) *data.Dataset {
	return &data.Dataset{Name: "t", N: n, Shape: []int{d}, X: x}
}

func table(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 5))
	x := make([]float32, n*d)
	for i := range x {
		if i%d%2 == 0 {
			x[i] = float32(r.NormFloat64())
		} else {
			x[i] = float32(r.IntN(4))
		}
	}
	return x
}

// brute scores from the definitions, given the drawn projections: it
// projects the training rows on each (dense dot products), builds the
// histogram from scratch (edges lo + i·((hi−lo)/k), counts by scanning
// the edges, probability (count + 1e-12)/(n + k·1e-12), density
// probability/width), and averages −log density of each test row's bin
// (edge bins outside the range).
func brute(e *Ensemble, train []float32, n, d int, test []float32, m int) []float64 {
	out := make([]float64, m)
	for t := range e.K() {
		feat, w := e.Projection(t)
		dense := make([]float64, d)
		for i, f := range feat {
			dense[f] = float64(w[i])
		}
		proj := func(row []float32) float64 {
			var s float64
			for j, v := range row {
				s += dense[j] * float64(v)
			}
			return s
		}
		z := make([]float64, n)
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := range z {
			z[i] = proj(train[i*d : (i+1)*d])
			lo, hi = math.Min(lo, z[i]), math.Max(hi, z[i])
		}
		if lo == hi {
			lo, hi = lo-0.5, hi+0.5
		}
		k := e.bins
		edges := make([]float64, k+1)
		step := (hi - lo) / float64(k)
		for i := range edges {
			p := float64(i) * step
			edges[i] = p + lo
		}
		edges[k] = hi
		which := func(v float64) int {
			for i := k - 1; i > 0; i-- {
				if v >= edges[i] {
					return i
				}
			}
			return 0
		}
		count := make([]float64, k)
		for _, v := range z {
			count[which(v)]++
		}
		for r := 0; r < m; r++ {
			c := which(proj(test[r*d : (r+1)*d]))
			p := (count[c] + 1e-12) / (float64(n) + float64(k)*1e-12)
			out[r] -= math.Log(p/(edges[c+1]-edges[c])) / float64(e.K())
		}
	}
	return out
}

func fit(t *testing.T, o Options, train []float32, n, d int) *Detector {
	t.Helper()
	det := New(o)
	if err := det.Fit(context.Background(), detector.TrainSet{X: ds(train, n, d)}); err != nil {
		t.Fatal(err)
	}
	return det
}

func TestScoresMatchDefinition(t *testing.T) {
	for _, c := range []struct {
		n, d int
		o    Options
	}{{500, 9, DefaultOptions()}, {40, 1, Options{Projections: 7, Bins: 3, Seed: 2}}, {300, 30, Options{Projections: 50, Bins: 25, Seed: 9}}} {
		train, test := table(c.n, c.d, 1), table(200, c.d, 2)
		for i := range test[:c.d*40] {
			test[i] *= 4 // outside the training ranges
		}
		det := fit(t, c.o, train, c.n, c.d)
		got, err := det.Score(context.Background(), ds(test, 200, c.d))
		if err != nil {
			t.Fatal(err)
		}
		want := brute(det.e, train, c.n, c.d, test, 200)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-9*max(1, math.Abs(want[i])) {
				t.Fatalf("%+v: score %d = %v, want %v", c.o, i, got[i], want[i])
			}
		}
	}
}

// Each projection reads ⌊√d⌋ distinct features with N(0, 1) weights;
// the same seed draws the same ensemble whatever the workers, another
// seed another one.
func TestProjections(t *testing.T) {
	d := 50
	train := table(100, d, 3)
	o := Options{Projections: 400, Bins: 10, Seed: 4, Workers: 1}
	a := fit(t, o, train, 100, d).e
	var sum, sq float64
	for tt := range a.K() {
		f, w := a.Projection(tt)
		if len(f) != 7 {
			t.Fatalf("projection %d reads %d features, want ⌊√50⌋ = 7", tt, len(f))
		}
		for i := 1; i < len(f); i++ {
			if f[i] <= f[i-1] {
				t.Fatalf("projection %d features %v not distinct and ascending", tt, f)
			}
		}
		for _, v := range w {
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
	}
	n := float64(400 * 7)
	if mean, v := sum/n, sq/n-(sum/n)*(sum/n); math.Abs(mean) > 0.1 || math.Abs(v-1) > 0.1 {
		t.Errorf("weights: mean %v variance %v, want about 0 and 1", mean, v)
	}
	o.Workers = 3
	b := fit(t, o, train, 100, d).e
	if !slices.Equal(a.feat, b.feat) || !slices.Equal(a.w, b.w) || !slices.Equal(a.density, b.density) {
		t.Errorf("3 workers drew another ensemble than 1")
	}
	o.Seed = 5
	if c := fit(t, o, train, 100, d).e; slices.Equal(a.w, c.w) {
		t.Errorf("seeds 4 and 5 drew the same weights")
	}
}

// A point far from the training data scores above the training points'
// median, and beyond the histograms' ranges the score saturates: each
// projection gives it its edge bin's density (PyOD's rule), so 10^4 and
// 10^5 standard deviations out score the same.
func TestFarPointSaturates(t *testing.T) {
	train := detectortest.Gaussian(1000, 6, 0, 0, 1)
	det := fit(t, DefaultOptions(), train.X, 1000, 6)
	s, err := det.Score(context.Background(), train)
	if err != nil {
		t.Fatal(err)
	}
	far, err := det.Score(context.Background(), ds([]float32{0, 0, 0, 1e4, 0, 0, 0, 0, 0, 1e5, 0, 0}, 2, 6))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(s)
	if far[0] <= s[len(s)/2] || far[0] != far[1] {
		t.Errorf("10^4σ and 10^5σ out score %v and %v, training median %v", far[0], far[1], s[len(s)/2])
	}
}

// Degenerate training data: a constant projection gets a histogram over
// ±0.5 around its value (numpy's rule), so a single row, identical rows
// and constant columns fit; a point equal to the identical training rows
// scores the least possible, −log(1/0.1) per projection.
func TestDegenerateTraining(t *testing.T) {
	for _, c := range []struct {
		x    []float32
		n, d int
	}{{[]float32{1, 7, 2, 7, 3, 7}, 3, 2}, {[]float32{4, 5, 4, 5}, 2, 2}, {[]float32{4, 5}, 1, 2}} {
		o := Options{Projections: 20, Bins: 10, Seed: 1}
		det := fit(t, o, c.x, c.n, c.d)
		test := []float32{c.x[0], c.x[1], 9, -9}
		got, err := det.Score(context.Background(), ds(test, 2, 2))
		if err != nil {
			t.Fatal(err)
		}
		want := brute(det.e, c.x, c.n, c.d, test, 2)
		for i := range want {
			if math.Abs(got[i]-want[i]) > 1e-9*max(1, math.Abs(want[i])) {
				t.Errorf("%v: score %d = %v, want %v", c.x, i, got[i], want[i])
			}
		}
		if c.x[0] == c.x[2%len(c.x)] && c.x[1] == c.x[3%len(c.x)] {
			// Identical rows: all mass in the middle bin of width 0.1.
			least := -math.Log((1 + 1e-12) / (1 + 10e-12) / 0.1)
			if math.Abs(got[0]-least) > 1e-9 || !(got[1] > got[0]) {
				t.Errorf("%v: scores %v, want %v for the training row and more away from it", c.x, got, least)
			}
		}
	}
}

func TestUnmarshalChecks(t *testing.T) {
	train := table(60, 9, 1)
	det := fit(t, Options{Projections: 5, Bins: 4, Seed: 1}, train, 60, 9)
	good, err := det.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	setU32 := func(b []byte, i int, v uint32) []byte {
		b = slices.Clone(b)
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		return b
	}
	setF64 := func(b []byte, i int, v float64) []byte {
		b = slices.Clone(b)
		copy(b[8*i:], floats([]float64{v}))
		return b
	}
	mutate := map[string]func(p *detector.Payload){
		"bad json": func(p *detector.Payload) { p.Config = []byte("{") },
		"huge shape": func(p *detector.Payload) {
			p.Config = []byte(`{"options":{"projections":5,"bins":4},"shape":[65536,65536]}`)
		},
		"too many cells": func(p *detector.Payload) {
			p.Config = []byte(`{"options":{"projections":1048576,"bins":65536},"shape":[9]}`)
		},
		"other shape":   func(p *detector.Payload) { p.Config = []byte(`{"options":{"projections":5,"bins":4},"shape":[16]}`) },
		"no weights":    func(p *detector.Payload) { delete(p.Blobs, "weights") },
		"feature range": func(p *detector.Payload) { p.Blobs["features"] = setU32(p.Blobs["features"], 1, 9) },
		"feature order": func(p *detector.Payload) { p.Blobs["features"] = setU32(p.Blobs["features"], 1, 0) },
		"weight NaN":    func(p *detector.Payload) { p.Blobs["weights"] = setU32(p.Blobs["weights"], 2, 0x7fc00000) },
		"edges down":    func(p *detector.Payload) { p.Blobs["edges"] = setF64(p.Blobs["edges"], 2, -1e9) },
		"density zero":  func(p *detector.Payload) { p.Blobs["density"] = setF64(p.Blobs["density"], 3, 0) },
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
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"projections": "20"},
		Slow:     map[string]string{"projections": "200000", "bins": "4"},
		Bad:      map[string]string{"projections": "0", "bins": "0"},
		Train:    detectortest.Gaussian(2000, 16, 0, 0, 1),
		Test:     detectortest.Gaussian(40, 16, 0.5, 0, 2),
	})
}

func TestRegistered(t *testing.T) {
	detectortest.Registered(t, Method, detector.Unsupervised|detector.Tables)
	o := DefaultOptions()
	detectortest.OptionValues(t, &o, map[string]string{"projections": "100", "bins": "10"})
}
