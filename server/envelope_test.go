package server

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"reflect"
	"strconv"
	"strings"
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
	var top struct {
		BinaryDataOutput *bool `json:"binary_data_output"`
		TopK             *int  `json:"top_k"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil || len(bytes.TrimLeft(b[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, false
	}
	if req.Parameters != nil {
		if err := json.Unmarshal(req.Parameters, &top); err != nil {
			return nil, false
		}
	}
	out := &inferRequest{ID: req.ID, binaryOutput: top.BinaryDataOutput != nil && *top.BinaryDataOutput}
	if top.TopK != nil {
		if *top.TopK < 1 {
			return nil, false
		}
		out.topK = *top.TopK
	}
	if req.Outputs != nil && string(req.Outputs) != "null" {
		var outs []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(req.Outputs, &outs); err != nil {
			return nil, false
		}
		out.outputsGiven = len(outs) > 0
		for _, o := range outs {
			out.outputs = append(out.outputs, o.Name)
		}
	}
	for _, in := range req.Inputs {
		t := inferTensor{Name: in.Name, Shape: in.Shape, Datatype: in.Datatype, binarySize: -1}
		if in.Parameters != nil {
			var ps struct {
				BinaryDataSize *int64 `json:"binary_data_size"`
			}
			if err := json.Unmarshal(in.Parameters, &ps); err != nil {
				return nil, false
			}
			if ps.BinaryDataSize != nil {
				if *ps.BinaryDataSize < 0 {
					return nil, false
				}
				t.binarySize = *ps.BinaryDataSize
			}
		}
		if in.Data != nil && string(in.Data) != "null" {
			t.hasData, t.raw = true, []byte(in.Data)
			if x, err := appendNumbers(in.Data, nil); err == nil {
				t.x, t.numeric = x, true
			}
		}
		out.Inputs = append(out.Inputs, t)
	}
	return out, true
}

func sameRequest(a, b *inferRequest) bool {
	if a.ID != b.ID || a.binaryOutput != b.binaryOutput || len(a.Inputs) != len(b.Inputs) ||
		a.outputsGiven != b.outputsGiven || a.topK != b.topK || !reflect.DeepEqual(a.outputs, b.outputs) {
		return false
	}
	for i := range a.Inputs {
		x, y := a.Inputs[i], b.Inputs[i]
		if x.Name != y.Name || x.Datatype != y.Datatype || x.hasData != y.hasData || x.numeric != y.numeric || !bytes.Equal(x.raw, y.raw) || x.binarySize != y.binarySize || !reflect.DeepEqual(x.Shape, y.Shape) || len(x.x) != len(y.x) {
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
	`{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","parameters":{"binary_data_size":24}}]}`,
	`{"inputs":[{"parameters":{"binary_data_size":-4}}]}`,
	`{"inputs":[{"parameters":{"binary_data_size":1.5}}]}`,
	`{"inputs":[{"parameters":5}]}`,
	`{"inputs":[{"parameters":null}]}`,
	`{"parameters":{"binary_data_output":true},"inputs":[]}`,
	`{"parameters":{"binary_data_output":"yes"}}`,
	`{"parameters":[1]}`,
	`{"parameters":{"top_k":3},"outputs":[{"name":"top_features"}]}`,
	`{"parameters":{"top_k":0}}`,
	`{"parameters":{"top_k":"x"}}`,
	`{"outputs":[]}`,
	`{"outputs":null}`,
	`{"outputs":[{"name":"a","parameters":{"binary_data":true}},{"name":"b"}]}`,
	`{"outputs":{}}`,
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
	ids := make([]string, len(scores))
	for i := range ids {
		ids[i] = fmt.Sprintf("id<%d>\"é", i)
	}
	notes := []string{"a note", "another \"one\""}
	got := appendInferResponse(nil, `m"odel`, "1", "id\n1", []outTensor{
		{name: "score", datatype: "FP64", shape: []int{len(scores)}, f64: scores},
		{name: "anomaly", datatype: "BOOL", shape: []int{len(flags)}, flags: flags},
		{name: "order id", datatype: "BYTES", shape: []int{len(ids)}, strs: ids},
		{name: "top", datatype: "FP64", shape: []int{len(scores) / 2, 2}, f64: scores[:len(scores)/2*2], features: []string{"a", "b\""}},
	}, notes)
	type tensorOut struct {
		Name       string         `json:"name"`
		Shape      []int          `json:"shape"`
		Datatype   string         `json:"datatype"`
		Data       any            `json:"data"`
		Parameters map[string]any `json:"parameters,omitempty"`
	}
	want, err := json.Marshal(map[string]any{"model_name": `m"odel`, "model_version": "1", "id": "id\n1",
		"outputs": []tensorOut{{"score", []int{len(scores)}, "FP64", scores, nil}, {"anomaly", []int{len(flags)}, "BOOL", flags, nil},
			{"order id", []int{len(ids)}, "BYTES", ids, nil},
			{"top", []int{len(scores) / 2, 2}, "FP64", scores[:len(scores)/2*2], map[string]any{"features": []string{"a", "b\""}}}},
		"parameters": map[string]any{"notes": notes}})
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

// binaryRequest builds a binary-extension request: a JSON header naming
// binary_data_size, then the values as little-endian bytes.
func binaryRequest(t *testing.T, url, datatype string, shape []int, vals []float64, extra int) *http.Request {
	t.Helper()
	var raw []byte
	for _, v := range vals {
		if datatype == "FP64" {
			raw = binary.LittleEndian.AppendUint64(raw, math.Float64bits(v))
		} else {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v)))
		}
	}
	head, err := json.Marshal(map[string]any{"id": "b", "inputs": []map[string]any{{"name": "input", "shape": shape, "datatype": datatype,
		"parameters": map[string]any{"binary_data_size": len(raw) + extra}}}})
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", url, bytes.NewReader(append(head, raw...)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(binaryHeader, strconv.Itoa(len(head)))
	return req
}

