// Command acctime draws how deep clustering's accuracy moves with training
// time (issue #20): one line per run, from the metrics.json files that
// `oddity cluster` writes (and that docs/results keeps as
// deepcluster-*.json). A run contributes the k-means initialisation after
// pretraining (ACC at pretraining + initialisation seconds) and one point
// per target update of fine-tuning, placed at the fine-tuning seconds
// spread evenly over its steps. Labels are used for this evaluation only.
//
//	go run ./scripts/acctime -out docs/figures/deepcluster-acc-vs-time.svg \
//	    NAME=docs/results/deepcluster-mnist-seed0.json ...
//
// Each argument is LABEL=PATH (or a PATH, labelled by its file name). A
// benchmark suite's clustering cell (DIR/cells/ID.json) gives one point per
// seed at the cell's mean fit time: the manifold and self-expressive modes
// have no fine-tuning history, so a point is what they have. It
// also prints a table: label, pretraining and total seconds, ACC after
// initialisation and at the end.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/oddity-ml/oddity/viz"
)

// run is the part of metrics.json this command reads.
type run struct {
	ACC     float64 `json:"acc"`
	InitACC float64 `json:"init_acc"`
	Steps   int     `json:"finetune_steps"`
	Timings struct {
		Pretrain float64 `json:"pretrain_s"`
		Init     float64 `json:"init_s"`
		Finetune float64 `json:"finetune_s"`
	} `json:"timings"`
	History []struct {
		Step int     `json:"step"`
		ACC  float64 `json:"acc"`
	} `json:"history"`
}

// cell is the part of a benchmark suite's cell file (DIR/cells/ID.json)
// this command reads: the metrics of every seed and the mean fit time.
type cell struct {
	PerSeed    []map[string]float64 `json:"per_seed"`
	FitSeconds float64              `json:"fit_seconds"`
}

func mean(v []float64) float64 {
	var s float64
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func main() {
	out := flag.String("out", "deepcluster-acc-vs-time.svg", "figure to write (.svg or .png)")
	title := flag.String("title", "ACC against training time", "figure title")
	flag.Parse()
	if flag.NArg() == 0 {
		log.Fatal("usage: acctime [-out FILE] LABEL=metrics.json ...")
	}
	var series []viz.Series
	fmt.Printf("%-40s %10s %10s %9s %9s\n", "run", "pretrain s", "total s", "init ACC", "final ACC")
	for _, arg := range flag.Args() {
		label, path, ok := strings.Cut(arg, "=")
		if !ok {
			label, path = strings.TrimSuffix(filepath.Base(arg), ".json"), arg
		}
		b, err := os.ReadFile(path)
		if err != nil {
			log.Fatal(err)
		}
		var c cell
		if err := json.Unmarshal(b, &c); err == nil && len(c.PerSeed) > 0 {
			// A benchmark cell: one point per seed at the mean fit time.
			s := viz.Series{Name: label}
			for _, ms := range c.PerSeed {
				s.X = append(s.X, c.FitSeconds/60)
				s.Y = append(s.Y, ms["acc"])
			}
			series = append(series, s)
			fmt.Printf("%-40s %10s %10.0f %9s %9.4f (mean of %d seeds)\n", label, "-", c.FitSeconds, "-", mean(s.Y), len(s.Y))
			continue
		}
		var r run
		if err := json.Unmarshal(b, &r); err != nil {
			log.Fatalf("%s: %v", path, err)
		}
		if r.Steps <= 0 || len(r.History) == 0 || r.InitACC == 0 {
			log.Fatalf("%s: no fine-tuning history with ACC (was the run labelled?)", path)
		}
		t0 := r.Timings.Pretrain + r.Timings.Init
		perStep := r.Timings.Finetune / float64(r.Steps)
		s := viz.Series{Name: label, X: []float64{t0 / 60}, Y: []float64{r.InitACC}}
		for _, h := range r.History {
			if h.ACC == 0 {
				continue
			}
			s.X = append(s.X, (t0+float64(h.Step)*perStep)/60)
			s.Y = append(s.Y, h.ACC)
		}
		series = append(series, s)
		fmt.Printf("%-40s %10.0f %10.0f %9.4f %9.4f\n", label, r.Timings.Pretrain, t0+r.Timings.Finetune, r.InitACC, r.ACC)
	}
	fig, err := viz.LinesFigure(*title, series, viz.LineOptions{XLabel: "training time (minutes, this machine)", YLabel: "ACC", Points: true})
	if err != nil {
		log.Fatal(err)
	}
	fig.Width, fig.Height = fig.Width*3/2, fig.Height*5/4
	if err := fig.Save(*out); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", *out)
}
