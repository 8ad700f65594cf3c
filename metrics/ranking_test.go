package metrics

import (
	"errors"
	"math"
	"testing"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func eqSlice(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d, want %d (%v vs %v)", what, len(got), len(want), got, want)
	}
	for i := range got {
		if !(near(got[i], want[i], tol) || (math.IsInf(got[i], 1) && math.IsInf(want[i], 1))) {
			t.Fatalf("%s[%d] = %v, want %v (all: %v vs %v)", what, i, got[i], want[i], got, want)
		}
	}
}

// The example of scikit-learn's documentation, worked by hand: sorted
// descending 0.8(+) 0.4(-) 0.35(+) 0.1(-). Positive/negative pairs ranked
// right: 0.8 beats both, 0.35 beats 0.1 -> 3/4. AP = 1/2*1 + 1/2*2/3.
func TestRankingHandWorked(t *testing.T) {
	s := []float64{0.1, 0.4, 0.35, 0.8}
	y := []int{0, 0, 1, 1}
	auc, err := ROCAUC(s, y)
	if err != nil || !near(auc, 0.75, 1e-15) {
		t.Fatalf("AUC = %v, %v; want 0.75", auc, err)
	}
	ap, err := AveragePrecision(s, y)
	if err != nil || !near(ap, 0.5+0.5*2.0/3, 1e-15) {
		t.Fatalf("AP = %v, %v; want 5/6", ap, err)
	}
}

// Ties: positives scored {1, 0}, negatives {1, 0, 1}. Pairwise: the
// positive at 1 ties two negatives (1/2 each) and beats one (1) -> 2; the
// positive at 0 ties one negative -> 1/2; AUC = 2.5/6. Groups: score 1 has
// tp=1 fp=2 (P=1/3, R=1/2), score 0 has tp=2 fp=3 (P=2/5, R=1); AP = 1/6 + 1/5.
func TestRankingTiesHandWorked(t *testing.T) {
	s := []float64{1, 1, 0, 0, 1}
	y := []int{1, 0, 1, 0, 0}
	auc, _ := ROCAUC(s, y)
	if !near(auc, 2.5/6, 1e-15) {
		t.Errorf("AUC = %v, want %v", auc, 2.5/6)
	}
	ap, _ := AveragePrecision(s, y)
	if !near(ap, 11.0/30, 1e-15) {
		t.Errorf("AP = %v, want 11/30", ap)
	}
	roc, err := ROC(s, y, false)
	if err != nil {
		t.Fatal(err)
	}
	eqSlice(t, "fpr", roc.FPR, []float64{0, 2.0 / 3, 1}, 1e-15)
	eqSlice(t, "tpr", roc.TPR, []float64{0, 0.5, 1}, 1e-15)
	eqSlice(t, "thr", roc.Thresholds, []float64{math.Inf(1), 1, 0}, 0)
	pr, err := PR(s, y, false)
	if err != nil {
		t.Fatal(err)
	}
	eqSlice(t, "precision", pr.Precision, []float64{0.4, 1.0 / 3, 1}, 1e-15)
	eqSlice(t, "recall", pr.Recall, []float64{1, 0.5, 0}, 1e-15)
	eqSlice(t, "pr thr", pr.Thresholds, []float64{0, 1}, 0)
	// F1 at t=1: 2*1/(2+2+1) = 2/5; at t=0: 4/(4+3+0) = 4/7.
	f1, thr, err := BestF1(s, y)
	if err != nil || !near(f1, 4.0/7, 1e-15) || thr != 0 {
		t.Errorf("BestF1 = %v at %v (%v), want 4/7 at 0", f1, thr, err)
	}
	c, _ := AtThreshold(s, y, 1)
	if c != (Confusion{TP: 1, FP: 2, TN: 1, FN: 1}) || !near(c.F1(), 0.4, 1e-15) ||
		!near(c.Precision(), 1.0/3, 1e-15) || !near(c.Recall(), 0.5, 1e-15) {
		t.Errorf("AtThreshold(1) = %+v F1 %v", c, c.F1())
	}
}

