package metrics

import (
	"fmt"
	"math"
	"math/big"
	"slices"
)

// MaxAssignmentSize bounds the larger side of the contingency table that ACC
// will solve (the assignment costs O(k^3) time and O(k^2) memory).
const MaxAssignmentSize = 4096

// Contingency is the table of counts of (true class, predicted cluster)
// pairs. Row i is class Classes[i], column j is cluster Clusters[j]; both
// label lists are sorted ascending.
type Contingency struct {
	Classes, Clusters []int
	// Counts[i][j] is the number of samples of class Classes[i] put in
	// cluster Clusters[j].
	Counts [][]int64
	// N is the number of samples.
	N int64
}

// sparseCell is one non-zero cell of the contingency table.
type sparseCell struct {
	i, j int
	n    int64
}

func uniqueIndex(labels []int) (uniq []int, idx []int) {
	uniq = slices.Clone(labels)
	slices.Sort(uniq)
	uniq = slices.Compact(uniq)
	idx = make([]int, len(labels))
	for k, l := range labels {
		idx[k], _ = slices.BinarySearch(uniq, l)
	}
	return uniq, idx
}

func checkPair(truth, pred []int) error {
	if len(truth) != len(pred) {
		return fmt.Errorf("%w: %d true labels, %d predicted", ErrLength, len(truth), len(pred))
	}
	if len(truth) == 0 {
		return ErrEmpty
	}
	return nil
}

// sparseTable returns the unique labels, the non-zero cells in row-major
// order, and the row and column sums.
func sparseTable(truth, pred []int) (classes, clusters []int, cells []sparseCell, rows, cols []int64) {
	classes, ti := uniqueIndex(truth)
	clusters, pj := uniqueIndex(pred)
	keys := make([]int64, len(truth))
	nc := int64(len(clusters))
	for k := range truth {
		keys[k] = int64(ti[k])*nc + int64(pj[k])
	}
	slices.Sort(keys)
	rows = make([]int64, len(classes))
	cols = make([]int64, len(clusters))
	for k := 0; k < len(keys); {
		e := k
		for e < len(keys) && keys[e] == keys[k] {
			e++
		}
		c := sparseCell{i: int(keys[k] / nc), j: int(keys[k] % nc), n: int64(e - k)}
		cells = append(cells, c)
		rows[c.i] += c.n
		cols[c.j] += c.n
		k = e
	}
	return classes, clusters, cells, rows, cols
}

// NewContingency builds the dense contingency table of two labelings of the
// same samples. Labels may be any ints (they need not be 0..k-1).
func NewContingency(truth, pred []int) (*Contingency, error) {
	if err := checkPair(truth, pred); err != nil {
		return nil, fmt.Errorf("contingency: %w", err)
	}
	classes, clusters, cells, _, _ := sparseTable(truth, pred)
	if len(classes) > MaxAssignmentSize || len(clusters) > MaxAssignmentSize {
		return nil, fmt.Errorf("contingency: %d classes x %d clusters (limit %d): %w",
			len(classes), len(clusters), MaxAssignmentSize, ErrTooManyClusters)
	}
	t := &Contingency{Classes: classes, Clusters: clusters, N: int64(len(truth))}
	t.Counts = make([][]int64, len(classes))
	flat := make([]int64, len(classes)*len(clusters))
	for i := range t.Counts {
		t.Counts[i] = flat[i*len(clusters) : (i+1)*len(clusters)]
	}
	for _, c := range cells {
		t.Counts[c.i][c.j] = c.n
	}
	return t, nil
}

// ACC is the clustering accuracy: the largest fraction of samples that a
// one-to-one matching of clusters to classes gets right, found with the
// Hungarian algorithm on the contingency table. With more clusters than
// classes the extra clusters stay unmatched (their samples count as wrong),
// and with more classes than clusters the extra classes do; ACC is then at
// most (samples in matched pairs)/n. A single cluster gives the share of the
// largest class. Both labelings may use any ints.
func ACC(truth, pred []int) (float64, error) {
	t, err := NewContingency(truth, pred)
	if err != nil {
		return 0, fmt.Errorf("acc: %w", err)
	}
	matched, _ := MaxAssignment(t.Counts)
	var s int64
	for i, j := range matched {
		if j >= 0 {
			s += t.Counts[i][j]
		}
	}
	return float64(s) / float64(t.N), nil
}

// Average names how NMI normalises the mutual information by the two
// entropies (scikit-learn's average_method).
type Average int

const (
	// Arithmetic divides by (H(U)+H(V))/2, scikit-learn's default since 0.22.
	Arithmetic Average = iota
	// Geometric divides by sqrt(H(U) H(V)), the normalisation of the deep
	// clustering papers of 2016-2018 (and scikit-learn before 0.22).
	Geometric
	// Min divides by min(H(U), H(V)).
	Min
	// Max divides by max(H(U), H(V)).
	Max
)

// String names the normalisation as scikit-learn does.
func (a Average) String() string {
	switch a {
	case Arithmetic:
		return "arithmetic"
	case Geometric:
		return "geometric"
	case Min:
		return "min"
	case Max:
		return "max"
	}
	return fmt.Sprintf("Average(%d)", int(a))
}

