// Package dcgantest holds the test data and checks that the tests of
// GANomaly (package ganomaly) and its autoencoder baseline (package cae)
// share: both are the detector of package internal/dcgan with their own
// networks, so they pass the same checks.
package dcgantest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/internal/dcgan"
	"github.com/oddity-ml/oddity/tensor"
)

// Bars makes n 1×6×6 images: a bright horizontal bar at a random row
// (vertical bar when vertical), faint noise elsewhere.
func Bars(n int, vertical bool, seed uint64) *data.Dataset {
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

// Images makes n c×h×w images of faint noise with one bright row: the
// generator that made the model files in the packages' testdata.
func Images(n, c, h, w int, seed uint64) *data.Dataset {
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

// Concat joins two data sets (normal images first, then anomalies).
func Concat(a, b *data.Dataset) *data.Dataset {
	c, err := data.Concat("test", a, b)
	if err != nil {
		panic(err)
	}
	return c
}

// Mean is the mean of s.
func Mean(s []float64) float64 {
	var m float64
	for _, v := range s {
		m += v
	}
	return m / float64(len(s))
}

// Tiny sets s to the small networks and schedule the detector checks fit
// with: width 8, nz 8, 15 epochs of batch 16, learning rate 2e-3, and the
// seed.
func Tiny(s *dcgan.Settings, seed uint64) {
	s.Width, s.NZ, s.Epochs, s.BatchSize, s.LR, s.Seed = 8, 8, 15, 16, 2e-3, seed
}

// Case is the conformance case (package detectortest) of the registered
// method: small networks on blobs; bad are option values its Validate
// must refuse.
func Case(method string, bad map[string]string) detectortest.Case {
	return detectortest.Case{
		Method:   method,
		Settings: map[string]string{"width": "4", "nz": "4", "epochs": "2", "batch": "16"},
		Slow:     map[string]string{"width": "4", "nz": "4", "epochs": "100000", "batch": "16"},
		Bad:      bad,
		Train:    detectortest.Blobs(64, 8, false, 1),
		Test:     Concat(detectortest.Blobs(12, 8, false, 2), detectortest.Blobs(4, 8, true, 3)),
	}
}

// BadSettings changes one shared setting each to a value Validate must
// refuse; the key is the option's name as errors spell it (a trailing
// space tells two changes of one option apart).
var BadSettings = map[string]func(s *dcgan.Settings){
	"width":      func(s *dcgan.Settings) { s.Width = 0 },
	"nz":         func(s *dcgan.Settings) { s.NZ = -1 },
	"epochs":     func(s *dcgan.Settings) { s.Epochs = 0 },
	"batch":      func(s *dcgan.Settings) { s.BatchSize = 1 },
	"max-images": func(s *dcgan.Settings) { s.MaxImages = -1 },
	"lr":         func(s *dcgan.Settings) { s.LR = math.NaN() },
	"lr ":        func(s *dcgan.Settings) { s.LR = 0 },
	"val-frac":   func(s *dcgan.Settings) { s.ValFraction = 0.7 },
	"val-frac ":  func(s *dcgan.Settings) { s.ValFraction = math.NaN() },
	"select":     func(s *dcgan.Settings) { s.Select = "test" },
	"select ":    func(s *dcgan.Settings) { s.ValFraction = 0 },
	"fit":        func(s *dcgan.Settings) { s.FitMode = "crop" },
	"side":       func(s *dcgan.Settings) { s.Side = 28 },
	"side ":      func(s *dcgan.Settings) { s.Side = 48 },
	"Beta1":      func(s *dcgan.Settings) { s.Beta1 = 1 },
	"Beta2":      func(s *dcgan.Settings) { s.Beta2 = -0.1 },
}

// CheckOptions checks that the defaults and the paper options validate,
// and that each change of BadSettings (applied to the Settings that
// settings finds in the options) and of bad is refused by Validate, with
// an error that wraps detector.ErrOption and the method's errOption and
// names the option, and by Fit.
func CheckOptions[O dcgan.Options](t *testing.T, defaults, paper func() O, settings func(*O) *dcgan.Settings, errOption error,
	newDetector func(O) *dcgan.Detector[O], bad map[string]func(*O)) {
	t.Helper()
	for name, o := range map[string]O{"default": defaults(), "paper": paper()} {
		if err := o.Validate(); err != nil {
			t.Errorf("%s options: %v", name, err)
		}
	}
	all := map[string]func(*O){}
	for name, f := range BadSettings {
		all[name] = func(o *O) { f(settings(o)) }
	}
	for name, f := range bad {
		all[name] = f
	}
	for name, f := range all {
		o := defaults()
		f(&o)
		err := o.Validate()
		if !errors.Is(err, detector.ErrOption) || !errors.Is(err, errOption) || !strings.Contains(err.Error(), strings.TrimSpace(name)+" = ") {
			t.Errorf("bad %s: %v", name, err)
		}
		if err := newDetector(o).Fit(context.Background(), detector.TrainSet{X: Bars(8, false, 1)}); !errors.Is(err, errOption) {
			t.Errorf("Fit with bad %s: %v", name, err)
		}
	}
}

// Fitted is a detector CheckDetector fitted, with its data.
type Fitted struct {
	// Train and Test are the training images (horizontal bars) and the
	// test images (40 horizontal bars, then 40 vertical ones).
	Train, Test *data.Dataset
	// Scores are the scores of Test.
	Scores []float64
	// Reports are the progress reports of Fit.
	Reports []detector.Progress
}

// CheckDetector fits d, unfitted with Tiny settings, on 320 horizontal bars
// and runs the checks every detector of package dcgan passes: vertical bars
// score higher on average; the split and side are as the settings say; the
// kept epoch has the lowest validation loss, and the kept weights
// reproduce it; each epoch is reported with the method's metric (the
// history's G) and the validation loss, and batches every 10 steps; the
// payload restores the options, history and scores, and a payload that
// does not fit is refused; Embed and Reconstruct have their shapes and do
// not depend on the batch; wrong shapes and unfitted detectors are
// refused. fresh returns an unfitted detector of the method.
func CheckDetector[O dcgan.Options](t *testing.T, d *dcgan.Detector[O], metric string, fresh func() *dcgan.Detector[O]) Fitted {
	t.Helper()
	ctx := context.Background()
	f := Fitted{Train: Bars(320, false, 1), Test: Concat(Bars(40, false, 2), Bars(40, true, 3))}
	o := dcgan.SettingsOf(d.Options())
	if err := d.Fit(ctx, detector.TrainSet{X: f.Train, Progress: func(p detector.Progress) { f.Reports = append(f.Reports, p) }}); err != nil {
		t.Fatal(err)
	}
	s, err := d.Score(ctx, f.Test)
	if err != nil {
		t.Fatal(err)
	}
	f.Scores = s
	if norm, ab := Mean(s[:40]), Mean(s[40:]); !(norm < ab) {
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
	val, _ := dcgan.ScheduleOf(o).Split(f.Train.N)
	if v, err := dcgan.FittedOf(d).ValLoss(ctx, f.Train, val); err != nil || math.Abs(v-h[best].Val) > 1e-6*math.Max(1, v) {
		t.Errorf("validation loss of the kept weights %v (%v), recorded %v", v, err, h[best].Val)
	}

	// Progress: one "epoch" report per epoch with the losses, "batch"
	// reports within each (18 steps of 16: at steps 10 and 18).
	var epochs, batches int
	for _, p := range f.Reports {
		switch p.Phase {
		case "epoch":
			epochs++
			if p.Done != epochs || p.Total != o.Epochs || p.Metrics[metric] != h[epochs-1].G || p.Metrics["val"] != h[epochs-1].Val {
				t.Errorf("epoch report %+v, history %+v", p, h[epochs-1])
			}
		case "batch":
			batches++
			if p.Total != 18 || (p.Done != 10 && p.Done != 18) || p.Metrics[metric] <= 0 {
				t.Errorf("batch report %+v", p)
			}
		default:
			t.Errorf("report of phase %q", p.Phase)
		}
	}
	if epochs != o.Epochs || batches != 2*o.Epochs {
		t.Errorf("%d epoch and %d batch reports for %d epochs", epochs, batches, o.Epochs)
	}

	checkPayload(t, d, fresh)
	checkEmbedReconstruct(t, d)

	// Wrong shapes and unfitted detectors are refused.
	refused := func(d *dcgan.Detector[O], x *data.Dataset, want error, why string) {
		t.Helper()
		_, errS := d.Score(ctx, x)
		_, _, errE := d.Embed(ctx, x)
		_, _, errR := d.Reconstruct(ctx, x)
		for i, err := range []error{errS, errE, errR} {
			if !errors.Is(err, want) {
				t.Errorf("%s %s: %v", []string{"Score", "Embed", "Reconstruct"}[i], why, err)
			}
		}
	}
	refused(d, &data.Dataset{N: 1, Shape: []int{1, 8, 8}, X: make([]float32, 64)}, detector.ErrSchema, "of the wrong shape")
	u := fresh()
	refused(u, Bars(6, true, 4), detector.ErrNotFitted, "before Fit")
	if _, err := u.Marshal(); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Marshal before Fit: %v", err)
	}
	if u.Side() != 0 || u.History() != nil || u.BestEpoch() != 0 || u.TrainImages() != 0 || u.ValImages() != 0 {
		t.Error("an unfitted detector reports training")
	}
	if err := u.Fit(ctx, detector.TrainSet{X: &data.Dataset{N: 4, Shape: []int{36}, X: make([]float32, 144)}}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("Fit on rows: %v", err)
	}
	return f
}

// checkPayload checks that stored state that does not fit is refused, and
// that Unmarshal restores the stored options (whatever the detector was
// made with), the training record and the scores.
func checkPayload[O dcgan.Options](t *testing.T, d *dcgan.Detector[O], fresh func() *dcgan.Detector[O]) {
	t.Helper()
	ctx := context.Background()
	p, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	short := &detector.Payload{Config: p.Config, Tensors: p.Tensors[1:]}
	if err := fresh().Unmarshal(short); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("payload without %s: %v", p.Tensors[0].Name, err)
	}
	bent := &detector.Payload{Config: p.Config, Tensors: append([]*tensor.Tensor{tensor.New(3)}, p.Tensors[1:]...)}
	bent.Tensors[0].Name = p.Tensors[0].Name
	if err := fresh().Unmarshal(bent); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("payload with a misshapen tensor: %v", err)
	}
	for _, cfg := range []string{`{"options":{}}`, `{"options":{"width":8}}`, `{}`, `[`} {
		if err := fresh().Unmarshal(&detector.Payload{Config: []byte(cfg), Tensors: p.Tensors}); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("payload config %s: %v", cfg, err)
		}
	}
	d2 := fresh()
	if err := d2.Unmarshal(p); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(d2.Options(), d.Options()) || d2.BestEpoch() != d.BestEpoch() || !reflect.DeepEqual(d2.History(), d.History()) {
		t.Errorf("restored options %+v, want %+v", d2.Options(), d.Options())
	}
	x := Bars(10, true, 5)
	s1, err1 := d.Score(ctx, x)
	s2, err2 := d2.Score(ctx, x)
	if err1 != nil || err2 != nil || !slices.Equal(s1, s2) {
		t.Errorf("restored detector scores %v (%v), the original %v (%v)", s2, err2, s1, err1)
	}
}

