package main

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium returns the path of a headless-capable Chromium, skipping the
// test when there is none, or failing it when CI requires one
// (ODDITY_REQUIRE_CHROMIUM=1, which .ci/run sets after installing
// Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("ODDITY_REQUIRE_CHROMIUM") == "1" {
		t.Fatal("no chromium on PATH, and ODDITY_REQUIRE_CHROMIUM=1")
	}
	t.Skip("no chromium on PATH (apt-get install chromium): the report is not rendered")
	return ""
}

// TestDetectReportRenders writes oddity detect's report for a messy table
// and renders it in headless Chromium: the page must load with no console
// error, every picture (the score histogram) must decode, and the
// screenshot must not be blank.
func TestDetectReportRenders(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(11, 12))
	var b strings.Builder
	b.WriteString("id,amount,country,note\n")
	for i := 0; i < 300; i++ {
		amount := fmt.Sprintf("%.2f", 20+5*r.NormFloat64())
		if i%50 == 9 {
			amount = "400"
		}
		if i%23 == 4 {
			amount = "NA"
		}
		fmt.Fprintf(&b, "T%d,%s,%s,%s\n", i, amount, []string{"FR", "DE"}[i%2], []string{"", "ok"}[i%2])
	}
	in := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(in, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if _, stderr, err := runRoot(t, "detect", in, "--id-column", "id", "--out", out); err != nil {
		t.Fatalf("detect: %v\n%s", err, stderr)
	}
	page := "file://" + filepath.Join(out, "report.html")
	run := func(args ...string) (stdout, stderr string) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
			"--user-data-dir=" + filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"}
		cmd := exec.CommandContext(ctx, bin, append(append(base, args...), page)...)
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		if err := cmd.Run(); err != nil {
			t.Fatalf("chromium %v: %v\n%s", args, err, e.String())
		}
		return o.String(), e.String()
	}
	dom, logs := run("--dump-dom")
	if m := regexp.MustCompile(`(?m)^.*CONSOLE.*$|^.*Uncaught.*$`).FindAllString(logs, -1); len(m) > 0 {
		t.Errorf("console messages while rendering the report:\n%s", strings.Join(m, "\n"))
	}
	if !strings.Contains(dom, `data-broken-images="0"`) {
		t.Errorf("the report's pictures did not all load (self-check: %s)", regexp.MustCompile(`data-broken-images="[^"]*"`).FindString(dom))
	}
	for _, want := range []string{"Top 10 anomalies", "amount", "country", "why (column contributions)"} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	shot := filepath.Join(dir, "report.png")
	run("--screenshot="+shot, "--window-size=1200,1600")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	// A blank page is one colour; the report has text, a table and a chart.
	colours := map[uint32]bool{}
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y += 7 {
		for x := bd.Min.X; x < bd.Max.X; x += 7 {
			r, g, b, _ := img.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	if len(colours) < 20 {
		t.Errorf("screenshot has %d colours: blank page?", len(colours))
	}
	if dst := os.Getenv("ODDITY_REPORT_SCREENSHOT"); dst != "" {
		b, _ := os.ReadFile(shot)
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			t.Error(err)
		}
	}
}
