package metrics

import "fmt"

// Confusion counts the outcomes of predicting "anomaly" for every score at
// or above a threshold.
type Confusion struct {
	TP, FP, TN, FN int
}

// AtThreshold predicts anomaly (1) for score >= threshold and counts the
// outcomes against labels. Unlike the ranking measures it accepts a single
// class.
func AtThreshold(scores []float64, labels []int, threshold float64) (Confusion, error) {
	if err := checkBinary(scores, labels); err != nil {
		return Confusion{}, fmt.Errorf("confusion at threshold %v: %w", threshold, err)
	}
	var c Confusion
	for i, s := range scores {
		pred := s >= threshold
		switch {
		case pred && labels[i] == 1:
			c.TP++
		case pred:
			c.FP++
		case labels[i] == 1:
			c.FN++
		default:
			c.TN++
		}
	}
	return c, nil
}

// Precision is TP/(TP+FP); 0 when nothing is predicted anomalous (as
// scikit-learn's precision_score with zero_division=0).
func (c Confusion) Precision() float64 {
	if c.TP+c.FP == 0 {
		return 0
	}
	return float64(c.TP) / float64(c.TP+c.FP)
}

// Recall is TP/(TP+FN); 0 when there are no positives.
func (c Confusion) Recall() float64 {
	if c.TP+c.FN == 0 {
		return 0
	}
	return float64(c.TP) / float64(c.TP+c.FN)
}

// F1 is the harmonic mean of precision and recall, 2TP/(2TP+FP+FN); 0 when
// that is 0/0.
func (c Confusion) F1() float64 {
	d := 2*c.TP + c.FP + c.FN
	if d == 0 {
		return 0
	}
	return float64(2*c.TP) / float64(d)
}

// BestF1 returns the largest F1 over all thresholds "score >= t" with t one
// of the distinct scores, and the threshold that gives it (the highest such
// threshold when several tie). This selects a threshold using the labels, so
// it is an optimistic, oracle figure: report it as such and never use it to
// choose a threshold on a test set.
func BestF1(scores []float64, labels []int) (f1, threshold float64, err error) {
	c, err := binaryCurve(scores, labels, true)
	if err != nil {
		return 0, 0, fmt.Errorf("best F1: %w", err)
	}
	P := c.pos()
	bestNum, bestDen := int64(-1), int64(1)
	for k := range c.tps {
		num := 2 * c.tps[k]
		den := c.tps[k] + c.fps[k] + P // 2TP+FP+FN with FN = P-TP
		if num*bestDen > bestNum*den {
			bestNum, bestDen = num, den
			threshold = c.thr[k]
		}
	}
	return float64(bestNum) / float64(bestDen), threshold, nil
}
