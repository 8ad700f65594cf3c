package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/tsne"
	"github.com/oddity-ml/oddity/viz"
)

// vizCmd groups the picture commands.
var vizCmd = &cobra.Command{
	Use:   "viz",
	Short: "Draw pictures of data sets and embeddings",
}

func init() {
	var (
		dataName, out, split string
		n                    int
		seed                 uint64
		perplexity           float64
		iters, pcaDims       int
	)
	cmd := &cobra.Command{
		Use:   "tsne --data NAME|PATH --out FILE.png",
		Short: "Embed a data set in 2-D with Barnes-Hut t-SNE and plot it coloured by label",
		Example: `  oddity viz tsne --data mnist --n 10000 --out mnist-tsne.png
  oddity viz tsne --data coil20 --perplexity 20 --out coil.svg`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := catalog.Load(dataName)
			if err != nil {
				return err
			}
			d := s.Train
			switch split {
			case "test":
				if s.Test == nil {
					return fmt.Errorf("%s has no test split", dataName)
				}
				d = s.Test
			case "all":
				if d, err = s.All(); err != nil {
					return err
				}
			case "train":
			default:
				return fmt.Errorf("--split must be train, test or all, got %q", split)
			}
			if n > 0 && n < d.N {
				r := rand.New(rand.NewPCG(seed, 0x7e5e))
				idx := r.Perm(d.N)[:n]
				if d, err = d.Subset(idx); err != nil {
					return err
				}
			}
			bar := progress.New("t-SNE "+d.Name, iters)
			last := 0
			start := time.Now()
			res, err := tsne.Embed(cmd.Context(), d.X, d.N, d.Dim(), tsne.Options{
				Perplexity: perplexity, Iterations: iters, Seed: seed, PCADims: pcaDims,
				OnProgress: func(p tsne.Progress) {
					if p.Iter > last {
						bar.Add(p.Iter-last, map[string]float64{"KL": p.KL})
						last = p.Iter
					}
				},
			})
			bar.Finish()
			if err != nil {
				return err
			}
			xs, ys := res.Coords()
			labels := d.Y
			if labels == nil {
				labels = make([]int, d.N)
			}
			if dir := filepath.Dir(out); dir != "." {
				if err := os.MkdirAll(dir, 0o755); err != nil {
					return err
				}
			}
			title := fmt.Sprintf("t-SNE of %s (%d points, perplexity %g)", d.Name, d.N, perplexity)
			if err := viz.Scatter(out, title, xs, ys, labels, viz.ScatterOptions{Names: d.ClassNames}); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d points, KL %.3f, %s)\n", out, d.N, res.KL, time.Since(start).Round(time.Second))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataName, "data", "mnist", "data set: "+fmt.Sprint(catalog.Names())+" or a file path")
	f.StringVar(&split, "split", "test", "which part of a data set with an official split: train, test or all")
	f.StringVar(&out, "out", "tsne.png", "output picture (.png or .svg)")
	f.IntVar(&n, "n", 10000, "embed a seeded random subset of this many points (0: all)")
	f.Uint64Var(&seed, "seed", 0, "random seed (subset and t-SNE)")
	f.Float64Var(&perplexity, "perplexity", 30, "t-SNE perplexity")
	f.IntVar(&iters, "iterations", 1000, "t-SNE iterations")
	f.IntVar(&pcaDims, "pca", 0, "reduce to this many PCA dimensions before the neighbour search (0: none)")
	vizCmd.AddCommand(cmd)
	rootCmd.AddCommand(vizCmd)
}
