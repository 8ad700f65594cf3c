package cae

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/internal/dcgan"
	"github.com/oddity-ml/oddity/internal/dcgan/dcgantest"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/option"
)

// TestOptions checks the declared option names (GANomaly's for the shared
// settings, as the command line and the benchmark suite spell them), the
// defaults, and that Validate refuses bad values with an error that wraps
// detector.ErrOption and names the option.
func TestOptions(t *testing.T) {
	o := DefaultOptions()
	want := []string{"width", "nz", "epochs", "batch", "max-images", "side", "lr", "val-frac", "select", "fit", "loss"}
	if got := option.Names(&o); !slices.Equal(got, want) {
		t.Errorf("option names %v, want %v", got, want)
	}
	// The saved keys are those of the options before they embedded the
	// shared settings.
	dcgantest.CheckKeys(t, o, "width", "nz", "epochs", "batch_size", "max_images", "side", "lr",
		"val_fraction", "select", "fit_mode", "loss", "beta1", "beta2", "seed")
	// The shared settings have GANomaly's names, defaults and help.
	g := ganomaly.DefaultOptions()
	gf := map[string]option.Field{}
	for _, f := range option.Fields(&g) {
		gf[f.Name] = f
	}
	for _, f := range option.Fields(&o) {
		if g := gf[f.Name]; f.Name != "loss" && (g.Name != f.Name || g.Type != f.Type || g.Help != f.Help || g.Value != f.Value) {
			t.Errorf("option %+v, GANomaly's %+v", f, g)
		}
	}
	gp, p := ganomaly.PaperOptions(), PaperOptions()
	if p.Settings != gp.Settings || p.Loss != LossL2 || o.Loss != LossL2 {
		t.Errorf("paper options %+v, GANomaly's %+v", p, gp)
	}
	dcgantest.CheckOptions(t, DefaultOptions, PaperOptions, func(o *Options) *dcgan.Settings { return &o.Settings }, ErrOption,
		func(o Options) *dcgan.Detector[Options] { return &New(o).Detector }, map[string]func(o *Options){
			"loss": func(o *Options) { o.Loss = "huber" },
		})
	in, err := detector.Lookup(Method)
	if err != nil {
		t.Fatal(err)
	}
	if in.Kind != detector.Unsupervised|detector.Images {
		t.Errorf("kind %v", in.Kind)
	}
	d, err := in.Configure(map[string]string{"loss": "l1", "width": "8"}, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got := d.(*Detector).Options(); got.Loss != LossL1 || got.Width != 8 || got.Seed != 5 || got.Epochs != 4 {
		t.Errorf("configured options %+v", got)
	}
}

// TestSameSizeAsGenerator: the autoencoder's networks are GANomaly's G_E
// and G_D, parameter for parameter.
func TestSameSizeAsGenerator(t *testing.T) {
	o := DefaultOptions()
	a, err := newAutoencoder(3, 32, o, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	g, err := ganomaly.NewNetworks(ganomaly.NetConfig{Channels: 3, Side: 32, Width: o.Width, NZ: o.NZ, LR: o.LR, Beta1: o.Beta1, Beta2: o.Beta2}, rand.New(rand.NewPCG(1, 2)))
	if err != nil {
		t.Fatal(err)
	}
	shapes := func(ms ...nn.Module) (out [][]int) {
		for _, m := range ms {
			for _, p := range m.Parameters() {
				out = append(out, p.Shape)
			}
		}
		return out
	}
	ae, gen := shapes(a.enc, a.dec), shapes(g.GE, g.GD)
	if !slices.EqualFunc(ae, gen, slices.Equal) {
		t.Errorf("autoencoder parameters %v, generator %v", ae, gen)
	}
}

// TestConformance runs the detector contract's checks.
func TestConformance(t *testing.T) {
	detectortest.Conformance(t, dcgantest.Case(Method, map[string]string{"loss": "huber", "batch": "1"}))
}

// TestDetector fits the autoencoder with each loss on horizontal bars, runs
// the checks every detector of package dcgan passes
// (dcgantest.CheckDetector), and checks that the score is the
// reconstruction error of Reconstruct's images and that the history
// records the reconstruction loss alone.
func TestDetector(t *testing.T) {
	ctx := context.Background()
	for _, loss := range []string{LossL2, LossL1} {
		o := DefaultOptions()
		dcgantest.Tiny(&o.Settings, 11)
		o.Loss = loss
		d := New(o)
		f := dcgantest.CheckDetector(t, &d.Detector, "loss", func() *dcgan.Detector[Options] { return &New(PaperOptions()).Detector })

		// The score is the mean squared (absolute) difference between the
		// network's input and its reconstruction, in the network's [-1, 1]
		// (Reconstruct's [0, 1] values doubled).
		in, out, err := d.Reconstruct(ctx, f.Test)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(in.Shape, []int{1, 8, 8}) || in.N != f.Test.N || len(out.X) != len(in.X) || !slices.Equal(in.Y, f.Test.Y) {
			t.Fatalf("%s: Reconstruct gave %d×%v", loss, in.N, in.Shape)
		}
		for i := 0; i < f.Test.N; i++ {
			var e float64
			for j := i * 64; j < (i+1)*64; j++ {
				diff := 2 * float64(out.X[j]-in.X[j])
				if loss == LossL1 {
					e += math.Abs(diff)
				} else {
					e += diff * diff
				}
			}
			e /= 64
			if math.Abs(e-f.Scores[i]) > 1e-4*math.Max(e, 1e-3) {
				t.Fatalf("%s: image %d scores %v, its reconstruction error is %v", loss, i, f.Scores[i], e)
			}
		}
		for _, h := range d.History() {
			if h.Con != h.G || h.Adv != 0 || h.Enc != 0 || h.D != 0 || h.ReinitD != 0 {
				t.Errorf("%s: epoch record %+v", loss, h)
			}
		}
	}
}

// TestOldModel loads a "cae" model file written by package ganomaly before
// the autoencoder had its own package (its options hold GANomaly's loss
// weights too, under the same JSON keys) and checks its scores bit for bit
// against those it gave then.
func TestOldModel(t *testing.T) {
	o := dcgantest.CheckOldModel[Options](t, "testdata/old-cae.odm", []uint64{0x3fec8695e0000000, 0x3febf67560000000,
		0x3fec1e6040000000, 0x3fec54e020000000, 0x3fec3245c0000000, 0x3fec4db9c0000000, 0x3fec509900000000, 0x3fec741680000000})
	if o.Loss != LossL2 {
		t.Errorf("loaded loss %q", o.Loss)
	}
}

// TestGolden fits the autoencoder as the code did before it shared its
// detector with package ganomaly (L2, padded, validation-selected; L1,
// resized to 16, last epoch) and checks the scores and weights bit for
// bit.
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		loss string
		want dcgantest.Golden
	}{
		{LossL2, dcgantest.Golden{Best: 3, Tensors: "039e5a142bc2791599db7109a2f2879802a226d7326851a02301203612081b83",
			Scores: []uint64{0x3fec826060000000, 0x3febf24b80000000, 0x3fec199d20000000, 0x3fec501d20000000,
				0x3fec2d6120000000, 0x3fec48e700000000, 0x3fec4bb900000000, 0x3fec700680000000}}},
		{LossL1, dcgantest.Golden{Best: 3, Tensors: "5f1bc60b68e21f240f1677c21fcf6e1071242f5a6c7003ac6f9293487b5360e7",
			Scores: []uint64{0x3fea258380000000, 0x3fe7946000000000, 0x3fe9c54620000000, 0x3fea076660000000,
				0x3fe7c7c820000000, 0x3fe7b9b9c0000000, 0x3fe7dfe1a0000000, 0x3fea231fe0000000}}},
	} {
		o := DefaultOptions()
		dcgantest.GoldenSettings(&o.Settings, c.loss == LossL1)
		o.Loss = c.loss
		dcgantest.CheckGolden(t, New(o), c.want)
	}
}
