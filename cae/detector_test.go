package cae

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/internal/dcgan"
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
	if p.Width != gp.Width || p.Epochs != gp.Epochs || p.MaxImages != gp.MaxImages || p.Beta1 != gp.Beta1 || p.Beta2 != gp.Beta2 || p.Loss != LossL2 {
		t.Errorf("paper options %+v, GANomaly's %+v", p, gp)
	}
	for name, o := range map[string]Options{"default": DefaultOptions(), "paper": PaperOptions()} {
		if err := o.Validate(); err != nil {
			t.Errorf("%s options: %v", name, err)
		}
	}
	bad := map[string]func(o *Options){
		"width":      func(o *Options) { o.Width = 0 },
		"nz":         func(o *Options) { o.NZ = 0 },
		"epochs":     func(o *Options) { o.Epochs = -1 },
		"batch":      func(o *Options) { o.BatchSize = 1 },
		"max-images": func(o *Options) { o.MaxImages = -5 },
		"lr":         func(o *Options) { o.LR = 0 },
		"val-frac":   func(o *Options) { o.ValFraction = math.NaN() },
		"select":     func(o *Options) { o.Select = "best" },
		"select ":    func(o *Options) { o.ValFraction = 0 },
		"fit":        func(o *Options) { o.FitMode = "" },
		"loss":       func(o *Options) { o.Loss = "huber" },
		"side":       func(o *Options) { o.Side = 48 },
		"Beta1":      func(o *Options) { o.Beta1 = math.NaN() },
		"Beta2":      func(o *Options) { o.Beta2 = 1 },
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
	a, err := build(o, dcgan.Geometry{C: 3, H: 32, W: 32, S: 32, Mode: FitPad})
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

func tinyOptions(seed uint64, loss string) Options {
	o := DefaultOptions()
	o.Width, o.NZ, o.Epochs, o.BatchSize, o.LR, o.Seed, o.Loss = 8, 8, 15, 16, 2e-3, seed, loss
	return o
}

func meanOf(s []float64) float64 {
	var m float64
	for _, v := range s {
		m += v
	}
	return m / float64(len(s))
}

func concat(a, b *data.Dataset) *data.Dataset {
	c, err := data.Concat("test", a, b)
	if err != nil {
		panic(err)
	}
	return c
}

// TestConformance runs the detector contract's checks.
func TestConformance(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"width": "4", "nz": "4", "epochs": "2", "batch": "16"},
		Slow:     map[string]string{"width": "4", "nz": "4", "epochs": "100000", "batch": "16"},
		Bad:      map[string]string{"loss": "huber", "batch": "1"},
		Train:    detectortest.Blobs(64, 8, false, 1),
		Test:     concat(detectortest.Blobs(12, 8, false, 2), detectortest.Blobs(4, 8, true, 3)),
	})
}

