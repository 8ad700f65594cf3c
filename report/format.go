package report

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/oddity-ml/oddity/metrics"
)

// none marks a missing value in a table.
const none = "—"

// num formats a measure (an AUC, an accuracy) with three decimals.
func num(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

// summary formats a measure over seeds as "mean ± std", or the mean alone
// when a single run measured no spread.
func summary(s metrics.Summary) string {
	if s.N <= 1 && s.Std == 0 {
		return num(s.Mean)
	}
	return num(s.Mean) + " ± " + num(s.Std)
}

// withPaper appends the published figure: "0.812 ± 0.010 (paper 0.846)".
func withPaper(ours string, paper float64, ok bool) string {
	if !ok {
		return ours
	}
	return ours + " (paper " + num(paper) + ")"
}

// seconds formats a duration in seconds with a precision that suits its size.
func seconds(s float64) string {
	switch {
	case math.IsNaN(s) || math.IsInf(s, 0):
		return fmt.Sprint(s)
	case s < 10:
		return strconv.FormatFloat(s, 'f', 2, 64)
	case s < 100:
		return strconv.FormatFloat(s, 'f', 1, 64)
	}
	return strconv.FormatFloat(s, 'f', 0, 64)
}

// clock formats a long duration as "1h 02m 03s (3723 s)".
func clock(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) || s < 0 {
		return fmt.Sprint(s) + " s"
	}
	if s < 59.5 {
		return seconds(s) + " s"
	}
	t := int64(math.Round(s))
	h, m, sec := t/3600, t/60%60, t%60
	c := fmt.Sprintf("%dm %02ds", m, sec)
	if h > 0 {
		c = fmt.Sprintf("%dh %02dm %02ds", h, m, sec)
	}
	return c + " (" + seconds(s) + " s)"
}

// rate formats a throughput in samples per second.
func rate(r float64) string {
	if r <= 0 {
		return none
	}
	if r >= 100 {
		return grouped(int64(math.Round(r)))
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

// bytesIEC formats a memory size in MiB or GiB.
func bytesIEC(b int64) string {
	if b <= 0 {
		return none
	}
	const mib, gib = 1 << 20, 1 << 30
	if b >= gib {
		return strconv.FormatFloat(float64(b)/gib, 'f', 2, 64) + " GiB"
	}
	return strconv.FormatFloat(float64(b)/mib, 'f', 0, 64) + " MiB"
}

// grouped writes an integer with thousands separators: 1,234,567.
func grouped(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// flops formats a FLOP count with an SI prefix: "12.3 MFLOP".
func flops(f int64) string {
	if f <= 0 {
		return none
	}
	v := float64(f)
	for _, p := range []struct {
		scale float64
		unit  string
	}{{1e12, "TFLOP"}, {1e9, "GFLOP"}, {1e6, "MFLOP"}, {1e3, "kFLOP"}} {
		if v >= p.scale {
			return strconv.FormatFloat(v/p.scale, 'f', 2, 64) + " " + p.unit
		}
	}
	return strconv.FormatInt(f, 10) + " FLOP"
}

// stamp formats a time in UTC, or none for the zero time.
func stamp(t time.Time) string {
	if t.IsZero() {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

// count formats a sample count, none for zero.
func count(n int) string {
	if n <= 0 {
		return none
	}
	return grouped(int64(n))
}

// orNone returns s, or none when s is empty.
func orNone(s string) string {
	if s == "" {
		return none
	}
	return s
}
