package server

import (
	"encoding/json"
	"math"
	"strconv"
	"testing"
)

// flattenReference is the obvious decoder: encoding/json into any, then a walk.
func flattenReference(b []byte) ([]float32, bool) {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, false
	}
	var out []float32
	var walk func(v any, depth int) bool
	walk = func(v any, depth int) bool {
		switch x := v.(type) {
		case float64:
			out = append(out, float32(x))
			return true
		case []any:
			if depth >= maxDepth {
				return false
			}
			for _, e := range x {
				if !walk(e, depth+1) {
					return false
				}
			}
			return true
		}
		return false
	}
	return out, walk(v, 0)
}

func TestAppendNumbers(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []float32
		ok   bool
	}{
		{`[1, 2.5, -3e2]`, []float32{1, 2.5, -300}, true},
		{` [[1,2],[3,[4]] , []] `, []float32{1, 2, 3, 4}, true},
		{`7`, []float32{7}, true},
		{`[]`, nil, true},
		{`[1,]`, nil, false},
		{`[01]`, nil, false},
		{`[1 2]`, nil, false},
		{`["1"]`, nil, false},
		{`[true]`, nil, false},
		{`[1.]`, nil, false},
		{`[1e]`, nil, false},
		{`[-]`, nil, false},
		{`[1]]`, nil, false},
		{`[[1]`, nil, false},
		{`[NaN]`, nil, false},
		{`[1e400]`, nil, false},
	} {
		got, err := appendNumbers([]byte(c.in), nil)
		if (err == nil) != c.ok {
			t.Errorf("%s: error %v, want ok=%v", c.in, err, c.ok)
			continue
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.in, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: %v, want %v", c.in, got, c.want)
			}
		}
	}
}

// FuzzAppendNumbers checks the fast decoder against encoding/json: both
// accept the same inputs and give the same numbers.
func FuzzAppendNumbers(f *testing.F) {
	for _, s := range []string{`[1,2,3]`, `[[0.5,-1e-3],[2E+2]]`, `[]`, `[1,`, `{"a":1}`, `[-0]`, `[1e38, 1e39]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := appendNumbers(b, nil)
		want, ok := flattenReference(b)
		if ok {
			// encoding/json accepts numbers beyond float64 only as errors too,
			// so both sides agree on validity except for float32 overflow,
			// which both keep as ±Inf here.
			if err != nil {
				t.Fatalf("%q: fast decoder refused valid input: %v", b, err)
			}
			if len(got) != len(want) {
				t.Fatalf("%q: %d numbers, reference %d", b, len(got), len(want))
			}
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%q: number %d is %v, reference %v", b, i, got[i], want[i])
				}
			}
		} else if err == nil {
			t.Fatalf("%q: fast decoder accepted what encoding/json refuses", b)
		}
	})
}

func TestParseRows(t *testing.T) {
	flat, lens, err := parseRows([]byte(` [[1,2,3], [4.5,5,6] ,[7]] `))
	if err != nil || len(lens) != 3 || lens[0] != 3 || lens[1] != 3 || lens[2] != 1 || len(flat) != 7 || flat[3] != 4.5 {
		t.Fatalf("parseRows = %v %v %v", flat, lens, err)
	}
	if _, lens, err := parseRows([]byte(`[]`)); err != nil || len(lens) != 0 {
		t.Fatalf("empty rows: %v %v", lens, err)
	}
	for _, bad := range []string{`[1,2]`, `[[1],2]`, `[[1]`, `[[1]]x`, `{"a":[1]}`, `null`, `[[1],]`} {
		if _, _, err := parseRows([]byte(bad)); err == nil {
			t.Errorf("parseRows(%s) accepted", bad)
		}
	}
}

// fastFloat must give strconv.ParseFloat's float64 bit for bit whenever it
// accepts a number.
func FuzzFastFloat(f *testing.F) {
	for _, s := range []string{"0", "-0", "1", "0.1", "123456789012345", "1234567890123456", "1e22", "1e23", "1e-22", "9.999999999999999e-5",
		"0.000000000000000000000000001", "-2.5E+3", "100000000000000000000000", "0.8327453", "3.4e38", "5e-324"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := &numParser{b: []byte(s)}
		if _, err := p.number(nil); err != nil || p.i != len(s) {
			return // not one JSON number
		}
		got, ok := fastFloat([]byte(s))
		if !ok {
			return
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || math.Float64bits(got) != math.Float64bits(want) {
			t.Fatalf("fastFloat(%q) = %v, strconv gives %v (%v)", s, got, want, err)
		}
	})
}
