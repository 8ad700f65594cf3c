package table

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/oddity-ml/oddity/data"
)

// Pipeline is what Fit learns from a training table: each column's kind and
// encoding. It turns tables with the same columns (in any order) into
// float32 matrices, and serialises to JSON (MarshalJSON, Unmarshal).
type Pipeline struct {
	opts     Options
	rows     int
	cols     []*fitted
	features []string
	sources  []int // feature -> index in cols
	notes    []string
}

// fitted is the learnt encoding of one input column; its JSON form is the
// pipeline file's "columns" entries.
type fitted struct {
	Name      string             `json:"name"`
	Kind      Kind               `json:"kind"`
	Why       string             `json:"why,omitempty"`
	Missing   int                `json:"missing"`
	Coerced   int                `json:"coerced,omitempty"`
	Indicator bool               `json:"missing_indicator,omitempty"`
	Median    float64            `json:"median,omitempty"`
	Min       float64            `json:"min,omitempty"`
	Max       float64            `json:"max,omitempty"`
	Mode      float64            `json:"mode,omitempty"`
	Distinct  int                `json:"distinct,omitempty"`
	Levels    []string           `json:"levels,omitempty"`
	Capped    bool               `json:"capped,omitempty"`
	Freq      map[string]float64 `json:"freq,omitempty"`
	Value     string             `json:"value,omitempty"`
	Features  []string           `json:"features,omitempty"`
}

// minIDRows is the number of present values below which a column is never
// called an identifier for being (almost) all distinct.
const minIDRows = 20

// Fit learns a pipeline from raw, with the column roles and MaxLevels of
// raw.Options. Each column's kind is declared there or inferred:
//
//   - label, ignored and ID columns as declared;
//   - empty: every cell missing;
//   - a declared Categorical, Boolean, Numeric or Timestamp kind;
//   - constant: one distinct value;
//   - ID: named like an identifier (id, uuid, *_id, orderId, ...), or text
//     with at least 95% distinct values among at least 20, or integers
//     (almost all, 99%, distinct among at least 20) that rise row by row or
//     fill a range at most twice their count;
//   - Parquet booleans and timestamps, and text timestamps, as they are;
//   - boolean: text whose values are all true/false, yes/no, y/n, t/f;
//   - numeric: numbers; categorical: any other text.
//
// What each kind becomes:
//
//   - numeric: the median of the training values fills missing cells; a
//     feature NAME.missing (1 where the cell was missing) is added when the
//     training column has a missing cell, unless Options.Indicators says
//     otherwise (by default, "auto", not when its gaps look missing at
//     random: see dropRandomIndicators; the same holds for every kind's
//     NAME.missing below); values are scaled to [0,1] by the
//     training minimum and maximum. Values seen later outside that range
//     are not clipped: they fall outside [0,1], which is itself a signal.
//   - categorical: a one-hot feature NAME=LEVEL for each of the MaxLevels
//     most frequent levels and NAME=other for the rest and for levels not
//     seen in training (never an error); when the column has more levels
//     than MaxLevels (a note, not an error) a feature NAME.freq also gives
//     each cell its level's share of the training rows (0 for levels seen
//     once or never), so rare levels inside "other" stay apart; a missing
//     cell sets NAME.missing (added when training had one), else "other".
//   - boolean: 0/1, missing cells filled with the more frequent value, plus
//     NAME.missing when training had a missing cell.
//   - timestamp: seven features in [0,1] from the wall-clock time as
//     written: hour of day (with minutes) and day of week and day of year,
//     each as a point on a circle ((1+sin)/2 and (1+cos)/2, so 23:59 is
//     next to 00:00 and Sunday next to Monday), and the time itself
//     (seconds since 1970) scaled by the training range; missing cells take
//     the median time, plus NAME.missing. Parts of the clock catch what is
//     odd for the time of day or week; the scaled time catches drift.
//   - ID, label, constant, empty, ignored: no feature; IDs and labels are
//     carried beside the matrix by Transform (see Carried).
func Fit(raw *Raw) (*Pipeline, error) {
	o := raw.Options
	if err := o.checkNames(raw.Header()); err != nil {
		return nil, &Error{File: raw.Name, Err: err}
	}
	p := &Pipeline{opts: fitOptions(o), rows: raw.Rows}
	p.notes = append(p.notes, raw.Notes...)
	fits, err := fitColumns(raw, o)
	if err != nil {
		return nil, err
	}
	for k, c := range raw.Columns {
		decl, _ := o.declared(c.Name)
		f := fits[k]
		p.cols = append(p.cols, f)
		if f.Kind == Label && c.Storage != StoreNone {
			labels, err := raw.labels(c)
			if err != nil {
				return nil, err
			}
			var counts [3]int
			for _, l := range labels {
				counts[l+1]++
			}
			p.notes = append(p.notes, fmt.Sprintf("column %s: labels: %d anomalies, %d normal, %d unlabelled", c.Name, counts[2], counts[1], counts[0]))
		}
		switch {
		case f.Capped:
			p.notes = append(p.notes, fmt.Sprintf("column %s: %d levels exceed MaxLevels = %d: the %d most frequent are one-hot, the rest share %s=other, and %s.freq gives each level's share of the rows", c.Name, f.Distinct, o.maxLevels(), len(f.Levels), c.Name, c.Name))
		case f.Kind == ID && decl != ID:
			p.notes = append(p.notes, fmt.Sprintf("column %s: an identifier (%s): carried, not a feature", c.Name, f.Why))
		case f.Kind == Constant || f.Kind == Empty:
			p.notes = append(p.notes, fmt.Sprintf("column %s: %s (%s): dropped", c.Name, f.Kind, f.Why))
		}
	}
	if o.Indicators == "" || o.Indicators == IndicatorsAuto {
		p.notes = append(p.notes, dropRandomIndicators(raw, p.cols)...)
	}
	if err := p.build(); err != nil {
		return nil, &Error{File: raw.Name, Err: err}
	}
	if len(p.features) == 0 {
		kinds := make([]string, len(p.cols))
		for i, f := range p.cols {
			kinds[i] = f.Name + ": " + string(f.Kind)
		}
		return nil, &Error{File: raw.Name, Err: fmt.Errorf("no feature columns (%s): %w", clipList(kinds, 20), data.ErrNoData)}
	}
	return p, nil
}

