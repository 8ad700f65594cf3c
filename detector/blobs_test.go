package detector

import (
	"errors"
	"math"
	"slices"
	"testing"
)

func TestFloat64Blobs(t *testing.T) {
	var p Payload
	v := []float64{0, -1.5, math.SmallestNonzeroFloat64, 1e300, 1.0 / 3}
	p.SetFloat64s("v", v)
	got, err := p.Float64s("v", len(v))
	if err != nil || !slices.Equal(got, v) {
		t.Fatalf("round trip: %v, %v; want %v", got, err, v)
	}
	p.SetFloat64s("nan", []float64{1, math.NaN()})
	for name, c := range map[string]struct {
		blob string
		want int
	}{"missing": {"w", 1}, "short": {"v", 6}, "long": {"v", 4}, "NaN": {"nan", 2}} {
		if _, err := p.Float64s(c.blob, c.want); !errors.Is(err, ErrPayload) {
			t.Errorf("%s: error %v, want ErrPayload", name, err)
		}
	}
}
