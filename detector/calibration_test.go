package detector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/conformal"
	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/modelfile"
)

// recorder is meanDist that remembers which rows Fit saw, by the id each
// row carries in its second column.
type recorder struct {
	meanDist
	seen []int
}

func (r *recorder) Fit(ctx context.Context, ts TrainSet) error {
	r.seen = r.seen[:0]
	for i := 0; i < ts.X.N; i++ {
		r.seen = append(r.seen, int(ts.X.Row(i)[1]))
	}
	return r.meanDist.Fit(ctx, ts)
}

// gaussRows returns n rows (x, id): x from N(0, 1) with the given seed, id
// the row's index.
func gaussRows(n int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 7))
	d := &data.Dataset{Name: "gauss", N: n, Shape: []int{2}, X: make([]float32, 2*n)}
	for i := 0; i < n; i++ {
		d.X[2*i], d.X[2*i+1] = float32(r.NormFloat64()), float32(i)
	}
	return d
}

// heldOut returns the rows of x whose ids the detector did not see.
func heldOut(x *data.Dataset, seen []int) *data.Dataset {
	fitted := map[int]bool{}
	for _, id := range seen {
		fitted[id] = true
	}
	var idx []int
	for i := 0; i < x.N; i++ {
		if !fitted[i] {
			idx = append(idx, i)
		}
	}
	out, _ := x.Subset(idx)
	return out
}

