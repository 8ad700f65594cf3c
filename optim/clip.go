package optim

import (
	"math"

	"github.com/oddity-ml/oddity/tensor"
)

// GradNorm returns the L2 norm of all the parameters' gradients taken
// together, as if concatenated into one vector (accumulated in float64).
// Parameters without a gradient buffer are skipped.
func GradNorm(params []*tensor.Tensor) float64 {
	var ss float64
	for _, p := range params {
		if p == nil || !p.HasGrad() {
			continue
		}
		for _, v := range p.Grad() {
			ss += float64(v) * float64(v)
		}
	}
	return math.Sqrt(ss)
}

// scaleGrads multiplies every gradient by c.
func scaleGrads(params []*tensor.Tensor, c float32) {
	for _, p := range params {
		if p == nil || !p.HasGrad() {
			continue
		}
		g := p.Grad()
		for i := range g {
			g[i] *= c
		}
	}
}

// ClipGradNorm rescales the gradients so that their global L2 norm is at
// most maxNorm, as torch.nn.utils.clip_grad_norm_: the gradients are
// multiplied by min(1, maxNorm/(norm + 1e-6)). It returns the norm before
// clipping. A NaN or infinite norm is returned as is and the gradients are
// left unchanged.
func ClipGradNorm(params []*tensor.Tensor, maxNorm float64) float64 {
	n := GradNorm(params)
	if math.IsNaN(n) || math.IsInf(n, 0) {
		return n
	}
	if c := maxNorm / (n + 1e-6); c < 1 {
		scaleGrads(params, float32(c))
	}
	return n
}

// ClipGradNormKeras is Keras 2's optimizer clipnorm (keras.optimizers,
// standalone Keras up to 2.3, which DevNet's official code uses): when the
// global L2 norm n of all gradients is at least clipnorm, every gradient is
// multiplied by clipnorm/n (no epsilon). It returns the norm before clipping;
// a NaN or infinite norm leaves the gradients unchanged. (tf.keras 2.4 and
// later apply clipnorm to each tensor separately and call the global form
// global_clipnorm; ClipGradNormEach is the per-tensor form.)
func ClipGradNormKeras(params []*tensor.Tensor, clipnorm float64) float64 {
	n := GradNorm(params)
	if math.IsNaN(n) || math.IsInf(n, 0) || clipnorm <= 0 {
		return n
	}
	if n >= clipnorm {
		scaleGrads(params, float32(clipnorm/n))
	}
	return n
}

// ClipGradNormEach clips every parameter's gradient to L2 norm at most
// clipnorm separately (tf.keras 2.4+ clipnorm): a gradient with norm n >
// clipnorm is multiplied by clipnorm/n.
func ClipGradNormEach(params []*tensor.Tensor, clipnorm float64) {
	for _, p := range params {
		if n := GradNorm([]*tensor.Tensor{p}); n > clipnorm && !math.IsInf(n, 0) {
			scaleGrads([]*tensor.Tensor{p}, float32(clipnorm/n))
		}
	}
}

// ClipGradValue clamps every gradient value into [-clip, clip], as Keras's
// clipvalue and torch.nn.utils.clip_grad_value_. NaN values stay NaN.
func ClipGradValue(params []*tensor.Tensor, clip float64) {
	c := float32(math.Abs(clip))
	for _, p := range params {
		if p == nil || !p.HasGrad() {
			continue
		}
		g := p.Grad()
		for i, v := range g {
			if v > c {
				g[i] = c
			} else if v < -c {
				g[i] = -c
			}
		}
	}
}
