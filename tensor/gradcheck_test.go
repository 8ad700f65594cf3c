package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/kernels"
)

// randT returns a tensor of shape with values uniform in [lo, hi), seeded.
func randT(r *rand.Rand, lo, hi float32, shape ...int) *Tensor {
	t := New(shape...)
	for i := range t.Data {
		t.Data[i] = lo + (hi-lo)*r.Float32()
	}
	return t
}

// awayFromZero pushes values out of (-m, m), so kinks (ReLU, |x|) are not
// crossed by a finite-difference step.
func awayFromZero(t *Tensor, m float32) *Tensor {
	for i, v := range t.Data {
		if v >= 0 && v < m {
			t.Data[i] = v + m
		} else if v < 0 && v > -m {
			t.Data[i] = v - m
		}
	}
	return t
}

// gradCheck compares the tape's gradient of L = Σ wᵢ·f(inputs)ᵢ (w random,
// fixed) with central finite differences of L evaluated in float64, for
// every element of every input.
func gradCheck(t *testing.T, name string, f func(tp *Tape, in []*Tensor) *Tensor, inputs ...*Tensor) {
	t.Helper()
	r := rand.New(rand.NewPCG(99, 1))
	for _, in := range inputs {
		in.SetRequiresGrad(true)
		in.grad = nil
	}
	out0 := f(nil, inputs)
	w := randT(r, -1, 1, out0.Shape...)
	loss := func() float64 {
		o := f(nil, inputs)
		var s float64
		for i, v := range o.Data {
			s += float64(v) * float64(w.Data[i])
		}
		return s
	}
	tp := NewTape()
	out := f(tp, inputs)
	tp.Backward(tp.Sum(tp.Mul(out, w)))
	const eps = 1e-2
	for k, in := range inputs {
		g := in.Grad()
		worst := 0.0
		for i := range in.Data {
			old := in.Data[i]
			in.Data[i] = old + eps
			lp := loss()
			in.Data[i] = old - eps
			lm := loss()
			in.Data[i] = old
			num := (lp - lm) / (2 * eps)
			diff := math.Abs(num - float64(g[i]))
			tol := 2e-3 + 2e-2*math.Abs(num)
			if diff > tol {
				t.Fatalf("%s: input %d element %d: autodiff %.6g, finite difference %.6g", name, k, i, g[i], num)
			}
			worst = math.Max(worst, diff)
		}
		t.Logf("%s input %d: %d elements, worst abs diff %.2g", name, k, len(in.Data), worst)
	}
}

func TestGradElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	type op struct {
		name string
		f    func(tp *Tape, in []*Tensor) *Tensor
		ins  func() []*Tensor
	}
	two := func(sa, sb []int) func() []*Tensor {
		return func() []*Tensor { return []*Tensor{randT(r, -2, 2, sa...), randT(r, 0.5, 2, sb...)} }
	}
	one := func(lo, hi float32, s ...int) func() []*Tensor {
		return func() []*Tensor { return []*Tensor{awayFromZero(randT(r, lo, hi, s...), 0.05)} }
	}
	ops := []op{
		{"Add", func(tp *Tape, in []*Tensor) *Tensor { return tp.Add(in[0], in[1]) }, two([]int{3, 4}, []int{3, 4})},
		{"AddBroadcastRow", func(tp *Tape, in []*Tensor) *Tensor { return tp.Add(in[0], in[1]) }, two([]int{3, 4}, []int{4})},
		{"AddBroadcastCol", func(tp *Tape, in []*Tensor) *Tensor { return tp.Add(in[0], in[1]) }, two([]int{2, 3, 4}, []int{3, 1})},
		{"Sub", func(tp *Tape, in []*Tensor) *Tensor { return tp.Sub(in[0], in[1]) }, two([]int{5}, []int{5})},
		{"SubBroadcast", func(tp *Tape, in []*Tensor) *Tensor { return tp.Sub(in[0], in[1]) }, two([]int{4, 1}, []int{1, 3})},
		{"Mul", func(tp *Tape, in []*Tensor) *Tensor { return tp.Mul(in[0], in[1]) }, two([]int{2, 3}, []int{2, 3})},
		{"MulBroadcast", func(tp *Tape, in []*Tensor) *Tensor { return tp.Mul(in[0], in[1]) }, two([]int{2, 3}, []int{2, 1})},
		{"Div", func(tp *Tape, in []*Tensor) *Tensor { return tp.Div(in[0], in[1]) }, two([]int{6}, []int{6})},
		{"DivBroadcast", func(tp *Tape, in []*Tensor) *Tensor { return tp.Div(in[0], in[1]) }, two([]int{3, 2}, []int{3, 1})},
		{"AddScalar", func(tp *Tape, in []*Tensor) *Tensor { return tp.AddScalar(in[0], 1.5) }, one(-1, 1, 7)},
		{"MulScalar", func(tp *Tape, in []*Tensor) *Tensor { return tp.MulScalar(in[0], -2.5) }, one(-1, 1, 7)},
		{"Neg", func(tp *Tape, in []*Tensor) *Tensor { return tp.Neg(in[0]) }, one(-1, 1, 7)},
		{"ReLU", func(tp *Tape, in []*Tensor) *Tensor { return tp.ReLU(in[0]) }, one(-1, 1, 3, 5)},
		{"LeakyReLU", func(tp *Tape, in []*Tensor) *Tensor { return tp.LeakyReLU(in[0], 0.2) }, one(-1, 1, 3, 5)},
		{"Tanh", func(tp *Tape, in []*Tensor) *Tensor { return tp.Tanh(in[0]) }, one(-2, 2, 9)},
		{"Sigmoid", func(tp *Tape, in []*Tensor) *Tensor { return tp.Sigmoid(in[0]) }, one(-4, 4, 9)},
		{"Exp", func(tp *Tape, in []*Tensor) *Tensor { return tp.Exp(in[0]) }, one(-1, 1, 9)},
		{"Log", func(tp *Tape, in []*Tensor) *Tensor { return tp.Log(in[0]) }, one(0.5, 3, 9)},
		{"Square", func(tp *Tape, in []*Tensor) *Tensor { return tp.Square(in[0]) }, one(-2, 2, 9)},
		{"Sqrt", func(tp *Tape, in []*Tensor) *Tensor { return tp.Sqrt(in[0]) }, one(0.5, 3, 9)},
		{"Pow", func(tp *Tape, in []*Tensor) *Tensor { return tp.Pow(in[0], -1.5) }, one(0.5, 3, 9)},
		{"Abs", func(tp *Tape, in []*Tensor) *Tensor { return tp.Abs(in[0]) }, one(-2, 2, 9)},
	}
	for _, o := range ops {
		t.Run(o.name, func(t *testing.T) { gradCheck(t, o.name, o.f, o.ins()...) })
	}
}

// spaced returns a tensor whose values are distinct multiples of 0.1 in a
// random order, so a finite-difference step never changes which is largest.
func spaced(r *rand.Rand, shape ...int) *Tensor {
	t := New(shape...)
	for i, j := range r.Perm(len(t.Data)) {
		t.Data[i] = 0.1*float32(j) - 1
	}
	return t
}