// TestDetector fits the autoencoder with each loss on horizontal bars and
// checks: vertical bars score higher on average, the score is the
// reconstruction error of Reconstruct's images, the kept epoch has the
// lowest validation loss, and progress is reported.
func TestDetector(t *testing.T) {
	ctx := context.Background()
	train := bars(320, false, 1)
	test := concat(bars(40, false, 2), bars(40, true, 3))
	for _, loss := range []string{LossL2, LossL1} {
		o := tinyOptions(11, loss)
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
			t.Errorf("%s: normal mean score %v, abnormal %v", loss, norm, ab)
		}

		// The score is the mean squared (absolute) difference between the
		// network's input and its reconstruction, in the network's [-1, 1]
		// (Reconstruct's [0, 1] values doubled).
		in, out, err := d.Reconstruct(ctx, test)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(in.Shape, []int{1, 8, 8}) || in.N != test.N || len(out.X) != len(in.X) || !slices.Equal(in.Y, test.Y) {
			t.Fatalf("%s: Reconstruct gave %d×%v", loss, in.N, in.Shape)
		}
		for i := 0; i < test.N; i++ {
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
			if math.Abs(e-s[i]) > 1e-4*math.Max(e, 1e-3) {
				t.Fatalf("%s: image %d scores %v, its reconstruction error is %v", loss, i, s[i], e)
			}
		}

		h := d.History()
		best := 0
		for i := range h {
			if h[i].Val < h[best].Val {
				best = i
			}
			if h[i].Con != h[i].G || h[i].Adv != 0 || h[i].D != 0 {
				t.Errorf("%s: epoch record %+v", loss, h[i])
			}
		}
		if d.BestEpoch() != best+1 {
			t.Errorf("%s: kept epoch %d, lowest validation loss at %d", loss, d.BestEpoch(), best+1)
		}
		val, _ := o.schedule().Split(train.N)
		if v, err := d.fit.ValLoss(ctx, train, val); err != nil || math.Abs(v-h[best].Val) > 1e-6*math.Max(1, v) {
			t.Errorf("%s: validation loss of the kept weights %v (%v), recorded %v", loss, v, err, h[best].Val)
		}
		var epochs int
		for _, p := range reports {
			if p.Phase == "epoch" {
				epochs++
				if p.Metrics["loss"] != h[epochs-1].G || p.Metrics["val"] != h[epochs-1].Val || p.Done != epochs {
					t.Errorf("%s: epoch report %+v, history %+v", loss, p, h[epochs-1])
				}
			}
		}
		if epochs != o.Epochs {
			t.Errorf("%s: %d epoch reports", loss, epochs)
		}
		z, dim, err := d.Embed(ctx, test)
		if err != nil || dim != o.NZ || len(z) != test.N*o.NZ {
			t.Errorf("%s: Embed gave %d values of dim %d, %v", loss, len(z), dim, err)
		}

		p, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		short := &detector.Payload{Config: p.Config, Tensors: p.Tensors[1:]}
		if err := New(DefaultOptions()).Unmarshal(short); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("%s: payload without %s: %v", loss, p.Tensors[0].Name, err)
		}
		d2 := New(PaperOptions())
		if err := d2.Unmarshal(p); err != nil || d2.Options() != d.Options() {
			t.Errorf("%s: restored options %+v (%v), want %+v", loss, d2.Options(), err, d.Options())
		}
	}
}

// images makes n c×h×w images of faint noise with one bright row: the
// generator that made the model file in testdata.
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

// TestOldModel loads a "cae" model file written by package ganomaly before
// the autoencoder had its own package (its options hold GANomaly's loss
// weights too, under the same JSON keys) and checks its scores bit for bit
// against those it gave then.
func TestOldModel(t *testing.T) {
	m, err := detector.LoadFile("testdata/old-cae.odm")
	if err != nil {
		t.Fatal(err)
	}
	d, ok := m.Detector.(*Detector)
	if !ok {
		t.Fatalf("loaded a %T", m.Detector)
	}
	if o := d.Options(); o.Width != 2 || o.NZ != 3 || o.Epochs != 2 || o.BatchSize != 16 || o.LR != 1e-3 || o.Seed != 4 ||
		o.Loss != LossL2 || o.FitMode != FitPad || o.Select != SelectVal || o.ValFraction != 0.1 || o.Beta1 != 0.5 {
		t.Errorf("loaded options %+v", o)
	}
	s, err := m.Score(context.Background(), images(8, 1, 6, 6, 12))
	if err != nil {
		t.Fatal(err)
	}
	want := []uint64{0x3fec8695e0000000, 0x3febf67560000000, 0x3fec1e6040000000, 0x3fec54e020000000,
		0x3fec3245c0000000, 0x3fec4db9c0000000, 0x3fec509900000000, 0x3fec741680000000}
	for i := range want {
		if math.Float64bits(s[i]) != want[i] {
			t.Errorf("score %d is %#x, saved model gave %#x", i, math.Float64bits(s[i]), want[i])
		}
	}
}
