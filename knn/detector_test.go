package knn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

func TestConformance(t *testing.T) {
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: map[string]string{"k": "5"},
		// Fit's leave-one-out search with a large k by brute force takes
		// seconds on 20,000 rows.
		Slow:  map[string]string{"k": "2000", "algorithm": "brute"},
		Bad:   map[string]string{"k": "0", "method": "max", "algorithm": "ball"},
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

// Scores worked out by hand on the line: training rows 0, 1, 2, 3, 10.
func TestHandComputed(t *testing.T) {
	train := rows(1, 0, 1, 2, 3, 10)
	query := rows(1, 5, 3)
	for _, c := range []struct {
		k      int
		method string
		want   []float64 // scores of 5 and 3
		loo    []float64 // training scores, each row left out
	}{
		// 5: distances 2 (to 3), 3 (to 2), 4 (to 1), 5 (to 0 and 10).
		// 3: distances 0 (itself), 1, 2, 3, 7.
		{2, Largest, []float64{3, 1}, []float64{2, 1, 1, 2, 8}},
		{2, Mean, []float64{2.5, 0.5}, []float64{1.5, 1, 1, 1.5, 7.5}},
		{2, Median, []float64{2.5, 0.5}, []float64{1.5, 1, 1, 1.5, 7.5}},
		{3, Largest, []float64{4, 2}, []float64{3, 2, 2, 3, 9}},
		{3, Mean, []float64{3, 1}, []float64{2, 4.0 / 3, 4.0 / 3, 2, 8}},
		{3, Median, []float64{3, 1}, []float64{2, 1, 1, 2, 8}},
		{4, Largest, []float64{5, 3}, []float64{10, 9, 8, 7, 10}},
	} {
		for _, alg := range []string{"brute", "kdtree"} {
			d := fit(t, Options{K: c.k, Method: c.method, Algorithm: alg}, train)
			name := fmt.Sprintf("k=%d %s %s", c.k, c.method, alg)
			if got := score(t, d, query); !near(got, c.want) {
				t.Errorf("%s: scores %v, want %v", name, got, c.want)
			}
			if got := d.TrainScores(); !near(got, c.loo) {
				t.Errorf("%s: training scores %v, want %v", name, got, c.loo)
			}
		}
	}
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

// golden is scripts/reference/knn_lof_golden.py's output: scikit-learn's
// neighbour distances on float32 data with duplicated rows.
type golden struct {
	Train, Test [][]float64
}

func loadGolden(t *testing.T) (train, test *data.Dataset, raw map[string]json.RawMessage) {
	t.Helper()
	b, err := os.ReadFile("testdata/sklearn.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	table := func(r [][]float64) *data.Dataset {
		x := &data.Dataset{N: len(r), Shape: []int{len(r[0])}}
		for _, row := range r {
			for _, v := range row {
				x.X = append(x.X, float32(v))
			}
		}
		return x
	}
	return table(g.Train), table(g.Test), raw
}

// The scores equal scikit-learn's NearestNeighbors distances (PyOD's KNN
// reads its scores off them) to round-off.
func TestScikitLearn(t *testing.T) {
	train, test, raw := loadGolden(t)
	for _, k := range []int{1, 5, 6} {
		var want struct {
			Largest, Mean, Median []float64
			TrainLargest          []float64 `json:"train_largest"`
		}
		if err := json.Unmarshal(raw[fmt.Sprintf("knn_k%d", k)], &want); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			method string
			want   []float64
		}{{Largest, want.Largest}, {Mean, want.Mean}, {Median, want.Median}} {
			for _, alg := range []string{"brute", "kdtree"} {
				d := fit(t, Options{K: k, Method: c.method, Algorithm: alg}, train)
				if got := score(t, d, test); !near(got, c.want) {
					t.Errorf("k=%d %s %s: %v, want %v", k, c.method, alg, got, c.want)
				}
				if c.method == Largest && !near(d.TrainScores(), want.TrainLargest) {
					t.Errorf("k=%d %s: training scores differ from kneighbors()", k, alg)
				}
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
		var first []float64
		for _, alg := range []string{"brute", "kdtree", "auto"} {
			o := DefaultOptions()
			o.Algorithm, o.Method = alg, Mean
			s := score(t, fit(t, o, c.train), c.test)
			if first == nil {
				first = s
			} else {
				detectortest.WantScores(t, alg, s, first)
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
		{5, rows(2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), "k = 5 neighbours need more training rows than k, got n = 5"},
		{5, rows(3, 1, 2, 3), "got n = 1"},
		{1, rows(3, 1, 2, 3), "k = 1 neighbours need more training rows than k, got n = 1"},
	} {
		o := DefaultOptions()
		o.K = c.k
		err := New(o).Fit(ctx, detector.TrainSet{X: c.x})
		if !errors.Is(err, detector.ErrInput) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("k = %d, n = %d: %v, want ErrInput saying %q", c.k, c.x.N, err, c.want)
		}
	}
	// k = n − 1 is the most Fit takes.
	o := DefaultOptions()
	o.K = 4
	if err := New(o).Fit(ctx, detector.TrainSet{X: rows(1, 1, 2, 3, 4, 5)}); err != nil {
		t.Errorf("k = 4, n = 5: %v", err)
	}
}

// A constant feature changes no score; identical training rows give
// training scores of 0 and score a new row by its distance to them.
func TestDegenerateData(t *testing.T) {
	train := detectortest.Gaussian(200, 3, 0, 0, 8)
	test := detectortest.Gaussian(30, 3, 1, 0, 9)
	widen := func(x *data.Dataset) *data.Dataset {
		y := &data.Dataset{N: x.N, Shape: []int{4}}
		for i := range x.N {
			y.X = append(append(y.X, x.Row(i)...), 7)
		}
		return y
	}
	for _, alg := range []string{"brute", "kdtree"} {
		o := DefaultOptions()
		o.Algorithm = alg
		a := score(t, fit(t, o, train), test)
		b := score(t, fit(t, o, widen(train)), widen(test))
		detectortest.WantScores(t, alg+" with a constant last feature", b, a)

		same := rows(2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2)
		d := fit(t, o, same)
		if got := d.TrainScores(); slices.Max(got) != 0 {
			t.Errorf("%s: identical rows score %v in training", alg, got)
		}
		if got := score(t, d, rows(2, 1, 2, 4, 6)); !near(got, []float64{0, 5}) {
			t.Errorf("%s: scores %v beside identical rows, want [0 5]", alg, got)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	train := detectortest.Gaussian(400, 5, 0, 0, 11)
	test := detectortest.Gaussian(50, 5, 0.5, 0, 12)
	o := Options{K: 7, Method: Median, Algorithm: "brute", Workers: 1}
	m, err := detector.Fit(context.Background(), New(o), detector.TrainSet{X: train}, detector.ThresholdRule{Contamination: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	loaded, _ := detectortest.RoundTrip(t, m, test)
	ld := loaded.Detector.(*Detector)
	if want := (Options{K: 7, Method: Median, Algorithm: "brute"}); ld.Options != want {
		t.Errorf("loaded options %+v, want %+v", ld.Options, want)
	}
	detectortest.WantScores(t, "training scores after loading", ld.TrainScores(), m.Detector.(*Detector).TrainScores())

	p, err := m.Detector.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	p.Blobs["train_scores"] = p.Blobs["train_scores"][:8]
	if err := New(DefaultOptions()).Unmarshal(p); !errors.Is(err, detector.ErrPayload) {
		t.Errorf("truncated training scores: %v, want ErrPayload", err)
	}
}
