package detector

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"time"

	"github.com/oddity-ml/oddity/conformal"
	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/modelfile"
)

// FormatVersion is the version of the model header this package writes.
// Loading refuses a header of a newer major version.
//
// Format 1 headers may carry two optional fields, added without a version
// change: "calibration_scores" (the model's calibration, ascending) and
// "meta"."calibration" (how it was made). Files written before them load
// as models without calibration. A reader that predates them ignores
// them and still predicts the same labels for a model using the Alpha
// rule, since the header's threshold is the equivalent score threshold
// (see ThresholdRule.Alpha).
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
	// DataHash is the SHA-256 of the training samples (values and shape):
	// for FitCalibrated, of all of TrainSet.X, held-out rows included (the
	// held-out rows follow from it and the calibration seed).
	DataHash string `json:"data_hash"`
	// Train and Labeled count the samples the detector was fitted on
	// (without the rows FitCalibrated held out) and the labelled anomalies.
	Train   int `json:"train_samples"`
	Labeled int `json:"labeled_anomalies"`
	// Seconds is the wall time of Fit.
	Seconds float64 `json:"fit_seconds"`
	// Metrics holds any evaluation figures the caller recorded.
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// Extra is free-form information (seed, command line, data source).
	Extra map[string]string `json:"extra,omitempty"`
	// Calibration says how the model's calibration was made, or is nil
	// when the model has none.
	Calibration *CalibrationMeta `json:"calibration,omitempty"`
}

// CalibrationMeta records how a model's calibration scores were obtained.
type CalibrationMeta struct {
	// Rows counts the rows set aside for calibration: held out of fitting
	// by FitCalibrated, or given to Calibrate.
	Rows int `json:"rows"`
	// Scores counts the calibration scores stored: all Rows, or a seeded
	// random subsample of CalibrationOptions.MaxScores of them.
	Scores int `json:"scores"`
	// Fraction is the fraction of the training rows FitCalibrated held
	// out; 0 when the calibration rows were given to Calibrate.
	Fraction float64 `json:"fraction,omitempty"`
	// Seed drew the held-out rows and the subsample.
	Seed uint64 `json:"seed"`
}

// Model is a fitted detector ready for use: it checks input against its
// schema, keeps a sample of its training scores, and turns scores into
// labels with a threshold. A model made by FitCalibrated (or given
// normal held-out rows by Calibrate) also keeps calibration scores, from
// which PValues computes conformal p-values (package conformal) and the
// Alpha rule sets a threshold with a false-alarm guarantee.
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
	// Pipeline is the fitted input pipeline that turns raw records into the
	// samples the detector takes (for tables: package data/table's
	// Pipeline, as its JSON), stored in the model file so that scoring
	// applies exactly the training-time transformation; nil for a model
	// trained on prepared matrices.
	Pipeline json.RawMessage
	// Background is a sample of the training rows (at most MaxBackground,
	// evenly spaced, so no seed is needed), kept for explanations: the
	// typical normal data that integrated gradients start from and that
	// Shapley estimates draw replacement values from. It is nil for image
	// models, whose explanations are anomaly maps, and for models saved
	// before it existed.
	Background *data.Dataset

	// calibration holds the calibration scores, or is nil.
	calibration *conformal.Calibration
}

const maxTrainScores = 4096

// MaxBackground is the number of training rows a tabular model keeps as
// its explanation background: enough for a stable median and for Shapley
// estimates, few enough that a model file grows by at most 64 rows.
const MaxBackground = 64

// background returns up to MaxBackground evenly spaced rows of x, or nil
// when x's samples are not table rows.
func background(x *data.Dataset) (*data.Dataset, error) {
	if len(x.Shape) != 1 || x.N == 0 {
		return nil, nil
	}
	k := min(x.N, MaxBackground)
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i * x.N / k
	}
	b, err := x.Subset(idx)
	if err != nil {
		return nil, err
	}
	b.Y, b.ClassNames = nil, nil
	return b, nil
}

