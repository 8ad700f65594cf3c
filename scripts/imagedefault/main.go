// Command imagedefault chooses the detector `oddity detect` uses on a folder
// of images, out of sample: it builds folders as a user would have them (a
// thousand images of one class with 2% of other images mixed in, nothing
// labelled) and runs each candidate as detect runs it (fit on the folder,
// score the same folder, the rows fitted on scored leave-one-out where the
// detector has such scores). The choice is made on the data set named by -choose and reported
// on the others, so the figures for those are out of sample.
//
//	go run ./scripts/imagedefault -datasets mnist,usps,cifar10 -seeds 3
//
// Output: one line per data set and candidate (mean AUC-ROC over anomaly
// classes and seeds, mean precision in the top n_anomalies, fit+score time),
// then the choice. docs/results/image-default.txt holds a run.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/deepcluster"
	"github.com/oddity-ml/oddity/detector"
	_ "github.com/oddity-ml/oddity/detector/all"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/option"
)

func main() {
	var (
		sets    = flag.String("datasets", "mnist,usps,cifar10", "comma-separated catalog data sets with class labels")
		choose  = flag.String("choose", "mnist", "data set the choice is made on (the others are out of sample)")
		methods = flag.String("methods", "iforest,lof,knn,ecod,hbos,loda,deepcluster", "candidates")
		seeds   = flag.Int("seeds", 3, "folders per anomaly class")
		deep    = flag.Int("deep-seeds", 1, "folders per anomaly class for deepcluster (slow)")
		size    = flag.Int("n", 1000, "images in a folder")
		frac    = flag.Float64("contamination", 0.02, "share of the folder that is anomalous")
		tie     = flag.Float64("tie", 0.01, "candidates within this mean AUC-ROC of the best on -choose tie; the fastest of them is chosen")
		protos  = flag.String("protocols", "mixed,clustered", "comma-separated: mixed (the folder is one class, the anomalies drawn from all the other classes) and clustered (the anomalies all from one other class: a repeated defect); one-abnormal (several classes, a few of one held-out class mixed in)")
		deepSet = flag.String("deep-sets", "mnist", "data sets deepcluster runs on (it is slow; it is only a candidate where it runs)")
	)
	flag.Parse()
	ctx := context.Background()
	type agg struct {
		auc, prec []float64
		secs      float64
	}
	res := map[string]map[string]*agg{}
	for _, set := range strings.Split(*sets, ",") {
		sp, err := catalog.Load(set)
		if err != nil {
			log.Fatal(err)
		}
		all := sp.Test
		if all == nil {
			if all, err = sp.All(); err != nil {
				log.Fatal(err)
			}
		}
		classes := 0
		for _, y := range all.Y {
			classes = max(classes, y+1)
		}
		res[set] = map[string]*agg{}
		for _, proto := range strings.Split(*protos, ",") {
			for a := range classes {
				for s := range *seeds {
					folder, y := makeFolder(all, a, classes, *size, *frac, proto, uint64(1000*a+s))
					for _, m := range strings.Split(*methods, ",") {
						if m == deepcluster.Method && (s >= *deep || !slices.Contains(strings.Split(*deepSet, ","), set)) {
							continue
						}
						t0 := time.Now()
						scores, err := fitScore(ctx, m, folder, uint64(s))
						if err != nil {
							log.Fatalf("%s %s class %d seed %d: %v", set, m, a, s, err)
						}
						roc, _, err := metrics.AUCs(scores, y)
						if err != nil {
							log.Fatal(err)
						}
						g := res[set][m]
						if g == nil {
							g = &agg{}
							res[set][m] = g
						}
						g.auc = append(g.auc, roc)
						g.prec = append(g.prec, precisionAtK(scores, y))
						g.secs += time.Since(t0).Seconds()
						fmt.Fprintf(os.Stderr, "%s %s class %d seed %d %s: AUC %.3f (%.1f s)\n", set, proto, a, s, m, roc, time.Since(t0).Seconds())
					}
				}
			}
		}
	}
	fmt.Printf("protocols %s: folders of %d images, %.0f%% anomalous, %d seeds per normal class (deepcluster %d, on %s); fit on the folder, score the folder; means over protocols, classes and seeds\n\n", *protos, *size, 100**frac, *seeds, *deep, *deepSet)
	fmt.Printf("%-10s %-12s %8s %8s %10s\n", "data set", "detector", "AUC-ROC", "P@n_anom", "s/folder")
	bestAUC := -1.0
	for _, set := range strings.Split(*sets, ",") {
		for _, m := range strings.Split(*methods, ",") {
			g := res[set][m]
			if g == nil {
				continue
			}
			auc := mean(g.auc)
			fmt.Printf("%-10s %-12s %8.3f %8.3f %10.2f\n", set, m, auc, mean(g.prec), g.secs/float64(len(g.auc)))
			if set == *choose {
				bestAUC = max(bestAUC, auc)
			}
		}
	}
	// The rule, fixed before the run: the fastest candidate within -tie of
	// the best mean AUC-ROC on the chosen data set.
	best, bestSecs := "", 0.0
	for _, m := range strings.Split(*methods, ",") {
		g := res[*choose][m]
		if g == nil || mean(g.auc) < bestAUC-*tie {
			continue
		}
		if secs := g.secs / float64(len(g.auc)); best == "" || secs < bestSecs {
			best, bestSecs = m, secs
		}
	}
	fmt.Printf("\nchosen on %s: %s, the fastest within %.3g of the best mean AUC-ROC (%.3f); the other data sets' rows are out of sample\n", *choose, best, *tie, bestAUC)
}

