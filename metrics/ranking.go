package metrics

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// Sentinel errors returned (wrapped) by the measures.
var (
	// ErrEmpty: no samples.
	ErrEmpty = errors.New("metrics: empty input")
	// ErrLength: scores and labels (or two labelings) differ in length.
	ErrLength = errors.New("metrics: length mismatch")
	// ErrOneClass: the labels hold a single class, so the ranking measure is
	// undefined (scikit-learn raises for AUC-ROC in this case).
	ErrOneClass = errors.New("metrics: only one class present in labels")
	// ErrLabel: a binary label is neither 0 nor 1.
	ErrLabel = errors.New("metrics: label is not 0 or 1")
	// ErrNotFinite: a score is NaN or infinite (scikit-learn rejects these too).
	ErrNotFinite = errors.New("metrics: score is NaN or infinite")
	// ErrTooFew: a summary needs more values than were given.
	ErrTooFew = errors.New("metrics: too few values")
	// ErrTooManyClusters: the contingency table is too large for the
	// O(k^3) assignment of ACC.
	ErrTooManyClusters = errors.New("metrics: too many clusters or classes")
)

// clfCurve holds cumulative counts at each distinct score, scores taken in
// decreasing order: predicting "anomaly" for score >= thr[k] gives tps[k]
// true positives and fps[k] false positives. It is scikit-learn's
// _binary_clf_curve without sample weights.
type clfCurve struct {
	fps, tps []int64
	thr      []float64
}

func (c *clfCurve) pos() int64 { return c.tps[len(c.tps)-1] }
func (c *clfCurve) neg() int64 { return c.fps[len(c.fps)-1] }

func checkBinary(scores []float64, labels []int) error {
	if len(scores) != len(labels) {
		return fmt.Errorf("%w: %d scores, %d labels", ErrLength, len(scores), len(labels))
	}
	if len(scores) == 0 {
		return ErrEmpty
	}
	for i, y := range labels {
		if y != 0 && y != 1 {
			return fmt.Errorf("%w: labels[%d] = %d", ErrLabel, i, y)
		}
	}
	for i, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("%w: scores[%d] = %v", ErrNotFinite, i, s)
		}
	}
	return nil
}

// binaryCurve validates the input and builds the cumulative counts. When
// needBoth is true a single class is an error.
func binaryCurve(scores []float64, labels []int, needBoth bool) (*clfCurve, error) {
	if err := checkBinary(scores, labels); err != nil {
		return nil, err
	}
	idx := make([]int32, len(scores))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortFunc(idx, func(a, b int32) int { return cmp.Compare(scores[b], scores[a]) })
	c := &clfCurve{}
	var tp, fp int64
	for k, i := range idx {
		if labels[i] == 1 {
			tp++
		} else {
			fp++
		}
		if k == len(idx)-1 || scores[idx[k+1]] != scores[i] {
			c.tps = append(c.tps, tp)
			c.fps = append(c.fps, fp)
			c.thr = append(c.thr, scores[i])
		}
	}
	if needBoth && (tp == 0 || fp == 0) {
		return nil, fmt.Errorf("%w: %d positives, %d negatives", ErrOneClass, tp, fp)
	}
	return c, nil
}

// ROCAUC returns the area under the ROC curve, with ties in the scores
// handled as scikit-learn's roc_auc_score does: tied scores form one step of
// the curve, joined by a straight segment (equivalently, each tied
// positive/negative pair counts one half). The area is accumulated in
// integers and divided once, so it is exact up to the final rounding.
//
// Constant scores give 0.5. A single class in labels gives ErrOneClass.
func ROCAUC(scores []float64, labels []int) (float64, error) {
	c, err := binaryCurve(scores, labels, true)
	if err != nil {
		return 0, fmt.Errorf("roc auc: %w", err)
	}
	// twice the area in units of 1/(P*N): sum of dfp*(tp_prev+tp).
	var area2 float64
	var pfp, ptp int64
	for k := range c.tps {
		area2 += float64((c.fps[k] - pfp) * (c.tps[k] + ptp))
		pfp, ptp = c.fps[k], c.tps[k]
	}
	return area2 / (2 * float64(c.pos()) * float64(c.neg())), nil
}

// AveragePrecision returns the average precision as scikit-learn's
// average_precision_score computes it: the step-wise sum
// AP = sum_k (R_k - R_{k-1}) P_k over the distinct score thresholds, with no
// interpolation (it is not the trapezoidal area under the PR curve).
//
// Constant scores give the positive rate P/n. A single class in labels gives
// ErrOneClass (scikit-learn returns 1 when all labels are positive and a
// meaningless value with a warning when none are).
func AveragePrecision(scores []float64, labels []int) (float64, error) {
	c, err := binaryCurve(scores, labels, true)
	if err != nil {
		return 0, fmt.Errorf("average precision: %w", err)
	}
	var s float64
	var ptp int64
	for k := range c.tps {
		if d := c.tps[k] - ptp; d > 0 {
			s += float64(d) * float64(c.tps[k]) / float64(c.tps[k]+c.fps[k])
		}
		ptp = c.tps[k]
	}
	return s / float64(c.pos()), nil
}

