package pca

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain/explaintest"
)

// Training rows on the plane z = x + y: (1, 1, 2) lies on it, and the
// residual of (1, 1, −2) is (x·n)n with n = (1, 1, −1)/√3 the plane's
// normal and x·n = 4/√3, so it is r = (4/3)(1, 1, −1) (the training mean
// μ lies on the plane too, so r does not depend on it). Feature j carries
// (x_j − μ_j)·r_j: about 4/3, 4/3 and 8/3 of the score 16/3.
func TestExplainByHand(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	train := &data.Dataset{N: 300, Shape: []int{3}, X: make([]float32, 900)}
	for i := 0; i < 300; i++ {
		x, y := float32(r.NormFloat64()), float32(r.NormFloat64())
		train.X[3*i], train.X[3*i+1], train.X[3*i+2] = x, y, x+y
	}
	d := New(Options{NComponents: 2})
	if err := d.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
		t.Fatal(err)
	}
	test := &data.Dataset{N: 2, Shape: []int{3}, X: []float32{1, 1, 2, 1, 1, -2}}
	a, err := d.Explain(context.Background(), test, nil)
	if err != nil {
		t.Fatal(err)
	}
	mu := d.Model().Mean
	want := []float64{0, 0, 0, (1 - mu[0]) * 4 / 3, (1 - mu[1]) * 4 / 3, (-2 - mu[2]) * -4 / 3}
	for k, w := range want {
		if math.Abs(float64(a.Values[k])-w) > 1e-4 {
			t.Errorf("sample %d feature %d: %v, want %v", k/3, k%3, a.Values[k], w)
		}
	}
	if a.Technique != "reconstruction" || len(a.Offset) != 2 || a.Offset[1] != 0 {
		t.Errorf("technique %q offset %v", a.Technique, a.Offset)
	}
}

// The attributions add up to the score, in chunks of rows as in one.
func TestExplainSumsToScore(t *testing.T) {
	train := randomTable(500, 6, 3)
	test := randomTable(explainRows+7, 6, 4)
	d := New(Options{NComponents: 3})
	if err := d.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
		t.Fatal(err)
	}
	s, err := d.Score(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.Explain(context.Background(), test, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range s {
		sum := a.Offset[i]
		for _, v := range a.Row(i) {
			sum += float64(v)
		}
		if math.Abs(sum-want) > 1e-5*(1+want) {
			t.Fatalf("sample %d: attributions sum to %v, score %v", i, sum, want)
		}
	}
}

func randomTable(n, d int, seed uint64) *data.Dataset {
	return &data.Dataset{N: n, Shape: []int{d}, X: randomData(n, d, seed)}
}

// The table's groups are two factors: PCA keeps them with two axes.
func TestExplainPlantedFeatures(t *testing.T) {
	explaintest.PlantedFeatures(t, New(Options{NComponents: 2}))
}

func TestExplainBadInput(t *testing.T) {
	ctx := context.Background()
	x := randomTable(3, 4, 1)
	if _, err := New(DefaultOptions()).Explain(ctx, x, nil); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("before Fit: %v", err)
	}
	d := New(DefaultOptions())
	if err := d.Fit(ctx, detector.TrainSet{X: randomTable(50, 4, 2)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Explain(ctx, randomTable(2, 5, 1), nil); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("5 features for 4: %v", err)
	}
	x.X[1] = float32(math.Inf(1))
	if _, err := d.Explain(ctx, x, nil); !errors.Is(err, detector.ErrInput) {
		t.Errorf("Inf: %v", err)
	}
}
