package ganomaly

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/idx"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
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
	want := []string{"width", "nz", "epochs", "batch", "max-images", "side", "lr", "w-adv", "w-con", "w-enc", "val-frac", "select", "fit"}
	if got := option.Names(&o); !slices.Equal(got, want) {
		t.Errorf("option names %v, want %v", got, want)
	}
	for name, o := range map[string]Options{"default": DefaultOptions(), "paper": PaperOptions()} {
		if err := o.Validate(); err != nil {
			t.Errorf("%s options: %v", name, err)
		}
	}
	if o, p := DefaultOptions(), PaperOptions(); o.Width != 16 || o.Epochs != 4 || o.MaxImages != 12000 ||
		p.Width != 64 || p.Epochs != 15 || p.MaxImages != 0 || p.NZ != 100 || p.WCon != 50 || p.LR != 2e-4 {
		t.Errorf("default %+v, paper %+v", o, p)
	}
	bad := map[string]func(o *Options){
		"width":       func(o *Options) { o.Width = 0 },
		"nz":          func(o *Options) { o.NZ = -1 },
		"epochs":      func(o *Options) { o.Epochs = 0 },
		"batch":       func(o *Options) { o.BatchSize = 1 },
		"max-images":  func(o *Options) { o.MaxImages = -1 },
		"lr":          func(o *Options) { o.LR = math.NaN() },
		"w-adv":       func(o *Options) { o.WAdv = math.Inf(1) },
		"w-con":       func(o *Options) { o.WCon = -1 },
		"w-enc":       func(o *Options) { o.WEnc = math.NaN() },
		"val-frac":    func(o *Options) { o.ValFraction = 0.7 },
		"select":      func(o *Options) { o.Select = "test" },
		"select ":     func(o *Options) { o.ValFraction = 0 },
		"fit":         func(o *Options) { o.FitMode = "crop" },
		"side":        func(o *Options) { o.Side = 28 },
		"Beta1":       func(o *Options) { o.Beta1 = 1 },
		"Beta2":       func(o *Options) { o.Beta2 = -0.1 },
		"ReinitBelow": func(o *Options) { o.ReinitBelow = -1 },
	}
	for name, f := range bad {
		o := DefaultOptions()
		f(&o)
		err := o.Validate()
		if !errors.Is(err, detector.ErrOption) || !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), strings.TrimSpace(name)+" = ") {
			t.Errorf("bad %s: %v", name, err)
		}
		if err := New(o).Fit(context.Background(), detector.TrainSet{X: bars(8, false, 1)}); !errors.Is(err, ErrOption) {
			t.Errorf("Fit with bad %s: %v", name, err)
		}
	}
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
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"width": "4", "nz": "4", "epochs": "2", "batch": "16"},
		Slow:     map[string]string{"width": "4", "nz": "4", "epochs": "100000", "batch": "16"},
		Bad:      map[string]string{"width": "0", "select": "test", "side": "12"},
		Train:    detectortest.Blobs(64, 8, false, 1),
		Test:     append2(detectortest.Blobs(12, 8, false, 2), detectortest.Blobs(4, 8, true, 3)),
	})
}

func append2(a, b *data.Dataset) *data.Dataset {
	c, err := data.Concat("test", a, b)
	if err != nil {
		panic(err)
	}
	return c
}

