package explain

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/metrics"
)

// Anomaly maps (docs/methods.md §7): what image detectors' Localize
// methods share, and the planted-defect measurement that checks them.
//
// A map is one H×W plane per image, higher meaning more anomalous, held in
// a data.Dataset of shape [H, W]. Image detectors build theirs from a
// per-pixel residual (MeanAbsDiff), optionally smoothed (GaussianBlur);
// the measurement pastes known defects into normal images (PlantDefects)
// and asks how well the map ranks the defect's pixels above the others
// (PixelAUROC), beside a reference map that knows nothing of the detector
// (ReferenceMaps).

// ImageDims reads channels, height and width from a sample shape [C,H,W]
// or [H,W] (one channel). Other shapes wrap detector.ErrSchema.
func ImageDims(shape []int) (c, h, w int, err error) {
	switch {
	case len(shape) == 2 && shape[0] > 0 && shape[1] > 0:
		return 1, shape[0], shape[1], nil
	case len(shape) == 3 && shape[0] > 0 && shape[1] > 0 && shape[2] > 0:
		return shape[0], shape[1], shape[2], nil
	}
	return 0, 0, 0, fmt.Errorf("%w: samples of shape %v are not images ([C,H,W] or [H,W])", detector.ErrSchema, shape)
}

// NewMaps returns an empty set of n anomaly maps of h×w, named after and
// labelled as x (its labels copied), ready to be filled.
func NewMaps(x *data.Dataset, h, w int) *data.Dataset {
	return &data.Dataset{Name: x.Name + " anomaly maps", N: x.N, Shape: []int{h, w}, X: make([]float32, x.N*h*w),
		Y: slices.Clone(x.Y), ClassNames: slices.Clone(x.ClassNames)}
}

// MeanAbsDiff writes into dst (hw values) the per-pixel residual of two
// images a and b of c planes of hw values each: the mean over channels of
// |a − b|. The mean rather than the sum or the maximum keeps a map of a
// colour image on the scale of a grey one, so one colour scale and one
// threshold serve both.
func MeanAbsDiff(dst, a, b []float32, c, hw int) {
	clear(dst[:hw])
	for ch := 0; ch < c; ch++ {
		pa, pb := a[ch*hw:(ch+1)*hw], b[ch*hw:(ch+1)*hw]
		for j := range dst[:hw] {
			d := pa[j] - pb[j]
			if d < 0 {
				d = -d
			}
			dst[j] += d
		}
	}
	if c > 1 {
		inv := 1 / float32(c)
		for j := range dst[:hw] {
			dst[j] *= inv
		}
	}
}

// gaussKernel returns the one-sided weights exp(-k²/2σ²), k = 0..radius,
// radius = ⌈3σ⌉ (the weight beyond is under 1.2% of the centre's).
func gaussKernel(sigma float64) []float64 {
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, r+1)
	for i := range k {
		k[i] = math.Exp(-float64(i*i) / (2 * sigma * sigma))
	}
	return k
}

// GaussianBlur smooths the h×w plane src into dst (which may be src) with
// a Gaussian of standard deviation sigma pixels, truncated at ⌈3σ⌉ and
// applied along rows then columns. At the border the weights that fall
// outside the image are dropped and the rest renormalised, so a constant
// plane stays constant and a defect at the edge is not darkened. sigma ≤ 0
// copies src.
//
// Smoothing helps a residual map because a reconstruction error is
// rarely confined to the defect's exact pixels: the decoder smears it over
// its receptive field, and isolated noisy pixels of normal regions are
// averaged away (anomalib smooths its maps the same way).
func GaussianBlur(dst, src []float32, h, w int, sigma float64) {
	n := h * w
	if !(sigma > 0) {
		copy(dst[:n], src[:n])
		return
	}
	k := gaussKernel(sigma)
	r := len(k) - 1
	tmp := make([]float64, n)
	for y := 0; y < h; y++ {
		row := src[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			var s, ws float64
			for d := max(-r, -x); d <= min(r, w-1-x); d++ {
				kw := k[abs(d)]
				s += kw * float64(row[x+d])
				ws += kw
			}
			tmp[y*w+x] = s / ws
		}
	}
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			var s, ws float64
			for d := max(-r, -y); d <= min(r, h-1-y); d++ {
				kw := k[abs(d)]
				s += kw * tmp[(y+d)*w+x]
				ws += kw
			}
			dst[y*w+x] = float32(s / ws)
		}
	}
}

func abs(d int) int {
	if d < 0 {
		return -d
	}
	return d
}

