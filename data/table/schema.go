package table

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
)

// ColumnSchema describes one input column of a fitted pipeline.
type ColumnSchema struct {
	// Name is the column's name.
	Name string `json:"name"`
	// Kind is its kind, inferred or declared.
	Kind Kind `json:"kind"`
	// Why says why it has that kind ("declared", "numbers", "named like an
	// identifier", ...).
	Why string `json:"why,omitempty"`
	// Missing is the number of missing cells in the training table
	// (coerced ones included).
	Missing int `json:"missing"`
	// Distinct is the number of distinct present values (0 where not
	// counted: declared identifiers, the label, empty and ignored columns).
	Distinct int `json:"distinct,omitempty"`
	// Levels are the levels of a categorical column that have a one-hot
	// feature, most frequent first.
	Levels []string `json:"levels,omitempty"`
	// Features are the output features the column became (none for
	// carried and dropped columns).
	Features []string `json:"features,omitempty"`
	// Becomes says in words what the column became.
	Becomes string `json:"becomes"`
}

// Schema describes every input column of a fitted pipeline, in input
// order; String renders it as a table for the command line.
type Schema struct {
	// Rows is the number of training rows.
	Rows int `json:"rows"`
	// Columns describe the input columns.
	Columns []ColumnSchema `json:"columns"`
	// Features is the number of output features.
	Features int `json:"features"`
	// Notes are the pipeline's notes (see Pipeline.Notes).
	Notes []string `json:"notes,omitempty"`
}

// Schema describes the pipeline's input columns.
func (p *Pipeline) Schema() Schema {
	s := Schema{Rows: p.rows, Features: len(p.features), Notes: p.Notes()}
	for _, f := range p.cols {
		cs := ColumnSchema{Name: f.Name, Kind: f.Kind, Why: f.Why, Missing: f.Missing, Distinct: f.Distinct, Levels: slices.Clone(f.Levels), Features: slices.Clone(f.Features)}
		switch f.Kind {
		case ID:
			cs.Becomes = "carried (identifier)"
		case Label:
			cs.Becomes = "carried (labels: 1 anomaly, 0 normal, blank unlabelled)"
		case Constant, Empty, Ignored:
			cs.Becomes = "dropped"
		case Timestamp:
			cs.Becomes = f.Name + ".{hour,dow,doy}_{sin,cos}, " + f.Name + ".epoch"
			if f.Indicator {
				cs.Becomes += ", " + f.Name + ".missing"
			}
		default:
			cs.Becomes = clipList(f.Features, 6)
		}
		s.Columns = append(s.Columns, cs)
	}
	return s
}

// String renders the schema as an aligned table (column, kind, missing,
// levels, becomes), then the notes.
func (s Schema) String() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d training rows, %d input columns, %d features\n", s.Rows, len(s.Columns), s.Features)
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "COLUMN\tKIND\tWHY\tMISSING\tLEVELS\tBECOMES")
	for _, c := range s.Columns {
		levels := "-"
		switch {
		case c.Kind == Categorical && c.Distinct > len(c.Levels):
			levels = fmt.Sprintf("%d of %d", len(c.Levels), c.Distinct)
		case c.Kind == Categorical:
			levels = fmt.Sprint(len(c.Levels))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\n", c.Name, c.Kind, c.Why, c.Missing, levels, c.Becomes)
	}
	tw.Flush()
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

// pipelineJSON is the stored form of a pipeline.
type pipelineJSON struct {
	Version  int       `json:"version"`
	Options  Options   `json:"options"`
	Rows     int       `json:"rows"`
	Columns  []*fitted `json:"columns"`
	Features []string  `json:"features"`
	Notes    []string  `json:"notes,omitempty"`
}

// Version is the pipeline file format version that MarshalJSON writes and
// Unmarshal reads.
const Version = 1

// MarshalJSON stores the pipeline as JSON with a "version": 1 field, the
// options it needs, every column's kind and fitted statistics, and the
// feature names.
func (p *Pipeline) MarshalJSON() ([]byte, error) {
	return json.Marshal(pipelineJSON{Version: Version, Options: p.opts, Rows: p.rows, Columns: p.cols, Features: p.features, Notes: p.notes})
}

// UnmarshalJSON reads a pipeline stored by MarshalJSON (see Unmarshal).
func (p *Pipeline) UnmarshalJSON(b []byte) error {
	var j pipelineJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("table: pipeline: %w", err)
	}
	if j.Version != Version {
		return fmt.Errorf("table: pipeline version %d is not supported (this build reads version %d)", j.Version, Version)
	}
	q := Pipeline{opts: j.Options, rows: j.Rows, cols: j.Columns, notes: j.Notes}
	if err := q.check(); err != nil {
		return fmt.Errorf("table: pipeline: %w", err)
	}
	if j.Features != nil && !slices.Equal(j.Features, q.features) {
		return errors.New("table: pipeline: its feature list does not match its columns")
	}
	*p = q
	return nil
}

// Unmarshal reads a pipeline stored by MarshalJSON; an unknown version or
// inconsistent contents are an error.
func Unmarshal(b []byte) (*Pipeline, error) {
	p := new(Pipeline)
	if err := p.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return p, nil
}

// check validates a decoded pipeline and derives its features.
func (p *Pipeline) check() error {
	if len(p.cols) == 0 {
		return errors.New("no columns")
	}
	names := map[string]bool{}
	finite := func(xs ...float64) bool {
		for _, x := range xs {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return false
			}
		}
		return true
	}
	for i, f := range p.cols {
		if f == nil || f.Name == "" {
			return fmt.Errorf("column %d has no name", i+1)
		}
		if names[f.Name] {
			return fmt.Errorf("column %s appears twice", f.Name)
		}
		names[f.Name] = true
		if !f.Kind.valid() {
			return fmt.Errorf("column %s has an unknown kind %q", f.Name, f.Kind)
		}
		bad := func(what string) error { return fmt.Errorf("column %s (%s): %s", f.Name, f.Kind, what) }
		switch f.Kind {
		case Numeric, Timestamp:
			if !finite(f.Min, f.Max, f.Median) || f.Max < f.Min {
				return bad("min, median or max is not a finite range")
			}
		case Boolean:
			if f.Mode != 0 && f.Mode != 1 {
				return bad("mode is neither 0 nor 1")
			}
		case Categorical:
			seen := map[string]bool{}
			for _, l := range f.Levels {
				if seen[l] {
					return bad(fmt.Sprintf("level %q appears twice", l))
				}
				seen[l] = true
			}
			for l, x := range f.Freq {
				if !finite(x) || x < 0 || x > 1 {
					return bad(fmt.Sprintf("frequency %v of level %q is not in [0,1]", x, l))
				}
			}
			if f.Freq != nil && !f.Capped {
				return bad("frequencies without a cap")
			}
		}
	}
	stored := make([][]string, len(p.cols))
	for i, f := range p.cols {
		stored[i] = f.Features
	}
	if err := p.build(); err != nil {
		return err
	}
	for i, f := range p.cols {
		if stored[i] != nil && !slices.Equal(stored[i], f.Features) {
			return fmt.Errorf("column %s: its stored features do not match its kind and levels", f.Name)
		}
	}
	if len(p.features) == 0 {
		return errors.New("no features")
	}
	return nil
}

// String renders the pipeline's schema (see Schema.String).
func (p *Pipeline) String() string {
	return strings.TrimRight(p.Schema().String(), "\n")
}
