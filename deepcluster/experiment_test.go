package deepcluster

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/internal/shared"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/option"
)

// TestExperiment runs one clustering outside the default tests, for the
// measurements of docs/methods.md §3 that take minutes:
//
//	DC_EXPERIMENT='{"data":"coil20","opts":{"k":"20","self-expressive":"true"}}' \
//	  go test ./deepcluster/ -run TestExperiment -v -timeout 2h
//
// "data" is a catalog name (all images, train and test joined), "limit" an
// optional size of a seeded random subset, "seed" the seed, "opts" the
// options by their command-line names over DefaultOptions. It logs ACC and
// NMI (the labels only measure, never train), the progress and the
// timings.
func TestExperiment(t *testing.T) {
	spec := os.Getenv("DC_EXPERIMENT")
	if spec == "" {
		t.Skip("set DC_EXPERIMENT to run (see the comment)")
	}
	var e struct {
		Data  string            `json:"data"`
		Limit int               `json:"limit"`
		Seed  uint64            `json:"seed"`
		Opts  map[string]string `json:"opts"`
	}
	if err := json.Unmarshal([]byte(spec), &e); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("ODDITY_DATASETS") == "" {
		t.Setenv("ODDITY_DATASETS", shared.Path(t, "."))
	}
	sp, err := catalog.Load(e.Data)
	if err != nil {
		t.Fatal(err)
	}
	ds, err := sp.All()
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultOptions()
	if err := option.Apply(&cfg, e.Opts); err != nil {
		t.Fatal(err)
	}
	cfg.Seed = e.Seed
	if e.Limit > 0 && e.Limit < ds.N {
		idx := rand.New(rand.NewPCG(cfg.Seed, 0x5eed)).Perm(ds.N)[:e.Limit]
		sort.Ints(idx)
		if ds, err = ds.Subset(idx); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s: %d images %v, options %v", e.Data, ds.N, ds.Shape, option.Values(&cfg))
	start := time.Now()
	last := time.Now()
	tr := &Trainer{Options: cfg, Labels: ds.Y, Progress: func(p detector.Progress) {
		if p.Phase != "pretrain" || p.Done == p.Total || time.Since(last) > 30*time.Second {
			t.Logf("%6.0fs %s %d/%d %v", time.Since(start).Seconds(), p.Phase, p.Done, p.Total, p.Metrics)
			last = time.Now()
		}
	}}
	m, res, err := tr.Fit(context.Background(), ds)
	if err != nil {
		t.Fatal(err)
	}
	report(t, ds, m, res, time.Since(start))
	// DC_SAVE=prefix writes the coefficients (raw float32, n×n), the codes
	// (n×d) and the labels (one per line) for analysis outside Go.
	if p := os.Getenv("DC_SAVE"); p != "" {
		save := func(name string, v []float32) {
			b := make([]byte, 4*len(v))
			for i, f := range v {
				binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
			}
			if err := os.WriteFile(p+name, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		save("-coef.f32", res.Coefficients)
		save("-codes.f32", res.Embedding)
		var lb strings.Builder
		for _, y := range ds.Y {
			fmt.Fprintln(&lb, y)
		}
		if err := os.WriteFile(p+"-labels.txt", []byte(lb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func report(t *testing.T, ds *data.Dataset, m *Model, res *Result, took time.Duration) {
	acc, _ := metrics.ACC(ds.Y, res.Labels)
	nmi, _ := metrics.NMI(ds.Y, res.Labels, metrics.Arithmetic)
	iacc, _ := metrics.ACC(ds.Y, res.InitLabels)
	inmi, _ := metrics.NMI(ds.Y, res.InitLabels, metrics.Arithmetic)
	t.Logf("RESULT ACC %.4f NMI %.4f (init ACC %.4f NMI %.4f) steps %d; %.0f s: pretrain %.0f init %.0f finetune %.0f final %.0f; embedding %d",
		acc, nmi, iacc, inmi, res.Steps, took.Seconds(), res.Timings.Pretrain, res.Timings.Init, res.Timings.Finetune, res.Timings.Final, m.EmbeddingSize())
}