// checkEmbedReconstruct checks Embed (one row of NZ values per image, the
// same alone and in a batch) and Reconstruct (1×8×8 images in [0, 1]; the
// input is the image padded with black).
func checkEmbedReconstruct[O dcgan.Options](t *testing.T, d *dcgan.Detector[O]) {
	t.Helper()
	ctx := context.Background()
	nz := dcgan.SettingsOf(d.Options()).NZ
	x := Bars(6, true, 4)
	z, dim, err := d.Embed(ctx, x)
	if err != nil || dim != nz || len(z) != 6*nz {
		t.Fatalf("Embed: %d values of dim %d, %v", len(z), dim, err)
	}
	one, _ := x.Subset([]int{3})
	z3, _, err := d.Embed(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	for j := range z3 {
		if d := math.Abs(float64(z3[j] - z[3*nz+j])); d > 1e-5 {
			t.Fatalf("code value %d of image 3: %v alone, %v in the batch", j, z3[j], z[3*nz+j])
		}
	}
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
}

// OldSettings are the settings the model files in the packages' testdata
// were trained with.
var OldSettings = dcgan.Settings{Width: 2, NZ: 3, Epochs: 2, BatchSize: 16, LR: 1e-3, ValFraction: 0.1, Select: dcgan.SelectVal,
	FitMode: dcgan.FitPad, Beta1: 0.5, Beta2: 0.999, Seed: 4}

// CheckOldModel loads the model file path, written by an earlier version
// of the code with OldSettings, and checks its settings and its scores of
// Images(8, 1, 6, 6, 12), bit for bit, against want, the scores it gave
// then. It returns the loaded options.
func CheckOldModel[O dcgan.Options](t *testing.T, path string, want []uint64) O {
	t.Helper()
	m, err := detector.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, ok := m.Detector.(interface{ Options() O })
	if !ok {
		t.Fatalf("loaded a %T", m.Detector)
	}
	o := d.Options()
	if s := dcgan.SettingsOf(o); s != OldSettings {
		t.Errorf("loaded settings %+v, want %+v", s, OldSettings)
	}
	s, err := m.Score(context.Background(), Images(8, 1, 6, 6, 12))
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if math.Float64bits(s[i]) != want[i] {
			t.Errorf("score %d is %#x, saved model gave %#x", i, math.Float64bits(s[i]), want[i])
		}
	}
	return o
}

