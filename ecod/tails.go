package ecod

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/oddity-ml/oddity/detector"
)

// ErrInput reports training or scoring data Tails cannot take. It wraps
// detector.ErrInput.
var ErrInput = fmt.Errorf("ecod: %w", detector.ErrInput)

// MaxRows is the largest number of training rows Tails takes: counts are
// held as int32.
const MaxRows = math.MaxInt32 - 1

// skewTol is the relative size under which a feature's third central
// moment counts as zero: a feature whose Σ(x − x̄)³ lies within skewTol ·
// Σ|x − x̄|³ of zero is treated as symmetric (right tail, as γ = 0 is in
// the paper). Rounding moves the sum of a symmetric feature by about 1e-16
// of Σ|x − x̄|³; without the tolerance the side a symmetric feature falls
// on would depend on the order of summation, and two implementations
// (this one and the NumPy reference) could disagree.
const skewTol = 1e-10

// Tails is what ECOD and COPOD learn from training data: for each feature,
// its empirical distribution (the distinct training values with their
// counts) and the sign of its skewness. It answers, for a new value z of
// feature j, the counts #{x ≤ z} and #{x ≥ z} over the n training values,
// and the tail terms −log((#{x ≤ z}+1)/(n+1)) and
// −log((#{x ≥ z}+1)/(n+1)).
//
// Memory: a feature whose training values are all distinct takes 8
// bytes per value (the value and its bucket index); one with repeated
// values 12 bytes per distinct value, and 28 when it has few (it then
// holds its own terms); a table of 8 bytes per training row serves the
// features with many. For continuous data that is about 2 to 4 times the
// training data as float32, for data with few distinct values far less.
// It is read-only once built and safe for concurrent use.
type Tails struct {
	n, d    int
	workers int
	cols    []column
	// neg[j] is true when feature j is skewed to the left (γ_j < 0).
	neg []bool
	// logs[c] = −log((c+1)/(n+1)), c = 0..n, or nil when every feature
	// holds its own terms.
	logs []float64
}

// column is one feature's empirical distribution: its K distinct
// training values, ascending, as order-preserving keys (key), with le[k]
// the number of training values ≤ the k-th (nil when the values are all
// distinct: le[k] = k+1), and a bucket index, linear in
// the value, that narrows each search to a few candidates. A feature with
// few distinct values also holds its tail terms by position (left,
// right), so that scoring reads K+1 nearby numbers rather than the shared
// table.
//
// A value z has position p = #{distinct values ≤ z} in 0..K. Its left
// term is −log((le[p−1]+1)/(n+1)) (le[−1] = 0), left[p]; its right term
// is −log((n − le[p−1] + 1)/(n+1)), right[p], when z is not a training
// value, and right[p−1] when it is (the training values equal to z count
// in the right tail too).
type column struct {
	key         []uint32
	le          []int32 // nil: le[k] = k+1
	left, right []float64
	lo, scale   float64 // bucket of z: ⌊(z − lo)·scale⌋, clamped
	// start[b] is the number of distinct values whose bucket is below b.
	start []int32
}

// cum returns the number of training values ≤ the k-th distinct one
// (0 for k = −1).
func (c *column) cum(k int) int32 {
	switch {
	case k < 0:
		return 0
	case c.le == nil:
		return int32(k + 1)
	}
	return c.le[k]
}

// toKey maps a float32 to a uint32 whose unsigned order is the float
// order (−0 and +0 share a key, as they compare equal). NaN never reaches
// it: inputs are checked first.
func toKey(v float32) uint32 {
	if v == 0 {
		v = 0 // −0 → +0
	}
	b := math.Float32bits(v)
	if b&0x80000000 != 0 {
		return ^b
	}
	return b | 0x80000000
}

// fromKey inverts toKey.
func fromKey(k uint32) float32 {
	if k&0x80000000 != 0 {
		return math.Float32frombits(k &^ 0x80000000)
	}
	return math.Float32frombits(^k)
}

// minWork is the fewest values a goroutine of Fit or Score is started
// for: below it, starting one costs more than it saves.
const minWork = 1 << 15

