package main

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all" // every file format
	"github.com/oddity-ml/oddity/detector"
)

// `oddity score` scores a file, a folder of images, or a stream of JSON lines
// with any saved model.
func init() {
	var (
		modelPath, labelCol, output string
		threshold                   float64
		batch                       int
	)
	cmd := &cobra.Command{
		Use:   "score --model MODEL INPUT",
		Short: "Score data with a saved model (higher = more anomalous)",
		Long: `Score data with a saved model. INPUT is a data file (CSV/TSV, .npz/.npy,
.mat, IDX), an image file or folder, or "-" for JSON lines on standard input:
one sample per line, either a JSON array of numbers or {"id": ..., "x": [...]}.
Each input line gets one output line, flushed at once, so oddity can sit in a
pipeline.

Output: CSV (index,score,anomaly[,label]) or JSON lines with --output jsonl.`,
		Example: `  oddity score --model thyroid.odm data.csv --label-column class
  oddity score --model digits.odm ./images/ --output jsonl
  tail -f rows.jsonl | oddity score --model thyroid.odm -`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "csv" && output != "jsonl" {
				return fmt.Errorf("--output must be csv or jsonl, got %q", output)
			}
			m, err := detector.LoadFile(modelPath)
			if err != nil {
				return err
			}
			warnSelfAUC(cmd.ErrOrStderr(), m)
			if cmd.Flags().Changed("threshold") {
				if err := m.SetThreshold(detector.ThresholdRule{Value: threshold, HasValue: true}); err != nil {
					return err
				}
			}
			out := bufio.NewWriter(cmd.OutOrStdout())
			defer out.Flush()
			if args[0] == "-" {
				return scoreStream(cmd, m, cmd.InOrStdin(), out, output)
			}
			var opts []data.Option
			if labelCol != "" {
				opts = append(opts, data.WithLabelColumn(labelCol))
			}
			if len(m.Schema.Shape) == 3 {
				// Images: decode to the model's channel count and size.
				c, h, w := m.Schema.Shape[0], m.Schema.Shape[1], m.Schema.Shape[2]
				opts = append(opts, data.WithGrey(c == 1), data.WithResize(w, h, data.Bilinear))
			}
			ds, err := data.Load(args[0], opts...)
			if err != nil {
				return err
			}
			return scoreDataset(cmd, m, ds, out, output, batch)
		},
	}
	// Each usage names its value in backquotes, so that --help shows
	// "--model FILE" rather than a Go type name.
	cmd.Flags().StringVar(&modelPath, "model", "", "model `FILE` written by oddity train (required)")
	cmd.Flags().StringVar(&labelCol, "label-column", "", "label column (`NAME` or index) of a CSV input, left out of the features and echoed")
	cmd.Flags().StringVar(&output, "output", "csv", "output `FORMAT`: csv or jsonl")
	cmd.Flags().Float64Var(&threshold, "threshold", 0, "score `VALUE` above which a sample is flagged, instead of the model's threshold")
	cmd.Flags().IntVar(&batch, "batch", 65536, "`N` samples scored per batch")
	_ = cmd.MarkFlagRequired("model")
	rootCmd.AddCommand(cmd)
}

type scoreLine struct {
	ID      any     `json:"id,omitempty"`
	Index   int     `json:"index"`
	Score   float64 `json:"score"`
	Anomaly bool    `json:"anomaly"`
	Label   *int    `json:"label,omitempty"`
}

