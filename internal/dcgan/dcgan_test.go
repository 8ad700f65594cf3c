package dcgan

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
	"github.com/oddity-ml/oddity/tensor"
)

// TestPadAndScale checks padding by hand: a 2×3 image centred on 8×8,
// values 2v-1, border -1.
func TestPadAndScale(t *testing.T) {
	ds := &data.Dataset{N: 1, Shape: []int{1, 2, 3}, X: []float32{0, 0.5, 1, 0.25, 0.75, 1}}
	g, err := NewGeometry(ds.Shape, 0, FitPad)
	if err != nil || g.S != 8 {
		t.Fatalf("geometry %+v, %v", g, err)
	}
	out := make([]float32, 64)
	g.Fill(out, ds, []int{0})
	// top = (8-2)/2 = 3, left = (8-3)/2 = 2.
	want := map[int]float32{3*8 + 2: -1, 3*8 + 3: 0, 3*8 + 4: 1, 4*8 + 2: -0.5, 4*8 + 3: 0.5, 4*8 + 4: 1}
	for i, v := range out {
		w, ok := want[i]
		if !ok {
			w = -1
		}
		if v != w {
			t.Fatalf("pixel %d (row %d col %d) = %v, want %v", i, i/8, i%8, v, w)
		}
	}
	if s, _ := SideFor(28, 28, 0); s != 32 {
		t.Errorf("side for MNIST = %d, want 32", s)
	}
	if s, _ := SideFor(32, 32, 0); s != 32 {
		t.Errorf("side for CIFAR-10 = %d, want 32", s)
	}
	if g, err := NewGeometry([]int{5, 5}, 0, FitPad); err != nil || g.C != 1 || g.H != 5 || g.S != 8 {
		t.Errorf("[H,W] images: %+v, %v", g, err)
	}
}

// TestResizeBilinear compares with PyTorch's interpolate(bilinear,
// align_corners=False) of [[0,1],[2,3]] to 4×4, worked by hand.
func TestResizeBilinear(t *testing.T) {
	dst := make([]float32, 16)
	resizeBilinear(dst, 4, 4, []float32{0, 1, 2, 3}, 2, 2)
	want := []float32{0, .25, .75, 1, .5, .75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3}
	for i := range want {
		if math.Abs(float64(dst[i]-want[i])) > 1e-6 {
			t.Fatalf("resize = %v, want %v", dst, want)
		}
	}
	// The same size is the identity.
	src := []float32{1, 2, 3, 4, 5, 6}
	same := make([]float32, 6)
	resizeBilinear(same, 2, 3, src, 2, 3)
	for i := range src {
		if same[i] != src[i] {
			t.Fatalf("identity resize = %v", same)
		}
	}
}

func TestBadGeometry(t *testing.T) {
	for _, shape := range [][]int{{784}, {1, 2, 3, 4}, {0, 4, 4}} {
		if _, err := NewGeometry(shape, 0, FitPad); !errors.Is(err, detector.ErrInput) {
			t.Errorf("shape %v: %v, want ErrInput", shape, err)
		}
	}
	if _, err := NewGeometry([]int{1, 40, 40}, 32, FitPad); !errors.Is(err, detector.ErrInput) {
		t.Errorf("40×40 padded to 32: %v, want ErrInput", err)
	}
	if g, err := NewGeometry([]int{1, 40, 40}, 32, FitResize); err != nil || g.S != 32 {
		t.Errorf("40×40 resized to 32: %+v %v", g, err)
	}
	for _, side := range []int{28, 48, 12} {
		if _, err := NewGeometry([]int{1, 8, 8}, side, FitPad); err == nil {
			t.Errorf("side %d accepted", side)
		}
	}
	if _, err := NewGeometry([]int{1, 8, 8}, 0, "crop"); err == nil {
		t.Error("fit mode crop accepted")
	}
}

// TestNetworkShapes checks the encoder and decoder for every accepted side
// and that other sides are refused.
func TestNetworkShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, side := range []int{8, 16, 32, 64} {
		e, err := NewEncoder(3, side, 4, 7, r)
		if err != nil {
			t.Fatalf("side %d: %v", side, err)
		}
		d, err := NewDecoder(3, side, 4, 7, r)
		if err != nil {
			t.Fatalf("side %d: %v", side, err)
		}
		x := tensor.New(2, 3, side, side)
		z := e.Forward(nil, x)
		xh := d.Forward(nil, z)
		if !tensor.SameShape(z.Shape, []int{2, 7, 1, 1}) || !tensor.SameShape(xh.Shape, x.Shape) {
			t.Errorf("side %d: z %v, x' %v", side, z.Shape, xh.Shape)
		}
	}
	for _, side := range []int{0, 4, 12, 28, 48, 100} {
		if ValidSide(side) == nil {
			t.Errorf("side %d accepted", side)
		}
		if _, err := NewEncoder(1, side, 4, 7, r); err == nil {
			t.Errorf("encoder of side %d built", side)
		}
	}
}

// TestSplit: the split is a seeded permutation cut to MaxImages, with the
// validation part first, disjoint from the training part.
func TestSplit(t *testing.T) {
	s := Schedule{MaxImages: 50, ValFraction: 0.1, Seed: 3}
	val, train := s.Split(80)
	if len(val) != 5 || len(train) != 45 {
		t.Fatalf("%d validation and %d training images of 50, want 5 and 45", len(val), len(train))
	}
	seen := map[int]bool{}
	for _, i := range append(slices.Clone(val), train...) {
		if i < 0 || i >= 80 || seen[i] {
			t.Fatalf("index %d repeated or out of range", i)
		}
		seen[i] = true
	}
	v2, t2 := s.Split(80)
	if !slices.Equal(val, v2) || !slices.Equal(train, t2) {
		t.Error("the same seed split differently")
	}
	s.Seed = 4
	if v3, _ := s.Split(80); slices.Equal(val, v3) {
		t.Error("another seed gave the same validation images")
	}
	s.MaxImages = 0
	if val, train := s.Split(80); len(val)+len(train) != 80 {
		t.Errorf("MaxImages 0 kept %d of 80 images", len(val)+len(train))
	}
}

// TestSettingsChoices checks that the enum tags of Select and FitMode
// accept exactly the constants: each pair validates, and a constant's
// neighbour in spelling does not.
func TestSettingsChoices(t *testing.T) {
	for _, sel := range []string{SelectVal, SelectLast} {
		for _, fit := range []string{FitPad, FitResize} {
			s := DefaultSettings()
			s.Select, s.FitMode = sel, fit
			if err := option.Check(&s); err != nil {
				t.Errorf("select %q, fit %q: %v", sel, fit, err)
			}
			if err := ValidateSettings(s, detector.ErrOption); err != nil {
				t.Errorf("select %q, fit %q: %v", sel, fit, err)
			}
		}
	}
	for _, set := range []func(*Settings){
		func(s *Settings) { s.Select = "Val" },
		func(s *Settings) { s.Select = "" },
		func(s *Settings) { s.FitMode = "pad " },
		func(s *Settings) { s.FitMode = "" },
	} {
		s := DefaultSettings()
		set(&s)
		if err := option.Check(&s); err == nil {
			t.Errorf("select %q, fit %q accepted", s.Select, s.FitMode)
		}
	}
}
