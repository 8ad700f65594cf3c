package ecod

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// bruteScores computes ECOD's scores from the definitions, by counting:
// for each feature j the training values ≤ z and ≥ z (z counted among
// them, hence +1 over n+1), the paper's skewness γ_j (1/n third moment
// over the (n−1)-normalised variance to the 3/2), the three sums and
// their maximum, or PyOD's sum of per-feature maxima. It shares no code
// with Tails.
func bruteScores(train []float32, n, d int, test []float32, m int, mode string) []float64 {
	gamma := make([]float64, d)
	for j := 0; j < d; j++ {
		var mean float64
		for i := 0; i < n; i++ {
			mean += float64(train[i*d+j])
		}
		mean /= float64(n)
		var m2, m3 float64
		for i := 0; i < n; i++ {
			dv := float64(train[i*d+j]) - mean
			m2 += dv * dv
			m3 += dv * dv * dv
		}
		if m2 > 0 {
			gamma[j] = (m3 / float64(n)) / math.Pow(m2/float64(n-1), 1.5)
		}
	}
	out := make([]float64, m)
	for r := 0; r < m; r++ {
		var sl, sr, sa, sp float64
		for j := 0; j < d; j++ {
			z := test[r*d+j]
			le, ge := 0, 0
			for i := 0; i < n; i++ {
				if train[i*d+j] <= z {
					le++
				}
				if train[i*d+j] >= z {
					ge++
				}
			}
			l := -math.Log(float64(le+1) / float64(n+1))
			rt := -math.Log(float64(ge+1) / float64(n+1))
			sl += l
			sr += rt
			if gamma[j] < 0 {
				sa += l
			} else {
				sa += rt
			}
			sp += max(l, rt)
		}
		out[r] = max(sl, sr, sa)
		if mode == AggregatePyOD {
			out[r] = sp
		}
	}
	return out
}

// discrete returns n rows of d features: a mix of continuous, skewed,
// and few-valued (tied) columns, with negative values and zeros of both
// signs.
func discrete(n, d int, seed uint64) []float32 {
	r := rand.New(rand.NewPCG(seed, 7))
	x := make([]float32, n*d)
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			var v float64
			switch j % 4 {
			case 0:
				v = r.NormFloat64()
			case 1:
				v = r.ExpFloat64() // skewed right
			case 2:
				v = float64(r.IntN(5)) - 2 // ties, −0 below
			case 3:
				v = -r.ExpFloat64() * 3 // skewed left
			}
			x[i*d+j] = float32(v)
		}
	}
	for i := 0; i < len(x); i += 17 {
		if x[i] == 0 {
			x[i] = float32(math.Copysign(0, -1))
		}
	}
	return x
}

func ds(x []float32, n, d int) *data.Dataset {
	return &data.Dataset{Name: "t", N: n, Shape: []int{d}, X: x}
}

func fitScore(t *testing.T, o Options, train []float32, n, d int, test []float32, m int) (*Detector, []float64) {
	t.Helper()
	det := New(o)
	if err := det.Fit(context.Background(), detector.TrainSet{X: ds(train, n, d)}); err != nil {
		t.Fatal(err)
	}
	s, err := det.Score(context.Background(), ds(test, m, d))
	if err != nil {
		t.Fatal(err)
	}
	return det, s
}

func close(a, b float64) bool { return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b)) }

// Scores match the brute-force definition on data with ties, signed
// zeros, skew of both signs and test values outside the training range.
func TestScoresMatchDefinition(t *testing.T) {
	for _, mode := range []string{AggregatePaper, AggregatePyOD} {
		for _, n := range []int{1, 2, 7, 300, 1000} {
			d, m := 8, 200
			train := discrete(n, d, uint64(n))
			test := discrete(m, d, 99)
			for i := range test[:40] {
				test[i] *= 5 // beyond the training range
			}
			o := DefaultOptions()
			o.Aggregate = mode
			_, got := fitScore(t, o, train, n, d, test, m)
			want := bruteScores(train, n, d, test, m, mode)
			for i := range want {
				if !close(got[i], want[i]) {
					t.Fatalf("%s n=%d: score %d = %v, want %v", mode, n, i, got[i], want[i])
				}
			}
		}
	}
}

