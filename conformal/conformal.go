// Package conformal turns anomaly scores into calibrated p-values and
// alarms: split-conformal p-values, a per-point test at level α, and the
// Benjamini-Hochberg procedure for a batch, following Bates, Candès, Lei,
// Romano and Sesia, "Testing for outliers with conformal p-values", Annals
// of Statistics 51(1), 2023.
//
// # The p-value
//
// A Calibration holds n scores of normal points that the detector did not
// see in training (held out before fitting; detector.FitCalibrated does
// this). The conformal p-value of a new score s is
//
//	p(s) = (1 + #{i : c_i ≥ s}) / (n + 1),
//
// higher scores meaning more anomalous. It takes the values 1/(n+1),
// 2/(n+1), ..., 1, so no point can be flagged at a level α below 1/(n+1).
//
// # The guarantee and its assumption
//
// If the new point is normal and exchangeable with the calibration points
// (for example: all drawn i.i.d. from the same normal distribution, and the
// detector fitted on other data), then for every α in (0, 1)
//
//	P(p ≤ α) ≤ α,
//
// so flagging p ≤ α (Flag) raises a false alarm on a normal point with
// probability at most α. The probability is marginal: over the draw of the
// calibration set and of the new point together. For one fixed calibration
// set the long-run false-alarm rate is itself random, spread around α by
// about sqrt(α(1-α)/(n+2)) (for n = 1000 and α = 0.05, about 0.007); more
// calibration points tighten it. With continuous scores (no ties) the rate
// is also at least α - 1/(n+1), so the test is not needlessly conservative.
//
// For a batch of m test points, rejecting by BenjaminiHochberg at level q
// on their conformal p-values controls the false discovery rate (the
// expected fraction of false alarms among the flagged points) at q·m₀/m ≤ q,
// m₀ being the number of normal test points. The conformal p-values of a
// batch share the calibration set and so are dependent, but Bates et al.
// show they are positively regression dependent on a subset (PRDS), under
// which the Benjamini-Hochberg procedure keeps its guarantee. This needs the
// normal test points i.i.d. with the calibration points and the anomalies
// independent of them; the anomalies themselves may come from anything.
//
// # What breaks it
//
//   - Distribution shift: normal data at scoring time that differs from
//     the calibration data (drift, a new sensor, another season) voids the
//     guarantee; the false-alarm rate can be far above α. Recalibrate on
//     recent normal data.
//   - Calibration points seen in training: a detector scores its own
//     training points lower than fresh ones, so p-values computed against
//     them are too small and alarms too frequent. The calibration set must
//     be held out of fitting.
//   - Dependence: time series and other non-exchangeable data are outside
//     the assumption.
//   - Choosing α, q, the model or the calibration set after looking at the
//     test p-values.
//   - Anomalies among the calibration points are not covered either; when
//     they score above the normal points (as a working detector makes them)
//     they make the p-values of normal points larger, which errs on the
//     side of fewer alarms.
//
// Non-finite scores and p-values, and levels outside (0, 1), are errors
// (wrapping ErrInput), never silently unflagged.
package conformal

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// ErrInput is wrapped by every error about unusable input: a non-finite or
// out-of-range score, p-value or level, an empty or unsorted calibration.
var ErrInput = errors.New("conformal: unusable input")

// Calibration is a set of calibration scores of normal points held out of
// training, kept sorted ascending. It is immutable once made and safe for
// concurrent use. The zero Calibration holds no scores and every method
// that needs scores returns an error for it.
type Calibration struct {
	scores []float64
}

// New returns a Calibration of a copy of scores, sorted. Every score must
// be finite, and there must be at least one.
func New(scores []float64) (*Calibration, error) {
	c := slices.Clone(scores)
	if err := checkScores(c); err != nil {
		return nil, err
	}
	sort.Float64s(c)
	return &Calibration{scores: c}, nil
}

// FromSorted returns a Calibration of a copy of scores, which must already
// be sorted ascending (ties allowed), finite and not empty; it is how a
// stored calibration is read back, so an unsorted list is an error rather
// than sorted silently.
func FromSorted(scores []float64) (*Calibration, error) {
	if err := checkScores(scores); err != nil {
		return nil, err
	}
	for i := 1; i < len(scores); i++ {
		if scores[i] < scores[i-1] {
			return nil, fmt.Errorf("%w: calibration scores not sorted: score %d (%v) is below score %d (%v)", ErrInput, i, scores[i], i-1, scores[i-1])
		}
	}
	return &Calibration{scores: slices.Clone(scores)}, nil
}

// checkScores refuses an empty list and non-finite scores.
func checkScores(scores []float64) error {
	if len(scores) == 0 {
		return fmt.Errorf("%w: no calibration scores", ErrInput)
	}
	for i, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return fmt.Errorf("%w: calibration score %d is %v", ErrInput, i, s)
		}
	}
	return nil
}

// Len is n, the number of calibration scores.
func (c *Calibration) Len() int {
	if c == nil {
		return 0
	}
	return len(c.scores)
}

// Scores returns a copy of the calibration scores, ascending.
func (c *Calibration) Scores() []float64 {
	if c == nil {
		return nil
	}
	return slices.Clone(c.scores)
}

// MinPValue is the smallest p-value the calibration can give, 1/(n+1): a
// level α below it flags nothing.
func (c *Calibration) MinPValue() float64 {
	return 1 / float64(c.Len()+1)
}

