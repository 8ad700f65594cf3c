package ganomaly

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/idx"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/internal/shared"
	"github.com/oddity-ml/oddity/tensor"
)

func init() { progress.Quiet = true }

// TestPadAndScale checks padding by hand: a 2×3 image centred on 8×8,
// values 2v-1, border -1.
func TestPadAndScale(t *testing.T) {
	ds := &data.Dataset{N: 1, Shape: []int{1, 2, 3}, X: []float32{0, 0.5, 1, 0.25, 0.75, 1}}
	g, err := newGeometry(ds.Shape, 0, FitPad)
	if err != nil || g.S != 8 {
		t.Fatalf("geometry %+v, %v", g, err)
	}
	out := make([]float32, 64)
	g.fill(out, ds, []int{0})
	// top = (8-2)/2 = 3, left = (8-3)/2 = 2.
	want := map[int]float32{3*8 + 2: -1, 3*8 + 3: 0, 3*8 + 4: 1, 4*8 + 2: -0.5, 4*8 + 3: 0.5, 4*8 + 4: 1}
	for i, v := range out {
		w, ok := want[i]
		if !ok {
			w = -1
		}
		if v != w {
			t.Fatalf("pixel %d (row %d col %d) = %v, want %v", i, i/8, i%8, v, w)
		}
	}
	if s, _ := SideFor(28, 28, 0); s != 32 {
		t.Errorf("side for MNIST = %d, want 32", s)
	}
	if s, _ := SideFor(32, 32, 0); s != 32 {
		t.Errorf("side for CIFAR-10 = %d, want 32", s)
	}
}

// TestResizeBilinear compares with PyTorch's interpolate(bilinear,
// align_corners=False) of [[0,1],[2,3]] to 4×4, worked by hand.
func TestResizeBilinear(t *testing.T) {
	dst := make([]float32, 16)
	resizeBilinear(dst, 4, 4, []float32{0, 1, 2, 3}, 2, 2)
	want := []float32{0, .25, .75, 1, .5, .75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3}
	for i := range want {
		if math.Abs(float64(dst[i]-want[i])) > 1e-6 {
			t.Fatalf("resize = %v, want %v", dst, want)
		}
	}
	// The same size is the identity.
	src := []float32{1, 2, 3, 4, 5, 6}
	same := make([]float32, 6)
	resizeBilinear(same, 2, 3, src, 2, 3)
	for i := range src {
		if same[i] != src[i] {
			t.Fatalf("identity resize = %v", same)
		}
	}
}

func TestBadInputsAndOptions(t *testing.T) {
	for _, shape := range [][]int{{784}, {1, 2, 3, 4}} {
		if _, err := newGeometry(shape, 0, FitPad); !errors.Is(err, ErrInput) {
			t.Errorf("shape %v: %v", shape, err)
		}
	}
	if _, err := newGeometry([]int{1, 40, 40}, 32, FitPad); err == nil {
		t.Error("40×40 padded to 32 accepted")
	}
	if g, err := newGeometry([]int{1, 40, 40}, 32, FitResize); err != nil || g.S != 32 {
		t.Errorf("40×40 resized to 32: %+v %v", g, err)
	}
	for _, side := range []int{28, 48, 12} {
		if _, err := newGeometry([]int{1, 8, 8}, side, FitPad); err == nil {
			t.Errorf("side %d accepted", side)
		}
	}
	bad := []func(o *Options){
		func(o *Options) { o.Width = 0 },
		func(o *Options) { o.BatchSize = 1 },
		func(o *Options) { o.LR = math.NaN() },
		func(o *Options) { o.WCon = -1 },
		func(o *Options) { o.Beta1 = 1 },
		func(o *Options) { o.Select = "test" },
		func(o *Options) { o.ValFraction = 0 },
		func(o *Options) { o.Side = 28 },
		func(o *Options) { o.FitMode = "crop" },
		func(o *Options) { o.Loss = "huber" },
	}
	for i, f := range bad {
		o := DefaultOptions()
		f(&o)
		if o.Validate() == nil {
			t.Errorf("bad option %d accepted: %+v", i, o)
		}
	}
	if err := DefaultOptions().Validate(); err != nil {
		t.Error(err)
	}
	if err := CPUOptions().Validate(); err != nil {
		t.Error(err)
	}
	d := New(tinyOptions(1))
	if _, err := d.Score(context.Background(), bars(2, false, 1)); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Score before Fit: %v", err)
	}
	nan := bars(4, false, 1)
	nan.X[3] = float32(math.NaN())
	if err := d.Fit(context.Background(), detector.TrainSet{X: nan}); err == nil {
		t.Error("NaN training data accepted")
	}
}

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