// Curve thinning. Scores 4..0 with labels 1,0,0,0,1: cumulative fps
// 0,1,2,3,3 and tps 1,1,1,1,2. ROC keeps the corners (0,1/2) and (1,1/2);
// PR keeps the first and last point of the run tps=1 (thresholds 4 and 1).
func TestDropIntermediateHandWorked(t *testing.T) {
	s := []float64{4, 3, 2, 1, 0}
	y := []int{1, 0, 0, 0, 1}
	roc, _ := ROC(s, y, true)
	eqSlice(t, "fpr", roc.FPR, []float64{0, 0, 1, 1}, 1e-15)
	eqSlice(t, "tpr", roc.TPR, []float64{0, 0.5, 0.5, 1}, 1e-15)
	eqSlice(t, "thr", roc.Thresholds, []float64{math.Inf(1), 4, 1, 0}, 0)
	full, _ := ROC(s, y, false)
	if len(full.FPR) != 6 {
		t.Errorf("full ROC has %d points, want 6", len(full.FPR))
	}
	pr, _ := PR(s, y, true)
	eqSlice(t, "thr", pr.Thresholds, []float64{0, 1, 4}, 0)
	eqSlice(t, "precision", pr.Precision, []float64{0.4, 0.25, 1, 1}, 1e-15)
	eqSlice(t, "recall", pr.Recall, []float64{1, 0.5, 0.5, 0}, 1e-15)
	prFull, _ := PR(s, y, false)
	if len(prFull.Thresholds) != 5 {
		t.Errorf("full PR has %d thresholds, want 5", len(prFull.Thresholds))
	}
}

func TestRankingDegenerate(t *testing.T) {
	// Constant scores: AUC 1/2, AP = positive rate.
	s := []float64{3, 3, 3, 3, 3, 3, 3, 3}
	y := []int{1, 0, 0, 1, 0, 0, 0, 0}
	if auc, _ := ROCAUC(s, y); auc != 0.5 {
		t.Errorf("constant AUC = %v", auc)
	}
	if ap, _ := AveragePrecision(s, y); !near(ap, 0.25, 1e-15) {
		t.Errorf("constant AP = %v, want 0.25", ap)
	}
	// Perfect and reversed rankings.
	s = []float64{0, 1, 2, 3, 4}
	y = []int{0, 0, 0, 1, 1}
	if auc, _ := ROCAUC(s, y); auc != 1 {
		t.Errorf("perfect AUC = %v", auc)
	}
	if ap, _ := AveragePrecision(s, y); ap != 1 {
		t.Errorf("perfect AP = %v", ap)
	}
	neg := []float64{0, -1, -2, -3, -4}
	if auc, _ := ROCAUC(neg, y); auc != 0 {
		t.Errorf("reversed AUC = %v", auc)
	}
	// Errors, never NaN.
	cases := []struct {
		s    []float64
		y    []int
		want error
	}{
		{nil, nil, ErrEmpty},
		{[]float64{1, 2}, []int{1}, ErrLength},
		{[]float64{1, 2}, []int{1, 1}, ErrOneClass},
		{[]float64{1, 2}, []int{0, 0}, ErrOneClass},
		{[]float64{1, 2}, []int{0, 2}, ErrLabel},
		{[]float64{1, math.NaN()}, []int{0, 1}, ErrNotFinite},
		{[]float64{1, math.Inf(1)}, []int{0, 1}, ErrNotFinite},
	}
	for _, c := range cases {
		if _, err := ROCAUC(c.s, c.y); !errors.Is(err, c.want) {
			t.Errorf("ROCAUC(%v, %v) err = %v, want %v", c.s, c.y, err, c.want)
		}
		if _, err := AveragePrecision(c.s, c.y); !errors.Is(err, c.want) {
			t.Errorf("AP(%v, %v) err = %v, want %v", c.s, c.y, err, c.want)
		}
		if _, err := ROC(c.s, c.y, true); !errors.Is(err, c.want) {
			t.Errorf("ROC err = %v, want %v", err, c.want)
		}
		if _, err := PR(c.s, c.y, false); !errors.Is(err, c.want) {
			t.Errorf("PR err = %v, want %v", err, c.want)
		}
		if _, _, err := BestF1(c.s, c.y); !errors.Is(err, c.want) {
			t.Errorf("BestF1 err = %v, want %v", err, c.want)
		}
	}
	// A threshold confusion accepts one class.
	c, err := AtThreshold([]float64{1, 2}, []int{0, 0}, 1.5)
	if err != nil || c != (Confusion{FP: 1, TN: 1}) || c.Precision() != 0 || c.Recall() != 0 || c.F1() != 0 {
		t.Errorf("one-class confusion = %+v, %v", c, err)
	}
}

