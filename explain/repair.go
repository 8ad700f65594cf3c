package explain

import (
	"context"
	"fmt"
	"math"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// RepairOptions tunes Repair. The zero value is the default.
type RepairOptions struct {
	// BatchRows bounds the rows given to one Score call (4096 when 0), and
	// so the memory: about BatchRows×d values.
	BatchRows int
}

// Repair attributes a detector's score of each sample to the feature whose
// repair lowers it most: feature j gets
//
//	score(x) − min_b score(x with x_j replaced by b_j),
//
// b over the background rows (typical normal data): how much of the
// anomaly goes away when that one feature alone is given a normal value.
// It is model-agnostic, like Shapley, but asks a counterfactual question
// rather than sharing the score out, and it is the one that finds a
// broken dependency: when a value is typical on its own but does not fit
// the others (copied from another row), putting a value that fits back in
// that feature repairs the row, while changing any one of the features it
// no longer agrees with repairs little, as long as they agree among
// themselves. Values are at least 0 (a feature whose every repair scores
// higher gets 0); they do not add up to the score, so Offset is nil.
// Technique is "repair". Cost: d × (background rows) scored rows per
// sample, batched.
func Repair(ctx context.Context, d detector.Detector, x, background *data.Dataset, o RepairOptions) (*detector.Attributions, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: no detector to explain", detector.ErrInput)
	}
	if err := detector.CheckInput(x, nil); err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	if background == nil || background.N == 0 {
		return nil, fmt.Errorf("%w: repair needs background rows of typical normal data", detector.ErrInput)
	}
	if err := detector.CheckInput(background, x.Shape); err != nil {
		return nil, fmt.Errorf("explain: background: %w", err)
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 4096
	}
	dim, nb := x.Dim(), background.N
	a := &detector.Attributions{N: x.N, D: dim, Values: make([]float32, x.N*dim), Technique: "repair"}
	if x.N == 0 {
		return a, nil
	}
	base, err := d.Score(ctx, x)
	if err != nil {
		return nil, err
	}
	// One batch holds whole (sample, feature) groups of nb rows.
	per := max(1, o.BatchRows/nb)
	buf := &data.Dataset{Name: x.Name, Shape: x.Shape, X: make([]float32, 0, per*nb*dim)}
	type job struct{ i, j int }
	var jobs []job
	flush := func() error {
		if len(jobs) == 0 {
			return nil
		}
		buf.N = len(jobs) * nb
		s, err := d.Score(ctx, buf)
		if err != nil {
			return err
		}
		for k, jb := range jobs {
			best := math.Inf(1)
			for _, v := range s[k*nb : (k+1)*nb] {
				if v < best {
					best = v
				}
			}
			if math.IsNaN(best) || math.IsInf(best, 0) {
				return fmt.Errorf("%w: a repaired copy of sample %d scores %v", detector.ErrInput, jb.i, best)
			}
			a.Values[jb.i*dim+jb.j] = float32(max(0, base[jb.i]-best))
		}
		jobs, buf.X = jobs[:0], buf.X[:0]
		return nil
	}
	for i := 0; i < x.N; i++ {
		row := x.Row(i)
		for j := 0; j < dim; j++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			for b := 0; b < nb; b++ {
				buf.X = append(buf.X, row...)
				buf.X[len(buf.X)-dim+j] = background.Row(b)[j]
			}
			jobs = append(jobs, job{i, j})
			if len(jobs) == per {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return a, nil
}
