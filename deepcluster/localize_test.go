package deepcluster

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
)

var _ detector.Localizer = (*Detector)(nil)

// fitBlobs fits a small model on blobs with the score kind.
func fitBlobs(t *testing.T, score string) *Detector {
	t.Helper()
	o := tinyOptions(2)
	o.Score = score
	d := New(o)
	if err := d.Fit(context.Background(), detector.TrainSet{X: blobs(80, 1)}); err != nil {
		t.Fatal(err)
	}
	return d
}

// TestLocalizeResidual checks the residual map against Reconstruct, an
// independent path: |in − out| pixel by pixel (one channel), and the
// default Localize against it blurred.
func TestLocalizeResidual(t *testing.T) {
	ctx := context.Background()
	d := fitBlobs(t, "distance")
	x := blobs(12, 5)
	maps, err := d.LocalizeBy(ctx, x, MapResidual, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(maps.Shape, []int{16, 16}) || maps.N != x.N {
		t.Fatalf("%d maps of shape %v", maps.N, maps.Shape)
	}
	in, out, err := d.Reconstruct(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range maps.X {
		if want := float32(math.Abs(float64(in.X[j] - out.X[j]))); v != want {
			t.Fatalf("value %d: map %v, |in − out| %v", j, v, want)
		}
	}
	def, err := d.Localize(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	blur := make([]float32, 256)
	for i := 0; i < x.N; i++ {
		explain.GaussianBlur(blur, maps.X[i*256:(i+1)*256], 16, 16, DefaultSigma)
		if DefaultMap != MapResidual || !slices.Equal(def.X[i*256:(i+1)*256], blur) {
			t.Fatalf("Localize of image %d is not the residual blurred with σ = %v", i, DefaultSigma)
		}
	}
	// [S, S] samples give [S, S] maps too
	flat := blobs(80, 1, 16, 16)
	o := tinyOptions(2)
	d2 := New(o)
	if err := d2.Fit(ctx, detector.TrainSet{X: flat}); err != nil {
		t.Fatal(err)
	}
	m2, err := d2.Localize(ctx, blobs(3, 5, 16, 16))
	if err != nil || !slices.Equal(m2.Shape, []int{16, 16}) {
		t.Fatalf("maps of [16 16] samples: %v, shape %v", err, m2.Shape)
	}
}

// TestLocalizeGradient checks |∂s/∂x| against central finite differences
// of the model's own Score, for both score kinds.
func TestLocalizeGradient(t *testing.T) {
	ctx := context.Background()
	for _, score := range []string{"distance", "maxq"} {
		t.Run(score, func(t *testing.T) {
			d := fitBlobs(t, score)
			x := blobs(3, 6)
			maps, err := d.LocalizeBy(ctx, x, MapGradient, 0)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < x.N; i++ {
				g := maps.X[i*256 : (i+1)*256]
				top := slices.Max(g)
				if !(top > 0) {
					t.Fatalf("image %d: the gradient map is zero", i)
				}
				// the five largest and a few other pixels
				idx := make([]int, 256)
				for j := range idx {
					idx[j] = j
				}
				slices.SortFunc(idx, func(a, b int) int { return -cmpF(g[a], g[b]) })
				for _, j := range append(idx[:5], 17, 100, 200) {
					fd := finiteDiff(t, d, x, i, j)
					if math.Abs(math.Abs(fd)-float64(g[j])) > 0.03*float64(top)+1e-4 {
						t.Errorf("image %d pixel %d: map %v, |finite difference| %v (top %v)", i, j, g[j], math.Abs(fd), top)
					}
				}
			}
		})
	}
}

func cmpF(a, b float32) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// finiteDiff is the central difference of image i's score in pixel j.
func finiteDiff(t *testing.T, d *Detector, x *data.Dataset, i, j int) float64 {
	t.Helper()
	const h = 1e-2
	one, err := x.Subset([]int{i})
	if err != nil {
		t.Fatal(err)
	}
	v := one.X[j]
	one.X[j] = v + h
	up, err := d.Score(context.Background(), one)
	if err != nil {
		t.Fatal(err)
	}
	one.X[j] = v - h
	down, err := d.Score(context.Background(), one)
	if err != nil {
		t.Fatal(err)
	}
	return (up[0] - down[0]) / (2 * h)
}

// TestLocalizeGradientShared: gradient maps write nothing into the model
// (its parameters collect no gradient) and concurrent calls agree.
func TestLocalizeGradientShared(t *testing.T) {
	ctx := context.Background()
	d := fitBlobs(t, "distance")
	for _, p := range d.Model.Net.Parameters() {
		p.ZeroGrad()
	}
	x := blobs(20, 7)
	want, err := d.LocalizeBy(ctx, x, MapGradient, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range d.Model.Net.Parameters() {
		for _, g := range p.Grad() {
			if g != 0 {
				t.Fatalf("parameter %s collected a gradient", p.Name)
			}
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for k := range errs {
		wg.Go(func() {
			got, err := d.LocalizeBy(ctx, x, MapGradient, 1)
			if err == nil && !slices.Equal(got.X, want.X) {
				err = errors.New("maps differ")
			}
			errs[k] = err
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestLocalizeErrors(t *testing.T) {
	ctx := context.Background()
	x := blobs(4, 3)
	if _, err := New(tinyOptions(1)).Localize(ctx, x); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("unfitted: %v", err)
	}
	d := fitBlobs(t, "distance")
	if _, err := d.LocalizeBy(ctx, x, "saliency", 0); !errors.Is(err, detector.ErrOption) {
		t.Errorf("unknown map: %v", err)
	}
	if _, err := d.LocalizeBy(ctx, x, MapResidual, math.NaN()); !errors.Is(err, detector.ErrOption) {
		t.Errorf("NaN sigma: %v", err)
	}
	if _, err := d.Localize(ctx, blobs(4, 3, 1, 8, 32)); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("another shape: %v", err)
	}
	bad := blobs(4, 3)
	bad.X[3] = float32(math.NaN())
	if _, err := d.LocalizeBy(ctx, bad, MapGradient, 0); !errors.Is(err, detector.ErrInput) {
		t.Errorf("NaN pixel: %v", err)
	}
}