// A hand-computed case: one feature, training values 1, 2, 3, 10 (skewed
// right: γ > 0, so the corrected sum reads the right tail).
func TestHandComputed(t *testing.T) {
	train := []float32{1, 2, 3, 10}
	test := []float32{10, 2, 0, 2.5}
	_, got := fitScore(t, DefaultOptions(), train, 4, 1, test, 4)
	// z = 10: #≤ = 4, #≥ = 1 → left −log(5/5) = 0, right −log(2/5).
	// z = 2: #≤ = 2, #≥ = 3 → left −log(3/5), right −log(4/5).
	// z = 0: #≤ = 0, #≥ = 4 → left −log(1/5), right 0.
	// z = 2.5: #≤ = 2, #≥ = 2 → both −log(3/5).
	want := []float64{math.Log(5.0 / 2), math.Log(5.0 / 3), math.Log(5), math.Log(5.0 / 3)}
	for i := range want {
		if !close(got[i], want[i]) {
			t.Errorf("score of %v = %v, want %v", test[i], got[i], want[i])
		}
	}
	// With one feature the score is max(left, right) in both modes; a
	// left-skewed feature (−1, −2, −3, −10) mirrors it.
	neg := []float32{-1, -2, -3, -10}
	det, got2 := fitScore(t, DefaultOptions(), neg, 4, 1, []float32{-10, -2, 0, -2.5}, 4)
	if !det.tails.LeftSkewed(0) {
		t.Errorf("−1, −2, −3, −10 not left skewed")
	}
	for i := range want {
		if !close(got2[i], want[i]) {
			t.Errorf("mirrored score %d = %v, want %v", i, got2[i], want[i])
		}
	}
}

// The skewness-corrected sum decides when it is the largest: two
// features, one skewed each way, and a sample in the tail each skew
// points to.
func TestSkewnessCorrectedSumWins(t *testing.T) {
	var train []float32
	for i := 0; i < 50; i++ {
		v := float32(i % 10)
		train = append(train, v*v, -v*v) // right-skewed, left-skewed
	}
	test := []float32{81, -81}
	det, got := fitScore(t, DefaultOptions(), train, 50, 2, test, 1)
	if det.tails.LeftSkewed(0) || !det.tails.LeftSkewed(1) {
		t.Fatalf("skew signs %v %v, want right then left", det.tails.LeftSkewed(0), det.tails.LeftSkewed(1))
	}
	le0, ge0 := det.tails.Counts(0, 81)
	le1, ge1 := det.tails.Counts(1, -81)
	if le0 != 50 || ge0 != 5 || le1 != 5 || ge1 != 50 {
		t.Fatalf("counts %d %d %d %d", le0, ge0, le1, ge1)
	}
	// Corrected sum: right of feature 0 plus left of feature 1, both
	// −log(6/51); the one-sided sums each take one small term and 0.
	want := 2 * math.Log(51.0/6)
	if !close(got[0], want) {
		t.Errorf("score %v, want %v", got[0], want)
	}
	a, err := det.Explain(context.Background(), ds(test, 1, 2), nil)
	if err != nil {
		t.Fatal(err)
	}
	for j, v := range a.Values {
		if math.Abs(float64(v)-math.Log(51.0/6)) > 1e-6 {
			t.Errorf("attribution %d = %v, want %v", j, v, math.Log(51.0/6))
		}
	}
}

// Attributions add up to the score, in both modes, and are the terms of
// the winning sum.
func TestExplainSumsToScore(t *testing.T) {
	n, d, m := 500, 12, 300
	train, test := discrete(n, d, 3), discrete(m, d, 4)
	for i := range test[:100] {
		test[i] *= 4
	}
	for _, mode := range []string{AggregatePaper, AggregatePyOD} {
		o := DefaultOptions()
		o.Aggregate = mode
		det, s := fitScore(t, o, train, n, d, test, m)
		a, err := det.Explain(context.Background(), ds(test, m, d), nil)
		if err != nil {
			t.Fatal(err)
		}
		if a.N != m || a.D != d || a.Technique != "exact" || len(a.Offset) != m {
			t.Fatalf("attributions %d×%d %q, %d offsets", a.N, a.D, a.Technique, len(a.Offset))
		}
		for i := 0; i < m; i++ {
			var sum float64
			for _, v := range a.Row(i) {
				if v < 0 {
					t.Fatalf("negative tail term %v", v)
				}
				sum += float64(v)
			}
			if a.Offset[i] != 0 || math.Abs(sum-s[i]) > 1e-6*float64(d)*max(1, s[i]) {
				t.Fatalf("%s row %d: attributions sum to %v + %v, score %v", mode, i, sum, a.Offset[i], s[i])
			}
		}
	}
}

