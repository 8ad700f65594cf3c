package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/deepcluster"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/progress"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/option"
	"github.com/oddity-ml/oddity/tsne"
	"github.com/oddity-ml/oddity/viz"
)

// clusterFlags are the options of `oddity cluster`.
type clusterFlags struct {
	data, out       string
	cfg             deepcluster.Options
	runs            int
	limit           int
	tsneN           int
	noPlots, asJSON bool
}

func init() {
	var f clusterFlags
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Deep clustering (DCEC layout): pretrain, k-means init, KL fine-tuning; metrics and plots",
		Long: `Trains the DCEC convolutional autoencoder on square grey or colour images,
initialises k centroids by k-means (best of 20 k-means++ runs) on the
embedding, fine-tunes with the clustering loss, and writes to --out:
model.oddity (loadable by 'oddity score'), assignments.csv, metrics.json,
tsne.png (embedding of a seeded random subset, coloured by true label and
by cluster) and reconstructions.png. With --runs N > 1 the seeds S..S+N-1
run one after the other into DIR/seed-S..., and the mean and spread of
every metric are printed.

Beyond the papers (docs/methods.md §3): --augment trains on randomly
shifted and rotated copies (DEC-DA); --manifold clusters a UMAP layout of
the pretrained codes with k-means instead of fine-tuning (N2D; the best
on the digits); --self-expressive runs deep subspace clustering (DSC-Net;
the best on COIL-20, at most 5,000 images). For anomaly scores, --score lof
(LOF on the encoder's hidden features) is the best with --manifold: mean
AUC-ROC 0.927 over MNIST's ten leave-one-digit-out splits.`,
		Example: `  oddity cluster --data usps --k 10 --out runs/usps
  oddity cluster --data coil20 --k 20 --runs 3 --out runs/coil20
  oddity cluster --data mnist --k 10 --epochs 15 --out runs/mnist
  oddity cluster --data my.npz --k 5 --loss kmeans --final kmeans --out runs/x
  oddity cluster --data mnist --k 10 --augment --manifold --epochs 30 --out runs/mnist-n2d
  oddity cluster --data my-digits/ --k 9 --augment --manifold --score lof --epochs 20 --out runs/digits
  oddity cluster --data coil20 --k 20 --self-expressive --epochs 100 --out runs/coil20-dsc`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runCluster(cmd, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.data, "data", "", "data set: mnist (all 70,000), usps (all 9,298), coil20 (1,440) or a path")
	fl.StringVar(&f.out, "out", "", "output folder (created)")
	fl.Uint64Var(&f.cfg.Seed, "seed", 0, "seed of the first run")
	fl.IntVar(&f.runs, "runs", 1, "number of seeds to run (seed, seed+1, ...)")
	f.cfg = deepcluster.DefaultOptions()
	option.Bind(fl, &f.cfg) // deep clustering's options, as its package declares them
	fl.IntVar(&f.limit, "limit", 0, "use only a seeded random subset of this many images (0: all)")
	fl.IntVar(&f.tsneN, "tsne-n", 5000, "points of the t-SNE plot (a seeded random subset when the data has more)")
	fl.BoolVar(&f.noPlots, "no-plots", false, "skip the t-SNE and reconstruction plots")
	fl.BoolVar(&f.asJSON, "json", false, "print the metrics as JSON")
	rootCmd.AddCommand(cmd)
}

// loadClusterData resolves a named data set through the catalog (all
// images, train and test joined) or loads a path.
func loadClusterData(name string) (*data.Dataset, error) {
	if name == "" {
		return nil, fmt.Errorf("--data is required (mnist, usps, coil20 or a path)")
	}
	s, err := catalog.Load(name)
	if err != nil {
		return nil, err
	}
	return s.All()
}

