package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/detector"
	_ "github.com/oddity-ml/oddity/detector/all" // every method, to load any model
	"github.com/oddity-ml/oddity/modelfile"
	"github.com/oddity-ml/oddity/option"
)

// modelCmd groups the commands about saved model files (`oddity model info`).
var modelCmd = &cobra.Command{
	Use:   "model",
	Short: "Describe saved model files",
}

// modelInfo is what `oddity model info --json` prints for one model.
type modelInfo struct {
	Path    string `json:"path"`
	Method  string `json:"method"`
	Kind    string `json:"kind"`
	Summary string `json:"summary,omitempty"`
	// Format is the model header's version (detector.FormatVersion when
	// written); FileFormat the container's (modelfile), Created when it
	// was written.
	Format     int       `json:"format"`
	FileFormat string    `json:"file_format"`
	Created    time.Time `json:"created,omitzero"`
	// Schema is the input the model takes.
	Schema        detector.Schema        `json:"schema"`
	Threshold     float64                `json:"threshold"`
	ThresholdRule detector.ThresholdRule `json:"threshold_rule"`
	// Options are the method's declared options as stored, by the names
	// flags and --set use; absent when the stored configuration does not
	// decode into the method's options.
	Options map[string]string `json:"options,omitempty"`
	// Config is the detector's stored configuration, as saved.
	Config json.RawMessage `json:"config,omitempty"`
	Meta   detector.Meta   `json:"meta"`
	// TrainScores counts the training-score quantiles kept for thresholds.
	TrainScores int `json:"train_scores"`
	// Warnings are what the command printed to standard error.
	Warnings []string `json:"warnings,omitempty"`
}

// storedHeader is the part of a model file's header read here beyond what
// detector.Model holds: the header version and the detector's raw config.
type storedHeader struct {
	Format int             `json:"oddity_model_format"`
	Config json.RawMessage `json:"config"`
}

// describeModel loads the model at path and gathers its description. The
// file is loaded by detector.LoadFile first, so a damaged or foreign file
// fails with the loader's error.
func describeModel(path string) (modelInfo, []option.Field, error) {
	m, err := detector.LoadFile(path)
	if err != nil {
		return modelInfo{}, nil, err
	}
	f, err := modelfile.Load(path)
	if err != nil {
		return modelInfo{}, nil, err
	}
	var h storedHeader
	if err := f.DecodeHeader(&h); err != nil {
		return modelInfo{}, nil, fmt.Errorf("model %s: %w", path, err)
	}
	method := m.Detector.Method()
	mi := modelInfo{Path: path, Method: method, Format: h.Format, FileFormat: f.Version.String(), Created: f.Created,
		Schema: m.Schema, Threshold: m.Threshold, ThresholdRule: m.ThresholdRule, Config: h.Config, Meta: m.Meta,
		TrainScores: len(m.TrainScores)}
	var fields []option.Field
	if in, err := detector.Lookup(method); err == nil {
		mi.Kind, mi.Summary = in.Kind.String(), in.Summary
		fields = storedOptions(in, h.Config)
		if fields != nil {
			mi.Options = map[string]string{}
			for _, fl := range fields {
				mi.Options[fl.Name] = fl.Value
			}
		}
	}
	if w := selfAUCWarning(m); w != "" {
		mi.Warnings = append(mi.Warnings, w)
	}
	return mi, fields, nil
}

// storedOptions decodes the options a detector's config stores into the
// method's options struct and lists them with their declared names. Every
// registered method stores its options as one JSON object in its config,
// under "options" (deepcluster: "config"); it returns nil when neither
// decodes.
func storedOptions(in detector.Info, config json.RawMessage) []option.Field {
	var top map[string]json.RawMessage
	if json.Unmarshal(config, &top) != nil {
		return nil
	}
	for _, key := range []string{"options", "config"} {
		raw := bytes.TrimSpace(top[key])
		if len(raw) == 0 || raw[0] != '{' {
			continue
		}
		o := in.Options()
		if json.Unmarshal(raw, o) == nil {
			return option.Fields(o)
		}
	}
	return nil
}

// selfAUC returns the model's own evaluation AUC-ROC, recorded in its
// metrics as "test_auc_roc" or "auc_roc", if there is one.
func selfAUC(m *detector.Model) (float64, bool) {
	for _, k := range []string{"test_auc_roc", "auc_roc"} {
		if v, ok := m.Meta.Metrics[k]; ok && !math.IsNaN(v) {
			return v, true
		}
	}
	return 0, false
}

// selfAUCWarning is the warning for a model whose own evaluation ranked
// anomalies below normal samples more often than not (AUC-ROC under 0.5),
// or "" for any other model.
func selfAUCWarning(m *detector.Model) string {
	auc, ok := selfAUC(m)
	if !ok || auc >= 0.5 {
		return ""
	}
	return fmt.Sprintf("this model ranked its own test data worse than chance (AUC-ROC %.2f): are higher scores the anomalies here?", auc)
}

// warnSelfAUC prints selfAUCWarning to w (standard error), if any.
func warnSelfAUC(w io.Writer, m *detector.Model) {
	if s := selfAUCWarning(m); s != "" {
		fmt.Fprintln(w, "oddity: warning:", s)
	}
}

