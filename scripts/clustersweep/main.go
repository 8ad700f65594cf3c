// Command clustersweep pretrains one deep clustering autoencoder and then
// fine-tunes copies of it with several settings, so that fine-tuning choices
// are compared on the same embedding (and k-means on the pretrained
// embedding, raw and L2-normalised, is reported beside them). It is how the
// COIL-20 schedule of the full suite was chosen (docs/results/README.md):
//
//	go run ./scripts/clustersweep --data coil20 --k 20 --z 10 --batch 32 --epochs 100 \
//	    --v base,g1,kml,t45,alpha,g1+t45
//
// Its flags are deep clustering's options as package deepcluster declares
// them (the sweep's defaults differ: k 20, batch 32, 100 epochs, 4,000
// fine-tuning steps per variant), plus --data, --seed and --v.
//
// A variant is a "+"-joined list of changes to the fine-tuning
// configuration: base (none), g1 / g03 (gamma 1 / 0.3), kml (k-means loss),
// fk (final k-means), b256 (batch 256), t20 / t45 (target update every 20 /
// 45 steps), alpha (the alpha schedule), lr1e4 (fine-tuning rate 1e-4).
//
// The pretrained network takes one fine-tuning step before it is copied
// (deepcluster.Trainer always runs at least one), so its k-means start can
// differ from `oddity cluster`'s with the same settings.
package main

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/deepcluster"
	"github.com/oddity-ml/oddity/kmeans"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/option"
	"github.com/spf13/pflag"
)

func main() {
	fs := pflag.NewFlagSet("clustersweep", pflag.ExitOnError)
	o := deepcluster.DefaultOptions()
	o.K, o.BatchSize, o.PretrainEpochs, o.MaxSteps = 20, 32, 100, 4000
	option.Bind(fs, &o)
	seed := fs.Uint64("seed", 0, "seed of weights, batch order and k-means")
	ds := fs.String("data", "coil20", "catalog data set")
	variants := fs.String("v", "base", "comma-separated variants (see the package doc)")
	_ = fs.Parse(os.Args[1:])
	k, z, batch, epochs, maxSteps := o.K, o.Embedding, o.BatchSize, o.PretrainEpochs, o.MaxSteps
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *ds, k, z, batch, epochs, maxSteps, *seed, strings.Split(*variants, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "clustersweep:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, ds string, k, z, batch, epochs, maxSteps int, seed uint64, variants []string) error {
	sp, err := catalog.Load(ds)
	if err != nil {
		return err
	}
	x, err := sp.All()
	if err != nil {
		return err
	}
	if x.Y == nil {
		return fmt.Errorf("%s has no labels to measure the clustering with", ds)
	}
	// Check every variant before an hour of pretraining.
	base := deepcluster.DefaultOptions()
	base.K, base.Embedding, base.Seed, base.PretrainEpochs, base.BatchSize, base.MaxSteps, base.Tol = k, z, seed, epochs, batch, 1, -1
	cfgs := make([]deepcluster.Options, len(variants))
	for i, v := range variants {
		if cfgs[i], err = variant(base, v, maxSteps); err != nil {
			return err
		}
	}
	t0 := time.Now()
	m, res, err := (&deepcluster.Trainer{Options: base}).Fit(ctx, x)
	if err != nil {
		return err
	}
	fmt.Printf("pretrain %s z=%d batch=%d epochs=%d seed=%d: %.0f s, last loss %.5f, k-means start ACC %.4f\n",
		ds, z, batch, epochs, seed, time.Since(t0).Seconds(), res.PretrainLoss[len(res.PretrainLoss)-1], score(metrics.ACC(x.Y, res.InitLabels)))
	saved := make([][]float32, 0)
	for _, p := range m.Net.Parameters() {
		saved = append(saved, append([]float32(nil), p.Data...))
	}
	emb, err := m.Embed(ctx, x)
	if err != nil {
		return err
	}
	for _, norm := range []bool{false, true} {
		e := append([]float32(nil), emb...)
		if norm {
			l2normalise(e, x.N, z)
		}
		km, err := kmeans.Fit(ctx, e, x.N, z, kmeans.Options{K: k, NInit: 20, Seed: seed})
		if err != nil {
			return err
		}
		fmt.Printf("  k-means on the embedding (L2-normalised %v): ACC %.4f NMI %.4f\n", norm,
			score(metrics.ACC(x.Y, km.Labels)), score(metrics.NMI(x.Y, km.Labels, metrics.Arithmetic)))
	}
	for i, c := range cfgs {
		ae, err := deepcluster.NewAutoencoder(x.Shape[0], x.Shape[1], z, rand.New(rand.NewPCG(seed, 1)))
		if err != nil {
			return err
		}
		for j, p := range ae.Parameters() {
			copy(p.Data, saved[j])
		}
		t1 := time.Now()
		_, r, err := (&deepcluster.Trainer{Options: c, Net: ae, Labels: x.Y}).Fit(ctx, x)
		if err != nil {
			return err
		}
		fmt.Printf("  variant %-14s start %.4f final ACC %.4f NMI %.4f, %d steps (converged %v), %.0f s\n", variants[i],
			score(metrics.ACC(x.Y, r.InitLabels)), score(metrics.ACC(x.Y, r.Labels)), score(metrics.NMI(x.Y, r.Labels, metrics.Arithmetic)),
			r.Steps, r.Converged, time.Since(t1).Seconds())
	}
	return nil
}

// variant applies the "+"-joined changes of v to the fine-tuning
// configuration.
func variant(c deepcluster.Options, v string, maxSteps int) (deepcluster.Options, error) {
	c.MaxSteps, c.Tol, c.NoPretrain = maxSteps, 0.001, true
	for _, ch := range strings.Split(v, "+") {
		switch ch {
		case "base":
		case "g1":
			c.Gamma = 1
		case "g03":
			c.Gamma = 0.3
		case "kml":
			c.Loss = "kmeans"
		case "fk":
			c.Final = "kmeans"
		case "b256":
			c.BatchSize = 256
		case "t20":
			c.UpdateInterval = 20
		case "t45":
			c.UpdateInterval = 45
		case "alpha":
			c.Schedule = "alpha"
		case "lr1e4":
			c.FinetuneLR = 1e-4
		default:
			return c, fmt.Errorf("unknown variant part %q in %q", ch, v)
		}
	}
	return c, c.Validate()
}

func l2normalise(e []float32, n, d int) {
	for i := 0; i < n; i++ {
		row := e[i*d : (i+1)*d]
		var s float64
		for _, v := range row {
			s += float64(v) * float64(v)
		}
		s = math.Sqrt(s) + 1e-12
		for j := range row {
			row[j] = float32(float64(row[j]) / s)
		}
	}
}

// score drops the error of a measure whose inputs are known to be valid.
func score(v float64, err error) float64 {
	if err != nil {
		return math.NaN()
	}
	return v
}