// clusterMetrics is metrics.json.
type clusterMetrics struct {
	Data     string              `json:"data"`
	N        int                 `json:"n"`
	Seed     uint64              `json:"seed"`
	Config   deepcluster.Options `json:"config"`
	ACC      float64             `json:"acc,omitempty"`
	NMIArith float64             `json:"nmi_arithmetic,omitempty"`
	NMIGeom  float64             `json:"nmi_geometric,omitempty"`
	ARI      float64             `json:"ari,omitempty"`
	InitACC  float64             `json:"init_acc,omitempty"`
	InitNMI  float64             `json:"init_nmi_arithmetic,omitempty"`
	// AltACC and AltNMI score the other final clustering (k-means re-run
	// when --final argmax, argmax q when --final kmeans) for comparison; in
	// the manifold mode, k-means on the codes without the layout.
	AltFinal  string                   `json:"alt_final,omitempty"`
	AltACC    float64                  `json:"alt_acc,omitempty"`
	AltNMI    float64                  `json:"alt_nmi_arithmetic,omitempty"`
	Steps     int                      `json:"finetune_steps"`
	Converged bool                     `json:"converged"`
	Timings   deepcluster.Timings      `json:"timings"`
	TotalS    float64                  `json:"total_train_s"`
	Pretrain  []float64                `json:"pretrain_loss"`
	History   []deepcluster.Checkpoint `json:"history"`
	Labelled  bool                     `json:"labelled"`
}

