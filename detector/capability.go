package detector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/oddity-ml/oddity/data"
)

// Optional capabilities. A detector that can do more than score says so by
// implementing one of these small interfaces; callers find them by type
// assertion, as net/http finds an http.Flusher:
//
//	if e, ok := det.(detector.Embedder); ok { codes, dim, err := e.Embed(ctx, x) ... }
//
// The benchmark runner uses Embedder for its t-SNE pictures and
// Reconstructor for its reconstruction grids; the explanation interfaces
// (per-feature attributions, per-pixel anomaly maps) join them here.

// Embedder is a fitted detector with a latent space: Embed returns one
// code of dim values per sample of x, row-major.
type Embedder interface {
	Embed(ctx context.Context, x *data.Dataset) (codes []float32, dim int, err error)
}

// Reconstructor is a fitted detector that reconstructs its input:
// Reconstruct returns x's samples as the network sees them (after the
// method's own preprocessing, such as padding to the network's side) and
// as it rebuilds them, both of the same shape, so the two compare pixel
// for pixel.
type Reconstructor interface {
	Reconstruct(ctx context.Context, x *data.Dataset) (in, out *data.Dataset, err error)
}

// ErrInput is wrapped by errors about unusable samples: a non-finite
// value, an empty set, or values a method cannot take.
var ErrInput = errors.New("detector: unusable input")

// CheckInput is what every detector's Score (and Fit) checks first: x is a
// valid data set of finite values, and, when shape is not nil, its samples
// have that shape. A shape mismatch wraps ErrSchema; a malformed set or a
// non-finite value wraps ErrInput.
func CheckInput(x *data.Dataset, shape []int) error {
	if x == nil {
		return fmt.Errorf("%w: no data", ErrInput)
	}
	if shape != nil && !slices.Equal(x.Shape, shape) {
		return fmt.Errorf("%w: the detector was fitted on samples of shape %v, got %v", ErrSchema, shape, x.Shape)
	}
	if err := x.Validate(); err != nil {
		return fmt.Errorf("%w: %v", ErrInput, err)
	}
	return nil
}

// CheckTrainSet is what a detector's Fit checks first: ts.X is a valid,
// non-empty data set of finite values (wrapping ErrInput otherwise) and
// the labelled anomalies, when there are any, are finite samples of the
// same shape (wrapping ErrSchema or ErrInput).
func CheckTrainSet(ts TrainSet) error {
	if err := CheckInput(ts.X, nil); err != nil {
		return err
	}
	if ts.X.N == 0 {
		return fmt.Errorf("%w: no unlabelled training data", ErrInput)
	}
	if ts.Anomalies != nil && ts.Anomalies.N > 0 {
		if err := CheckInput(ts.Anomalies, ts.X.Shape); err != nil {
			return fmt.Errorf("labelled anomalies: %w", err)
		}
	}
	return nil
}

// CheckScore is what a detector's Score (and Embed, Reconstruct) checks
// first: the detector is fitted (ErrNotFitted), x passes CheckInput for
// the training sample shape, and ctx is not done.
func CheckScore(ctx context.Context, fitted bool, x *data.Dataset, shape []int) error {
	if !fitted {
		return ErrNotFitted
	}
	if err := CheckInput(x, shape); err != nil {
		return err
	}
	return ctx.Err()
}

// CheckFit is what a detector's Fit checks first: its options validate,
// ts passes CheckTrainSet, and ctx is not done.
func CheckFit(ctx context.Context, opts Options, ts TrainSet) error {
	if err := opts.Validate(); err != nil {
		return err
	}
	if err := CheckTrainSet(ts); err != nil {
		return err
	}
	return ctx.Err()
}

