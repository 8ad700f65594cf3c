// Command umapbench times oddity's UMAP (package umap) on the points that
// scripts/reference/umap_time.py writes and times umap-learn on, with the
// manifold mode's settings (20 neighbours, minimum distance 0, 10
// dimensions), and prints the k-means ACC and NMI of the layout (k: the
// number of distinct labels) against the points' labels, as the Python
// side does.
//
//	/usr/bin/python3 scripts/reference/umap_time.py --n 20000 --dir /tmp/umapbench
//	go run ./scripts/umapbench /tmp/umapbench/points.npz
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"slices"
	"time"

	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all"
	"github.com/oddity-ml/oddity/kmeans"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/umap"
)

func main() {
	seed := flag.Uint64("seed", 0, "seed of the layout and of k-means")
	flag.Parse()
	if flag.NArg() != 1 {
		log.Fatal("usage: umapbench [-seed S] POINTS.npz")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ds, err := data.Load(flag.Arg(0))
	if err != nil {
		log.Fatal(err)
	}
	if ds.Y == nil {
		log.Fatalf("%s has no labels", flag.Arg(0))
	}
	d := len(ds.X) / ds.N
	t0 := time.Now()
	res, err := umap.Embed(ctx, ds.X, ds.N, d, umap.Options{Neighbors: 20, Components: 10, MinDist: 0, Seed: *seed})
	if err != nil {
		log.Fatal(err)
	}
	secs := time.Since(t0).Seconds()
	// As many clusters as the points have labels (10 for MNIST, as the
	// Python side assumes).
	k := len(slices.Compact(slices.Sorted(slices.Values(ds.Y))))
	km, err := kmeans.Fit(ctx, res.Y, ds.N, 10, kmeans.Options{K: k, NInit: 10, Seed: *seed})
	if err != nil {
		log.Fatal(err)
	}
	acc, err := metrics.ACC(ds.Y, km.Labels)
	if err != nil {
		log.Fatal(err)
	}
	nmi, err := metrics.NMI(ds.Y, km.Labels, metrics.Arithmetic)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("oddity umap, seed %d: %d points, %.1f s, k-means ACC %.4f NMI %.4f\n", *seed, ds.N, secs, acc, nmi)
}
