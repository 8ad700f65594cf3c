package server

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// referenceInfer decodes a request the plain way: encoding/json into the
// envelope (unknown fields refused), then the tensor data with
// appendNumbers.
func referenceInfer(b []byte) (*inferRequest, bool) {
	var req struct {
		ID     string `json:"id"`
		Inputs []struct {
			Name       string          `json:"name"`
			Shape      []int           `json:"shape"`
			Datatype   string          `json:"datatype"`
			Data       json.RawMessage `json:"data"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"inputs"`
		Parameters json.RawMessage `json:"parameters"`
		Outputs    json.RawMessage `json:"outputs"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, false
	}
	out := &inferRequest{ID: req.ID}
	for _, in := range req.Inputs {
		t := inferTensor{Name: in.Name, Shape: in.Shape, Datatype: in.Datatype}
		if in.Data != nil && string(in.Data) != "null" {
			x, err := appendNumbers(in.Data, nil)
			if err != nil {
				return nil, false
			}
			t.x, t.hasData = x, true
		}
		out.Inputs = append(out.Inputs, t)
	}
	return out, true
}

func sameRequest(a, b *inferRequest) bool {
	if a.ID != b.ID || len(a.Inputs) != len(b.Inputs) {
		return false
	}
	for i := range a.Inputs {
		x, y := a.Inputs[i], b.Inputs[i]
		if x.Name != y.Name || x.Datatype != y.Datatype || x.hasData != y.hasData || !reflect.DeepEqual(x.Shape, y.Shape) || len(x.x) != len(y.x) {
			return false
		}
		for j := range x.x {
			if math.Float32bits(x.x[j]) != math.Float32bits(y.x[j]) {
				return false
			}
		}
	}
	return true
}

var inferCases = []string{
	`{"id":"a","inputs":[{"name":"input","shape":[2,3],"datatype":"FP32","data":[[1,2,3],[4,5,6]]}]}`,
	`{"inputs":[{"name":"x","shape":[1,2],"datatype":"FP64","data":[1e-3,-2.5E2],"parameters":{"binary_data_size":null}}],"parameters":{"a":[1,{"b":"c"}]},"outputs":[{"name":"score"}]}`,
	` { "ID" : "upper" , "Inputs" : [ { "Name":"x" , "SHAPE":[1] , "data": [7] } ] } `,
	`{"id":"\u00e9\"q","inputs":[]}`,
	`{"id":null,"inputs":null}`,
	`{"inputs":[{"data":null,"shape":null}]}`,
	`{"inputs":[null]}`,
	`{"inputs":[{"shape":[1.5],"data":[1]}]}`,
	`{"inputs":[{"shape":[1],"data":["1"]}]}`,
	`{"inputs":[{"shape":[1],"data":[1]}],"extra":1}`,
	`{"inputs":[{"shape":[1],"data":[1],"bogus":true}]}`,
	`{"inputs":[{"shape":[1],"data":[1]}]} trailing`,
	`{"inputs":[{"shape":[1],"data":[1]}]`,
	`{"id":5}`,
	`[]`,
	``,
	`{"id":"x",}`,
	`{"inputs":[{"shape":[99999999999999999999],"data":[]}]}`,
	`{"parameters":{"deep":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}`,
	`{"parameters":tru}`,
	`{"id":"a","id":"b"}`,
	`{}}`,
	`{} `,
	` null `,
}

// TestDecodeInferMatchesEncodingJSON checks the hand decoder against the
// plain one on hand-picked bodies: both accept with the same values, or
// both refuse.
func TestDecodeInferMatchesEncodingJSON(t *testing.T) {
	for _, c := range inferCases {
		want, wantOK := referenceInfer([]byte(c))
		got, err := decodeInfer([]byte(c))
		if (err == nil) != wantOK {
			t.Errorf("%s: hand decoder error %v, encoding/json ok=%v", c, err, wantOK)
			continue
		}
		if wantOK && !sameRequest(got, want) {
			t.Errorf("%s: hand decoder %+v, encoding/json %+v", c, got, want)
		}
	}
}

func FuzzDecodeInfer(f *testing.F) {
	for _, c := range inferCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		want, wantOK := referenceInfer(b)
		got, err := decodeInfer(b)
		if (err == nil) != wantOK {
			t.Fatalf("%q: hand decoder error %v, encoding/json ok=%v", b, err, wantOK)
		}
		if wantOK && !sameRequest(got, want) {
			t.Fatalf("%q: hand decoder %+v, encoding/json %+v", b, got, want)
		}
	})
}

// TestInferResponseMatchesEncodingJSON: the hand-written response decodes
// to what encoding/json would have written, and every score is formatted
// byte for byte as encoding/json formats a float64.
func TestInferResponseMatchesEncodingJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	scores := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 9.99e-7, 1e-7, 1.5e-300, 1e20, 1e21, 123456789.125, -3.4e38, 5e-324}
	for i := 0; i < 200; i++ {
		scores = append(scores, (rng.Float64()-0.5)*math.Pow(10, float64(rng.IntN(60)-30)))
	}
	flags := make([]bool, len(scores))
	for i := range flags {
		flags[i] = rng.IntN(2) == 0
	}
	for _, v := range scores {
		want, _ := json.Marshal(v)
		if got := appendFloat(nil, v); string(got) != string(want) {
			t.Errorf("appendFloat(%v) = %s, encoding/json writes %s", v, got, want)
		}
	}
	got := appendInferResponse(nil, `m"odel`, "id\n1", scores, flags)
	type tensorOut struct {
		Name     string `json:"name"`
		Shape    []int  `json:"shape"`
		Datatype string `json:"datatype"`
		Data     any    `json:"data"`
	}
	want, err := json.Marshal(map[string]any{"model_name": `m"odel`, "model_version": "1", "id": "id\n1",
		"outputs": []tensorOut{{"score", []int{len(scores)}, "FP64", scores}, {"anomaly", []int{len(flags)}, "BOOL", flags}}})
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("hand response is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("hand response %s\nencoding/json %s", got, want)
	}
}