// fitColumns fits every column of raw, GOMAXPROCS columns at a time (each
// sorts its values once, which dominates fitting a wide table), and
// returns the first error in column order.
func fitColumns(raw *Raw, o Options) ([]*fitted, error) {
	fits := make([]*fitted, len(raw.Columns))
	errs := make([]error, len(raw.Columns))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(raw.Columns)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				c := raw.Columns[k]
				decl, _ := o.declared(c.Name)
				fits[k], errs[k] = fitColumn(raw, c, decl, o)
			}
		}()
	}
	for k := range raw.Columns {
		next <- k
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return fits, nil
}

// fitOptions keeps the options a pipeline needs later.
func fitOptions(o Options) Options {
	return Options{
		Missing:     o.Missing,
		Coerce:      o.Coerce,
		LabelColumn: o.LabelColumn,
		IDColumns:   o.IDColumns,
		Ignore:      o.Ignore,
		Categorical: o.Categorical,
		Boolean:     o.Boolean,
		Numeric:     o.Numeric,
		Timestamp:   o.Timestamp,
		MaxLevels:   o.MaxLevels,
		Indicators:  o.Indicators,
	}
}

// fitColumn infers the kind of c and learns its encoding.
func fitColumn(raw *Raw, c *RawColumn, decl Kind, o Options) (*fitted, error) {
	f := &fitted{Name: c.Name, Missing: c.nmiss}
	present := c.n - c.nmiss
	switch {
	case decl == Label || decl == Ignored || decl == ID:
		f.Kind, f.Why = decl, "declared"
		return f, nil
	case c.Storage == StoreNone:
		f.Kind, f.Why = Ignored, "not read"
		return f, nil
	case present == 0:
		f.Kind, f.Why = Empty, "every cell missing"
		return f, nil
	}

	// Statistics for inference: text columns count their dictionary, the
	// others sort their present values.
	var sorted []float64
	if c.Storage != StoreText {
		sorted = make([]float64, 0, present)
		for i, x := range c.nums {
			if !c.miss.get(i) {
				sorted = append(sorted, x)
			}
		}
		slices.Sort(sorted)
		f.Distinct = 1
		for i := 1; i < len(sorted); i++ {
			if sorted[i] != sorted[i-1] {
				f.Distinct++
			}
		}
	} else {
		f.Distinct = len(c.dict)
	}
	switch {
	case decl != "":
		f.Kind, f.Why = decl, "declared"
	case f.Distinct == 1:
		f.Kind = Constant
		f.Value, _ = c.Text(firstPresent(c))
		f.Why = "one value: " + clip(f.Value)
		return f, nil
	case idLikeName(c.Name):
		f.Kind, f.Why = ID, "named like an identifier"
		return f, nil
	case c.Storage == StoreBool:
		f.Kind, f.Why = Boolean, "Parquet BOOLEAN"
	case c.Storage == StoreTime:
		f.Kind, f.Why = Timestamp, "timestamps"
	case c.Storage == StoreNumber:
		if why, ok := integerIDs(c, sorted, f.Distinct); ok {
			f.Kind, f.Why = ID, why
			return f, nil
		}
		f.Kind, f.Why = Numeric, "numbers"
	default:
		words := true
		for _, s := range c.dict {
			if _, ok := boolWord(s, false); !ok {
				words = false
				break
			}
		}
		switch {
		case words:
			f.Kind, f.Why = Boolean, "true/false words"
		case present >= minIDRows && f.Distinct*100 >= present*95:
			f.Kind = ID
			f.Why = fmt.Sprintf("text, %d distinct values in %d", f.Distinct, present)
			return f, nil
		default:
			f.Kind, f.Why = Categorical, "text"
		}
	}

	coerce := o.Coerce
	switch f.Kind {
	case Numeric, Timestamp, Boolean:
		v, err := raw.numberView(c, f.Kind, coerce)
		if err != nil {
			return nil, err
		}
		if v.coerced > 0 {
			f.Coerced = v.coerced
		}
		f.Missing = v.nmiss
		f.Indicator = v.nmiss > 0 && o.Indicators != IndicatorsNone
		if v.nmiss == v.n {
			f.Kind, f.Why, f.Indicator = Empty, "every cell missing once coerced", false
			return f, nil
		}
		if sorted == nil || v.coerced > 0 {
			sorted = sorted[:0]
			for i, x := range v.vals {
				if v.present(i) {
					sorted = append(sorted, x)
				}
			}
			slices.Sort(sorted)
		}
		f.Min, f.Max = sorted[0], sorted[len(sorted)-1]
		f.Median = median(sorted)
		if f.Kind == Boolean {
			ones := len(sorted) - sort.SearchFloat64s(sorted, 1)
			if 2*ones > len(sorted) {
				f.Mode = 1
			}
			f.Min, f.Max, f.Median = 0, 0, 0
		}
	case Categorical:
		v := raw.textView(c)
		counts := make([]int, len(v.dict))
		for i, code := range v.codes {
			if v.present(i) {
				counts[code]++
			}
		}
		f.Distinct = len(v.dict)
		f.Indicator = v.nmiss > 0 && o.Indicators != IndicatorsNone
		order := make([]int, len(v.dict))
		for k := range order {
			order[k] = k
		}
		sort.Slice(order, func(a, b int) bool {
			ka, kb := order[a], order[b]
			if counts[ka] != counts[kb] {
				return counts[ka] > counts[kb]
			}
			return v.dict[ka] < v.dict[kb]
		})
		keep := min(len(order), o.maxLevels())
		for _, k := range order[:keep] {
			f.Levels = append(f.Levels, v.dict[k])
		}
		if len(order) > keep {
			f.Capped = true
			f.Freq = map[string]float64{}
			n := float64(v.n - v.nmiss)
			for k, cnt := range counts {
				if cnt >= 2 {
					f.Freq[v.dict[k]] = float64(cnt) / n
				}
			}
		}
	}
	return f, nil
}

