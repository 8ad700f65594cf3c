package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
	"github.com/oddity-ml/oddity/viz"
)

// driver is one column's contribution to a sample's score: positive
// pushes the score up (towards anomalous).
type driver struct {
	Column       string  `json:"column"`
	Contribution float64 `json:"contribution"`
}

// explainBatch bounds the samples explained at once, and so the memory of
// an explanation (Shapley estimates score tens of thousands of rows per
// sample).
const explainBatch = 256

// explainRows returns the k columns that drive each sample of x named by
// rows (every sample when rows is nil) the most, with their contributions,
// as model m explains them (package explain: the detector's own
// attributions, or a Shapley estimate over the model's background rows).
// A model with a table pipeline gets its attributions summed back to the
// original columns: "country", not "country=FR".
func explainRows(ctx context.Context, m *detector.Model, x *data.Dataset, rows []int, k int) ([][]driver, error) {
	if len(m.Schema.Shape) != 1 {
		return nil, fmt.Errorf("explanations by column are for tables; for images use --maps DIR (anomaly maps)")
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
	out := make([][]driver, 0, len(rows))
	for lo := 0; lo < len(rows); lo += explainBatch {
		part, err := x.Subset(rows[lo:min(lo+explainBatch, len(rows))])
		if err != nil {
			return nil, err
		}
		a, err := explain.Attribute(ctx, m.Detector, part, m.Background, explain.Options{})
		if err != nil {
			if m.Background == nil {
				return nil, fmt.Errorf("%w (the model has no background rows, which explanations of %s need: it was saved before oddity kept them; train it again)", err, m.Detector.Method())
			}
			return nil, err
		}
		by, names, err := explain.BySource(a, source)
		if err != nil {
			return nil, err
		}
		for i := 0; i < by.N; i++ {
			var ds []driver
			for _, j := range explain.TopK(by, i, k) {
				ds = append(ds, driver{Column: names[j], Contribution: float64(by.Row(i)[j])})
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

// formatDrivers writes drivers as "amount +0.41, country +0.22".
func formatDrivers(ds []driver) string {
	parts := make([]string, len(ds))
	for i, d := range ds {
		parts[i] = fmt.Sprintf("%s %+.3g", d.Column, d.Contribution)
	}
	return strings.Join(parts, ", ")
}

// writeMaps writes an anomaly-map overlay (PNG) for each sample of x named
// by rows into dir, named after names[i] (or the sample's index), and
// returns the files written. The model's detector must be a
// detector.Localizer.
func writeMaps(ctx context.Context, m *detector.Model, x *data.Dataset, rows []int, names []string, dir string) ([]string, error) {
	loc, ok := m.Detector.(detector.Localizer)
	if !ok {
		return nil, fmt.Errorf("--maps: %s does not make anomaly maps (the image detectors ganomaly, cae and deepcluster do)", m.Detector.Method())
	}
	if len(x.Shape) != 3 {
		return nil, errors.New("--maps: anomaly maps are for images")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if rows == nil {
		rows = make([]int, x.N)
		for i := range rows {
			rows[i] = i
		}
	}
	c, h, w := x.Shape[0], x.Shape[1], x.Shape[2]
	var files []string
	for lo := 0; lo < len(rows); lo += explainBatch {
		idx := rows[lo:min(lo+explainBatch, len(rows))]
		part, err := x.Subset(idx)
		if err != nil {
			return nil, err
		}
		maps, err := loc.Localize(ctx, part)
		if err != nil {
			return nil, err
		}
		for k, i := range idx {
			name := fmt.Sprintf("%06d", i)
			if names != nil && names[i] != "" {
				name = strings.TrimSuffix(filepath.Base(names[i]), filepath.Ext(names[i]))
			}
			path := filepath.Join(dir, name+".map.png")
			if err := viz.Overlay(path, part.Row(k), maps.Row(k), viz.OverlayOptions{Channels: c, Height: h, Width: w}); err != nil {
				return nil, err
			}
			files = append(files, path)
		}
	}
	return files, nil
}