// SmoothMaps blurs every map of maps (shape [H, W]) in place with
// GaussianBlur(sigma). A negative or non-finite sigma wraps
// detector.ErrOption.
func SmoothMaps(maps *data.Dataset, sigma float64) error {
	if err := CheckSigma(sigma); err != nil {
		return err
	}
	if sigma == 0 || maps.N == 0 {
		return nil
	}
	if len(maps.Shape) != 2 {
		return fmt.Errorf("%w: anomaly maps of shape %v, want [H, W]", detector.ErrSchema, maps.Shape)
	}
	h, w := maps.Shape[0], maps.Shape[1]
	for i := 0; i < maps.N; i++ {
		p := maps.X[i*h*w : (i+1)*h*w]
		GaussianBlur(p, p, h, w, sigma)
	}
	return nil
}

// CheckSigma returns an error wrapping detector.ErrOption unless sigma is
// a finite number ≥ 0; Localize methods call it before any work.
func CheckSigma(sigma float64) error {
	if math.IsNaN(sigma) || math.IsInf(sigma, 0) || sigma < 0 {
		return fmt.Errorf("%w: smoothing sigma %v: must be a finite number ≥ 0", detector.ErrOption, sigma)
	}
	return nil
}

// CheckMaps returns an error wrapping detector.ErrInput when a map value
// is NaN or infinite: a map is a score per pixel, and non-finite scores
// are errors, never results.
func CheckMaps(maps *data.Dataset) error {
	for j, v := range maps.X {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("%w: the anomaly map of image %d has a non-finite value", detector.ErrInput, j/max(1, maps.Dim()))
		}
	}
	return nil
}

// MeanImage returns the mean of the samples of x, value by value: the
// "average normal image" of ReferenceMaps when x holds normal training
// images.
func MeanImage(x *data.Dataset) ([]float32, error) {
	if err := detector.CheckInput(x, nil); err != nil {
		return nil, err
	}
	if x.N == 0 {
		return nil, fmt.Errorf("%w: no images to average", detector.ErrInput)
	}
	d := x.Dim()
	sum := make([]float64, d)
	for i := 0; i < x.N; i++ {
		for j, v := range x.Row(i) {
			sum[j] += float64(v)
		}
	}
	out := make([]float32, d)
	for j, s := range sum {
		out[j] = float32(s / float64(x.N))
	}
	return out, nil
}

// ReferenceMaps returns the reference anomaly map of every image of x:
// MeanAbsDiff of the image and mean (MeanImage of normal training
// images), unsmoothed. It needs no model; a detector's map earns its keep
// by beating it.
func ReferenceMaps(x *data.Dataset, mean []float32) (*data.Dataset, error) {
	if err := detector.CheckInput(x, nil); err != nil {
		return nil, err
	}
	c, h, w, err := ImageDims(x.Shape)
	if err != nil {
		return nil, err
	}
	if len(mean) != x.Dim() {
		return nil, fmt.Errorf("%w: mean image of %d values for samples of shape %v", detector.ErrSchema, len(mean), x.Shape)
	}
	out := NewMaps(x, h, w)
	for i := 0; i < x.N; i++ {
		MeanAbsDiff(out.X[i*h*w:(i+1)*h*w], x.Row(i), mean, c, h*w)
	}
	return out, nil
}

// LocalizerFunc adapts a function to detector.Localizer, for maps a
// detector offers beside its default (deepcluster's LocalizeBy with a
// named method, a detector's map at another smoothing).
type LocalizerFunc func(ctx context.Context, x *data.Dataset) (*data.Dataset, error)

// Localize implements detector.Localizer.
func (f LocalizerFunc) Localize(ctx context.Context, x *data.Dataset) (*data.Dataset, error) {
	return f(ctx, x)
}

// Defect kinds of PlantDefects.
const (
	// DefectPatch is a square of side 6 to 10 pixels copied from an image
	// of another class, pasted at a random place.
	DefectPatch = "patch"
	// DefectStroke is a bright line segment, 2 or 3 pixels wide, of
	// length 35% to 70% of the image's shorter side, at a random angle
	// and place.
	DefectStroke = "stroke"
)

// Planting constants: a draw of a defect is kept when it changes the
// image by at least plantMinChange on average over its pixels (in [0, 1]
// units, channels averaged), so that the mask marks something a viewer
// could see (a black square cut from an MNIST background pasted onto the
// black background would change nothing); after plantDraws draws without
// one, the draw that changes the image most is kept.
const (
	plantMinChange = 0.25
	plantDraws     = 100
)

