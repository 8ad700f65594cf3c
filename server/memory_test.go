package server

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The memory check of issue #21: eight clients declaring 1 GiB bodies,
// peak RSS under the configured body memory plus 100 MB. It moves
// gigabytes over loopback, so it runs only when asked:
//
//	ODDITY_SERVER_MEMTEST=1 go test ./server/ -run TestBodyMemoryPeak -v
//
// Each scenario runs in a child process of the test binary, so that its
// peak RSS (VmHWM) is its own.
func TestBodyMemoryPeak(t *testing.T) {
	if os.Getenv("ODDITY_SERVER_MEMTEST") == "" {
		t.Skip("set ODDITY_SERVER_MEMTEST=1 to run the memory check (moves gigabytes over loopback)")
	}
	for _, sc := range memScenarios {
		cmd := exec.Command(os.Args[0], "-test.run=^TestBodyMemoryChild$", "-test.v")
		cmd.Env = append(os.Environ(), "ODDITY_MEMTEST_SCENARIO="+sc.name)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", sc.name, err, out)
		}
		m := regexp.MustCompile(`RESULT (.*)`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("%s: no result in\n%s", sc.name, out)
		}
		t.Logf("%s: %s", sc.name, m[1])
		num := func(key string) float64 {
			v, _ := strconv.ParseFloat(string(regexp.MustCompile(key + `=([0-9.]+)`).FindSubmatch(m[1])[1]), 64)
			return v
		}
		v := num("peak_rss_mb")
		if bound := num("body_memory_mb") + 100; v > bound {
			t.Errorf("%s: peak RSS %.0f MB over the bound %.0f MB (body memory + 100 MB)", sc.name, v, bound)
		}
	}
}

type memScenario struct {
	name string
	opt  Options
	// declare is the Content-Length each client declares; send is how
	// many bytes it sends before it stops writing; stall is how long it
	// then waits for the answer beyond the server's deadlines; repeat is
	// how many requests each client makes in a row.
	declare, send int64
	stall         time.Duration
	repeat        int
}

var memScenarios = []memScenario{
	// The attack on the defaults: refused before reading.
	{"defaults, declare 1 GiB, send 4 MiB", Options{}, 1 << 30, 4 << 20, 2 * time.Second, 1},
	// A server that takes 1 GiB bodies (body memory raised to 2 GiB):
	// 4 MiB sent, then silence until the read deadline (408).
	{"max-body 1 GiB, declare 1 GiB, send 4 MiB", Options{MaxBodyBytes: 1 << 30}, 1 << 30, 4 << 20, 2 * time.Second, 1},
	// The same server, eight clients sending their 1 GiB as fast as
	// loopback goes: the body memory bound answers 503.
	{"max-body 1 GiB, declare 1 GiB, send all", Options{MaxBodyBytes: 1 << 30}, 1 << 30, 1 << 30, 0, 1},
	// Defaults but 64 MiB bodies: eight clients each sending three
	// bodies of 60 MiB in a row, well-formed JSON.
	{"max-body 64 MiB, 60 MiB bodies, 3 each", Options{MaxBodyBytes: 64 << 20}, 60 << 20, 60 << 20, 0, 3},
}

func TestBodyMemoryChild(t *testing.T) {
	name := os.Getenv("ODDITY_MEMTEST_SCENARIO")
	if name == "" {
		t.Skip("run by TestBodyMemoryPeak")
	}
	var sc memScenario
	for _, s := range memScenarios {
		if s.name == name {
			sc = s
		}
	}
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	sc.opt.Dir, sc.opt.Logger, sc.opt.Timeout = dir, quietLogger(), 5*time.Second
	s, err := New(sc.opt)
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := startRun(t, s, "127.0.0.1:0")
	defer stop()
	base := procStatus(t, "VmRSS")
	start := time.Now()
	codes := make([]string, 8)
	var wg sync.WaitGroup
	// The body: a valid request, padded with spaces to its length.
	head := []byte(`{"inputs":[{"name":"input","shape":[1,3],"data":[1,2,3]}]}`)
	pad := bytes.Repeat([]byte(" "), 1<<20)
	for c := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got []string
			for k := 0; k < sc.repeat; k++ {
				got = append(got, memRequest(addr, sc, head, pad))
			}
			codes[c] = strings.Join(got, ", ")
		}()
	}
	wg.Wait()
	fmt.Printf("RESULT base_rss_mb=%.0f peak_rss_mb=%.0f body_memory_mb=%d seconds=%.1f answers=%s\n", base, procStatus(t, "VmHWM"),
		s.opt.MaxBodyMemory>>20, time.Since(start).Seconds(), strings.Join(codes, "; "))
}

// memRequest sends one request of the scenario and returns its status and
// how much of the body was sent.
func memRequest(addr string, sc memScenario, head, pad []byte) string {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return err.Error()
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v2/models/rows/infer HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", sc.declare)
	resp := make(chan string, 1)
	go func() {
		r, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			resp <- "no answer (" + err.Error() + ")"
			return
		}
		io.Copy(io.Discard, r.Body)
		resp <- strconv.Itoa(r.StatusCode)
	}()
	sent := int64(0)
	if n, err := conn.Write(head[:min(int64(len(head)), sc.send)]); err == nil {
		sent += int64(n)
	}
	for sent < sc.send {
		n, err := conn.Write(pad[:min(int64(len(pad)), sc.send-sent)])
		sent += int64(n)
		if err != nil {
			break
		}
		select {
		case code := <-resp:
			return fmt.Sprintf("%s after %d MiB", code, sent>>20)
		default:
		}
	}
	select {
	case code := <-resp:
		return fmt.Sprintf("%s after %d MiB", code, sent>>20)
	case <-time.After(sc.stall + 30*time.Second):
		return "no answer in time"
	}
}

// procStatus returns a /proc/self/status field in MB.
func procStatus(t *testing.T, field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc/self/status")
	}
	m := regexp.MustCompile(field + `:\s+(\d+) kB`).FindSubmatch(b)
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v / 1024
}
