package ocsvm

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

func TestConformance(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"max-samples": "250", "cache-mb": "1"},
		// A tolerance no gap reaches runs to the iteration limit (10⁷
		// steps), each step computing two columns with a two-column cache.
		Slow:  map[string]string{"tol": "1e-300", "cache-mb": "1e-6", "shrinking": "false"},
		Bad:   map[string]string{"nu": "0", "gamma": "-1", "tol": "0", "max-samples": "-1"},
		Train: detectortest.Gaussian(300, 5, 0, 0, 1),
		Test:  detectortest.Gaussian(40, 5, 0.5, 0, 2),
	})
}

func TestRegistered(t *testing.T) {
	detectortest.Registered(t, Method, detector.Unsupervised|detector.Tables)
}

func table(n, d int, v func(i, j int) float32) *data.Dataset {
	x := &data.Dataset{Name: "t", N: n, Shape: []int{d}, X: make([]float32, n*d)}
	for i := range n {
		for j := range d {
			x.X[i*d+j] = v(i, j)
		}
	}
	return x
}

func fit(t *testing.T, o Options, x *data.Dataset) *Detector {
	t.Helper()
	d := New(o)
	if err := d.Fit(context.Background(), detector.TrainSet{X: x}); err != nil {
		t.Fatal(err)
	}
	return d
}

