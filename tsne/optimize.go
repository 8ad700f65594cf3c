package tsne

import (
	"context"
	"math"
	"time"
)

// Gradient-descent constants shared with scikit-learn.
const (
	minGain        = 0.01
	momentumEarly  = 0.5
	momentumLate   = 0.8
	gainIncrease   = 0.2
	gainDecrease   = 0.8
	forceChunkSize = 128
)

// optimizer holds the state of the descent on the embedding y.
type optimizer struct {
	P     *csr
	y     []float64
	opt   Options
	n     int
	tree  quadtree
	grad  []float64
	upd   []float64
	gains []float64
	// Per-point results of the force pass, reduced in index order.
	pos    []float64 // attractive force, 2 per point
	neg    []float64 // unnormalised repulsive force, 2 per point
	sumQ   []float64 // per-point share of Z
	stack  [][]int32 // per-worker traversal stacks
	theta2 float64
}

func newOptimizer(P *csr, y []float64, opt Options) *optimizer {
	n := len(y) / 2
	o := &optimizer{
		P: P, y: y, opt: opt, n: n,
		grad:   make([]float64, 2*n),
		upd:    make([]float64, 2*n),
		gains:  make([]float64, 2*n),
		pos:    make([]float64, 2*n),
		neg:    make([]float64, 2*n),
		sumQ:   make([]float64, n),
		stack:  make([][]int32, opt.Workers),
		theta2: opt.Theta * opt.Theta,
	}
	for w := range o.stack {
		o.stack[w] = make([]int32, 0, 256)
	}
	return o
}

// gradient fills o.grad with the Barnes-Hut gradient of KL(P·exag ‖ Q) at
// o.y and returns Z = sum_{i≠j} (1+d²_ij)⁻¹.
func (o *optimizer) gradient(exag float64) float64 {
	o.tree.build(o.y)
	P, y := o.P, o.y
	parallelFor(o.opt.Workers, o.n, forceChunkSize, func(w, lo, hi int) {
		st := o.stack[w]
		// Points in tree order: neighbours in the plane walk similar paths.
		for _, i := range o.tree.idx[lo:hi] {
			yx, yy := y[2*i], y[2*i+1]
			var ax, ay float64
			for e := P.rowPtr[i]; e < P.rowPtr[i+1]; e++ {
				j := P.col[e]
				dx, dy := yx-y[2*j], yy-y[2*j+1]
				m := P.val[e] / (1 + dx*dx + dy*dy)
				ax += m * dx
				ay += m * dy
			}
			o.pos[2*i], o.pos[2*i+1] = ax*exag, ay*exag
			var sq, fx, fy float64
			sq, fx, fy, st = o.tree.repulsion(yx, yy, o.theta2, st)
			o.sumQ[i] = sq
			o.neg[2*i], o.neg[2*i+1] = fx, fy
		}
		o.stack[w] = st
	})
	var z float64
	for _, s := range o.sumQ {
		z += s
	}
	// Each point met itself once at distance 0, adding exactly 1.
	z -= float64(o.n)
	z = math.Max(z, math.SmallestNonzeroFloat64)
	for i := range o.grad {
		o.grad[i] = 4 * (o.pos[i] - o.neg[i]/z)
	}
	return z
}

// kl returns sum_ij p_ij log(p_ij / q_ij) with P scaled by exag and
// q_ij = (1+d²_ij)⁻¹ / z, over the non-zero entries of P (scikit-learn's
// Barnes-Hut error estimate).
func (o *optimizer) kl(exag, z float64) float64 {
	P, y := o.P, o.y
	const tiny = 1.1754943508222875e-38 // float32's smallest normal, as scikit-learn
	part := make([]float64, o.n)
	parallelFor(o.opt.Workers, o.n, 512, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			var c float64
			for e := P.rowPtr[i]; e < P.rowPtr[i+1]; e++ {
				j := P.col[e]
				dx, dy := y[2*i]-y[2*j], y[2*i+1]-y[2*j+1]
				p := P.val[e] * exag
				q := 1 / (1 + dx*dx + dy*dy) / z
				c += p * math.Log(math.Max(p, tiny)/math.Max(q, tiny))
			}
			part[i] = c
		}
	})
	var s float64
	for _, c := range part {
		s += c
	}
	return s
}

// klNow evaluates the KL estimate at the current embedding.
func (o *optimizer) klNow(exag float64) float64 {
	z := o.gradient(exag)
	return o.kl(exag, z)
}

// run performs the two phases of the descent and returns the number of
// iterations done.
func (o *optimizer) run(ctx context.Context, start time.Time) (int, error) {
	exIters := min(o.opt.ExaggerationIters, o.opt.Iterations)
	it, err := o.phase(ctx, start, 0, exIters, o.opt.EarlyExaggeration, momentumEarly, exIters)
	if err != nil {
		return it, err
	}
	if it < exIters || o.opt.Iterations > exIters {
		it, err = o.phase(ctx, start, it, o.opt.Iterations, 1, momentumLate, o.opt.IterWithoutProgress)
	}
	return it, err
}

// phase runs iterations [from, to) with fixed exaggeration and momentum,
// starting from zero velocity and unit gains, and returns the iteration count
// reached (to, or earlier on convergence).
func (o *optimizer) phase(ctx context.Context, start time.Time, from, to int, exag, momentum float64, patience int) (int, error) {
	for i := range o.gains {
		o.gains[i] = 1
		o.upd[i] = 0
	}
	best, bestIter := math.Inf(1), from
	lr := o.opt.LearningRate
	for it := from; it < to; it++ {
		if err := ctx.Err(); err != nil {
			return it, err
		}
		z := o.gradient(exag)
		check := (it+1)%o.opt.CheckEvery == 0 || it+1 == to
		var kl float64
		if check {
			// Measured where the gradient was taken, before the step, as
			// scikit-learn does.
			kl = o.kl(exag, z)
		}
		for i, g := range o.grad {
			if o.upd[i]*g < 0 {
				o.gains[i] += gainIncrease
			} else {
				o.gains[i] = math.Max(o.gains[i]*gainDecrease, minGain)
			}
			o.upd[i] = momentum*o.upd[i] - lr*g*o.gains[i]
			o.y[i] += o.upd[i]
		}
		if !check {
			continue
		}
		var gn float64
		for _, g := range o.grad {
			gn += g * g
		}
		gn = math.Sqrt(gn)
		if o.opt.OnProgress != nil {
			o.opt.OnProgress(Progress{
				Stage: "optimise", Iter: it + 1, Iterations: o.opt.Iterations,
				KL: kl, GradNorm: gn, Exaggerated: exag != 1, Elapsed: time.Since(start),
			})
		}
		if kl < best {
			best, bestIter = kl, it
		} else if it-bestIter > patience {
			return it + 1, nil
		}
		if gn <= o.opt.MinGradNorm {
			return it + 1, nil
		}
	}
	return to, nil
}
