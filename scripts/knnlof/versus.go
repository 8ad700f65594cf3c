package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/knn"
	"github.com/oddity-ml/oddity/lof"
)

// timing is one fit+score: wall seconds of each part and the CPU seconds
// of the whole (every thread).
type timing struct {
	Fit   float64 `json:"fit"`
	Score float64 `json:"score"`
	CPU   float64 `json:"cpu"`
}

func (t timing) wall() float64 { return t.Fit + t.Score }

// versusRun is the side-by-side speed check against scikit-learn: for
// every ADBench file over minRows rows (and MNIST pixels with mnist), the
// seed-0 split is written as .npy files under out, scikit-learn's best
// algorithm for each method is found by timing brute, ball_tree and
// kd_tree once each (in its own process, n_jobs=2, with a time limit),
// and then oddity's fit+score and scikit-learn's with that algorithm are
// timed alternately, rounds times, so that both sides see the same load
// on a machine shared with other work. Each round is printed, and the
// summary compares the fastest round of each side (wall time; CPU time,
// every thread, beside it). scikit-learn runs through
// scripts/reference/knn_lof.py --sk-time, which times fit and scoring
// only, as the oddity side does.
func versusRun(out, files string, minRows int, mnist bool, rounds int, python string, limit float64) error {
	script, err := filepath.Abs("scripts/reference/knn_lof.py")
	if err != nil {
		return err
	}
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	type split struct {
		name        string
		train, test *data.Dataset
	}
	var splits []split
	for _, f := range strings.Split(files, ",") {
		if f == "" {
			continue
		}
		parts, err := catalog.Load("adbench/" + f)
		if err != nil {
			return err
		}
		ds, err := parts.All()
		if err != nil {
			return err
		}
		if ds.N <= minRows {
			continue
		}
		sp, err := protocol.ADBench(ds, protocol.ADBenchOptions{Seed: 0})
		if err != nil {
			return err
		}
		splits = append(splits, split{f, sp.TrainUnlabeled, sp.Test})
	}
	if mnist {
		train, test, err := mnistSplit()
		if err != nil {
			return err
		}
		splits = append(splits, split{"mnist", train, test})
	}
	fmt.Printf("oddity GOMAXPROCS %d, scikit-learn n_jobs=2; %d alternating rounds; wall s (CPU s)\n", runtime.GOMAXPROCS(0), rounds)
	type row struct {
		file, method, skAlg string
		n, d                int
		odd, sk             timing
	}
	var rows []row
	for _, s := range splits {
		dir := filepath.Join(out, s.name, "seed0")
		if err := writeSplit(dir, s.train, s.test); err != nil {
			return err
		}
		for _, method := range []string{"knn", "lof"} {
			// scikit-learn's algorithms, cheapest first so that the
			// others' time limit is tight.
			algs := []string{"kd_tree", "ball_tree", "brute"}
			if s.train.Dim() > 16 {
				algs = []string{"brute", "ball_tree", "kd_tree"}
			}
			best, bestT := "", timing{Fit: math.Inf(1)}
			var notes []string
			for _, alg := range algs {
				lim := limit
				if best != "" {
					lim = min(limit, max(30, 5*bestT.wall()))
				}
				t, ok, err := sklearn(python, script, dir, alg, method, lim)
				if err != nil {
					return err
				}
				if !ok {
					notes = append(notes, fmt.Sprintf("%s >%.0fs", alg, lim))
					continue
				}
				notes = append(notes, fmt.Sprintf("%s %.2fs", alg, t.wall()))
				if t.wall() < bestT.wall() {
					best, bestT = alg, t
				}
			}
			if best == "" {
				return fmt.Errorf("%s %s: every scikit-learn algorithm ran out of time (%s)", s.name, method, strings.Join(notes, ", "))
			}
			fmt.Printf("%s %s: scikit-learn's algorithms: %s\n", s.name, method, strings.Join(notes, ", "))
			r := row{file: s.name, method: method, skAlg: best, n: s.train.N, d: s.train.Dim(),
				odd: timing{Fit: math.Inf(1)}, sk: bestT}
			for round := range rounds {
				o, err := oddity(method, s.train, s.test)
				if err != nil {
					return fmt.Errorf("%s %s: %w", s.name, method, err)
				}
				k, ok, err := sklearn(python, script, dir, best, method, limit)
				if err != nil {
					return err
				}
				if !ok {
					return fmt.Errorf("%s %s: scikit-learn's %s ran out of time", s.name, method, best)
				}
				fmt.Printf("  round %d: oddity %.3fs (%.3fs), scikit-learn %s %.3fs (%.3fs): %.1f× (%.1f×)\n",
					round+1, o.wall(), o.CPU, best, k.wall(), k.CPU, k.wall()/o.wall(), k.CPU/o.CPU)
				if o.wall() < r.odd.wall() {
					r.odd = o
				}
				if k.wall() < r.sk.wall() {
					r.sk = k
				}
			}
			rows = append(rows, r)
		}
	}
	fmt.Printf("\n| data | method | training rows × d | oddity wall (CPU) | scikit-learn best wall (CPU) | speed-up wall (CPU) |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %d × %d | %.3f s (%.3f s) | %s %.3f s (%.3f s) | %.1f× (%.1f×) |\n",
			r.file, r.method, r.n, r.d, r.odd.wall(), r.odd.CPU, r.skAlg, r.sk.wall(), r.sk.CPU,
			r.sk.wall()/r.odd.wall(), r.sk.CPU/r.odd.CPU)
	}
	return nil
}

// writeSplit writes the split as scripts/reference/knn_lof.py reads it.
func writeSplit(dir string, train, test *data.Dataset) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	ytest := make([]float64, test.N)
	for i, y := range test.Y {
		ytest[i] = float64(y)
	}
	if err := writeF32(filepath.Join(dir, "train.npy"), train.X, train.N, train.Dim()); err != nil {
		return err
	}
	if err := writeF32(filepath.Join(dir, "test.npy"), test.X, test.N, test.Dim()); err != nil {
		return err
	}
	return writeF64(filepath.Join(dir, "ytest.npy"), ytest)
}

// oddity times one fit+score of the method with its default options.
func oddity(method string, train, test *data.Dataset) (timing, error) {
	var det detector.Detector = knn.New(knn.DefaultOptions())
	if method == "lof" {
		det = lof.New(lof.DefaultOptions())
	}
	runtime.GC()
	c0, t0 := cpuSeconds(), time.Now()
	if err := det.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
		return timing{}, err
	}
	t1 := time.Now()
	if _, err := det.Score(context.Background(), test); err != nil {
		return timing{}, err
	}
	t2 := time.Now()
	return timing{Fit: t1.Sub(t0).Seconds(), Score: t2.Sub(t1).Seconds(), CPU: cpuSeconds() - c0}, nil
}

// sklearn times one scikit-learn fit+score in its own process; ok is false
// when it ran past limit seconds.
func sklearn(python, script, dir, alg, method string, limit float64) (t timing, ok bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(limit*float64(time.Second)))
	defer cancel()
	cmd := exec.CommandContext(ctx, python, script, "--sk-time", dir, alg, method)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if ctx.Err() != nil {
		return timing{}, false, nil
	}
	if err != nil {
		return timing{}, false, fmt.Errorf("scikit-learn %s %s on %s: %w", alg, method, dir, err)
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return timing{}, false, fmt.Errorf("scikit-learn %s %s: %q: %w", alg, method, b, err)
	}
	return t, true, nil
}