// Planted is a set of images with one pasted defect each and the defects'
// pixel masks: the ground truth of the anomaly-map measurement.
type Planted struct {
	// Images holds the planted images, of the normal images' shape, in
	// their order; labels are 1 (each holds a defect).
	Images *data.Dataset
	// Masks holds one H×W mask per image, row-major: 1 where the defect
	// was pasted, 0 elsewhere.
	Masks []uint8
	// Defect is the kind planted, DefectPatch or DefectStroke.
	Defect string
	// H and W are the masks' height and width.
	H, W int
}

// Seed streams of PlantDefects, per kind (ASCII "PATCH", "STROKE").
const (
	patchStream  = 0x5041544348
	strokeStream = 0x5354524f4b45
)

// PlantDefects pastes one defect of kind defect into a copy of every image
// of normal (samples [C,H,W] or [H,W] with values in [0, 1], at least
// 10×10) and returns the planted images and their masks. Patches are cut
// from the images of other (same shape; not needed for strokes), chosen at
// random; strokes have value 1 in every channel. Every random choice is
// drawn from seed, so the same seed plants the same defects.
func PlantDefects(normal, other *data.Dataset, defect string, seed uint64) (*Planted, error) {
	if err := detector.CheckInput(normal, nil); err != nil {
		return nil, fmt.Errorf("normal images: %w", err)
	}
	c, h, w, err := ImageDims(normal.Shape)
	if err != nil {
		return nil, err
	}
	if h < 10 || w < 10 {
		return nil, fmt.Errorf("%w: %d×%d images are too small to plant a defect in (need 10×10)", detector.ErrInput, h, w)
	}
	var stream uint64
	switch defect {
	case DefectPatch:
		stream = patchStream
		if other == nil || other.N == 0 {
			return nil, fmt.Errorf("%w: patches need images of another class to cut them from", detector.ErrInput)
		}
		if err := detector.CheckInput(other, normal.Shape); err != nil {
			return nil, fmt.Errorf("images of the other class: %w", err)
		}
	case DefectStroke:
		stream = strokeStream
	default:
		return nil, fmt.Errorf("%w: defect %q (want %q or %q)", detector.ErrOption, defect, DefectPatch, DefectStroke)
	}
	rng := rand.New(rand.NewPCG(seed, stream))
	hw := h * w
	p := &Planted{Defect: defect, H: h, W: w, Masks: make([]uint8, normal.N*hw),
		Images: &data.Dataset{Name: normal.Name + " planted " + defect, N: normal.N, Shape: slices.Clone(normal.Shape),
			X: slices.Clone(normal.X), Y: make([]int, normal.N), ClassNames: []string{"clean", "planted"}}}
	cand := make([]float32, normal.Dim())
	mask := make([]uint8, hw)
	for i := 0; i < normal.N; i++ {
		p.Images.Y[i] = 1
		src := normal.Row(i)
		best := -1.0
		for draw := 0; draw < plantDraws; draw++ {
			copy(cand, src)
			clear(mask)
			if defect == DefectPatch {
				pastePatch(cand, mask, other, c, h, w, rng)
			} else {
				drawStroke(cand, mask, c, h, w, rng)
			}
			ch := change(cand, src, mask, c, hw)
			if ch > best {
				best = ch
				copy(p.Images.Row(i), cand)
				copy(p.Masks[i*hw:(i+1)*hw], mask)
			}
			if ch >= plantMinChange {
				break
			}
		}
	}
	return p, nil
}

// change is the mean over the mask's pixels of the channel-averaged
// |a − b|.
func change(a, b []float32, mask []uint8, c, hw int) float64 {
	var s float64
	var n int
	for j, m := range mask {
		if m == 0 {
			continue
		}
		n++
		for ch := 0; ch < c; ch++ {
			s += math.Abs(float64(a[ch*hw+j] - b[ch*hw+j]))
		}
	}
	if n == 0 {
		return 0
	}
	return s / float64(n*c)
}

// pastePatch copies a square of side 6–10 from a random image of other at
// a random place to a random place of img, marking it in mask.
func pastePatch(img []float32, mask []uint8, other *data.Dataset, c, h, w int, rng *rand.Rand) {
	s := 6 + rng.IntN(5)
	src := other.Row(rng.IntN(other.N))
	sy, sx := rng.IntN(h-s+1), rng.IntN(w-s+1)
	dy, dx := rng.IntN(h-s+1), rng.IntN(w-s+1)
	hw := h * w
	for ch := 0; ch < c; ch++ {
		for y := 0; y < s; y++ {
			copy(img[ch*hw+(dy+y)*w+dx:ch*hw+(dy+y)*w+dx+s], src[ch*hw+(sy+y)*w+sx:ch*hw+(sy+y)*w+sx+s])
		}
	}
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			mask[(dy+y)*w+dx+x] = 1
		}
	}
}