// makeFolder draws a folder of n images, a share frac of them anomalous
// (label 1), by protocol: "mixed", normal images from class a and
// anomalies from all the others; "clustered", normal images from class a
// and anomalies all from one other class, drawn from seed; "one-abnormal",
// normal images from every class but a and anomalies from a.
func makeFolder(all *data.Dataset, a, classes, n int, frac float64, protocol string, seed uint64) (*data.Dataset, []int) {
	rng := rand.New(rand.NewPCG(seed, 0x1a9e))
	other := (a + 1 + rng.IntN(classes-1)) % classes
	isAnom := func(y int) bool {
		switch protocol {
		case "mixed":
			return y != a
		case "clustered":
			return y == other
		case "one-abnormal":
			return y == a
		}
		log.Fatalf("unknown protocol %q", protocol)
		return false
	}
	var norm, anom []int
	for i, y := range all.Y {
		switch {
		case isAnom(y):
			anom = append(anom, i)
		case protocol != "clustered" || y == a:
			norm = append(norm, i)
		}
	}
	rng.Shuffle(len(norm), func(i, j int) { norm[i], norm[j] = norm[j], norm[i] })
	rng.Shuffle(len(anom), func(i, j int) { anom[i], anom[j] = anom[j], anom[i] })
	na := max(1, int(frac*float64(n)+0.5))
	n = min(n, len(norm)+na)
	idx := append(slices.Clone(norm[:n-na]), anom[:na]...)
	rng.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	ds, err := all.Subset(idx)
	if err != nil {
		log.Fatal(err)
	}
	y := make([]int, len(idx))
	for i, k := range idx {
		if isAnom(all.Y[k]) {
			y[i] = 1
		}
	}
	ds.Y = nil
	return ds, y
}

// fitScore fits method m with its defaults (deepcluster with detect's short
// schedule) on the folder and scores it, leave-one-out where it can.
func fitScore(ctx context.Context, m string, x *data.Dataset, seed uint64) ([]float64, error) {
	in, err := detector.Lookup(m)
	if err != nil {
		return nil, err
	}
	opts := in.Options()
	if o, ok := opts.(*deepcluster.Options); ok {
		o.K = max(2, min(10, x.N/50))
		o.PretrainEpochs, o.MaxSteps, o.BatchSize, o.KMeansInit = 20, 500, 64, 5
	}
	option.SetSeed(opts, seed)
	d, err := in.New(opts)
	if err != nil {
		return nil, err
	}
	if err := d.Fit(ctx, detector.TrainSet{X: x}); err != nil {
		return nil, err
	}
	if ts, ok := d.(detector.TrainScorer); ok {
		return ts.TrainScores(), nil
	}
	return d.Score(ctx, x)
}

func precisionAtK(scores []float64, y []int) float64 {
	k := 0
	for _, v := range y {
		k += v
	}
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	hit := 0
	for _, i := range order[:k] {
		hit += y[i]
	}
	return float64(hit) / float64(k)
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}
