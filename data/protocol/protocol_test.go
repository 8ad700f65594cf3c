package protocol

import (
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/csvfile"
	"github.com/oddity-ml/oddity/internal/shared"
)

// synthetic builds a data set with sizes[c] samples of class labels[c]; the
// first feature encodes the sample index so rows can be traced, the second
// is random, the third constant.
func synthetic(labels, sizes []int, seed uint64) *data.Dataset {
	r := rand.New(rand.NewPCG(seed, 1))
	ds := &data.Dataset{Name: "syn", Shape: []int{3}}
	for c, n := range sizes {
		for i := 0; i < n; i++ {
			ds.X = append(ds.X, float32(ds.N), float32(r.NormFloat64()*10+5), 7)
			ds.Y = append(ds.Y, labels[c])
			ds.N++
		}
	}
	// Interleave classes so order carries no class information.
	perm := r.Perm(ds.N)
	out, _ := ds.Subset(perm)
	for i := 0; i < out.N; i++ {
		out.X[3*i] = float32(i)
	}
	return out
}

func disjoint(a, b []int) bool {
	set := map[int]bool{}
	for _, i := range a {
		set[i] = true
	}
	for _, i := range b {
		if set[i] {
			return false
		}
	}
	return true
}

func count(y []int, v int) int {
	n := 0
	for _, x := range y {
		if x == v {
			n++
		}
	}
	return n
}