func scoreDataset(cmd *cobra.Command, m *detector.Model, ds *data.Dataset, out *bufio.Writer, format string, batch int) error {
	if err := ds.Validate(); err != nil {
		return err
	}
	if batch < 1 {
		return fmt.Errorf("--batch must be positive, got %d", batch)
	}
	var cw *csv.Writer
	if format == "csv" {
		cw = csv.NewWriter(out)
		head := []string{"index", "score", "anomaly"}
		if ds.Y != nil {
			head = append(head, "label")
		}
		if err := cw.Write(head); err != nil {
			return err
		}
	}
	enc := json.NewEncoder(out)
	k := ds.Dim()
	for lo := 0; lo < ds.N; lo += batch {
		hi := min(lo+batch, ds.N)
		part := &data.Dataset{Name: ds.Name, X: ds.X[lo*k : hi*k], N: hi - lo, Shape: ds.Shape}
		scores, err := m.Score(cmd.Context(), part)
		if err != nil {
			return err
		}
		flags := m.Predict(scores)
		for i, s := range scores {
			idx := lo + i
			if cw != nil {
				rec := []string{strconv.Itoa(idx), strconv.FormatFloat(s, 'g', -1, 64), b01(flags[i])}
				if ds.Y != nil {
					rec = append(rec, strconv.Itoa(ds.Y[idx]))
				}
				if err := cw.Write(rec); err != nil {
					return err
				}
				continue
			}
			line := scoreLine{Index: idx, Score: s, Anomaly: flags[i]}
			if ds.Y != nil {
				y := ds.Y[idx]
				line.Label = &y
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
	}
	if cw != nil {
		cw.Flush()
		return cw.Error()
	}
	return nil
}

func b01(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// streamRecord is one JSON line of input: a bare array or an object.
type streamRecord struct {
	ID any
	X  []float64
}

// rawStreamRecord is a line as decoded, a null value kept apart from 0.
type rawStreamRecord struct {
	ID any        `json:"id"`
	X  []*float64 `json:"x"`
}

// parseStreamLine reads one JSON line of input: a bare array of numbers or
// an object {"id": ..., "x": [...]}. An object with other fields, or
// without "x", is an error that says which form is expected, rather than a
// sample of no values. A null value is an error naming its position
// (1-based): the server refuses null in a tensor's data too, and no model
// scores a missing value unless a table pipeline that fills it was trained
// with it.
func parseStreamLine(b []byte) (streamRecord, error) {
	var raw rawStreamRecord
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &raw.X); err != nil {
			return streamRecord{}, fmt.Errorf("want an array of numbers: %v", err)
		}
		return raw.record()
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return streamRecord{}, fmt.Errorf(`want [numbers] or {"id": ..., "x": [numbers]}: %v`, err)
	}
	if dec.More() {
		return streamRecord{}, errors.New("more than one JSON value on the line")
	}
	if raw.X == nil {
		return streamRecord{}, errors.New(`the object has no "x": want {"id": ..., "x": [numbers]}`)
	}
	return raw.record()
}

// record returns the line's values, refusing a null one.
func (r rawStreamRecord) record() (streamRecord, error) {
	rec := streamRecord{ID: r.ID, X: make([]float64, len(r.X))}
	for i, p := range r.X {
		if p == nil {
			return streamRecord{}, fmt.Errorf("value %d is null: missing values need a model trained with a table pipeline", i+1)
		}
		rec.X[i] = *p
	}
	return rec, nil
}

// scoreStream scores JSON lines one at a time, answering each line before
// reading the next, so interactive pipelines see results immediately. A bad
// line stops the stream with an error naming its line number.
func scoreStream(cmd *cobra.Command, m *detector.Model, in io.Reader, out *bufio.Writer, format string) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	k := 1
	for _, s := range m.Schema.Shape {
		k *= s
	}
	if format == "csv" {
		fmt.Fprintln(out, "index,score,anomaly")
	}
	enc := json.NewEncoder(out)
	row := make([]float32, k)
	// n counts the samples scored (the output's index); line counts the
	// input's lines, blank ones included, for error messages.
	n, line := 0, 0
	for ; sc.Scan(); line++ {
		if err := cmd.Context().Err(); err != nil {
			return err
		}
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		rec, err := parseStreamLine(b)
		if err != nil {
			return fmt.Errorf("stdin line %d: %w", line+1, err)
		}
		if len(rec.X) != k {
			return fmt.Errorf("stdin line %d: %d values, the model takes %d (shape %v)", line+1, len(rec.X), k, m.Schema.Shape)
		}
		for i, v := range rec.X {
			row[i] = float32(v)
		}
		ds := &data.Dataset{Name: "stdin", X: row, N: 1, Shape: m.Schema.Shape}
		if err := ds.Validate(); err != nil {
			return fmt.Errorf("stdin line %d: %v", line+1, err)
		}
		scores, err := m.Score(cmd.Context(), ds)
		if err != nil {
			return fmt.Errorf("stdin line %d: %w", line+1, err)
		}
		flag := m.Predict(scores)[0]
		if format == "csv" {
			fmt.Fprintf(out, "%d,%s,%s\n", n, strconv.FormatFloat(scores[0], 'g', -1, 64), b01(flag))
		} else if err := enc.Encode(scoreLine{ID: rec.ID, Index: n, Score: scores[0], Anomaly: flag}); err != nil {
			return err
		}
		if err := out.Flush(); err != nil {
			return err
		}
		n++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("stdin: %w", err)
	}
	return nil
}
