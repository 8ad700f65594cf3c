package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all" // registers every data format
	"github.com/oddity-ml/oddity/data/limit"
)

// dataCmd groups the data-set commands (`oddity data inspect`).
var dataCmd = &cobra.Command{
	Use:   "data",
	Short: "Read and describe data sets",
}

var dataInspectFlags struct {
	json     bool
	label    string
	noLabels bool
	x, y     string
	split    string
	grey     bool
	limits   limitFlags
}

// limitFlags are the --max-decompressed, --max-decoded and --max-line-bytes
// flags: the bounds on what one data file may expand to (package
// data/limit), as sizes such as 512MiB or 2GiB; empty keeps the default.
type limitFlags struct {
	decompressed, decoded, line string
}

// add registers the flags on f.
func (l *limitFlags) add(f *pflag.FlagSet) {
	f.StringVar(&l.decompressed, "max-decompressed", "", fmt.Sprintf("refuse a file that inflates to more than `SIZE` (all its members together; default %s)", limit.Size(limit.DefaultMaxDecompressed)))
	f.StringVar(&l.decoded, "max-decoded", "", fmt.Sprintf("refuse a file whose data takes more than `SIZE` decoded (arrays as stored, images and tables as float32; default %s)", limit.Size(limit.DefaultMaxDecoded)))
	f.StringVar(&l.line, "max-line-bytes", "", fmt.Sprintf("refuse a text-table line longer than `SIZE` (default %s)", limit.Size(limit.DefaultMaxLineBytes)))
}

