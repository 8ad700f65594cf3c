package ganomaly

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/tensor"
)

func paperNets(tb testing.TB, c, side int, r *rand.Rand) *Networks {
	tb.Helper()
	n, err := NewNetworks(NetConfig{Channels: c, Side: side, Width: 64, NZ: 100, WAdv: 1, WCon: 50, WEnc: 1, LR: 2e-4, Beta1: 0.5, Beta2: 0.999}, r)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

// TestNetworkShapes checks the encoder and decoder for every accepted side
// and that other sides are refused.
func TestNetworkShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, side := range []int{8, 16, 32, 64} {
		n, err := NewNetworks(NetConfig{Channels: 3, Side: side, Width: 4, NZ: 7, WAdv: 1, WCon: 50, WEnc: 1, LR: 2e-4, Beta1: 0.5, Beta2: 0.999}, r)
		if err != nil {
			t.Fatalf("side %d: %v", side, err)
		}
		x := tensor.New(2, 3, side, side)
		z := n.GE.Forward(nil, x)
		xh := n.GD.Forward(nil, z)
		d := n.D.Forward(nil, x)
		if !tensor.SameShape(z.Shape, []int{2, 7, 1, 1}) || !tensor.SameShape(xh.Shape, x.Shape) || !tensor.SameShape(d.Shape, []int{2, 1, 1, 1}) {
			t.Errorf("side %d: z %v, x' %v, D %v", side, z.Shape, xh.Shape, d.Shape)
		}
	}
	for _, side := range []int{0, 4, 12, 28, 48, 100} {
		if ValidSide(side) == nil {
			t.Errorf("side %d accepted", side)
		}
	}
}

func BenchmarkTrainStep(b *testing.B) {
	for _, w := range []int{16, 32, 64} {
		b.Run(fmt.Sprintf("width%d", w), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			n, err := NewNetworks(NetConfig{Channels: 1, Side: 32, Width: w, NZ: 100, WAdv: 1, WCon: 50, WEnc: 1, LR: 2e-4, Beta1: 0.5, Beta2: 0.999}, r)
			if err != nil {
				b.Fatal(err)
			}
			x := tensor.New(64, 1, 32, 32)
			for i := range x.Data {
				x.Data[i] = 2*r.Float32() - 1
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n.TrainStep(x)
			}
			b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "img/s")
		})
	}
}

// BenchmarkScore times Networks.Score on the paper's networks (width 64, nz
// 100, batch 64, 32×32), as the ganomaly-score lines of
// the PyTorch reference implementation's throughput script does.
func BenchmarkScore(b *testing.B) {
	for _, c := range []int{1, 3} {
		b.Run(fmt.Sprintf("c%d", c), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			n := paperNets(b, c, 32, r)
			n.SetTraining(false)
			x := tensor.New(64, c, 32, 32)
			for i := range x.Data {
				x.Data[i] = 2*r.Float32() - 1
			}
			n.Score(x)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				n.Score(x)
			}
			b.ReportMetric(float64(b.N*64)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
