package ocsvm

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all" // the npz reader
	"github.com/oddity-ml/oddity/data/npy"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/metrics"
)

// parityFiles are the 21 ADBench files of the suite's tabular tables.
var parityFiles = []string{
	"2_annthyroid", "4_breastw", "6_cardio", "10_cover", "12_fault", "14_glass", "19_landsat",
	"20_letter", "23_mammography", "26_optdigits", "27_PageBlocks", "28_pendigits", "29_Pima",
	"30_satellite", "32_shuttle", "35_SpamBase", "38_thyroid", "40_vowels", "41_Waveform",
	"42_WBC", "44_Wilt",
}

// TestParity compares the detector with scikit-learn's OneClassSVM on the
// 21 ADBench files, on oddity's ADBench splits (protocol.ADBench, 5% of
// the training anomalies labelled and left out of the unsupervised
// training rows, as the suite's common-ground table; seeds 0, 1, 2): the
// AUC-ROC of the test scores within 0.005, and the single-threaded fit
// time (process CPU seconds) beside scikit-learn's. Both fit the same
// rows: the training split subsampled to max-samples by the detector's own
// draw. It runs only with ODDITY_PARITY=1 (minutes: scikit-learn takes
// tens of seconds on the 10,000-row fits):
//
//	ODDITY_PARITY=1 go test ./ocsvm/ -run Parity -v -timeout 2h
//
// Settings: ODDITY_PARITY_DIR (the splits and results; default a fresh
// temporary folder), ODDITY_PARITY_FILES (comma-separated names, default
// all 21), ODDITY_PARITY_SEEDS (default 3), ODDITY_PARITY_TOL (the
// tolerance of both solvers, default 1e-3), ODDITY_PARITY_MAX_SAMPLES
// (default the detector's), ODDITY_PARITY_WORKERS (the detector's
// goroutines, default 1: libsvm uses one thread; 0 for all processors).
// The table is also written to DIR/parity.md; the log lines add wall-clock
// times.
func TestParity(t *testing.T) {
	if os.Getenv("ODDITY_PARITY") != "1" {
		t.Skip("set ODDITY_PARITY=1 to compare with scikit-learn on the ADBench files")
	}
	dir := os.Getenv("ODDITY_PARITY_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	files := parityFiles
	if f := os.Getenv("ODDITY_PARITY_FILES"); f != "" {
		files = strings.Split(f, ",")
	}
	seeds := envInt(t, "ODDITY_PARITY_SEEDS", 3)
	o := DefaultOptions()
	o.Workers = envInt(t, "ODDITY_PARITY_WORKERS", 1)
	if v := os.Getenv("ODDITY_PARITY_TOL"); v != "" {
		tol, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		o.Tol = tol
	}
	o.MaxSamples = envInt(t, "ODDITY_PARITY_MAX_SAMPLES", o.MaxSamples)
	script, err := filepath.Abs("../scripts/reference/ocsvm.py")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var md bytes.Buffer
	fmt.Fprintf(&md, "| file | seed | rows | d | AUC oddity | AUC sklearn | ΔAUC | steps oddity / sklearn | SV oddity / sklearn | fit CPU s oddity | fit CPU s sklearn | sklearn/oddity | score CPU s oddity / sklearn |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	var sumGo, sumSk float64
	worst := 0.0
	for _, name := range files {
		ds, err := data.Load("/work/shared/datasets/adbench/" + name + ".npz")
		if err != nil {
			t.Fatal(err)
		}
		for seed := range uint64(seeds) {
			s, err := protocol.ADBench(ds, protocol.ADBenchOptions{LabeledRatio: 0.05, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			train, test := s.TrainUnlabeled, s.Test
			rows := train.X
			dim := train.Dim()
			if o.MaxSamples > 0 && train.N > o.MaxSamples {
				rows = nil
				for _, r := range subsample(train.N, o.MaxSamples, seed) {
					rows = append(rows, train.X[r*dim:(r+1)*dim]...)
				}
			}
			key := fmt.Sprintf("%s/seed%d", name, seed)
			sd := filepath.Join(dir, key)
			if err := os.MkdirAll(sd, 0o755); err != nil {
				t.Fatal(err)
			}
			writeNPY(t, filepath.Join(sd, "train.npy"), rows, len(rows)/dim, dim)
			writeNPY(t, filepath.Join(sd, "test.npy"), test.X, test.N, dim)
			// scikit-learn, then the detector, one after the other on the
			// same (shared) machine.
			cmd := exec.Command("/usr/bin/python3", script, dir, key, "--tol", fmt.Sprint(o.Tol))
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", key, err, out)
			}
			var sk struct {
				FitCPU   float64 `json:"fit_cpu"`
				FitWall  float64 `json:"fit_wall"`
				ScoreCPU float64 `json:"score_cpu"`
				NIter    int     `json:"n_iter"`
				NSV      int     `json:"n_sv"`
				Rows     int     `json:"rows"`
			}
			b, err := os.ReadFile(filepath.Join(sd, "sklearn.json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &sk); err != nil {
				t.Fatal(err)
			}
			a, _, err := npy.ReadFile(filepath.Join(sd, "sklearn_scores.npy"))
			if err != nil {
				t.Fatal(err)
			}
			skScores := a.Float64()

			oo := o
			oo.Seed = seed
			d := New(oo)
			c0, w0 := cpuSeconds(), time.Now()
			if err := d.Fit(ctx, detector.TrainSet{X: train}); err != nil {
				t.Fatal(err)
			}
			goCPU, goWall := cpuSeconds()-c0, time.Since(w0).Seconds()
			c1 := cpuSeconds()
			scores, err := d.Score(ctx, test)
			if err != nil {
				t.Fatal(err)
			}
			goScore := cpuSeconds() - c1
			aucGo, err := metrics.ROCAUC(scores, test.Y)
			if err != nil {
				t.Fatal(err)
			}
			aucSk, err := metrics.ROCAUC(skScores, test.Y)
			if err != nil {
				t.Fatal(err)
			}
			in := d.Info()
			if in.Rows != sk.Rows {
				t.Errorf("%s: fitted %d rows, scikit-learn %d", key, in.Rows, sk.Rows)
			}
			delta := aucGo - aucSk
			worst = math.Max(worst, math.Abs(delta))
			if math.Abs(delta) > 0.005 {
				t.Errorf("%s: AUC-ROC %.4f, scikit-learn %.4f", key, aucGo, aucSk)
			}
			sumGo += goCPU
			sumSk += sk.FitCPU
			fmt.Fprintf(&md, "| %s | %d | %d | %d | %.4f | %.4f | %+.4f | %d / %d | %d / %d | %.3f | %.3f | %.2f | %.3f / %.3f |\n",
				name, seed, in.Rows, dim, aucGo, aucSk, delta, in.Iterations, sk.NIter, in.SupportVectors, sk.NSV, goCPU, sk.FitCPU, sk.FitCPU/goCPU, goScore, sk.ScoreCPU)
			t.Logf("%s: %d rows, AUC %.4f vs %.4f, steps %d vs %d, fit %.3f s CPU (%.3f s wall) vs %.3f s CPU (%.3f s wall)",
				key, in.Rows, aucGo, aucSk, in.Iterations, sk.NIter, goCPU, goWall, sk.FitCPU, sk.FitWall)
		}
	}
	fmt.Fprintf(&md, "\nlargest |ΔAUC| %.4f; total fit CPU seconds: oddity %.2f, scikit-learn %.2f (ratio %.2f)\n", worst, sumGo, sumSk, sumSk/sumGo)
	if err := os.WriteFile(filepath.Join(dir, "parity.md"), md.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", md.String())
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// cpuSeconds is the process's user plus system CPU time.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// writeNPY writes x (n×d float32, row-major) as a version 1.0 .npy file.
func writeNPY(t *testing.T, path string, x []float32, n, d int) {
	t.Helper()
	h := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, d)
	pad := 64 - (10+len(h)+1)%64
	h += strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	_ = binary.Write(&b, binary.LittleEndian, uint16(len(h)))
	b.WriteString(h)
	_ = binary.Write(&b, binary.LittleEndian, x[:n*d])
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