// describeRule says how a threshold was chosen.
func describeRule(r detector.ThresholdRule) string {
	switch {
	case r.HasValue:
		return "set explicitly"
	case r.FPR > 0:
		return fmt.Sprintf("false-positive rate %g on the training data: their %g%% quantile", r.FPR, 100*(1-r.FPR))
	case r.Contamination > 0:
		return fmt.Sprintf("contamination %g: the training scores' %g%% quantile", r.Contamination, 100*(1-r.Contamination))
	}
	// A rule of another kind is shown as stored.
	if b, err := json.Marshal(r); err == nil && string(b) != "{}" {
		return "rule " + string(b)
	}
	return "rule not recorded"
}

// maxArray is the number of elements of a JSON array the text output shows
// in full; longer arrays (weights, per-epoch history) show their first
// elements and their length.
const maxArray = 8

// abbreviate shortens the long arrays of a decoded JSON value for reading.
func abbreviate(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = abbreviate(e)
		}
	case []any:
		if len(x) > maxArray {
			short := make([]any, 0, 4)
			for _, e := range x[:3] {
				short = append(short, abbreviate(e))
			}
			return append(short, fmt.Sprintf("… %d elements in all", len(x)))
		}
		for i, e := range x {
			x[i] = abbreviate(e)
		}
	}
	return v
}

// prettyConfig indents a stored config for the text output, long arrays
// shortened; a config that does not decode is shown as stored.
func prettyConfig(config json.RawMessage, indent string) string {
	dec := json.NewDecoder(bytes.NewReader(config))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return indent + string(config)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(indent, "  ")
	if err := enc.Encode(abbreviate(v)); err != nil {
		return indent + string(config)
	}
	return indent + strings.TrimRight(buf.String(), "\n")
}

func printModelInfo(w io.Writer, mi modelInfo, fields []option.Field) {
	line := func(k, format string, a ...any) {
		fmt.Fprintf(w, "%-12s %s\n", k+":", fmt.Sprintf(format, a...))
	}
	line("model", "%s", mi.Path)
	kind := mi.Method
	if mi.Kind != "" {
		kind += " (" + mi.Kind + ")"
	}
	if mi.Summary != "" {
		kind += ": " + mi.Summary
	}
	line("method", "%s", kind)
	created := ""
	if !mi.Created.IsZero() {
		created = ", written " + mi.Created.UTC().Format(time.RFC3339)
	}
	line("format", "model format %d, file format %s%s", mi.Format, mi.FileFormat, created)
	line("shape", "%v", mi.Schema.Shape)
	if len(mi.Schema.FeatureNames) > 0 {
		line("features", "%s", strings.Join(mi.Schema.FeatureNames, ", "))
	}
	line("threshold", "%v (%s)", mi.Threshold, describeRule(mi.ThresholdRule))
	if len(fields) > 0 {
		fmt.Fprintln(w, "options:")
		width := 0
		for _, f := range fields {
			width = max(width, len(f.Name))
		}
		for _, f := range fields {
			fmt.Fprintf(w, "  %-*s  %s\n", width, f.Name, f.Value)
		}
	}
	if len(mi.Config) > 0 {
		fmt.Fprintln(w, "config:")
		fmt.Fprintln(w, prettyConfig(mi.Config, "  "))
	}
	me := mi.Meta
	line("training", "%d samples, %d labelled anomalies, fit in %.3g s", me.Train, me.Labeled, me.Seconds)
	if me.DataHash != "" {
		line("data hash", "sha256 %s", me.DataHash)
	}
	if len(me.Metrics) > 0 {
		line("metrics", "%s", joinSorted(me.Metrics, func(v float64) string { return fmt.Sprintf("%.4g", v) }))
	}
	if len(me.Extra) > 0 {
		line("extra", "%s", joinSorted(me.Extra, func(v string) string { return v }))
	}
}

// joinSorted prints a map as "k=v, k=v" in key order.
func joinSorted[V any](m map[string]V, str func(V) string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + str(m[k])
	}
	return strings.Join(parts, ", ")
}

func init() {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info MODEL",
		Short: "Describe a saved model: method, options, input, threshold, training record",
		Long: `Info loads a model file written by oddity train (or any command that saves
models) and prints its method and the method's kind, the options it was
trained with (by the names --set and the train flags use), its stored
configuration, the input it takes (shape and feature names), its threshold
and how that was chosen, how it was trained (data hash, training samples,
labelled anomalies, fit time, recorded metrics) and the file's format
versions. A damaged or truncated file is refused with the loader's error.

Text output shortens long arrays of the configuration; --json prints it as
stored.`,
		Example: `  oddity model info thyroid.odm
  oddity model info --json thyroid.odm`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			mi, fields, err := describeModel(args[0])
			if err != nil {
				return err
			}
			for _, w := range mi.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "oddity: warning:", w)
			}
			out := cmd.OutOrStdout()
			if !asJSON {
				printModelInfo(out, mi, fields)
				return nil
			}
			enc := json.NewEncoder(out)
			enc.SetIndent("", "  ")
			return enc.Encode(mi)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	modelCmd.AddCommand(cmd)
	rootCmd.AddCommand(modelCmd)
}
