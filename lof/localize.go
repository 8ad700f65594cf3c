package lof

import (
	"context"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
)

// Localize implements detector.Localizer for a detector fitted on images
// (samples of shape [C, H, W]): explain.NeighbourMaps, each image's squared
// difference from the mean of its k nearest training images, smoothed.
// Those are the neighbours whose densities LOF compares the image's with,
// so the map says where the image departs from them.
func (d *Detector) Localize(ctx context.Context, x *data.Dataset) (*data.Dataset, error) {
	if err := detector.CheckScore(ctx, d.index != nil, x, d.shape); err != nil {
		return nil, err
	}
	return explain.NeighbourMaps(ctx, d.index, d.x, d.shape, d.Options.K, x)
}
