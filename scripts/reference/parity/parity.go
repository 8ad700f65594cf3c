// Package parity runs oddity's detectors and the NumPy reference
// implementations in scripts/reference side by side on the ADBench files,
// on the same splits: it writes each split's training and test rows to
// .npy files, runs the reference with /usr/bin/python3, reads its scores
// back, and compares them with oddity's (largest relative difference,
// AUC-ROC of each) and the two implementations' fit-and-score times.
//
// The detectors' parity tests (ecod, copod, hbos, loda) call it when the
// environment sets ODDITY_PARITY=1:
//
//	ODDITY_PARITY=1 go test -run Parity -v ./ecod/
//
// It is test support, not part of oddity's API.
package parity

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/data/protocol"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/metrics"
)

// Enabled reports whether ODDITY_PARITY=1 asks for the parity runs.
func Enabled() bool { return os.Getenv("ODDITY_PARITY") == "1" }

// Python is the interpreter the references run with.
const Python = "/usr/bin/python3"

// Split is one ADBench train/test split, as the suite's unsupervised
// cells build it: stratified 70/30, min-max scaled on the training part,
// no labelled anomalies.
type Split struct {
	File        string
	Seed        uint64
	Train, Test *data.Dataset
}

// ADBench returns the split of each ADBench file for each seed: of every
// file, or of the files named (without .npz).
// The data sets are looked for where $ODDITY_DATASETS says, or in
// ../shared/datasets beside the repository root.
func ADBench(seeds []uint64, only ...string) ([]Split, error) {
	if os.Getenv(catalog.EnvRoot) == "" {
		root, err := RepoRoot()
		if err != nil {
			return nil, err
		}
		catalog.SetRoot(filepath.Join(root, "..", "shared", "datasets"))
	}
	files, err := catalog.ADBench()
	if err != nil {
		return nil, err
	}
	var out []Split
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".npz")
		if len(only) > 0 && !slices.Contains(only, name) {
			continue
		}
		sp, err := catalog.Load("adbench/" + name)
		if err != nil {
			return nil, err
		}
		for _, s := range seeds {
			ss, err := protocol.ADBench(sp.Train, protocol.ADBenchOptions{Seed: s})
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			out = append(out, Split{File: name, Seed: s, Train: ss.TrainUnlabeled, Test: ss.Test})
		}
	}
	return out, nil
}

// RepoRoot returns the repository root: the nearest folder above the
// working directory holding go.mod.
func RepoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		up := filepath.Dir(d)
		if up == d {
			return "", errors.New("parity: no go.mod above the working directory")
		}
		d = up
	}
}

// WriteNPY writes n rows of d float32 values as a C-order '<f4' array.
func WriteNPY(path string, x []float32, n, d int) error {
	hdr := fmt.Sprintf("{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", n, d)
	pad := 64 - (10+len(hdr)+1)%64
	hdr += strings.Repeat(" ", pad%64) + "\n"
	var b bytes.Buffer
	b.WriteString("\x93NUMPY\x01\x00")
	_ = binary.Write(&b, binary.LittleEndian, uint16(len(hdr)))
	b.WriteString(hdr)
	_ = binary.Write(&b, binary.LittleEndian, x)
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// ReadNPY reads a 1-D C-order '<f8' array (a reference's scores).
func ReadNPY(path string) ([]float64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" || b[6] != 1 {
		return nil, fmt.Errorf("%s: not an NPY 1.0 file", path)
	}
	hl := int(binary.LittleEndian.Uint16(b[8:10]))
	if len(b) < 10+hl {
		return nil, fmt.Errorf("%s: truncated header", path)
	}
	hdr := string(b[10 : 10+hl])
	if !strings.Contains(hdr, "'<f8'") || !strings.Contains(hdr, "False") {
		return nil, fmt.Errorf("%s: header %q, want C-order <f8", path, hdr)
	}
	body := b[10+hl:]
	if len(body)%8 != 0 {
		return nil, fmt.Errorf("%s: %d data bytes", path, len(body))
	}
	out := make([]float64, len(body)/8)
	for i := range out {
		out[i] = math.Float64frombits(binary.LittleEndian.Uint64(body[8*i:]))
	}
	return out, nil
}

