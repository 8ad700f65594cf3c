package server

import (
	"strconv"
	"unsafe"
)

// appendNumbers parses a JSON value that is a number or a (nested) array of
// numbers, appending every number to out in order. It is the request
// decoder's hot path: tabular requests are mostly digits, and a reflective
// JSON decode of [][]float64 costs more than scoring them. Anything else (a
// string, an object, a literal, malformed JSON) is an error; the caller then
// reports a 400.
func appendNumbers(b []byte, out []float32) ([]float32, error) {
	p := &numParser{b: b}
	p.skip()
	var err error
	if out, err = p.value(out, 0); err != nil {
		return nil, err
	}
	p.skip()
	if p.i != len(p.b) {
		return nil, badRequest("data: unexpected %q after the value", p.b[p.i])
	}
	return out, nil
}

type numParser struct {
	b []byte
	i int
	// scratch receives numbers parsed only to be checked (shape entries,
	// skipped values).
	scratch []float32
}

const maxDepth = 32

func (p *numParser) skip() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *numParser) value(out []float32, depth int) ([]float32, error) {
	if p.i >= len(p.b) {
		return nil, badRequest("data: unexpected end")
	}
	if p.b[p.i] != '[' {
		return p.number(out)
	}
	if depth >= maxDepth {
		return nil, badRequest("data: arrays nested deeper than %d", maxDepth)
	}
	p.i++
	p.skip()
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
		return out, nil
	}
	for {
		var err error
		if out, err = p.value(out, depth+1); err != nil {
			return nil, err
		}
		p.skip()
		if p.i >= len(p.b) {
			return nil, badRequest("data: unterminated array")
		}
		switch p.b[p.i] {
		case ',':
			p.i++
			p.skip()
		case ']':
			p.i++
			return out, nil
		default:
			return nil, badRequest("data: unexpected %q in an array", p.b[p.i])
		}
	}
}

// number parses one JSON number (RFC 8259 grammar) at p.i.
func (p *numParser) number(out []float32) ([]float32, error) {
	start := p.i
	j := p.i
	if j < len(p.b) && p.b[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(p.b) && p.b[j] >= '0' && p.b[j] <= '9' {
			j++
		}
		return j - k
	}
	n := digits()
	if n == 0 || (n > 1 && p.b[j-n] == '0') {
		return nil, badRequest("data: expected a number at byte %d", start)
	}
	if j < len(p.b) && p.b[j] == '.' {
		j++
		if digits() == 0 {
			return nil, badRequest("data: bad number at byte %d", start)
		}
	}
	if j < len(p.b) && (p.b[j] == 'e' || p.b[j] == 'E') {
		j++
		if j < len(p.b) && (p.b[j] == '+' || p.b[j] == '-') {
			j++
		}
		if digits() == 0 {
			return nil, badRequest("data: bad exponent at byte %d", start)
		}
	}
	tok := p.b[start:j]
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(tok), len(tok)), 64)
	if err != nil {
		return nil, badRequest("data: %v", err)
	}
	p.i = j
	return append(out, float32(v)), nil
}

// parseRows parses a JSON array of rows (each an array of numbers) into one
// flat slice, returning the number of values in each row.
func parseRows(b []byte) ([]float32, []int, error) {
	p := &numParser{b: b}
	p.skip()
	if p.i >= len(p.b) || p.b[p.i] != '[' {
		return nil, nil, badRequest(`"rows" must be an array of arrays of numbers`)
	}
	p.i++
	p.skip()
	var out []float32
	var lens []int
	if p.i < len(p.b) && p.b[p.i] == ']' {
		p.i++
	} else {
		for {
			if p.i >= len(p.b) || p.b[p.i] != '[' {
				return nil, nil, badRequest(`"rows" must be an array of arrays of numbers`)
			}
			before := len(out)
			var err error
			if out, err = p.value(out, 1); err != nil {
				return nil, nil, err
			}
			lens = append(lens, len(out)-before)
			p.skip()
			if p.i >= len(p.b) {
				return nil, nil, badRequest("rows: unterminated array")
			}
			if p.b[p.i] == ']' {
				p.i++
				break
			}
			if p.b[p.i] != ',' {
				return nil, nil, badRequest("rows: unexpected %q", p.b[p.i])
			}
			p.i++
			p.skip()
		}
	}
	p.skip()
	if p.i != len(p.b) {
		return nil, nil, badRequest("rows: unexpected %q after the array", p.b[p.i])
	}
	return out, lens, nil
}