// MutualInfo returns the mutual information (natural log) between two
// labelings, computed as scikit-learn's mutual_info_score; 0 when either
// labeling has a single label.
func MutualInfo(truth, pred []int) (float64, error) {
	if err := checkPair(truth, pred); err != nil {
		return 0, fmt.Errorf("mutual information: %w", err)
	}
	_, _, cells, rows, cols := sparseTable(truth, pred)
	return mutualInfo(cells, rows, cols, int64(len(truth))), nil
}

func mutualInfo(cells []sparseCell, rows, cols []int64, n int64) float64 {
	if len(rows) == 1 || len(cols) == 1 {
		return 0
	}
	N := float64(n)
	logN := math.Log(N)
	var mi float64
	for _, c := range cells {
		p := float64(c.n) / N
		outer := float64(rows[c.i] * cols[c.j])
		logOuter := -math.Log(outer) + logN + logN
		v := p*(math.Log(float64(c.n))-logN) + p*logOuter
		if math.Abs(v) < 0x1p-52 {
			v = 0
		}
		mi += v
	}
	return max(mi, 0)
}

func entropyOf(counts []int64, n int64) float64 {
	if len(counts) == 1 {
		return 0
	}
	N := float64(n)
	logN := math.Log(N)
	var h float64
	for _, c := range counts {
		h += float64(c) / N * (math.Log(float64(c)) - logN)
	}
	return -h
}

// NMI returns the normalised mutual information MI(U,V)/avg(H(U),H(V)) as
// scikit-learn's normalized_mutual_info_score, including its degenerate
// cases: when both labelings put all samples in a single group the result is
// 1 (a perfect match of two trivial partitions); when only one of them does,
// or the mutual information is 0, the result is 0.
func NMI(truth, pred []int, avg Average) (float64, error) {
	if err := checkPair(truth, pred); err != nil {
		return 0, fmt.Errorf("nmi: %w", err)
	}
	if avg < Arithmetic || avg > Max {
		return 0, fmt.Errorf("nmi: unknown normalisation %v", avg)
	}
	_, _, cells, rows, cols := sparseTable(truth, pred)
	if len(rows) == 1 && len(cols) == 1 {
		return 1, nil
	}
	n := int64(len(truth))
	mi := mutualInfo(cells, rows, cols, n)
	if mi == 0 {
		return 0, nil
	}
	hu, hv := entropyOf(rows, n), entropyOf(cols, n)
	var d float64
	switch avg {
	case Arithmetic:
		d = (hu + hv) / 2
	case Geometric:
		d = math.Sqrt(hu * hv)
	case Min:
		d = min(hu, hv)
	case Max:
		d = max(hu, hv)
	}
	return mi / d, nil
}

// ARI returns the adjusted Rand index as scikit-learn's adjusted_rand_score:
// computed from the pair confusion counts in exact integer arithmetic. It is
// 1 when the two labelings agree on every pair (including both being a
// single group, or every sample its own group in both), about 0 for random
// labelings, and can be negative. All samples in one cluster against several
// classes gives 0.
func ARI(truth, pred []int) (float64, error) {
	if err := checkPair(truth, pred); err != nil {
		return 0, fmt.Errorf("ari: %w", err)
	}
	_, _, cells, rows, cols := sparseTable(truth, pred)
	n := big.NewInt(int64(len(truth)))
	var sumSq, sumRows, sumCols big.Int
	tmp := new(big.Int)
	for _, c := range cells {
		tmp.SetInt64(c.n)
		sumSq.Add(&sumSq, tmp.Mul(tmp, tmp))
		// contingency . n_k summed: sum over cells of n_ij * n_.j
		sumCols.Add(&sumCols, new(big.Int).Mul(big.NewInt(c.n), big.NewInt(cols[c.j])))
		sumRows.Add(&sumRows, new(big.Int).Mul(big.NewInt(c.n), big.NewInt(rows[c.i])))
	}
	// Ordered-pair confusion counts, as scikit-learn's pair_confusion_matrix.
	tp := new(big.Int).Sub(&sumSq, n)
	fp := new(big.Int).Sub(&sumCols, &sumSq)
	fn := new(big.Int).Sub(&sumRows, &sumSq)
	tn := new(big.Int).Mul(n, n)
	tn.Sub(tn, fp).Sub(tn, fn).Sub(tn, &sumSq)
	if fn.Sign() == 0 && fp.Sign() == 0 {
		return 1, nil
	}
	num := new(big.Int).Sub(new(big.Int).Mul(tp, tn), new(big.Int).Mul(fn, fp))
	a := new(big.Int).Mul(new(big.Int).Add(tp, fn), new(big.Int).Add(fn, tn))
	b := new(big.Int).Mul(new(big.Int).Add(tp, fp), new(big.Int).Add(fp, tn))
	den := a.Add(a, b)
	// Python evaluates 2.0 * num / den as float(num)*2.0 / float(den), each
	// int converted with correct rounding; do the same to agree bit for bit.
	fnum, _ := new(big.Float).SetInt(num).Float64()
	fden, _ := new(big.Float).SetInt(den).Float64()
	return 2.0 * fnum / fden, nil
}
