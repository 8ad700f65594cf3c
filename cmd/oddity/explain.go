package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/viz"
)

// mapsBatch bounds the images mapped at once, and so the memory of the
// maps.
const mapsBatch = 256

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
	for lo := 0; lo < len(rows); lo += mapsBatch {
		idx := rows[lo:min(lo+mapsBatch, len(rows))]
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