func runCluster(cmd *cobra.Command, f clusterFlags) error {
	ctx := cmd.Context()
	if f.out == "" {
		return fmt.Errorf("--out is required")
	}
	if f.runs < 1 {
		return fmt.Errorf("--runs must be at least 1, got %d", f.runs)
	}
	if err := f.cfg.Validate(); err != nil {
		return err
	}
	ds, err := loadClusterData(f.data)
	if err != nil {
		return err
	}
	if f.limit > 0 && f.limit < ds.N {
		perm := rand.New(rand.NewPCG(f.cfg.Seed, 0x5eed)).Perm(ds.N)[:f.limit]
		sort.Ints(perm)
		if ds, err = ds.Subset(perm); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "cluster: %s, %d images of shape %v, k = %d\n", f.data, ds.N, ds.Shape, f.cfg.K)
	var all []clusterMetrics
	for r := 0; r < f.runs; r++ {
		cfg := f.cfg
		cfg.Seed = f.cfg.Seed + uint64(r)
		dir := f.out
		if f.runs > 1 {
			dir = filepath.Join(f.out, fmt.Sprintf("seed-%d", cfg.Seed))
		}
		m, err := clusterOnce(ctx, f, cfg, ds, dir)
		if err != nil {
			return err
		}
		all = append(all, *m)
		if !f.asJSON {
			printClusterMetrics(cmd.OutOrStdout(), m)
		}
	}
	if f.asJSON {
		enc := json.NewEncoder(cmd.OutOrStdout())
		enc.SetIndent("", "  ")
		if len(all) == 1 {
			return enc.Encode(all[0])
		}
		return enc.Encode(map[string]any{"runs": all, "summary": summarizeRuns(all)})
	}
	if len(all) > 1 {
		w := cmd.OutOrStdout()
		s := summarizeRuns(all)
		keys := make([]string, 0, len(s))
		for k := range s {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(w, "over %d seeds:\n", len(all))
		for _, k := range keys {
			fmt.Fprintf(w, "  %-16s %s\n", k, s[k])
		}
	}
	return nil
}

func summarizeRuns(all []clusterMetrics) map[string]metrics.Summary {
	get := map[string]func(clusterMetrics) float64{
		"acc":            func(m clusterMetrics) float64 { return m.ACC },
		"nmi_arithmetic": func(m clusterMetrics) float64 { return m.NMIArith },
		"nmi_geometric":  func(m clusterMetrics) float64 { return m.NMIGeom },
		"ari":            func(m clusterMetrics) float64 { return m.ARI },
		"init_acc":       func(m clusterMetrics) float64 { return m.InitACC },
		"alt_final_acc":  func(m clusterMetrics) float64 { return m.AltACC },
		"total_train_s":  func(m clusterMetrics) float64 { return m.TotalS },
	}
	out := map[string]metrics.Summary{}
	for k, g := range get {
		xs := make([]float64, len(all))
		for i, m := range all {
			xs[i] = g(m)
		}
		if s, err := metrics.Summarize(xs); err == nil {
			out[k] = s
		}
	}
	return out
}

func printClusterMetrics(w io.Writer, m *clusterMetrics) {
	fmt.Fprintf(w, "seed %d: ", m.Seed)
	switch {
	case m.Labelled && m.Config.Manifold:
		// The manifold mode has no k-means start; its baseline is k-means
		// on the codes without the layout.
		fmt.Fprintf(w, "ACC %.4f  NMI %.4f (arithmetic) %.4f (geometric)  ARI %.4f  [k-means on the codes, without the layout: ACC %.4f NMI %.4f]  ",
			m.ACC, m.NMIArith, m.NMIGeom, m.ARI, m.AltACC, m.AltNMI)
	case m.Labelled:
		fmt.Fprintf(w, "ACC %.4f  NMI %.4f (arithmetic) %.4f (geometric)  ARI %.4f  [k-means init ACC %.4f; final %s: ACC %.4f NMI %.4f]  ",
			m.ACC, m.NMIArith, m.NMIGeom, m.ARI, m.InitACC, m.AltFinal, m.AltACC, m.AltNMI)
	}
	fmt.Fprintf(w, "steps %d converged %v  time: pretrain %.0fs init %.0fs finetune %.0fs final %.0fs\n",
		m.Steps, m.Converged, m.Timings.Pretrain, m.Timings.Init, m.Timings.Finetune, m.Timings.Final)
}

func clusterOnce(ctx context.Context, f clusterFlags, cfg deepcluster.Options, ds *data.Dataset, dir string) (*clusterMetrics, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	d := deepcluster.New(cfg)
	d.MonitorLabels = ds.Y != nil
	start := time.Now()
	bars := progress.NewPhases(fmt.Sprintf("cluster seed %d", cfg.Seed))
	model, err := detector.Fit(ctx, d, detector.TrainSet{X: ds, Progress: bars.Report}, detector.ThresholdRule{})
	bars.Close()
	if err != nil {
		return nil, err
	}
	total := time.Since(start).Seconds()
	res := d.Result
	model.Meta.Extra = map[string]string{"data": f.data}
	cm := &clusterMetrics{Data: f.data, N: ds.N, Seed: cfg.Seed, Config: d.Options, Steps: res.Steps,
		Converged: res.Converged, Timings: res.Timings, TotalS: total, Pretrain: res.PretrainLoss, History: res.History}
	if ds.Y != nil {
		cm.Labelled = true
		cm.ACC, _ = metrics.ACC(ds.Y, res.Labels)
		cm.NMIArith, _ = metrics.NMI(ds.Y, res.Labels, metrics.Arithmetic)
		cm.NMIGeom, _ = metrics.NMI(ds.Y, res.Labels, metrics.Geometric)
		cm.ARI, _ = metrics.ARI(ds.Y, res.Labels)
		cm.InitACC, _ = metrics.ACC(ds.Y, res.InitLabels)
		cm.InitNMI, _ = metrics.NMI(ds.Y, res.InitLabels, metrics.Arithmetic)
		var alt deepcluster.FinalClustering = deepcluster.KMeansRerun{NInit: d.Options.KMeansInit}
		cm.AltFinal = "kmeans"
		if d.Options.Final == "kmeans" {
			alt, cm.AltFinal = deepcluster.ArgmaxQ{}, "argmax"
		}
		k, dz := d.Options.K, d.Model.EmbeddingSize()
		altLabels, err := alt.Assign(ctx, res.Embedding, res.Q, d.Model.Centroids.Data, ds.N, dz, k, cfg.Seed)
		if err != nil {
			return nil, err
		}
		cm.AltACC, _ = metrics.ACC(ds.Y, altLabels)
		cm.AltNMI, _ = metrics.NMI(ds.Y, altLabels, metrics.Arithmetic)
		model.Meta.Metrics = map[string]float64{"acc": cm.ACC, "nmi_arithmetic": cm.NMIArith, "nmi_geometric": cm.NMIGeom, "ari": cm.ARI}
	}
	if err := model.SaveFile(filepath.Join(dir, "model.oddity")); err != nil {
		return nil, err
	}
	if err := writeAssignments(filepath.Join(dir, "assignments.csv"), ds, res); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(cm, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	if !f.noPlots {
		if err := clusterPlots(ctx, f, cfg, ds, d.Model, res, dir); err != nil {
			return nil, err
		}
	}
	return cm, nil
}

func writeAssignments(path string, ds *data.Dataset, res *deepcluster.Result) error {
	fh, err := os.Create(path)
	if err != nil {
		return err
	}
	w := csv.NewWriter(fh)
	k := 0
	if ds.N > 0 {
		k = len(res.Q) / ds.N
	}
	head := []string{"index", "cluster", "init_cluster", "max_q"}
	if ds.Y != nil {
		head = append(head, "label")
	}
	_ = w.Write(head)
	for i := 0; i < ds.N; i++ {
		mq := float32(0)
		for j := 0; j < k; j++ {
			mq = max(mq, res.Q[i*k+j])
		}
		rec := []string{strconv.Itoa(i), strconv.Itoa(res.Labels[i]), strconv.Itoa(res.InitLabels[i]), strconv.FormatFloat(float64(mq), 'g', 6, 32)}
		if ds.Y != nil {
			rec = append(rec, strconv.Itoa(ds.Y[i]))
		}
		_ = w.Write(rec)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		fh.Close()
		return fmt.Errorf("assignments %s: %w", path, err)
	}
	return fh.Close()
}

// clusterPlots writes tsne.png (two panels: true labels and clusters, on a
// seeded random subset of at most --tsne-n points) and reconstructions.png.
func clusterPlots(ctx context.Context, f clusterFlags, cfg deepcluster.Options, ds *data.Dataset, m *deepcluster.Model, res *deepcluster.Result, dir string) error {
	r := rand.New(rand.NewPCG(cfg.Seed, 0x75e))
	sub := r.Perm(ds.N)
	if f.tsneN > 0 && f.tsneN < ds.N {
		sub = sub[:f.tsneN]
	}
	sort.Ints(sub)
	dz := m.EmbeddingSize()
	if len(sub) > 31 && f.tsneN > 0 {
		z := make([]float32, 0, len(sub)*dz)
		truth := make([]int, len(sub))
		clus := make([]int, len(sub))
		for i, s := range sub {
			z = append(z, res.Embedding[s*dz:(s+1)*dz]...)
			clus[i] = res.Labels[s]
			if ds.Y != nil {
				truth[i] = ds.Y[s]
			}
		}
		t0 := time.Now()
		fmt.Fprintf(os.Stderr, "cluster: t-SNE of %d of %d embeddings\n", len(sub), ds.N)
		emb, err := tsne.Embed(ctx, z, len(sub), dz, tsne.Options{Perplexity: 30, Init: tsne.InitPCA, Seed: cfg.Seed})
		if err != nil {
			return fmt.Errorf("t-SNE: %w", err)
		}
		xs, ys := emb.Coords()
		note := fmt.Sprintf(" (%d of %d points)", len(sub), ds.N)
		if ds.Y != nil {
			if err := viz.Scatter(filepath.Join(dir, "tsne-labels.png"), "t-SNE of z, true labels"+note, xs, ys, truth, viz.ScatterOptions{Names: ds.ClassNames}); err != nil {
				return err
			}
		}
		if err := viz.Scatter(filepath.Join(dir, "tsne-clusters.png"), "t-SNE of z, clusters"+note, xs, ys, clus, viz.ScatterOptions{}); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "cluster: t-SNE took %.0fs\n", time.Since(t0).Seconds())
	}
	// Reconstructions of 16 seeded random images.
	pick := r.Perm(ds.N)[:min(16, ds.N)]
	sample, err := ds.Subset(pick)
	if err != nil {
		return err
	}
	rec, err := m.Reconstruct(ctx, sample)
	if err != nil {
		return err
	}
	return viz.ImageGrid(filepath.Join(dir, "reconstructions.png"), "inputs and reconstructions", [][]float32{sample.X, rec},
		viz.GridOptions{Channels: m.Shape[0], Height: m.Shape[1], Width: m.Shape[2], RowLabels: []string{"input", "recon"}})
}
