package server

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/data/table"
)

// Records with named fields reach the model through its table pipeline:
// they are written out as CSV text, cell for cell as the client sent them
// (numbers as written, so that nothing is rounded on the way), read back
// with the pipeline's read options and transformed, exactly as oddity
// score reads a CSV file. Going through the table reader rather than
// around it keeps one definition of what a cell means (missing markers,
// booleans, timestamps, coercion) for files and requests alike.

// encoded is a batch ready to score, with what came beside it.
type encoded struct {
	ds *data.Dataset
	// ids are the identifier columns the client sent, one value a row.
	ids []table.IDColumn
	// notes tell what the pipeline did that the client should know.
	notes []string
}

// cellBatch collects text cells for the pipeline's input columns and
// writes them as CSV.
type cellBatch struct {
	cols      []string       // feature columns, then identifier columns
	kinds     []table.Kind   // their kinds
	index     map[string]int // column name → position in cols
	seen      []bool         // the column was sent for some row
	extra     []string       // names sent that the pipeline does not know
	known     map[string]bool
	extraSeen map[string]bool

	csv   bytes.Buffer
	lines []int // line of the CSV text where each row starts
	line  int   // lines written so far
	row   []string
	has   []bool
	n     int
}

// newCellBatch prepares a batch for the pipeline's input columns.
func newCellBatch(p *table.Pipeline) *cellBatch {
	b := &cellBatch{index: map[string]int{}, known: map[string]bool{}, extraSeen: map[string]bool{}}
	sch := p.Schema()
	for _, pass := range []func(table.Kind) bool{isFeature, func(k table.Kind) bool { return k == table.ID }} {
		for _, c := range sch.Columns {
			if pass(c.Kind) {
				b.index[c.Name] = len(b.cols)
				b.cols = append(b.cols, c.Name)
				b.kinds = append(b.kinds, c.Kind)
			}
		}
	}
	for _, c := range sch.Columns {
		b.known[c.Name] = true
	}
	b.seen = make([]bool, len(b.cols))
	b.row = make([]string, len(b.cols))
	b.has = make([]bool, len(b.cols))
	// The header: every name quoted, so that no name can look like a
	// compressed or Parquet file to the reader.
	for i, c := range b.cols {
		if i > 0 {
			b.csv.WriteByte(',')
		}
		b.writeField(c, true)
	}
	b.csv.WriteByte('\n')
	b.line = bytes.Count(b.csv.Bytes(), []byte{'\n'}) + 1 // the next line
	return b
}

func isFeature(k table.Kind) bool {
	return k == table.Numeric || k == table.Categorical || k == table.Boolean || k == table.Timestamp
}

// set gives the current row's cell of the named column; present false is
// a missing cell. A name the pipeline does not know is remembered for the
// note; one it knows but does not use (a label, an ignored or constant
// column) is dropped quietly.
func (b *cellBatch) set(name, value string, present bool) {
	k, ok := b.index[name]
	if !ok {
		if !b.known[name] && !b.extraSeen[name] {
			b.extraSeen[name] = true
			b.extra = append(b.extra, name)
		}
		return
	}
	b.row[k], b.has[k] = value, present
	b.seen[k] = true
}

// endRow writes the current row and clears it.
func (b *cellBatch) endRow() {
	b.lines = append(b.lines, b.line)
	start := b.csv.Len()
	for k := range b.cols {
		if k > 0 {
			b.csv.WriteByte(',')
		}
		if b.has[k] {
			b.writeField(b.row[k], false)
		}
		b.row[k], b.has[k] = "", false
	}
	b.csv.WriteByte('\n')
	b.line += bytes.Count(b.csv.Bytes()[start:], []byte{'\n'})
	b.n++
}

// writeField writes one CSV field, quoted when it must be (or always).
func (b *cellBatch) writeField(s string, always bool) {
	if !always && !strings.ContainsAny(s, ",\"\r\n") && (s == "" || (s[0] != ' ' && s[0] != '\t')) {
		b.csv.WriteString(s)
		return
	}
	b.csv.WriteByte('"')
	b.csv.WriteString(strings.ReplaceAll(s, `"`, `""`))
	b.csv.WriteByte('"')
}

// record maps a row of the CSV text back to the client's row.
func (b *cellBatch) record(line int) int {
	return max(0, sort.SearchInts(b.lines, line+1)-1)
}

// lineRef matches the place a table note gives ("line 17").
var lineRef = regexp.MustCompile(`\bline (\d+)\b`)

