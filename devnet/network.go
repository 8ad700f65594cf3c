package devnet

import (
	"math"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/initw"
	"github.com/oddity-ml/oddity/kernels"
	"github.com/oddity-ml/oddity/tensor"
)

// initParams creates the network for d inputs with Keras's default
// initialisation (Glorot-uniform weights, zero biases).
func (m *Detector) initParams(d int, r *rand.Rand) error {
	h := m.Options.Hidden
	m.d = d
	m.w1, m.b1 = tensor.Param("hidden.weight", h, d), tensor.Param("hidden.bias", h)
	m.w2, m.b2 = tensor.Param("score.weight", 1, h), tensor.Param("score.bias", 1)
	if err := initw.XavierUniform(r, m.w1, 1); err != nil {
		return err
	}
	return initw.XavierUniform(r, m.w2, 1)
}

// buffers are one batch's inputs, labels and intermediate values, reused
// across batches.
type buffers struct {
	x, y, hid, ds, dh []float32
}

func newBuffers(b, d, h int) *buffers {
	return &buffers{x: make([]float32, b*d), y: make([]float32, b), hid: make([]float32, b*h),
		ds: make([]float32, b), dh: make([]float32, b*h)}
}

// lossGrad returns the loss of the batch (bb.x, bb.y) — mean deviation loss
// plus L2·ΣW1² — and writes its gradient into the parameters' gradients.
// mu and sigma are the reference scores' mean and standard deviation.
func (m *Detector) lossGrad(bb *buffers, b int, mu, sigma float64) float64 {
	o := m.Options
	h, d := m.w1.Shape[0], m.d
	m.hidden(bb.hid, bb.x, b)
	var loss float64
	inv := 1 / float64(b)
	for i := 0; i < b; i++ {
		s := float64(m.b2.Data[0])
		for j, v := range bb.hid[i*h : (i+1)*h] {
			s += float64(v * m.w2.Data[j])
		}
		dev := (s - mu) / sigma
		var g float64
		if bb.y[i] == 0 {
			loss += math.Abs(dev)
			if dev > 0 {
				g = 1
			} else if dev < 0 {
				g = -1
			}
		} else if dev < o.Margin {
			loss += o.Margin - dev
			g = -1
		}
		bb.ds[i] = float32(g * inv / sigma)
	}
	var l2 float64
	for _, w := range m.w1.Data {
		l2 += float64(w) * float64(w)
	}
	gW1, gB1, gW2, gB2 := m.w1.Grad(), m.b1.Grad(), m.w2.Grad(), m.b2.Grad()
	clear(gW2)
	gB2[0] = 0
	for i := 0; i < b; i++ {
		g := bb.ds[i]
		gB2[0] += g
		for j, v := range bb.hid[i*h : (i+1)*h] {
			gW2[j] += g * v
			if v > 0 {
				bb.dh[i*h+j] = g * m.w2.Data[j]
			} else {
				bb.dh[i*h+j] = 0
			}
		}
	}
	clear(gB1)
	for i := 0; i < b; i++ {
		for j, v := range bb.dh[i*h : (i+1)*h] {
			gB1[j] += v
		}
	}
	copy(gW1, m.w1.Data)
	kernels.Sgemm(true, false, h, d, b, 1, bb.dh, h, bb.x, d, float32(2*o.L2), gW1, d)
	return loss*inv + o.L2*l2
}

// hidden writes relu(x·W1ᵀ + b1) for n rows into hid.
func (m *Detector) hidden(hid, x []float32, n int) {
	h := m.w1.Shape[0]
	for i := 0; i < n; i++ {
		copy(hid[i*h:(i+1)*h], m.b1.Data)
	}
	kernels.Sgemm(false, true, n, h, m.d, 1, x[:n*m.d], m.d, m.w1.Data, m.d, 1, hid[:n*h], h)
	for i, v := range hid[:n*h] {
		if v < 0 {
			hid[i] = 0
		}
	}
}
