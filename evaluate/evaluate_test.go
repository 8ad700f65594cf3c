package evaluate

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// firstFeature scores a sample by its first value; it needs no fitting.
type firstFeature struct{ sign float64 }

func (f *firstFeature) Method() string                               { return "first" }
func (f *firstFeature) Fit(context.Context, detector.TrainSet) error { return nil }
func (f *firstFeature) Marshal() (*detector.Payload, error) {
	return &detector.Payload{Config: json.RawMessage("{}")}, nil
}
func (f *firstFeature) Unmarshal(*detector.Payload) error { return nil }
func (f *firstFeature) Score(_ context.Context, x *data.Dataset) ([]float64, error) {
	out := make([]float64, x.N)
	for i := range out {
		out[i] = f.sign * float64(x.Row(i)[0])
	}
	return out, nil
}

func TestSeedsOnSeparableData(t *testing.T) {
	// 200 rows, 20 anomalies whose first feature is larger than any normal's.
	ds := &data.Dataset{Name: "sep", N: 200, Shape: []int{2}, X: make([]float32, 400), Y: make([]int, 200)}
	for i := 0; i < 200; i++ {
		ds.X[2*i] = float32(i%7) / 10
		ds.X[2*i+1] = float32(i % 3)
		if i%10 == 0 {
			ds.Y[i] = 1
			ds.X[2*i] = 5 + float32(i)/100
		}
	}
	for _, c := range []struct {
		sign      float64
		roc, prLo float64
	}{{1, 1, 1}, {-1, 0, 0}} {
		res, err := Seeds(context.Background(), "first", "sep", func(uint64) (detector.Detector, error) { return &firstFeature{c.sign}, nil },
			ADBenchSplit(ds, 0.5), SeedList(0, 3))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Runs) != 3 || res.AUCROC.N != 3 || res.AUCROC.Mean != c.roc || res.AUCROC.Std != 0 {
			t.Fatalf("sign %v: AUC-ROC %+v over %d runs, want %v", c.sign, res.AUCROC, len(res.Runs), c.roc)
		}
		for _, r := range res.Runs {
			// 70/30 stratified: 60 test rows with 6 anomalies; half of the
			// 14 training anomalies revealed as labelled.
			if r.Test != 60 || r.Train+r.Labeled != 140 || r.Labeled != 7 {
				t.Errorf("seed %d: train %d labelled %d test %d", r.Seed, r.Train, r.Labeled, r.Test)
			}
			if c.sign > 0 && r.AUCPR != 1 {
				t.Errorf("seed %d: AP %v, want 1 for a perfect ranking", r.Seed, r.AUCPR)
			}
			// Reversed ranking: the 6 anomalies come last among 60, so AP =
			// mean over k=1..6 of k/(54+k).
			if c.sign < 0 {
				want := 0.0
				for k := 1.0; k <= 6; k++ {
					want += k / (54 + k) / 6
				}
				if d := r.AUCPR - want; d > 1e-12 || d < -1e-12 {
					t.Errorf("seed %d: AP %v, want %v", r.Seed, r.AUCPR, want)
				}
			}
		}
	}
}
