// Command knnlof is oddity's side of the kNN and LOF parity and speed
// checks against scikit-learn (scripts/reference/knn_lof.py runs it and
// then scikit-learn on the same splits). For each ADBench file and seed it
// builds the split the suite's ADBench protocol builds (protocol.ADBench:
// stratified 70/30, min-max scaling fitted on the training part; the
// unlabelled training rows are the training set), writes it as .npy files,
// fits and scores oddity's knn (k = 5, largest) and lof (k = 20) with their
// default options, and writes the scores, AUC-ROC and timings:
//
//	go run ./scripts/knnlof --out /tmp/knnlof --files 6_cardio,14_glass --seeds 3
//
// writes /tmp/knnlof/6_cardio/seed0/{train,test,ytest,knn,lof}.npy and
// result.json, and so on. --mnist adds the MNIST pixels split (as the
// suite's image common ground: digit 0 held out as the anomaly, a seeded
// subset of 12,000 training images, all 10,000 test images). --repeat
// times each fit+score that many times and keeps the fastest.
//
// --crossover instead times kNN and LOF fit+score (seed 0) with each search
// algorithm on every file, the measurement behind neighbors.TreeMaxDim:
//
//	go run ./scripts/knnlof --crossover
//
// --versus is the side-by-side speed check against scikit-learn on every
// ADBench file over 10,000 rows (and MNIST pixels with --mnist): it finds
// scikit-learn's fastest algorithm for each method and then times oddity
// and scikit-learn alternately, --rounds times, printing every round and
// a table of the fastest round of each side (run from the repository
// root; scikit-learn through scripts/reference/knn_lof.py --sk-time):
//
//	go run ./scripts/knnlof --versus --mnist --rounds 3 --out /tmp/knnlof
//
// --scale times kNN scoring 1,000,000 Gaussian rows of 20 features against
// 100,000 training rows, and the peak memory (the process's maximum
// resident set):
//
//	go run ./scripts/knnlof --scale
package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/knn"
	"github.com/oddity-ml/oddity/lof"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/spf13/pflag"
)

// adbench are the suite's 21 ADBench files.
var adbench = []string{
	"2_annthyroid", "4_breastw", "6_cardio", "10_cover", "12_fault", "14_glass", "19_landsat",
	"20_letter", "23_mammography", "26_optdigits", "27_PageBlocks", "28_pendigits", "29_Pima",
	"30_satellite", "32_shuttle", "35_SpamBase", "38_thyroid", "40_vowels", "41_Waveform",
	"42_WBC", "44_Wilt",
}

// result is what result.json holds for one split.
type result struct {
	File       string  `json:"file"`
	Seed       uint64  `json:"seed"`
	Train      int     `json:"n_train"`
	Test       int     `json:"n_test"`
	Dim        int     `json:"d"`
	Algorithm  string  `json:"algorithm"`
	KNNAUC     float64 `json:"knn_auc"`
	LOFAUC     float64 `json:"lof_auc"`
	KNNFit     float64 `json:"knn_fit_s"`
	KNNScore   float64 `json:"knn_score_s"`
	LOFFit     float64 `json:"lof_fit_s"`
	LOFScore   float64 `json:"lof_score_s"`
	KNNCPU     float64 `json:"knn_cpu_s"` // CPU time of the fastest fit+score
	LOFCPU     float64 `json:"lof_cpu_s"`
	GOMAXPROCS int     `json:"gomaxprocs"`
}