// Attributions explain scores feature by feature: Values[i*D+j] is
// feature j's contribution to sample i's score. A positive value pushes
// the score up (towards anomalous); a larger magnitude matters more.
type Attributions struct {
	// N is the number of samples, D the number of features of each.
	N, D int
	// Values holds N×D attributions, row-major.
	Values []float32
	// Offset, when not nil, completes a decomposition of the score:
	// Score(x_i) ≈ Offset[i] + Σ_j Values[i*D+j]. Integrated gradients set
	// it to the baseline's score, per-feature sums to 0, Shapley estimates
	// to the background's mean score. It is nil when the attributions rank
	// features without adding up to the score (Isolation Forest's
	// path-based attributions).
	Offset []float64
	// Technique names how they were computed: "path", "reconstruction",
	// "integrated-gradients", "shapley", "exact".
	Technique string
}

// Row returns sample i's attributions, sharing storage.
func (a *Attributions) Row(i int) []float32 { return a.Values[i*a.D : (i+1)*a.D] }

// Explainer is a fitted tabular detector that attributes its scores to
// features. background holds typical normal samples of the training
// shape (a model keeps a sample of its training rows for this): methods
// that need a reference point use it (integrated gradients start from its
// per-feature median; Shapley estimates draw replacement values from it),
// and methods whose score is a sum over features ignore it. Explain is
// safe for concurrent use, as Score is. Package explain gives a
// model-agnostic Shapley estimate for detectors that do not implement it.
type Explainer interface {
	Explain(ctx context.Context, x, background *data.Dataset) (*Attributions, error)
}

// Localizer is a fitted image detector that says where in an image the
// anomaly lies: Localize returns one anomaly map per sample of x, of
// shape [H, W] for samples of shape [C, H, W] (channels combined, the
// method's own padding or resizing undone), higher meaning more anomalous.
// It is safe for concurrent use, as Score is.
type Localizer interface {
	Localize(ctx context.Context, x *data.Dataset) (maps *data.Dataset, err error)
}

// TrainScorer is a fitted detector whose scores of its own training rows
// differ from Score's: a neighbour method scoring a training row counts
// the row as its own neighbour at distance 0, so Score(train) is biased
// low, while TrainScores gives each training row's leave-one-out score
// (scikit-learn's negative_outlier_factor_, PyOD's decision_scores_).
// Fit takes the threshold quantiles from TrainScores when a detector has
// it, so a contamination threshold means on new rows what it says.
type TrainScorer interface {
	TrainScores() []float64
}

// NonFiniteError reports scores that are NaN or infinite, naming the rows:
// CheckScores returns it, and the CLI, the server and the Beam pipelines
// refuse such scores with it, so a non-finite score is never reported as a
// result. It wraps ErrInput: inputs far outside what a model was trained
// on (values of 1e25 overflow a network's activations) give them.
type NonFiniteError struct {
	// Bad of Total scores are non-finite; Rows are the first ten of them,
	// as indices counted from the CheckScores' first.
	Bad, Total int
	Rows       []int64
}

func (e *NonFiniteError) Error() string {
	rows := make([]string, len(e.Rows))
	for i, r := range e.Rows {
		rows[i] = strconv.FormatInt(r, 10)
	}
	list := strings.Join(rows, ", ")
	if e.Bad > len(e.Rows) {
		list += fmt.Sprintf(" and %d more", e.Bad-len(e.Rows))
	}
	return fmt.Sprintf("the model gave a non-finite score (NaN or infinite) for %d of %d samples, rows %s (counting from 0): such inputs lie far outside what the model was trained on",
		e.Bad, e.Total, list)
}

// Unwrap returns ErrInput.
func (e *NonFiniteError) Unwrap() error { return ErrInput }

// CheckScores returns a *NonFiniteError naming the rows (first + index)
// whose score is NaN or infinite, or nil when every score is finite.
func CheckScores(scores []float64, first int64) error {
	e := &NonFiniteError{Total: len(scores)}
	for i, v := range scores {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			if e.Bad < 10 {
				e.Rows = append(e.Rows, first+int64(i))
			}
			e.Bad++
		}
	}
	if e.Bad == 0 {
		return nil
	}
	return e
}