// bars makes n 1×6×6 images: a bright horizontal bar at a random row
// (vertical bar when vertical), faint noise elsewhere.
func bars(n int, vertical bool, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 9))
	ds := &data.Dataset{Name: "bars", N: n, Shape: []int{1, 6, 6}, X: make([]float32, n*36)}
	for i := 0; i < n; i++ {
		img := ds.X[i*36 : (i+1)*36]
		for j := range img {
			img[j] = 0.1 * r.Float32()
		}
		k := 1 + r.IntN(4)
		for j := 0; j < 6; j++ {
			if vertical {
				img[j*6+k] = 0.9 + 0.1*r.Float32()
			} else {
				img[k*6+j] = 0.9 + 0.1*r.Float32()
			}
		}
	}
	return ds
}

func tinyOptions(seed uint64) Options {
	o := DefaultOptions()
	o.Width, o.NZ, o.Epochs, o.BatchSize, o.LR, o.Seed = 8, 8, 15, 16, 2e-3, seed
	return o
}

func meanOf(s []float64) float64 {
	var m float64
	for _, v := range s {
		m += v
	}
	return m / float64(len(s))
}

// TestDetectors fits both detectors on horizontal bars and checks: vertical
// bars score higher on average, the same seed gives the same scores, saving
// and loading gives bit-identical scores, the kept epoch is the one with
// the lowest validation loss, and the wrong input shape is refused.
func TestDetectors(t *testing.T) {
	ctx := context.Background()
	train := bars(320, false, 1)
	test, _ := data.Concat("test", bars(40, false, 2), bars(40, true, 3))
	for _, mk := range []func(Options) detector.Detector{
		func(o Options) detector.Detector { return New(o) },
		func(o Options) detector.Detector { return NewCAE(o) },
	} {
		d := mk(tinyOptions(11))
		m, err := detector.Fit(ctx, d, detector.TrainSet{X: train}, detector.ThresholdRule{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := m.Score(ctx, test)
		if err != nil {
			t.Fatal(err)
		}
		if norm, ab := meanOf(s[:40]), meanOf(s[40:]); !(norm < ab) {
			t.Errorf("%s: normal mean score %v, abnormal %v", d.Method(), norm, ab)
		}

		// Epoch selection: the kept weights reproduce the best validation loss.
		b := baseOf(d)
		h := b.History()
		best := 0
		for i := range h {
			if h[i].Val < h[best].Val {
				best = i
			}
		}
		if b.BestEpoch() != best+1 {
			t.Errorf("%s: kept epoch %d, lowest validation loss at %d (%+v)", d.Method(), b.BestEpoch(), best+1, h)
		}
		perm := rand.New(rand.NewPCG(b.opt.Seed, 0x53504c4954)).Perm(train.N)
		if v := b.validate(train, perm[:b.nVal]); math.Abs(v-h[best].Val) > 1e-6*math.Max(1, v) {
			t.Errorf("%s: validation loss of the kept weights %v, recorded %v", d.Method(), v, h[best].Val)
		}

		// Same seed, same scores.
		d2 := mk(tinyOptions(11))
		if err := d2.Fit(ctx, detector.TrainSet{X: train}); err != nil {
			t.Fatal(err)
		}
		s2, _ := d2.Score(ctx, test)
		for i := range s {
			if s[i] != s2[i] {
				t.Fatalf("%s: refit with the same seed: score %d %v vs %v", d.Method(), i, s[i], s2[i])
			}
		}

		// Save and load: registered, bit-identical scores.
		var buf bytes.Buffer
		if err := m.Save(&buf); err != nil {
			t.Fatal(err)
		}
		m2, err := detector.Load(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if m2.Detector.Method() != d.Method() {
			t.Errorf("loaded method %q", m2.Detector.Method())
		}
		s3, err := m2.Score(ctx, test)
		if err != nil {
			t.Fatal(err)
		}
		for i := range s {
			if math.Float64bits(s[i]) != math.Float64bits(s3[i]) {
				t.Fatalf("%s: score %d %v before save, %v after load", d.Method(), i, s[i], s3[i])
			}
		}
		// Stored state that does not fit is refused.
		p, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		short := &detector.Payload{Config: p.Config, Tensors: p.Tensors[1:]}
		if err := mk(tinyOptions(1)).Unmarshal(short); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("%s: payload without %s: %v", d.Method(), p.Tensors[0].Name, err)
		}
		bent := &detector.Payload{Config: p.Config, Tensors: append([]*tensor.Tensor{tensor.New(3)}, p.Tensors[1:]...)}
		bent.Tensors[0].Name = p.Tensors[0].Name
		if err := mk(tinyOptions(1)).Unmarshal(bent); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("%s: payload with a misshapen tensor: %v", d.Method(), err)
		}
		if err := mk(tinyOptions(1)).Unmarshal(&detector.Payload{Config: []byte(`{"options":{}}`)}); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("%s: payload with bad options: %v", d.Method(), err)
		}
		if _, err := d.Score(ctx, &data.Dataset{N: 1, Shape: []int{1, 8, 8}, X: make([]float32, 64)}); !errors.Is(err, ErrInput) {
			t.Errorf("%s: wrong shape: %v", d.Method(), err)
		}
		in, rec, err := baseOf(d).Reconstruct(ctx, test)
		if err != nil || len(in) != test.N*64 || len(rec) != len(in) {
			t.Errorf("%s: Reconstruct: %d, %d values, %v", d.Method(), len(in), len(rec), err)
		}
	}
}