func TestGradReduceAndShape(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	a := func(s ...int) *Tensor { return randT(r, -1, 1, s...) }
	cases := []struct {
		name string
		f    func(tp *Tape, in []*Tensor) *Tensor
		ins  []*Tensor
	}{
		{"Sum", func(tp *Tape, in []*Tensor) *Tensor { return tp.Sum(in[0]) }, []*Tensor{a(3, 4)}},
		{"Mean", func(tp *Tape, in []*Tensor) *Tensor { return tp.Mean(in[0]) }, []*Tensor{a(3, 4)}},
		{"SumAxis0", func(tp *Tape, in []*Tensor) *Tensor { return tp.SumAxis(in[0], 0, false) }, []*Tensor{a(3, 4, 2)}},
		{"SumAxis1Keep", func(tp *Tape, in []*Tensor) *Tensor { return tp.SumAxis(in[0], 1, true) }, []*Tensor{a(3, 4, 2)}},
		{"MeanAxis2", func(tp *Tape, in []*Tensor) *Tensor { return tp.MeanAxis(in[0], 2, false) }, []*Tensor{a(3, 4, 2)}},
		{"MaxAxis", func(tp *Tape, in []*Tensor) *Tensor { o, _ := tp.MaxAxis(in[0], 1, false); return o }, []*Tensor{spaced(r, 4, 5)}},
		{"Reshape", func(tp *Tape, in []*Tensor) *Tensor { return tp.Reshape(in[0], 2, -1) }, []*Tensor{a(3, 4)}},
		{"Transpose", func(tp *Tape, in []*Tensor) *Tensor { return tp.Transpose(in[0]) }, []*Tensor{a(3, 5)}},
		{"Concat1", func(tp *Tape, in []*Tensor) *Tensor { return tp.Concat(1, in[0], in[1]) }, []*Tensor{a(2, 3), a(2, 2)}},
		{"Concat0", func(tp *Tape, in []*Tensor) *Tensor { return tp.Concat(0, in[0], in[1]) }, []*Tensor{a(2, 3), a(1, 3)}},
		{"Rows", func(tp *Tape, in []*Tensor) *Tensor { return tp.Rows(in[0], []int{2, 0, 2, 1}) }, []*Tensor{a(3, 2)}},
		{"Slice", func(tp *Tape, in []*Tensor) *Tensor { return tp.Slice(in[0], 1, 3) }, []*Tensor{a(4, 2)}},
		{"Gather", func(tp *Tape, in []*Tensor) *Tensor { return tp.Gather(in[0], []int{1, 0, 1}) }, []*Tensor{a(3, 2)}},
		{"MatMul", func(tp *Tape, in []*Tensor) *Tensor { return tp.MatMul(in[0], in[1]) }, []*Tensor{a(3, 4), a(4, 5)}},
		{"Linear", func(tp *Tape, in []*Tensor) *Tensor { return tp.Linear(in[0], in[1], in[2]) }, []*Tensor{a(5, 4), a(3, 4), a(3)}},
		{"LinearNoBias", func(tp *Tape, in []*Tensor) *Tensor { return tp.Linear(in[0], in[1], nil) }, []*Tensor{a(2, 7), a(3, 7)}},
		{"Upsample", func(tp *Tape, in []*Tensor) *Tensor { return tp.UpsampleNearest(in[0], 2) }, []*Tensor{a(2, 2, 2, 3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { gradCheck(t, c.name, c.f, c.ins...) })
	}
}

func TestGradConv(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	a := func(s ...int) *Tensor { return randT(r, -1, 1, s...) }
	for _, c := range []struct {
		n, ci, h, w, co, k int
		opt                ConvOptions
		bias               bool
	}{
		{2, 3, 5, 5, 4, 3, ConvOptions{Stride: 1, Padding: 1}, true},
		{2, 2, 7, 6, 3, 5, ConvOptions{Stride: 2, Padding: 2}, true},
		{1, 3, 8, 8, 2, 4, ConvOptions{Stride: 2, Padding: 1}, false},
		{3, 2, 7, 7, 3, 3, ConvOptions{Stride: 2}, true},
		{2, 1, 4, 4, 2, 4, ConvOptions{Stride: 1}, false},
	} {
		name := fmt.Sprintf("Conv2d_%+v", c)
		ins := []*Tensor{a(c.n, c.ci, c.h, c.w), a(c.co, c.ci, c.k, c.k)}
		if c.bias {
			ins = append(ins, a(c.co))
		}
		f := func(tp *Tape, in []*Tensor) *Tensor {
			var b *Tensor
			if len(in) > 2 {
				b = in[2]
			}
			return tp.Conv2d(in[0], in[1], b, c.opt)
		}
		t.Run(name, func(t *testing.T) { gradCheck(t, name, f, ins...) })
	}
	for _, c := range []struct {
		n, ci, h, w, co, k int
		opt                ConvOptions
		bias               bool
	}{
		{2, 3, 3, 3, 2, 3, ConvOptions{Stride: 2}, true},
		{2, 2, 3, 4, 3, 5, ConvOptions{Stride: 2, Padding: 2, OutputPadding: 1}, true},
		{1, 4, 2, 2, 2, 4, ConvOptions{Stride: 2, Padding: 1}, false},
		{2, 3, 1, 1, 2, 4, ConvOptions{Stride: 1}, false},
	} {
		name := fmt.Sprintf("ConvTranspose2d_%+v", c)
		ins := []*Tensor{a(c.n, c.ci, c.h, c.w), a(c.ci, c.co, c.k, c.k)}
		if c.bias {
			ins = append(ins, a(c.co))
		}
		f := func(tp *Tape, in []*Tensor) *Tensor {
			var b *Tensor
			if len(in) > 2 {
				b = in[2]
			}
			return tp.ConvTranspose2d(in[0], in[1], b, c.opt)
		}
		t.Run(name, func(t *testing.T) { gradCheck(t, name, f, ins...) })
	}
}

func TestGradBatchNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, shape := range [][]int{{6, 3}, {3, 2, 3, 3}} {
		for _, training := range []bool{true, false} {
			c := shape[1]
			st := &BatchNormState{RunningMean: randT(r, -0.5, 0.5, c), RunningVar: randT(r, 0.5, 1.5, c), Momentum: 0.1, Eps: 1e-5}
			name := fmt.Sprintf("BatchNorm%v_train=%v", shape, training)
			f := func(tp *Tape, in []*Tensor) *Tensor { return tp.BatchNorm(in[0], in[1], in[2], st, training) }
			t.Run(name, func(t *testing.T) {
				gradCheck(t, name, f, randT(r, -2, 2, shape...), randT(r, 0.5, 1.5, c), randT(r, -1, 1, c))
			})
		}
	}
}

func TestGradLosses(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	a := func(s ...int) *Tensor { return randT(r, -1, 1, s...) }
	probs := func(n, k int) *Tensor {
		t := randT(r, 0.1, 1, n, k)
		for i := 0; i < n; i++ {
			var s float32
			for j := 0; j < k; j++ {
				s += t.Data[i*k+j]
			}
			for j := 0; j < k; j++ {
				t.Data[i*k+j] /= s
			}
		}
		return t
	}
	target := probs(4, 3)
	y := New(6)
	for i := range y.Data {
		y.Data[i] = float32(i % 2)
	}
	smoothTarget := a(8)
	cases := []struct {
		name string
		f    func(tp *Tape, in []*Tensor) *Tensor
		ins  []*Tensor
	}{
		{"MSELoss", func(tp *Tape, in []*Tensor) *Tensor { return tp.MSELoss(in[0], in[1]) }, []*Tensor{a(3, 4), a(3, 4)}},
		{"L1Loss", func(tp *Tape, in []*Tensor) *Tensor { return tp.L1Loss(in[0], in[1]) }, []*Tensor{awayFromZero(a(10), 0.1), New(10)}},
		{"SmoothL1Loss", func(tp *Tape, in []*Tensor) *Tensor { return tp.SmoothL1Loss(in[0], smoothTarget, 1) },
			[]*Tensor{randT(r, -3, 3, 8)}},
		{"BCEWithLogits", func(tp *Tape, in []*Tensor) *Tensor { return tp.BCEWithLogits(in[0], y) }, []*Tensor{randT(r, -3, 3, 6)}},
		{"KLDiv", func(tp *Tape, in []*Tensor) *Tensor { return tp.KLDiv(target, in[0]) }, []*Tensor{probs(4, 3)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { gradCheck(t, c.name, c.f, c.ins...) })
	}
}

// TestLossValues checks the losses against values worked by hand.
func TestLossValues(t *testing.T) {
	var tp *Tape
	near := func(name string, got *Tensor, want float64) {
		t.Helper()
		if math.Abs(float64(got.Item())-want) > 1e-6*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.8g, want %.8g", name, got.Item(), want)
		}
	}
	a := FromData([]float32{1, 2, 3, 4}, 4)
	b := FromData([]float32{1, 0, 5, 3.5}, 4)
	near("MSE", tp.MSELoss(a, b), (0+4+4+0.25)/4.0)
	near("L1", tp.L1Loss(a, b), (0+2+2+0.5)/4.0)
	near("SmoothL1", tp.SmoothL1Loss(a, b, 1), (0+1.5+1.5+0.125)/4.0)
	x := FromData([]float32{0, 2, -1}, 3)
	y := FromData([]float32{1, 0, 0}, 3)
	want := (math.Log(2) + (2 + math.Log1p(math.Exp(-2))) + math.Log1p(math.Exp(-1))) / 3
	near("BCEWithLogits", tp.BCEWithLogits(x, y), want)
	p := FromData([]float32{0.5, 0.5, 1, 0}, 2, 2)
	q := FromData([]float32{0.25, 0.75, 0.5, 0.5}, 2, 2)
	near("KLDiv", tp.KLDiv(p, q), (0.5*math.Log(2)+0.5*math.Log(0.5/0.75)+math.Log(2))/2)
}

// TestLoweringMatchesKernels checks the strided batch lowering against the
// kernels package's per-image Im2col and Col2im on awkward geometries.
func TestLoweringMatchesKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, g := range []kernels.ConvGeom{
		{C: 2, H: 5, W: 7, KH: 3, KW: 3, PadH: 1, PadW: 1, StrideH: 1, StrideW: 1},
		{C: 3, H: 7, W: 6, KH: 5, KW: 5, PadH: 2, PadW: 2, StrideH: 2, StrideW: 2},
		{C: 1, H: 8, W: 8, KH: 4, KW: 4, PadH: 1, PadW: 1, StrideH: 2, StrideW: 2},
		{C: 2, H: 7, W: 7, KH: 3, KW: 3, StrideH: 2, StrideW: 2},
		{C: 1, H: 3, W: 4, KH: 5, KW: 5, PadH: 3, PadW: 3, StrideH: 3, StrideW: 3},
	} {
		n, ohw, rows := 3, g.OutH()*g.OutW(), g.C*g.KH*g.KW
		x := randT(r, -1, 1, n, g.C, g.H, g.W)
		got := make([]float32, rows*n*ohw)
		lowerBatch(g, x.Data, n, got)
		img := g.C * g.H * g.W
		for i := 0; i < n; i++ {
			want := make([]float32, rows*ohw)
			kernels.Im2col(g, x.Data[i*img:(i+1)*img], want)
			for row := 0; row < rows; row++ {
				for j := 0; j < ohw; j++ {
					if got[row*n*ohw+i*ohw+j] != want[row*ohw+j] {
						t.Fatalf("%+v: image %d patch row %d col %d: %v, want %v", g, i, row, j, got[row*n*ohw+i*ohw+j], want[row*ohw+j])
					}
				}
			}
		}
		cols := randT(r, -1, 1, rows, n*ohw)
		back := make([]float32, n*img)
		raiseBatch(g, cols.Data, n, back)
		for i := 0; i < n; i++ {
			buf := make([]float32, rows*ohw)
			for row := 0; row < rows; row++ {
				copy(buf[row*ohw:(row+1)*ohw], cols.Data[row*n*ohw+i*ohw:])
			}
			want := make([]float32, img)
			kernels.Col2im(g, buf, want)
			for j := range want {
				if d := back[i*img+j] - want[j]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("%+v: image %d value %d: %v, want %v", g, i, j, back[i*img+j], want[j])
				}
			}
		}
	}
}
