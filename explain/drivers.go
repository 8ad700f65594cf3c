package explain

import (
	"context"
	"fmt"
	"strings"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
)

// Driver is one column's contribution to a sample's score: positive pushes
// the score up (towards anomalous).
type Driver struct {
	Column       string  `json:"column"`
	Contribution float64 `json:"contribution"`
}

// driversBatch bounds the samples explained at once, and so the memory of
// an explanation (Shapley estimates score tens of thousands of rows per
// sample).
const driversBatch = 256

// Drivers returns the k columns that drive each sample of x named by rows
// (every sample when rows is nil) the most, with their contributions, as
// model m explains them (Attribute: the detector's own attributions, or a
// Shapley estimate over the model's background rows). A model with a table
// pipeline gets its attributions summed back to the original columns
// (BySource): "country", not "country=FR". It is what `oddity score
// --explain`, `oddity detect` and the Beam scoring pipeline print.
func Drivers(ctx context.Context, m *detector.Model, x *data.Dataset, rows []int, k int) ([][]Driver, error) {
	if len(m.Schema.Shape) != 1 {
		return nil, fmt.Errorf("%w: explanations by column are for tables; images get anomaly maps", detector.ErrInput)
	}
	source, err := featureSources(m, x)
	if err != nil {
		return nil, err
	}
	if rows == nil {
		rows = make([]int, x.N)
		for i := range rows {
			rows[i] = i
		}
	}
	out := make([][]Driver, 0, len(rows))
	for lo := 0; lo < len(rows); lo += driversBatch {
		part, err := x.Subset(rows[lo:min(lo+driversBatch, len(rows))])
		if err != nil {
			return nil, err
		}
		a, err := Attribute(ctx, m.Detector, part, m.Background, Options{})
		if err != nil {
			if m.Background == nil {
				return nil, fmt.Errorf("%w (the model has no background rows, which explanations of %s need: it was saved before oddity kept them; train it again)", err, m.Detector.Method())
			}
			return nil, err
		}
		by, names, err := BySource(a, source)
		if err != nil {
			return nil, err
		}
		for i := 0; i < by.N; i++ {
			var ds []Driver
			for _, j := range TopK(by, i, k) {
				ds = append(ds, Driver{Column: names[j], Contribution: float64(by.Row(i)[j])})
			}
			out = append(out, ds)
		}
	}
	return out, nil
}

// featureSources maps each feature of the model's input to the column it
// comes from: the pipeline's source column, or the feature's own name.
func featureSources(m *detector.Model, x *data.Dataset) (func(int) string, error) {
	if m.Pipeline != nil {
		p, err := table.Unmarshal(m.Pipeline)
		if err != nil {
			return nil, err
		}
		return p.Source, nil
	}
	names := m.Schema.FeatureNames
	if len(names) != x.Dim() {
		names = x.FeatureNames
	}
	return func(j int) string {
		if j < len(names) && names[j] != "" {
			return names[j]
		}
		return fmt.Sprintf("x%d", j)
	}, nil
}

// FormatDrivers writes drivers as "amount +0.41, country +0.22".
func FormatDrivers(ds []Driver) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%s %+.3g", d.Column, d.Contribution)
	}
	return strings.Join(parts, ", ")
}
