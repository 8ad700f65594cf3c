package main

import (
	"strings"
	"testing"
)

// A stream line is a bare array or {"id", "x"}; anything else is an error
// that names the expected form, never a sample of zero values.
func TestParseStreamLine(t *testing.T) {
	for _, c := range []struct {
		line string
		want []float64
		id   any
	}{
		{`[1, 2.5, -3]`, []float64{1, 2.5, -3}, nil},
		{`  [0]  `, []float64{0}, nil},
		{`{"id": "r7", "x": [4, 5]}`, []float64{4, 5}, "r7"},
		{`{"x": []}`, []float64{}, nil},
	} {
		rec, err := parseStreamLine([]byte(c.line))
		if err != nil {
			t.Errorf("%s: %v", c.line, err)
			continue
		}
		if len(rec.X) != len(c.want) || rec.ID != c.id {
			t.Errorf("%s: got %v id %v, want %v id %v", c.line, rec.X, rec.ID, c.want, c.id)
			continue
		}
		for i := range c.want {
			if rec.X[i] != c.want[i] {
				t.Errorf("%s: value %d is %v, want %v", c.line, i, rec.X[i], c.want[i])
			}
		}
	}
	for _, c := range []struct{ line, says string }{
		{`{"a": 1, "b": 2}`, `unknown field "a"`},
		{`{"id": 3}`, `no "x"`},
		{`[1, "two"]`, "array of numbers"},
		{`[1, 2`, "array of numbers"},
		{`{"x": [1]} {"x": [2]}`, "more than one"},
		{`3`, `{"id": ..., "x": [numbers]}`},
		{`{"x": [NaN]}`, "invalid character"},
	} {
		if _, err := parseStreamLine([]byte(c.line)); err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: error %v, want one saying %q", c.line, err, c.says)
		}
	}
}
