// Command soak runs `oddity serve` as a subprocess on loopback under a
// long mixed load and checks that it stays correct and bounded: 64
// clients send valid requests and every attack the server is hardened
// against, while the model folder changes every 30 s (a new valid model,
// a corrupt file, a truncated file, a GANomaly file whose header claims
// width 2000, a new version, a version removed) and the server is told to
// reload (SIGHUP). At the end it reports the answers by kind and status
// and checks:
//
//   - no valid request failed (each must be a 200 with finite scores);
//   - no answer was a 5xx, and no attack was answered 200;
//   - the server is alive at the end (liveness 200) and stops cleanly on
//     SIGTERM (exit status 0), and its log has no panic;
//   - its resident memory at the end is within 20% of that after the
//     warm-up.
//
// Usage (from the repository root; it builds ./cmd/oddity unless --bin
// names a binary):
//
//	go run ./scripts/soak --duration 10m
//	go run ./scripts/soak --duration 1m --warmup 15s --reload-every 5s
//	go run ./scripts/soak --serve-flag=--watch --hup=false   # reload by watching only
//	go run ./scripts/soak --serve-flag=--dynamic-batch=16     # batch the image requests
//
// The models are trained at start, small, on synthetic data with fixed
// seeds: an Isolation Forest "tab" (8 features), a GANomaly "img" (1×16×16
// images, width 8, one epoch), and a versioned Isolation Forest "vm"
// (vm/1.odm, vm/2.odm, and vm/3.odm coming and going). The exit status is
// 1 when a check fails.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/iforest"
)

// Geometry of the soak's models.
const (
	tabDim  = 8
	imgSide = 16
	imgDim  = imgSide * imgSide
	// maxBatch is the server's --max-batch, so that "too many rows" is
	// cheap to send.
	maxBatch = 1000
	// maxBody is the server's --max-body.
	maxBody = 1 << 20
)

