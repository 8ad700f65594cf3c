package detector_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/metrics"
)

// The README's ten lines, on generated data: fit, save, load, score,
// threshold, evaluate.
func Example() {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	gauss := func(n int, shift float32, label int) *data.Dataset {
		d := &data.Dataset{Name: "gauss", N: n, Shape: []int{3}, X: make([]float32, 3*n), Y: make([]int, n)}
		for i := range d.X {
			d.X[i] = float32(r.NormFloat64()) + shift
		}
		for i := range d.Y {
			d.Y[i] = label
		}
		return d
	}
	train := gauss(1000, 0, 0)
	test, _ := data.Concat("test", gauss(95, 0, 0), gauss(5, 6, 1))

	det := iforest.New(iforest.Options{NTrees: 100, MaxSamples: 256, MaxFeatures: 1, Seed: 1})
	m, _ := detector.Fit(ctx, det, detector.TrainSet{X: train}, detector.ThresholdRule{Contamination: 0.01})
	path := filepath.Join(os.TempDir(), "oddity-example.odm")
	defer os.Remove(path)
	_ = m.SaveFile(path)
	m, _ = detector.LoadFile(path)
	scores, _ := m.Score(ctx, test)
	flags := m.Predict(scores)
	auc, _ := metrics.ROCAUC(scores, test.Y)
	fmt.Printf("AUC-ROC %.2f, last sample flagged: %v\n", auc, flags[len(flags)-1])
	// Output: AUC-ROC 1.00, last sample flagged: true
}
