// Command cglof measures deep clustering's anomaly scores on MNIST's
// leave-one-digit-out split, one seed, outside the benchmark suite: a
// quick look before the suite's common-ground cells (issue #20). For each
// digit it trains on a seeded random 12,000 of the training images of the
// other nine digits (the suite's max-train; the suite stratifies its
// subset, this does not) and scores all 10,000 test images, the held-out
// digit being the anomaly. It prints the AUC-ROC of the distance, maxq
// and lof scores.
//
//	go run ./scripts/cglof -digits 0,1,2,3,4,5,6,7,8,9 -epochs 20 -augment -manifold
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"time"

	_ "github.com/oddity-ml/oddity/data/all"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/deepcluster"
	"github.com/oddity-ml/oddity/metrics"
)

func main() {
	digits := flag.String("digits", "0,1,2,3,4,5,6,7,8,9", "held-out digits, comma-separated")
	epochs := flag.Int("epochs", 20, "pretraining epochs")
	steps := flag.Int("max-steps", 0, "fine-tuning steps (the DCEC mode)")
	augment := flag.Bool("augment", true, "augmented pretraining")
	manifold := flag.Bool("manifold", true, "manifold mode")
	seed := flag.Uint64("seed", 0, "seed of the subset and the training")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	s, err := catalog.Load("mnist")
	if err != nil {
		log.Fatal(err)
	}
	sums := map[string]float64{}
	var n int
	for _, f := range strings.Split(*digits, ",") {
		c, err := strconv.Atoi(f)
		if err != nil {
			log.Fatalf("digit %q: %v", f, err)
		}
		var idx []int
		for i, y := range s.Train.Y {
			if y != c {
				idx = append(idx, i)
			}
		}
		r := rand.New(rand.NewPCG(*seed, uint64(c)))
		r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
		idx = idx[:min(12000, len(idx))]
		slices.Sort(idx)
		train, err := s.Train.Subset(idx)
		if err != nil {
			log.Fatal(err)
		}
		truth := make([]int, s.Test.N)
		for i, y := range s.Test.Y {
			if y == c {
				truth[i] = 1
			}
		}
		o := deepcluster.DefaultOptions()
		o.K, o.Seed, o.PretrainEpochs, o.MaxSteps = 9, *seed, *epochs, *steps
		o.Augment, o.Manifold, o.Score = *augment, *manifold, "lof"
		t0 := time.Now()
		m, _, err := (&deepcluster.Trainer{Options: o}).Fit(ctx, train)
		if err != nil {
			log.Fatal(err)
		}
		fit := time.Since(t0).Seconds()
		fmt.Printf("digit %d (fit %.0f s):", c, fit)
		for _, kind := range []string{"distance", "maxq", "lof"} {
			sc, err := m.Score(ctx, s.Test, kind)
			if err != nil {
				log.Fatal(err)
			}
			auc, err := metrics.ROCAUC(sc, truth)
			if err != nil {
				log.Fatal(err)
			}
			sums[kind] += auc
			fmt.Printf("  %s %.3f", kind, auc)
		}
		fmt.Println()
		n++
	}
	fmt.Printf("mean over %d digits:", n)
	for _, kind := range []string{"distance", "maxq", "lof"} {
		fmt.Printf("  %s %.3f", kind, sums[kind]/float64(n))
	}
	fmt.Println()
}
