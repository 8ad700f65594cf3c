package detector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/tensor"
)

// meanDist is a minimal detector for testing the model machinery: the score
// is the squared distance to the training mean.
type meanDist struct{ mean *tensor.Tensor }

func (m *meanDist) Method() string { return "test-meandist" }

func (m *meanDist) Fit(_ context.Context, ts TrainSet) error {
	d := ts.X.Dim()
	m.mean = tensor.New(d)
	m.mean.Name = "mean"
	for i := 0; i < ts.X.N; i++ {
		for j, v := range ts.X.Row(i) {
			m.mean.Data[j] += v / float32(ts.X.N)
		}
	}
	return nil
}

func (m *meanDist) Score(_ context.Context, x *data.Dataset) ([]float64, error) {
	if m.mean == nil {
		return nil, ErrNotFitted
	}
	out := make([]float64, x.N)
	for i := range out {
		for j, v := range x.Row(i) {
			d := float64(v - m.mean.Data[j])
			out[i] += d * d
		}
	}
	return out, nil
}

func (m *meanDist) Marshal() (*Payload, error) {
	return &Payload{Config: json.RawMessage(`{"v":1}`), Tensors: []*tensor.Tensor{m.mean}}, nil
}

func (m *meanDist) Unmarshal(p *Payload) error {
	t, err := p.Tensor("mean")
	m.mean = t
	return err
}

// noOptions is the options of the test detectors: they have none.
type noOptions struct{}

func init() {
	Register(Info{Method: "test-meandist", Kind: Unsupervised | Tables, Summary: "test: distance to the training mean",
		Options: func() any { return &noOptions{} },
		New:     func(any) (Detector, error) { return &meanDist{}, nil }})
}

func line(n int) *data.Dataset {
	d := &data.Dataset{Name: "line", N: n, Shape: []int{2}, X: make([]float32, 2*n)}
	for i := 0; i < n; i++ {
		d.X[2*i] = float32(i)
	}
	return d
}

