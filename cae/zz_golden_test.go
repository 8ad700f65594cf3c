package cae

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/oddity-ml/oddity/detector"
)

func TestZZGolden(t *testing.T) {
	for _, loss := range []string{LossL2, LossL1} {
		o := DefaultOptions()
		o.Width, o.NZ, o.Epochs, o.BatchSize, o.LR, o.Seed, o.Loss = 2, 3, 3, 16, 1e-3, 4, loss
		if loss == LossL1 {
			o.FitMode, o.Side, o.Select = FitResize, 16, SelectLast
		}
		d := New(o)
		if err := d.Fit(context.Background(), detector.TrainSet{X: images(80, 1, 6, 6, 1)}); err != nil {
			t.Fatal(err)
		}
		s, _ := d.Score(context.Background(), images(8, 1, 6, 6, 12))
		p, _ := d.Marshal()
		h := sha256.New()
		for _, ts := range p.Tensors {
			h.Write([]byte(ts.Name))
			for _, v := range ts.Data {
				binary.Write(h, binary.LittleEndian, math.Float32bits(v))
			}
		}
		bits := make([]string, len(s))
		for i := range s {
			bits[i] = fmt.Sprintf("%#x", math.Float64bits(s[i]))
		}
		fmt.Printf("GOLDEN cae %s %v %x best=%d hist=%+v\nCONFIG %s\n", loss, bits, h.Sum(nil), d.BestEpoch(), d.History()[0].Val, p.Config)
	}
}