// TestDetector fits GANomaly on horizontal bars and checks: vertical bars
// score higher on average, the kept epoch is the one with the lowest
// validation loss, progress is reported, stored state that does not fit is
// refused, and the embedding and reconstructions have their shapes.
func TestDetector(t *testing.T) {
	ctx := context.Background()
	train := bars(320, false, 1)
	test := append2(bars(40, false, 2), bars(40, true, 3))
	o := tinyOptions(11)
	d := New(o)
	var reports []detector.Progress
	if err := d.Fit(ctx, detector.TrainSet{X: train, Progress: func(p detector.Progress) { reports = append(reports, p) }}); err != nil {
		t.Fatal(err)
	}
	s, err := d.Score(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	if norm, ab := meanOf(s[:40]), meanOf(s[40:]); !(norm < ab) {
		t.Errorf("normal mean score %v, abnormal %v", norm, ab)
	}
	if d.TrainImages() != 288 || d.ValImages() != 32 || d.Side() != 8 {
		t.Errorf("%d training, %d validation images, side %d", d.TrainImages(), d.ValImages(), d.Side())
	}

	// Epoch selection: the kept weights reproduce the best validation loss.
	h := d.History()
	best := 0
	for i := range h {
		if h[i].Val < h[best].Val {
			best = i
		}
	}
	if len(h) != o.Epochs || d.BestEpoch() != best+1 {
		t.Errorf("kept epoch %d, lowest validation loss at %d (%+v)", d.BestEpoch(), best+1, h)
	}
	val, _ := o.schedule().Split(train.N)
	if v, err := d.fit.ValLoss(ctx, train, val); err != nil || math.Abs(v-h[best].Val) > 1e-6*math.Max(1, v) {
		t.Errorf("validation loss of the kept weights %v (%v), recorded %v", v, err, h[best].Val)
	}

	// Progress: one "epoch" report per epoch with the losses, "batch"
	// reports within each (18 steps of 16: at steps 10 and 18).
	var epochs, batches int
	for _, p := range reports {
		switch p.Phase {
		case "epoch":
			epochs++
			if p.Done != epochs || p.Total != o.Epochs || p.Metrics["g"] != h[epochs-1].G || p.Metrics["val"] != h[epochs-1].Val {
				t.Errorf("epoch report %+v, history %+v", p, h[epochs-1])
			}
		case "batch":
			batches++
			if p.Total != 18 || (p.Done != 10 && p.Done != 18) || p.Metrics["d"] <= 0 {
				t.Errorf("batch report %+v", p)
			}
		default:
			t.Errorf("report of phase %q", p.Phase)
		}
	}
	if epochs != o.Epochs || batches != 2*o.Epochs {
		t.Errorf("%d epoch and %d batch reports for %d epochs", epochs, batches, o.Epochs)
	}

	// Stored state that does not fit is refused.
	p, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	short := &detector.Payload{Config: p.Config, Tensors: p.Tensors[1:]}
	if err := New(tinyOptions(1)).Unmarshal(short); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("payload without %s: %v", p.Tensors[0].Name, err)
	}
	bent := &detector.Payload{Config: p.Config, Tensors: append([]*tensor.Tensor{tensor.New(3)}, p.Tensors[1:]...)}
	bent.Tensors[0].Name = p.Tensors[0].Name
	if err := New(tinyOptions(1)).Unmarshal(bent); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("payload with a misshapen tensor: %v", err)
	}
	for _, cfg := range []string{`{"options":{}}`, `{"options":{"width":8}}`, `{}`, `[`} {
		if err := New(tinyOptions(1)).Unmarshal(&detector.Payload{Config: []byte(cfg), Tensors: p.Tensors}); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("payload config %s: %v", cfg, err)
		}
	}
	// Unmarshal restores the stored options, whatever the detector was
	// made with.
	d2 := New(PaperOptions())
	if err := d2.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	if d2.Options() != d.Options() || d2.BestEpoch() != d.BestEpoch() || len(d2.History()) != len(h) {
		t.Errorf("restored options %+v, want %+v", d2.Options(), d.Options())
	}

	// Embed: one row of NZ values per image, the same alone and in a batch.
	x := bars(6, true, 4)
	z, dim, err := d.Embed(ctx, x)
	if err != nil || dim != o.NZ || len(z) != 6*o.NZ {
		t.Fatalf("Embed: %d values of dim %d, %v", len(z), dim, err)
	}
	one, _ := x.Subset([]int{3})
	z3, _, err := d.Embed(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	for j := range z3 {
		if d := math.Abs(float64(z3[j] - z[3*o.NZ+j])); d > 1e-5 {
			t.Fatalf("code value %d of image 3: %v alone, %v in the batch", j, z3[j], z[3*o.NZ+j])
		}
	}

	// Reconstruct: 1×8×8 images in [0, 1]; the input is the image padded
	// with black.
	in, out, err := d.Reconstruct(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	if in.N != 6 || out.N != 6 || !slices.Equal(in.Shape, []int{1, 8, 8}) || !slices.Equal(out.Shape, in.Shape) || len(out.X) != len(in.X) {
		t.Fatalf("Reconstruct: %d×%v and %d×%v", in.N, in.Shape, out.N, out.Shape)
	}
	if in.X[0] != 0 || math.Abs(float64(in.X[64+9]-x.X[36])) > 1e-6 {
		t.Errorf("input pixels %v, %v; want 0 (border) and %v", in.X[0], in.X[64+9], x.X[36])
	}
	for _, v := range out.X {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("reconstruction value %v outside [0, 1]", v)
		}
	}

	// Wrong shapes and unfitted detectors are refused.
	wrong := &data.Dataset{N: 1, Shape: []int{1, 8, 8}, X: make([]float32, 64)}
	if _, err := d.Score(ctx, wrong); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("Score of the wrong shape: %v", err)
	}
	if _, _, err := d.Embed(ctx, wrong); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("Embed of the wrong shape: %v", err)
	}
	if _, _, err := d.Reconstruct(ctx, wrong); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("Reconstruct of the wrong shape: %v", err)
	}
	u := New(o)
	if _, _, err := u.Embed(ctx, x); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Embed before Fit: %v", err)
	}
	if _, _, err := u.Reconstruct(ctx, x); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Reconstruct before Fit: %v", err)
	}
	if _, err := u.Marshal(); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Marshal before Fit: %v", err)
	}
	if u.Side() != 0 || u.History() != nil || u.BestEpoch() != 0 {
		t.Error("an unfitted detector reports training")
	}
	if err := u.Fit(ctx, detector.TrainSet{X: &data.Dataset{N: 4, Shape: []int{36}, X: make([]float32, 144)}}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("Fit on rows: %v", err)
	}
}

