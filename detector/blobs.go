package detector

import (
	"encoding/binary"
	"fmt"
	"math"
)

// SetFloat64s stores v as the blob name, little-endian float64: state
// that must come back bit for bit (training scores, densities, a
// projection), which a float32 tensor would round.
func (p *Payload) SetFloat64s(name string, v []float64) {
	b := make([]byte, 8*len(v))
	for i, f := range v {
		binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(f))
	}
	if p.Blobs == nil {
		p.Blobs = map[string][]byte{}
	}
	p.Blobs[name] = b
}

// Float64s decodes the blob name stored by SetFloat64s as want values. A
// missing blob, another length or a non-finite value is an ErrPayload.
func (p *Payload) Float64s(name string, want int) ([]float64, error) {
	b, ok := p.Blobs[name]
	if !ok {
		return nil, fmt.Errorf("%w: no blob %q", ErrPayload, name)
	}
	if want < 0 || len(b) != 8*want {
		return nil, fmt.Errorf("%w: blob %q holds %d bytes, want %d float64 values", ErrPayload, name, len(b), want)
	}
	v := make([]float64, want)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		if math.IsNaN(v[i]) || math.IsInf(v[i], 0) {
			return nil, fmt.Errorf("%w: blob %q holds %v at %d", ErrPayload, name, v[i], i)
		}
	}
	return v, nil
}