// drawStroke paints a bright segment into img: width 2 or 3, length 35–70%
// of the shorter side, a random direction, both ends inside the image. A
// pixel belongs to the stroke when its centre lies within half the width
// of the segment.
func drawStroke(img []float32, mask []uint8, c, h, w int, rng *rand.Rand) {
	width := 2 + float64(rng.IntN(2))
	short := float64(min(h, w))
	length := short * (0.35 + 0.35*rng.Float64())
	theta := math.Pi * rng.Float64()
	dx, dy := length*math.Cos(theta), length*math.Sin(theta)
	// the first end anywhere that keeps the second inside [0, w-1]×[0, h-1]
	x0lo, x0hi := math.Max(0, -dx), math.Min(float64(w-1), float64(w-1)-dx)
	y0lo, y0hi := math.Max(0, -dy), math.Min(float64(h-1), float64(h-1)-dy)
	x0 := x0lo + (x0hi-x0lo)*rng.Float64()
	y0 := y0lo + (y0hi-y0lo)*rng.Float64()
	x1, y1 := x0+dx, y0+dy
	half := width / 2
	hw := h * w
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if segDist(float64(x), float64(y), x0, y0, x1, y1) > half {
				continue
			}
			mask[y*w+x] = 1
			for ch := 0; ch < c; ch++ {
				img[ch*hw+y*w+x] = 1
			}
		}
	}
}

// segDist is the distance of (px, py) to the segment (x0, y0)–(x1, y1).
func segDist(px, py, x0, y0, x1, y1 float64) float64 {
	vx, vy := x1-x0, y1-y0
	t := 0.0
	if l2 := vx*vx + vy*vy; l2 > 0 {
		t = math.Max(0, math.Min(1, ((px-x0)*vx+(py-y0)*vy)/l2))
	}
	return math.Hypot(px-(x0+t*vx), py-(y0+t*vy))
}

// PixelAUROC is the pixel-level AUROC of anomaly maps against defect
// masks, as anomalib computes it: every pixel of every image is one
// sample, its map value the score and its mask value the label, all images
// pooled into one ROC curve (not averaged per image). maps has shape
// [H, W] and holds one map per mask.
func PixelAUROC(maps *data.Dataset, masks []uint8) (float64, error) {
	if maps == nil || len(maps.Shape) != 2 {
		return 0, fmt.Errorf("%w: anomaly maps must have shape [H, W]", detector.ErrSchema)
	}
	if len(masks) != len(maps.X) || len(maps.X) != maps.N*maps.Dim() {
		return 0, fmt.Errorf("%w: %d mask pixels for %d map values", detector.ErrSchema, len(masks), len(maps.X))
	}
	scores := make([]float64, len(maps.X))
	labels := make([]int, len(masks))
	for j, v := range maps.X {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return 0, fmt.Errorf("%w: map value %d is %v", detector.ErrInput, j, v)
		}
		scores[j] = float64(v)
		labels[j] = int(masks[j])
	}
	return metrics.ROCAUC(scores, labels)
}

// MapSource names an anomaly map to measure.
type MapSource struct {
	// Name labels the map in reports ("residual", "gradient").
	Name string
	// Localizer computes it.
	Localizer detector.Localizer
}

// ReferenceMap is the name EvaluateMaps gives the reference map
// (ReferenceMaps) in its results.
const ReferenceMap = "reference"

// MapsRow is one defect kind's result of EvaluateMaps.
type MapsRow struct {
	// Defect is DefectPatch, DefectStroke, or "all" (both pooled).
	Defect string `json:"defect"`
	// Pixel is the pixel AUROC of each map by name, the reference map's
	// under ReferenceMap.
	Pixel map[string]float64 `json:"pixel_auroc"`
	// Image is the detector's image-level AUROC, planted images against
	// the same images clean (NaN without a detector).
	Image float64 `json:"image_auroc"`
}

// MapsReport is what EvaluateMaps measured.
type MapsReport struct {
	// Images is the number of normal images planted (once per kind).
	Images int `json:"images"`
	// Maps lists the map names in the order given, ReferenceMap last.
	Maps []string `json:"maps"`
	// Rows holds DefectPatch, DefectStroke and "all", in that order.
	Rows []MapsRow `json:"rows"`
}

