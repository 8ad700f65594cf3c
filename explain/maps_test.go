package explain_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/cae"
	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/deepcluster"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/knn"
	"github.com/oddity-ml/oddity/lof"
)

// Interfaces the image detectors implement through this issue.
var (
	_ detector.Localizer = (*ganomaly.Detector)(nil)
	_ detector.Localizer = (*cae.Detector)(nil)
	_ detector.Localizer = (*deepcluster.Detector)(nil)
	_ detector.Localizer = explain.LocalizerFunc(nil)
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestMeanAbsDiff(t *testing.T) {
	// two channels of 2 pixels: |1-0|, |0-2| and |3-1|, |-1-(-1)| → means 1.5, 1
	a := []float32{1, 0, 3, -1}
	b := []float32{0, 2, 1, -1}
	dst := []float32{9, 9}
	explain.MeanAbsDiff(dst, a, b, 2, 2)
	if !slices.Equal(dst, []float32{1.5, 1}) {
		t.Fatalf("MeanAbsDiff = %v, want [1.5 1]", dst)
	}
}

func TestGaussianBlur(t *testing.T) {
	const h, w, sigma = 15, 15, 1.0
	src := make([]float32, h*w)
	src[7*w+7] = 1
	dst := make([]float32, h*w)
	explain.GaussianBlur(dst, src, h, w, sigma)
	// an impulse far from the border becomes the normalised, separable
	// kernel g(dy)·g(dx), g(d) = exp(-d²/2)/Σ_{|k|≤3} exp(-k²/2), out to
	// 3 pixels (where every output's window lies inside the image)
	var z float64
	for k := -3; k <= 3; k++ {
		z += math.Exp(-float64(k*k) / 2)
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			dy, dx := float64(y-7), float64(x-7)
			want := 0.0
			if math.Abs(dy) <= 3 && math.Abs(dx) <= 3 {
				want = math.Exp(-dy*dy/2) * math.Exp(-dx*dx/2) / (z * z)
			}
			if !near(float64(dst[y*w+x]), want, 1e-6) {
				t.Fatalf("blurred impulse at (%d,%d) = %v, want %v", y, x, dst[y*w+x], want)
			}
		}
	}
	// a constant plane stays constant, borders included (renormalised weights)
	for i := range src {
		src[i] = 0.7
	}
	explain.GaussianBlur(src, src, h, w, 2.5)
	for i, v := range src {
		if !near(float64(v), 0.7, 1e-6) {
			t.Fatalf("blurred constant at %d = %v", i, v)
		}
	}
	// at the corner the weights outside are dropped: a corner impulse with
	// σ=1 keeps g(0)²/(Σ_{k=0..3} g(k))² of its mass in place
	clear(src)
	src[0] = 1
	explain.GaussianBlur(dst, src, h, w, 1)
	var half float64
	for k := 0; k <= 3; k++ {
		half += math.Exp(-float64(k*k) / 2)
	}
	if want := 1 / (half * half); !near(float64(dst[0]), want, 1e-6) {
		t.Fatalf("blurred corner impulse = %v, want %v", dst[0], want)
	}
	// σ = 0 copies
	explain.GaussianBlur(dst, src, h, w, 0)
	if !slices.Equal(dst, src) {
		t.Fatal("σ = 0 does not copy")
	}
}

func TestSmoothMapsErrors(t *testing.T) {
	m := &data.Dataset{N: 1, Shape: []int{2, 2}, X: make([]float32, 4)}
	for _, s := range []float64{-1, math.NaN(), math.Inf(1)} {
		if err := explain.SmoothMaps(m, s); !errors.Is(err, detector.ErrOption) {
			t.Errorf("sigma %v: %v, want ErrOption", s, err)
		}
	}
	if err := explain.SmoothMaps(&data.Dataset{N: 1, Shape: []int{4}, X: make([]float32, 4)}, 1); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("flat maps: %v, want ErrSchema", err)
	}
}

func TestReferenceMaps(t *testing.T) {
	x := &data.Dataset{N: 2, Shape: []int{2, 1, 2}, X: []float32{
		1, 0, 0.5, 0.5, // image 0: channels [1 0], [0.5 0.5]
		0, 0, 1, 1,
	}}
	mean, err := explain.MeanImage(x)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(mean, []float32{0.5, 0, 0.75, 0.75}) {
		t.Fatalf("mean image %v", mean)
	}
	maps, err := explain.ReferenceMaps(x, mean)
	if err != nil {
		t.Fatal(err)
	}
	// image 0: (|1-.5| + |.5-.75|)/2 = .375, (0 + .25)/2 = .125; image 1: (.5+.25)/2, (0+.25)/2
	want := []float32{0.375, 0.125, 0.375, 0.125}
	if !slices.Equal(maps.Shape, []int{1, 2}) || !slices.Equal(maps.X, want) {
		t.Fatalf("reference maps %v of shape %v, want %v of [1 2]", maps.X, maps.Shape, want)
	}
	if _, err := explain.ReferenceMaps(x, mean[:3]); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("short mean: %v, want ErrSchema", err)
	}
}

