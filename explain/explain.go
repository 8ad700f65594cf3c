package explain

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
)

// Options tunes Attribute. The zero value is the default: a detector's
// own explanation where it has one, Shapley's defaults otherwise.
type Options struct {
	// Agnostic asks for the model-agnostic Shapley estimate even from a
	// detector that explains itself, for comparing the two.
	Agnostic bool
	// Shapley tunes the estimate used for detectors that do not implement
	// detector.Explainer (or for all, with Agnostic).
	Shapley ShapleyOptions
}

// Attribute explains d's scores of x feature by feature: with d's own
// Explain when d implements detector.Explainer (and o.Agnostic is false),
// otherwise with the Shapley estimate, background giving the replacement
// values. background holds typical normal rows of the training shape;
// detectors whose attributions need no reference ignore it, but Shapley
// refuses to run without it.
func Attribute(ctx context.Context, d detector.Detector, x, background *data.Dataset, o Options) (*detector.Attributions, error) {
	if d == nil {
		return nil, fmt.Errorf("%w: no detector to explain", detector.ErrInput)
	}
	if e, ok := d.(detector.Explainer); ok && !o.Agnostic {
		a, err := e.Explain(ctx, x, background)
		if err != nil {
			return nil, err
		}
		if err := check(a, x); err != nil {
			return nil, fmt.Errorf("explain: %s's attributions: %w", d.Method(), err)
		}
		return a, nil
	}
	return Shapley(ctx, d, x, background, o.Shapley)
}

// check verifies that a detector's attributions fit the samples they
// explain, so a faulty Explain is caught here and not as an index panic
// in whoever reads them.
func check(a *detector.Attributions, x *data.Dataset) error {
	switch {
	case a == nil:
		return fmt.Errorf("none returned")
	case a.N != x.N || a.D != x.Dim() || len(a.Values) != a.N*a.D:
		return fmt.Errorf("%d×%d values (%d stored) for %d samples of %d features", a.N, a.D, len(a.Values), x.N, x.Dim())
	case a.Offset != nil && len(a.Offset) != a.N:
		return fmt.Errorf("%d offsets for %d samples", len(a.Offset), a.N)
	}
	return nil
}

// TopK returns the indices of sample i's k features with the largest
// attributions, largest first; equal attributions keep feature order, so
// the result is deterministic. k is capped at the number of features. A
// feature with a negative attribution (pushing the score down) ranks below
// every positive one whatever its magnitude: the ranking answers "what
// makes this sample anomalous".
func TopK(a *detector.Attributions, i, k int) []int {
	if a == nil || i < 0 || i >= a.N || k <= 0 {
		return nil
	}
	row := a.Row(i)
	idx := make([]int, a.D)
	for j := range idx {
		idx[j] = j
	}
	slices.SortStableFunc(idx, func(p, q int) int { return cmp.Compare(row[q], row[p]) })
	return idx[:min(k, a.D)]
}

// BySource sums attributions over the features that come from the same
// source column, so that a user sees "country", not "country=FR" and
// "country=other". source(j) names feature j's column; data/table's
// Pipeline.Source is one (pass p.Source), and for names held in a slice
// pass func(j int) string { return names[j] }. The columns are returned
// in the order their first feature appears, with an N×len(columns)
// Attributions (Offset and Technique carried over: sums keep the
// decomposition). An empty source name is an error.
func BySource(a *detector.Attributions, source func(j int) string) (*detector.Attributions, []string, error) {
	if a == nil || len(a.Values) != a.N*a.D {
		return nil, nil, fmt.Errorf("%w: malformed attributions", detector.ErrInput)
	}
	col := make([]int, a.D)
	at := map[string]int{}
	var names []string
	for j := range col {
		s := source(j)
		if s == "" {
			return nil, nil, fmt.Errorf("%w: feature %d has no source column", detector.ErrSchema, j)
		}
		k, ok := at[s]
		if !ok {
			k = len(names)
			at[s] = k
			names = append(names, s)
		}
		col[j] = k
	}
	out := &detector.Attributions{N: a.N, D: len(names), Values: make([]float32, a.N*len(names)), Technique: a.Technique}
	if a.Offset != nil {
		out.Offset = slices.Clone(a.Offset)
	}
	sum := make([]float64, len(names))
	for i := 0; i < a.N; i++ {
		clear(sum)
		for j, v := range a.Row(i) {
			sum[col[j]] += float64(v)
		}
		for k, v := range sum {
			out.Values[i*out.D+k] = float32(v)
		}
	}
	return out, names, nil
}
