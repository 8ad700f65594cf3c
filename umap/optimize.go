package umap

import (
	"context"
	"math"
	"math/rand/v2"
)

// clip bounds every gradient coordinate, as umap-learn does: without it a
// pair that lands on top of each other early would fling points away.
const clip = 4

// initScale is the half-width of the uniform random start.
const initScale = 10

// layout runs the stochastic gradient descent of the embedding (paper
// Algorithm 5) over the edges of g and returns the n×o.Components
// embedding and the number of edges it sampled.
func layout(ctx context.Context, g graph, n int, a, b float64, o Options) ([]float32, int, error) {
	dim := o.Components
	r := rand.New(rand.NewPCG(o.Seed, 0x75a9))
	y := make([]float32, n*dim)
	for i := range y {
		y[i] = float32(initScale * (2*r.Float64() - 1))
	}
	// Drop edges too weak to be sampled once in the run, then sample each
	// edge every maxW/w epochs and its negatives NegativeRate times as often.
	var maxW float64
	for _, w := range g.w {
		maxW = max(maxW, w)
	}
	var head, tail []int32
	var every []float64
	for e, w := range g.w {
		if w >= maxW/float64(o.Epochs) {
			head = append(head, g.head[e])
			tail = append(tail, g.tail[e])
			every = append(every, maxW/w)
		}
	}
	next := append([]float64(nil), every...)
	everyNeg := make([]float64, len(every))
	nextNeg := make([]float64, len(every))
	for e, v := range every {
		if o.NegativeRate > 0 {
			everyNeg[e] = v / float64(o.NegativeRate)
		}
		nextNeg[e] = everyNeg[e]
	}
	gamma := o.Repulsion
	for epoch := range o.Epochs {
		if err := ctx.Err(); err != nil {
			return nil, 0, err
		}
		alpha := float32(o.LearningRate * (1 - float64(epoch)/float64(o.Epochs)))
		ep := float64(epoch)
		for e := range head {
			if next[e] > ep {
				continue
			}
			j, k := int(head[e]), int(tail[e])
			cur, oth := y[j*dim:(j+1)*dim], y[k*dim:(k+1)*dim]
			d2 := sqDist(cur, oth)
			if d2 > 0 {
				p := math.Pow(d2, b-1)
				coef := float32(-2 * a * b * p / (a*p*d2 + 1))
				for t := range cur {
					gr := clamp(coef * (cur[t] - oth[t]))
					cur[t] += gr * alpha
					oth[t] -= gr * alpha
				}
			}
			next[e] += every[e]
			if o.NegativeRate == 0 {
				continue
			}
			neg := int((ep - nextNeg[e]) / everyNeg[e])
			for range neg {
				k := r.IntN(n)
				if k == j {
					continue
				}
				oth := y[k*dim : (k+1)*dim]
				d2 := sqDist(cur, oth)
				if d2 > 0 {
					coef := float32(2 * gamma * b / ((0.001 + d2) * (a*math.Pow(d2, b) + 1)))
					for t := range cur {
						cur[t] += clamp(coef*(cur[t]-oth[t])) * alpha
					}
				} else {
					for t := range cur {
						cur[t] += clip * alpha
					}
				}
			}
			nextNeg[e] += float64(neg) * everyNeg[e]
		}
		if o.OnEpoch != nil {
			o.OnEpoch(epoch+1, o.Epochs)
		}
	}
	return y, len(head), nil
}

func sqDist(u, v []float32) float64 {
	var s float32
	for t := range u {
		e := u[t] - v[t]
		s += e * e
	}
	return float64(s)
}

func clamp(v float32) float32 {
	return max(-clip, min(clip, v))
}