func TestPixelAUROC(t *testing.T) {
	// pooled over two 1×3 maps: scores .9 .1 .5 | .5 .8 .2 with labels
	// 1 0 0 | 1 1 0; positives {.9,.5,.8}, negatives {.1,.5,.2}: of the 9
	// pairs 8 are ordered and one (.5,.5) tied → (8 + .5)/9
	maps := &data.Dataset{N: 2, Shape: []int{1, 3}, X: []float32{.9, .1, .5, .5, .8, .2}}
	auc, err := explain.PixelAUROC(maps, []uint8{1, 0, 0, 1, 1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if !near(auc, 8.5/9, 1e-12) {
		t.Fatalf("pixel AUROC %v, want %v", auc, 8.5/9)
	}
	if _, err := explain.PixelAUROC(maps, []uint8{1, 0}); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("short mask: %v", err)
	}
	maps.X[0] = float32(math.NaN())
	if _, err := explain.PixelAUROC(maps, []uint8{1, 0, 0, 1, 1, 0}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("NaN map: %v", err)
	}
}

// blank returns n h×w images of value v.
func blank(n, c, h, w int, v float32) *data.Dataset {
	x := &data.Dataset{Name: "blank", N: n, Shape: []int{c, h, w}, X: make([]float32, n*c*h*w)}
	for i := range x.X {
		x.X[i] = v
	}
	return x
}

func TestPlantDefects(t *testing.T) {
	const n, h, w = 20, 16, 14
	normal := blank(n, 3, h, w, 0)
	other := blank(5, 3, h, w, 0.8)
	p, err := explain.PlantDefects(normal, other, explain.DefectPatch, 7)
	if err != nil {
		t.Fatal(err)
	}
	hw := h * w
	for i := 0; i < n; i++ {
		mask := p.Masks[i*hw : (i+1)*hw]
		img := p.Images.Row(i)
		// the mask is one axis-aligned square of side 6..10, and exactly its
		// pixels took the other image's value in every channel
		ys, xs := []int{}, []int{}
		for j, m := range mask {
			inside := m == 1
			for ch := 0; ch < 3; ch++ {
				if want := map[bool]float32{true: 0.8, false: 0}[inside]; img[ch*hw+j] != want {
					t.Fatalf("image %d pixel %d channel %d = %v, mask %d", i, j, ch, img[ch*hw+j], m)
				}
			}
			if inside {
				ys, xs = append(ys, j/w), append(xs, j%w)
			}
		}
		side := slices.Max(ys) - slices.Min(ys) + 1
		if side < 6 || side > 10 || slices.Max(xs)-slices.Min(xs)+1 != side || len(ys) != side*side {
			t.Fatalf("image %d: mask of %d pixels spanning %d×%d", i, len(ys), side, slices.Max(xs)-slices.Min(xs)+1)
		}
	}
	if normal.X[0] != 0 || slices.Max(normal.X) != 0 {
		t.Fatal("PlantDefects changed its input")
	}
	again, _ := explain.PlantDefects(normal, other, explain.DefectPatch, 7)
	if !slices.Equal(again.Masks, p.Masks) || !slices.Equal(again.Images.X, p.Images.X) {
		t.Fatal("the same seed planted different defects")
	}
	diff, _ := explain.PlantDefects(normal, other, explain.DefectPatch, 8)
	if slices.Equal(diff.Masks, p.Masks) {
		t.Fatal("another seed planted the same defects")
	}

	s, err := explain.PlantDefects(normal, nil, explain.DefectStroke, 7)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < n; i++ {
		mask := s.Masks[i*hw : (i+1)*hw]
		img := s.Images.Row(i)
		cnt := 0
		for j, m := range mask {
			if img[j] != float32(m) || img[hw+j] != float32(m) || img[2*hw+j] != float32(m) {
				t.Fatalf("stroke image %d pixel %d = %v with mask %d", i, j, img[j], m)
			}
			cnt += int(m)
		}
		// a segment of length L ≥ 0.35·14 and width ≥ 2 covers at least
		// about L·2 pixel centres, and at most (0.7·14 + 3)·3 + corners
		if cnt < 8 || cnt > 60 {
			t.Fatalf("stroke %d covers %d pixels", i, cnt)
		}
	}
	if _, err := explain.PlantDefects(normal, nil, explain.DefectPatch, 1); !errors.Is(err, detector.ErrInput) {
		t.Errorf("patch without other images: %v", err)
	}
	if _, err := explain.PlantDefects(normal, blank(2, 1, h, w, 1), explain.DefectPatch, 1); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("other images of another shape: %v", err)
	}
	if _, err := explain.PlantDefects(normal, other, "blob", 1); !errors.Is(err, detector.ErrOption) {
		t.Errorf("unknown defect: %v", err)
	}
	if _, err := explain.PlantDefects(blank(2, 1, 8, 8, 0), nil, explain.DefectStroke, 1); !errors.Is(err, detector.ErrInput) {
		t.Errorf("8×8 images: %v", err)
	}
}

