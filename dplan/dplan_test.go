package dplan

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/metrics"
)

// synthetic returns unlabelled data (normals around 0.5 plus a 2%
// contamination of both anomaly classes), labelled anomalies of the known
// class, and a test set with labels: class A is shifted in features 0-1,
// class B in features 2-3.
func synthetic(seed uint64, d, nNormal, nLab int) (unl, lab, test *data.Dataset) {
	r := rand.New(rand.NewPCG(seed, 99))
	row := func(kind int) []float32 {
		x := make([]float32, d)
		for j := range x {
			x[j] = float32(0.5 + 0.1*r.NormFloat64())
		}
		switch kind {
		case 1:
			x[0] += 0.35
			x[1] -= 0.35
		case 2:
			x[2] += 0.35
			x[3] += 0.35
		}
		return x
	}
	mk := func(kinds []int) *data.Dataset {
		ds := &data.Dataset{N: len(kinds), Shape: []int{d}, Y: make([]int, len(kinds))}
		for i, k := range kinds {
			ds.X = append(ds.X, row(k)...)
			if k > 0 {
				ds.Y[i] = 1
			}
		}
		return ds
	}
	var ku, kt, kl []int
	for i := 0; i < nNormal; i++ {
		ku = append(ku, 0)
	}
	for i := 0; i < nNormal/50; i++ {
		ku = append(ku, 1+i%2)
	}
	for i := 0; i < nLab; i++ {
		kl = append(kl, 1)
	}
	for i := 0; i < 400; i++ {
		kt = append(kt, 0)
	}
	for i := 0; i < 40; i++ {
		kt = append(kt, 1+i%2)
	}
	return mk(ku), mk(kl), mk(kt)
}

// fastOptions is a short schedule for tests.
func fastOptions(seed uint64) Options {
	o := DefaultOptions()
	o.Episodes, o.StepsPerEpisode, o.Warmup, o.EpsSteps, o.TargetUpdate = 4, 1000, 1000, 1000, 500
	o.Seed = seed
	return o
}

func TestExtrinsicReward(t *testing.T) {
	cases := []struct {
		labelled bool
		a        int
		want     float32
	}{{true, ActAnomaly, 1}, {true, ActNormal, -1}, {false, ActNormal, 0}, {false, ActAnomaly, -1}}
	for _, c := range cases {
		if got := Extrinsic(c.labelled, c.a); got != c.want {
			t.Errorf("Extrinsic(%v, %d) = %v, want %v", c.labelled, c.a, got, c.want)
		}
	}
}

func TestEpsilonSchedule(t *testing.T) {
	ag := &agent{o: Options{EpsStart: 1, EpsEnd: 0.1, EpsSteps: 10000}}
	for _, c := range []struct {
		t    int
		want float64
	}{{0, 1}, {5000, 0.55}, {10000, 0.1}, {20000, 0.1}} {
		if got := ag.epsilon(c.t); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("epsilon(%d) = %v, want %v", c.t, got, c.want)
		}
	}
}

func TestReplayRing(t *testing.T) {
	m := newReplay(3)
	for i := 0; i < 5; i++ {
		m.add(i, i%2, float32(i), i+1, false)
	}
	if m.size != 3 {
		t.Fatalf("size %d, want 3", m.size)
	}
	// Slots hold transitions 3, 4, 2 (ring of 3 after 5 adds).
	want := []int32{3, 4, 2}
	for i, w := range want {
		if m.s[i] != w || m.s2[i] != w+1 || m.r[i] != float32(w) {
			t.Errorf("slot %d: s=%d s2=%d r=%v, want %d", i, m.s[i], m.s2[i], m.r[i], w)
		}
	}
}

// naiveHidden computes relu(W1 x + b1) in float64.
func naiveHidden(q *QNet, x []float32) []float64 {
	h := make([]float64, q.h)
	for j := range h {
		s := float64(q.B1.Data[j])
		for k, v := range x {
			s += float64(q.W1.Data[j*q.d+k]) * float64(v)
		}
		h[j] = max(s, 0)
	}
	return h
}

func naiveQ(q *QNet, x []float32) [2]float64 {
	h := naiveHidden(q, x)
	var out [2]float64
	for a := 0; a < 2; a++ {
		s := float64(q.B2.Data[a])
		for j, v := range h {
			s += float64(q.W2.Data[a*q.h+j]) * v
		}
		out[a] = s
	}
	return out
}

func TestForwardAndScoreMatchNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	q, err := NewQNet(7, 5, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := range q.B1.Data {
		q.B1.Data[i] = float32(r.NormFloat64() * 0.3)
	}
	q.B2.Data[0], q.B2.Data[1] = 0.2, -0.1
	n := 9000 // more than two score blocks
	x := make([]float32, n*7)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	sc, err := q.ScoreAnomaly(x, n, 2)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float32, 2*n)
	q.Forward(out, make([]float32, 5*n), x, n)
	for i := 0; i < n; i++ {
		want := naiveQ(q, x[i*7:(i+1)*7])
		if math.Abs(sc[i]-want[1]) > 1e-4 || math.Abs(float64(out[2*i])-want[0]) > 1e-4 || math.Abs(float64(out[2*i+1])-want[1]) > 1e-4 {
			t.Fatalf("row %d: score %v forward %v,%v, want %v", i, sc[i], out[2*i], out[2*i+1], want)
		}
	}
	if _, err := q.ScoreAnomaly(x[:10], 3, 1); !errors.Is(err, detector.ErrInput) {
		t.Errorf("wrong length: got %v, want detector.ErrInput", err)
	}
}

// TestBackwardMatchesFiniteDifferences checks the hand-written backward pass
// against central differences of the TD loss plus the L2 penalty, computed
// in float64 from naiveQ.
func TestBackwardMatchesFiniteDifferences(t *testing.T) {
	const d, b = 4, 6
	for _, loss := range []Loss{LossSquared, LossHuber} {
		o := DefaultOptions()
		o.Hidden, o.BatchSize, o.Loss = 5, b, loss
		r := rand.New(rand.NewPCG(3, 4))
		x := make([]float32, 20*d)
		for i := range x {
			x[i] = float32(r.Float64())
		}
		ag, err := newAgent(o, x, 15, 5, d)
		if err != nil {
			t.Fatal(err)
		}
		for i := range ag.online.B1.Data {
			ag.online.B1.Data[i] = 0.1
		}
		xb := x[:b*d]
		acts := []int{0, 1, 1, 0, 1, 0}
		ys := []float64{0.5, -2, 3, 0.1, 1.5, -0.7} // large errors exercise Huber's linear part
		lossFn := func() float64 {
			var l float64
			for i := 0; i < b; i++ {
				dlt := naiveQ(ag.online, xb[i*d:(i+1)*d])[acts[i]] - ys[i]
				if loss == LossHuber && math.Abs(dlt) > 1 {
					l += math.Abs(dlt) - 0.5
				} else {
					l += 0.5 * dlt * dlt
				}
			}
			var l2 float64
			for _, w := range ag.online.W1.Data {
				l2 += float64(w) * float64(w)
			}
			return l/b + o.L2*l2
		}
		ag.online.Forward(ag.bq, ag.bh, xb, b)
		dq := make([]float32, 2*b)
		for i := 0; i < b; i++ {
			dlt := float64(ag.bq[2*i+acts[i]]) - ys[i]
			if loss == LossHuber {
				dlt = max(-1, min(1, dlt))
			}
			dq[2*i+acts[i]] = float32(dlt / b)
		}
		ag.backward(dq, ag.bh, xb, b)
		for _, p := range ag.online.Params() {
			g := p.Grad()
			for i := range p.Data {
				num := detectortest.CentralDifference(p.Data, i, 1e-3, lossFn)
				if math.Abs(num-float64(g[i])) > 2e-3*max(1, math.Abs(num)) {
					t.Errorf("%s loss: %s[%d]: backward %v, finite difference %v", loss, p.Name, i, g[i], num)
				}
			}
		}
	}
}