func main() {
	var (
		duration  = flag.Duration("duration", 10*time.Minute, "how long the load runs")
		warmup    = flag.Duration("warmup", time.Minute, "time after which the baseline resident memory is read")
		reload    = flag.Duration("reload-every", 30*time.Second, "time between changes of the model folder (each followed by SIGHUP)")
		clients   = flag.Int("clients", 64, "concurrent clients")
		bin       = flag.String("bin", "", "oddity binary (default: go build ./cmd/oddity into a temporary folder)")
		seed      = flag.Uint64("seed", 1, "seed of the models and of the clients' choices")
		keep      = flag.Bool("keep", false, "keep the temporary folder (models, server log)")
		hup       = flag.Bool("hup", true, "send SIGHUP after each folder change (false: rely on --serve-flag=--watch)")
		serveFlag multiFlag
	)
	flag.Var(&serveFlag, "serve-flag", "extra flag for oddity serve (repeatable), e.g. --serve-flag=--watch")
	flag.Parse()
	if err := run(*duration, *warmup, *reload, *clients, *bin, *seed, *keep, *hup, serveFlag); err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, " ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// errChecks is returned when the soak ran but a check failed.
var errChecks = errors.New("some checks failed")

func run(duration, warmup, reloadEvery time.Duration, nClients int, bin string, seed uint64, keep, hup bool, extra []string) error {
	tmp, err := os.MkdirTemp("", "oddity-soak-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(tmp)
	}
	if bin == "" {
		bin = filepath.Join(tmp, "oddity")
		fmt.Println("building ./cmd/oddity ...")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/oddity")
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build: %w", err)
		}
	}
	fmt.Println("training the models ...")
	m, err := makeModels(filepath.Join(tmp, "variants"), seed)
	if err != nil {
		return err
	}
	dir := filepath.Join(tmp, "models")
	if err := m.install(dir); err != nil {
		return err
	}
	srv, err := startServer(bin, dir, filepath.Join(tmp, "server.log"), extra)
	if err != nil {
		return err
	}
	defer srv.kill()
	fmt.Printf("server pid %d on %s; %d clients for %v, a folder change every %v\n", srv.cmd.Process.Pid, srv.addr, nClients, duration, reloadEvery)

	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	st := newStats()
	var wg sync.WaitGroup
	for c := 0; c < nClients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := newClient(srv.addr, m, seed, uint64(c), st)
			for ctx.Err() == nil {
				cl.once(ctx)
			}
		}()
	}
	// Folder changes and reloads.
	reloads := 0
	var reloadLog []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(reloadEvery)
		defer t.Stop()
		for i := 0; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			what, err := m.change(dir, i)
			if err != nil {
				reloadLog = append(reloadLog, fmt.Sprintf("change %d failed: %v", i, err))
				continue
			}
			if hup {
				if err := srv.cmd.Process.Signal(syscall.SIGHUP); err != nil {
					reloadLog = append(reloadLog, fmt.Sprintf("SIGHUP failed: %v", err))
				}
			}
			reloads++
			reloadLog = append(reloadLog, fmt.Sprintf("%7.1fs  %s", time.Since(st.start).Seconds(), what))
		}
	}()
	// Memory.
	var rssWarm, rssMax float64
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Second)
		defer t.Stop()
		warm := time.After(warmup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-warm:
				rssWarm = rss(srv.cmd.Process.Pid)
			case <-t.C:
				rssMax = max(rssMax, rss(srv.cmd.Process.Pid))
			}
		}
	}()
	wg.Wait()
	rssEnd := rss(srv.cmd.Process.Pid)
	alive := liveness(srv.addr)
	metrics := scrape(srv.addr, "oddity_batch_samples_sum", "oddity_batch_samples_count", "oddity_watch_reloads_total",
		"oddity_model_load_failures_total", "oddity_model_versions_loaded", "oddity_shed_requests_total", "go_goroutines")
	code, stopErr := srv.stop(30 * time.Second)
	panics := countInFile(srv.logPath, "panic")

	// Report.
	el := time.Since(st.start)
	fmt.Printf("\n%d requests in %v (%.0f/s), %d folder changes (SIGHUP after each: %v; serve flags %q)\n\n", st.total.Load(), el.Round(time.Second), float64(st.total.Load())/el.Seconds(), reloads, hup, extra)
	st.print()
	fmt.Println("\nserver metrics at the end:")
	for _, l := range metrics {
		fmt.Println("  " + l)
	}
	fmt.Println("\nfolder changes:")
	for _, l := range reloadLog {
		fmt.Println("  " + l)
	}
	ok := true
	check := func(pass bool, format string, a ...any) {
		mark := "PASS"
		if !pass {
			mark, ok = "FAIL", false
		}
		fmt.Printf("%s  %s\n", mark, fmt.Sprintf(format, a...))
	}
	fmt.Println()
	check(st.validFailed.Load() == 0, "valid requests failed: %d of %d", st.validFailed.Load(), st.valid.Load())
	check(st.fiveXX.Load() == 0, "5xx answers: %d", st.fiveXX.Load())
	check(st.attackOK.Load() == 0, "attacks answered 200: %d of %d", st.attackOK.Load(), st.attacks.Load())
	check(alive, "server alive at the end (GET /v2/health/live)")
	check(stopErr == nil && code == 0, "server stopped cleanly on SIGTERM (exit status %d, %v)", code, stopErr)
	check(panics == 0, "panics in the server log: %d", panics)
	ratio := rssEnd / rssWarm
	check(rssWarm > 0 && ratio <= 1.2, "resident memory: %.1f MiB after the %v warm-up, %.1f MiB at the end (%.2f×; at most 1.20×), peak %.1f MiB",
		rssWarm/(1<<20), warmup, rssEnd/(1<<20), ratio, rssMax/(1<<20))
	if keep {
		fmt.Println("kept", tmp)
	}
	if !ok {
		return errChecks
	}
	return nil
}

// models holds the soak's model files as bytes: the valid variants and
// the bad ones, swapped into the folder on schedule.
type models struct {
	tabA, tabB, imgValid, vm1, vm2, vm3 []byte
	// corrupt has a byte flipped in the middle (a checksum failure);
	// truncated is cut in half; hostile is a GANomaly file whose header
	// claims width 2000.
	corrupt, truncated, hostile []byte
	// imgs are valid images for the clients, rows valid table rows.
	imgs [][]float32
}