func TestLeaveOneClassOut(t *testing.T) {
	train := synthetic([]int{0, 1, 2, 3, 4}, []int{20, 20, 20, 20, 20}, 1)
	test := synthetic([]int{0, 1, 2, 3, 4}, []int{10, 10, 10, 10, 10}, 2)
	s, err := LeaveOneClassOut(train, test, 2, LOCOOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Train.N != 80 || count(s.Train.Y, 1) != 0 {
		t.Errorf("clean training set: %d rows, %d abnormal", s.Train.N, count(s.Train.Y, 1))
	}
	for i, k := range s.TrainIndex {
		if train.Y[k] == 2 || s.Train.X[3*i] != train.X[3*k] || s.Train.X[3*i+1] != train.X[3*k+1] {
			t.Fatalf("training row %d is not input row %d of a normal class", i, k)
		}
	}
	if s.Test.N != 50 || count(s.Test.Y, 1) != 10 {
		t.Errorf("test: %d rows, %d abnormal", s.Test.N, count(s.Test.Y, 1))
	}
	for i := range s.Test.Y {
		if (s.Test.Y[i] == 1) != (test.Y[i] == 2) {
			t.Fatalf("test label %d wrong", i)
		}
	}
	// Contamination 10%: round(0.1·80/0.9) = 9 abnormal rows.
	c1, err := LeaveOneClassOut(train, test, 2, LOCOOptions{Contamination: 0.1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if c1.Train.N != 89 || count(c1.Train.Y, 1) != 9 {
		t.Errorf("contaminated: %d rows, %d abnormal", c1.Train.N, count(c1.Train.Y, 1))
	}
	for i, k := range c1.TrainIndex {
		if (train.Y[k] == 2) != (c1.Train.Y[i] == 1) {
			t.Fatalf("row %d: label does not match input class", i)
		}
	}
	c2, _ := LeaveOneClassOut(train, test, 2, LOCOOptions{Contamination: 0.1, Seed: 7})
	c3, _ := LeaveOneClassOut(train, test, 2, LOCOOptions{Contamination: 0.1, Seed: 8})
	if !slices.Equal(c1.TrainIndex, c2.TrainIndex) {
		t.Error("same seed, different contamination")
	}
	if slices.Equal(c1.TrainIndex, c3.TrainIndex) {
		t.Error("seeds 7 and 8 chose the same 9 of 20 abnormal images")
	}
	for _, bad := range []LOCOOptions{{Contamination: 0.5}, {Contamination: -0.1}, {Contamination: 1}} {
		if _, err := LeaveOneClassOut(train, test, 2, bad); !errors.Is(err, ErrProtocol) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if _, err := LeaveOneClassOut(train, test, 9, LOCOOptions{}); !errors.Is(err, ErrProtocol) {
		t.Errorf("absent class: %v", err)
	}
}

func TestStratifiedSplit(t *testing.T) {
	ds := synthetic([]int{0, 1, 2}, []int{100, 30, 7}, 3)
	train, test, err := StratifiedSplit(ds.Y, 0.3, 11)
	if err != nil {
		t.Fatal(err)
	}
	if len(train)+len(test) != ds.N || !disjoint(train, test) || !slices.IsSorted(train) || !slices.IsSorted(test) {
		t.Fatal("not a partition of sorted indices")
	}
	for c, want := range map[int]int{0: 30, 1: 9, 2: 2} { // round(0.3·n)
		got := 0
		for _, i := range test {
			if ds.Y[i] == c {
				got++
			}
		}
		if got != want {
			t.Errorf("class %d: %d in test, want %d", c, got, want)
		}
	}
	again, _, _ := StratifiedSplit(ds.Y, 0.3, 11)
	other, _, _ := StratifiedSplit(ds.Y, 0.3, 12)
	if !slices.Equal(train, again) || slices.Equal(train, other) {
		t.Error("split not determined by the seed")
	}
	if _, _, err := StratifiedSplit(ds.Y, 1, 0); !errors.Is(err, ErrProtocol) {
		t.Errorf("fraction 1: %v", err)
	}
}

func checkScaled(t *testing.T, s *SemiSupervised, ds *data.Dataset, train []int) {
	t.Helper()
	// On the training part every feature is within [0,1], and the random
	// feature reaches both ends; the constant feature maps to 0.
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range []*data.Dataset{s.TrainUnlabeled, s.TrainLabeledAnomalies} {
		for i := 0; i < p.N; i++ {
			r := p.Row(i)
			for _, v := range r {
				if v < 0 || v > 1 {
					t.Fatalf("training value %v outside [0,1]", v)
				}
			}
			if r[2] != 0 {
				t.Fatalf("constant feature scaled to %v", r[2])
			}
			lo, hi = min(lo, float64(r[1])), max(hi, float64(r[1]))
		}
	}
	if lo != 0 || hi != 1 {
		t.Errorf("training range of feature 1: [%v, %v]", lo, hi)
	}
	// A test row equals the hand-computed scaling of its input row.
	var mn, mx float64 = math.Inf(1), math.Inf(-1)
	for _, i := range train {
		v := float64(ds.Row(i)[1])
		mn, mx = min(mn, v), max(mx, v)
	}
	k := s.TestIndex[0]
	want := (float64(ds.Row(k)[1]) - mn) / (mx - mn)
	if got := float64(s.Test.Row(0)[1]); math.Abs(got-want) > 1e-6 {
		t.Errorf("test value %v, want %v", got, want)
	}
}

func TestADBench(t *testing.T) {
	ds := synthetic([]int{0, 1}, []int{950, 50}, 4)
	s, err := ADBench(ds, ADBenchOptions{LabeledRatio: 0.2, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	train := append(append([]int(nil), s.UnlabeledIndex...), s.LabeledIndex...)
	if !disjoint(s.UnlabeledIndex, s.LabeledIndex) || !disjoint(train, s.TestIndex) || len(train)+len(s.TestIndex) != 1000 {
		t.Fatal("not a partition")
	}
	// Test: round(0.3·950) = 285 normals and round(0.3·50) = 15 anomalies.
	if s.Test.N != 300 || count(s.Test.Y, 1) != 15 {
		t.Errorf("test %d rows, %d anomalies", s.Test.N, count(s.Test.Y, 1))
	}
	// Labelled: round(0.2·35) = 7 training anomalies; 28 stay unlabelled.
	if s.TrainLabeledAnomalies.N != 7 || count(s.TrainLabeledAnomalies.Y, 1) != 7 || count(s.TrainUnlabeled.Y, 1) != 28 {
		t.Errorf("labelled %d, hidden anomalies %d", s.TrainLabeledAnomalies.N, count(s.TrainUnlabeled.Y, 1))
	}
	for i, k := range s.LabeledIndex {
		if ds.Y[k] != 1 || float32(k) != ds.X[3*k] || s.TrainLabeledAnomalies.Y[i] != 1 {
			t.Fatalf("labelled row %d is not an anomaly", k)
		}
	}
	checkScaled(t, s, ds, train)
	again, _ := ADBench(ds, ADBenchOptions{LabeledRatio: 0.2, Seed: 5})
	if !slices.Equal(s.LabeledIndex, again.LabeledIndex) || !slices.Equal(s.TestIndex, again.TestIndex) ||
		!slices.Equal(s.Test.X, again.Test.X) {
		t.Error("same seed, different split")
	}
	none, _ := ADBench(ds, ADBenchOptions{Seed: 5})
	all, _ := ADBench(ds, ADBenchOptions{LabeledRatio: 1, Seed: 5})
	if none.TrainLabeledAnomalies.N != 0 || all.TrainLabeledAnomalies.N != 35 || count(all.TrainUnlabeled.Y, 1) != 0 {
		t.Errorf("ratios 0 and 1: %d, %d", none.TrainLabeledAnomalies.N, all.TrainLabeledAnomalies.N)
	}
	bad := synthetic([]int{0, 2}, []int{10, 10}, 1)
	if _, err := ADBench(bad, ADBenchOptions{}); !errors.Is(err, ErrProtocol) {
		t.Errorf("labels 0/2: %v", err)
	}
}

func TestWeak(t *testing.T) {
	ds := synthetic([]int{3, 1, 2}, []int{3000, 150, 300}, 6)
	s, err := Weak(ds, DPLANThyroid(1, 9))
	if err != nil {
		t.Fatal(err)
	}
	// Test: round(0.2·n) per class = 600 + 30 + 60.
	if s.Test.N != 690 || count(s.Test.Y, 1) != 90 {
		t.Errorf("test %d rows, %d anomalies", s.Test.N, count(s.Test.Y, 1))
	}
	trainPart := make([]int, 0)
	for i := 0; i < ds.N; i++ {
		if !slices.Contains(s.TestIndex, i) {
			trainPart = append(trainPart, i)
		}
	}
	if !disjoint(s.TestIndex, s.UnlabeledIndex) || !disjoint(s.TestIndex, s.LabeledIndex) || !disjoint(s.UnlabeledIndex, s.LabeledIndex) {
		t.Error("sets overlap")
	}
	if s.TrainLabeledAnomalies.N != 60 {
		t.Errorf("%d labelled", s.TrainLabeledAnomalies.N)
	}
	for _, k := range s.LabeledIndex {
		if ds.Y[k] != 1 {
			t.Fatalf("labelled anomaly of class %d", ds.Y[k])
		}
	}
	// Unlabelled: all 2400 training normals + round(0.02·2400/0.98) = 49
	// anomalies, from both classes.
	var c1, c2, c3 int
	for _, k := range s.UnlabeledIndex {
		switch ds.Y[k] {
		case 1:
			c1++
		case 2:
			c2++
		case 3:
			c3++
		}
	}
	if c3 != 2400 || c1+c2 != 49 || c1 == 0 || c2 == 0 || count(s.TrainUnlabeled.Y, 1) != 49 {
		t.Errorf("unlabelled: %d normals, %d + %d anomalies", c3, c1, c2)
	}
	checkScaled(t, s, ds, trainPart)
	again, _ := Weak(ds, DPLANThyroid(1, 9))
	other, _ := Weak(ds, DPLANThyroid(1, 10))
	if !slices.Equal(s.UnlabeledIndex, again.UnlabeledIndex) || !slices.Equal(s.LabeledIndex, again.LabeledIndex) {
		t.Error("same seed, different protocol")
	}
	if slices.Equal(s.LabeledIndex, other.LabeledIndex) {
		t.Error("different seeds, same labelled anomalies")
	}

	// Too few anomalies to keep the sets apart: class 1 has 80 training
	// anomalies, 60 of them labelled, class 2 only 4, and 3% contamination of
	// 2400 normals needs round(0.03·2400/0.97) = 74: the 24 unlabelled ones
	// are used, then 50 labelled ones reused.
	few := synthetic([]int{3, 1, 2}, []int{3000, 100, 5}, 7)
	o := DPLANThyroid(1, 1)
	o.Contamination = 0.03
	fs, err := Weak(few, o)
	if err != nil {
		t.Fatal(err)
	}
	if count(fs.TrainUnlabeled.Y, 1) != 74 {
		t.Errorf("%d unlabelled anomalies, want 74", count(fs.TrainUnlabeled.Y, 1))
	}
	overlap := 0
	for _, k := range fs.LabeledIndex {
		if slices.Contains(fs.UnlabeledIndex, k) {
			overlap++
		}
	}
	if overlap != 74-24 {
		t.Errorf("overlap %d, want %d", overlap, 74-24)
	}
	o.Contamination = 0.5
	if _, err := Weak(few, o); !errors.Is(err, ErrProtocol) {
		t.Errorf("impossible contamination: %v", err)
	}
	o = DPLANThyroid(2, 1)
	o.Labeled = 5
	if _, err := Weak(few, o); !errors.Is(err, ErrProtocol) {
		t.Errorf("4 known anomalies for 5 labels: %v", err)
	}
	if _, err := Weak(few, DPLANThyroid(3, 1)); !errors.Is(err, ErrProtocol) {
		t.Errorf("known class not an anomaly class: %v", err)
	}

	// No test split (training for use): every row is in the training
	// part, so all 3000 normals are unlabelled, with round(0.02·3000/0.98)
	// = 61 anomalies, and the test set is empty.
	o = DPLANThyroid(1, 1)
	o.TestFraction = 0
	all, err := Weak(few, o)
	if err != nil {
		t.Fatal(err)
	}
	if all.Test.N != 0 || all.TrainUnlabeled.N != 3000+61 || count(all.TrainUnlabeled.Y, 1) != 61 || all.TrainLabeledAnomalies.N != 60 {
		t.Errorf("no test split: test %d, unlabelled %d (%d anomalies), labelled %d",
			all.Test.N, all.TrainUnlabeled.N, count(all.TrainUnlabeled.Y, 1), all.TrainLabeledAnomalies.N)
	}
	for _, frac := range []float64{-0.1, 1} {
		o.TestFraction = frac
		if _, err := Weak(few, o); !errors.Is(err, ErrProtocol) {
			t.Errorf("test fraction %v: %v", frac, err)
		}
	}
}

func TestDPLANOnUCIThyroid(t *testing.T) {
	dir := filepath.Dir(shared.Path(t, "uci-thyroid/ann-train.data"))
	ds, err := csvfile.LoadUCIThyroid(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, known := range []int{1, 2} {
		s, err := Weak(ds, DPLANThyroid(known, 0))
		if err != nil {
			t.Fatal(err)
		}
		// Classes 166/368/6666: test round(0.2·n) = 33 + 74 + 1333; the
		// unlabelled set is 5333 normals + round(0.02·5333/0.98) = 109.
		if s.Test.N != 1440 || count(s.Test.Y, 1) != 107 {
			t.Errorf("known %d: test %d rows, %d anomalies", known, s.Test.N, count(s.Test.Y, 1))
		}
		if s.TrainUnlabeled.N != 5333+109 || count(s.TrainUnlabeled.Y, 1) != 109 || s.TrainLabeledAnomalies.N != 60 {
			t.Errorf("known %d: unlabelled %d (%d anomalies), labelled %d", known, s.TrainUnlabeled.N,
				count(s.TrainUnlabeled.Y, 1), s.TrainLabeledAnomalies.N)
		}
		if !disjoint(s.UnlabeledIndex, s.LabeledIndex) {
			t.Errorf("known %d: labelled anomalies also unlabelled", known)
		}
	}
}
