package dplan

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"github.com/oddity-ml/oddity/iforest"
)

// Extrinsic is the extrinsic reward of taking action a on a state that is a
// labelled anomaly (labelled true) or an unlabelled point: +1 for a1 on a
// labelled anomaly, 0 for a0 on an unlabelled point, -1 otherwise.
func Extrinsic(labelled bool, a int) float32 {
	switch {
	case labelled && a == ActAnomaly:
		return 1
	case !labelled && a == ActNormal:
		return 0
	}
	return -1
}

// env is DPLAN's environment over the points X = [D_u; D_a] (row i < nU is
// unlabelled, the rest labelled anomalies): the anomaly-biased sampler and
// the rewards.
type env struct {
	x      []float32
	nU, nA int
	d      int
	p      float64
	m      int // subset size, at most nU
	rng    *rand.Rand

	perm []int32   // permutation of 0..nU-1 for drawing subsets
	subX []float32 // m × d
	subH []float32 // H × m (transposed)
	dist []float32 // m
	rint []float32 // intrinsic reward of every point
	allH []float32 // (nU+nA) × H, for the intrinsic forest
}

func newEnv(x []float32, nU, nA, d, h int, p float64, subset int, rng *rand.Rand) *env {
	e := &env{x: x, nU: nU, nA: nA, d: d, p: p, m: min(subset, nU), rng: rng}
	e.perm = make([]int32, nU)
	for i := range e.perm {
		e.perm[i] = int32(i)
	}
	e.subX = make([]float32, e.m*d)
	e.subH = make([]float32, e.m*h)
	e.dist = make([]float32, e.m)
	e.rint = make([]float32, nU+nA)
	return e
}

func (e *env) row(i int) []float32 { return e.x[i*e.d : (i+1)*e.d] }

// labelled reports whether point s is a labelled anomaly.
func (e *env) labelled(s int) bool { return s >= e.nU }

// reset returns an episode's first state: a random unlabelled point.
func (e *env) reset() int { return e.rng.IntN(e.nU) }

// next is the anomaly-biased sampler: with probability p a uniformly drawn
// labelled anomaly (g_a); otherwise (g_u) the point of a random subset of m
// unlabelled points nearest to the state (hidden representation hs) when a
// is a1, farthest when a0, by Euclidean distance in q's hidden space.
func (e *env) next(q *QNet, hs []float32, a int) int {
	if e.nA > 0 && e.rng.Float64() < e.p {
		return e.nU + e.rng.IntN(e.nA)
	}
	// Partial Fisher-Yates: the first m entries of perm become the subset.
	for i := 0; i < e.m; i++ {
		j := i + e.rng.IntN(e.nU-i)
		e.perm[i], e.perm[j] = e.perm[j], e.perm[i]
	}
	for i, k := range e.perm[:e.m] {
		copy(e.subX[i*e.d:(i+1)*e.d], e.row(int(k)))
	}
	q.HiddenT(e.subH, e.m, e.subX, e.m)
	return int(e.perm[pickT(e.subH, e.dist, hs, e.m, a == ActAnomaly)])
}

// pickT is pick for transposed hidden representations (hid[j*m+i] is unit j
// of row i), using dist (length m) as scratch. The squared distances are
// accumulated unit by unit, each row's in the same order as pick, so both
// give the same result.
func pickT(hid, dist, hs []float32, m int, nearest bool) int {
	dist = dist[:m]
	clear(dist)
	for j, c := range hs {
		for i, v := range hid[j*m : (j+1)*m] {
			t := v - c
			dist[i] += t * t
		}
	}
	best, bestD := 0, dist[0]
	for i, s := range dist {
		if (nearest && s < bestD) || (!nearest && s > bestD) {
			best, bestD = i, s
		}
	}
	return best
}

// refitIntrinsic fits an Isolation Forest on the unlabelled points' hidden
// representations under q (or on the raw features when q is nil), scores
// every point, and min-max normalises the scores to [0, 1] over all points
// into e.rint. workers bounds the forest's goroutines (0: GOMAXPROCS); the
// result does not depend on it.
func (e *env) refitIntrinsic(q *QNet, trees, samples int, seed uint64, workers int) error {
	n := e.nU + e.nA
	feat, d := e.x, e.d
	if q != nil {
		if e.allH == nil {
			e.allH = make([]float32, n*q.h)
		}
		q.Hidden(e.allH, e.x, n)
		feat, d = e.allH, q.h
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	fo := iforest.DefaultOptions()
	fo.NTrees, fo.MaxSamples, fo.Seed, fo.Workers = trees, samples, seed, workers
	f, err := iforest.Fit(feat[:e.nU*d], e.nU, d, fo)
	if err != nil {
		return fmt.Errorf("dplan: intrinsic reward forest: %w", err)
	}
	sc, err := f.Score(feat, n)
	if err != nil {
		return fmt.Errorf("dplan: intrinsic reward forest: %w", err)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range sc {
		lo, hi = min(lo, v), max(hi, v)
	}
	span := hi - lo
	for i, v := range sc {
		if span > 0 {
			e.rint[i] = float32((v - lo) / span)
		} else {
			e.rint[i] = 0
		}
	}
	return nil
}