// makeModels trains the models (fixed seeds) and keeps their files.
func makeModels(dir string, seed uint64) (*models, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ctx := context.Background()
	save := func(name string, m *detector.Model) ([]byte, error) {
		p := filepath.Join(dir, name)
		if err := m.SaveFile(p); err != nil {
			return nil, err
		}
		return os.ReadFile(p)
	}
	forest := func(s uint64) (*detector.Model, error) {
		r := rand.New(rand.NewPCG(seed, s))
		x := &data.Dataset{Name: "tab", N: 2000, Shape: []int{tabDim}, X: make([]float32, 2000*tabDim)}
		for i := range x.X {
			x.X[i] = float32(r.NormFloat64())
		}
		o := iforest.DefaultOptions()
		o.Seed = s
		return detector.Fit(ctx, iforest.New(o), detector.TrainSet{X: x}, detector.ThresholdRule{Contamination: 0.05})
	}
	out := &models{}
	for _, v := range []struct {
		dst  *[]byte
		name string
		s    uint64
	}{{&out.tabA, "tabA", 1}, {&out.tabB, "tabB", 2}, {&out.vm1, "vm1", 3}, {&out.vm2, "vm2", 4}, {&out.vm3, "vm3", 5}} {
		m, err := forest(v.s)
		if err != nil {
			return nil, err
		}
		if *v.dst, err = save(v.name+".odm", m); err != nil {
			return nil, err
		}
	}
	// GANomaly on bright-bar images.
	r := rand.New(rand.NewPCG(seed, 6))
	imgs := &data.Dataset{Name: "img", N: 64, Shape: []int{1, imgSide, imgSide}, X: make([]float32, 64*imgDim)}
	for i := 0; i < imgs.N; i++ {
		img := imgs.X[i*imgDim : (i+1)*imgDim]
		for j := range img {
			img[j] = 0.1 * r.Float32()
		}
		row := r.IntN(imgSide)
		for j := 0; j < imgSide; j++ {
			img[row*imgSide+j] = 0.8 + 0.2*r.Float32()
		}
		out.imgs = append(out.imgs, img)
	}
	o := ganomaly.DefaultOptions()
	o.Width, o.NZ, o.Epochs, o.BatchSize, o.MaxImages = 8, 8, 1, 32, 64
	o.ValFraction, o.Select, o.Seed = 0, ganomaly.SelectLast, seed
	gm, err := detector.Fit(ctx, ganomaly.New(o), detector.TrainSet{X: imgs}, detector.ThresholdRule{Contamination: 0.05})
	if err != nil {
		return nil, err
	}
	if out.imgValid, err = save("img.odm", gm); err != nil {
		return nil, err
	}
	// The hostile header: the same file, its options claiming width 2000.
	p, err := gm.Detector.Marshal()
	if err != nil {
		return nil, err
	}
	var cfg map[string]any
	if err := json.Unmarshal(p.Config, &cfg); err != nil {
		return nil, err
	}
	cfg["options"].(map[string]any)["width"] = 2000
	if p.Config, err = json.Marshal(cfg); err != nil {
		return nil, err
	}
	hm := *gm
	hm.Detector = &frozen{method: gm.Detector.Method(), p: p}
	if out.hostile, err = save("hostile.odm", &hm); err != nil {
		return nil, err
	}
	out.corrupt = bytes.Clone(out.tabB)
	out.corrupt[len(out.corrupt)/2] ^= 0xff
	out.truncated = out.tabB[:len(out.tabB)/2]
	return out, nil
}

// frozen is a detector that only gives back a stored payload: it writes
// a model file with a tampered header.
type frozen struct {
	method string
	p      *detector.Payload
}

func (f *frozen) Method() string                               { return f.method }
func (f *frozen) Fit(context.Context, detector.TrainSet) error { return errors.New("frozen") }
func (f *frozen) Marshal() (*detector.Payload, error)          { return f.p, nil }
func (f *frozen) Unmarshal(*detector.Payload) error            { return errors.New("frozen") }
func (f *frozen) Score(context.Context, *data.Dataset) ([]float64, error) {
	return nil, errors.New("frozen")
}

// put writes b to path by an atomic rename, as a deployment would.
func put(path string, b []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// install writes the starting folder: tab, img, vm/1, vm/2.
func (m *models) install(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "vm"), 0o755); err != nil {
		return err
	}
	for path, b := range map[string][]byte{"tab.odm": m.tabA, "img.odm": m.imgValid, "vm/1.odm": m.vm1, "vm/2.odm": m.vm2} {
		if err := put(filepath.Join(dir, path), b); err != nil {
			return err
		}
	}
	return nil
}

// change makes the i-th folder change of the cycle and says what it was.
func (m *models) change(dir string, i int) (string, error) {
	steps := []struct {
		what string
		file string
		b    []byte
	}{
		{"tab.odm: a new valid model", "tab.odm", m.tabB},
		{"tab.odm: corrupt (a byte flipped)", "tab.odm", m.corrupt},
		{"img.odm: GANomaly header claiming width 2000", "img.odm", m.hostile},
		{"vm/3.odm: a new version", "vm/3.odm", m.vm3},
		{"tab.odm: truncated", "tab.odm", m.truncated},
		{"img.odm: valid again", "img.odm", m.imgValid},
		{"vm/3.odm: corrupt replacement", "vm/3.odm", m.corrupt},
		{"vm/3.odm: removed", "vm/3.odm", nil},
		{"tab.odm: the first valid model again", "tab.odm", m.tabA},
	}
	s := steps[i%len(steps)]
	path := filepath.Join(dir, s.file)
	if s.b == nil {
		return s.what, os.Remove(path)
	}
	// A new file each time (a new inode), so that the reload reads it.
	return s.what, put(path, s.b)
}