func score(t *testing.T, d *Detector, x *data.Dataset) []float64 {
	t.Helper()
	s, err := d.Score(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Score is ρ − Σ_k α_k·exp(−γ‖x − s_k‖²), recomputed here from the saved
// support vectors and coefficients; points far from the data score
// higher than points in it.
func TestScoreIsNegatedDecisionFunction(t *testing.T) {
	train := table32("train", toF64(clustered(300, 3, 9)), 3)
	d := fit(t, DefaultOptions(), train)
	test := table(3, 3, func(i, j int) float32 { return []float32{0.3, 0.7, 3}[i] })
	got := score(t, d, test)
	p, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sv, _ := p.Tensor("support_vectors")
	in := d.Info()
	for i := range test.N {
		sum := 0.0
		for k := range sv.Shape[0] {
			e := 0.0
			for j := range 3 {
				v := float64(test.X[i*3+j]) - float64(sv.Data[k*3+j])
				e += v * v
			}
			sum += d.m.coef[k] * math.Exp(-in.Gamma*e)
		}
		if want := in.Rho - sum; math.Abs(got[i]-want) > 1e-12*in.Rho {
			t.Errorf("sample %d: score %v, ρ − Σαk %v", i, got[i], want)
		}
	}
	if !(got[2] > got[0] && got[2] > got[1]) {
		t.Errorf("the far point scores %v, the cluster centres %v and %v", got[2], got[0], got[1])
	}
	if in.SupportVectors < int(0.5*float64(train.N)) {
		t.Errorf("%d support vectors for ν = 0.5 and %d rows: ν bounds their fraction from below", in.SupportVectors, train.N)
	}
}

func toF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// One training row: α = ν, ρ = ν·K(x₀, x₀) = ν, so the score is
// ν·(1 − exp(−γ‖x − x₀‖²)): 0 at the row itself.
func TestOneRow(t *testing.T) {
	train := table(1, 3, func(_, j int) float32 { return []float32{0.1, 0.5, 0.9}[j] })
	d := fit(t, DefaultOptions(), train)
	in := d.Info()
	// γ = 1/(d·Var) over the three values.
	if want := 1 / (3 * (0.32 / 3)); rel(in.Gamma, want) > 1e-6 {
		t.Errorf("gamma %v, want %v", in.Gamma, want)
	}
	test := table(2, 3, func(i, j int) float32 { return []float32{0.1, 0.5, 0.9}[j] + float32(i) })
	got := score(t, d, test)
	if got[0] != 0 {
		t.Errorf("the training row scores %v, want 0", got[0])
	}
	e := 0.0
	for j := range 3 {
		v := float64(test.X[3+j]) - float64(train.X[j])
		e += v * v
	}
	if want := 0.5 * (1 - math.Exp(-in.Gamma*e)); math.Abs(got[1]-want) > 1e-15 {
		t.Errorf("score %v, want %v", got[1], want)
	}
}

// All rows identical (and every value equal, so Var = 0 and γ = 1, as
// scikit-learn sets it): every gradient is νl, ρ = νl, the training row
// scores 0 and any other point νl·(1 − exp(−‖x − x₀‖²)).
func TestIdenticalRows(t *testing.T) {
	train := table(40, 2, func(_, _ int) float32 { return 0.5 })
	d := fit(t, DefaultOptions(), train)
	in := d.Info()
	if in.Gamma != 1 {
		t.Errorf("gamma %v for constant data, want 1 (scikit-learn's fallback)", in.Gamma)
	}
	if in.Rho != 20 || in.Iterations != 0 {
		t.Errorf("rho %v after %d steps, want 20 after 0", in.Rho, in.Iterations)
	}
	test := table(2, 2, func(i, _ int) float32 { return 0.5 + float32(i) })
	got := score(t, d, test)
	if math.Abs(got[0]) > 1e-12 {
		t.Errorf("the training row scores %v, want 0", got[0])
	}
	if want := 20 * (1 - math.Exp(-2)); math.Abs(got[1]-want) > 1e-12 {
		t.Errorf("score %v, want %v", got[1], want)
	}
}

// A constant column adds nothing to any distance: with a fixed γ the
// scores are those without it (to rounding). With γ = "scale" it does
// count, in d and in the variance over all values, as in scikit-learn.
func TestConstantColumn(t *testing.T) {
	base := clustered(200, 3, 4)
	with := table(200, 4, func(i, j int) float32 {
		if j == 2 {
			return 0.25
		}
		if j == 3 {
			j = 2
		}
		return base[i*3+j]
	})
	without := table(200, 3, func(i, j int) float32 { return base[i*3+j] })
	o := DefaultOptions()
	o.Gamma = "4"
	a := fit(t, o, with)
	b := fit(t, o, without)
	testW := table(10, 4, func(i, j int) float32 {
		if j == 2 {
			return 0.25
		}
		return float32(i) / 10
	})
	testWo := table(10, 3, func(i, _ int) float32 { return float32(i) / 10 })
	sa, sb := score(t, a, testW), score(t, b, testWo)
	for i := range sa {
		if math.Abs(sa[i]-sb[i]) > 1e-9*math.Abs(sb[i])+1e-12 {
			t.Errorf("sample %d: %v with the constant column, %v without", i, sa[i], sb[i])
		}
	}
	// γ = "scale": 1/(4·Var of all 800 values).
	s := fit(t, DefaultOptions(), with)
	if want := 1 / (4 * variance(with.X)); s.Info().Gamma != want {
		t.Errorf("gamma %v, want %v", s.Info().Gamma, want)
	}
}

// ν = 1 puts every α at 1, where libsvm's ρ would be infinite; here it is
// the largest gradient, and the scores are finite.
func TestNuOne(t *testing.T) {
	o := DefaultOptions()
	o.Nu = 1
	x := table32("x", toF64(clustered(50, 2, 3)), 2)
	d := fit(t, o, x)
	if in := d.Info(); in.BoundedSupportVectors != 50 || math.IsInf(in.Rho, 0) {
		t.Errorf("%d bounded support vectors, rho %v", in.BoundedSupportVectors, in.Rho)
	}
	for _, s := range score(t, d, x) {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			t.Fatalf("score %v", s)
		}
	}
}

// Above MaxSamples, Fit trains on a seeded subsample, says so (progress
// phase "subsample", Info().Note), and gives what a fit on those rows,
// in their order, gives.
func TestSubsample(t *testing.T) {
	x := table32("x", toF64(clustered(500, 3, 8)), 3)
	o := DefaultOptions()
	o.MaxSamples, o.Seed = 120, 5
	d := New(o)
	var reports []detector.Progress
	if err := d.Fit(context.Background(), detector.TrainSet{X: x, Progress: func(p detector.Progress) { reports = append(reports, p) }}); err != nil {
		t.Fatal(err)
	}
	in := d.Info()
	if in.Rows != 120 || in.TrainRows != 500 || !strings.Contains(in.Note, "120 of the 500 rows") {
		t.Errorf("info %+v", in)
	}
	if len(reports) == 0 || reports[0].Phase != "subsample" || reports[0].Done != 120 || reports[0].Total != 500 {
		t.Errorf("progress reports %+v, want a subsample report first", reports)
	}
	rows := subsample(500, 120, 5)
	sub, err := x.Subset(rows)
	if err != nil {
		t.Fatal(err)
	}
	o2 := o
	o2.MaxSamples = 0
	direct := fit(t, o2, sub)
	if direct.Info().Note != "" {
		t.Errorf("note %q without subsampling", direct.Info().Note)
	}
	if a, b := score(t, d, x), score(t, direct, x); !detectortest.SameScores(a, b) {
		t.Errorf("the subsampled fit scores otherwise than a fit on the same rows")
	}
	other := New(Options{Nu: 0.5, Gamma: GammaScale, Tol: 1e-3, CacheMB: 200, Shrinking: true, MaxSamples: 120, Seed: 6})
	if err := other.Fit(context.Background(), detector.TrainSet{X: x}); err != nil {
		t.Fatal(err)
	}
	if detectortest.SameScores(score(t, d, x), score(t, other, x)) {
		t.Errorf("seeds 5 and 6 drew the same subsample")
	}
}

// Fit stops within a second of cancellation in the longest stretch
// without a solver step: the starting gradient of a large fit (6,000
// columns of 12,000 rows).
func TestCancelDuringStart(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a 50 MB cache")
	}
	x := table32("x", toF64(clustered(12000, 10, 1)), 10)
	o := DefaultOptions()
	o.CacheMB = 50
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- New(o).Fit(ctx, detector.TrainSet{X: x}) }()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Fit cancelled: %v", err)
		}
	case <-time.After(time.Second):
		t.Errorf("Fit still running a second after cancellation")
		<-done
	}
}

