package server

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"unsafe"
)

// The Open Inference Protocol request envelope, decoded by hand. With
// encoding/json the tensor's "data" had to be scanned twice (once by the
// decoder to delimit a json.RawMessage, once by appendNumbers), and on a
// cheap tabular model that scan cost a fifth of the server's time. Here one
// pass walks the envelope and parses "data" in place. The accepted language
// is encoding/json's for the same struct (keys matched case-insensitively,
// the last of duplicate keys wins, unknown keys refused, null leaving a
// field empty); FuzzDecodeInfer checks the two agree.

// decodeInfer parses an inference request body.
func decodeInfer(b []byte) (*inferRequest, error) {
	p := &numParser{b: b}
	req := &inferRequest{}
	p.skip()
	if p.null() { // as encoding/json: a null body leaves the request empty
		p.skip()
		if p.i != len(p.b) {
			return nil, badRequest("request body: trailing data after the JSON value")
		}
		return req, nil
	}
	err := p.object(func(key string) error {
		switch {
		case strings.EqualFold(key, "id"):
			return p.str(&req.ID)
		case strings.EqualFold(key, "inputs"):
			req.Inputs = nil
			if p.null() {
				return nil
			}
			return p.array(func() error {
				t := inferTensor{binarySize: -1}
				if p.null() {
					req.Inputs = append(req.Inputs, t)
					return nil
				}
				if err := p.tensor(&t); err != nil {
					return err
				}
				req.Inputs = append(req.Inputs, t)
				return nil
			})
		case strings.EqualFold(key, "parameters"):
			start := p.i
			if err := p.skipValue(0); err != nil {
				return err
			}
			var ps struct {
				BinaryDataOutput *bool `json:"binary_data_output"`
				TopK             *int  `json:"top_k"`
			}
			if err := json.Unmarshal(p.b[start:p.i], &ps); err != nil {
				return badRequest("request parameters: %v", err)
			}
			req.binaryOutput = ps.BinaryDataOutput != nil && *ps.BinaryDataOutput
			req.topK = 0
			if ps.TopK != nil {
				if *ps.TopK < 1 {
					return badRequest("request parameters: top_k %d is not positive", *ps.TopK)
				}
				req.topK = *ps.TopK
			}
			return nil
		case strings.EqualFold(key, "outputs"):
			start := p.i
			if err := p.skipValue(0); err != nil {
				return err
			}
			return req.parseOutputs(p.b[start:p.i])
		}
		return badRequest("request body: unknown field %q", key)
	})
	if err != nil {
		return nil, err
	}
	p.skip()
	if p.i != len(p.b) {
		return nil, badRequest("request body: trailing data after the JSON value")
	}
	return req, nil
}

// tensor parses one input tensor object.
func (p *numParser) tensor(t *inferTensor) error {
	return p.object(func(key string) error {
		switch {
		case strings.EqualFold(key, "name"):
			return p.str(&t.Name)
		case strings.EqualFold(key, "datatype"):
			return p.str(&t.Datatype)
		case strings.EqualFold(key, "shape"):
			t.Shape = nil
			if p.null() {
				return nil
			}
			t.Shape = []int{}
			return p.array(func() error {
				v, err := p.integer()
				t.Shape = append(t.Shape, v)
				return err
			})
		case strings.EqualFold(key, "data"):
			t.x, t.hasData, t.numeric, t.raw = nil, false, false, nil
			if p.null() {
				return nil
			}
			// Numbers are parsed in place (the hot path); anything else
			// (strings of a BYTES column, nulls, booleans) is kept as its
			// JSON text, checked, for the caller to read by the model's
			// needs.
			start := p.i
			if x, err := p.value(nil, 0); err == nil {
				t.x, t.hasData, t.numeric, t.raw = x, true, true, p.b[start:p.i]
				return nil
			}
			p.i = start
			if err := p.skipValue(0); err != nil {
				return err
			}
			t.hasData, t.raw = true, p.b[start:p.i]
			return nil
		case strings.EqualFold(key, "parameters"):
			start := p.i
			if err := p.skipValue(0); err != nil {
				return err
			}
			return tensorParameters(p.b[start:p.i], t)
		}
		return badRequest("request body: unknown field %q", key)
	})
}

