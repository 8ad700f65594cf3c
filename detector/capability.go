package detector

import (
	"context"
	"errors"
	"fmt"
	"slices"

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