// The solver reports its progress as the phase "smo", every 1,000 steps.
func TestProgress(t *testing.T) {
	x := table32("x", toF64(clustered(3000, 2, 2)), 2)
	var last detector.Progress
	n := 0
	d := New(DefaultOptions())
	if err := d.Fit(context.Background(), detector.TrainSet{X: x, Progress: func(p detector.Progress) { last = p; n++ }}); err != nil {
		t.Fatal(err)
	}
	if want := d.Info().Iterations / 1000; n != want || (n > 0 && (last.Phase != "smo" || last.Done != 1000*n || !(last.Metrics["gap"] > 0))) {
		t.Errorf("%d reports, last %+v; want %d", n, last, want)
	}
}

// setInfo sets one field of the stored Info in p's configuration.
func setInfo(t *testing.T, p *detector.Payload, key string, v any) {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal(p.Config, &c); err != nil {
		t.Fatal(err)
	}
	info, _ := c["info"].(map[string]any)
	if _, ok := info[key]; !ok {
		t.Fatalf("no info.%s in %s", key, p.Config)
	}
	info[key] = v
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	p.Config = b
}

// Loading checks the stored sizes and values.
func TestUnmarshalRefusesInconsistentState(t *testing.T) {
	d := fit(t, DefaultOptions(), table32("x", toF64(clustered(60, 3, 1)), 3))
	for name, spoil := range map[string]func(p *detector.Payload){
		"no support vectors": func(p *detector.Payload) { p.Tensors = nil },
		"support vector width": func(p *detector.Payload) {
			p.Tensors[0].Shape = []int{p.Tensors[0].Shape[0] * 3, 1}
		},
		"short coefficients": func(p *detector.Payload) { p.Blobs["dual_coef"] = p.Blobs["dual_coef"][8:] },
		"no coefficients":    func(p *detector.Payload) { delete(p.Blobs, "dual_coef") },
		"coefficient above 1": func(p *detector.Payload) {
			copy(p.Blobs["dual_coef"], []byte{0, 0, 0, 0, 0, 0, 0, 0x40}) // 2.0
		},
		"non-finite value": func(p *detector.Payload) { p.Tensors[0].Data[0] = float32(math.Inf(1)) },
		"count":            func(p *detector.Payload) { setInfo(t, p, "support_vectors", 1) },
		"rho":              func(p *detector.Payload) { setInfo(t, p, "rho", "NaN") },
		"gamma":            func(p *detector.Payload) { setInfo(t, p, "gamma", -1) },
		"zero gamma":       func(p *detector.Payload) { setInfo(t, p, "gamma", 0) },
		"shape": func(p *detector.Payload) {
			p.Config = []byte(strings.Replace(string(p.Config), `"shape":[3]`, `"shape":[4]`, 1))
		},
		"bad options": func(p *detector.Payload) {
			p.Config = []byte(strings.Replace(string(p.Config), `"nu":0.5`, `"nu":2`, 1))
		},
	} {
		p, err := d.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		spoil(p)
		if err := New(DefaultOptions()).Unmarshal(p); !errors.Is(err, detector.ErrPayload) {
			t.Errorf("%s: %v, want ErrPayload", name, err)
		}
	}
}