// Degenerate training data: a constant column, all rows identical, a
// single row. They fit; a value equal to the constant adds 0 to every
// sum, and a different value log(n+1) to the tail it lies in.
func TestDegenerateTraining(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		x    []float32
		n, d int
	}{
		{"constant column", []float32{1, 5, 2, 5, 3, 5, 4, 5}, 4, 2},
		{"identical rows", []float32{2, 5, 2, 5, 2, 5}, 3, 2},
		{"one row", []float32{2, 5}, 1, 2},
	}
	for _, c := range cases {
		det := New(DefaultOptions())
		if err := det.Fit(ctx, detector.TrainSet{X: ds(c.x, c.n, c.d)}); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if det.tails.LeftSkewed(1) {
			t.Errorf("%s: a constant feature counts as left skewed", c.name)
		}
		// Feature 0 at its median-ish value, feature 1 at, above, below 5.
		x0 := c.x[0]
		s, err := det.Score(ctx, ds([]float32{x0, 5, x0, 6, x0, 4}, 3, 2))
		if err != nil {
			t.Fatal(err)
		}
		want := bruteScores(c.x, c.n, c.d, []float32{x0, 5, x0, 6, x0, 4}, 3, AggregatePaper)
		for i := range want {
			if !close(s[i], want[i]) {
				t.Errorf("%s: score %d = %v, want %v", c.name, i, s[i], want[i])
			}
		}
		if c.name != "constant column" {
			// Every feature constant: a value equal to it adds 0 to every
			// sum, one above or below it log(n+1) to one tail.
			l := math.Log(float64(c.n + 1))
			if s[0] != 0 || !close(s[1], l) || !close(s[2], l) {
				t.Errorf("%s: scores %v, want 0, %v, %v", c.name, s, l, l)
			}
		}
	}
}

// Bad input is an error wrapping detector.ErrInput, never a panic.
func TestBadInput(t *testing.T) {
	ctx := context.Background()
	det := New(DefaultOptions())
	if err := det.Fit(ctx, detector.TrainSet{X: &data.Dataset{N: 0, Shape: []int{3}}}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("empty training set: %v", err)
	}
	if _, err := FitTails(ctx, []float32{1, 2}, 1, 3, 1); !errors.Is(err, detector.ErrInput) {
		t.Errorf("short data: %v", err)
	}
	if _, err := NewTails([]float32{2, 1}, 2, 1, 1); !errors.Is(err, detector.ErrInput) {
		t.Errorf("unsorted values: %v", err)
	}
	if _, err := NewTails([]float32{1, float32(math.NaN())}, 2, 1, 1); !errors.Is(err, detector.ErrInput) {
		t.Errorf("NaN values: %v", err)
	}
}

// Stored state that does not fit is refused with ErrPayload before any
// large allocation.
func TestUnmarshalChecks(t *testing.T) {
	train := discrete(50, 3, 1)
	det, _ := fitScore(t, DefaultOptions(), train, 50, 3, train[:3], 1)
	good, err := det.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	mutate := map[string]func(p *detector.Payload){
		"bad json": func(p *detector.Payload) { p.Config = []byte("{") },
		"n too big": func(p *detector.Payload) {
			p.Config = []byte(`{"options":{"aggregate":"paper"},"shape":[3],"n":4294967296}`)
		},
		"n mismatch": func(p *detector.Payload) { p.Config = []byte(`{"options":{"aggregate":"paper"},"shape":[3],"n":49}`) },
		"shape huge": func(p *detector.Payload) {
			p.Config = []byte(`{"options":{"aggregate":"paper"},"shape":[65536,65536],"n":50}`)
		},
		"shape empty":   func(p *detector.Payload) { p.Config = []byte(`{"options":{"aggregate":"paper"},"shape":[],"n":50}`) },
		"bad option":    func(p *detector.Payload) { p.Config = []byte(`{"options":{"aggregate":"mean"},"shape":[3],"n":50}`) },
		"no tensor":     func(p *detector.Payload) { p.Tensors = nil },
		"unsorted":      func(p *detector.Payload) { s := p.Tensors[0].Data; s[0], s[49] = s[49], s[0] },
		"infinite":      func(p *detector.Payload) { p.Tensors[0].Data[10] = float32(math.Inf(1)) },
		"tensor shape":  func(p *detector.Payload) { p.Tensors[0].Shape = []int{50, 3} },
		"tensor values": func(p *detector.Payload) { p.Tensors[0].Data = p.Tensors[0].Data[:100] },
	}
	for name, f := range mutate {
		p := &detector.Payload{Config: slices.Clone(good.Config)}
		for _, tn := range good.Tensors {
			c := *tn
			c.Data = slices.Clone(tn.Data)
			c.Shape = slices.Clone(tn.Shape)
			p.Tensors = append(p.Tensors, &c)
		}
		f(p)
		if err := New(DefaultOptions()).Unmarshal(p); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("%s: %v, want ErrPayload", name, err)
		}
	}
}

