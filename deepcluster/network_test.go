package deepcluster

import (
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/tensor"
)

// TestAutoencoderShapes checks that every supported side reconstructs to its
// own size through the embedding size asked for.
func TestAutoencoderShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, c := range []struct{ ch, side int }{{1, 28}, {1, 16}, {1, 32}, {3, 32}, {1, 64}} {
		ae, err := NewAutoencoder(c.ch, c.side, 10, r)
		if err != nil {
			t.Fatalf("side %d: %v", c.side, err)
		}
		x := tensor.New(2, c.ch, c.side, c.side)
		rec, z := ae.Forward(nil, x)
		if !tensor.SameShape(rec.Shape, x.Shape) || !tensor.SameShape(z.Shape, []int{2, 10}) {
			t.Errorf("side %d: reconstruction %v, embedding %v", c.side, rec.Shape, z.Shape)
		}
	}
	for _, bad := range []int{0, 6, 30} {
		if _, err := NewAutoencoder(1, bad, 10, r); err == nil {
			t.Errorf("side %d accepted", bad)
		}
	}
}

func BenchmarkAutoencoderStep(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	ae, _ := NewAutoencoder(1, 28, 10, r)
	x := tensor.New(256, 1, 28, 28)
	for i := range x.Data {
		x.Data[i] = r.Float32()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		tp := tensor.NewTape()
		rec, _ := ae.Forward(tp, x)
		tp.Backward(tp.MSELoss(rec, x))
	}
	b.ReportMetric(float64(b.N*256)/b.Elapsed().Seconds(), "img/s")
}