// Golden is a fit recorded by an earlier version of the code.
type Golden struct {
	// Scores are the bits of the scores of Images(8, 1, 6, 6, 12).
	Scores []uint64
	// Tensors is the SHA-256, in hex, of the saved tensors' names and
	// values (little-endian float32 bits).
	Tensors string
	// Best is the kept epoch.
	Best int
}

// GoldenSettings sets s to the small networks and schedule the golden
// fits were recorded with: width 2, nz 3, 3 epochs of batch 16, learning
// rate 1e-3, seed 4; images padded and the validation-selected epoch kept,
// or, when resize, resized to 16 and the last epoch kept.
func GoldenSettings(s *dcgan.Settings, resize bool) {
	s.Width, s.NZ, s.Epochs, s.BatchSize, s.LR, s.Seed = 2, 3, 3, 16, 1e-3, 4
	if resize {
		s.FitMode, s.Side, s.Select = dcgan.FitResize, 16, dcgan.SelectLast
	}
}

// CheckGolden fits d on Images(80, 1, 6, 6, 1) and checks, bit for bit,
// that it trains and scores as the earlier version of the code that
// recorded want did.
func CheckGolden(t *testing.T, d detector.Detector, want Golden) {
	t.Helper()
	ctx := context.Background()
	if err := d.Fit(ctx, detector.TrainSet{X: Images(80, 1, 6, 6, 1)}); err != nil {
		t.Fatal(err)
	}
	s, err := d.Score(ctx, Images(8, 1, 6, 6, 12))
	if err != nil {
		t.Fatal(err)
	}
	p, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got := Golden{Tensors: TensorSum(p.Tensors), Best: d.(interface{ BestEpoch() int }).BestEpoch()}
	for _, v := range s {
		got.Scores = append(got.Scores, math.Float64bits(v))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fit gave %s, recorded %s", fmtGolden(got), fmtGolden(want))
	}
}

// TensorSum is the SHA-256, in hex, of the tensors' names and values.
func TensorSum(ts []*tensor.Tensor) string {
	h := sha256.New()
	for _, t := range ts {
		h.Write([]byte(t.Name))
		for _, v := range t.Data {
			_ = binary.Write(h, binary.LittleEndian, math.Float32bits(v))
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func fmtGolden(g Golden) string {
	s := make([]string, len(g.Scores))
	for i, v := range g.Scores {
		s[i] = fmt.Sprintf("%#x", v)
	}
	return fmt.Sprintf("scores [%s], tensors %s, best epoch %d", strings.Join(s, " "), g.Tensors, g.Best)
}

// CheckKeys checks that the options o save (as JSON) exactly the keys
// want, in any order.
func CheckKeys(t *testing.T, o any, want ...string) {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(maps.Keys(m))
	if want = slices.Sorted(slices.Values(want)); !slices.Equal(got, want) {
		t.Errorf("saved option keys %v, want %v", got, want)
	}
}