// parseOutputs reads the request's "outputs": the names of the outputs
// the client wants, in order (their parameters are not used).
func (req *inferRequest) parseOutputs(raw []byte) error {
	var outs []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(raw, &outs); err != nil {
		return badRequest("request outputs: %v", err)
	}
	req.outputs = nil
	req.outputsGiven = len(outs) > 0
	for _, o := range outs {
		req.outputs = append(req.outputs, o.Name)
	}
	return nil
}

// tensorParameters reads the one tensor parameter the server acts on:
// binary_data_size, the byte length of the tensor's data in the binary
// part of the request (the KServe/Triton binary tensor extension).
func tensorParameters(raw []byte, t *inferTensor) error {
	var ps struct {
		BinaryDataSize *int64 `json:"binary_data_size"`
	}
	if err := json.Unmarshal(raw, &ps); err != nil {
		return badRequest("input parameters: %v", err)
	}
	t.binarySize = -1
	if ps.BinaryDataSize != nil {
		if *ps.BinaryDataSize < 0 {
			return badRequest("input parameters: binary_data_size %d is negative", *ps.BinaryDataSize)
		}
		t.binarySize = *ps.BinaryDataSize
	}
	return nil
}

// object parses a JSON object, calling field for every key with p just
// after the colon.
func (p *numParser) object(field func(key string) error) error {
	p.skip()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		return badRequest("request body: expected an object at byte %d", p.i)
	}
	p.i++
	p.skip()
	if p.i < len(p.b) && p.b[p.i] == '}' {
		p.i++
		return nil
	}
	for {
		p.skip()
		var key string
		if err := p.strValue(&key); err != nil {
			return err
		}
		p.skip()
		if p.i >= len(p.b) || p.b[p.i] != ':' {
			return badRequest("request body: expected ':' at byte %d", p.i)
		}
		p.i++
		p.skip()
		if err := field(key); err != nil {
			return err
		}
		p.skip()
		if p.i >= len(p.b) {
			return badRequest("request body: unterminated object")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return nil
		default:
			return badRequest("request body: unexpected %q in an object", p.b[p.i])
		}
	}
}

// array parses a JSON array, calling elem with p at every element.
func (p *numParser) array(elem func() error) error {
	p.skip()
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return badRequest("request body: expected an array at byte %d", p.i)
	}
	p.i++
	p.skip()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return nil
	}
	for {
		p.skip()
		if err := elem(); err != nil {
			return err
		}
		p.skip()
		if p.i >= len(p.b) {
			return badRequest("request body: unterminated array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
		case ']':
			p.i++
			return nil
		default:
			return badRequest("request body: unexpected %q in an array", p.b[p.i])
		}
	}
}

// null consumes a JSON null if one is next.
func (p *numParser) null() bool {
	if strings.HasPrefix(unsafe.String(unsafe.SliceData(p.b[p.i:]), len(p.b)-p.i), "null") {
		p.i += 4
		return true
	}
	return false
}

// str parses a string or null (which leaves *s unchanged, as encoding/json).
func (p *numParser) str(s *string) error {
	if p.null() {
		return nil
	}
	return p.strValue(s)
}

// strValue parses a JSON string. Strings without escapes are taken as they
// are (after a UTF-8 check by the decoder's rules); the rare escaped one is
// handed to encoding/json.
func (p *numParser) strValue(s *string) error {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return badRequest("request body: expected a string at byte %d", p.i)
	}
	end, err := p.stringEnd()
	if err != nil {
		return err
	}
	tok := p.b[p.i:end]
	p.i = end
	if err := json.Unmarshal(tok, s); err != nil {
		return badRequest("request body: %v", err)
	}
	return nil
}

