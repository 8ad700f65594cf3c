package deepcluster

import (
	"context"
	"fmt"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/kmeans"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/tensor"
	"github.com/oddity-ml/oddity/umap"
)

// manifoldNeighbors is N2D's neighbourhood size for MNIST, the default of
// Options.ManifoldNeighbors.
const manifoldNeighbors = 20

// ManifoldSettings returns the neighbourhood size and layout dimension of
// the manifold mode that o asks for, zeros resolved to their defaults (20,
// and K).
func ManifoldSettings(o Options) (neighbors, dim int) {
	neighbors, dim = o.ManifoldNeighbors, o.ManifoldDim
	if neighbors == 0 {
		neighbors = manifoldNeighbors
	}
	if dim == 0 {
		dim = o.K
	}
	return neighbors, dim
}

// clusterManifold is the manifold mode's clustering (N2D: McConville,
// Santos-Rodriguez, Piechocki and Craddock, ICPR 2020; docs/methods.md §3):
// after pretraining, the codes z of all n images are laid out by UMAP with
// ManifoldNeighbors neighbours, minimum distance 0 and ManifoldDim
// dimensions, and k-means (best of KMeansInit k-means++ runs) clusters the
// layout. The centroids kept with the model are the mean codes of the
// clusters, so new images are assigned and scored in the code space as in
// the DCEC mode. No clustering loss fine-tunes the network afterwards.
func (t *Trainer) clusterManifold(ctx context.Context, m *Model, x *data.Dataset, res *Result, report func(string, int, int, map[string]float64)) error {
	cfg := m.Options
	start := time.Now()
	z, err := m.embed(ctx, x)
	if err != nil {
		return err
	}
	d := m.EmbeddingSize()
	nb, dim := ManifoldSettings(cfg)
	if nb > x.N {
		return fmt.Errorf("%w: %d manifold neighbours for %d images", ErrInput, nb, x.N)
	}
	lay, err := umap.Embed(ctx, z, x.N, d, umap.Options{
		Neighbors: nb, Components: dim, MinDist: 0, Seed: cfg.Seed,
		OnEpoch: func(done, total int) {
			if done%10 == 0 || done == total {
				report("manifold", done, total, nil)
			}
		},
	})
	if err != nil {
		return fmt.Errorf("deepcluster: manifold layout: %w", err)
	}
	km, err := kmeans.Fit(ctx, lay.Y, x.N, dim, kmeans.Options{K: cfg.K, NInit: cfg.KMeansInit, Seed: cfg.Seed})
	if err != nil {
		return fmt.Errorf("deepcluster: k-means of the manifold layout: %w", err)
	}
	m.Centroids = clusterMeans(z, km.Labels, x.N, d, cfg.K)
	res.InitLabels = km.Labels
	res.Labels = km.Labels
	res.Embedding = z
	res.Q = SoftAssign(nil, tensor.FromData(z, x.N, d), m.Centroids, cfg.Alpha).Data
	res.Timings.Init = time.Since(start).Seconds()
	if t.Labels != nil {
		var cp Checkpoint
		cp.ACC, _ = metrics.ACC(t.Labels, res.Labels)
		cp.NMI, _ = metrics.NMI(t.Labels, res.Labels, metrics.Arithmetic)
		res.History = append(res.History, cp)
		report("final", 1, 1, map[string]float64{"acc": cp.ACC, "nmi": cp.NMI})
	}
	return nil
}