// TestSamplerNearestFarthest checks g_u against a naive search over all
// unlabelled points (the subset covers them all) and g_a's range.
func TestSamplerNearestFarthest(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const nU, nA, d, h = 50, 7, 3, 4
	x := make([]float32, (nU+nA)*d)
	for i := range x {
		x[i] = float32(r.Float64())
	}
	q, _ := NewQNet(d, h, r)
	e := newEnv(x, nU, nA, d, h, 0, 1000, rand.New(rand.NewPCG(7, 8)))
	hs := make([]float32, h)
	for s := 0; s < nU+nA; s++ {
		q.Hidden(hs, e.row(s), 1)
		ref := naiveHidden(q, e.row(s))
		best := [2]int{-1, -1}
		var bestD [2]float64
		for i := 0; i < nU; i++ {
			hi := naiveHidden(q, e.row(i))
			var dd float64
			for j := range hi {
				dd += (hi[j] - ref[j]) * (hi[j] - ref[j])
			}
			if best[0] < 0 || dd < bestD[0] {
				best[0], bestD[0] = i, dd
			}
			if best[1] < 0 || dd > bestD[1] {
				best[1], bestD[1] = i, dd
			}
		}
		near := e.next(q, hs, ActAnomaly)
		far := e.next(q, hs, ActNormal)
		// Compare distances, not indices: float32 ties may pick another point.
		dist := func(i int) float64 {
			hi := naiveHidden(q, e.row(i))
			var dd float64
			for j := range hi {
				dd += (hi[j] - ref[j]) * (hi[j] - ref[j])
			}
			return dd
		}
		if near >= nU || math.Abs(dist(near)-bestD[0]) > 1e-5 {
			t.Fatalf("state %d: nearest %d (dist %v), naive %d (%v)", s, near, dist(near), best[0], bestD[0])
		}
		if far >= nU || math.Abs(dist(far)-bestD[1]) > 1e-5 {
			t.Fatalf("state %d: farthest %d (dist %v), naive %d (%v)", s, far, dist(far), best[1], bestD[1])
		}
	}
	// p = 1: always a labelled anomaly, each of them eventually.
	e.p = 1
	seen := map[int]bool{}
	for i := 0; i < 500; i++ {
		s := e.next(q, hs, ActNormal)
		if s < nU || s >= nU+nA {
			t.Fatalf("p=1 sampler returned %d, want a labelled anomaly in [%d,%d)", s, nU, nU+nA)
		}
		seen[s] = true
	}
	if len(seen) != nA {
		t.Errorf("p=1 sampler reached %d of %d labelled anomalies", len(seen), nA)
	}
}