// stringEnd returns the index just past the string starting at p.i.
func (p *numParser) stringEnd() (int, error) {
	for j := p.i + 1; j < len(p.b); j++ {
		switch p.b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, badRequest("request body: unterminated string")
}

// integer parses a JSON number that must be an integer (a shape entry).
func (p *numParser) integer() (int, error) {
	start := p.i
	before := len(p.scratch)
	var err error
	if p.scratch, err = p.number(p.scratch[:before]); err != nil {
		return 0, err
	}
	tok := p.b[start:p.i]
	v, err := strconv.Atoi(string(tok))
	if err != nil {
		return 0, badRequest("request body: shape entry %s is not an integer", tok)
	}
	return v, nil
}

// skipValue skips any JSON value (used for "parameters" and "outputs"),
// checking it with encoding/json.
func (p *numParser) skipValue(depth int) error {
	if depth >= maxDepth {
		return badRequest("request body: values nested deeper than %d", maxDepth)
	}
	start := p.i
	if p.i >= len(p.b) {
		return badRequest("request body: unexpected end")
	}
	switch c := p.b[p.i]; {
	case c == '{':
		if err := p.object(func(string) error { return p.skipValue(depth + 1) }); err != nil {
			return err
		}
	case c == '[':
		if err := p.array(func() error { return p.skipValue(depth + 1) }); err != nil {
			return err
		}
	case c == '"':
		end, err := p.stringEnd()
		if err != nil {
			return err
		}
		p.i = end
	case c == '-' || (c >= '0' && c <= '9'):
		before := len(p.scratch)
		var err error
		if p.scratch, err = p.number(p.scratch[:before]); err != nil {
			return err
		}
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(unsafe.String(unsafe.SliceData(p.b[p.i:]), len(p.b)-p.i), lit) {
				p.i += len(lit)
				return nil
			}
		}
		return badRequest("request body: unexpected %q at byte %d", c, p.i)
	}
	if depth == 0 && !json.Valid(p.b[start:p.i]) {
		return badRequest("request body: malformed value at byte %d", start)
	}
	return nil
}

// outTensor is one output of an inference response: FP64 values, BOOL
// flags or BYTES strings, of the given shape.
type outTensor struct {
	name     string
	datatype string
	shape    []int
	f64      []float64
	flags    []bool
	strs     []string
	// features, when not nil, names the columns of an [N, D] output
	// (written as parameters.features).
	features []string
}

// appendInferResponse writes the inference response without reflection:
// FP64 values as shortest round-tripping decimals (what encoding/json
// writes for a float64), flags as booleans, strings quoted, and the notes,
// when any, as parameters.notes.
func appendInferResponse(b []byte, model, version, id string, outs []outTensor, notes []string) []byte {
	b = appendResponseHead(b, model, version, id)
	for k, o := range outs {
		if k > 0 {
			b = append(b, ',')
		}
		b = appendTensorHead(b, o)
		b = append(b, `,"data":[`...)
		switch o.datatype {
		case "FP64":
			for i, v := range o.f64 {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendFloat(b, v)
			}
		case "BOOL":
			for i, f := range o.flags {
				if i > 0 {
					b = append(b, ',')
				}
				b = strconv.AppendBool(b, f)
			}
		case "BYTES":
			for i, v := range o.strs {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendString(b, v)
			}
		}
		b = append(b, ']')
		if o.features != nil {
			b = append(b, `,"parameters":{`...)
			b = appendFeatures(b, o.features)
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	b = appendNotes(b, notes)
	return append(b, "}\n"...)
}

// appendResponseHead opens a response up to its outputs' first tensor.
func appendResponseHead(b []byte, model, version, id string) []byte {
	b = append(b, `{"model_name":`...)
	b = appendString(b, model)
	b = append(b, `,"model_version":`...)
	b = appendString(b, version)
	b = append(b, `,"id":`...)
	b = appendString(b, id)
	return append(b, `,"outputs":[`...)
}

// appendTensorHead opens an output tensor, up to and not including its
// data or parameters.
func appendTensorHead(b []byte, o outTensor) []byte {
	b = append(b, `{"name":`...)
	b = appendString(b, o.name)
	b = append(b, `,"shape":[`...)
	for i, v := range o.shape {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(v), 10)
	}
	return append(b, `],"datatype":"`+o.datatype+`"`...)
}

// appendFeatures writes "features":[...].
func appendFeatures(b []byte, names []string) []byte {
	b = append(b, `"features":[`...)
	for i, n := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
	}
	return append(b, ']')
}

