package knn

import (
	"context"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
)

// Localize implements detector.Localizer for a detector fitted on images
// (samples of shape [C, H, W]): explain.NeighbourMaps, each image's squared
// difference from the mean of its k nearest training images, smoothed. It
// is the score's own account of the image: the score is the distance to
// those neighbours, and the map says where in the image it comes from.
func (d *Detector) Localize(ctx context.Context, x *data.Dataset) (*data.Dataset, error) {
	if err := detector.CheckScore(ctx, d.index != nil, x, d.shape); err != nil {
		return nil, err
	}
	return explain.NeighbourMaps(ctx, d.index, d.x, d.shape, d.Options.K, x)
}