// FitTails learns the tails of the n rows of d features in x (row-major,
// finite values), using up to workers goroutines (0: GOMAXPROCS). It
// returns ctx's error if ctx is cancelled.
func FitTails(ctx context.Context, x []float32, n, d, workers int) (*Tails, error) {
	if n < 1 || d < 1 || len(x) != n*d {
		return nil, fmt.Errorf("%w: %d values for %d rows of %d features", ErrInput, len(x), n, d)
	}
	if n > MaxRows {
		return nil, fmt.Errorf("%w: %d training rows, at most %d", ErrInput, n, MaxRows)
	}
	t := newTails(n, d, workers)
	// Transpose to one column of keys per feature, a tile at a time (a
	// column read straight from row-major data would miss the cache on
	// every value of a wide table), then sort and index each column.
	keys := make([]uint32, n*d)
	const tile = 64
	tiles := (n + tile - 1) / tile
	err := t.parallel(ctx, tiles, tile*d, func(b int, _ *scratch) {
		for j0 := 0; j0 < d; j0 += tile {
			for i := b * tile; i < min(n, (b+1)*tile); i++ {
				row := x[i*d : (i+1)*d]
				for j := j0; j < min(d, j0+tile); j++ {
					keys[j*n+i] = toKey(row[j])
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	logs := newLogTable(n)
	err = t.parallel(ctx, d, n, func(j int, buf *scratch) {
		col := keys[j*n : (j+1)*n]
		// A feature with few distinct values (counts, categories, a
		// measurement with little resolution: most of ADBench's) is
		// counted in a small hash table; one with many is sorted.
		dk, le, ok := countDistinct(col, buf)
		if !ok {
			radixSort(col, buf.tmp(n))
			dk, le = runs(col)
		}
		t.setColumn(j, dk, le, logs)
	})
	if err != nil {
		return nil, err
	}
	t.logs = logs.t
	return t, nil
}

// NewTails rebuilds Tails from the sorted training values of each
// feature, sorted[j*n : (j+1)*n] ascending for feature j (as Sorted
// returns them), as a loaded model does. The values must be finite and
// ascending; anything else wraps ErrInput.
func NewTails(sorted []float32, n, d, workers int) (*Tails, error) {
	if n < 1 || d < 1 || n > MaxRows || len(sorted) != n*d {
		return nil, fmt.Errorf("%w: %d sorted values for %d rows of %d features", ErrInput, len(sorted), n, d)
	}
	for j := 0; j < d; j++ {
		c := sorted[j*n : (j+1)*n]
		for i, v := range c {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return nil, fmt.Errorf("%w: feature %d: value %d is %v", ErrInput, j, i, v)
			}
			if i > 0 && v < c[i-1] {
				return nil, fmt.Errorf("%w: feature %d: values not ascending at %d", ErrInput, j, i)
			}
		}
	}
	t := newTails(n, d, workers)
	logs := newLogTable(n)
	_ = t.parallel(context.Background(), d, n, func(j int, _ *scratch) {
		keys := make([]uint32, n) // kept by the column when all distinct
		for i, v := range sorted[j*n : (j+1)*n] {
			keys[i] = toKey(v)
		}
		dk, le := runs(keys)
		t.setColumn(j, dk, le, logs)
	})
	t.logs = logs.t
	return t, nil
}

func newTails(n, d, workers int) *Tails {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return &Tails{n: n, d: d, workers: workers, cols: make([]column, d), neg: make([]bool, d)}
}

// logTable gives −log((c+1)/(n+1)) for c = 0..n. A column with few
// distinct values computes its own terms directly; the table, built once
// on first use, serves the columns with many, so that a fit computes at
// most about n + 2·Σ_j min(K_j, n/8) logarithms rather than 2·n·d. Both
// ways give the same values.
type logTable struct {
	n    int
	once sync.Once
	t    []float64
}

func newLogTable(n int) *logTable { return &logTable{n: n} }

func (l *logTable) term(c int32) float64 {
	return -math.Log(float64(c+1) / float64(l.n+1))
}

// table returns the whole table, building it on first use.
func (l *logTable) table() []float64 {
	l.once.Do(func() {
		l.t = make([]float64, l.n+1)
		for c := range l.t {
			l.t[c] = l.term(int32(c))
		}
	})
	return l.t
}

// ownTerms reports whether a column of distinct values holds its terms.
func (l *logTable) ownTerms(distinct int) bool { return 8*distinct < l.n }

// runs returns the distinct keys of sorted (ascending) and, for each,
// the number of keys up to and including it; when every key is distinct,
// sorted itself and nil counts (k+1 for the k-th).
func runs(sorted []uint32) (keys []uint32, le []int32) {
	n := len(sorted)
	distinct := 1
	for i := 1; i < n; i++ {
		if sorted[i] != sorted[i-1] {
			distinct++
		}
	}
	if distinct == n {
		return sorted, nil
	}
	keys, le = make([]uint32, 0, distinct), make([]int32, 0, distinct)
	for i := 1; i <= n; i++ {
		if i == n || sorted[i] != sorted[i-1] {
			keys = append(keys, sorted[i-1])
			le = append(le, int32(i))
		}
	}
	return keys, le
}

// maxHashed is the most distinct values countDistinct counts.
const maxHashed = 1 << 13

// countDistinct counts the distinct keys of col in an open-addressing
// hash table, when there are at most min(maxHashed, len(col)/8) of them,
// and returns them ascending with cumulative counts, as runs would for
// the sorted column. It gives up (ok false) as soon as it meets one
// more; a column of many distinct values costs only the scan to that
// point.
func countDistinct(col []uint32, buf *scratch) (keys []uint32, le []int32, ok bool) {
	limit := min(maxHashed, len(col)/8)
	if limit < 2 {
		return nil, nil, false
	}
	// At least four slots per value, so that probes stay short.
	bits := uint(2)
	for 1<<bits < 4*limit {
		bits++
	}
	tab := buf.table(1 << bits)
	mask := uint32(1)<<bits - 1
	used := 0
	// A slot holds key<<32 | count; no key is 0 (that would be a NaN).
	for _, k := range col {
		h := (k * 0x9E3779B1) >> (32 - bits)
		for {
			e := tab[h]
			if e == 0 {
				used++
				if used > limit {
					return nil, nil, false
				}
				tab[h] = uint64(k)<<32 | 1
				break
			}
			if uint32(e>>32) == k {
				tab[h] = e + 1
				break
			}
			h = (h + 1) & mask
		}
	}
	pairs := make([]uint64, 0, used)
	for _, e := range tab {
		if e != 0 {
			pairs = append(pairs, e)
		}
	}
	slices.Sort(pairs)
	keys, le = make([]uint32, used), make([]int32, used)
	var sum int32
	for i, e := range pairs {
		sum += int32(uint32(e))
		keys[i], le[i] = uint32(e>>32), sum
	}
	return keys, le, true
}

// setColumn records feature j from its distinct training keys, ascending,
// with cumulative counts (le[K−1] = n): the tail terms, the bucket index,
// and the sign of the skewness.
func (t *Tails) setColumn(j int, keys []uint32, le []int32, logs *logTable) {
	distinct := len(keys)
	c := column{key: keys, le: le}
	n := c.cum(distinct - 1)
	if logs.ownTerms(distinct) {
		c.left, c.right = make([]float64, distinct+1), make([]float64, distinct+1)
		c.left[0], c.right[0] = logs.term(0), logs.term(n)
		for k := range distinct {
			le := c.cum(k)
			c.left[k+1], c.right[k+1] = logs.term(le), logs.term(n-le)
		}
	} else {
		logs.table()
	}
	// A bucket for every distinct value, linear in the value between the
	// smallest and the largest.
	lo, hi := float64(fromKey(c.key[0])), float64(fromKey(c.key[distinct-1]))
	nb := distinct
	c.lo = lo
	if hi > lo {
		c.scale = float64(nb) / (hi - lo)
	}
	if math.IsInf(c.scale, 0) || math.IsNaN(c.scale) {
		c.scale = 0 // a range too narrow (or wide) to divide: one bucket
	}
	c.start = make([]int32, nb+1)
	for _, k := range c.key {
		c.start[c.bucket(fromKey(k), nb)+1]++
	}
	for b := 1; b <= nb; b++ {
		c.start[b] += c.start[b-1]
	}
	t.cols[j] = c
	t.neg[j] = c.negativeSkew()
}

// bucket returns the bucket of value v among nb: ⌊(v − lo)·scale⌋ clamped
// to [0, nb−1], a non-decreasing function of v (each rounded operation
// is monotone), so a value of an earlier bucket is below v and one of a
// later bucket above.
func (c *column) bucket(v float32, nb int) int {
	f := (float64(v) - c.lo) * c.scale
	switch {
	case !(f > 0):
		return 0
	case f >= float64(nb-1):
		return nb - 1
	}
	return int(f)
}

// negativeSkew reports whether the feature's values have a negative
// sample skewness: the sign of Σ(x − x̄)³, the numerator of the paper's
// γ (the denominator is positive, or the feature is constant and γ is
// taken as 0), with skewTol's tolerance. It sums over the distinct values
// (ascending, weighted by their counts), so a model rebuilt from its
// sorted values decides the same.
func (c *column) negativeSkew() bool {
	var s float64
	prev := int32(0)
	for k, key := range c.key {
		le := c.cum(k)
		s += float64(le-prev) * float64(fromKey(key))
		prev = le
	}
	mean := s / float64(prev)
	var m3, a3 float64
	prev = 0
	for k, key := range c.key {
		le := c.cum(k)
		dv := float64(fromKey(key)) - mean
		v := float64(le-prev) * dv * dv * dv
		prev = le
		m3 += v
		a3 += math.Abs(v)
	}
	return m3 < -skewTol*a3
}

// N returns the number of training rows, D the number of features.
func (t *Tails) N() int { return t.n }

// D returns the number of features.
func (t *Tails) D() int { return t.d }

// LeftSkewed reports whether feature j's training values are skewed to
// the left (γ_j < 0), so that the skewness-corrected score reads its left
// tail; otherwise it reads the right tail.
func (t *Tails) LeftSkewed(j int) bool { return t.neg[j] }

// Sorted returns the training values of every feature, ascending, feature
// after feature: the state a model saves (NewTails reads it back).
func (t *Tails) Sorted() []float32 {
	out := make([]float32, 0, t.n*t.d)
	for _, c := range t.cols {
		prev := int32(0)
		for k, key := range c.key {
			v := fromKey(key)
			for ; prev < c.cum(k); prev++ {
				out = append(out, v)
			}
		}
	}
	return out
}

// Counts returns #{x ≤ z} and #{x ≥ z} over feature j's training values.
func (t *Tails) Counts(j int, z float32) (le, ge int) {
	c := &t.cols[j]
	p, eq := c.position(z)
	le = int(c.cum(p - 1))
	lt := le
	if eq {
		lt = int(c.cum(p - 2))
	}
	return le, t.n - lt
}

// position returns p = #{distinct training values ≤ z} and whether z is
// one of them.
func (c *column) position(z float32) (p int, eq bool) {
	keys := c.key
	key := toKey(z)
	b := c.bucket(z, len(c.start)-1)
	lo, hi := int(c.start[b]), int(c.start[b+1])
	// The answer lies in [lo, hi]: every value of an earlier bucket is
	// below z, every value of a later one above.
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if keys[m] <= key {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo > 0 && keys[lo-1] == key
}

// TermBlock is the function Terms calls for each block of rows: rows lo
// to hi−1 of x, with left[j*m+r] and right[j*m+r] (m = hi − lo) the
// terms −log F_left and −log F_right of feature j for row lo+r. The
// slices are reused after the call returns.
type TermBlock func(lo, hi int, left, right []float64)

// blockValues is about how many (row, feature) terms a block holds.
const blockValues = 8192

// Terms computes the tail terms of the m rows of x (row-major, d = D()
// features, finite) block by block on the Tails' workers, calling fn
// once per block (from several goroutines at once; blocks are disjoint).
// The term of feature j for a value z is −log((c+1)/(n+1)), c the number
// of training values ≤ z (left) or ≥ z (right): the empirical tail
// probability of the training data with z counted among them, so that it
// is never 0. It returns ctx's error if ctx is cancelled.
func (t *Tails) Terms(ctx context.Context, x []float32, m int, fn TermBlock) error {
	d := t.d
	if len(x) != m*d {
		return fmt.Errorf("%w: %d values for %d rows of %d features", ErrInput, len(x), m, d)
	}
	rows := max(1, blockValues/d)
	blocks := (m + rows - 1) / rows
	return t.parallel(ctx, blocks, rows*d, func(b int, buf *scratch) {
		lo, hi := b*rows, min(m, (b+1)*rows)
		k := hi - lo
		left, right := buf.terms(2 * k * d)
		n := int32(t.n)
		for j := 0; j < d; j++ {
			c := &t.cols[j]
			l, r := left[j*k:(j+1)*k], right[j*k:(j+1)*k]
			if c.left != nil {
				for i := range k {
					p, eq := c.position(x[(lo+i)*d+j])
					l[i] = c.left[p]
					if eq {
						p--
					}
					r[i] = c.right[p]
				}
				continue
			}
			for i := range k {
				p, eq := c.position(x[(lo+i)*d+j])
				le := c.cum(p - 1)
				lt := le
				if eq {
					lt = c.cum(p - 2)
				}
				l[i], r[i] = t.logs[le], t.logs[n-lt]
			}
		}
		fn(lo, hi, left, right)
	})
}

// scratch is one worker's reusable buffers.
type scratch struct {
	t    []uint32
	f    []float64
	hash []uint64
}

func (s *scratch) tmp(n int) []uint32 {
	if cap(s.t) < n {
		s.t = make([]uint32, n)
	}
	return s.t[:n]
}

// table returns a cleared hash table of n slots.
func (s *scratch) table(n int) []uint64 {
	if cap(s.hash) < n {
		s.hash = make([]uint64, n)
	}
	t := s.hash[:n]
	clear(t)
	return t
}

func (s *scratch) terms(n int) (a, b []float64) {
	if cap(s.f) < n {
		s.f = make([]float64, n)
	}
	return s.f[:n/2], s.f[n/2 : n]
}

// parallel runs fn(i) for i = 0..count−1 on the Tails' workers, each with
// its own scratch, checking ctx between items; each item is about work
// values, and a goroutine is started only for minWork of them.
func (t *Tails) parallel(ctx context.Context, count, work int, fn func(i int, buf *scratch)) error {
	w := min(t.workers, count, max(1, count*work/minWork))
	if w <= 1 {
		var buf scratch
		for i := range count {
			if err := ctx.Err(); err != nil {
				return err
			}
			fn(i, &buf)
		}
		return ctx.Err()
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf scratch
			for ctx.Err() == nil {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= count {
					return
				}
				fn(i, &buf)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// radixSort sorts a ascending: least-significant-digit radix sort in
// three passes of 11 bits, skipping a pass whose digit is the same for
// every key (the high bits of data in a narrow range). tmp has a's length.
// Small inputs go to the standard sort.
func radixSort(a, tmp []uint32) {
	if len(a) < 256 {
		slices.Sort(a)
		return
	}
	const bits, size = 11, 1 << 11
	var count [3][size]uint32
	c0, c1, c2 := &count[0], &count[1], &count[2]
	for _, k := range a {
		c0[k&(size-1)]++
		c1[(k>>bits)&(size-1)]++
		c2[k>>(2*bits)&(size-1)]++
	}
	src, dst := a, tmp[:len(a)]
	for p := range 3 {
		shift := uint(p * bits)
		c := &count[p]
		if int(c[(src[0]>>shift)&(size-1)]) == len(a) {
			continue
		}
		var sum uint32
		for i := range c {
			c[i], sum = sum, sum+c[i]
		}
		for _, k := range src {
			dg := (k >> shift) & (size - 1)
			dst[c[dg]] = k
			c[dg]++
		}
		src, dst = dst, src
	}
	if &src[0] != &a[0] {
		copy(a, src)
	}
}