// The held-out rows are not fitted on: the detector sees N - ⌊0.2·N⌋ rows,
// none of them held out, and the calibration is exactly the held-out rows'
// scores. The same seed holds out the same rows.
func TestFitCalibratedHoldsOutRows(t *testing.T) {
	ctx := context.Background()
	x := gaussRows(503, 1) // ⌊0.2·503⌋ = 100 held out, 403 fitted
	det := &recorder{}
	m, err := FitCalibrated(ctx, det, TrainSet{X: x}, ThresholdRule{Alpha: 0.05}, CalibrationOptions{Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	if len(det.seen) != 403 || m.Meta.Train != 403 || !slices.IsSorted(det.seen) {
		t.Fatalf("detector saw %d rows (sorted %v), Meta.Train %d; want 403", len(det.seen), slices.IsSorted(det.seen), m.Meta.Train)
	}
	held := heldOut(x, det.seen)
	want, _ := m.Score(ctx, held)
	slices.Sort(want)
	if got := m.Calibration().Scores(); !slices.Equal(got, want) {
		t.Fatalf("calibration is not the %d held-out rows' scores: %d scores", held.N, len(got))
	}
	if c := m.Meta.Calibration; c == nil || *c != (CalibrationMeta{Rows: 100, Scores: 100, Fraction: 0.2, Seed: 9}) {
		t.Fatalf("calibration meta %+v", c)
	}
	if m.Meta.DataHash != Hash(x) {
		t.Error("DataHash is not of the whole training set")
	}
	// The same seed holds out the same rows; another seed other rows.
	det2 := &recorder{}
	if _, err := FitCalibrated(ctx, det2, TrainSet{X: x}, ThresholdRule{}, CalibrationOptions{Seed: 9}); err != nil || !slices.Equal(det.seen, det2.seen) {
		t.Errorf("same seed, other rows held out (%v)", err)
	}
	if _, err := FitCalibrated(ctx, det2, TrainSet{X: x}, ThresholdRule{}, CalibrationOptions{Seed: 10}); err != nil || slices.Equal(det.seen, det2.seen) {
		t.Errorf("another seed, the same rows held out (%v)", err)
	}
	// CalibrationSplit names the rows FitCalibrated fitted on and held out.
	train, heldIdx, err := CalibrationSplit(x.N, CalibrationOptions{Seed: 9})
	if err != nil || !slices.Equal(train, det.seen) || len(heldIdx) != 100 {
		t.Errorf("CalibrationSplit: %d rows to fit on, %d held out (%v); FitCalibrated fitted %d", len(train), len(heldIdx), err, len(det.seen))
	}
	// 0.29·100 is 28.999999999999996 in floating point; it holds out 29.
	if _, err := FitCalibrated(ctx, det2, TrainSet{X: gaussRows(100, 2)}, ThresholdRule{}, CalibrationOptions{Fraction: 0.29}); err != nil || len(det2.seen) != 71 {
		t.Errorf("fraction 0.29 of 100 fitted %d rows (%v), want 71", len(det2.seen), err)
	}
}

// MaxScores caps the stored scores by a seeded subsample of the held-out
// rows; the rest of them are still not fitted on.
func TestFitCalibratedCapsScores(t *testing.T) {
	ctx := context.Background()
	x := gaussRows(500, 3)
	det := &recorder{}
	m, err := FitCalibrated(ctx, det, TrainSet{X: x}, ThresholdRule{}, CalibrationOptions{MaxScores: 30, Seed: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(det.seen) != 400 || m.Calibration().Len() != 30 {
		t.Fatalf("fitted %d rows, %d calibration scores; want 400, 30", len(det.seen), m.Calibration().Len())
	}
	if c := m.Meta.Calibration; c.Rows != 100 || c.Scores != 30 {
		t.Fatalf("calibration meta %+v", c)
	}
	held := heldOut(x, det.seen)
	scores, _ := m.Score(ctx, held)
	for _, s := range m.Calibration().Scores() {
		if !slices.Contains(scores, s) {
			t.Fatalf("calibration score %v is not a held-out row's", s)
		}
	}
}

func TestFitCalibratedRefusals(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		n    int
		co   CalibrationOptions
		want error
	}{
		{50, CalibrationOptions{}, ErrInput},                       // 10 held out
		{94, CalibrationOptions{}, ErrInput},                       // 18 held out
		{100, CalibrationOptions{Fraction: 1}, ErrOption},          // not in (0, 1)
		{100, CalibrationOptions{Fraction: -0.2}, ErrOption},       // not in (0, 1)
		{100, CalibrationOptions{Fraction: math.NaN()}, ErrOption}, // not in (0, 1)
		{100, CalibrationOptions{MaxScores: 5}, ErrOption},         // below MinCalibrationScores
	} {
		_, err := FitCalibrated(ctx, &meanDist{}, TrainSet{X: gaussRows(tc.n, 1)}, ThresholdRule{}, tc.co)
		if !errors.Is(err, tc.want) {
			t.Errorf("n=%d %+v: %v, want %v", tc.n, tc.co, err, tc.want)
		}
	}
	if _, err := FitCalibrated(ctx, &meanDist{}, TrainSet{X: gaussRows(95, 1)}, ThresholdRule{}, CalibrationOptions{}); err != nil {
		t.Errorf("95 rows (19 held out): %v", err)
	}
	// Alpha 0.01 needs 99 calibration scores; 19 give p-values ≥ 0.05.
	if _, err := FitCalibrated(ctx, &meanDist{}, TrainSet{X: gaussRows(95, 1)}, ThresholdRule{Alpha: 0.01}, CalibrationOptions{}); !errors.Is(err, conformal.ErrInput) {
		t.Errorf("alpha 0.01 on 19 calibration scores: %v", err)
	}
	// Fit makes no calibration: Alpha is refused, and so are p-values.
	if _, err := Fit(ctx, &meanDist{}, TrainSet{X: gaussRows(100, 1)}, ThresholdRule{Alpha: 0.05}); !errors.Is(err, ErrNoCalibration) {
		t.Errorf("Fit with alpha: %v", err)
	}
	m, _ := Fit(ctx, &meanDist{}, TrainSet{X: gaussRows(100, 1)}, ThresholdRule{})
	if _, err := m.PValues([]float64{1}); !errors.Is(err, ErrNoCalibration) {
		t.Errorf("PValues without calibration: %v", err)
	}
}

// Rule precedence: Value, then Alpha, then FPR, then Contamination; the
// Alpha threshold flags exactly the scores with p ≤ Alpha.
func TestAlphaRule(t *testing.T) {
	ctx := context.Background()
	m, err := FitCalibrated(ctx, &meanDist{}, TrainSet{X: gaussRows(1000, 5)}, ThresholdRule{Alpha: 0.05, FPR: 0.5, Contamination: 0.3}, CalibrationOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := m.Calibration()
	want, _ := c.ScoreThreshold(0.05)
	if m.Threshold != want {
		t.Fatalf("alpha threshold %v, want %v", m.Threshold, want)
	}
	probe, _ := m.Score(ctx, gaussRows(2000, 6))
	for _, v := range c.Scores() {
		probe = append(probe, v, math.Nextafter(v, 0), math.Nextafter(v, math.Inf(1)))
	}
	ps, err := m.PValues(probe)
	if err != nil {
		t.Fatal(err)
	}
	flags := m.Predict(probe)
	for i, p := range ps {
		if f, _ := conformal.Flag(p, 0.05); f != flags[i] {
			t.Fatalf("score %v: Predict %v, p = %v", probe[i], flags[i], p)
		}
	}
	if err := m.SetThreshold(ThresholdRule{Value: 7, HasValue: true, Alpha: 0.05}); err != nil || m.Threshold != 7 {
		t.Errorf("Value before Alpha: %v (%v)", m.Threshold, err)
	}
	if err := m.SetThreshold(ThresholdRule{FPR: 0.5}); err != nil || m.Threshold == want {
		t.Errorf("FPR rule: %v (%v)", m.Threshold, err)
	}
	for _, a := range []float64{-0.1, 1, 2, math.NaN(), 1e-4} {
		before := m.Threshold
		if err := m.SetThreshold(ThresholdRule{Alpha: a}); err == nil || m.Threshold != before {
			t.Errorf("alpha %v accepted or changed the threshold (%v)", a, err)
		}
	}
}

// A calibrated model saved and loaded gives bit-identical p-values, the same
// threshold and calibration metadata.
func TestCalibratedRoundTrip(t *testing.T) {
	ctx := context.Background()
	m, err := FitCalibrated(ctx, &meanDist{}, TrainSet{X: gaussRows(1000, 7)}, ThresholdRule{Alpha: 0.01}, CalibrationOptions{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	test := gaussRows(500, 8)
	for i := range test.X {
		test.X[i] *= 1.7
	}
	s1, _ := m.Score(ctx, test)
	s2, _ := m2.Score(ctx, test)
	p1, err1 := m.PValues(s1)
	p2, err2 := m2.PValues(s2)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	for i := range p1 {
		if math.Float64bits(p1[i]) != math.Float64bits(p2[i]) {
			t.Fatalf("p-value %d: %v before save, %v after load", i, p1[i], p2[i])
		}
	}
	c1, c2 := m.Calibration().Scores(), m2.Calibration().Scores()
	if len(c1) != 200 || len(c1) != len(c2) {
		t.Fatalf("calibration sizes %d, %d", len(c1), len(c2))
	}
	for i := range c1 {
		if math.Float64bits(c1[i]) != math.Float64bits(c2[i]) {
			t.Fatalf("calibration score %d: %v saved, %v loaded", i, c1[i], c2[i])
		}
	}
	if m2.Threshold != m.Threshold || m2.ThresholdRule != m.ThresholdRule || *m2.Meta.Calibration != *m.Meta.Calibration {
		t.Fatalf("loaded threshold %v rule %+v meta %+v", m2.Threshold, m2.ThresholdRule, m2.Meta.Calibration)
	}
	if !slices.Equal(m.Predict(s1), m2.Predict(s2)) {
		t.Fatal("predictions differ after load")
	}
}

// A model file written before calibration existed (by this package at the
// commit before it, testdata/format1-no-calibration.odm: test-meandist
// fitted on line(11), contamination 0.2) still loads, without calibration;
// Calibrate then gives it one.
func TestOldModelFileLoads(t *testing.T) {
	m, err := LoadFile("testdata/format1-no-calibration.odm")
	if err != nil {
		t.Fatal(err)
	}
	if m.Calibration() != nil || m.Meta.Calibration != nil || m.Threshold != 16 || m.ThresholdRule != (ThresholdRule{Contamination: 0.2}) || m.Meta.Train != 11 {
		t.Fatalf("old model: calibration %v, threshold %v, rule %+v, meta %+v", m.Calibration(), m.Threshold, m.ThresholdRule, m.Meta)
	}
	s, err := m.Score(context.Background(), line(3))
	if err != nil || !slices.Equal(s, []float64{25, 16, 9}) {
		t.Fatalf("old model scores %v (%v)", s, err)
	}
	if _, err := m.PValues(s); !errors.Is(err, ErrNoCalibration) {
		t.Errorf("PValues on an old model: %v", err)
	}
	if err := m.SetThreshold(ThresholdRule{Alpha: 0.1}); !errors.Is(err, ErrNoCalibration) || m.Threshold != 16 {
		t.Errorf("alpha on an old model: %v", err)
	}
	// Calibrate on 40 fresh rows (x = 0.5, 1.5, ..., 39.5, so scores
	// (x - 5)² are distinct), capped to 25 by a seeded subsample.
	fresh := line(40)
	for i := 0; i < fresh.N; i++ {
		fresh.X[2*i] += 0.5
	}
	if err := m.Calibrate(context.Background(), fresh, CalibrationOptions{MaxScores: 25, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	if c := m.Meta.Calibration; m.Calibration().Len() != 25 || *c != (CalibrationMeta{Rows: 40, Scores: 25, Seed: 2}) {
		t.Fatalf("calibrated: %d scores, meta %+v", m.Calibration().Len(), c)
	}
	if err := m.SetThreshold(ThresholdRule{Alpha: 0.1}); err != nil {
		t.Fatal(err)
	}
	// Recalibrating under an Alpha rule moves the threshold with it.
	before := m.Threshold
	if err := m.Calibrate(context.Background(), fresh, CalibrationOptions{}); err != nil || m.Threshold == before || m.Calibration().Len() != 40 {
		t.Errorf("recalibration: threshold %v → %v, %d scores (%v)", before, m.Threshold, m.Calibration().Len(), err)
	}
	if err := m.Calibrate(context.Background(), line(18), CalibrationOptions{}); !errors.Is(err, ErrInput) || m.Calibration().Len() != 40 {
		t.Errorf("18 calibration rows: %v", err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	if m2, err := Load(&buf); err != nil || m2.Calibration().Len() != 40 || m2.Threshold != m.Threshold {
		t.Errorf("recalibrated old model does not round-trip: %v", err)
	}
}

// rewrite re-encodes a saved model file with its header changed by edit
// and then by replacing old with new in its JSON, so the checksum is valid
// and only the content is wrong.
func rewrite(t *testing.T, raw []byte, edit func(h map[string]any), old, new string) []byte {
	t.Helper()
	f, err := modelfile.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(f.Header, &h); err != nil {
		t.Fatal(err)
	}
	edit(h)
	b, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	if old != "" {
		if !bytes.Contains(b, []byte(old)) {
			t.Fatalf("no %s in the header", old)
		}
		b = bytes.Replace(b, []byte(old), []byte(new), 1)
	}
	var out bytes.Buffer
	if err := modelfile.Write(&out, json.RawMessage(b), f.Tensors(), nil); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Calibration that is damaged inside a well-formed, checksummed file is
// refused with ErrPayload.
func TestCorruptCalibrationRefused(t *testing.T) {
	m, err := FitCalibrated(context.Background(), &meanDist{}, TrainSet{X: gaussRows(200, 11)}, ThresholdRule{Alpha: 0.1}, CalibrationOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	raw := buf.Bytes()
	if _, err := Load(bytes.NewReader(rewrite(t, raw, func(map[string]any) {}, "", ""))); err != nil {
		t.Fatalf("an unaltered rewrite is refused: %v", err)
	}
	scores := func(h map[string]any) []any { return h["calibration_scores"].([]any) }
	meta := func(h map[string]any) map[string]any {
		return h["meta"].(map[string]any)["calibration"].(map[string]any)
	}
	for name, edit := range map[string]func(h map[string]any){
		"unsorted":           func(h map[string]any) { s := scores(h); s[0], s[len(s)-1] = s[len(s)-1], s[0] },
		"count mismatch":     func(h map[string]any) { h["calibration_scores"] = scores(h)[1:] },
		"meta claims more":   func(h map[string]any) { meta(h)["scores"] = 1e6 },
		"no scores":          func(h map[string]any) { delete(h, "calibration_scores") },
		"empty scores":       func(h map[string]any) { h["calibration_scores"] = []any{}; meta(h)["scores"] = 0 },
		"no meta":            func(h map[string]any) { delete(h["meta"].(map[string]any), "calibration") },
		"not numbers":        func(h map[string]any) { scores(h)[3] = "NaN" },
		"threshold mismatch": func(h map[string]any) { h["threshold"] = h["threshold"].(float64) + 1 },
		"alpha, no calibration": func(h map[string]any) {
			delete(h, "calibration_scores")
			delete(h["meta"].(map[string]any), "calibration")
		},
	} {
		_, err := Load(bytes.NewReader(rewrite(t, raw, edit, "", "")))
		if !errors.Is(err, ErrPayload) {
			t.Errorf("%s: %v, want ErrPayload", name, err)
		}
	}
	// A non-finite score cannot be written as JSON; one beyond float64's
	// range is refused when the header is parsed.
	big := rewrite(t, raw, func(h map[string]any) { scores(h)[0] = "BIG" }, `"BIG"`, `1e999`)
	if _, err := Load(bytes.NewReader(big)); !errors.Is(err, ErrPayload) {
		t.Errorf("a calibration score of 1e999: %v, want ErrPayload", err)
	}
}

// ownScorer is recorder with leave-one-out training scores: minus the id
// of each row it was fitted on, so that a test can tell them apart from
// Score's (which are never negative).
type ownScorer struct{ recorder }

func (o *ownScorer) TrainScores() []float64 {
	out := make([]float64, len(o.seen))
	for i, id := range o.seen {
		out[i] = -float64(id)
	}
	return out
}

// ScoreFitData gives the rows FitCalibrated fitted on their leave-one-out
// scores and the held-out rows Score's; a detector without training scores
// gets Score's everywhere; other data, or other options, is refused.
func TestScoreFitData(t *testing.T) {
	ctx := context.Background()
	x := gaussRows(300, 4)
	co := CalibrationOptions{Seed: 5}
	det := &ownScorer{}
	m, err := FitCalibrated(ctx, det, TrainSet{X: x}, ThresholdRule{}, co)
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.ScoreFitData(ctx, x, co)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := m.Score(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	fitted := map[int]bool{}
	for _, id := range det.seen {
		fitted[id] = true
	}
	for i := range got {
		want := plain[i]
		if fitted[i] {
			want = -float64(i)
		}
		if got[i] != want {
			t.Fatalf("row %d (fitted %v): score %v, want %v", i, fitted[i], got[i], want)
		}
	}
	if _, err := m.ScoreFitData(ctx, gaussRows(200, 4), co); !errors.Is(err, ErrInput) {
		t.Errorf("other data: %v, want ErrInput", err)
	}
	if _, err := m.ScoreFitData(ctx, x, CalibrationOptions{Seed: 5, Fraction: 0.5}); !errors.Is(err, ErrInput) {
		t.Errorf("another fraction: %v, want ErrInput", err)
	}
	if _, err := m.ScoreFitData(ctx, x, CalibrationOptions{Seed: 6}); !errors.Is(err, ErrInput) {
		t.Errorf("another seed (the same number of rows held out): %v, want ErrInput", err)
	}
	y := gaussRows(300, 4)
	y.X[0]++
	if _, err := m.ScoreFitData(ctx, y, co); !errors.Is(err, ErrInput) {
		t.Errorf("other data of the same size: %v, want ErrInput", err)
	}
	m2, err := FitCalibrated(ctx, &recorder{}, TrainSet{X: x}, ThresholdRule{}, co)
	if err != nil {
		t.Fatal(err)
	}
	got2, err := m2.ScoreFitData(ctx, x, co)
	want2, _ := m2.Score(ctx, x)
	if err != nil || !slices.Equal(got2, want2) {
		t.Errorf("without training scores: %v, scores differ from Score's: %v", err, !slices.Equal(got2, want2))
	}
}
