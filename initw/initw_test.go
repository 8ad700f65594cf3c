package initw

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/tensor"
)

func rng(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// moments returns the sample mean, standard deviation and largest |value|.
func moments(d []float32) (mean, std, maxAbs float64) {
	for _, v := range d {
		mean += float64(v)
		maxAbs = math.Max(maxAbs, math.Abs(float64(v)))
	}
	mean /= float64(len(d))
	for _, v := range d {
		std += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, math.Sqrt(std / float64(len(d)-1)), maxAbs
}

// checkMoments asserts mean and std agree with the requested values within
// five standard errors (the std's standard error taken as σ/√(2n), about
// right for both normal and uniform draws).
func checkMoments(t *testing.T, what string, d []float32, mean, std float64) {
	t.Helper()
	m, s, _ := moments(d)
	n := float64(len(d))
	if math.Abs(m-mean) > 5*std/math.Sqrt(n) {
		t.Errorf("%s: sample mean %.6g, want %.6g ± %.2g", what, m, mean, 5*std/math.Sqrt(n))
	}
	if math.Abs(s-std) > 5*std/math.Sqrt(2*n) {
		t.Errorf("%s: sample std %.6g, want %.6g ± %.2g", what, s, std, 5*std/math.Sqrt(2*n))
	}
}

func TestFans(t *testing.T) {
	cases := []struct {
		shape   []int
		in, out int
	}{
		{[]int{10, 20}, 20, 10},                     // Linear [out, in]
		{[]int{32, 1, 5, 5}, 25, 800},               // Conv2d(1→32, k5)
		{[]int{64, 32, 5, 5}, 800, 1600},            // Conv2d(32→64, k5)
		{[]int{128, 64, 3, 3}, 576, 1152},           // ConvTranspose2d(128→64, k3): [in, out, kh, kw]
		{[]int{100, 256, 4, 4}, 4096, 1600},         // ConvTranspose2d(nz=100→256, k4)
		{[]int{3, 4, 2}, 8, 6},                      // Conv1d
		{[]int{2, 3, 0, 5}, 0, 0},                   // empty kernel
		{[]int{1, 1, 1, 1}, 1, 1},                   // 1×1
		{[]int{1152, 10}, 10, 1152},                 // DCEC's Dense(10→1152)
		{[]int{20, 21}, 21, 20},                     // DPLAN's hidden layer
		{[]int{4, 2, 3, 3, 3}, 2 * 27, 4 * 27},      // Conv3d
		{[]int{7, 1}, 1, 7},                         // column
		{[]int{1, 7}, 7, 1},                         // row
		{[]int{16, 8, 1, 3}, 8 * 3, 16 * 3},         // rectangular kernel
		{[]int{256, 512, 4, 4}, 512 * 16, 256 * 16}, // DCGAN-sized
	}
	for _, c := range cases {
		in, out, err := Fans(c.shape)
		if err != nil || in != c.in || out != c.out {
			t.Errorf("Fans(%v) = %d, %d, %v; want %d, %d", c.shape, in, out, err, c.in, c.out)
		}
	}
	for _, s := range [][]int{{}, {5}} {
		if _, _, err := Fans(s); !errors.Is(err, ErrArg) {
			t.Errorf("Fans(%v) error %v, want ErrArg", s, err)
		}
	}
}

func TestGain(t *testing.T) {
	cases := map[string][2]float64{
		"linear":     {0, 1},
		"conv2d":     {0, 1},
		"sigmoid":    {0, 1},
		"tanh":       {0, 5.0 / 3},
		"relu":       {0, math.Sqrt2},
		"leaky_relu": {0.2, math.Sqrt(2 / 1.04)},
		"selu":       {0, 0.75},
	}
	for nl, c := range cases {
		g, err := Gain(nl, c[0])
		if err != nil || math.Abs(g-c[1]) > 1e-15 {
			t.Errorf("Gain(%q, %g) = %g, %v; want %g", nl, c[0], g, err, c[1])
		}
	}
	// The a = √5 leaky-ReLU gain is √(1/3), so √3·gain = 1.
	if g, _ := Gain("leaky_relu", math.Sqrt(5)); math.Abs(math.Sqrt(3)*g-1) > 1e-15 {
		t.Errorf("√3·Gain(leaky_relu, √5) = %g, want 1", math.Sqrt(3)*g)
	}
	if _, err := Gain("swish", 0); !errors.Is(err, ErrArg) {
		t.Errorf("unknown nonlinearity: %v", err)
	}
}

func TestNormalUniform(t *testing.T) {
	w := tensor.New(200, 500)
	if err := Normal(rng(1), w, 1.0, 0.02); err != nil {
		t.Fatal(err)
	}
	checkMoments(t, "Normal(1, 0.02)", w.Data, 1, 0.02)
	if err := Normal(rng(2), w, -3, 2); err != nil {
		t.Fatal(err)
	}
	checkMoments(t, "Normal(-3, 2)", w.Data, -3, 2)

	if err := Uniform(rng(3), w, -0.5, 1.5); err != nil {
		t.Fatal(err)
	}
	checkMoments(t, "Uniform(-0.5, 1.5)", w.Data, 0.5, 2/math.Sqrt(12))
	lo, hi := slices.Min(w.Data), slices.Max(w.Data)
	if lo < -0.5 || hi > 1.5 || lo > -0.499 || hi < 1.499 {
		t.Errorf("Uniform(-0.5, 1.5) range [%g, %g]", lo, hi)
	}
	Constant(w, 0.25)
	if slices.Min(w.Data) != 0.25 || slices.Max(w.Data) != 0.25 {
		t.Error("Constant")
	}
	for name, err := range map[string]error{
		"negative std":  Normal(rng(1), w, 0, -1),
		"NaN mean":      Normal(rng(1), w, math.NaN(), 1),
		"reverse range": Uniform(rng(1), w, 1, 0),
		"infinite":      Uniform(rng(1), w, 0, math.Inf(1)),
	} {
		if !errors.Is(err, ErrArg) {
			t.Errorf("%s: error %v, want ErrArg", name, err)
		}
	}
}

func TestXavier(t *testing.T) {
	w := tensor.New(64, 128, 3, 3) // fans 1152, 576
	b := math.Sqrt(6.0 / (1152 + 576))
	if err := XavierUniform(rng(4), w, 1); err != nil {
		t.Fatal(err)
	}
	_, _, mx := moments(w.Data)
	if mx > b*(1+1e-7) || mx < 0.999*b {
		t.Errorf("XavierUniform: max |w| %g, bound %g", mx, b)
	}
	checkMoments(t, "XavierUniform", w.Data, 0, b/math.Sqrt(3))

	gain := 5.0 / 3
	if err := XavierNormal(rng(5), w, gain); err != nil {
		t.Fatal(err)
	}
	checkMoments(t, "XavierNormal(tanh gain)", w.Data, 0, gain*math.Sqrt(2.0/(1152+576)))

	if err := XavierUniform(rng(1), tensor.New(7), 1); !errors.Is(err, ErrArg) {
		t.Errorf("1-D weight: %v", err)
	}
	if err := XavierNormal(rng(1), tensor.New(3, 0), 1); !errors.Is(err, ErrArg) {
		t.Errorf("zero fan: %v", err)
	}
}

func TestKaiming(t *testing.T) {
	w := tensor.New(256, 128, 4, 4) // fan_in 2048, fan_out 4096
	if err := KaimingNormal(rng(6), w, 0, FanIn, "relu"); err != nil {
		t.Fatal(err)
	}
	checkMoments(t, "KaimingNormal fan_in relu", w.Data, 0, math.Sqrt(2.0/2048))
	if err := KaimingNormal(rng(7), w, 0.2, FanOut, "leaky_relu"); err != nil {
		t.Fatal(err)
	}
	checkMoments(t, "KaimingNormal fan_out leaky 0.2", w.Data, 0, math.Sqrt(2/1.04)/math.Sqrt(4096))

	if err := KaimingUniform(rng(8), w, 0, FanIn, "relu"); err != nil {
		t.Fatal(err)
	}
	b := math.Sqrt(6.0 / 2048) // √3·√2/√fan
	_, _, mx := moments(w.Data)
	if mx > b*(1+1e-7) || mx < 0.999*b {
		t.Errorf("KaimingUniform: max |w| %g, bound %g", mx, b)
	}
	checkMoments(t, "KaimingUniform", w.Data, 0, b/math.Sqrt(3))
	if err := KaimingUniform(rng(1), w, 0, Mode(5), "relu"); !errors.Is(err, ErrArg) {
		t.Errorf("bad mode: %v", err)
	}
	if err := KaimingNormal(rng(1), w, 0, FanIn, "gelu"); !errors.Is(err, ErrArg) {
		t.Errorf("unknown nonlinearity: %v", err)
	}
}

// TestTorchDefault: PyTorch's default layer initialisation bounds both
// weight and bias by 1/√fan_in, the fan_in of ConvTranspose2d weights being
// out·kh·kw.
func TestTorchDefault(t *testing.T) {
	cases := []struct {
		name  string
		w     []int
		nbias int
		fanIn int
	}{
		{"Linear(300→200)", []int{200, 300}, 200, 300},
		{"Conv2d(32→64, k5)", []int{64, 32, 5, 5}, 64, 800},
		{"ConvTranspose2d(128→64, k3)", []int{128, 64, 3, 3}, 64, 576},
		{"ConvTranspose2d(64→32, k5)", []int{64, 32, 5, 5}, 32, 800},
	}
	for _, c := range cases {
		w, bias := tensor.New(c.w...), tensor.New(c.nbias)
		if err := TorchDefault(rng(9), w, bias); err != nil {
			t.Fatal(err)
		}
		b := 1 / math.Sqrt(float64(c.fanIn))
		_, _, mx := moments(w.Data)
		if mx > b*(1+1e-7) || mx < 0.995*b {
			t.Errorf("%s: max |w| %g, want bound %g", c.name, mx, b)
		}
		checkMoments(t, c.name+" weight", w.Data, 0, b/math.Sqrt(3))
		_, _, mb := moments(bias.Data)
		if mb > b*(1+1e-7) || mb < 0.5*b {
			t.Errorf("%s: max |bias| %g, want bound %g", c.name, mb, b)
		}
	}
	// Without a bias only the weight is drawn, so the weight equals the
	// one drawn with a bias from the same seed.
	w1, w2 := tensor.New(20, 30), tensor.New(20, 30)
	if err := TorchDefault(rng(10), w1, nil); err != nil {
		t.Fatal(err)
	}
	if err := TorchDefault(rng(10), w2, tensor.New(20)); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(w1.Data, w2.Data) {
		t.Error("the weight depends on whether a bias follows")
	}
}

func TestDeterminism(t *testing.T) {
	draw := func(seed uint64) []float32 {
		w := tensor.New(16, 8, 3, 3)
		if err := KaimingNormal(rng(seed), w, 0, FanIn, "relu"); err != nil {
			t.Fatal(err)
		}
		return w.Data
	}
	if !slices.Equal(draw(42), draw(42)) {
		t.Error("same seed, different weights")
	}
	if slices.Equal(draw(42), draw(43)) {
		t.Error("different seeds, same weights")
	}
}