// fixNote rewrites a note's CSV line numbers as the client's rows.
func (b *cellBatch) fixNote(n string) string {
	n = strings.ReplaceAll(n, "request: ", "")
	return lineRef.ReplaceAllStringFunc(n, func(m string) string {
		v, err := strconv.Atoi(m[len("line "):])
		if err != nil {
			return m
		}
		return "row " + strconv.Itoa(b.record(v))
	})
}

// encode reads the CSV text back and transforms it with the pipeline.
// Errors are 400s naming the client's row (from 0) and field.
func (b *cellBatch) encode(p *table.Pipeline, maxRows int) (*encoded, error) {
	if b.n == 0 {
		return nil, badRequest("no rows to score")
	}
	o := p.ReadOptions()
	o.Delimiter = ','
	o.SkipRows = 0
	o.Limits = table.Limits{MaxRows: int64(maxRows), MaxBytes: int64(b.csv.Len()) + 1, MaxCells: -1}
	raw, err := table.ReadCSV(bytes.NewReader(b.csv.Bytes()), "request", o)
	if err != nil {
		return nil, b.tableError(err)
	}
	ds, car, err := p.Transform(raw)
	if err != nil {
		return nil, b.tableError(err)
	}
	out := &encoded{ds: ds}
	for _, id := range car.IDs {
		if b.seen[b.index[id.Name]] {
			out.ids = append(out.ids, id)
		}
	}
	if len(b.extra) > 0 {
		out.notes = append(out.notes, fmt.Sprintf("fields not in the model's table pipeline, ignored: %s", clipNames(b.extra, 20)))
	}
	var absent []string
	for k, c := range b.cols {
		if !b.seen[k] && isFeature(b.kinds[k]) {
			absent = append(absent, c)
		}
	}
	if len(absent) > 0 {
		out.notes = append(out.notes, fmt.Sprintf("columns of the pipeline sent for no row, filled as missing: %s", clipNames(absent, 20)))
	}
	for _, n := range slices.Concat(raw.Notes, car.Notes) {
		out.notes = append(out.notes, b.fixNote(n))
	}
	return out, nil
}

// tableError turns a table error into a 400 naming the client's row and
// field rather than a line of the CSV text.
func (b *cellBatch) tableError(err error) error {
	var te *table.Error
	if !errors.As(err, &te) {
		return badRequest("%v", err)
	}
	var where []string
	switch {
	case te.Line > 1:
		where = append(where, fmt.Sprintf("row %d", b.record(te.Line)))
	case te.Row > 0:
		where = append(where, fmt.Sprintf("row %d", te.Row-1))
	}
	if te.Name != "" {
		where = append(where, fmt.Sprintf("field %q", te.Name))
	}
	msg := b.fixNote(te.Err.Error())
	if len(where) > 0 {
		msg = strings.Join(where, ", ") + ": " + msg
	}
	return badRequest("%s", msg)
}