func baseOf(d detector.Detector) *base {
	switch v := d.(type) {
	case *GANomaly:
		return &v.base
	case *CAE:
		return &v.base
	}
	panic("not a ganomaly detector")
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := New(tinyOptions(1)).Fit(ctx, detector.TrainSet{X: bars(64, false, 1)}); !errors.Is(err, context.Canceled) {
		t.Errorf("Fit with a cancelled context: %v", err)
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

// Latent gives G_E's code: one row of NZ values per image, the same for an
// image alone or in a batch (inference mode); unfitted detectors and
// wrong-shaped images are refused.
func TestLatent(t *testing.T) {
	ctx := context.Background()
	o := tinyOptions(5)
	o.Epochs = 2
	g := New(o)
	if _, err := g.Latent(ctx, bars(4, false, 1)); err == nil {
		t.Error("Latent of an unfitted detector: no error")
	}
	if err := g.Fit(ctx, detector.TrainSet{X: bars(96, false, 1)}); err != nil {
		t.Fatal(err)
	}
	x := bars(6, true, 4)
	z, err := g.Latent(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	if len(z) != 6*o.NZ {
		t.Fatalf("%d latent values for 6 images of nz %d", len(z), o.NZ)
	}
	one, _ := x.Subset([]int{3})
	z3, err := g.Latent(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	for j := range z3 {
		if d := math.Abs(float64(z3[j] - z[3*o.NZ+j])); d > 1e-5 {
			t.Fatalf("latent value %d of image 3: %v alone, %v in the batch", j, z3[j], z[3*o.NZ+j])
		}
	}
	if _, err := g.Latent(ctx, &data.Dataset{N: 1, Shape: []int{1, 5, 5}, X: make([]float32, 25)}); err == nil {
		t.Error("Latent of a wrong-shaped image: no error")
	}
}
