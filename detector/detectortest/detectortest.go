// Package detectortest holds what every detector's tests share: the
// conformance checks of the detector contract (Conformance), option
// checks (OptionValues, RefusesOptions, RefusesInvalid), fixtures
// (Gaussian, Blobs, Planted) and score and gradient helpers.
package detectortest

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// RoundTrip saves m, loads it back, and fails the test unless the loaded
// model scores x bit for bit as m does and keeps its threshold. It returns
// the loaded model and the scores.
func RoundTrip(tb testing.TB, m *detector.Model, x *data.Dataset) (*detector.Model, []float64) {
	tb.Helper()
	ctx := context.Background()
	want, err := m.Score(ctx, x)
	if err != nil {
		tb.Fatalf("score before saving: %v", err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		tb.Fatalf("save: %v", err)
	}
	m2, err := detector.Load(&buf)
	if err != nil {
		tb.Fatalf("load: %v", err)
	}
	got, err := m2.Score(ctx, x)
	if err != nil {
		tb.Fatalf("score after loading: %v", err)
	}
	if len(got) != len(want) {
		tb.Fatalf("%d scores after loading, %d before", len(got), len(want))
	}
	for i := range want {
		if math.Float64bits(got[i]) != math.Float64bits(want[i]) {
			tb.Fatalf("score %d: %v before saving, %v after loading", i, want[i], got[i])
		}
	}
	if m2.Threshold != m.Threshold || m2.Detector.Method() != m.Detector.Method() {
		tb.Fatalf("loaded model: threshold %v method %s, want %v %s", m2.Threshold, m2.Detector.Method(), m.Threshold, m.Detector.Method())
	}
	return m2, want
}
