package detector

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/modelfile"
)

// FormatVersion is the version of the model header this package writes.
// Loading refuses a header of a newer major version.
const FormatVersion = 1

// Schema is the input a model accepts.
type Schema struct {
	// Shape is one sample's shape ([d] for rows, [C, H, W] for images).
	Shape []int `json:"shape"`
	// FeatureNames name tabular columns, when known.
	FeatureNames []string `json:"feature_names,omitempty"`
}

// Check returns an error unless x's samples have the schema's shape.
func (s Schema) Check(x *data.Dataset) error {
	if len(x.Shape) != len(s.Shape) {
		return fmt.Errorf("%w: model expects samples of shape %v, got %v", ErrSchema, s.Shape, x.Shape)
	}
	for i := range s.Shape {
		if x.Shape[i] != s.Shape[i] {
			return fmt.Errorf("%w: model expects samples of shape %v, got %v", ErrSchema, s.Shape, x.Shape)
		}
	}
	return nil
}

// ErrSchema reports input that does not match the model's schema.
var ErrSchema = errors.New("detector: input does not match the model")

// Meta records how a model was trained.
type Meta struct {
	// DataHash is the SHA-256 of the training samples (values and shape).
	DataHash string `json:"data_hash"`
	// Train and Labeled count the training samples and labelled anomalies.
	Train   int `json:"train_samples"`
	Labeled int `json:"labeled_anomalies"`
	// Seconds is the wall time of Fit.
	Seconds float64 `json:"fit_seconds"`
	// Metrics holds any evaluation figures the caller recorded.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Extra is free-form information (seed, command line, data source).
	Extra map[string]string `json:"extra,omitempty"`
}

// Model is a fitted detector ready for use: it checks input against its
// schema, keeps a sample of its training scores, and turns scores into
// labels with a threshold.
type Model struct {
	Detector Detector
	Schema   Schema
	// Threshold: a score strictly above it is predicted anomalous.
	Threshold float64
	// ThresholdRule says how Threshold was chosen.
	ThresholdRule ThresholdRule
	// TrainScores are quantiles of the training scores, ascending (at most
	// maxTrainScores values).
	TrainScores []float64
	Meta        Meta
}

const maxTrainScores = 4096

// ThresholdRule chooses a threshold after fitting. Exactly one field is
// used, in this order: Value if HasValue, else FPR if > 0, else
// Contamination.
type ThresholdRule struct {
	// Contamination is the expected fraction of anomalies in the training
	// data: the threshold is the training scores' 100·(1 - Contamination)
	// percentile, linearly interpolated (PyOD's rule; its default is 0.1).
	Contamination float64 `json:"contamination,omitempty"`
	// FPR is a target false-positive rate on (assumed normal) training
	// data: the (1 - FPR) quantile.
	FPR float64 `json:"fpr,omitempty"`
	// Value is an explicit threshold.
	Value    float64 `json:"value,omitempty"`
	HasValue bool    `json:"has_value,omitempty"`
}

// Fit trains d on ts and wraps it in a Model with the threshold rule applied
// to the training scores.
func Fit(ctx context.Context, d Detector, ts TrainSet, rule ThresholdRule) (*Model, error) {
	if ts.X == nil || ts.X.N == 0 {
		return nil, errors.New("detector: no training data")
	}
	if err := ts.X.Validate(); err != nil {
		return nil, err
	}
	if ts.Anomalies != nil {
		if err := ts.Anomalies.Validate(); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	if err := d.Fit(ctx, ts); err != nil {
		return nil, err
	}
	m := &Model{Detector: d, Schema: Schema{Shape: append([]int(nil), ts.X.Shape...), FeatureNames: ts.X.FeatureNames}}
	m.Meta = Meta{DataHash: Hash(ts.X), Train: ts.X.N, Seconds: time.Since(start).Seconds()}
	if ts.Anomalies != nil {
		m.Meta.Labeled = ts.Anomalies.N
	}
	scores, err := d.Score(ctx, ts.X)
	if err != nil {
		return nil, err
	}
	m.TrainScores = quantiles(scores, maxTrainScores)
	if err := m.SetThreshold(rule); err != nil {
		return nil, err
	}
	return m, nil
}

// quantiles returns at most k evenly spaced order statistics of s,
// ascending, including the minimum and maximum.
func quantiles(s []float64, k int) []float64 {
	c := append([]float64(nil), s...)
	sort.Float64s(c)
	if len(c) <= k {
		return c
	}
	out := make([]float64, k)
	for i := range out {
		out[i] = c[int(math.Round(float64(i)*float64(len(c)-1)/float64(k-1)))]
	}
	return out
}

// SetThreshold applies a threshold rule to the stored training scores.
func (m *Model) SetThreshold(rule ThresholdRule) error {
	switch {
	case rule.HasValue:
		if math.IsNaN(rule.Value) {
			return errors.New("detector: threshold is NaN")
		}
		m.Threshold = rule.Value
	case rule.FPR > 0 || rule.Contamination > 0:
		q := rule.Contamination
		if rule.FPR > 0 {
			q = rule.FPR
		}
		if q >= 1 {
			return fmt.Errorf("detector: threshold rate %g must be below 1", q)
		}
		if len(m.TrainScores) == 0 {
			return errors.New("detector: no training scores to set a threshold from")
		}
		// The (1-q) percentile of the training scores with linear
		// interpolation, as PyOD (numpy.percentile) sets threshold_.
		s := m.TrainScores
		pos := (1 - q) * float64(len(s)-1)
		lo := int(math.Floor(pos))
		hi := min(lo+1, len(s)-1)
		m.Threshold = s[lo] + (pos-float64(lo))*(s[hi]-s[lo])
	case rule.Contamination < 0 || rule.FPR < 0:
		return fmt.Errorf("detector: negative threshold rate in %+v", rule)
	default:
		return m.SetThreshold(ThresholdRule{Contamination: 0.1})
	}
	m.ThresholdRule = rule
	return nil
}

// Score checks x against the schema and scores it.
func (m *Model) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := m.Schema.Check(x); err != nil {
		return nil, err
	}
	return m.Detector.Score(ctx, x)
}

