// Package detector is the one interface every anomaly detector in oddity
// implements, the registry through which the CLI, the benchmark runner and
// the server find them, and the model that wraps a fitted detector for use:
// input schema, threshold, training metadata, and saving to and loading
// from a model file.
//
// It follows PyOD's shape: Fit on training data, Score new data (higher =
// more anomalous, always), then Predict with a threshold chosen after fitting
// from the training scores (by contamination, by a target false-positive
// rate, or explicitly).
//
// # Writing a detector
//
// A method is one package, named for the method, with these files and
// names (package iforest is a small complete example):
//
//   - doc.go: the package documentation, mapping each step of the paper to
//     the function that implements it, and citing docs/methods.md.
//   - options.go: const Method (the registered name); type Options, each
//     field with a JSON tag, a doc comment stating its default, and, for a
//     setting a user may change, an `opt:"name" help:"..."` tag (package
//     option: the option's one declaration, from which flags, benchmark
//     settings and `oddity methods` are derived), with its constraints as
//     tags (`min:"1"`, `gt:"0"`, `enum:"a|b"`); Seed uint64 (not an
//     option: set per run); DefaultOptions(), what `oddity train` runs;
//     PaperOptions() where the paper's settings differ; and
//     (Options) Validate(), which calls option.Check and adds the checks
//     that relate options, its errors wrapping ErrOption and naming the
//     option. The zero Options is not a configuration.
//   - detector.go: type Detector with Method, Fit, Score, Marshal and
//     Unmarshal; New(Options) *Detector; and, in init,
//     Register(Define(Method, kind, summary, DefaultOptions, PaperOptions, New)).
//   - the network and training files the method needs.
//
// Fit starts with CheckFit (options, training data, context) and Score
// with CheckScore (fitted, input shape and values, context).
//
// The contract, checked for every registered method by
// detectortest.Conformance (package detector/all's test fails for a method
// whose package does not run it): Score before Fit wraps ErrNotFitted;
// Fit and Score start with CheckInput (another sample shape wraps
// ErrSchema, NaN or Inf wraps ErrInput); Score is safe for concurrent use;
// a saved and loaded model scores bit for bit the same; the same seed
// gives the same scores; Fit returns within a second of its context's
// cancellation; DefaultOptions validates and a bad option is refused.
// Detectors never print: Fit reports progress only through
// TrainSet.Progress, and the commands draw the bars.
//
// What a detector can do beyond scoring it says by implementing small
// optional interfaces, found by type assertion as net/http finds a
// Flusher: Embedder (a latent code per sample) and Reconstructor. Add the
// package to detector/all so every command knows it.
package detector

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/tensor"
)

// TrainSet is what a detector learns from. Unsupervised and semi-supervised
// methods read X only (unlabelled, or normal-only data); weakly supervised
// methods (DPLAN, DevNet, Deep SAD) also read the labelled anomalies.
type TrainSet struct {
	// X is the unlabelled (or normal) training data.
	X *data.Dataset
	// Anomalies holds the few labelled anomalies, or is nil.
	Anomalies *data.Dataset
	// Progress, if not nil, receives progress reports during Fit.
	Progress func(Progress)
}

// Progress is one report from a running Fit.
type Progress struct {
	// Phase names the stage ("pretrain", "epoch", "episode", ...).
	Phase string
	// Done and Total count the stage's units of work.
	Done, Total int
	// Metrics are the latest values worth showing (loss, ACC, ...).
	Metrics map[string]float64
}

// Detector is an anomaly detector: it learns from a TrainSet and scores
// samples, higher meaning more anomalous.
type Detector interface {
	// Method names the algorithm ("iforest", "ganomaly", "dplan", ...); it is
	// the key under which the method is registered for loading.
	Method() string
	// Fit trains the detector. It stops early with ctx's error when ctx is
	// cancelled.
	Fit(ctx context.Context, ts TrainSet) error
	// Score returns one score per sample of x. It must be safe to call from
	// several goroutines at once on a fitted detector.
	Score(ctx context.Context, x *data.Dataset) ([]float64, error)
	// Marshal returns the fitted state to store: a JSON-encodable
	// configuration, tensors, and opaque blobs.
	Marshal() (*Payload, error)
	// Unmarshal restores the state Marshal returned into a detector made by
	// the method's registered constructor.
	Unmarshal(p *Payload) error
}

// Payload is a detector's stored state.
type Payload struct {
	// Config is the detector's configuration and any small state, as JSON.
	Config json.RawMessage
	// Tensors are named parameter tensors.
	Tensors []*tensor.Tensor
	// Blobs are named opaque byte strings (for example a serialised forest).
	Blobs map[string][]byte
}

// Tensor returns the payload's tensor called name.
func (p *Payload) Tensor(name string) (*tensor.Tensor, error) {
	for _, t := range p.Tensors {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, fmt.Errorf("%w: no tensor %q", ErrPayload, name)
}

// ErrPayload reports stored state that does not fit the detector loading it.
var ErrPayload = errors.New("detector: stored state does not fit the detector")

// ErrNotFitted is returned by Score and Predict before Fit.
var ErrNotFitted = errors.New("detector: not fitted")

// ErrUnknownMethod is returned when no method is registered under a name.
var ErrUnknownMethod = errors.New("detector: unknown method")
