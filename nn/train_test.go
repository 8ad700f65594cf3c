package nn_test

import (
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data/idx"
	"github.com/oddity-ml/oddity/internal/shared"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/optim"
	"github.com/oddity-ml/oddity/tensor"
)

// TestTinyAutoencoderLearnsMNIST trains a small convolutional autoencoder on
// one fixed batch of MNIST digits: the reconstruction loss must fall at least
// tenfold, which needs every layer's forward and backward pass and Adam to be
// right together.
func TestTinyAutoencoderLearnsMNIST(t *testing.T) {
	dir := shared.Path(t, "mnist")
	_, test, err := idx.LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	const n = 64
	x := tensor.FromData(append([]float32(nil), test.X[:n*784]...), n, 1, 28, 28)
	r := rand.New(rand.NewPCG(1, 2))
	ae := nn.NewSequential(
		nn.NewConv2d(1, 8, 3, 2, 1, true, r), nn.ReLU(),
		nn.NewConv2d(8, 16, 3, 2, 1, true, r), nn.ReLU(),
		nn.NewConvTranspose2d(16, 8, 4, 2, 1, 0, true, r), nn.ReLU(),
		nn.NewConvTranspose2d(8, 1, 4, 2, 1, 0, true, r), nn.Sigmoid(),
	)
	cfg := optim.AdamDefaults()
	cfg.LR = 3e-3
	opt, err := optim.NewAdam(ae.Parameters(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var first, last float32
	for step := 0; step < 200; step++ {
		tp := tensor.NewTape()
		loss := tp.MSELoss(ae.Forward(tp, x), x)
		opt.ZeroGrad()
		tp.Backward(loss)
		opt.Step()
		if step == 0 {
			first = loss.Item()
		}
		last = loss.Item()
	}
	t.Logf("MSE %.4f -> %.4f (%.1fx)", first, last, first/last)
	if !(last*10 <= first) {
		t.Fatalf("reconstruction loss fell from %.4f to %.4f, less than tenfold", first, last)
	}
}