func clipNames(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// cell reads one JSON value as a table cell: a string as it is, a number
// as written, true or false as words, null as a missing cell. Objects and
// arrays are not cells.
func (p *numParser) cell() (value string, present bool, err error) {
	p.skip()
	if p.i >= len(p.b) {
		return "", false, badRequest("unexpected end of the body")
	}
	switch c := p.b[p.i]; {
	case p.null():
		return "", false, nil
	case c == '"':
		var s string
		if err := p.strValue(&s); err != nil {
			return "", false, err
		}
		return s, true, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := p.i
		before := len(p.scratch)
		if p.scratch, err = p.number(p.scratch[:before]); err != nil {
			return "", false, err
		}
		p.scratch = p.scratch[:0]
		return string(p.b[start:p.i]), true, nil
	case c == '{' || c == '[':
		return "", false, errNotCell
	}
	for _, lit := range []string{"true", "false"} {
		if bytes.HasPrefix(p.b[p.i:], []byte(lit)) {
			p.i += len(lit)
			return lit, true, nil
		}
	}
	return "", false, badRequest("unexpected %q at byte %d", p.b[p.i], p.i)
}

var errNotCell = errors.New("an object or array is not a value of a column")

// parseRecords reads {"records": [...]}'s array: one object a row, fields
// by name.
func parseRecords(raw []byte, p *table.Pipeline, maxRows int) (*cellBatch, error) {
	b := newCellBatch(p)
	np := &numParser{b: raw}
	np.skip()
	if np.i >= len(np.b) || np.b[np.i] != '[' {
		return nil, badRequest(`"records" must be an array of objects, one a row`)
	}
	err := np.array(func() error {
		if b.n >= maxRows {
			return &apiError{status: 413, msg: fmt.Sprintf("more than %d records, the limit per request", maxRows)}
		}
		if np.i >= len(np.b) || np.b[np.i] != '{' {
			return badRequest("records[%d] is not an object: each record is {\"column\": value, ...}", b.n)
		}
		err := np.object(func(key string) error {
			v, ok, err := np.cell()
			if err != nil {
				return badRequest("row %d, field %q: %v", b.n, key, err)
			}
			b.set(key, v, ok)
			return nil
		})
		if err != nil {
			return err
		}
		b.endRow()
		return nil
	})
	if err != nil {
		return nil, err
	}
	np.skip()
	if np.i != len(np.b) {
		return nil, badRequest("records: unexpected data after the array")
	}
	return b, nil
}

// parseColumns reads v2 inputs that are columns of a table, one input a
// column (KServe's v2 tabular form): each of shape [N] or [N, 1], all of
// the same N.
func parseColumns(ins []inferTensor, p *table.Pipeline, maxRows int) (*cellBatch, error) {
	b := newCellBatch(p)
	n := -1
	names := map[string]bool{}
	cols := make([][]string, len(ins))
	has := make([][]bool, len(ins))
	for k, in := range ins {
		if names[in.Name] {
			return nil, badRequest("two inputs named %q", in.Name)
		}
		names[in.Name] = true
		if in.Name == "" {
			return nil, badRequest("input %d has no name: name each input by its column", k)
		}
		if len(in.Shape) < 1 || len(in.Shape) > 2 || in.Shape[0] < 0 || (len(in.Shape) == 2 && in.Shape[1] != 1) {
			return nil, badRequest("input %q: shape %v; a column's shape is [N] or [N, 1]", in.Name, in.Shape)
		}
		if n >= 0 && in.Shape[0] != n {
			return nil, badRequest("input %q has %d rows, input %q has %d: every column needs the same number", in.Name, in.Shape[0], ins[0].Name, n)
		}
		n = in.Shape[0]
		if n > maxRows {
			return nil, &apiError{status: 413, msg: fmt.Sprintf("%d rows exceed the limit of %d per request", n, maxRows)}
		}
		if !in.hasData {
			return nil, badRequest("input %q has no data", in.Name)
		}
		switch in.Datatype {
		case "BYTES", "BOOL", "FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64", "":
		default:
			return nil, badRequest("input %q: datatype %q is not a column type (BYTES, BOOL, FP*, INT*, UINT*)", in.Name, in.Datatype)
		}
		var vals []string
		var present []bool
		if in.raw == nil { // binary data: numbers
			for _, v := range in.x {
				ok := !math.IsNaN(float64(v))
				vals = append(vals, strconv.FormatFloat(float64(v), 'g', -1, 32))
				present = append(present, ok)
			}
		} else {
			var err error
			if vals, present, err = columnCells(in.raw); err != nil {
				return nil, badRequest("input %q: %v", in.Name, err)
			}
		}
		if len(vals) != n {
			return nil, badRequest("input %q: %d values for shape %v", in.Name, len(vals), in.Shape)
		}
		cols[k], has[k] = vals, present
	}
	for i := 0; i < n; i++ {
		for k, in := range ins {
			b.set(in.Name, cols[k][i], has[k][i])
		}
		b.endRow()
	}
	return b, nil
}

// columnCells reads a column's JSON data: an array of values, or of
// one-value arrays ([N, 1]).
func columnCells(raw []byte) ([]string, []bool, error) {
	np := &numParser{b: raw}
	np.skip()
	var vals []string
	var present []bool
	add := func() error {
		v, ok, err := np.cell()
		if err != nil {
			if errors.Is(err, errNotCell) {
				return fmt.Errorf("value %d: %w", len(vals), err)
			}
			return err
		}
		vals = append(vals, v)
		present = append(present, ok)
		return nil
	}
	if np.i >= len(np.b) || np.b[np.i] != '[' {
		return nil, nil, errors.New("data must be an array")
	}
	err := np.array(func() error {
		if np.i < len(np.b) && np.b[np.i] == '[' {
			k := 0
			err := np.array(func() error {
				k++
				if k > 1 {
					return fmt.Errorf("row %d holds more than one value", len(vals))
				}
				return add()
			})
			if err == nil && k == 0 {
				return fmt.Errorf("row %d is empty", len(vals))
			}
			return err
		}
		return add()
	})
	if err != nil {
		return nil, nil, err
	}
	return vals, present, nil
}
