package explain_test

import (
	"context"
	"errors"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/demo"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
	"github.com/oddity-ml/oddity/knn"
	"github.com/oddity-ml/oddity/lof"
)

// digitsOf returns the images of x with label in want.
func digitsOf(t *testing.T, x *data.Dataset, want func(int) bool) *data.Dataset {
	t.Helper()
	var idx []int
	for i, y := range x.Y {
		if want(y) {
			idx = append(idx, i)
		}
	}
	out, err := x.Subset(idx)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The maps of kNN and LOF find pasted defects: on USPS digits with a patch of another
// digit or a bright stroke planted in test images of the training digit,
// the pixel AUROC of the maps against the defect masks is at least 0.85
// and above the reference map |x − mean training image| (the issue's
// reference, meanResidual below); a map of a training image
// is not blank (the image is left out of its own neighbours); a model of
// table rows refuses.
func TestNeighbourMapsFindPlantedDefects(t *testing.T) {
	for _, mk := range []func() localizer{
		func() localizer { return knn.New(knn.DefaultOptions()) },
		func() localizer { return lof.New(lof.DefaultOptions()) },
	} {
		t.Run(mk().Method(), func(t *testing.T) { checkNeighbourMaps(t, mk) })
	}
}

// localizer is a detector with maps.
type localizer interface {
	detector.Detector
	detector.Localizer
}

func checkNeighbourMaps(t *testing.T, mk func() localizer) {
	ctx := context.Background()
	train, test, err := demo.Digits()
	if err != nil {
		t.Fatal(err)
	}
	normal := digitsOf(t, train, func(y int) bool { return y == 0 })
	normalTest := digitsOf(t, test, func(y int) bool { return y == 0 })
	other := digitsOf(t, test, func(y int) bool { return y != 0 })
	d := mk()
	if err := d.Fit(ctx, detector.TrainSet{X: normal}); err != nil {
		t.Fatal(err)
	}
	for _, defect := range []string{explain.DefectPatch, explain.DefectStroke} {
		p, err := explain.PlantDefects(normalTest, other, defect, 3)
		if err != nil {
			t.Fatal(err)
		}
		maps, err := d.Localize(ctx, p.Images)
		if err != nil {
			t.Fatal(err)
		}
		if maps.N != p.Images.N || maps.Shape[0] != 16 || maps.Shape[1] != 16 {
			t.Fatalf("%s: maps %d × %v for %d images of 16×16", defect, maps.N, maps.Shape, p.Images.N)
		}
		auc, err := explain.PixelAUROC(maps, p.Masks)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := meanResidual(normal, p.Images)
		if err != nil {
			t.Fatal(err)
		}
		refAUC, err := explain.PixelAUROC(ref, p.Masks)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: map pixel AUROC %.3f, reference |x − mean| %.3f", defect, auc, refAUC)
		if auc < 0.85 || auc <= refAUC {
			t.Errorf("%s: pixel AUROC %.3f, want ≥ 0.85 and above the reference's %.3f", defect, auc, refAUC)
		}
	}
	one, err := normal.Subset([]int{5})
	if err != nil {
		t.Fatal(err)
	}
	m, err := d.Localize(ctx, one)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, v := range m.X {
		sum += float64(v)
	}
	if sum == 0 {
		t.Error("the map of a training image is blank: the image was its own neighbour")
	}
	tab := &data.Dataset{N: 30, Shape: []int{2}, X: make([]float32, 60)}
	for i := range tab.X {
		tab.X[i] = float32(i % 7)
	}
	dt := mk()
	if err := dt.Fit(ctx, detector.TrainSet{X: tab}); err != nil {
		t.Fatal(err)
	}
	if _, err := dt.Localize(ctx, tab); !errors.Is(err, detector.ErrInput) {
		t.Errorf("maps of table rows: %v, want an ErrInput", err)
	}
}

// meanResidual is the reference map: |x − mean training image|, channels
// averaged.
func meanResidual(train, x *data.Dataset) (*data.Dataset, error) {
	dim := train.Dim()
	mean := make([]float64, dim)
	for i := range train.N {
		for l, v := range train.Row(i) {
			mean[l] += float64(v) / float64(train.N)
		}
	}
	h, w := x.Shape[1], x.Shape[2]
	out := &data.Dataset{N: x.N, Shape: []int{h, w}, X: make([]float32, x.N*h*w)}
	for i := range x.N {
		for l, v := range x.Row(i) {
			r := float64(v) - mean[l]
			if r < 0 {
				r = -r
			}
			out.X[i*h*w+l%(h*w)] += float32(r)
		}
	}
	return out, nil
}
