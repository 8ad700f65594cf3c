package autoencoder

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

// Each feature's share is its squared residual over d, read off the
// reconstruction, and the shares add up to the score.
func TestExplainSharesOfScore(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	train, test := plane(r, 400, false), plane(r, 50, true)
	d := New(opts([]int{8, 2}, 5, 1e-2, 1))
	if err := d.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
		t.Fatal(err)
	}
	a, err := d.Explain(context.Background(), test, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, rec, err := d.Reconstruct(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := d.Score(context.Background(), test)
	if a.Technique != "reconstruction" || a.N != 50 || a.D != 6 {
		t.Fatalf("attributions %d×%d %q", a.N, a.D, a.Technique)
	}
	for i := 0; i < test.N; i++ {
		sum := a.Offset[i]
		for j, v := range a.Row(i) {
			e := float64(test.Row(i)[j] - rec.Row(i)[j])
			if want := e * e / 6; math.Abs(float64(v)-want) > 1e-6*(1+want) {
				t.Fatalf("sample %d feature %d: %v, (x − x̂)²/d = %v", i, j, v, want)
			}
			sum += float64(v)
		}
		if math.Abs(sum-s[i]) > 1e-6*(1+s[i]) {
			t.Fatalf("sample %d: shares sum to %v, score %v", i, sum, s[i])
		}
	}
}

func TestExplainPlantedFeatures(t *testing.T) {
	explaintest.PlantedFeatures(t, New(DefaultOptions()))
}

func TestExplainBadInput(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(2, 2))
	x := plane(r, 4, false)
	if _, err := New(DefaultOptions()).Explain(ctx, x, nil); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("before Fit: %v", err)
	}
	d := New(opts([]int{4, 2}, 1, 1e-3, 1))
	if err := d.Fit(ctx, detector.TrainSet{X: plane(r, 50, false)}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Explain(ctx, &data.Dataset{N: 1, Shape: []int{5}, X: make([]float32, 5)}, nil); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("5 features for 6: %v", err)
	}
	x.X[2] = float32(math.NaN())
	if _, err := d.Explain(ctx, x, nil); !errors.Is(err, detector.ErrInput) {
		t.Errorf("NaN: %v", err)
	}
}
