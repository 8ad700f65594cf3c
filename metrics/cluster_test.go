package metrics

import (
	"errors"
	"math"
	"testing"
)

func TestClusterHandWorked(t *testing.T) {
	// Classes {0: 3, 1: 3}, clusters {0: 2, 1: 2, 2: 2}; table
	// [[2 1 0] [0 1 2]]. Best matching 0->0, 1->2: 4/6.
	// MI = 2 * (2/6) log((2/6)/(1/2*1/3)) = (2/3) log 2; H(U) = log 2,
	// H(V) = log 3.
	// ARI: sum C(n_ij,2) = 2, rows 3+3 = 6, cols 1+1+1 = 3, pairs 15;
	// expected 6*3/15 = 1.2, max (6+3)/2 = 4.5 -> 0.8/3.3 = 8/33.
	truth := []int{0, 0, 0, 1, 1, 1}
	pred := []int{0, 0, 1, 1, 2, 2}
	check := func(name string, got, want float64) {
		t.Helper()
		if !near(got, want, 1e-14) {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	acc, _ := ACC(truth, pred)
	check("ACC", acc, 4.0/6)
	mi, _ := MutualInfo(truth, pred)
	check("MI", mi, 2.0/3*math.Ln2)
	nmiA, _ := NMI(truth, pred, Arithmetic)
	check("NMI arithmetic", nmiA, (2.0/3*math.Ln2)/((math.Ln2+math.Log(3))/2))
	nmiG, _ := NMI(truth, pred, Geometric)
	check("NMI geometric", nmiG, (2.0/3*math.Ln2)/math.Sqrt(math.Ln2*math.Log(3)))
	nmiMin, _ := NMI(truth, pred, Min)
	check("NMI min", nmiMin, 2.0/3)
	nmiMax, _ := NMI(truth, pred, Max)
	check("NMI max", nmiMax, (2.0/3*math.Ln2)/math.Log(3))
	ari, _ := ARI(truth, pred)
	check("ARI", ari, 8.0/33)
}

func TestClusterPermutedAndDegenerate(t *testing.T) {
	truth := []int{0, 0, 1, 1, 2, 2, 2}
	pred := []int{7, 7, -1, -1, 3, 3, 3} // a relabelling
	for _, f := range []func([]int, []int) (float64, error){ACC, ARI,
		func(a, b []int) (float64, error) { return NMI(a, b, Arithmetic) },
		func(a, b []int) (float64, error) { return NMI(a, b, Geometric) }} {
		if v, err := f(truth, pred); err != nil || !near(v, 1, 1e-15) {
			t.Errorf("permuted labels: %v, %v; want 1", v, err)
		}
	}
	// All samples in one cluster, classes 2 and 3 samples: ACC = 3/5 (the
	// largest class), NMI = 0 (zero mutual information), ARI = 0 (index
	// C(2,2)+C(3,2) = 4 equals its expectation 4*10/10).
	truth = []int{0, 0, 1, 1, 1}
	one := []int{5, 5, 5, 5, 5}
	if v, _ := ACC(truth, one); !near(v, 0.6, 1e-15) {
		t.Errorf("one cluster ACC = %v", v)
	}
	if v, _ := NMI(truth, one, Arithmetic); v != 0 {
		t.Errorf("one cluster NMI = %v", v)
	}
	if v, _ := ARI(truth, one); v != 0 {
		t.Errorf("one cluster ARI = %v", v)
	}
	// Both labelings trivial: scikit-learn defines NMI = ARI = 1.
	if v, _ := NMI(one, []int{2, 2, 2, 2, 2}, Geometric); v != 1 {
		t.Errorf("both single NMI = %v", v)
	}
	if v, _ := ARI(one, []int{2, 2, 2, 2, 2}); v != 1 {
		t.Errorf("both single ARI = %v", v)
	}
	// More clusters than classes: one class split in four; one sample can
	// be matched.
	if v, _ := ACC([]int{0, 0, 0, 0}, []int{0, 1, 2, 3}); v != 0.25 {
		t.Errorf("split ACC = %v", v)
	}
	// More classes than clusters: 3 classes, 2 clusters.
	// table [[2 0] [0 2] [1 1]] -> best 4/6.
	if v, _ := ACC([]int{0, 0, 1, 1, 2, 2}, []int{0, 0, 1, 1, 0, 1}); !near(v, 4.0/6, 1e-15) {
		t.Errorf("merged ACC = %v", v)
	}
	// Independent labelings: ARI below 0. Pair index 0, expectation
	// 2*2/6, max 2 -> (0-2/3)/(2-2/3) = -1/2.
	if v, _ := ARI([]int{0, 0, 1, 1}, []int{0, 1, 0, 1}); !near(v, -0.5, 1e-15) {
		t.Errorf("independent ARI = %v", v)
	}
	if _, err := ACC(nil, nil); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty ACC err %v", err)
	}
	if _, err := NMI([]int{1}, []int{1, 2}, Arithmetic); !errors.Is(err, ErrLength) {
		t.Errorf("length NMI err %v", err)
	}
	if _, err := ARI([]int{1, 2}, nil); !errors.Is(err, ErrLength) {
		t.Errorf("length ARI err %v", err)
	}
	if _, err := NMI([]int{1}, []int{1}, Average(9)); err == nil {
		t.Error("unknown average accepted")
	}
	big := make([]int, MaxAssignmentSize+1)
	for i := range big {
		big[i] = i
	}
	if _, err := ACC(big, big); !errors.Is(err, ErrTooManyClusters) {
		t.Errorf("huge ACC err %v", err)
	}
}

// bruteAssign tries every injective map of the smaller side into the larger.
func bruteAssign(w [][]int64) int64 {
	r, c := len(w), len(w[0])
	best := int64(math.MinInt64)
	usedC := make([]bool, c)
	usedR := make([]bool, r)
	var rec func(k int, sum int64)
	if r <= c {
		rec = func(i int, sum int64) {
			if i == r {
				best = max(best, sum)
				return
			}
			for j := 0; j < c; j++ {
				if !usedC[j] {
					usedC[j] = true
					rec(i+1, sum+w[i][j])
					usedC[j] = false
				}
			}
		}
	} else {
		rec = func(j int, sum int64) {
			if j == c {
				best = max(best, sum)
				return
			}
			for i := 0; i < r; i++ {
				if !usedR[i] {
					usedR[i] = true
					rec(j+1, sum+w[i][j])
					usedR[i] = false
				}
			}
		}
	}
	rec(0, 0)
	return best
}

func TestMaxAssignmentAgainstBruteForce(t *testing.T) {
	seed := uint64(3)
	next := func() uint64 { seed = seed*6364136223846793005 + 1442695040888963407; return seed >> 33 }
	for trial := 0; trial < 300; trial++ {
		r, c := 1+int(next()%6), 1+int(next()%6)
		w := make([][]int64, r)
		for i := range w {
			w[i] = make([]int64, c)
			for j := range w[i] {
				w[i][j] = int64(next()%20) - 3
			}
		}
		rowToCol, total := MaxAssignment(w)
		if want := bruteAssign(w); total != want {
			t.Fatalf("trial %d %dx%d: total %d, brute force %d; w=%v", trial, r, c, total, want, w)
		}
		// The matching is one-to-one, covers min(r,c) rows and sums to total.
		seen := map[int]bool{}
		var sum int64
		matched := 0
		for i, j := range rowToCol {
			if j < 0 {
				continue
			}
			if seen[j] {
				t.Fatalf("column %d used twice", j)
			}
			seen[j] = true
			sum += w[i][j]
			matched++
		}
		if sum != total || matched != min(r, c) {
			t.Fatalf("matching %v sums to %d (%d pairs), total %d", rowToCol, sum, matched, total)
		}
	}
	if m, tot := MaxAssignment(nil); len(m) != 0 || tot != 0 {
		t.Errorf("empty assignment = %v %v", m, tot)
	}
}