// server is the oddity serve subprocess.
type server struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	done    chan error
}

func startServer(bin, dir, logPath string, extra []string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--models", dir, "--addr", addr, "--max-batch", strconv.Itoa(maxBatch),
		"--max-body", strconv.Itoa(maxBody), "--grace", "20s"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, addr: addr, logPath: logPath, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/v2/health/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("oddity serve exited before it was ready (%v); its log: %s", err, logPath)
		case <-time.After(100 * time.Millisecond):
		}
	}
	s.kill()
	return nil, fmt.Errorf("oddity serve not ready after 60 s; its log: %s", logPath)
}

// stop sends SIGTERM and waits for the exit status.
func (s *server) stop(grace time.Duration) (int, error) {
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return -1, err
	}
	select {
	case err := <-s.done:
		s.done <- err
		if err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				return ee.ExitCode(), nil
			}
			return -1, err
		}
		return 0, nil
	case <-time.After(grace):
		return -1, errors.New("no exit within the grace period")
	}
}

// kill ends the server if it still runs.
func (s *server) kill() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Kill()
	}
}

// rss is the process's resident memory in bytes (0 when unreadable).
func rss(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb * 1024
		}
	}
	return 0
}

func liveness(addr string) bool {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/v2/health/live")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// scrape returns the lines of the server's /metrics that start with one
// of the names.
func scrape(addr string, names ...string) []string {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + addr + "/metrics")
	if err != nil {
		return []string{"metrics: " + err.Error()}
	}
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		for _, n := range names {
			if strings.HasPrefix(sc.Text(), n) {
				out = append(out, sc.Text())
			}
		}
	}
	return out
}

// countInFile counts the lines of path containing s.
func countInFile(path, s string) int {
	f, err := os.Open(path)
	if err != nil {
		return -1
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n
}

// stats counts the answers.
type stats struct {
	start                              time.Time
	total, valid, validFailed, attacks atomic.Int64
	fiveXX, attackOK                   atomic.Int64
	mu                                 sync.Mutex
	codes                              map[string]map[string]int // kind → code → count
	firstFailure                       map[string]string
}

func newStats() *stats {
	return &stats{start: time.Now(), codes: map[string]map[string]int{}, firstFailure: map[string]string{}}
}

// record notes one answer: code is the status, or a word for a transport
// outcome ("closed" when the server closed the connection unanswered).
func (st *stats) record(kind string, valid bool, code string, failed bool, detail string) {
	st.total.Add(1)
	if valid {
		st.valid.Add(1)
		if failed {
			st.validFailed.Add(1)
		}
	} else {
		st.attacks.Add(1)
		if code == "200" {
			st.attackOK.Add(1)
			failed = true
		}
	}
	if strings.HasPrefix(code, "5") {
		st.fiveXX.Add(1)
		failed = true
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.codes[kind] == nil {
		st.codes[kind] = map[string]int{}
	}
	st.codes[kind][code]++
	if failed && st.firstFailure[kind] == "" {
		if len(detail) > 300 {
			detail = detail[:300]
		}
		st.firstFailure[kind] = code + " " + detail
	}
}

func (st *stats) print() {
	st.mu.Lock()
	defer st.mu.Unlock()
	kinds := make([]string, 0, len(st.codes))
	for k := range st.codes {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	fmt.Printf("%-22s %9s  %s\n", "kind", "requests", "answers by status")
	for _, k := range kinds {
		n := 0
		var parts []string
		codes := make([]string, 0, len(st.codes[k]))
		for c := range st.codes[k] {
			codes = append(codes, c)
		}
		sort.Strings(codes)
		for _, c := range codes {
			n += st.codes[k][c]
			parts = append(parts, fmt.Sprintf("%s:%d", c, st.codes[k][c]))
		}
		fmt.Printf("%-22s %9d  %s\n", k, n, strings.Join(parts, " "))
		if f := st.firstFailure[k]; f != "" {
			fmt.Printf("%-22s %9s  first failure: %s\n", "", "", f)
		}
	}
}