func main() {
	fs := pflag.NewFlagSet("knnlof", pflag.ExitOnError)
	out := fs.String("out", "", "output `DIR` (required)")
	files := fs.String("files", strings.Join(adbench, ","), "comma-separated ADBench files (\"\" for none)")
	seeds := fs.Int("seeds", 3, "seeds 0..N-1 per file")
	labeled := fs.Float64("labeled", 0, "ADBench labelled ratio: the revealed anomalies leave the training set")
	mnist := fs.Bool("mnist", false, "add the MNIST pixels split")
	repeat := fs.Int("repeat", 1, "time each fit+score this many times, keep the fastest")
	root := fs.String("datasets", "", "data-set folder (default: catalog's)")
	crossover := fs.Bool("crossover", false, "time both search algorithms on every file instead")
	scale := fs.Bool("scale", false, "time kNN scoring of 1M×20 rows against 100k training rows instead")
	versus := fs.Bool("versus", false, "time oddity and scikit-learn side by side, alternately, instead")
	rounds := fs.Int("rounds", 2, "--versus: alternating rounds per file and method")
	minRows := fs.Int("min-rows", 10000, "--versus: only ADBench files of more rows")
	python := fs.String("python", "/usr/bin/python3", "--versus: the Python with scikit-learn")
	limit := fs.Float64("limit", 600, "--versus: seconds allowed to one scikit-learn run")
	_ = fs.Parse(os.Args[1:])
	if *out == "" && !*crossover && !*scale {
		fmt.Fprintln(os.Stderr, "knnlof: --out is required")
		os.Exit(2)
	}
	catalog.SetRoot(*root)
	var err error
	switch {
	case *crossover:
		err = crossoverRun(*files, *mnist, *repeat)
	case *scale:
		err = scaleRun()
	case *versus:
		err = versusRun(*out, *files, *minRows, *mnist, *rounds, *python, *limit)
	default:
		err = run(*out, *files, *seeds, *labeled, *mnist, *repeat)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "knnlof:", err)
		os.Exit(1)
	}
}

func run(out, files string, seeds int, labeled float64, mnist bool, repeat int) error {
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
		for s := range seeds {
			sp, err := protocol.ADBench(ds, protocol.ADBenchOptions{LabeledRatio: labeled, Seed: uint64(s)})
			if err != nil {
				return err
			}
			if err := one(filepath.Join(out, f, fmt.Sprintf("seed%d", s)), f, uint64(s), sp.TrainUnlabeled, sp.Test, repeat); err != nil {
				return fmt.Errorf("%s seed %d: %w", f, s, err)
			}
		}
	}
	if mnist {
		train, test, err := mnistSplit()
		if err != nil {
			return err
		}
		if err := one(filepath.Join(out, "mnist", "seed0"), "mnist", 0, train, test, repeat); err != nil {
			return fmt.Errorf("mnist: %w", err)
		}
	}
	return nil
}

// mnistSplit is the image common ground's split of seed 0 for digit 0,
// flattened to rows of 784 pixels in [0, 1].
func mnistSplit() (train, test *data.Dataset, err error) {
	parts, err := catalog.Load("mnist")
	if err != nil {
		return nil, nil, err
	}
	sp, err := protocol.LeaveOneClassOut(parts.Train, parts.Test, 0, protocol.LOCOOptions{})
	if err != nil {
		return nil, nil, err
	}
	idx := rand.New(rand.NewPCG(0, 0x7261696e)).Perm(sp.Train.N)[:12000]
	if train, err = sp.Train.Subset(idx); err != nil {
		return nil, nil, err
	}
	flat := func(x *data.Dataset) *data.Dataset {
		y := *x
		y.Shape = []int{x.Dim()}
		return &y
	}
	return flat(train), flat(sp.Test), nil
}