func firstPresent(c *RawColumn) int {
	for i := 0; i < c.n; i++ {
		if !c.miss.get(i) {
			return i
		}
	}
	return -1
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

// integerIDs reports whether a numeric column looks like identifiers:
// integers, at least 99% distinct among at least minIDRows, that rise row
// by row or fill a range at most twice their count.
func integerIDs(c *RawColumn, sorted []float64, distinct int) (string, bool) {
	n := len(sorted)
	if n < minIDRows || distinct*100 < n*99 {
		return "", false
	}
	for _, x := range sorted {
		if x != math.Trunc(x) {
			return "", false
		}
	}
	rising, prev, first := true, 0.0, true
	for i, x := range c.nums {
		if c.miss.get(i) {
			continue
		}
		if !first && x <= prev {
			rising = false
			break
		}
		prev, first = x, false
	}
	if rising {
		return "distinct integers rising row by row", true
	}
	if sorted[n-1]-sorted[0]+1 <= 2*float64(n) {
		return fmt.Sprintf("distinct integers filling %v..%v", sorted[0], sorted[n-1]), true
	}
	return "", false
}

// otherName is the one-hot feature of the "other" bucket of f.
func (f *fitted) otherName() string {
	other := f.Name + "=other"
	if slices.Contains(f.Levels, "other") {
		other = f.Name + "=<other>"
	}
	return other
}

// timeParts names the timestamp features, in order.
var timeParts = []string{"hour_sin", "hour_cos", "dow_sin", "dow_cos", "doy_sin", "doy_cos", "epoch"}

// featureNames derives the features of a fitted column from its fields.
func (f *fitted) featureNames() []string {
	var out []string
	switch f.Kind {
	case Numeric, Boolean:
		out = append(out, f.Name)
	case Categorical:
		for _, l := range f.Levels {
			out = append(out, f.Name+"="+l)
		}
		out = append(out, f.otherName())
		if f.Capped {
			out = append(out, f.Name+".freq")
		}
	case Timestamp:
		for _, p := range timeParts {
			out = append(out, f.Name+"."+p)
		}
	default:
		return nil
	}
	if f.Indicator {
		out = append(out, f.Name+".missing")
	}
	return out
}

// build derives the feature list and checks that names are unique.
func (p *Pipeline) build() error {
	p.features, p.sources = nil, nil
	seen := map[string]string{}
	for k, f := range p.cols {
		f.Features = f.featureNames()
		for _, name := range f.Features {
			if src, dup := seen[name]; dup {
				return fmt.Errorf("feature %q of column %s clashes with a feature of column %s; rename one of the columns: %w", name, f.Name, src, data.ErrMalformed)
			}
			seen[name] = f.Name
			p.features = append(p.features, name)
			p.sources = append(p.sources, k)
		}
	}
	return nil
}

// FeatureNames returns the names of the output features, in order (for
// example "amount", "amount.missing", "country=FR", "country=other").
func (p *Pipeline) FeatureNames() []string { return slices.Clone(p.features) }

// Dim is the number of output features.
func (p *Pipeline) Dim() int { return len(p.features) }

// Source returns the input column that output feature i comes from, so
// per-feature attributions can be summed per column (see SumBySource); ""
// when i is out of range.
func (p *Pipeline) Source(i int) string {
	if i < 0 || i >= len(p.sources) {
		return ""
	}
	return p.cols[p.sources[i]].Name
}

// SumBySource sums per-feature values (attributions, say) per source
// column. It returns the columns that have features, in input order, and
// their sums; values must have Dim entries.
func (p *Pipeline) SumBySource(values []float64) ([]string, []float64, error) {
	if len(values) != len(p.features) {
		return nil, nil, fmt.Errorf("table: %d values for %d features", len(values), len(p.features))
	}
	var names []string
	var sums []float64
	last := -1
	for i, v := range values {
		if p.sources[i] != last {
			last = p.sources[i]
			names = append(names, p.cols[last].Name)
			sums = append(sums, 0)
		}
		sums[len(sums)-1] += v
	}
	return names, sums, nil
}

// Notes returns what Fit noted: read notes, columns dropped or carried,
// categorical columns beyond MaxLevels.
func (p *Pipeline) Notes() []string { return slices.Clone(p.notes) }

// LabelColumn is the label column's name, "" when there is none.
func (p *Pipeline) LabelColumn() string { return p.opts.LabelColumn }

// IDColumns are the columns carried as identifiers (declared or inferred).
func (p *Pipeline) IDColumns() []string {
	var ids []string
	for _, f := range p.cols {
		if f.Kind == ID {
			ids = append(ids, f.Name)
		}
	}
	return ids
}

// ReadOptions returns options for reading tables to transform: the missing
// markers and Coerce of training, and every column declared as the kind it
// was fitted as, so each is stored the same way (a categorical zip code
// stays text, "01234" and all). Names the table lacks are not an error at
// read; Transform reports the ones it needs.
func (p *Pipeline) ReadOptions() Options {
	o := Options{Missing: p.opts.Missing, Coerce: p.opts.Coerce, MaxLevels: p.opts.MaxLevels, lenient: true}
	for _, f := range p.cols {
		switch f.Kind {
		case Label:
			o.LabelColumn = f.Name
		case ID:
			o.IDColumns = append(o.IDColumns, f.Name)
		case Ignored:
			o.Ignore = append(o.Ignore, f.Name)
		case Categorical:
			o.Categorical = append(o.Categorical, f.Name)
		case Boolean:
			o.Boolean = append(o.Boolean, f.Name)
		case Numeric:
			o.Numeric = append(o.Numeric, f.Name)
		case Timestamp:
			o.Timestamp = append(o.Timestamp, f.Name)
		}
	}
	return o
}

// IDColumn is the values of one identifier column, one per row ("" where
// missing).
type IDColumn struct {
	// Name is the column's name.
	Name string
	// Values holds the column's cells as text, one per row.
	Values []string
}

// Carried is what Transform returns beside the matrix: identifiers, labels
// and notes.
type Carried struct {
	// IDs holds the identifier columns present in the table.
	IDs []IDColumn
	// Labels holds one label per row when the table has the label column:
	// 1 anomaly, 0 normal, -1 unlabelled (blank or missing); nil otherwise.
	Labels []int8
	// Notes tell what the transform did that a person should know: extra
	// columns ignored, unseen levels, values outside the training range.
	Notes []string
}

// Transform encodes raw with the fitted pipeline. Columns are matched by
// name: their order does not matter, columns the pipeline does not know are
// ignored (a note), and a feature column the table lacks is an error naming
// it. The data set has FeatureNames; its labels Y (0 normal, 1 anomaly,
// ClassNames "normal", "anomaly") are set when every row is labelled, and
// Carried.Labels holds them with -1 for unlabelled rows.
func (p *Pipeline) Transform(raw *Raw) (*data.Dataset, *Carried, error) {
	if len(p.features) == 0 {
		return nil, nil, fmt.Errorf("table: transform with an empty pipeline")
	}
	byName := make(map[string]*RawColumn, len(raw.Columns))
	for _, c := range raw.Columns {
		byName[c.Name] = c
	}
	known := make(map[string]bool, len(p.cols))
	var lacking []string
	for _, f := range p.cols {
		known[f.Name] = true
		if f.Kind.feature() {
			if c := byName[f.Name]; c == nil || c.Storage == StoreNone {
				lacking = append(lacking, f.Name)
			}
		}
	}
	if len(lacking) > 0 {
		return nil, nil, &Error{File: raw.Name, Err: fmt.Errorf("the table lacks column(s) %s, which the pipeline was fitted with (it has %s): %w", strings.Join(lacking, ", "), clipList(raw.Header(), 20), data.ErrNoData)}
	}
	car := &Carried{}
	var extra []string
	for _, c := range raw.Columns {
		if !known[c.Name] {
			extra = append(extra, c.Name)
		}
	}
	if len(extra) > 0 {
		car.Notes = append(car.Notes, fmt.Sprintf("columns not in the pipeline, ignored: %s", clipList(extra, 20)))
	}

	n, d := raw.Rows, len(p.features)
	ds := &data.Dataset{Name: raw.Name, N: n, Shape: []int{d}, X: make([]float32, n*d), FeatureNames: slices.Clone(p.features)}
	coerce := raw.Options.Coerce || p.opts.Coerce
	off := 0
	for _, f := range p.cols {
		c := byName[f.Name]
		switch f.Kind {
		case ID:
			if c == nil || c.Storage == StoreNone {
				car.Notes = append(car.Notes, fmt.Sprintf("id column %s is not in the table: not carried", f.Name))
				continue
			}
			ids := make([]string, n)
			for i := range ids {
				ids[i], _ = c.Text(i)
			}
			car.IDs = append(car.IDs, IDColumn{Name: f.Name, Values: ids})
		case Label:
			if c == nil || c.Storage == StoreNone {
				continue
			}
			labels, err := raw.labels(c)
			if err != nil {
				return nil, nil, err
			}
			car.Labels = labels
		}
		if !f.Kind.feature() {
			continue
		}
		w := len(f.Features)
		var note string
		var err error
		switch f.Kind {
		case Numeric, Boolean, Timestamp:
			note, err = f.encodeNumbers(raw, c, coerce, ds.X, off, d)
		case Categorical:
			note = f.encodeText(raw.textView(c), ds.X, off, d)
		}
		if err != nil {
			return nil, nil, err
		}
		if note != "" {
			car.Notes = append(car.Notes, note)
		}
		off += w
	}
	if car.Labels != nil {
		all := true
		for _, l := range car.Labels {
			if l < 0 {
				all = false
				break
			}
		}
		if all {
			ds.Y = make([]int, n)
			for i, l := range car.Labels {
				ds.Y[i] = int(l)
			}
			ds.ClassNames = []string{"normal", "anomaly"}
		}
	}
	if err := ds.Validate(); err != nil {
		return nil, nil, fmt.Errorf("table: %w", err)
	}
	return ds, car, nil
}

// labels parses the label column: 1 anomaly, 0 normal, -1 unlabelled.
func (r *Raw) labels(c *RawColumn) ([]int8, error) {
	v := r.textView(c)
	vals := make([]int8, len(v.dict))
	ok := make([]bool, len(v.dict))
	for k, s := range v.dict {
		vals[k], ok[k] = labelWord(s)
	}
	out := make([]int8, v.n)
	for i, code := range v.codes {
		switch {
		case !v.present(i):
			out[i] = -1
		case !ok[code]:
			return nil, r.errAt(i, c, fmt.Errorf("label %q is neither an anomaly nor normal (%s): %w", clip(v.dict[code]), labelWords, data.ErrMalformed))
		default:
			out[i] = vals[code]
		}
	}
	return out, nil
}

// scale maps x from [lo, hi] to [0, 1] (0 when the range is empty).
func scale(x, lo, hi float64) float32 {
	if hi <= lo {
		return 0
	}
	return float32((x - lo) / (hi - lo))
}

// circle returns (1+sin)/2 and (1+cos)/2 of the fraction t of a turn.
func circle(t float64) (float32, float32) {
	s, c := math.Sincos(2 * math.Pi * t)
	return float32((1 + s) / 2), float32((1 + c) / 2)
}

// encodeNumbers writes the features of a numeric, boolean or timestamp
// column into X (row stride d, first feature at off).
func (f *fitted) encodeNumbers(raw *Raw, c *RawColumn, coerce bool, X []float32, off, d int) (string, error) {
	v, err := raw.numberView(c, f.Kind, coerce)
	if err != nil {
		return "", err
	}
	outside := 0
	w := len(f.Features)
	for i := 0; i < v.n; i++ {
		row := X[i*d+off : i*d+off+w]
		x := v.vals[i]
		if !v.present(i) {
			switch f.Kind {
			case Boolean:
				x = f.Mode
			default:
				x = f.Median
			}
			if f.Indicator {
				row[w-1] = 1
			}
		} else if f.Kind != Boolean && (x < f.Min || x > f.Max) {
			outside++
		}
		switch f.Kind {
		case Numeric:
			row[0] = scale(x, f.Min, f.Max)
		case Boolean:
			row[0] = float32(x)
		case Timestamp:
			sec, frac := math.Modf(x)
			t := time.Unix(int64(sec), int64(frac*1e9)).UTC()
			hour := float64(t.Hour()) + float64(t.Minute())/60 + float64(t.Second())/3600
			row[0], row[1] = circle(hour / 24)
			row[2], row[3] = circle((float64(t.Weekday()) + hour/24) / 7)
			row[4], row[5] = circle((float64(t.YearDay()-1) + hour/24) / 365.25)
			row[6] = scale(x, f.Min, f.Max)
		}
	}
	var notes []string
	if v.coerced > 0 {
		notes = append(notes, fmt.Sprintf("%d cells that are not %s made missing (Coerce), the first %q at %s", v.coerced, f.Kind, v.badValue, raw.where(v.firstBad)))
	}
	if outside > 0 {
		lo, hi := formatNumber(f.Min), formatNumber(f.Max)
		if f.Kind == Timestamp {
			lo, hi = formatTime(f.Min), formatTime(f.Max)
		}
		notes = append(notes, fmt.Sprintf("%d values outside the training range [%s, %s] (scaled outside [0,1])", outside, lo, hi))
	}
	if !f.Indicator && v.nmiss > 0 {
		notes = append(notes, fmt.Sprintf("%d missing cells, none in training: filled without an indicator", v.nmiss))
	}
	if len(notes) == 0 {
		return "", nil
	}
	return "column " + f.Name + ": " + strings.Join(notes, "; "), nil
}

// encodeText writes the features of a categorical column into X.
func (f *fitted) encodeText(v *view, X []float32, off, d int) string {
	level := make(map[string]int, len(f.Levels))
	for k, l := range f.Levels {
		level[l] = k
	}
	other := len(f.Levels)
	// Per dictionary entry: its one-hot slot and frequency.
	slot := make([]int, len(v.dict))
	freq := make([]float32, len(v.dict))
	for k, s := range v.dict {
		if j, ok := level[s]; ok {
			slot[k] = j
		} else {
			slot[k] = other
		}
		freq[k] = float32(f.Freq[s])
	}
	w := len(f.Features)
	unseen, missingNoInd := 0, 0
	example := ""
	for i := 0; i < v.n; i++ {
		row := X[i*d+off : i*d+off+w]
		if !v.present(i) {
			if f.Indicator {
				row[w-1] = 1
			} else {
				row[other] = 1
				missingNoInd++
			}
			continue
		}
		code := v.codes[i]
		row[slot[code]] = 1
		if f.Capped {
			row[other+1] = freq[code]
		}
		if slot[code] == other && !f.Capped {
			if unseen == 0 {
				example = v.dict[code]
			}
			unseen++
		}
	}
	var notes []string
	if unseen > 0 {
		notes = append(notes, fmt.Sprintf("%d cells with levels not seen in training (the first %q): %s", unseen, clip(example), f.otherName()))
	}
	if missingNoInd > 0 {
		notes = append(notes, fmt.Sprintf("%d missing cells, none in training: %s", missingNoInd, f.otherName()))
	}
	if len(notes) == 0 {
		return ""
	}
	return "column " + f.Name + ": " + strings.Join(notes, "; ")
}

// mcarRows is the number of rows, evenly spaced, on which
// dropRandomIndicators tests each column's gaps: enough to find a
// difference of a tenth of a standard deviation when 5% of cells are
// missing, and a bounded cost on tables of millions of rows.
const mcarRows = 20000

// mcarAlpha is the family-wise level of dropRandomIndicators' tests of
// one column: the indicator is kept when any test rejects at it.
const mcarAlpha = 0.001

// dropRandomIndicators removes the missing indicator of each column whose
// gaps look missing completely at random, and returns a note for each.
//
// The test, per column c with an indicator: for every other numeric,
// boolean or timestamp column, the Mann–Whitney z (ranks, ties averaged
// and corrected for) comparing its values on the rows where c is missing
// with those where it is not, on at most mcarRows evenly spaced rows. The
// gaps are called random when no |z| exceeds the Bonferroni bound for
// mcarAlpha over those tests: the one-variable-at-a-time form of Little's
// MCAR test, on ranks because measurements are often heavy-tailed (a mean
// would follow one extreme value). Gaps that follow other values (a
// coupon field empty for small orders, a sensor silent when hot) keep
// their indicator; so does a column with no other numeric column to test
// against, or fewer than 5 gaps.
func dropRandomIndicators(raw *Raw, cols []*fitted) []string {
	byName := make(map[string]*RawColumn, len(raw.Columns))
	for _, c := range raw.Columns {
		byName[c.Name] = c
	}
	step := max(1, raw.Rows/mcarRows)
	type ranked struct {
		c     *RawColumn
		rows  []int32   // sampled rows where c is present
		ranks []float64 // their ranks, ties averaged
		ties  float64   // Σ(t³ − t) over tied groups
	}
	var others []*ranked
	for _, f := range cols {
		c := byName[f.Name]
		if c == nil || c.nums == nil || !f.Kind.feature() {
			continue
		}
		o := &ranked{c: c}
		var vals []float64
		for i := 0; i < raw.Rows; i += step {
			if v, ok := c.Float(i); ok {
				o.rows = append(o.rows, int32(i))
				vals = append(vals, v)
			}
		}
		idx := make([]int, len(vals))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return vals[idx[a]] < vals[idx[b]] })
		o.ranks = make([]float64, len(vals))
		for lo := 0; lo < len(idx); {
			hi := lo + 1
			for hi < len(idx) && vals[idx[hi]] == vals[idx[lo]] {
				hi++
			}
			r := float64(lo+hi+1) / 2 // ranks lo+1..hi, averaged
			for _, k := range idx[lo:hi] {
				o.ranks[k] = r
			}
			t := float64(hi - lo)
			o.ties += t*t*t - t
			lo = hi
		}
		others = append(others, o)
	}
	var notes []string
	for _, f := range cols {
		c := byName[f.Name]
		if !f.Indicator || c == nil || c.nmiss < 5 {
			continue
		}
		k := 0
		for _, o := range others {
			if o.c != c {
				k++
			}
		}
		if k == 0 {
			continue
		}
		bound := math.Sqrt2 * math.Erfinv(1-mcarAlpha/float64(k))
		worst, worstName := 0.0, ""
		for _, o := range others {
			if o.c == c {
				continue
			}
			var n1, r1 float64
			for j, i := range o.rows {
				if c.miss.get(int(i)) {
					n1++
					r1 += o.ranks[j]
				}
			}
			n := float64(len(o.rows))
			n0 := n - n1
			if n1 < 2 || n0 < 2 {
				continue
			}
			v := n1 * n0 / 12 * (n + 1 - o.ties/(n*(n-1)))
			z := 0.0
			if v > 0 {
				z = math.Abs(r1-n1*(n+1)/2) / math.Sqrt(v)
			}
			if z > worst || worstName == "" {
				worst, worstName = z, o.c.Name
			}
		}
		if worst > bound || worstName == "" {
			continue
		}
		f.Indicator = false
		notes = append(notes, fmt.Sprintf("column %s: its %d gaps look missing at random (no other column's values differ between rows with and without a gap; the largest difference is in %s, Mann-Whitney z = %.2f, below %.2f): imputed without an indicator", f.Name, f.Missing, worstName, worst, bound))
	}
	return notes
}