// EvaluateMaps measures anomaly maps on planted defects (docs/methods.md
// §7): it plants a patch (cut from other) and, separately, a stroke into
// every image of normal (normal test images, values in [0, 1]) with
// PlantDefects and seed, computes each map of maps and the reference map
// (ReferenceMaps with trainMean, the mean normal training image) on the
// planted images, and reports the pixel AUROC of each against the masks
// per kind and pooled over both, and, when det is not nil, det's
// image-level AUROC of the planted images against the clean ones. Memory
// is a few times normal's size per map.
func EvaluateMaps(ctx context.Context, maps []MapSource, det detector.Detector, normal, other *data.Dataset, trainMean []float32, seed uint64) (*MapsReport, error) {
	if err := detector.CheckInput(normal, nil); err != nil {
		return nil, fmt.Errorf("normal images: %w", err)
	}
	if normal.N == 0 {
		return nil, fmt.Errorf("%w: no normal images to plant defects in", detector.ErrInput)
	}
	rep := &MapsReport{Images: normal.N}
	for _, m := range maps {
		if m.Name == ReferenceMap || m.Name == "" || m.Localizer == nil || slices.Contains(rep.Maps, m.Name) {
			return nil, fmt.Errorf("%w: map %q: each map needs a Localizer and a distinct name other than %q", detector.ErrOption, m.Name, ReferenceMap)
		}
		rep.Maps = append(rep.Maps, m.Name)
	}
	rep.Maps = append(rep.Maps, ReferenceMap)
	var clean []float64
	if det != nil {
		var err error
		if clean, err = det.Score(ctx, normal); err != nil {
			return nil, err
		}
	}
	type pooled struct {
		maps  map[string][]float32
		masks []uint8
		pl    []float64
	}
	all := pooled{maps: map[string][]float32{}}
	for _, kind := range []string{DefectPatch, DefectStroke} {
		p, err := PlantDefects(normal, other, kind, seed)
		if err != nil {
			return nil, err
		}
		row := MapsRow{Defect: kind, Pixel: map[string]float64{}, Image: math.NaN()}
		for k, name := range rep.Maps {
			var mp *data.Dataset
			if name == ReferenceMap {
				mp, err = ReferenceMaps(p.Images, trainMean)
			} else {
				mp, err = maps[k].Localizer.Localize(ctx, p.Images)
			}
			if err != nil {
				return nil, fmt.Errorf("map %q: %w", name, err)
			}
			if len(mp.Shape) != 2 || mp.Shape[0] != p.H || mp.Shape[1] != p.W || mp.N != p.Images.N {
				return nil, fmt.Errorf("%w: map %q: %d maps of shape %v for %d images of %d×%d", detector.ErrSchema, name, mp.N, mp.Shape, p.Images.N, p.H, p.W)
			}
			if row.Pixel[name], err = PixelAUROC(mp, p.Masks); err != nil {
				return nil, fmt.Errorf("map %q: %w", name, err)
			}
			all.maps[name] = append(all.maps[name], mp.X...)
		}
		all.masks = append(all.masks, p.Masks...)
		if det != nil {
			pl, err := det.Score(ctx, p.Images)
			if err != nil {
				return nil, err
			}
			if row.Image, err = imageAUROC(clean, pl); err != nil {
				return nil, err
			}
			all.pl = append(all.pl, pl...)
		}
		rep.Rows = append(rep.Rows, row)
	}
	row := MapsRow{Defect: "all", Pixel: map[string]float64{}, Image: math.NaN()}
	_, h, w, _ := ImageDims(normal.Shape) // PlantDefects checked it
	for _, name := range rep.Maps {
		v := all.maps[name]
		auc, err := PixelAUROC(&data.Dataset{N: len(v) / (h * w), Shape: []int{h, w}, X: v}, all.masks)
		if err != nil {
			return nil, err
		}
		row.Pixel[name] = auc
	}
	if det != nil {
		var err error
		if row.Image, err = imageAUROC(append(slices.Clone(clean), clean...), all.pl); err != nil {
			return nil, err
		}
	}
	rep.Rows = append(rep.Rows, row)
	return rep, nil
}

// imageAUROC is the AUROC of planted scores (label 1) against clean ones
// (label 0); a non-finite score is an error.
func imageAUROC(clean, planted []float64) (float64, error) {
	s := append(slices.Clone(clean), planted...)
	y := make([]int, len(s))
	for i := len(clean); i < len(s); i++ {
		y[i] = 1
	}
	for _, v := range s {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("%w: a detector score is not finite", detector.ErrInput)
		}
	}
	return metrics.ROCAUC(s, y)
}