// TestIntrinsicReward checks that the intrinsic rewards span [0, 1] over
// D_u ∪ D_a and that far outliers get the maximum.
func TestIntrinsicReward(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	const nU, nA, d = 300, 5, 2
	x := make([]float32, (nU+nA)*d)
	for i := 0; i < nU*d; i++ {
		x[i] = float32(0.5 + 0.05*r.NormFloat64())
	}
	for i := nU * d; i < len(x); i++ {
		x[i] = 3 // far outliers
	}
	e := newEnv(x, nU, nA, d, 4, 0.5, 100, r)
	if err := e.refitIntrinsic(nil, 50, 128, 1, 1); err != nil {
		t.Fatal(err)
	}
	lo, hi := float32(2), float32(-1)
	for _, v := range e.rint {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 1 {
		t.Errorf("intrinsic rewards span [%v, %v], want [0, 1]", lo, hi)
	}
	for i := nU; i < nU+nA; i++ {
		if e.rint[i] != 1 {
			t.Errorf("far outlier %d: intrinsic reward %v, want 1 (the maximum)", i, e.rint[i])
		}
	}
	var mean float64
	for _, v := range e.rint[:nU] {
		mean += float64(v)
	}
	if mean /= nU; mean > 0.5 {
		t.Errorf("mean intrinsic reward of inliers %v, want well below the outliers' 1", mean)
	}
}

func fit(t *testing.T, o Options, unl, lab *data.Dataset) *Detector {
	t.Helper()
	m := New(o)
	if err := m.Fit(context.Background(), detector.TrainSet{X: unl, Anomalies: lab}); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestPlantedAnomalies: DPLAN must rank a planted anomaly class (and an
// unknown one) far above chance.
func TestPlantedAnomalies(t *testing.T) {
	unl, lab, test := synthetic(1, 8, 2000, 30)
	o := fastOptions(1)
	o.Episodes, o.StepsPerEpisode, o.Warmup, o.EpsSteps = 6, 2000, 2000, 2000
	m := fit(t, o, unl, lab)
	sc, err := m.Score(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	auc, err := metrics.ROCAUC(sc, test.Y)
	if err != nil {
		t.Fatal(err)
	}
	// The known class alone: normals (rows < 400) and class A (even rows
	// from 400 on).
	var ks []float64
	var ky []int
	for i, v := range sc {
		if i < 400 || (i-400)%2 == 0 {
			ks, ky = append(ks, v), append(ky, test.Y[i])
		}
	}
	known, _ := metrics.ROCAUC(ks, ky)
	t.Logf("AUC-ROC %.3f (known class %.3f); last episode %+v", auc, known, m.History[len(m.History)-1])
	if known < 0.95 || auc < 0.7 {
		t.Errorf("AUC-ROC %.3f overall and %.3f on the known class, want >= 0.7 and >= 0.95", auc, known)
	}
}

func TestSameSeedSameScores(t *testing.T) {
	unl, lab, test := synthetic(2, 6, 600, 20)
	o := fastOptions(7)
	o.Episodes, o.StepsPerEpisode, o.Warmup = 2, 600, 300
	a := fit(t, o, unl, lab)
	b := fit(t, o, unl, lab)
	o.Seed = 8
	c := fit(t, o, unl, lab)
	sa, _ := a.Score(context.Background(), test)
	sb, _ := b.Score(context.Background(), test)
	sc, _ := c.Score(context.Background(), test)
	differ := false
	for i := range sa {
		if math.Float64bits(sa[i]) != math.Float64bits(sb[i]) {
			t.Fatalf("same seed: score %d differs: %v vs %v", i, sa[i], sb[i])
		}
		differ = differ || sa[i] != sc[i]
	}
	if !differ {
		t.Error("a different seed gave identical scores")
	}
}

func TestSaveLoadBitIdentical(t *testing.T) {
	unl, lab, test := synthetic(3, 5, 500, 10)
	o := fastOptions(3)
	o.Episodes, o.StepsPerEpisode, o.Warmup = 1, 500, 100
	m, err := detector.Fit(context.Background(), New(o), detector.TrainSet{X: unl, Anomalies: lab}, detector.ThresholdRule{Contamination: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	m2, _ := detectortest.RoundTrip(t, m, test)
	if m2.Detector.Method() != Method {
		t.Fatalf("loaded method %q", m2.Detector.Method())
	}
}

func TestBadInput(t *testing.T) {
	unl, lab, _ := synthetic(4, 4, 100, 5)
	ctx := context.Background()
	o := fastOptions(1)
	if err := New(o).Fit(ctx, detector.TrainSet{X: unl}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("no labelled anomalies with p > 0: %v, want detector.ErrInput", err)
	}
	bad := *unl
	bad.X = append([]float32(nil), unl.X...)
	bad.X[4] = float32(math.NaN())
	if err := New(o).Fit(ctx, detector.TrainSet{X: &bad, Anomalies: lab}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("NaN: %v, want detector.ErrInput", err)
	}
	if err := New(o).Fit(ctx, detector.TrainSet{X: lab, Anomalies: &bad}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("NaN in the labelled anomalies: %v, want detector.ErrInput", err)
	}
	if err := New(o).Fit(ctx, detector.TrainSet{Anomalies: lab}); !errors.Is(err, detector.ErrInput) {
		t.Errorf("no unlabelled data: %v, want detector.ErrInput", err)
	}
	wide := &data.Dataset{X: make([]float32, 10), N: 2, Shape: []int{5}}
	if err := New(o).Fit(ctx, detector.TrainSet{X: unl, Anomalies: wide}); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("feature mismatch: %v, want detector.ErrSchema", err)
	}
	for _, mut := range []func(*Options){
		func(o *Options) { o.P = 1.5 },
		func(o *Options) { o.Loss = "l1" },
		func(o *Options) { o.BatchSize = 0 },
		func(o *Options) { o.Gamma = math.NaN() },
		func(o *Options) { o.IntrinsicFeatures = "pixels" },
	} {
		oo := o
		mut(&oo)
		if err := New(oo).Fit(ctx, detector.TrainSet{X: unl, Anomalies: lab}); !errors.Is(err, ErrOption) {
			t.Errorf("options %+v: %v, want ErrOption", oo, err)
		}
	}
	if _, err := New(o).Score(ctx, unl); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("score before fit: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := New(o).Fit(cctx, detector.TrainSet{X: unl, Anomalies: lab}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled fit: %v", err)
	}
}

// TestScaleInput: with ScaleInput the model takes raw features: its scores
// of raw rows equal the network's scores of rows min-max scaled by hand
// with the training data's minimum and maximum, and survive saving.
func TestScaleInput(t *testing.T) {
	unl, lab, test := synthetic(5, 4, 300, 10)
	for _, ds := range []*data.Dataset{unl, lab, test} {
		for i := range ds.X {
			ds.X[i] = ds.X[i]*50 - 7
		}
	}
	o := fastOptions(5)
	o.Episodes, o.StepsPerEpisode, o.Warmup, o.ScaleInput = 1, 300, 100, true
	mod, err := detector.Fit(context.Background(), New(o), detector.TrainSet{X: unl, Anomalies: lab}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	m := mod.Detector.(*Detector)
	lo, hi := make([]float64, 4), make([]float64, 4)
	for j := range lo {
		lo[j], hi[j] = math.Inf(1), math.Inf(-1)
	}
	for _, ds := range []*data.Dataset{unl, lab} {
		for i, v := range ds.X {
			lo[i%4], hi[i%4] = min(lo[i%4], float64(v)), max(hi[i%4], float64(v))
		}
	}
	scaled := make([]float32, len(test.X))
	for i, v := range test.X {
		scaled[i] = float32((float64(v) - lo[i%4]) / (hi[i%4] - lo[i%4]))
	}
	want, _ := m.Net().ScoreAnomaly(scaled, test.N, 1)
	got, err := mod.Score(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := mod.Save(&buf); err != nil {
		t.Fatal(err)
	}
	loaded, err := detector.Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := loaded.Score(context.Background(), test)
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-4 {
			t.Fatalf("row %d: score of raw input %v, of hand-scaled input %v", i, got[i], want[i])
		}
		if math.Float64bits(again[i]) != math.Float64bits(got[i]) {
			t.Fatalf("row %d: %v after loading, %v before", i, again[i], got[i])
		}
	}
}

// Embed is relu(W1·x' + b1) of the scaled input x', computed here by hand
// from the fitted weights, and the score is Q(s, a1) = W2[a1]·hidden + b2[a1].
func TestEmbedByHand(t *testing.T) {
	unl, lab, test := synthetic(6, 4, 300, 10)
	for _, ds := range []*data.Dataset{unl, lab, test} {
		for i := range ds.X {
			ds.X[i] = ds.X[i]*3 + 1
		}
	}
	o := fastOptions(6)
	o.Episodes, o.StepsPerEpisode, o.Warmup, o.ScaleInput = 1, 300, 100, true
	m := fit(t, o, unl, lab)
	hid, h, err := m.Embed(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	q := m.Net()
	if h != q.HiddenWidth() || len(hid) != test.N*h {
		t.Fatalf("width %d and %d values, want %d and %d", h, len(hid), q.HiddenWidth(), test.N*q.HiddenWidth())
	}
	scores, err := m.Score(context.Background(), test)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < test.N; i++ {
		q1 := float64(q.B2.Data[ActAnomaly])
		for j := 0; j < h; j++ {
			s := float64(q.B1.Data[j])
			for k, v := range test.Row(i) {
				s += float64(q.W1.Data[j*4+k]) * float64((v-m.lo[k])/m.span[k])
			}
			s = max(s, 0)
			if got := float64(hid[i*h+j]); math.Abs(got-s) > 1e-4 {
				t.Fatalf("row %d unit %d: hidden %v, by hand %v", i, j, got, s)
			}
			q1 += float64(q.W2.Data[ActAnomaly*h+j]) * s
		}
		if math.Abs(scores[i]-q1) > 1e-4 {
			t.Fatalf("row %d: score %v, Q(s, a1) from the hidden layer %v", i, scores[i], q1)
		}
	}
	if _, _, err := New(o).Embed(context.Background(), test); !errors.Is(err, detector.ErrNotFitted) {
		t.Errorf("unfitted: error %v, want ErrNotFitted", err)
	}
	wide := &data.Dataset{N: 1, Shape: []int{5}, X: make([]float32, 5)}
	if _, _, err := m.Embed(context.Background(), wide); !errors.Is(err, detector.ErrSchema) {
		t.Errorf("5 features for a 4-feature model: error %v, want ErrSchema", err)
	}
}