// Reference is what a reference run returns: its scores and its best
// fit-plus-score times over the repeats.
type Reference struct {
	Scores []float64
	Time   Time
}

// Time is the best fit-plus-score time over the repeats: wall clock and
// CPU time (user and system, all threads), in seconds. On a machine
// shared with other work the CPU time is the steadier measure of the work
// done; the wall clock shows what parallel threads gain.
type Time struct {
	Wall, CPU float64
}

// RunReference writes the split to dir, runs script (a path relative to
// the repository root) with args after the file arguments, and reads its
// scores. The script prints a JSON object with "seconds".
func RunReference(dir, script string, sp Split, args ...string) (*Reference, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	tr, te, out := filepath.Join(dir, "train.npy"), filepath.Join(dir, "test.npy"), filepath.Join(dir, "scores.npy")
	if err := WriteNPY(tr, sp.Train.X, sp.Train.N, sp.Train.Dim()); err != nil {
		return nil, err
	}
	if err := WriteNPY(te, sp.Test.X, sp.Test.N, sp.Test.Dim()); err != nil {
		return nil, err
	}
	cmd := exec.Command(Python, append([]string{filepath.Join(root, script), tr, te, out}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: %v: %s", script, err, stderr.String())
	}
	var r struct {
		Seconds float64 `json:"seconds"`
		CPU     float64 `json:"cpu_seconds"`
	}
	if err := json.Unmarshal(stdout, &r); err != nil {
		return nil, fmt.Errorf("%s printed %q: %v", script, stdout, err)
	}
	s, err := ReadNPY(out)
	if err != nil {
		return nil, err
	}
	if len(s) != sp.Test.N {
		return nil, fmt.Errorf("%s: %d scores for %d test rows", script, len(s), sp.Test.N)
	}
	return &Reference{Scores: s, Time: Time{r.Seconds, r.CPU}}, nil
}

// FitScore fits a detector of the registered method, with the settings
// and seed, on the split's training rows and scores its test rows,
// repeat times; it returns the scores and the best fit-plus-score times.
func FitScore(method string, settings map[string]string, seed uint64, sp Split, repeat int) ([]float64, Time, error) {
	in, err := detector.Lookup(method)
	if err != nil {
		return nil, Time{}, err
	}
	best := Time{math.Inf(1), math.Inf(1)}
	var scores []float64
	for range max(1, repeat) {
		d, err := in.Configure(settings, seed)
		if err != nil {
			return nil, Time{}, err
		}
		start, cpu := time.Now(), CPUTime()
		if err := d.Fit(context.Background(), detector.TrainSet{X: sp.Train}); err != nil {
			return nil, Time{}, err
		}
		s, err := d.Score(context.Background(), sp.Test)
		if err != nil {
			return nil, Time{}, err
		}
		best.Wall = min(best.Wall, time.Since(start).Seconds())
		best.CPU = min(best.CPU, CPUTime()-cpu)
		scores = s
	}
	return scores, best, nil
}

// MaxRelDiff returns the largest |a_i − b_i| / max(|a_i|, |b_i|, tiny)
// over the scores, and its index.
func MaxRelDiff(a, b []float64) (float64, int) {
	worst, at := 0.0, -1
	for i := range a {
		den := max(math.Abs(a[i]), math.Abs(b[i]), 1e-300)
		if r := math.Abs(a[i]-b[i]) / den; r > worst || at < 0 {
			worst, at = r, i
		}
	}
	return worst, at
}

// AUC returns the AUC-ROC of scores against the split's test labels.
func AUC(tb testing.TB, sp Split, scores []float64) float64 {
	tb.Helper()
	a, err := metrics.ROCAUC(scores, sp.Test.Y)
	if err != nil {
		tb.Fatalf("%s seed %d: %v", sp.File, sp.Seed, err)
	}
	return a
}

// Seconds formats a duration in seconds with three significant digits.
func Seconds(s float64) string { return strconv.FormatFloat(s, 'g', 3, 64) }

// CPUTime returns the CPU time the process has used so far, user and
// system, in seconds: on a machine shared with other work, a steadier
// measure of the work done than the wall clock.
func CPUTime() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return math.NaN()
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// Run describes the parity check of a deterministic method: its
// reference script and the variants (option settings and the matching
// script arguments) to compare.
type Run struct {
	Method, Script string
	Variants       []Variant
	// Seeds are the split seeds (default 0, 1, 2).
	Seeds []uint64
	// RelTol bounds the relative difference of every score, AUCTol the
	// difference of each split's AUC-ROC.
	RelTol, AUCTol float64
}

// Variant is one configuration of a Run.
type Variant struct {
	Name     string
	Settings map[string]string
	Args     []string
	// Timed variants run three times on each side, and the best times
	// are reported.
	Timed bool
}

// Check runs r on every ADBench split, logging one line per split (the
// largest relative score difference, both AUCs, both times) and the
// totals, and fails the test where a tolerance is exceeded.
func Check(t *testing.T, r Run) {
	t.Helper()
	seeds := r.Seeds
	if seeds == nil {
		seeds = []uint64{0, 1, 2}
	}
	splits, err := ADBench(seeds)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range r.Variants {
		repeat := 1
		if v.Timed {
			repeat = 3
		}
		var goT, refT Time
		worstRel, worstAUC := 0.0, 0.0
		for _, sp := range splits {
			got, gt, err := FitScore(r.Method, v.Settings, 0, sp, repeat)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := RunReference(t.TempDir(), r.Script, sp, append(slices.Clone(v.Args), "--repeat", strconv.Itoa(repeat))...)
			if err != nil {
				t.Fatal(err)
			}
			rel, at := MaxRelDiff(got, ref.Scores)
			ag, ar := AUC(t, sp, got), AUC(t, sp, ref.Scores)
			worstRel, worstAUC = max(worstRel, rel), max(worstAUC, math.Abs(ag-ar))
			goT.Wall += gt.Wall
			goT.CPU += gt.CPU
			refT.Wall += ref.Time.Wall
			refT.CPU += ref.Time.CPU
			t.Logf("%-6s %-16s seed %d  n=%6d d=%3d  max rel diff %.1e  AUC %.4f ref %.4f  wall %ss ref %ss (%.0f×)  cpu %ss ref %ss (%.0f×)",
				v.Name, sp.File, sp.Seed, sp.Train.N, sp.Train.Dim(), rel, ag, ar,
				Seconds(gt.Wall), Seconds(ref.Time.Wall), ref.Time.Wall/gt.Wall, Seconds(gt.CPU), Seconds(ref.Time.CPU), ref.Time.CPU/gt.CPU)
			if rel > r.RelTol {
				t.Errorf("%s %s seed %d: score %d is %v, reference %v (relative difference %.2g)", v.Name, sp.File, sp.Seed, at, got[at], ref.Scores[at], rel)
			}
			if math.Abs(ag-ar) > r.AUCTol {
				t.Errorf("%s %s seed %d: AUC %v, reference %v", v.Name, sp.File, sp.Seed, ag, ar)
			}
		}
		t.Logf("%s: %d splits, largest relative score difference %.1e, largest AUC difference %.1e", v.Name, len(splits), worstRel, worstAUC)
		t.Logf("%s: total fit+score wall %ss, reference %ss (%.1f× faster); CPU %ss, reference %ss (%.1f× less)",
			v.Name, Seconds(goT.Wall), Seconds(refT.Wall), refT.Wall/goT.Wall, Seconds(goT.CPU), Seconds(refT.CPU), refT.CPU/goT.CPU)
	}
}

// BenchCover benchmarks fitting a detector from fresh on the largest
// ADBench file's training split (10_cover, split seed 0: 200,234 rows of 10
// features) and scoring its test split (85,815 rows); it skips without the
// data sets.
func BenchCover(b *testing.B, fresh func() detector.Detector) {
	b.Helper()
	splits, err := ADBench([]uint64{0}, "10_cover")
	if err != nil || len(splits) == 0 {
		b.Skip("no ADBench data:", err)
	}
	sp := splits[0]
	ctx := context.Background()
	for b.Loop() {
		d := fresh()
		if err := d.Fit(ctx, detector.TrainSet{X: sp.Train}); err != nil {
			b.Fatal(err)
		}
		if _, err := d.Score(ctx, sp.Test); err != nil {
			b.Fatal(err)
		}
	}
}