// apply puts the limits in force and returns the function restoring the
// previous ones.
func (l limitFlags) apply() (func(), error) {
	lim := limit.Get()
	for _, f := range []struct {
		name, v string
		dst     *int64
	}{{"--max-decompressed", l.decompressed, &lim.MaxDecompressed}, {"--max-decoded", l.decoded, &lim.MaxDecoded}} {
		if f.v == "" {
			continue
		}
		n, err := limit.ParseSize(f.v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.dst = n
	}
	if l.line != "" {
		n, err := limit.ParseSize(l.line)
		if err != nil {
			return nil, fmt.Errorf("--max-line-bytes: %w", err)
		}
		lim.MaxLineBytes = int(n)
	}
	return limit.Set(lim), nil
}

var dataInspectCmd = &cobra.Command{
	Use:   "inspect PATH...",
	Short: "Describe data files: format, shape, stored type, classes, value range",
	Long: `Inspect opens each file (or image folder) with the format that recognises it
and prints its format, the arrays it stores (npz members, .mat variables, the
splits of an image archive) and the data set data.Load would return: shape
(N × sample shape), element type as stored, class counts and value range.
Files of no known format (checksums, READMEs) are skipped with a note.

What one file may expand to is bounded (--max-decompressed, --max-decoded,
--max-line-bytes): a file over a bound is an error naming it and the bound,
checked from the sizes its headers declare before anything is expanded, so
a small archive that would inflate to gigabytes is refused, not loaded.
An array whose values are all NaN says so instead of showing a range.`,
	Args: cobra.MinimumNArgs(1),
	RunE: runDataInspect,
}

func init() {
	f := dataInspectCmd.Flags()
	// Each usage names its value in backquotes, so that --help shows
	// "--x NAME" rather than a Go type name.
	f.BoolVar(&dataInspectFlags.json, "json", false, "print JSON")
	f.StringVar(&dataInspectFlags.label, "label-column", "", "label column of a text table: header `NAME` or index from 0 (negative counts from the end: -1 is the last)")
	// --label was this command's name for --label-column; it still works,
	// hidden, with a deprecation notice.
	f.StringVar(&dataInspectFlags.label, "label", "", "label column of a text table")
	_ = f.MarkDeprecated("label", "use --label-column")
	f.BoolVar(&dataInspectFlags.noLabels, "no-labels", false, "ignore labels")
	f.StringVar(&dataInspectFlags.x, "x", "", "npz member / .mat variable `NAME` holding the samples")
	f.StringVar(&dataInspectFlags.y, "y", "", "npz member / .mat variable `NAME` holding the labels (- for none)")
	f.StringVar(&dataInspectFlags.split, "split", "", "image folder `SPLIT` to read (e.g. train)")
	f.BoolVar(&dataInspectFlags.grey, "grey", false, "read images as one grey channel")
	dataInspectFlags.limits.add(f)
	dataCmd.AddCommand(dataInspectCmd)
	rootCmd.AddCommand(dataCmd)
}

// inspectResult is one path's entry in the --json output.
type inspectResult struct {
	*data.Info
	Path    string `json:"path"`
	Skipped string `json:"skipped,omitempty"`
	Error   string `json:"error,omitempty"`
}

func runDataInspect(cmd *cobra.Command, args []string) error {
	fl := dataInspectFlags
	restore, err := fl.limits.apply()
	if err != nil {
		return err
	}
	defer restore()
	opt := data.With(data.Options{
		LabelColumn: fl.label, NoLabels: fl.noLabels, XName: fl.x, YName: fl.y,
		Split: fl.split, Grey: fl.grey,
	})
	out := cmd.OutOrStdout()
	var results []inspectResult
	failed := 0
	for _, p := range args {
		if err := cmd.Context().Err(); err != nil {
			return err
		}
		info, err := data.Inspect(p, opt)
		if info != nil {
			countNaN(info)
		}
		r := inspectResult{Info: info, Path: p}
		switch {
		case errors.Is(err, data.ErrUnknownFormat):
			r.Skipped = "not a data file of a known format"
		case err != nil:
			r.Error = err.Error()
			failed++
		}
		if fl.json {
			results = append(results, r)
			continue
		}
		printInspect(out, r)
	}
	if fl.json {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("data inspect: %d of %d paths failed", failed, len(args))
	}
	return nil
}

// countNaN fills each summary's NaN count where the reader left it out
// (array summaries count only the values that are not NaN), so the JSON
// says "nan" beside a min and max of 0 that no value has.
func countNaN(info *data.Info) {
	fill := func(s *data.Summary) {
		total := s.N
		for _, d := range s.SampleShape {
			total *= d
		}
		s.NaN = max(s.NaN, total-s.Count)
	}
	if info.Dataset != nil {
		fill(info.Dataset)
	}
	for i := range info.Arrays {
		fill(&info.Arrays[i])
	}
}

func shapeString(s data.Summary) string {
	dims := make([]string, len(s.SampleShape))
	for i, d := range s.SampleShape {
		dims[i] = fmt.Sprint(d)
	}
	if len(dims) == 0 {
		return fmt.Sprint(s.N)
	}
	return fmt.Sprintf("%d × %s", s.N, strings.Join(dims, "×"))
}

func classString(cc []data.ClassCount) string {
	parts := make([]string, len(cc))
	for i, c := range cc {
		if c.Name != "" {
			parts[i] = fmt.Sprintf("%d(%s):%d", c.Label, c.Name, c.Count)
		} else {
			parts[i] = fmt.Sprintf("%d:%d", c.Label, c.Count)
		}
	}
	return strings.Join(parts, " ")
}

func printSummary(w io.Writer, indent string, s data.Summary) {
	name := s.Name
	if name != "" {
		name += "  "
	}
	fmt.Fprintf(w, "%s%s%s  %s  %s\n", indent, name, shapeString(s), s.DType, s.Range())
	if len(s.Classes) > 0 {
		pad := strings.Repeat(" ", len([]rune(indent)))
		fmt.Fprintf(w, "%s  %d classes: %s\n", pad, len(s.Classes), classString(s.Classes))
	}
}

func printInspect(w io.Writer, r inspectResult) {
	switch {
	case r.Skipped != "":
		fmt.Fprintf(w, "%s: skipped (%s)\n", r.Path, r.Skipped)
		return
	case r.Error != "":
		fmt.Fprintf(w, "%s: error: %s\n", r.Path, r.Error)
		return
	}
	fmt.Fprintf(w, "%s: %s\n", r.Path, r.Format)
	if r.Dataset != nil {
		printSummary(w, "  data set: ", *r.Dataset)
	}
	if len(r.Arrays) > 0 {
		fmt.Fprintln(w, "  stored:")
		for _, a := range r.Arrays {
			printSummary(w, "    ", a)
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