// images makes n c×h×w images of faint noise with one bright row: the
// generator that made the model files in testdata.
func images(n, c, h, w int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 99))
	ds := &data.Dataset{Name: "img", N: n, Shape: []int{c, h, w}, X: make([]float32, n*c*h*w), Y: make([]int, n)}
	for i := 0; i < n; i++ {
		img := ds.X[i*c*h*w : (i+1)*c*h*w]
		for j := range img {
			img[j] = 0.1 * r.Float32()
		}
		k := r.IntN(h)
		for ch := 0; ch < c; ch++ {
			for x := 0; x < w; x++ {
				img[ch*h*w+k*w+x] = 0.8 + 0.2*r.Float32()
			}
		}
	}
	return ds
}

// TestOldModel loads a model file written before the options had option
// names (and before the autoencoder moved to package cae: its options hold
// the CAE's loss too) and checks its scores bit for bit against those it
// gave then.
func TestOldModel(t *testing.T) {
	m, err := detector.LoadFile("testdata/old-ganomaly.odm")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := m.Detector.(*Detector)
	if !ok {
		t.Fatalf("loaded a %T", m.Detector)
	}
	if o := d.Options(); o.Width != 2 || o.NZ != 3 || o.Epochs != 2 || o.BatchSize != 16 || o.LR != 1e-3 || o.Seed != 4 ||
		o.MaxImages != 0 || o.WCon != 50 || o.FitMode != FitPad || o.Select != SelectVal || o.ReinitBelow != 1e-5 {
		t.Errorf("loaded options %+v", o)
	}
	s, err := m.Score(context.Background(), images(8, 1, 6, 6, 12))
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{0x3ee6e9f6e0000000, 0x3ef9e48c60000000, 0x3edbce5b60000000, 0x3edee70f00000000,
		0x3eda012360000000, 0x3ee26fb8c0000000, 0x3ee1e85600000000, 0x3ee9c34ea0000000}
	for i := range want {
		if math.Float64bits(s[i]) != want[i] {
			t.Errorf("score %d is %#x, saved model gave %#x", i, math.Float64bits(s[i]), want[i])
		}
	}
}