// TestPlantedPatchVisible: a patch is cut where it changes the image; on
// a black image with one bright region in the other images, every patch
// holds some of that region.
func TestPlantedPatchVisible(t *testing.T) {
	const h, w = 28, 28
	normal := blank(30, 1, h, w, 0)
	other := blank(3, 1, h, w, 0)
	for i := 0; i < other.N; i++ {
		for y := 10; y < 18; y++ {
			for x := 10; x < 18; x++ {
				other.Row(i)[y*w+x] = 1
			}
		}
	}
	p, err := explain.PlantDefects(normal, other, explain.DefectPatch, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < normal.N; i++ {
		var ink, area float64
		for j, m := range p.Masks[i*h*w : (i+1)*h*w] {
			area += float64(m)
			ink += float64(p.Images.Row(i)[j])
		}
		if ink/area < 0.25 {
			t.Fatalf("patch %d: %.0f bright pixels of %.0f", i, ink, area)
		}
	}
}

// oracle is a Localizer that knows where the defects are: its map is the
// absolute difference from the clean images it was given.
type oracle struct{ clean *data.Dataset }

func (o oracle) Localize(_ context.Context, x *data.Dataset) (*data.Dataset, error) {
	c, h, w, _ := explain.ImageDims(x.Shape)
	out := explain.NewMaps(x, h, w)
	for i := 0; i < x.N; i++ {
		explain.MeanAbsDiff(out.X[i*h*w:(i+1)*h*w], x.Row(i), o.clean.Row(i), c, h*w)
	}
	return out, nil
}

// sumScore scores an image by its sum of values.
type sumScore struct{ detector.Detector }

func (sumScore) Score(_ context.Context, x *data.Dataset) ([]float64, error) {
	out := make([]float64, x.N)
	for i := range out {
		for _, v := range x.Row(i) {
			out[i] += float64(v)
		}
	}
	return out, nil
}

func TestEvaluateMaps(t *testing.T) {
	const h, w = 20, 20
	normal := blank(12, 1, h, w, 0.2)
	other := blank(4, 1, h, w, 0.9)
	mean := make([]float32, h*w)
	constant := explain.LocalizerFunc(func(_ context.Context, x *data.Dataset) (*data.Dataset, error) {
		return explain.NewMaps(x, h, w), nil // all zero: AUROC 0.5
	})
	rep, err := explain.EvaluateMaps(context.Background(), []explain.MapSource{{"oracle", oracle{normal}}, {"constant", constant}},
		sumScore{}, normal, other, mean, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rep.Maps, []string{"oracle", "constant", explain.ReferenceMap}) || len(rep.Rows) != 3 || rep.Images != 12 {
		t.Fatalf("report %+v", rep)
	}
	for _, r := range rep.Rows {
		// the oracle's map is |planted − clean| > 0 exactly on the changed
		// pixels, all inside the mask: AUROC 1 where every masked pixel
		// changed (patch of 0.9 on 0.2; stroke of 1 on 0.2)
		if r.Pixel["oracle"] != 1 || r.Pixel["constant"] != 0.5 {
			t.Errorf("%s: pixel AUROC %v", r.Defect, r.Pixel)
		}
		// the reference |x − 0| is 0.2 off the defect and ≥ 0.9 on it
		if r.Pixel[explain.ReferenceMap] != 1 {
			t.Errorf("%s: reference AUROC %v", r.Defect, r.Pixel[explain.ReferenceMap])
		}
		// brighter planted images: the sum scores rank them all above
		if r.Image != 1 {
			t.Errorf("%s: image AUROC %v", r.Defect, r.Image)
		}
	}
	if _, err := explain.EvaluateMaps(context.Background(), []explain.MapSource{{explain.ReferenceMap, constant}}, nil, normal, other, mean, 5); !errors.Is(err, detector.ErrOption) {
		t.Errorf("a map named %q: %v", explain.ReferenceMap, err)
	}
	rep, err = explain.EvaluateMaps(context.Background(), nil, nil, normal, other, mean, 5)
	if err != nil || !math.IsNaN(rep.Rows[0].Image) {
		t.Errorf("without a detector: %v, image AUROC %v", err, rep.Rows[0].Image)
	}
}

// TestMapsMeasure trains GANomaly, the CAE and deep clustering on one
// class of MNIST with short CPU schedules and measures their anomaly maps
// on planted defects (docs/methods.md §7). It takes minutes, so it runs
// only with ODDITY_MAPS_EVAL set:
//
//	ODDITY_MAPS_EVAL=1 go test ./explain/ -run TestMapsMeasure -v -timeout 60m
//
// ODDITY_MAPS_DATA picks mnist (default) or cifar10, ODDITY_MAPS_CLASS
// the normal class (default 0), ODDITY_MAPS_TEST the number of normal
// test images planted (default 500), ODDITY_MAPS_TRAIN a limit on the
// training images (default 0: all of the class), ODDITY_MAPS_SIGMAS the
// smoothings compared (default 0,1,2), ODDITY_MAPS_ONLY a comma-separated
// subset of ganomaly,cae,deepcluster ("none": the reference and the
// ceiling alone).
func TestMapsMeasure(t *testing.T) {
	if os.Getenv("ODDITY_MAPS_EVAL") == "" {
		t.Skip("set ODDITY_MAPS_EVAL=1 to train the image detectors and measure their anomaly maps (minutes; ODDITY_MAPS_ONLY=knn,lof: seconds)")
	}
	env := func(k string, def int) int {
		if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
			return v
		}
		return def
	}
	name := cmp(os.Getenv("ODDITY_MAPS_DATA"), "mnist")
	class, nTest, nTrain := env("ODDITY_MAPS_CLASS", 0), env("ODDITY_MAPS_TEST", 500), env("ODDITY_MAPS_TRAIN", 0)
	only := os.Getenv("ODDITY_MAPS_ONLY")
	want := func(m string) bool { return only == "" || slices.Contains(strings.Split(only, ","), m) }
	if os.Getenv(catalog.EnvRoot) == "" {
		catalog.SetRoot(filepath.Join("..", "..", "shared", "datasets"))
	}
	sp, err := catalog.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	pick := func(ds *data.Dataset, keep func(y int) bool, limit int) *data.Dataset {
		var idx []int
		for i, y := range ds.Y {
			if keep(y) {
				idx = append(idx, i)
			}
		}
		// a fixed stride rather than a random draw keeps the subset the same
		// whatever else changes
		if limit > 0 && len(idx) > limit {
			step := float64(len(idx)) / float64(limit)
			sub := make([]int, limit)
			for k := range sub {
				sub[k] = idx[int(float64(k)*step)]
			}
			idx = sub
		}
		out, err := ds.Subset(idx)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	train := pick(sp.Train, func(y int) bool { return y == class }, nTrain)
	normal := pick(sp.Test, func(y int) bool { return y == class }, nTest)
	other := pick(sp.Test, func(y int) bool { return y != class }, 2000)
	mean, err := explain.MeanImage(train)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	t.Logf("%s, normal class %d: %d training images, %d normal test images planted, patches from %d images of other classes",
		name, class, train.N, normal.N, other.N)

	type entry struct {
		det  detector.Detector
		maps []explain.MapSource
	}
	var runs []struct {
		name string
		entry
	}
	add := func(n string, e entry) {
		runs = append(runs, struct {
			name string
			entry
		}{n, e})
	}
	sigmas := []float64{0, 1, 2}
	if v := os.Getenv("ODDITY_MAPS_SIGMAS"); v != "" {
		sigmas = nil
		for _, f := range strings.Split(v, ",") {
			s, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("ODDITY_MAPS_SIGMAS: %v", err)
			}
			sigmas = append(sigmas, s)
		}
	}
	fit := func(n string, d detector.Detector) {
		start := time.Now()
		if err := d.Fit(ctx, detector.TrainSet{X: train}); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		t.Logf("%s: trained in %.0f s", n, time.Since(start).Seconds())
	}
	type sigmaLoc interface {
		LocalizeSigma(context.Context, *data.Dataset, float64) (*data.Dataset, error)
	}
	dcganMaps := func(d sigmaLoc) []explain.MapSource {
		var ms []explain.MapSource
		for _, s := range sigmas {
			ms = append(ms, explain.MapSource{Name: fmt.Sprintf("residual σ=%g", s), Localizer: explain.LocalizerFunc(
				func(ctx context.Context, x *data.Dataset) (*data.Dataset, error) { return d.LocalizeSigma(ctx, x, s) })})
		}
		return ms
	}
	if want("ganomaly") {
		o := ganomaly.DefaultOptions()
		o.Seed = 1
		d := ganomaly.New(o)
		fit("ganomaly", d)
		add("ganomaly", entry{d, dcganMaps(d)})
	}
	if want("cae") {
		o := cae.DefaultOptions()
		o.Seed = 1
		d := cae.New(o)
		fit("cae", d)
		add("cae", entry{d, dcganMaps(d)})
	}
	if want("deepcluster") {
		o := deepcluster.DefaultOptions()
		// the quick suite's short schedule, k = 9 as there
		o.K, o.PretrainEpochs, o.BatchSize, o.MaxSteps, o.UpdateInterval, o.KMeansInit = 9, 8, 64, 150, 50, 3
		o.Seed = 1
		d := deepcluster.New(o)
		fit("deepcluster", d)
		var ms []explain.MapSource
		for _, m := range []string{deepcluster.MapResidual, deepcluster.MapGradient} {
			for _, s := range sigmas {
				ms = append(ms, explain.MapSource{Name: fmt.Sprintf("%s σ=%g", m, s), Localizer: explain.LocalizerFunc(
					func(ctx context.Context, x *data.Dataset) (*data.Dataset, error) { return d.LocalizeBy(ctx, x, m, s) })})
			}
		}
		add("deepcluster", entry{d, ms})
	}
	// the neighbour detectors on pixels: their maps are smoothed with
	// NeighbourMapSigma, fixed before this measurement
	for _, nd := range []struct {
		name string
		det  interface {
			detector.Detector
			detector.Localizer
		}
	}{{"knn", knn.New(knn.DefaultOptions())}, {"lof", lof.New(lof.DefaultOptions())}} {
		if want(nd.name) {
			fit(nd.name, nd.det)
			add(nd.name, entry{nd.det, []explain.MapSource{{Name: fmt.Sprintf("neighbours σ=%g", explain.NeighbourMapSigma), Localizer: nd.det}}})
		}
	}
	// the reference at each smoothing, and the benchmark's ceiling: a map
	// that knows the clean image, |planted − clean|, smoothed alike
	var extra []explain.MapSource
	for _, s := range sigmas {
		extra = append(extra, explain.MapSource{Name: fmt.Sprintf("reference σ=%g", s), Localizer: explain.LocalizerFunc(
			func(_ context.Context, x *data.Dataset) (*data.Dataset, error) {
				m, err := explain.ReferenceMaps(x, mean)
				if err == nil {
					err = explain.SmoothMaps(m, s)
				}
				return m, err
			})})
	}
	for _, s := range sigmas {
		extra = append(extra, explain.MapSource{Name: fmt.Sprintf("ceiling σ=%g", s), Localizer: explain.LocalizerFunc(
			func(ctx context.Context, x *data.Dataset) (*data.Dataset, error) {
				m, err := oracle{normal}.Localize(ctx, x)
				if err == nil {
					err = explain.SmoothMaps(m, s)
				}
				return m, err
			})})
	}
	if len(runs) == 0 {
		add("none", entry{nil, nil})
	}
	for _, r := range runs {
		start := time.Now()
		rep, err := explain.EvaluateMaps(ctx, append(slices.Clone(r.maps), extra...), r.det, normal, other, mean, 1)
		if err != nil {
			t.Fatalf("%s: %v", r.name, err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s (%.0f s): pixel AUROC by map; image AUROC planted vs clean\n", r.name, time.Since(start).Seconds())
		fmt.Fprintf(&b, "  %-18s", "map")
		for _, row := range rep.Rows {
			fmt.Fprintf(&b, " %8s", row.Defect)
		}
		b.WriteString("\n")
		for _, m := range rep.Maps {
			fmt.Fprintf(&b, "  %-18s", m)
			for _, row := range rep.Rows {
				fmt.Fprintf(&b, " %8.4f", row.Pixel[m])
			}
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  %-18s", "image AUROC")
		for _, row := range rep.Rows {
			fmt.Fprintf(&b, " %8.4f", row.Image)
		}
		t.Log(b.String())
	}
}

func cmp(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