// PValue returns the conformal p-value of score s:
// (1 + #{calibration scores ≥ s}) / (n + 1), found by binary search. A
// calibration score equal to s counts. A NaN or infinite s is an error.
func (c *Calibration) PValue(s float64) (float64, error) {
	if c.Len() == 0 {
		return 0, fmt.Errorf("%w: no calibration scores", ErrInput)
	}
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return 0, fmt.Errorf("%w: score is %v", ErrInput, s)
	}
	return c.pvalue(s), nil
}

// pvalue is PValue for a finite s and a non-empty calibration.
func (c *Calibration) pvalue(s float64) float64 {
	n := len(c.scores)
	// SearchFloat64s gives the first index whose score is ≥ s; the scores
	// from there on are the ones counted.
	ge := n - sort.SearchFloat64s(c.scores, s)
	return float64(1+ge) / float64(n+1)
}

// PValues returns the conformal p-value of each score. A NaN or infinite
// score is an error naming its index.
func (c *Calibration) PValues(scores []float64) ([]float64, error) {
	if c.Len() == 0 {
		return nil, fmt.Errorf("%w: no calibration scores", ErrInput)
	}
	out := make([]float64, len(scores))
	for i, s := range scores {
		if math.IsNaN(s) || math.IsInf(s, 0) {
			return nil, fmt.Errorf("%w: score %d is %v", ErrInput, i, s)
		}
		out[i] = c.pvalue(s)
	}
	return out, nil
}

// ScoreThreshold returns the score threshold equivalent to testing at level
// alpha: for every finite score s, s > ScoreThreshold(alpha) exactly when
// PValue(s) ≤ alpha. It is a calibration score (the one at rank
// n - k, k being the most calibration scores at or above s that still give
// p ≤ alpha). It is an error when alpha is outside (0, 1) or below
// MinPValue, where no score can be flagged.
func (c *Calibration) ScoreThreshold(alpha float64) (float64, error) {
	if err := checkLevel("alpha", alpha); err != nil {
		return 0, err
	}
	n := c.Len()
	if n == 0 {
		return 0, fmt.Errorf("%w: no calibration scores", ErrInput)
	}
	ok := func(k int) bool { return float64(1+k)/float64(n+1) <= alpha }
	// k, the largest count of calibration scores ≥ s with p ≤ alpha, is
	// about alpha·(n+1) - 1; step from there to the exact value as PValue
	// computes it, so the two agree bit for bit.
	k := min(max(int(math.Floor(alpha*float64(n+1)))-1, -1), n)
	for k+1 <= n && ok(k+1) {
		k++
	}
	for k >= 0 && !ok(k) {
		k--
	}
	if k < 0 {
		return 0, fmt.Errorf("%w: alpha %g is below 1/(n+1) = %g, the smallest p-value %d calibration scores can give: nothing could be flagged", ErrInput, alpha, c.MinPValue(), n)
	}
	// p(s) ≤ alpha ⇔ at most k calibration scores are ≥ s ⇔ s is above the
	// (k+1)-th largest calibration score. k < n because alpha < 1.
	return c.scores[n-k-1], nil
}

// Flag reports whether p-value p is an alarm at level alpha: p ≤ alpha.
// A p-value that is NaN or outside [0, 1], or alpha outside (0, 1), is an
// error.
func Flag(p, alpha float64) (bool, error) {
	if err := checkLevel("alpha", alpha); err != nil {
		return false, err
	}
	if err := checkP(-1, p); err != nil {
		return false, err
	}
	return p <= alpha, nil
}

// BenjaminiHochberg runs the Benjamini-Hochberg step-up procedure at level
// q on m = len(pvalues) p-values and returns which are rejected (flagged):
// sort the p-values, find the largest k with p_(k) ≤ k·q/m, and reject
// every p-value ≤ p_(k) (so tied p-values are rejected together); none when
// there is no such k. On conformal p-values it controls the false discovery
// rate at q (see the package documentation). A p-value that is NaN or
// outside [0, 1], or q outside (0, 1), is an error. No p-values give an
// empty result.
func BenjaminiHochberg(pvalues []float64, q float64) ([]bool, error) {
	if err := checkLevel("q", q); err != nil {
		return nil, err
	}
	for i, p := range pvalues {
		if err := checkP(i, p); err != nil {
			return nil, err
		}
	}
	m := len(pvalues)
	out := make([]bool, m)
	if m == 0 {
		return out, nil
	}
	sorted := slices.Clone(pvalues)
	sort.Float64s(sorted)
	cut := math.Inf(-1)
	for k := m; k >= 1; k-- {
		if sorted[k-1] <= float64(k)*q/float64(m) {
			cut = sorted[k-1]
			break
		}
	}
	for i, p := range pvalues {
		out[i] = p <= cut
	}
	return out, nil
}

// checkLevel refuses a level (alpha, q) outside the open interval (0, 1).
func checkLevel(name string, v float64) error {
	if !(v > 0 && v < 1) {
		return fmt.Errorf("%w: %s %v must be in (0, 1)", ErrInput, name, v)
	}
	return nil
}

// checkP refuses a p-value that is NaN or outside [0, 1]; i ≥ 0 names its
// index.
func checkP(i int, p float64) error {
	if p >= 0 && p <= 1 {
		return nil
	}
	if i < 0 {
		return fmt.Errorf("%w: p-value %v is not in [0, 1]", ErrInput, p)
	}
	return fmt.Errorf("%w: p-value %d is %v, not in [0, 1]", ErrInput, i, p)
}
