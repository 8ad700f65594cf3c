package lof

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

func TestConformance(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"k": "10"},
		// Fit's leave-one-out search with a large k by brute force takes
		// seconds on 20,000 rows.
		Slow:  map[string]string{"k": "2000", "algorithm": "brute"},
		Bad:   map[string]string{"k": "0", "algorithm": "ball"},
		Train: detectortest.Gaussian(20000, 4, 0, 0, 1),
		Test:  detectortest.Gaussian(40, 4, 0.5, 0, 2),
	})
}

func rows(d int, v ...float32) *data.Dataset {
	return &data.Dataset{Name: "rows", N: len(v) / d, Shape: []int{d}, X: v}
}

func fit(t *testing.T, o Options, x *data.Dataset) *Detector {
	t.Helper()
	d := New(o)
	if err := d.Fit(context.Background(), detector.TrainSet{X: x}); err != nil {
		t.Fatal(err)
	}
	return d
}

func score(t *testing.T, d *Detector, x *data.Dataset) []float64 {
	t.Helper()
	s, err := d.Score(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func near(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-12*(1+math.Abs(b[i])) {
			return false
		}
	}
	return true
}

// LOF worked out by hand on the line, k = 1, training rows 0, 1, 3: the
// nearest other rows are 1, 0 (tied with nothing) and 1, so the
// k-distances are 1, 1, 2 and the densities 1/(1+ε), 1/(1+ε), 1/(2+ε).
func TestHandComputed(t *testing.T) {
	const eps = 1e-10
	train := rows(1, 0, 1, 3)
	// 6: nearest 3 at 3, reach max(3, 2) = 3, LOF lrd(3)/lrd(6) = (3+ε)/(2+ε).
	// 0.5: nearest 0 and 1 at 0.5 (the lower row wins), reach max(0.5, 1) = 1.
	// 3: itself at 0, reach max(0, 2) = 2, LOF 1.
	query := rows(1, 6, 0.5, 3)
	want := []float64{(3 + eps) / (2 + eps), 1, 1}
	loo := []float64{1, 1, (2 + eps) / (1 + eps)}
	for _, alg := range []string{"brute", "kdtree"} {
		d := fit(t, Options{K: 1, Algorithm: alg}, train)
		if got := score(t, d, query); !near(got, want) {
			t.Errorf("%s: scores %v, want %v", alg, got, want)
		}
		if got := d.TrainScores(); !near(got, loo) {
			t.Errorf("%s: training scores %v, want %v", alg, got, loo)
		}
	}
}

// The scores equal scikit-learn's −score_samples and
// −negative_outlier_factor_ (scripts/reference/knn_lof_golden.py), on data
// with five identical rows, to round-off.
func TestScikitLearn(t *testing.T) {
	b, err := os.ReadFile("testdata/sklearn.json")
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	table := func(key string) *data.Dataset {
		var r [][]float64
		if err := json.Unmarshal(raw[key], &r); err != nil {
			t.Fatal(err)
		}
		x := &data.Dataset{N: len(r), Shape: []int{len(r[0])}}
		for _, row := range r {
			for _, v := range row {
				x.X = append(x.X, float32(v))
			}
		}
		return x
	}
	train, test := table("train"), table("test")
	for _, k := range []int{1, 5, 20} {
		var want struct{ Test, Train []float64 }
		if err := json.Unmarshal(raw[fmt.Sprintf("lof_k%d", k)], &want); err != nil {
			t.Fatal(err)
		}
		for _, alg := range []string{"brute", "kdtree"} {
			d := fit(t, Options{K: k, Algorithm: alg}, train)
			if got := score(t, d, test); !near(got, want.Test) {
				t.Errorf("k=%d %s: %v, want %v", k, alg, got, want.Test)
			}
			if got := d.TrainScores(); !near(got, want.Train) {
				t.Errorf("k=%d %s: training scores %v, want %v", k, alg, got, want.Train)
			}
		}
	}
}

// The search algorithm changes nothing, bit for bit, on rows or images.
func TestAlgorithmsAgree(t *testing.T) {
	for _, c := range []struct{ train, test *data.Dataset }{
		{detectortest.Gaussian(3000, 6, 0, 0, 3), detectortest.Gaussian(500, 6, 0.3, 0, 4)},
		{detectortest.Blobs(300, 8, false, 5), detectortest.Blobs(50, 8, true, 6)},
	} {
		var first, firstTrain []float64
		for _, alg := range []string{"brute", "kdtree", "auto"} {
			o := DefaultOptions()
			o.Algorithm = alg
			d := fit(t, o, c.train)
			s := score(t, d, c.test)
			if first == nil {
				first, firstTrain = s, d.TrainScores()
			} else {
				detectortest.WantScores(t, alg, s, first)
				detectortest.WantScores(t, alg+" training", d.TrainScores(), firstTrain)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		k    int
		x    *data.Dataset
		want string
	}{
		{20, detectortest.Gaussian(20, 2, 0, 0, 1), "k = 20 neighbours need more training rows than k, got n = 20"},
		{20, rows(3, 1, 2, 3), "got n = 1"},
		{1, rows(3, 1, 2, 3), "k = 1 neighbours need more training rows than k, got n = 1"},
	} {
		o := DefaultOptions()
		o.K = c.k
		err := New(o).Fit(ctx, detector.TrainSet{X: c.x})
		if !errors.Is(err, detector.ErrInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("k = %d, n = %d: %v, want ErrInput saying %q", c.k, c.x.N, err, c.want)
		}
	}
	o := DefaultOptions()
	if err := New(o).Fit(ctx, detector.TrainSet{X: detectortest.Gaussian(21, 2, 0, 0, 1)}); err != nil {
		t.Errorf("k = 20, n = 21: %v", err)
	}
}

// A constant feature changes no score. Identical training rows have
// density 1e10 (scikit-learn's 1e-10 guard): the row itself scores 1 and
// a row at distance r scores 1e10·(r + 1e-10), as scikit-learn's do.
func TestDegenerateData(t *testing.T) {
	train := detectortest.Gaussian(200, 3, 0, 0, 8)
	test := detectortest.Gaussian(30, 3, 1, 0, 9)
	widen := func(x *data.Dataset) *data.Dataset {
		y := &data.Dataset{N: x.N, Shape: []int{4}}
		for i := range x.N {
			y.X = append(append(y.X, x.Row(i)...), -3)
		}
		return y
	}
	for _, alg := range []string{"brute", "kdtree"} {
		o := DefaultOptions()
		o.Algorithm = alg
		a := score(t, fit(t, o, train), test)
		b := score(t, fit(t, o, widen(train)), widen(test))
		detectortest.WantScores(t, alg+" with a constant last feature", b, a)

		o.K = 3
		d := fit(t, o, rows(2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2))
		if got := d.TrainScores(); !near(got, []float64{1, 1, 1, 1, 1}) {
			t.Errorf("%s: identical rows' training LOF %v, want 1", alg, got)
		}
		lrd := 1 / 1e-10
		want := []float64{1, lrd / (1 / (5 + 1e-10))}
		if got := score(t, d, rows(2, 1, 2, 4, 6)); !near(got, want) {
			t.Errorf("%s: scores %v beside identical rows, want %v", alg, got, want)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	train := detectortest.Gaussian(400, 5, 0, 0, 11)
	test := detectortest.Gaussian(50, 5, 0.5, 0, 12)
	o := Options{K: 7, Algorithm: "kdtree", Workers: 1}
	m, err := detector.Fit(context.Background(), New(o), detector.TrainSet{X: train}, detector.ThresholdRule{Contamination: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	loaded, _ := detectortest.RoundTrip(t, m, test)
	ld := loaded.Detector.(*Detector)
	if want := (Options{K: 7, Algorithm: "kdtree"}); ld.Options != want {
		t.Errorf("loaded options %+v, want %+v", ld.Options, want)
	}
	detectortest.WantScores(t, "training scores after loading", ld.TrainScores(), m.Detector.(*Detector).TrainScores())
	p, err := m.Detector.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	delete(p.Blobs, "lrd")
	if err := New(DefaultOptions()).Unmarshal(p); !errors.Is(err, detector.ErrPayload) || !strings.Contains(err.Error(), "lrd") {
		t.Errorf("no densities: %v, want ErrPayload naming lrd", err)
	}
}
