package explain

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// ErrGradient is wrapped by errors about a GradFunc that misbehaves: a
// wrong number of scores, or a non-finite gradient.
var ErrGradient = errors.New("explain: bad gradient function")

// GradFunc computes the scores of n samples of d features held row-major in
// x, and writes each score's gradient with respect to its sample into grad
// (n×d, row-major). It is what a differentiable detector gives
// IntegratedGradients: its forward pass and a backward pass to the input.
type GradFunc func(ctx context.Context, x []float32, n int, grad []float32) (scores []float64, err error)

// IGOptions tunes IntegratedGradients. The zero value is the default.
type IGOptions struct {
	// Steps is the number of points on the path from the baseline to the
	// sample (trapezoid rule); 32 when 0.
	Steps int
	// MaxSteps bounds the refinement: a sample whose attributions miss
	// completeness by more than Tolerance is recomputed with twice the
	// steps, up to MaxSteps (256 when 0; set it to Steps to refine never).
	MaxSteps int
	// Tolerance is the completeness gap accepted, relative to
	// |score(x) − score(baseline)|; 0.01 when 0.
	Tolerance float64
	// BatchRows bounds the rows given to one GradFunc call, and so the
	// memory (4096 when 0).
	BatchRows int
}

func (o IGOptions) withDefaults() IGOptions {
	if o.Steps <= 0 {
		o.Steps = 32
	}
	if o.MaxSteps <= 0 {
		o.MaxSteps = 256
	}
	if o.MaxSteps < o.Steps {
		o.MaxSteps = o.Steps
	}
	if o.Tolerance <= 0 {
		o.Tolerance = 0.01
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 4096
	}
	return o
}

// IntegratedGradients attributes f's score of each sample of x to its
// features by integrated gradients (Sundararajan, Taly and Yan, "Axiomatic
// attribution for deep networks", ICML 2017; docs/methods.md §7):
//
//	IG_j(x) = (x_j − b_j) ∫₀¹ ∂f/∂x_j (b + α(x − b)) dα,
//
// the integral by the trapezoid rule over Steps intervals, the path points
// of many samples batched into one GradFunc call. Completeness,
// Σ_j IG_j(x) = f(x) − f(b), holds exactly for the integral; where the rule
// misses it by more than Tolerance (ReLU kinks between path points), the
// sample is recomputed with twice the steps, up to MaxSteps. The returned
// Offset is f(b), so Offset[i] + Σ_j Values[i,j] ≈ f(x_i).
func IntegratedGradients(ctx context.Context, f GradFunc, x *data.Dataset, baseline []float32, o IGOptions) (*detector.Attributions, error) {
	o = o.withDefaults()
	if err := detector.CheckInput(x, nil); err != nil {
		return nil, fmt.Errorf("integrated gradients: %w", err)
	}
	if x.N == 0 {
		return nil, fmt.Errorf("integrated gradients: %w: no samples to explain", detector.ErrInput)
	}
	d := x.Dim()
	if len(baseline) != d {
		return nil, fmt.Errorf("integrated gradients: %w: baseline has %d values, samples have %d", detector.ErrSchema, len(baseline), d)
	}
	for j, v := range baseline {
		if !finite(float64(v)) {
			return nil, fmt.Errorf("integrated gradients: %w: baseline feature %d is %v", detector.ErrInput, j, v)
		}
	}
	g0 := make([]float32, d)
	s0, err := f(ctx, baseline, 1, g0)
	if err != nil {
		return nil, err
	}
	if len(s0) != 1 {
		return nil, fmt.Errorf("%w: %d scores for the baseline", ErrGradient, len(s0))
	}
	if !finite(s0[0]) {
		return nil, fmt.Errorf("integrated gradients: %w: the baseline's score is %v", detector.ErrInput, s0[0])
	}
	a := &detector.Attributions{N: x.N, D: d, Values: make([]float32, x.N*d), Offset: make([]float64, x.N), Technique: "integrated-gradients"}
	for i := range a.Offset {
		a.Offset[i] = s0[0]
	}
	todo := make([]int, x.N)
	for i := range todo {
		todo[i] = i
	}
	for steps := o.Steps; len(todo) > 0; steps *= 2 {
		last := steps*2 > o.MaxSteps
		var again []int
		per := max(1, o.BatchRows/steps)
		for lo := 0; lo < len(todo); lo += per {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			idx := todo[lo:min(lo+per, len(todo))]
			bad, err := igBatch(ctx, f, x, baseline, g0, s0[0], idx, steps, o.Tolerance, a)
			if err != nil {
				return nil, err
			}
			if !last {
				again = append(again, bad...)
			}
		}
		todo = again
	}
	return a, nil
}

// igBatch computes the attributions of the samples idx with the given
// steps, writing them into a, and returns those that miss completeness by
// more than tol.
func igBatch(ctx context.Context, f GradFunc, x *data.Dataset, b, g0 []float32, s0 float64, idx []int, steps int, tol float64, a *detector.Attributions) ([]int, error) {
	d := len(b)
	rows := len(idx) * steps
	pts := make([]float32, rows*d)
	for k, i := range idx {
		xi := x.Row(i)
		for s := 1; s <= steps; s++ {
			t := float32(float64(s) / float64(steps))
			p := pts[(k*steps+s-1)*d : (k*steps+s)*d]
			for j := range p {
				p[j] = b[j] + t*(xi[j]-b[j])
			}
		}
	}
	grad := make([]float32, rows*d)
	sc, err := f(ctx, pts, rows, grad)
	if err != nil {
		return nil, err
	}
	if len(sc) != rows {
		return nil, fmt.Errorf("%w: %d scores for %d rows", ErrGradient, len(sc), rows)
	}
	var bad []int
	sum := make([]float64, d)
	for k, i := range idx {
		for j := range sum {
			sum[j] = 0.5 * float64(g0[j])
		}
		for s := 1; s <= steps; s++ {
			g := grad[(k*steps+s-1)*d : (k*steps+s)*d]
			w := 1.0
			if s == steps {
				w = 0.5
			}
			for j, v := range g {
				sum[j] += w * float64(v)
			}
		}
		xi, out := x.Row(i), a.Row(i)
		total := 0.0
		for j := range out {
			v := float64(xi[j]-b[j]) * sum[j] / float64(steps)
			out[j] = float32(v)
			total += v
		}
		fx := sc[k*steps+steps-1]
		if !finite(fx) {
			return nil, fmt.Errorf("integrated gradients: %w: sample %d's score is %v", detector.ErrInput, i, fx)
		}
		if !finite(total) {
			return nil, fmt.Errorf("%w: a non-finite gradient on sample %d's path", ErrGradient, i)
		}
		if gap := math.Abs(total - (fx - s0)); gap > tol*math.Max(math.Abs(fx-s0), 1e-12) {
			bad = append(bad, i)
		}
	}
	return bad, nil
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