func TestFitThresholdSaveLoad(t *testing.T) {
	ctx := context.Background()
	train := line(11) // x = 0..10, mean 5: scores (i-5)², sorted 0,1,1,4,4,9,9,16,16,25,25
	m, err := Fit(ctx, &meanDist{}, TrainSet{X: train}, ThresholdRule{Contamination: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	// The 80th percentile of eleven sorted scores sits at index 0.8·10 = 8: 16.
	if m.Threshold != 16 {
		t.Fatalf("threshold %v, want 16", m.Threshold)
	}
	if err := m.SetThreshold(ThresholdRule{FPR: 0.5}); err != nil || m.Threshold != 9 {
		t.Fatalf("FPR 0.5 threshold %v (%v), want 9", m.Threshold, err)
	}
	// Contamination 0.35: position 0.65·10 = 6.5, halfway between sorted[6] = 9 and sorted[7] = 16.
	if err := m.SetThreshold(ThresholdRule{Contamination: 0.35}); err != nil || m.Threshold != 9+0.5*(16-9) {
		t.Fatalf("contamination 0.35 threshold %v (%v), want 12.5", m.Threshold, err)
	}
	if err := m.SetThreshold(ThresholdRule{Value: 3.5, HasValue: true}); err != nil || m.Threshold != 3.5 {
		t.Fatalf("explicit threshold %v (%v)", m.Threshold, err)
	}
	got := m.Predict([]float64{3.5, 3.6, -1})
	if got[0] || !got[1] || got[2] {
		t.Fatalf("Predict = %v", got)
	}
	if m.Meta.Train != 11 || m.Meta.DataHash != Hash(train) || len(m.Meta.DataHash) != 64 {
		t.Fatalf("meta %+v", m.Meta)
	}

	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	m2, err := Load(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	test := line(5)
	for i := range test.X {
		test.X[i] += 0.37 * float32(i)
	}
	s1, _ := m.Score(ctx, test)
	s2, err := m2.Score(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s1 {
		if math.Float64bits(s1[i]) != math.Float64bits(s2[i]) {
			t.Fatalf("score %d: %v before save, %v after load", i, s1[i], s2[i])
		}
	}
	if m2.Threshold != m.Threshold || m2.Meta.DataHash != m.Meta.DataHash {
		t.Fatalf("loaded threshold/meta differ: %v %v", m2.Threshold, m2.Meta)
	}

	// A flipped byte and a truncation are refused.
	bad := append([]byte(nil), raw...)
	bad[len(bad)/2] ^= 0x40
	if _, err := Load(bytes.NewReader(bad)); err == nil {
		t.Error("altered model file accepted")
	}
	if _, err := Load(bytes.NewReader(raw[:len(raw)-3])); err == nil {
		t.Error("truncated model file accepted")
	}
	// Wrong input shape is refused with ErrSchema.
	wrong := &data.Dataset{N: 1, Shape: []int{3}, X: make([]float32, 3)}
	if _, err := m2.Score(ctx, wrong); !errors.Is(err, ErrSchema) {
		t.Errorf("wrong shape: %v, want ErrSchema", err)
	}
}

func TestUnknownMethodAndBadRules(t *testing.T) {
	if _, err := New("no-such-method"); !errors.Is(err, ErrUnknownMethod) {
		t.Errorf("New(unknown) = %v", err)
	}
	m := &Model{TrainScores: []float64{1, 2, 3}}
	for _, r := range []ThresholdRule{{Contamination: 1}, {FPR: 1.5}, {Contamination: -0.1}, {Value: math.NaN(), HasValue: true}} {
		if err := m.SetThreshold(r); err == nil {
			t.Errorf("rule %+v accepted", r)
		}
	}
	if _, err := Fit(context.Background(), &meanDist{}, TrainSet{}, ThresholdRule{}); err == nil {
		t.Error("Fit without data accepted")
	}
	nan := line(3)
	nan.X[1] = float32(math.NaN())
	if _, err := Fit(context.Background(), &meanDist{}, TrainSet{X: nan}, ThresholdRule{}); err == nil {
		t.Error("Fit on NaN data accepted")
	}
}

func TestQuantiles(t *testing.T) {
	s := make([]float64, 101)
	for i := range s {
		s[i] = float64(100 - i)
	}
	q := quantiles(s, 5)
	want := []float64{0, 25, 50, 75, 100}
	for i := range want {
		if q[i] != want[i] {
			t.Fatalf("quantiles = %v, want %v", q, want)
		}
	}
}

// TestBackground checks the explanation background: evenly spaced
// training rows, kept through a save and load, and a header whose
// background is not whole samples refused.
func TestBackground(t *testing.T) {
	ctx := context.Background()
	train := line(200)
	m, err := Fit(ctx, &meanDist{}, TrainSet{X: train}, ThresholdRule{Contamination: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	b := m.Background
	if b == nil || b.N != MaxBackground || !slices.Equal(b.Shape, []int{2}) {
		t.Fatalf("background %+v, want %d rows of shape [2]", b, MaxBackground)
	}
	// Row i is training row ⌊i·200/64⌋, whose first value is its index.
	for i := 0; i < b.N; i++ {
		if want := float32(i * 200 / MaxBackground); b.Row(i)[0] != want {
			t.Fatalf("background row %d starts %v, want %v", i, b.Row(i)[0], want)
		}
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if m2.Background == nil || !slices.Equal(m2.Background.X, b.X) {
		t.Fatal("background lost in save and load")
	}
	// A small table keeps all its rows.
	small, err := Fit(ctx, &meanDist{}, TrainSet{X: line(5)}, ThresholdRule{Contamination: 0.1})
	if err != nil || small.Background.N != 5 {
		t.Fatalf("5-row background: %v %v", small.Background, err)
	}
	// Three values are not whole samples of shape [2].
	if _, err := readBackground(&header{Schema: Schema{Shape: []int{2}}, Background: []float32{1, 2, 3}}); !errors.Is(err, ErrPayload) {
		t.Errorf("ragged background: %v, want ErrPayload", err)
	}
	if _, err := readBackground(&header{Schema: Schema{Shape: []int{1}}, Background: make([]float32, MaxBackground+1)}); !errors.Is(err, ErrPayload) {
		t.Errorf("oversized background: %v, want ErrPayload", err)
	}
}

// looScorer scores like meanDist but reports its own training scores
// (the leave-one-out scores a neighbour method keeps): Fit must take the
// threshold from them, not from Score of the training rows.
type looScorer struct {
	meanDist
	train []float64
}

func (m *looScorer) Fit(ctx context.Context, ts TrainSet) error {
	if err := m.meanDist.Fit(ctx, ts); err != nil {
		return err
	}
	m.train = make([]float64, ts.X.N)
	for i := range m.train {
		m.train[i] = 1000 + float64(i)
	}
	return nil
}

func (m *looScorer) TrainScores() []float64 { return m.train }

func TestFitUsesTrainScorer(t *testing.T) {
	m, err := Fit(context.Background(), &looScorer{}, TrainSet{X: line(11)}, ThresholdRule{Contamination: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	// TrainScores 1000..1010: the 80th percentile sits at index 8, 1008.
	if m.Threshold != 1008 || m.TrainScores[0] != 1000 {
		t.Fatalf("threshold %v from train scores %v, want 1008 from the detector's own", m.Threshold, m.TrainScores)
	}
}
