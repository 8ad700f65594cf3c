package explain

import (
	"context"
	"math/rand/v2"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// funcDetector is a fitted detector whose score is a known function of a
// row: the tests compare estimates against values computed from f.
type funcDetector struct {
	f     func(x []float32) float64
	calls int // Score calls
	rows  int // most rows in one call
}

func (d *funcDetector) Method() string                               { return "func" }
func (d *funcDetector) Fit(context.Context, detector.TrainSet) error { return nil }
func (d *funcDetector) Marshal() (*detector.Payload, error)          { return nil, detector.ErrNotFitted }
func (d *funcDetector) Unmarshal(*detector.Payload) error            { return detector.ErrPayload }
func (d *funcDetector) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := detector.CheckScore(ctx, true, x, nil); err != nil {
		return nil, err
	}
	d.calls++
	d.rows = max(d.rows, x.N)
	out := make([]float64, x.N)
	for i := range out {
		out[i] = d.f(x.Row(i))
	}
	return out, nil
}

// normalTable returns n rows of d standard normal values drawn from seed.
func normalTable(n, d int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 3))
	x := &data.Dataset{Name: "t", N: n, Shape: []int{d}, X: make([]float32, n*d)}
	for i := range x.X {
		x.X[i] = float32(r.NormFloat64())
	}
	return x
}

// exactShapley computes the interventional Shapley values of f at x with
// background bg by enumerating every coalition: v(S) is the mean over bg's
// rows of f with the features of S from x and the others from the row.
func exactShapley(f func([]float32) float64, x []float32, bg *data.Dataset) []float64 {
	d := len(x)
	v := make([]float64, 1<<d)
	row := make([]float32, d)
	for s := range v {
		for b := 0; b < bg.N; b++ {
			z := bg.Row(b)
			for j := range row {
				if s&(1<<j) != 0 {
					row[j] = x[j]
				} else {
					row[j] = z[j]
				}
			}
			v[s] += f(row)
		}
		v[s] /= float64(bg.N)
	}
	fact := func(n int) float64 {
		p := 1.0
		for k := 2; k <= n; k++ {
			p *= float64(k)
		}
		return p
	}
	phi := make([]float64, d)
	for j := 0; j < d; j++ {
		for s := range v {
			if s&(1<<j) != 0 {
				continue
			}
			k := 0
			for t := s; t != 0; t &= t - 1 {
				k++
			}
			phi[j] += fact(k) * fact(d-k-1) / fact(d) * (v[s|1<<j] - v[s])
		}
	}
	return phi
}
