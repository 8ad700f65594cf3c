package detector_test

import (
	"context"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"

	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all" // every file format: CSV, npz, mat, images, ...
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/metrics"
)

// The README's library example, run by go test: fit Isolation Forest on a
// CSV of normal rows, save and load the model, score new rows, flag them
// with the threshold and measure AUC-ROC. Every error is handled.
func Example() {
	dir, err := os.MkdirTemp("", "oddity-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	normal, fresh, model := filepath.Join(dir, "normal.csv"), filepath.Join(dir, "new.csv"), filepath.Join(dir, "model.odm")
	if err := writeExampleCSV(normal, 1000, 0, 1); err != nil {
		log.Fatal(err)
	}
	if err := writeExampleCSV(fresh, 95, 5, 2); err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	train, err := data.Load(normal, data.WithLabelColumn("class")) // CSV, npz, mat, image folders, ...
	if err != nil {
		log.Fatal(err)
	}
	det := iforest.New(iforest.DefaultOptions()) // or dplan.New, ganomaly.New, ... (oddity methods)
	m, err := detector.Fit(ctx, det, detector.TrainSet{X: train}, detector.ThresholdRule{Contamination: 0.01})
	if err != nil {
		log.Fatal(err)
	}
	if err := m.SaveFile(model); err != nil { // versioned, checksummed
		log.Fatal(err)
	}
	if m, err = detector.LoadFile(model); err != nil {
		log.Fatal(err)
	}
	test, err := data.Load(fresh, data.WithLabelColumn("class"))
	if err != nil {
		log.Fatal(err)
	}
	scores, err := m.Score(ctx, test) // higher = more anomalous
	if err != nil {
		log.Fatal(err)
	}
	flags := m.Predict(scores) // above the threshold
	auc, err := metrics.ROCAUC(scores, test.Y)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("AUC-ROC %.2f, last row flagged: %v\n", auc, flags[len(flags)-1])
	// Output: AUC-ROC 1.00, last row flagged: true
}

// writeExampleCSV writes normal rows of three standard normal features
// (class 0) followed by anomalies shifted by 6 (class 1).
func writeExampleCSV(path string, normal, anomalies int, seed uint64) error {
	r := rand.New(rand.NewPCG(seed, 2))
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	fmt.Fprintln(f, "a,b,c,class")
	for i := 0; i < normal+anomalies; i++ {
		shift, class := 0.0, 0
		if i >= normal {
			shift, class = 6, 1
		}
		fmt.Fprintf(f, "%.4f,%.4f,%.4f,%d\n", r.NormFloat64()+shift, r.NormFloat64()+shift, r.NormFloat64()+shift, class)
	}
	return f.Close()
}