// The radix sort sorts like the standard sort, keys of negative and
// positive floats included, and Sorted gives back the training values.
func TestRadixSortAndSorted(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{0, 1, 255, 256, 5000} {
		a := make([]uint32, n)
		for i := range a {
			switch i % 3 {
			case 0:
				a[i] = r.Uint32()
			case 1:
				a[i] = toKey(float32(r.NormFloat64()))
			default:
				a[i] = toKey(float32(r.IntN(3)))
			}
		}
		want := slices.Clone(a)
		slices.Sort(want)
		radixSort(a, make([]uint32, n))
		if !slices.Equal(a, want) {
			t.Fatalf("n=%d: radix sort differs from slices.Sort", n)
		}
	}
	for _, v := range []float32{-3.5, -1e-30, 0, 1e-30, 2, float32(math.MaxFloat32), -float32(math.MaxFloat32)} {
		if fromKey(toKey(v)) != v {
			t.Errorf("key of %v does not invert", v)
		}
	}
	if toKey(float32(math.Copysign(0, -1))) != toKey(0) {
		t.Errorf("−0 and +0 have different keys")
	}
	x := discrete(700, 4, 5)
	tl, err := FitTails(context.Background(), x, 700, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	s := tl.Sorted()
	for j := 0; j < 4; j++ {
		col := make([]float32, 700)
		for i := range col {
			col[i] = x[i*4+j]
			if col[i] == 0 {
				col[i] = 0
			}
		}
		slices.Sort(col)
		if !slices.Equal(col, s[j*700:(j+1)*700]) {
			t.Errorf("feature %d: Sorted differs from the sorted column", j)
		}
	}
}

// Tails rebuilt from their sorted values (a loaded model) score as the
// fitted ones, for continuous and tied features, whatever the workers.
func TestNewTailsScoresAsFitted(t *testing.T) {
	n, d := 3000, 6
	x := discrete(n, d, 8)
	test := discrete(500, d, 9)
	ctx := context.Background()
	a, err := FitTails(ctx, x, n, d, 3)
	if err != nil {
		t.Fatal(err)
	}
	collect := func(tl *Tails) []float64 {
		out := make([]float64, 2*500*d)
		if err := tl.Terms(ctx, test, 500, func(lo, hi int, l, r []float64) {
			m := hi - lo
			for j := 0; j < d; j++ {
				for i := 0; i < m; i++ {
					out[((lo+i)*d+j)*2] = l[j*m+i]
					out[((lo+i)*d+j)*2+1] = r[j*m+i]
				}
			}
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	want := collect(a)
	for _, w := range []int{1, 2} {
		b, err := NewTails(a.Sorted(), n, d, w)
		if err != nil {
			t.Fatal(err)
		}
		if got := collect(b); !slices.Equal(got, want) {
			t.Errorf("workers %d: rebuilt tails give other terms", w)
		}
		for j := 0; j < d; j++ {
			if a.LeftSkewed(j) != b.LeftSkewed(j) {
				t.Errorf("feature %d: skew sign changed", j)
			}
		}
	}
}

// Explain checks its input as Score does.
func TestExplainChecks(t *testing.T) {
	ctx := context.Background()
	x := ds(discrete(10, 3, 1), 10, 3)
	if _, err := New(DefaultOptions()).Explain(ctx, x, nil); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("Explain before Fit: %v", err)
	}
	det, _ := fitScore(t, DefaultOptions(), x.X, 10, 3, x.X, 10)
	if _, err := det.Explain(ctx, ds(discrete(10, 4, 1), 10, 4), nil); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("Explain of 4 features after Fit on 3: %v", err)
	}
}