// Predict labels each score: true (anomalous) when above the threshold.
func (m *Model) Predict(scores []float64) []bool {
	out := make([]bool, len(scores))
	for i, s := range scores {
		out[i] = s > m.Threshold
	}
	return out
}

// header is what a model file's header holds.
type header struct {
	Format        int             `json:"oddity_model_format"`
	Method        string          `json:"method"`
	Schema        Schema          `json:"schema"`
	Threshold     float64         `json:"threshold"`
	ThresholdRule ThresholdRule   `json:"threshold_rule"`
	TrainScores   []float64       `json:"train_scores"`
	Meta          Meta            `json:"meta"`
	Config        json.RawMessage `json:"config"`
}

// Save writes the model to w as a model file (modelfile format: versioned,
// checksummed).
func (m *Model) Save(w io.Writer) error {
	p, err := m.Detector.Marshal()
	if err != nil {
		return fmt.Errorf("detector %s: %w", m.Detector.Method(), err)
	}
	h := header{Format: FormatVersion, Method: m.Detector.Method(), Schema: m.Schema, Threshold: m.Threshold,
		ThresholdRule: m.ThresholdRule, TrainScores: m.TrainScores, Meta: m.Meta, Config: p.Config}
	return modelfile.Write(w, h, p.Tensors, p.Blobs)
}

// SaveFile writes the model to path, atomically (a temporary file renamed
// into place).
func (m *Model) SaveFile(path string) error {
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Load reads a model written by Save. It refuses files with a bad checksum or
// a newer format, and detectors of unknown methods.
func Load(r io.Reader) (*Model, error) {
	f, err := modelfile.Read(r)
	if err != nil {
		return nil, err
	}
	return fromFile(f)
}

// LoadFile reads the model at path.
func LoadFile(path string) (*Model, error) {
	f, err := modelfile.Load(path)
	if err != nil {
		return nil, err
	}
	m, err := fromFile(f)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return m, nil
}

func fromFile(f *modelfile.File) (*Model, error) {
	var h header
	if err := json.Unmarshal(f.Header, &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrPayload, err)
	}
	if h.Format > FormatVersion {
		return nil, fmt.Errorf("%w: model format %d is newer than this oddity's %d", modelfile.ErrVersion, h.Format, FormatVersion)
	}
	if h.Format < 1 {
		return nil, fmt.Errorf("%w: not an oddity model (format %d)", ErrPayload, h.Format)
	}
	d, err := New(h.Method)
	if err != nil {
		return nil, err
	}
	blobs := map[string][]byte{}
	for _, n := range f.BlobNames() {
		b, _ := f.Blob(n)
		blobs[n] = b
	}
	if err := d.Unmarshal(&Payload{Config: h.Config, Tensors: f.Tensors(), Blobs: blobs}); err != nil {
		return nil, fmt.Errorf("%s model: %w", h.Method, err)
	}
	if len(h.Schema.Shape) == 0 {
		return nil, fmt.Errorf("%w: model has no input shape", ErrPayload)
	}
	return &Model{Detector: d, Schema: h.Schema, Threshold: h.Threshold, ThresholdRule: h.ThresholdRule,
		TrainScores: h.TrainScores, Meta: h.Meta}, nil
}

// Hash returns the hex SHA-256 of a data set's sample shape and values.
func Hash(d *data.Dataset) string {
	h := sha256.New()
	var b [4]byte
	for _, s := range d.Shape {
		binary.LittleEndian.PutUint32(b[:], uint32(s))
		h.Write(b[:])
	}
	buf := make([]byte, 0, 4096)
	for i, v := range d.X {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(v))
		if len(buf) == cap(buf) || i == len(d.X)-1 {
			h.Write(buf)
			buf = buf[:0]
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
