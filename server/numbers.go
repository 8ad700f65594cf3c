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
	p.i = j
	if v, ok := fastFloat(tok); ok {
		return append(out, float32(v)), nil
	}
	v, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(tok), len(tok)), 64)
	if err != nil {
		p.i = start
		return nil, badRequest("data: %v", err)
	}
	return append(out, float32(v)), nil
}

// pow10 are the powers of ten that float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// fastFloat converts a well-formed JSON number with at most 15 significant
// digits and a decimal exponent within ±22 (what tabular requests hold) the
// quick way: the digits as an exact integer, times or divided by an exact
// power of ten, which IEEE arithmetic rounds correctly, so the result is
// strconv.ParseFloat's to the bit (Clinger's fast path). Anything else
// reports false and goes to strconv.
func fastFloat(tok []byte) (float64, bool) {
	i, neg := 0, false
	if tok[0] == '-' {
		neg, i = true, 1
	}
	var mant uint64
	digits, exp := 0, 0
	for ; i < len(tok) && tok[i] >= '0' && tok[i] <= '9'; i++ {
		if mant == 0 && tok[i] == '0' {
			continue // leading zeros are not significant
		}
		mant = mant*10 + uint64(tok[i]-'0')
		digits++
	}
	if i < len(tok) && tok[i] == '.' {
		for i++; i < len(tok) && tok[i] >= '0' && tok[i] <= '9'; i++ {
			exp--
			if mant == 0 && tok[i] == '0' {
				continue
			}
			mant = mant*10 + uint64(tok[i]-'0')
			digits++
		}
	}
	if digits > 15 {
		return 0, false
	}
	if i < len(tok) { // exponent
		i++
		eneg := false
		if tok[i] == '+' || tok[i] == '-' {
			eneg = tok[i] == '-'
			i++
		}
		e := 0
		for ; i < len(tok); i++ {
			if e > 1000 {
				return 0, false
			}
			e = e*10 + int(tok[i]-'0')
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	v := float64(mant)
	switch {
	case mant == 0:
	case exp < 0 && exp >= -22:
		v /= pow10[-exp]
	case exp >= 0 && exp <= 22:
		v *= pow10[exp]
	default:
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
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