// ThresholdRule chooses a threshold after fitting. Exactly one field is
// used, in this order of precedence: Value if HasValue, else Alpha if not
// 0, else FPR if not 0, else Contamination (0.1 when it too is 0).
//
// Contamination and FPR are read off the training scores, which the
// detector has seen: they describe the training data but promise nothing
// about new data. Alpha is read off the calibration scores, which it has
// not, and bounds the false-alarm rate on new normal data.
type ThresholdRule struct {
	// Contamination is the expected fraction of anomalies in the training
	// data: the threshold is the training scores' 100·(1 - Contamination)
	// percentile, linearly interpolated (PyOD's rule; its default is 0.1).
	Contamination float64 `json:"contamination,omitempty"`
	// FPR is a target false-positive rate on (assumed normal) training
	// data: the (1 - FPR) quantile.
	FPR float64 `json:"fpr,omitempty"`
	// Alpha is a level in (0, 1) for the conformal test: a score is flagged
	// when its conformal p-value is at most Alpha, so a new normal point
	// exchangeable with the calibration points is flagged with probability
	// at most Alpha (package conformal states the guarantee and its
	// assumptions). It needs a model with calibration (FitCalibrated,
	// Calibrate) and at least 1/Alpha - 1 calibration scores. The
	// threshold it sets is the calibration score above which p ≤ Alpha,
	// so Predict(s) is exactly "PValue(s) ≤ Alpha" for every finite s.
	Alpha float64 `json:"alpha,omitempty"`
	// Value is an explicit threshold.
	Value    float64 `json:"value,omitempty"`
	HasValue bool    `json:"has_value,omitempty"`
}

// Fit trains d on ts and wraps it in a Model with the threshold rule applied
// to the training scores. The model has no calibration, so the Alpha rule
// is refused (ErrNoCalibration): use FitCalibrated for it.
func Fit(ctx context.Context, d Detector, ts TrainSet, rule ThresholdRule) (*Model, error) {
	if err := checkFitData(ts); err != nil {
		return nil, err
	}
	m, err := fit(ctx, d, ts)
	if err != nil {
		return nil, err
	}
	m.Meta.DataHash = Hash(ts.X)
	if err := m.SetThreshold(rule); err != nil {
		return nil, err
	}
	return m, nil
}

