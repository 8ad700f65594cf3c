package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/explain"
)

// Explanations say which features drive each sample's score (package
// explain): the detector's own attributions where it has them (Isolation
// Forest's paths, the gradients of the deep detectors, ...), otherwise a
// Shapley estimate against the model's background rows. They cost from
// one to thousands of scorings per sample, so they are computed only when
// asked for (the v2 outputs "attributions" and "top_features", or
// /v1/models/NAME:explain), count as one request against the model's load
// limits, and are capped at Options.MaxExplainRows samples a request.
// For a model with a table pipeline they are summed back to the input
// columns (explain.BySource), so that the client reads "country", not
// "country=FR" and "country=other".

// DefaultMaxExplainRows is the default Options.MaxExplainRows.
const DefaultMaxExplainRows = 100

// DefaultTopK is how many features "top_features" names per sample unless
// the request's parameter top_k says otherwise.
const DefaultTopK = 3

// explanation is what explaining a batch gives.
type explanation struct {
	// values are N×len(names) attributions, row-major.
	values []float64
	names  []string
	// top names each sample's k features with the largest attributions.
	top       [][]string
	k         int
	technique string
	// offset completes the decomposition (score ≈ offset + Σ values), or
	// is nil.
	offset []float64
}

// explain attributes the scores of ds to its features (or columns) within
// the model's load limits and the server's timeout.
func (s *Server) explain(ctx context.Context, e *entry, ds *data.Dataset, k int) (*explanation, error) {
	if ds.N > s.opt.MaxExplainRows {
		return nil, &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf(
			"%d samples to explain exceed the limit of %d per request (explanations cost many scorings per sample)", ds.N, s.opt.MaxExplainRows)}
	}
	bg := e.model.Background
	if _, ok := e.model.Detector.(detector.Explainer); !ok && bg == nil {
		return nil, &apiError{status: http.StatusNotImplemented, msg: fmt.Sprintf(
			"model %s cannot explain its scores: %s does not attribute them itself and the model file has no background rows for the Shapley estimate (image models have none; tabular models saved by an older oddity lack them: retrain)",
			e.name, e.model.Detector.Method())}
	}
	ctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	release, err := s.acquire(ctx, e.name)
	if err != nil {
		return nil, err
	}
	a, err := explain.Attribute(ctx, e.model.Detector, ds, bg, explain.Options{})
	release()
	if err != nil {
		return nil, err
	}
	names := featureNames(e, ds.Dim())
	if e.pipe != nil {
		if a, names, err = explain.BySource(a, e.pipe.Source); err != nil {
			return nil, err
		}
	}
	out := &explanation{names: names, technique: a.Technique, offset: a.Offset, k: min(k, a.D)}
	out.values = make([]float64, len(a.Values))
	var bad []int
	for i := 0; i < a.N; i++ {
		for j, v := range a.Row(i) {
			out.values[i*a.D+j] = float64(v)
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				if len(bad) == 0 || bad[len(bad)-1] != i {
					bad = append(bad, i)
				}
			}
		}
	}
	if len(bad) > 0 {
		return nil, &apiError{status: http.StatusUnprocessableEntity, msg: fmt.Sprintf(
			"model %s gave non-finite attributions for %d samples (first row %d, counting from 0)", e.name, len(bad), bad[0])}
	}
	for i := 0; i < a.N; i++ {
		var top []string
		for _, j := range explain.TopK(a, i, out.k) {
			top = append(top, names[j])
		}
		out.top = append(out.top, top)
	}
	return out, nil
}

// featureNames names the model's d features: its schema's names, or
// "feature j".
func featureNames(e *entry, d int) []string {
	if fn := e.model.Schema.FeatureNames; len(fn) == d {
		return fn
	}
	names := make([]string, d)
	for j := range names {
		names[j] = "feature " + strconv.Itoa(j)
	}
	return names
}

// explainV1 serves POST /v1/models/NAME:explain: the body of :score, the
// answer of :score plus the attributions.
func (s *Server) explainV1(w http.ResponseWriter, r *http.Request, e *entry) error {
	enc, err := s.v1Input(r, e)
	if err != nil {
		return err
	}
	k := DefaultTopK
	if q := r.URL.Query().Get("top_k"); q != "" {
		if k, err = strconv.Atoi(q); err != nil || k < 1 {
			return badRequest("top_k %q is not a positive integer", q)
		}
	}
	res, err := s.run(r.Context(), e, enc.ds)
	if err != nil {
		return err
	}
	ex, err := s.explain(r.Context(), e, enc.ds, k)
	if err != nil {
		return err
	}
	out := s.v1Answer(w, e, enc, res)
	rows := make([][]float64, len(res.scores))
	d := len(ex.names)
	for i := range rows {
		rows[i] = ex.values[i*d : (i+1)*d]
	}
	out["attributions"] = rows
	out["columns"] = ex.names
	out["top_features"] = ex.top
	out["technique"] = ex.technique
	if ex.offset != nil {
		out["offset"] = ex.offset
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