// one writes a split, fits and scores both detectors on it, and writes
// their scores and result.json.
func one(dir, file string, seed uint64, train, test *data.Dataset, repeat int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	d := train.Dim()
	ytest := make([]float64, test.N)
	for i, y := range test.Y {
		ytest[i] = float64(y)
	}
	for name, w := range map[string]func(string) error{
		"train.npy": func(p string) error { return writeF32(p, train.X, train.N, d) },
		"test.npy":  func(p string) error { return writeF32(p, test.X, test.N, d) },
		"ytest.npy": func(p string) error { return writeF64(p, ytest) },
	} {
		if err := w(filepath.Join(dir, name)); err != nil {
			return err
		}
	}
	r := result{File: file, Seed: seed, Train: train.N, Test: test.N, Dim: d, GOMAXPROCS: runtime.GOMAXPROCS(0)}
	ko := knn.DefaultOptions()
	lo := lof.DefaultOptions()
	for _, c := range []struct {
		name       string
		new        func() detector.Detector
		auc        *float64
		fit, score *float64
		cpu        *float64
	}{
		{"knn", func() detector.Detector { return knn.New(ko) }, &r.KNNAUC, &r.KNNFit, &r.KNNScore, &r.KNNCPU},
		{"lof", func() detector.Detector { return lof.New(lo) }, &r.LOFAUC, &r.LOFFit, &r.LOFScore, &r.LOFCPU},
	} {
		var scores []float64
		*c.fit, *c.score = math.Inf(1), math.Inf(1)
		for range max(repeat, 1) {
			det := c.new()
			c0 := cpuSeconds()
			t0 := time.Now()
			if err := det.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
				return err
			}
			t1 := time.Now()
			s, err := det.Score(context.Background(), test)
			if err != nil {
				return err
			}
			t2 := time.Now()
			cpu := cpuSeconds() - c0
			// Keep the fastest fit+score.
			if f, sc := t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(); f+sc < *c.fit+*c.score {
				*c.fit, *c.score, *c.cpu = f, sc, cpu
			}
			scores = s
			if k, ok := det.(*knn.Detector); ok {
				r.Algorithm = algorithmOf(k)
			}
		}
		auc, err := metrics.ROCAUC(scores, test.Y)
		if err != nil {
			return err
		}
		*c.auc = auc
		if err := writeF64(filepath.Join(dir, c.name+".npy"), scores); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	fmt.Printf("%s seed %d: %d×%d train, %d test, %s: kNN AUC %.4f (fit %.3fs score %.3fs), LOF AUC %.4f (fit %.3fs score %.3fs)\n",
		file, seed, train.N, d, test.N, r.Algorithm, r.KNNAUC, r.KNNFit, r.KNNScore, r.LOFAUC, r.LOFFit, r.LOFScore)
	return os.WriteFile(filepath.Join(dir, "result.json"), b, 0o644)
}

// algorithmOf names the search the auto choice made for d's data.
func algorithmOf(d *knn.Detector) string { return string(d.Algorithm()) }

// writeF32 writes an n×d float32 matrix as a .npy file (format 1.0).
func writeF32(path string, x []float32, n, d int) error {
	b := npyHeader("<f4", fmt.Sprintf("(%d, %d)", n, d))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return os.WriteFile(path, b, 0o644)
}

// writeF64 writes a float64 vector as a .npy file.
func writeF64(path string, x []float64) error {
	b := npyHeader("<f8", fmt.Sprintf("(%d,)", len(x)))
	for _, v := range x {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return os.WriteFile(path, b, 0o644)
}

// npyHeader is the magic, version 1.0 and the header dictionary, padded
// with spaces and a newline to a multiple of 64 bytes.
func npyHeader(descr, shape string) []byte {
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shape)
	pad := 64 - (10+len(h)+1)%64
	h += strings.Repeat(" ", pad%64) + "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(b, h...)
}