// ROCCurve holds the points of a ROC curve in scikit-learn's roc_curve order:
// thresholds decreasing, FPR and TPR increasing, starting at (0, 0).
type ROCCurve struct {
	// FPR and TPR are the false and true positive rates at each threshold.
	FPR, TPR []float64
	// Thresholds[i] is the score at or above which samples are predicted
	// anomalous to obtain point i. Thresholds[0] is +Inf (nothing predicted
	// anomalous), as scikit-learn >= 1.3 reports; scikit-learn 1.2 reported
	// max(score)+1 there instead.
	Thresholds []float64
}

// ROC returns the ROC curve points as scikit-learn's roc_curve does.
// With dropIntermediate false every distinct score gives a point. With
// dropIntermediate true (scikit-learn's default) points collinear with their
// neighbours are dropped: a point is kept only where the second difference
// of either the false or the true positive counts is non-zero, plus the
// first and last points; this never changes the area.
func ROC(scores []float64, labels []int, dropIntermediate bool) (ROCCurve, error) {
	c, err := binaryCurve(scores, labels, true)
	if err != nil {
		return ROCCurve{}, fmt.Errorf("roc curve: %w", err)
	}
	keep := make([]int, 0, len(c.tps))
	m := len(c.tps)
	for k := 0; k < m; k++ {
		if !dropIntermediate || m <= 2 || k == 0 || k == m-1 {
			keep = append(keep, k)
			continue
		}
		d2f := c.fps[k+1] - 2*c.fps[k] + c.fps[k-1]
		d2t := c.tps[k+1] - 2*c.tps[k] + c.tps[k-1]
		if d2f != 0 || d2t != 0 {
			keep = append(keep, k)
		}
	}
	P, N := float64(c.pos()), float64(c.neg())
	r := ROCCurve{
		FPR:        make([]float64, 0, len(keep)+1),
		TPR:        make([]float64, 0, len(keep)+1),
		Thresholds: make([]float64, 0, len(keep)+1),
	}
	r.FPR = append(r.FPR, 0)
	r.TPR = append(r.TPR, 0)
	r.Thresholds = append(r.Thresholds, math.Inf(1))
	for _, k := range keep {
		r.FPR = append(r.FPR, float64(c.fps[k])/N)
		r.TPR = append(r.TPR, float64(c.tps[k])/P)
		r.Thresholds = append(r.Thresholds, c.thr[k])
	}
	return r, nil
}

// PRCurve holds the points of a precision-recall curve in scikit-learn's
// precision_recall_curve order: thresholds increasing, recall decreasing.
// Precision and Recall have one more element than Thresholds: the last point
// is (recall 0, precision 1) with no threshold.
type PRCurve struct {
	// Precision and Recall at each threshold, then the final (1, 0) point.
	Precision, Recall []float64
	// Thresholds[i] is the score at or above which samples are predicted
	// anomalous to obtain point i.
	Thresholds []float64
}

// PR returns the precision-recall curve as scikit-learn's
// precision_recall_curve does. With dropIntermediate false (scikit-learn's
// default, and its only behaviour before 1.3) every distinct score gives a
// point. With dropIntermediate true, as scikit-learn >= 1.3, only the first
// and last point of each run of equal true-positive counts is kept (the
// dropped points lie on vertical segments of the plotted curve).
func PR(scores []float64, labels []int, dropIntermediate bool) (PRCurve, error) {
	c, err := binaryCurve(scores, labels, true)
	if err != nil {
		return PRCurve{}, fmt.Errorf("precision-recall curve: %w", err)
	}
	m := len(c.tps)
	keep := make([]int, 0, m)
	for k := 0; k < m; k++ {
		if !dropIntermediate || m <= 2 || k == 0 || k == m-1 ||
			c.tps[k] != c.tps[k-1] || c.tps[k+1] != c.tps[k] {
			keep = append(keep, k)
		}
	}
	P := float64(c.pos())
	r := PRCurve{
		Precision:  make([]float64, 0, len(keep)+1),
		Recall:     make([]float64, 0, len(keep)+1),
		Thresholds: make([]float64, 0, len(keep)),
	}
	for j := len(keep) - 1; j >= 0; j-- {
		k := keep[j]
		r.Precision = append(r.Precision, float64(c.tps[k])/float64(c.tps[k]+c.fps[k]))
		r.Recall = append(r.Recall, float64(c.tps[k])/P)
		r.Thresholds = append(r.Thresholds, c.thr[k])
	}
	r.Precision = append(r.Precision, 1)
	r.Recall = append(r.Recall, 0)
	return r, nil
}

// AUCs returns ROCAUC and AveragePrecision of the same scores and labels,
// the two numbers every evaluation reports.
func AUCs(scores []float64, labels []int) (rocAUC, ap float64, err error) {
	if rocAUC, err = ROCAUC(scores, labels); err != nil {
		return 0, 0, err
	}
	if ap, err = AveragePrecision(scores, labels); err != nil {
		return 0, 0, err
	}
	return rocAUC, ap, nil
}