// appendNotes writes ,"parameters":{"notes":[...]} when there are notes.
func appendNotes(b []byte, notes []string) []byte {
	if len(notes) == 0 {
		return b
	}
	b = append(b, `,"parameters":{"notes":[`...)
	for i, n := range notes {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, n)
	}
	return append(b, "]}"...)
}

// appendFloat formats v as encoding/json does (shortest representation,
// exponent form outside [1e-6, 1e21)).
func appendFloat(b []byte, v float64) []byte {
	abs := v
	if abs < 0 {
		abs = -abs
	}
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		b = strconv.AppendFloat(b, v, 'e', -1, 64)
		// Two-digit negative exponents lose their leading zero (1e-07
		// becomes 1e-7), as encoding/json writes them.
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
		return b
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendString writes s as a JSON string.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s)
	return append(b, q...)
}

// binaryHeader is the HTTP header of the binary tensor extension: the
// length of the JSON part of the body.
const binaryHeader = "Inference-Header-Content-Length"

// attachBinary gives every input whose parameters name a binary_data_size
// its data from bin, consumed in input order, as little-endian FP32 or FP64
// (the only datatypes accepted in binary). It is an error for bin to hold
// more or fewer bytes than the inputs claim, or for an input to have both
// JSON and binary data.
func (req *inferRequest) attachBinary(bin []byte) error {
	off := int64(0)
	for i := range req.Inputs {
		t := &req.Inputs[i]
		if t.binarySize < 0 {
			continue
		}
		if t.hasData {
			return badRequest("input %q has both \"data\" and binary_data_size", t.Name)
		}
		if off+t.binarySize > int64(len(bin)) {
			return badRequest("input %q: binary_data_size %d runs past the %d binary bytes of the body", t.Name, t.binarySize, len(bin))
		}
		raw := bin[off : off+t.binarySize]
		off += t.binarySize
		switch t.Datatype {
		case "FP32":
			if len(raw)%4 != 0 {
				return badRequest("input %q: %d binary bytes are not whole FP32 values", t.Name, len(raw))
			}
			t.x = make([]float32, len(raw)/4)
			for j := range t.x {
				t.x[j] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
			}
		case "FP64":
			if len(raw)%8 != 0 {
				return badRequest("input %q: %d binary bytes are not whole FP64 values", t.Name, len(raw))
			}
			t.x = make([]float32, len(raw)/8)
			for j := range t.x {
				t.x[j] = float32(math.Float64frombits(binary.LittleEndian.Uint64(raw[8*j:])))
			}
		default:
			return badRequest("input %q: binary data must be FP32 or FP64, not %q", t.Name, t.Datatype)
		}
		t.hasData, t.numeric = true, true
	}
	if off != int64(len(bin)) {
		return badRequest("the body has %d binary bytes but the inputs claim %d", len(bin), off)
	}
	return nil
}

// appendInferResponseBinary writes the response of the binary tensor
// extension: a JSON header naming each output's binary_data_size, then the
// outputs' data in order: FP64 little-endian, BOOL one byte each, BYTES
// each string as a 4-byte little-endian length and its bytes. It returns
// the body and the header's length (Inference-Header-Content-Length).
func appendInferResponseBinary(b []byte, model, version, id string, outs []outTensor, notes []string) ([]byte, int) {
	b = appendResponseHead(b, model, version, id)
	for k, o := range outs {
		if k > 0 {
			b = append(b, ',')
		}
		size := 0
		switch o.datatype {
		case "FP64":
			size = 8 * len(o.f64)
		case "BOOL":
			size = len(o.flags)
		case "BYTES":
			for _, v := range o.strs {
				size += 4 + len(v)
			}
		}
		b = appendTensorHead(b, o)
		b = append(b, `,"parameters":{"binary_data_size":`...)
		b = strconv.AppendInt(b, int64(size), 10)
		if o.features != nil {
			b = append(b, ',')
			b = appendFeatures(b, o.features)
		}
		b = append(b, "}}"...)
	}
	b = append(b, ']')
	b = appendNotes(b, notes)
	b = append(b, '}')
	head := len(b)
	for _, o := range outs {
		for _, v := range o.f64 {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		for _, f := range o.flags {
			if f {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		}
		for _, v := range o.strs {
			b = binary.LittleEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		}
	}
	return b, head
}