// The binary tensor extension gives the same scores as JSON data, and
// inconsistent lengths are refused with 400.
func TestInferBinary(t *testing.T) {
	_, ts, _ := newTestServer(t)
	for _, dt := range []string{"FP32", "FP64"} {
		resp, err := http.DefaultClient.Do(binaryRequest(t, ts.URL+"/v2/models/rows/infer", dt, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}, 0))
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		err = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %d %v %v", dt, resp.StatusCode, m, err)
		}
		scores := m["outputs"].([]any)[0].(map[string]any)["data"].([]any)
		if scores[0] != 6.5 || scores[1] != 15.5 {
			t.Errorf("%s: scores %v, want 6.5 and 15.5 as with JSON data", dt, scores)
		}
	}
	for _, c := range []struct {
		name  string
		req   *http.Request
		fixup func(*http.Request)
	}{
		{"size past the body", binaryRequest(t, ts.URL+"/v2/models/rows/infer", "FP32", []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}, 4), nil},
		{"size short of the body", binaryRequest(t, ts.URL+"/v2/models/rows/infer", "FP32", []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}, -4), nil},
		{"header past the body", binaryRequest(t, ts.URL+"/v2/models/rows/infer", "FP32", []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}, 0),
			func(r *http.Request) { r.Header.Set(binaryHeader, "100000") }},
		{"header not a number", binaryRequest(t, ts.URL+"/v2/models/rows/infer", "FP32", []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}, 0),
			func(r *http.Request) { r.Header.Set(binaryHeader, "x") }},
		{"integer datatype", binaryRequest(t, ts.URL+"/v2/models/rows/infer", "INT32", []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}, 0), nil},
	} {
		if c.fixup != nil {
			c.fixup(c.req)
		}
		resp, err := http.DefaultClient.Do(c.req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: status %d, want 400", c.name, resp.StatusCode)
		}
	}
}

// binary_data_output answers with the scores as raw FP64 and the flags as
// bytes after a JSON header, equal to the JSON answer.
func TestInferBinaryOutput(t *testing.T) {
	_, ts, _ := newTestServer(t)
	body := `{"id":"o","parameters":{"binary_data_output":true},"inputs":[{"name":"input","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}]}`
	resp, err := http.Post(ts.URL+"/v2/models/rows/infer", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("status %d, %v: %s", resp.StatusCode, err, raw)
	}
	n, err := strconv.Atoi(resp.Header.Get(binaryHeader))
	if err != nil || n <= 0 || n > len(raw) {
		t.Fatalf("%s = %q for a %d-byte body", binaryHeader, resp.Header.Get(binaryHeader), len(raw))
	}
	var head struct {
		ID      string `json:"id"`
		Outputs []struct {
			Name       string `json:"name"`
			Datatype   string `json:"datatype"`
			Parameters struct {
				Size int `json:"binary_data_size"`
			} `json:"parameters"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(raw[:n], &head); err != nil {
		t.Fatalf("header %q: %v", raw[:n], err)
	}
	bin := raw[n:]
	if head.ID != "o" || len(head.Outputs) != 2 || head.Outputs[0].Parameters.Size != 16 || head.Outputs[1].Parameters.Size != 2 || len(bin) != 18 {
		t.Fatalf("header %+v with %d binary bytes", head, len(bin))
	}
	s0 := math.Float64frombits(binary.LittleEndian.Uint64(bin[0:]))
	s1 := math.Float64frombits(binary.LittleEndian.Uint64(bin[8:]))
	if s0 != 6.5 || s1 != 15.5 || bin[16] != 0 || bin[17] != 1 {
		t.Errorf("binary answer %v %v %v, want 6.5 15.5 and flags 0 1 as in JSON", s0, s1, bin[16:])
	}
}