// checkFitData is what Fit and FitCalibrated check of the training data.
func checkFitData(ts TrainSet) error {
	if ts.X == nil || ts.X.N == 0 {
		return errors.New("detector: no training data")
	}
	if err := ts.X.Validate(); err != nil {
		return err
	}
	if ts.Anomalies != nil {
		if err := ts.Anomalies.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// fit trains d on ts and wraps it in a Model with its schema, metadata
// (but DataHash) and training-score quantiles; no threshold yet.
func fit(ctx context.Context, d Detector, ts TrainSet) (*Model, error) {
	start := time.Now()
	if err := d.Fit(ctx, ts); err != nil {
		return nil, err
	}
	m := &Model{Detector: d, Schema: Schema{Shape: append([]int(nil), ts.X.Shape...), FeatureNames: ts.X.FeatureNames}}
	m.Meta = Meta{Train: ts.X.N, Seconds: time.Since(start).Seconds()}
	if ts.Anomalies != nil {
		m.Meta.Labeled = ts.Anomalies.N
	}
	var scores []float64
	var err error
	if t, ok := d.(TrainScorer); ok && len(t.TrainScores()) == ts.X.N {
		scores = t.TrainScores()
	} else if scores, err = d.Score(ctx, ts.X); err != nil {
		return nil, err
	}
	m.TrainScores = quantiles(scores, maxTrainScores)
	if m.Background, err = background(ts.X); err != nil {
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

// SetThreshold applies a threshold rule: to the stored training scores
// (Contamination, FPR), to the calibration scores (Alpha), or none
// (Value). On error the model is unchanged.
func (m *Model) SetThreshold(rule ThresholdRule) error {
	switch {
	case rule.HasValue:
		if math.IsNaN(rule.Value) {
			return errors.New("detector: threshold is NaN")
		}
		m.Threshold = rule.Value
	case rule.Alpha != 0:
		t, err := alphaThreshold(m.calibration, rule.Alpha)
		if err != nil {
			return err
		}
		m.Threshold = t
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

// alphaThreshold is the Alpha rule's threshold on calibration c.
func alphaThreshold(c *conformal.Calibration, alpha float64) (float64, error) {
	if c == nil {
		return 0, fmt.Errorf("%w: the alpha rule needs calibration scores (fit with FitCalibrated, or Calibrate)", ErrNoCalibration)
	}
	t, err := c.ScoreThreshold(alpha)
	if err != nil {
		return 0, fmt.Errorf("detector: threshold rule: %w", err)
	}
	return t, nil
}

// ErrNoCalibration is returned for p-values or the Alpha rule on a model
// without calibration scores.
var ErrNoCalibration = errors.New("detector: model has no calibration")

// Calibration defaults and limits.
const (
	// DefaultCalibrationFraction is the fraction of the training rows
	// FitCalibrated holds out when CalibrationOptions.Fraction is 0.
	DefaultCalibrationFraction = 0.2
	// DefaultMaxCalibrationScores is how many calibration scores a model
	// keeps at most when CalibrationOptions.MaxScores is 0 (about 2 MB of
	// model header); more calibration rows are subsampled.
	DefaultMaxCalibrationScores = 100_000
	// MinCalibrationScores is the fewest calibration scores FitCalibrated
	// and Calibrate accept: with n scores the smallest p-value is 1/(n+1),
	// and 19 is the fewest for which it reaches 0.05.
	MinCalibrationScores = 19
)

// CalibrationOptions configure FitCalibrated and Calibrate.
type CalibrationOptions struct {
	// Fraction is the fraction of TrainSet.X's rows that FitCalibrated
	// holds out of fitting for calibration, in (0, 1); 0 means
	// DefaultCalibrationFraction. The held-out count is ⌊Fraction·N⌋.
	// Calibrate ignores it.
	Fraction float64
	// MaxScores caps the calibration scores kept; more calibration rows
	// are subsampled (uniformly, seeded) before scoring. 0 means
	// DefaultMaxCalibrationScores; it must be at least
	// MinCalibrationScores.
	MaxScores int
	// Seed draws the held-out rows and the subsample.
	Seed uint64
}

// withDefaults fills in the defaults and checks the options.
func (o CalibrationOptions) withDefaults() (CalibrationOptions, error) {
	if o.Fraction == 0 {
		o.Fraction = DefaultCalibrationFraction
	}
	if o.MaxScores == 0 {
		o.MaxScores = DefaultMaxCalibrationScores
	}
	if !(o.Fraction > 0 && o.Fraction < 1) {
		return o, fmt.Errorf("%w: calibration fraction %v must be in (0, 1)", ErrOption, o.Fraction)
	}
	if o.MaxScores < MinCalibrationScores {
		return o, fmt.Errorf("%w: calibration MaxScores %d is below the minimum of %d", ErrOption, o.MaxScores, MinCalibrationScores)
	}
	return o, nil
}

// calibrationRand returns the random source of a calibration draw; stream
// separates the draws made from one seed.
func calibrationRand(seed, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0xca11b0000+stream))
}

// FitCalibrated is Fit with calibration: it holds out a seeded random
// ⌊Fraction·N⌋ of ts.X's rows (unlabelled rows, assumed normal), fits d on
// the rest (in their original order; ts.Anomalies are all used for
// fitting), scores the held-out rows (a seeded random subsample of
// MaxScores of them when there are more) and keeps those scores as the
// model's calibration. The threshold rule is applied afterwards, so it may
// be Alpha.
//
// Too little data is refused with an error wrapping ErrInput, rather than
// returning a model without calibration that a later --alpha would trip
// over: at least MinCalibrationScores rows must be held out (with the
// default fraction, N ≥ 95) and at least one left to fit on.
//
// The held-out rows are copied, as are the rows fitted on: the data is in
// memory twice for the duration. Meta.Train counts the rows fitted on,
// Meta.Calibration the held-out rows and stored scores; Meta.DataHash is
// of all of ts.X.
//
// The p-values are valid when the rows of ts.X are normal and
// exchangeable (i.i.d., say) with the normal data the model will score.
// Anomalies among the held-out rows are outside that promise; those that
// score above the normal rows only make p-values larger (fewer alarms).
func FitCalibrated(ctx context.Context, d Detector, ts TrainSet, rule ThresholdRule, co CalibrationOptions) (*Model, error) {
	co, err := co.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkFitData(ts); err != nil {
		return nil, err
	}
	trainIdx, heldIdx, err := calibrationSplit(ts.X.N, co)
	if err != nil {
		return nil, err
	}
	held := len(heldIdx)
	train, err := ts.X.Subset(trainIdx)
	if err != nil {
		return nil, err
	}
	hold, err := ts.X.Subset(sample(heldIdx, co.MaxScores))
	if err != nil {
		return nil, err
	}
	fitTS := ts
	fitTS.X = train
	m, err := fit(ctx, d, fitTS)
	if err != nil {
		return nil, err
	}
	m.Meta.DataHash = Hash(ts.X)
	if err := m.calibrate(ctx, hold, CalibrationMeta{Rows: held, Fraction: co.Fraction, Seed: co.Seed}); err != nil {
		return nil, err
	}
	if err := m.SetThreshold(rule); err != nil {
		return nil, err
	}
	return m, nil
}

// CalibrationSplit returns the rows of an n-row training set that
// FitCalibrated with co fits on (sorted) and those it holds out for
// calibration (in the random order it drew them), so that a caller scoring
// the same data afterwards knows which rows the detector saw: `oddity
// detect` gives those rows their leave-one-out scores (TrainScorer), as a
// neighbour method's own training rows would otherwise count themselves.
func CalibrationSplit(n int, co CalibrationOptions) (train, held []int, err error) {
	if co, err = co.withDefaults(); err != nil {
		return nil, nil, err
	}
	return calibrationSplit(n, co)
}

// calibrationSplit is CalibrationSplit for options with their defaults set.
func calibrationSplit(n int, co CalibrationOptions) (train, held []int, err error) {
	// ⌊Fraction·N⌋, forgiving the rounding of Fraction (0.29·100 is
	// 28.999999999999996 in floating point, and means 29).
	h := int(math.Floor(co.Fraction*float64(n) + 1e-9))
	if h < MinCalibrationScores || n-h < 1 {
		return nil, nil, fmt.Errorf("%w: holding out %g of %d training rows gives %d calibration rows and %d to fit on; calibration needs at least %d rows (a p-value can only reach 1/(n+1)) and fitting at least 1: use more data, another fraction, or Fit without calibration",
			ErrInput, co.Fraction, n, h, n-h, MinCalibrationScores)
	}
	perm := calibrationRand(co.Seed, 0).Perm(n)
	held, train = perm[:h], slices.Clone(perm[h:])
	slices.Sort(train)
	return train, held, nil
}

// ScoreFitData scores x, the data FitCalibrated fitted m on with options
// co, as new data would be scored, except that the rows the detector was
// fitted on get its leave-one-out scores where it has them (TrainScorer):
// scored as new rows, a neighbour method's own rows would count themselves
// at distance 0 and score lower than the held-out calibration rows they are
// compared with, which would bias their p-values up. `oddity detect`, which
// fits on a file and then ranks the same file, scores it this way.
func (m *Model) ScoreFitData(ctx context.Context, x *data.Dataset, co CalibrationOptions) ([]float64, error) {
	scores, err := m.Score(ctx, x)
	if err != nil {
		return nil, err
	}
	ts, ok := m.Detector.(TrainScorer)
	if !ok {
		return scores, nil
	}
	if co, err = co.withDefaults(); err != nil {
		return nil, err
	}
	if c := m.Meta.Calibration; c == nil || c.Seed != co.Seed || c.Fraction != co.Fraction || m.Meta.DataHash != Hash(x) {
		return nil, fmt.Errorf("%w: ScoreFitData needs the data and the calibration options FitCalibrated fitted the model with", ErrInput)
	}
	train, _, err := calibrationSplit(x.N, co)
	if err != nil {
		return nil, err
	}
	own := ts.TrainScores()
	if len(own) != len(train) || m.Meta.Train != len(train) {
		return nil, fmt.Errorf("%w: the model has %d training scores and was fitted on %d rows, not the %d this split of %d rows gives: is x the data it was fitted on, with the same calibration options?", ErrInput, len(own), m.Meta.Train, len(train), x.N)
	}
	for j, i := range train {
		scores[i] = own[j]
	}
	return scores, nil
}

// sample returns the first k of idx (all when there are fewer), sorted.
// idx is in random order, so its first k are a uniform random subset.
func sample(idx []int, k int) []int {
	out := slices.Clone(idx[:min(k, len(idx))])
	slices.Sort(out)
	return out
}

// Calibrate scores x, rows of normal data that the detector was not fitted
// on, and makes them the model's calibration, replacing any it had (a
// seeded random subsample of co.MaxScores rows when x has more;
// co.Fraction is not used). It is how a model fitted without calibration,
// or on data that has drifted, is (re)calibrated on fresh normal data. The
// rows' being unseen in training and normal is the caller's promise: the
// p-values are only as valid as it. Under an Alpha rule the threshold is
// set anew from the new calibration. On error the model is unchanged.
func (m *Model) Calibrate(ctx context.Context, x *data.Dataset, co CalibrationOptions) error {
	co.Fraction = 0
	co, err := co.withDefaults()
	if err != nil {
		return err
	}
	if x == nil || x.N < MinCalibrationScores {
		got := 0
		if x != nil {
			got = x.N
		}
		return fmt.Errorf("%w: %d calibration rows, at least %d needed (a p-value can only reach 1/(n+1))", ErrInput, got, MinCalibrationScores)
	}
	meta := CalibrationMeta{Rows: x.N, Seed: co.Seed}
	if x.N > co.MaxScores {
		if x, err = x.Subset(sample(calibrationRand(co.Seed, 1).Perm(x.N), co.MaxScores)); err != nil {
			return err
		}
	}
	return m.calibrate(ctx, x, meta)
}

// calibrate scores x and stores the scores as the calibration, described
// by meta (whose Scores it sets), reapplying an Alpha rule. On error the
// model is unchanged.
func (m *Model) calibrate(ctx context.Context, x *data.Dataset, meta CalibrationMeta) error {
	scores, err := m.Score(ctx, x)
	if err != nil {
		return fmt.Errorf("calibration: %w", err)
	}
	cal, err := conformal.New(scores)
	if err != nil {
		return fmt.Errorf("detector %s: calibration scores: %w", m.Detector.Method(), err)
	}
	th := m.Threshold
	if r := m.ThresholdRule; !r.HasValue && r.Alpha != 0 {
		if th, err = alphaThreshold(cal, r.Alpha); err != nil {
			return err
		}
	}
	meta.Scores = cal.Len()
	m.calibration, m.Threshold, m.Meta.Calibration = cal, th, &meta
	return nil
}

// Calibration returns the model's calibration, or nil when it has none.
func (m *Model) Calibration() *conformal.Calibration { return m.calibration }

// PValues returns the conformal p-value of each score against the model's
// calibration: (1 + #{calibration scores ≥ s}) / (n + 1). Flag a score with
// conformal.Flag(p, alpha), or a batch with conformal.BenjaminiHochberg(p,
// q) to control the false discovery rate. It wraps ErrNoCalibration when
// the model has no calibration, and conformal.ErrInput for a NaN or
// infinite score.
func (m *Model) PValues(scores []float64) ([]float64, error) {
	if m.calibration == nil {
		return nil, ErrNoCalibration
	}
	return m.calibration.PValues(scores)
}

// Score checks x against the schema and scores it.
func (m *Model) Score(ctx context.Context, x *data.Dataset) ([]float64, error) {
	if err := m.Schema.Check(x); err != nil {
		return nil, err
	}
	return m.Detector.Score(ctx, x)
}

// Predict labels each score: true (anomalous) when above the threshold.
// Under the Alpha rule this is the conformal test p ≤ Alpha.
func (m *Model) Predict(scores []float64) []bool {
	out := make([]bool, len(scores))
	for i, s := range scores {
		out[i] = s > m.Threshold
	}
	return out
}

// header is what a model file's header holds.
type header struct {
	Format        int           `json:"oddity_model_format"`
	Method        string        `json:"method"`
	Schema        Schema        `json:"schema"`
	Threshold     float64       `json:"threshold"`
	ThresholdRule ThresholdRule `json:"threshold_rule"`
	TrainScores   []float64     `json:"train_scores"`
	// CalibrationScores are the calibration scores, ascending, or nil (an
	// optional field of format 1).
	CalibrationScores []float64       `json:"calibration_scores,omitempty"`
	Meta              Meta            `json:"meta"`
	Config            json.RawMessage `json:"config"`
	// Pipeline is Model.Pipeline (an optional field of format 1).
	Pipeline json.RawMessage `json:"pipeline,omitempty"`
	// Background is Model.Background's rows, row-major (an optional field
	// of format 1), each of the schema's shape.
	Background []float32 `json:"background,omitempty"`
}

// Save writes the model to w as a model file (modelfile format: versioned,
// checksummed).
func (m *Model) Save(w io.Writer) error {
	p, err := m.Detector.Marshal()
	if err != nil {
		return fmt.Errorf("detector %s: %w", m.Detector.Method(), err)
	}
	h := header{Format: FormatVersion, Method: m.Detector.Method(), Schema: m.Schema, Threshold: m.Threshold,
		ThresholdRule: m.ThresholdRule, TrainScores: m.TrainScores, Meta: m.Meta, Config: p.Config, Pipeline: m.Pipeline}
	if m.Background != nil {
		if !slices.Equal(m.Background.Shape, m.Schema.Shape) {
			return fmt.Errorf("detector: model's background has samples of shape %v, its schema %v", m.Background.Shape, m.Schema.Shape)
		}
		h.Background = m.Background.X
	}
	if m.calibration != nil {
		h.CalibrationScores = m.calibration.Scores()
		if h.Meta.Calibration == nil || h.Meta.Calibration.Scores != len(h.CalibrationScores) {
			return fmt.Errorf("detector: model's calibration metadata %+v does not describe its %d calibration scores", h.Meta.Calibration, len(h.CalibrationScores))
		}
	} else if h.Meta.Calibration != nil {
		return errors.New("detector: model has calibration metadata but no calibration scores")
	}
	return modelfile.Write(w, h, p.Tensors, p.Blobs)
}

// SaveFile writes the model to path atomically and durably
// (modelfile.WriteFileAtomic): through a temporary file of a unique name in
// the same folder, synced, renamed over path, the folder synced. A crash
// leaves path holding the old model or the new one, never a torn file, and
// two saves to one path (or a file of the user's named path+".tmp") never
// overwrite each other's temporary file.
func (m *Model) SaveFile(path string) error {
	if err := modelfile.WriteFileAtomic(path, m.Save); err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	return nil
}

// Load reads a model written by Save. It refuses files with a bad checksum or
// a newer format, detectors of unknown methods, and calibration that is
// empty, unsorted, non-finite, inconsistent with its metadata or with an
// Alpha rule's threshold (wrapping ErrPayload). A file without calibration
// (every file written before it existed) loads as a model without it.
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
	cal, err := readCalibration(&h)
	if err != nil {
		return nil, err
	}
	bg, err := readBackground(&h)
	if err != nil {
		return nil, err
	}
	return &Model{Detector: d, Schema: h.Schema, Threshold: h.Threshold, ThresholdRule: h.ThresholdRule,
		TrainScores: h.TrainScores, Meta: h.Meta, Pipeline: h.Pipeline, Background: bg, calibration: cal}, nil
}

// readBackground checks a header's background rows, returning nil when it
// has none: a whole number of samples of the schema's shape, at most
// MaxBackground of them, all finite.
func readBackground(h *header) (*data.Dataset, error) {
	if h.Background == nil {
		return nil, nil
	}
	d := 1
	for _, s := range h.Schema.Shape {
		d *= s
	}
	if d <= 0 || len(h.Background)%d != 0 || len(h.Background)/d > MaxBackground || len(h.Background) == 0 {
		return nil, fmt.Errorf("%w: %d background values are not 1 to %d samples of shape %v", ErrPayload, len(h.Background), MaxBackground, h.Schema.Shape)
	}
	b := &data.Dataset{Name: "background", X: h.Background, N: len(h.Background) / d, Shape: slices.Clone(h.Schema.Shape), FeatureNames: h.Schema.FeatureNames}
	if err := b.Validate(); err != nil {
		return nil, fmt.Errorf("%w: background: %v", ErrPayload, err)
	}
	return b, nil
}

// readCalibration checks a header's calibration, returning nil when it has
// none. The count is that of the scores actually read; the metadata's
// count must agree with it.
func readCalibration(h *header) (*conformal.Calibration, error) {
	var cal *conformal.Calibration
	switch {
	case h.CalibrationScores == nil && h.Meta.Calibration == nil:
	case h.Meta.Calibration == nil:
		return nil, fmt.Errorf("%w: calibration scores without calibration metadata", ErrPayload)
	case h.Meta.Calibration.Scores != len(h.CalibrationScores):
		return nil, fmt.Errorf("%w: calibration metadata counts %d scores, the file holds %d", ErrPayload, h.Meta.Calibration.Scores, len(h.CalibrationScores))
	default:
		var err error
		if cal, err = conformal.FromSorted(h.CalibrationScores); err != nil {
			return nil, fmt.Errorf("%w: calibration: %v", ErrPayload, err)
		}
	}
	if r := h.ThresholdRule; !r.HasValue && r.Alpha != 0 {
		t, err := alphaThreshold(cal, r.Alpha)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrPayload, err)
		}
		if math.Float64bits(t) != math.Float64bits(h.Threshold) {
			return nil, fmt.Errorf("%w: threshold %v does not match the alpha %g rule's %v on the stored calibration", ErrPayload, h.Threshold, r.Alpha, t)
		}
	}
	return cal, nil
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