// crossoverRun times kNN and LOF fit+score (CPU time of the process, best
// of repeat, and wall time of that run) with the brute-force and the tree
// search on each file's seed-0 split.
func crossoverRun(files string, mnist bool, repeat int) error {
	fmt.Printf("%-16s %7s %4s | %-25s | %-25s | %s\n", "file", "train", "d", "kNN cpu brute / kdtree", "LOF cpu brute / kdtree", "faster")
	names := strings.Split(files, ",")
	if mnist {
		names = append(names, "mnist")
	}
	for _, f := range names {
		if f == "" {
			continue
		}
		var train, test *data.Dataset
		if f == "mnist" {
			var err error
			if train, test, err = mnistSplit(); err != nil {
				return err
			}
		} else {
			parts, err := catalog.Load("adbench/" + f)
			if err != nil {
				return err
			}
			ds, err := parts.All()
			if err != nil {
				return err
			}
			sp, err := protocol.ADBench(ds, protocol.ADBenchOptions{Seed: 0})
			if err != nil {
				return err
			}
			train, test = sp.TrainUnlabeled, sp.Test
		}
		var t [2][2]float64 // [method][algorithm]
		for a, alg := range []string{"brute", "kdtree"} {
			ko, lo := knn.DefaultOptions(), lof.DefaultOptions()
			ko.Algorithm, lo.Algorithm = alg, alg
			for m, det := range []func() detector.Detector{
				func() detector.Detector { return knn.New(ko) },
				func() detector.Detector { return lof.New(lo) },
			} {
				t[m][a] = math.Inf(1)
				for range max(repeat, 1) {
					c0 := cpuSeconds()
					d := det()
					if err := d.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
						return err
					}
					if _, err := d.Score(context.Background(), test); err != nil {
						return err
					}
					t[m][a] = min(t[m][a], cpuSeconds()-c0)
				}
			}
		}
		faster := func(m int) string {
			if t[m][1] < t[m][0] {
				return fmt.Sprintf("kdtree %.1f×", t[m][0]/t[m][1])
			}
			return fmt.Sprintf("brute %.1f×", t[m][1]/t[m][0])
		}
		fmt.Printf("%-16s %7d %4d | %9.3fs / %9.3fs | %9.3fs / %9.3fs | kNN %s, LOF %s\n",
			f, train.N, train.Dim(), t[0][0], t[0][1], t[1][0], t[1][1], faster(0), faster(1))
	}
	return nil
}

// scaleRun fits kNN on 100,000 Gaussian rows of 20 features and scores
// 1,000,000 more, reporting the times and the peak resident memory.
func scaleRun() error {
	const nTrain, nTest, d = 100_000, 1_000_000, 20
	r := rand.New(rand.NewPCG(1, 2))
	gauss := func(n int) *data.Dataset {
		x := &data.Dataset{Name: "gauss", N: n, Shape: []int{d}, X: make([]float32, n*d)}
		for i := range x.X {
			x.X[i] = float32(r.NormFloat64())
		}
		return x
	}
	train, test := gauss(nTrain), gauss(nTest)
	runtime.GC()
	base := maxRSS()
	det := knn.New(knn.DefaultOptions())
	c0, t0 := cpuSeconds(), time.Now()
	if err := det.Fit(context.Background(), detector.TrainSet{X: train}); err != nil {
		return err
	}
	c1, t1 := cpuSeconds(), time.Now()
	s, err := det.Score(context.Background(), test)
	if err != nil {
		return err
	}
	c2, t2 := cpuSeconds(), time.Now()
	fmt.Printf("kNN (k = 5, %s) on %d×%d Gaussian rows: fit %.1fs wall, %.1fs CPU (index and leave-one-out training scores); score %d rows %.1fs wall, %.1fs CPU (%.0f rows/s); peak RSS %.0f MiB (%.0f MiB before fitting: the data, %d MiB of it the 1M test rows); score[0] %.4f\n",
		det.Algorithm(), nTrain, d, t1.Sub(t0).Seconds(), c1-c0, nTest, t2.Sub(t1).Seconds(), c2-c1, float64(nTest)/t2.Sub(t1).Seconds(),
		maxRSS(), base, nTest*d*4>>20, s[0])
	return nil
}

// cpuSeconds is the process's user and system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// maxRSS is the process's peak resident set in MiB (Linux reports KiB).
func maxRSS() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Maxrss) / 1024
}
