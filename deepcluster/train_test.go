package deepcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/matfile"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/shared"
	"github.com/oddity-ml/oddity/metrics"
)

// uspsSubset returns n seeded random USPS digits.
func uspsSubset(t *testing.T, n int) *data.Dataset {
	t.Helper()
	ds, err := matfile.LoadUSPS(shared.Path(t, "usps/usps.mat"))
	if err != nil {
		t.Fatal(err)
	}
	idx := rand.New(rand.NewPCG(9, 9)).Perm(ds.N)[:n]
	sort.Ints(idx)
	sub, err := ds.Subset(idx)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// TestFinetuneImprovesACC trains on 300 USPS digits with a short schedule
// and fails unless fine-tuning raises ACC (against the true labels, used
// only for the check) above the k-means initialisation by at least 0.02.
func TestFinetuneImprovesACC(t *testing.T) {
	x := uspsSubset(t, 300)
	cfg := DefaultOptions()
	cfg.K, cfg.Seed, cfg.PretrainEpochs, cfg.BatchSize, cfg.MaxSteps, cfg.UpdateInterval, cfg.Tol = 10, 1, 5, 64, 40, 10, -1
	tr := &Trainer{Options: cfg, Labels: x.Y}
	_, res, err := tr.Fit(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	init, _ := metrics.ACC(x.Y, res.InitLabels)
	final, _ := metrics.ACC(x.Y, res.Labels)
	t.Logf("k-means init ACC %.4f, after %d fine-tuning steps %.4f; history %+v", init, res.Steps, final, res.History)
	if final < init+0.02 {
		t.Errorf("fine-tuning did not improve ACC: init %.4f, final %.4f", init, final)
	}
	if len(res.PretrainLoss) != 5 || res.PretrainLoss[4] >= res.PretrainLoss[0] {
		t.Errorf("pretraining loss did not fall: %v", res.PretrainLoss)
	}
}

// tinyOptions is a schedule of a fraction of a second on a hundred 16×16
// images.
func tinyOptions(seed uint64) Options {
	o := DefaultOptions()
	o.K, o.Seed, o.PretrainEpochs, o.BatchSize, o.MaxSteps, o.UpdateInterval, o.KMeansInit = 4, seed, 1, 50, 6, 3, 3
	return o
}

// TestDetectorSaveLoad fits through detector.Fit, saves and loads the model
// and requires bit-identical scores, for both scores; and the same seed
// twice gives the same assignments.
func TestDetectorSaveLoad(t *testing.T) {
	x := uspsSubset(t, 100)
	ctx := context.Background()
	for _, score := range []string{"distance", "maxq"} {
		cfg := tinyOptions(7)
		cfg.Score = score
		d := New(cfg)
		m, err := detector.Fit(ctx, d, detector.TrainSet{X: x}, detector.ThresholdRule{})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := m.Save(&buf); err != nil {
			t.Fatal(err)
		}
		m2, err := detector.Load(&buf)
		if err != nil {
			t.Fatal(err)
		}
		s1, err := m.Score(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		s2, err := m2.Score(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		for i := range s1 {
			if s1[i] != s2[i] {
				t.Fatalf("%s: score %d differs after load: %v vs %v", score, i, s1[i], s2[i])
			}
			if score == "maxq" && (s1[i] < 0 || s1[i] > 1-1.0/4+1e-6) {
				t.Fatalf("1 - max q = %v outside [0, 3/4]", s1[i])
			}
		}
		if m2.Detector.Method() != Method {
			t.Errorf("loaded method %q", m2.Detector.Method())
		}
		// The distance score is the distance to the nearest centroid:
		// check it against the assignment of the model.
		if score == "distance" {
			dm := d.Model
			z, _ := dm.Embed(ctx, x)
			_, lab, _ := dm.Assign(ctx, x)
			for i := 0; i < x.N; i++ {
				var s float64
				for c := 0; c < 10; c++ {
					e := float64(z[i*10+c] - dm.Centroids.Data[lab[i]*10+c])
					s += e * e
				}
				// Nearest by distance and most probable by q coincide
				// for the Student's t kernel (q decreases with distance).
				if diff := s1[i]*s1[i] - s; diff > 1e-4*(1+s) || diff < -1e-4*(1+s) {
					t.Fatalf("row %d: score² %v, squared distance to its argmax-q centroid %v", i, s1[i]*s1[i], s)
				}
			}
		}
	}
	// Same seed, same assignments; another seed, other weights.
	fit := func(seed uint64) *Result {
		_, res, err := (&Trainer{Options: tinyOptions(seed)}).Fit(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b, c := fit(3), fit(3), fit(4)
	same := func(p, q []float32) bool {
		for i := range p {
			if p[i] != q[i] {
				return false
			}
		}
		return true
	}
	for i := range a.Labels {
		if a.Labels[i] != b.Labels[i] {
			t.Fatalf("same seed, assignment %d differs", i)
		}
	}
	if !same(a.Embedding, b.Embedding) {
		t.Error("same seed, different embeddings")
	}
	if same(a.Embedding, c.Embedding) {
		t.Error("different seeds, identical embeddings")
	}
}

// TestBadInput: bad options, non-square images, too few rows, a payload
// with a wrong tensor, and scoring before fitting all give errors, each
// wrapping the sentinel a caller tests for.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	sq := &data.Dataset{X: make([]float32, 3*16*16), N: 3, Shape: []int{1, 16, 16}}
	for i := range sq.X {
		sq.X[i] = float32(i%7) / 7
	}
	k2 := func(f func(*Options)) Options {
		o := DefaultOptions()
		o.K = 2
		if f != nil {
			f(&o)
		}
		return o
	}
	cases := []struct {
		name string
		o    Options
		x    *data.Dataset
		want error
	}{
		{"zero options", Options{}, sq, detector.ErrOption},
		{"loss", k2(func(o *Options) { o.Loss = "nope" }), sq, ErrOption},
		{"final", k2(func(o *Options) { o.Final = "nope" }), sq, ErrOption},
		{"schedule", k2(func(o *Options) { o.Schedule = "nope" }), sq, ErrOption},
		{"score", k2(func(o *Options) { o.Score = "nope" }), sq, ErrOption},
		{"alpha range", k2(func(o *Options) { o.Schedule, o.AlphaTo = "alpha", 2 }), sq, ErrOption},
		{"k > n", k2(func(o *Options) { o.K = 5 }), sq, ErrInput},
		{"not square", k2(nil), &data.Dataset{X: make([]float32, 3*16*8), N: 3, Shape: []int{1, 16, 8}}, detector.ErrInput},
		{"tabular", k2(nil), &data.Dataset{X: make([]float32, 12), N: 3, Shape: []int{4}}, detector.ErrInput},
		{"side", k2(nil), &data.Dataset{X: make([]float32, 3*6*6), N: 3, Shape: []int{1, 6, 6}}, detector.ErrInput},
		{"no data", k2(nil), nil, detector.ErrInput},
	}
	for _, c := range cases {
		if _, _, err := (&Trainer{Options: c.o}).Fit(ctx, c.x); !errors.Is(err, c.want) {
			t.Errorf("%s: Trainer.Fit: %v, want an error wrapping %v", c.name, err, c.want)
		}
		if err := New(c.o).Fit(ctx, detector.TrainSet{X: c.x}); !errors.Is(err, c.want) {
			t.Errorf("%s: Detector.Fit: %v, want an error wrapping %v", c.name, err, c.want)
		}
	}
	d := New(k2(nil))
	if _, err := d.Score(ctx, sq); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("score before fit: %v", err)
	}
	cfg := tinyOptions(1)
	cfg.K = 2
	d = New(cfg)
	if err := d.Fit(ctx, detector.TrainSet{X: sq}); err != nil {
		t.Fatal(err)
	}
	p, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range p.Tensors {
		if tt.Name == "centroids" {
			tt.Shape = []int{3, 10}
			tt.Data = make([]float32, 30)
		}
	}
	if err := (&Detector{}).Unmarshal(p); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("wrong centroid shape: %v", err)
	}
	good, _ := d.Marshal()
	for name, cfg := range map[string]string{
		"bad shape":       `{"config":` + optionsJSON(t, cfg) + `,"shape":[1,16]}`,
		"bad options":     `{"config":{"k":2},"shape":[1,16,16]}`,
		"bad input shape": `{"config":` + optionsJSON(t, cfg) + `,"shape":[1,16,16],"input_shape":[1,8,8]}`,
	} {
		good.Config = []byte(cfg)
		if err := (&Detector{}).Unmarshal(good); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("%s: %v", name, err)
		}
	}
	wrong := &data.Dataset{X: make([]float32, 28*28), N: 1, Shape: []int{1, 28, 28}}
	if _, err := d.Score(ctx, wrong); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("scored 28×28 images with a 16×16 model: %v", err)
	}
}

func optionsJSON(t *testing.T, o Options) string {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
