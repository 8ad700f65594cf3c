// Package progress reports long work: a progress bar with rate and ETA when
// stderr is a terminal (github.com/schollz/progressbar), and a log line every
// few seconds otherwise (CI logs, pipes), so long runs never look hung.
package progress

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// Bar tracks one phase of work.
type Bar struct {
	mu      sync.Mutex
	desc    string
	total   int
	done    int
	start   time.Time
	last    time.Time
	every   time.Duration
	w       io.Writer
	bar     *progressbar.ProgressBar
	metrics map[string]float64
}

// New starts a bar for total units of work described by desc, writing to
// stderr.
func New(desc string, total int) *Bar {
	return NewTo(os.Stderr, desc, total, isTerminal(os.Stderr))
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// NewTo starts a bar writing to w: an animated bar when tty is true, log
// lines every 5 seconds otherwise.
func NewTo(w io.Writer, desc string, total int, tty bool) *Bar {
	b := &Bar{desc: desc, total: total, start: time.Now(), every: 5 * time.Second, w: w}
	b.last = b.start
	if tty {
		b.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	return b
}

// Add records n more units done, with the latest metrics (may be nil).
func (b *Bar) Add(n int, metrics map[string]float64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.done += n
	if metrics != nil {
		b.metrics = metrics
	}
	if b.bar != nil {
		if b.metrics != nil {
			b.bar.Describe(b.desc + " " + formatMetrics(b.metrics))
		}
		_ = b.bar.Add(n)
		return
	}
	if now := time.Now(); now.Sub(b.last) >= b.every || b.done == b.total {
		b.last = now
		fmt.Fprintln(b.w, b.line(now))
	}
}

func (b *Bar) line(now time.Time) string {
	el := now.Sub(b.start).Seconds()
	rate := float64(b.done) / max(el, 1e-9)
	s := fmt.Sprintf("%s: %d/%d (%.1f%%) %.1f/s elapsed %s", b.desc, b.done, b.total,
		100*float64(b.done)/float64(max(b.total, 1)), rate, time.Duration(el*float64(time.Second)).Round(time.Second))
	if rate > 0 && b.done < b.total {
		eta := time.Duration(float64(b.total-b.done) / rate * float64(time.Second))
		s += " eta " + eta.Round(time.Second).String()
	}
	if b.metrics != nil {
		s += " " + formatMetrics(b.metrics)
	}
	return s
}

// Finish closes the bar and prints a summary line with the elapsed time.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.bar != nil {
		_ = b.bar.Finish()
	}
	fmt.Fprintf(b.w, "%s: done %d in %s", b.desc, b.done, time.Since(b.start).Round(time.Millisecond))
	if b.metrics != nil {
		fmt.Fprint(b.w, " "+formatMetrics(b.metrics))
	}
	fmt.Fprintln(b.w)
}

func formatMetrics(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%.4g", k, m[k])
	}
	return strings.Join(parts, " ")
}
