package explain

import (
	"context"
	"fmt"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/neighbors"
)

// NeighbourMapSigma is the standard deviation, in pixels, of the Gaussian
// that NeighbourMaps smooths with: 2, as the maps of GANomaly, the CAE and
// deep clustering (docs/methods.md §7).
const NeighbourMapSigma = 2.0

// neighbourChunk bounds the images searched at once, and so the memory of
// one search's result.
const neighbourChunk = 4096

// NeighbourMaps draws the anomaly maps of a neighbour detector (kNN, LOF)
// fitted on images of shape [C, H, W]: each image's map is its squared
// difference from the mean of its k nearest training images (train, the
// rows ix indexes), summed over channels and smoothed (NeighbourMapSigma).
// Those neighbours are what the score compares the image with, so the map
// says where in the image the score's distance comes from.
//
// An image at distance exactly 0 from its nearest training image is taken
// to be that image and is left out of its own neighbours, as the
// detectors' leave-one-out training scores leave it out; otherwise the
// map of every training image would be blank.
func NeighbourMaps(ctx context.Context, ix *neighbors.Index, train []float32, shape []int, k int, x *data.Dataset) (*data.Dataset, error) {
	if len(shape) != 3 {
		return nil, fmt.Errorf("%w: anomaly maps need images (samples of shape [C, H, W]); this model's samples have shape %v", detector.ErrInput, shape)
	}
	c, h, w := shape[0], shape[1], shape[2]
	d, n := ix.Dim(), ix.Len()
	if d != c*h*w || len(train) != n*d || x.Dim() != d {
		return nil, fmt.Errorf("%w: %d training values, index of %d×%d, images of %d values: not samples of shape %v", detector.ErrInput, len(train), n, d, x.Dim(), shape)
	}
	q := min(k+1, n)
	maps := &data.Dataset{Name: x.Name + " maps", N: x.N, Shape: []int{h, w}, X: make([]float32, x.N*h*w)}
	mean := make([]float64, d)
	raw := make([]float32, h*w)
	for i0 := 0; i0 < x.N; i0 += neighbourChunk {
		m := min(neighbourChunk, x.N-i0)
		res, err := ix.Search(ctx, x.X[i0*d:(i0+m)*d], m, q)
		if err != nil {
			return nil, err
		}
		for i := range m {
			nb, dist := res.Index[i*q:(i+1)*q], res.Dist[i*q:(i+1)*q]
			if dist[0] == 0 && q > k {
				nb = nb[1:] // the image itself
			}
			nb = nb[:min(k, len(nb))]
			clear(mean)
			for _, j := range nb {
				for l, v := range train[int(j)*d : (int(j)+1)*d] {
					mean[l] += float64(v)
				}
			}
			img := x.X[(i0+i)*d : (i0+i+1)*d]
			clear(raw)
			for l, v := range img {
				r := float64(v) - mean[l]/float64(len(nb))
				raw[l%(h*w)] += float32(r * r)
			}
			GaussianBlur(maps.X[(i0+i)*h*w:(i0+i+1)*h*w], raw, h, w, NeighbourMapSigma)
		}
	}
	return maps, nil
}
