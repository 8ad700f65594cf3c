package ganomaly

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data/idx"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/internal/dcgan"
	"github.com/oddity-ml/oddity/internal/dcgan/dcgantest"
	"github.com/oddity-ml/oddity/internal/shared"
	"github.com/oddity-ml/oddity/option"
	"github.com/oddity-ml/oddity/tensor"
)

func smallNets(tb testing.TB, reinit float32, r *rand.Rand) *Networks {
	tb.Helper()
	n, err := NewNetworks(NetConfig{Channels: 1, Side: 8, Width: 4, NZ: 3, WAdv: 1, WCon: 50, WEnc: 1,
		LR: 2e-4, Beta1: 0.5, Beta2: 0.999, ReinitBelow: reinit}, r)
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func randX(r *rand.Rand, shape ...int) *tensor.Tensor {
	x := tensor.New(shape...)
	for i := range x.Data {
		x.Data[i] = 2*r.Float32() - 1
	}
	return x
}

// TestLosses checks Eval against losses computed by hand from the networks'
// outputs, and that TrainStep reports the losses of the weights it started
// from.
func TestLosses(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	n := smallNets(t, 0, r)
	x := randX(r, 6, 1, 8, 8)
	n.SetTraining(false)
	l := n.Eval(x)

	z := n.GE.Forward(nil, x)
	xh := n.GD.Forward(nil, z)
	zh := n.E2.Forward(nil, xh)
	fr, ff := n.D.Features.Forward(nil, x), n.D.Features.Forward(nil, xh)
	mean := func(a, b []float32, f func(float64) float64) float64 {
		var s float64
		for i := range a {
			s += f(float64(a[i] - b[i]))
		}
		return s / float64(len(a))
	}
	sq := func(d float64) float64 { return d * d }
	adv, con, enc := mean(ff.Data, fr.Data, sq), mean(xh.Data, x.Data, math.Abs), mean(zh.Data, z.Data, sq)
	dr, df := n.D.Final.Forward(nil, fr), n.D.Final.Forward(nil, ff)
	var bce float64
	for i := range dr.Data {
		pr := 1 / (1 + math.Exp(-float64(dr.Data[i])))
		pf := 1 / (1 + math.Exp(-float64(df.Data[i])))
		bce += -math.Log(pr) - math.Log(1-pf)
	}
	dl := 0.5 * bce / float64(len(dr.Data))
	near := func(name string, got float32, want float64) {
		t.Helper()
		if math.Abs(float64(got)-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	near("adv", l.Adv, adv)
	near("con", l.Con, con)
	near("enc", l.Enc, enc)
	near("G", l.G, adv+50*con+enc)
	near("D", l.D, dl)

	// In training mode, TrainStep's losses are those of its starting weights.
	n.SetTraining(true)
	before := n.Eval(x)
	step := n.TrainStep(x)
	near("step adv", step.Adv, float64(before.Adv))
	near("step con", step.Con, float64(before.Con))
	near("step enc", step.Enc, float64(before.Enc))
	near("step D", step.D, float64(before.D))
	// And training lowers the generator loss on a fixed batch.
	for i := 0; i < 30; i++ {
		n.TrainStep(x)
	}
	if after := n.Eval(x); !(after.Con < before.Con) {
		t.Errorf("contextual loss %v after 31 steps, %v before", after.Con, before.Con)
	}
}

// TestReinitD checks that a discriminator loss below the threshold redraws
// D's weights from the DCGAN initialisation.
func TestReinitD(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n := smallNets(t, 1e9, r) // every step is "below" the threshold
	for _, p := range n.D.Parameters() {
		for i := range p.Data {
			p.Data[i] = 7
		}
	}
	l := n.TrainStep(randX(r, 4, 1, 8, 8))
	if !l.ReinitD {
		t.Fatal("no re-initialisation reported")
	}
	for _, p := range n.D.Parameters() {
		var s, ss float64
		for _, v := range p.Data {
			s += float64(v)
			ss += float64(v) * float64(v)
		}
		m := s / float64(len(p.Data))
		sd := math.Sqrt(ss/float64(len(p.Data)) - m*m)
		isBeta := len(p.Name) > 4 && p.Name[len(p.Name)-4:] == "bias"
		switch {
		case isBeta && (m != 0 || sd != 0):
			t.Errorf("%s: BatchNorm shift mean %v sd %v, want zeros", p.Name, m, sd)
		case !isBeta && p.Len() > 100 && (math.Abs(m) > 0.01 || math.Abs(sd-0.02) > 0.005):
			t.Errorf("%s: mean %v sd %v, want N(0, 0.02)", p.Name, m, sd)
		case !isBeta && p.Len() < 100 && (math.Abs(m-1) > 0.05 && math.Abs(m) > 0.05):
			t.Errorf("%s: mean %v", p.Name, m)
		}
	}
	// Without the threshold nothing is reset.
	n2 := smallNets(t, 0, r)
	if n2.TrainStep(randX(r, 4, 1, 8, 8)).ReinitD {
		t.Error("re-initialised with threshold 0")
	}
}

// TestScoreIndependentOfBatch: with BatchNorm in inference mode an image's
// score is the same alone and in a batch; in training mode it is not.
func TestScoreIndependentOfBatch(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	n := smallNets(t, 0, r)
	x := randX(r, 5, 1, 8, 8)
	for i := 0; i < 3; i++ {
		n.TrainStep(x) // move the running statistics away from (0, 1)
	}
	diff := func() float64 {
		all := n.Score(x)
		var worst float64
		for i := 0; i < 5; i++ {
			one := n.Score(tensor.FromData(append([]float32(nil), x.Data[i*64:(i+1)*64]...), 1, 1, 8, 8))
			worst = math.Max(worst, math.Abs(float64(one[0]-all[i]))/math.Max(1e-6, float64(all[i])))
		}
		return worst
	}
	n.SetTraining(false)
	if d := diff(); d > 1e-5 {
		t.Errorf("inference-mode score differs alone and in a batch by %v (relative)", d)
	}
	n.SetTraining(true)
	x1 := tensor.New(2, 1, 8, 8) // training-mode BatchNorm needs 2+ images; compare pairs instead
	copy(x1.Data, x.Data[:128])
	a, b := n.Score(x1)[0], n.Score(x)[0]
	if a == b {
		t.Error("training-mode score did not depend on the batch; the test cannot tell the modes apart")
	}
}

// TestMNISTSubset trains a small GANomaly (width 8, two epochs, Adam 1e-3)
// on 2,000 MNIST training images without digit 0 and checks that 0s of the
// test split score higher on average than the other digits.
func TestMNISTSubset(t *testing.T) {
	dir := shared.Path(t, "mnist")
	train, test, err := idx.LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	const abnormal = 0
	var tr, te []int
	for i, y := range train.Y {
		if y != abnormal && len(tr) < 2000 {
			tr = append(tr, i)
		}
	}
	var nNorm, nAb int
	for i, y := range test.Y {
		if y == abnormal && nAb < 200 {
			te, nAb = append(te, i), nAb+1
		} else if y != abnormal && nNorm < 200 {
			te, nNorm = append(te, i), nNorm+1
		}
	}
	trs, _ := train.Subset(tr)
	tes, _ := test.Subset(te)
	o := DefaultOptions()
	o.Width, o.Epochs, o.Seed, o.LR = 8, 2, 1, 1e-3
	d := New(o)
	if err := d.Fit(context.Background(), detector.TrainSet{X: trs}); err != nil {
		t.Fatal(err)
	}
	s, err := d.Score(context.Background(), tes)
	if err != nil {
		t.Fatal(err)
	}
	var sn, sa float64
	for i, y := range tes.Y {
		if y == abnormal {
			sa += s[i] / float64(nAb)
		} else {
			sn += s[i] / float64(nNorm)
		}
	}
	t.Logf("mean score: normal %.4g, digit %d %.4g", sn, abnormal, sa)
	if !(sn < sa) {
		t.Errorf("normal test images score %v on average, held-out digit %d %v", sn, abnormal, sa)
	}
}

// TestOptions checks the declared option names (they are the command
// line's and the benchmark suite's), the defaults, and that Validate
// refuses bad values with an error that wraps detector.ErrOption and names
// the option.
func TestOptions(t *testing.T) {
	o := DefaultOptions()
	want := []string{"width", "nz", "epochs", "batch", "max-images", "side", "lr", "val-frac", "select", "fit", "w-adv", "w-con", "w-enc"}
	if got := option.Names(&o); !slices.Equal(got, want) {
		t.Errorf("option names %v, want %v", got, want)
	}
	// The saved keys are those of the options before they embedded the
	// shared settings.
	dcgantest.CheckKeys(t, o, "width", "nz", "epochs", "batch_size", "max_images", "side", "lr", "w_adv", "w_con", "w_enc",
		"val_fraction", "select", "fit_mode", "beta1", "beta2", "reinit_below", "seed")
	if o, p := DefaultOptions(), PaperOptions(); o.Width != 16 || o.Epochs != 4 || o.MaxImages != 12000 ||
		p.Width != 64 || p.Epochs != 15 || p.MaxImages != 0 || p.NZ != 100 || p.WCon != 50 || p.LR != 2e-4 {
		t.Errorf("default %+v, paper %+v", o, p)
	}
	dcgantest.CheckOptions(t, DefaultOptions, PaperOptions, func(o *Options) *dcgan.Settings { return &o.Settings }, ErrOption,
		func(o Options) *dcgan.Detector[Options] { return &New(o).Detector }, map[string]func(o *Options){
			"w-adv":       func(o *Options) { o.WAdv = math.Inf(1) },
			"w-con":       func(o *Options) { o.WCon = -1 },
			"w-enc":       func(o *Options) { o.WEnc = math.NaN() },
			"ReinitBelow": func(o *Options) { o.ReinitBelow = -1 },
		})
	in, err := detector.Lookup(Method)
	if err != nil {
		t.Fatal(err)
	}
	if in.Kind != detector.Unsupervised|detector.Images {
		t.Errorf("kind %v", in.Kind)
	}
	if _, err := in.Configure(map[string]string{"w-con": "-2"}, 1); !errors.Is(err, detector.ErrOption) {
		t.Errorf("Configure w-con=-2: %v", err)
	}
	d, err := in.Configure(map[string]string{"width": "8", "max-images": "0", "fit": "resize", "val-frac": "0.2"}, 7)
	if err != nil {
		t.Fatal(err)
	}
	got := d.(*Detector).Options()
	if got.Width != 8 || got.MaxImages != 0 || got.FitMode != FitResize || got.ValFraction != 0.2 || got.Seed != 7 || got.Epochs != 4 {
		t.Errorf("configured options %+v", got)
	}
}

// TestConformance runs the detector contract's checks.
func TestConformance(t *testing.T) {
	detectortest.Conformance(t, dcgantest.Case(Method, map[string]string{"width": "0", "select": "test", "side": "12", "w-con": "-1"}))
}

// TestDetector fits GANomaly on horizontal bars and runs the checks every
// detector of package dcgan passes (dcgantest.CheckDetector), and checks
// that the batch reports carry the discriminator loss.
func TestDetector(t *testing.T) {
	o := DefaultOptions()
	dcgantest.Tiny(&o.Settings, 11)
	f := dcgantest.CheckDetector(t, &New(o).Detector, "g", func() *dcgan.Detector[Options] { return &New(PaperOptions()).Detector })
	for _, p := range f.Reports {
		if p.Metrics["d"] <= 0 || p.Metrics["con"] <= 0 {
			t.Errorf("%s report %+v", p.Phase, p)
		}
	}
}

// TestOldModel loads a model file written before the options had option
// names (and before the autoencoder moved to package cae: its options hold
// the CAE's loss too) and checks its scores bit for bit against those it
// gave then.
func TestOldModel(t *testing.T) {
	o := dcgantest.CheckOldModel[Options](t, "testdata/old-ganomaly.odm", []uint64{0x3ee6e9f6e0000000, 0x3ef9e48c60000000,
		0x3edbce5b60000000, 0x3edee70f00000000, 0x3eda012360000000, 0x3ee26fb8c0000000, 0x3ee1e85600000000, 0x3ee9c34ea0000000})
	if o.WAdv != 1 || o.WCon != 50 || o.WEnc != 1 || o.ReinitBelow != 1e-5 {
		t.Errorf("loaded options %+v", o)
	}
}

// TestGolden fits GANomaly as the code did before it shared its detector
// with package cae (padded, validation-selected; resized to 16, last
// epoch) and checks the scores and weights bit for bit.
func TestGolden(t *testing.T) {
	for _, c := range []struct {
		resize bool
		want   dcgantest.Golden
	}{
		{false, dcgantest.Golden{Best: 3, Tensors: "2d5153ffb8faf34d188da102ee13841085a5df881a9543241426b1d5b9ed6dc9",
			Scores: []uint64{0x3f30473ba0000000, 0x3f343a46e0000000, 0x3f372ff700000000, 0x3f35da5b20000000,
				0x3f36538320000000, 0x3f38ad7760000000, 0x3f3256ec20000000, 0x3f3009cd40000000}}},
		{true, dcgantest.Golden{Best: 3, Tensors: "6e47e1eecf409e0f864ca77cfd19874f9113ee1a131ebedbbb206e196492a05f",
			Scores: []uint64{0x3e7ea554a0000000, 0x3ebae11160000000, 0x3ec314bc00000000, 0x3ec3e32e00000000,
				0x3e7a3e9180000000, 0x3e79670120000000, 0x3eaca31aa0000000, 0x3e7aac41a0000000}}},
	} {
		o := DefaultOptions()
		dcgantest.GoldenSettings(&o.Settings, c.resize)
		dcgantest.CheckGolden(t, New(o), c.want)
	}
}