// AUC as the Mann-Whitney statistic counted over all pairs: an independent
// O(n^2) definition to check the fast path on random data with ties.
func TestROCAUCAgainstPairCount(t *testing.T) {
	seed := uint64(7)
	next := func() uint64 { seed = seed*6364136223846793005 + 1442695040888963407; return seed >> 33 }
	for trial := 0; trial < 20; trial++ {
		n := 5 + int(next()%200)
		s := make([]float64, n)
		y := make([]int, n)
		for i := range s {
			s[i] = float64(next() % 13)
			y[i] = int(next() % 2)
		}
		y[0], y[1] = 0, 1
		var num, P, N float64
		for i := range s {
			if y[i] == 1 {
				P++
			} else {
				N++
			}
			for j := range s {
				if y[i] == 1 && y[j] == 0 {
					switch {
					case s[i] > s[j]:
						num++
					case s[i] == s[j]:
						num += 0.5
					}
				}
			}
		}
		auc, err := ROCAUC(s, y)
		if err != nil || !near(auc, num/(P*N), 1e-14) {
			t.Fatalf("trial %d: AUC %v, pair count %v (%v)", trial, auc, num/(P*N), err)
		}
	}
}

func TestSummary(t *testing.T) {
	s, err := Summarize([]float64{1, 2, 3, 4})
	// mean 2.5; squared deviations 2.25+0.25+0.25+2.25 = 5; /3; sqrt.
	if err != nil || s.N != 4 || s.Mean != 2.5 || !near(s.Std, math.Sqrt(5.0/3), 1e-15) {
		t.Errorf("Summarize = %+v, %v", s, err)
	}
	if s.String() != "2.5000 ± 1.2910 (n=4)" {
		t.Errorf("String = %q", s.String())
	}
	one, _ := Summarize([]float64{0.7})
	if one.Std != 0 || one.String() != "0.7000 (n=1)" {
		t.Errorf("single = %+v %q", one, one.String())
	}
	if _, err := SampleStd([]float64{1}); !errors.Is(err, ErrTooFew) {
		t.Errorf("SampleStd of one: %v", err)
	}
	if _, err := Mean(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("Mean(nil): %v", err)
	}
	if _, err := Summarize(nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("Summarize(nil): %v", err)
	}
}

// scikit-learn's documented example: roc_auc_score gives 0.75 and
// average_precision_score 0.8333 for these scores.
func TestAUCs(t *testing.T) {
	scores, labels := []float64{0.1, 0.4, 0.35, 0.8}, []int{0, 0, 1, 1}
	roc, ap, err := AUCs(scores, labels)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(roc-0.75) > 1e-12 || math.Abs(ap-5.0/6) > 1e-12 {
		t.Errorf("AUCs = %v, %v, want 0.75, 0.8333", roc, ap)
	}
	if _, _, err := AUCs(scores, []int{1, 1, 1, 1}); err == nil {
		t.Error("one class accepted")
	}
}
