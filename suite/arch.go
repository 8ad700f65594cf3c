package suite

import "github.com/oddity-ml/oddity/suite/results"

// archFuncs produce the architecture rows; each experiment adds its own.
var archFuncs []func() []results.Architecture

// RegisterArchitectures adds f to the producers of the report's
// architecture table. Experiments register in init.
func RegisterArchitectures(f func() []results.Architecture) {
	archFuncs = append(archFuncs, f)
}

// Architectures describes every method's networks, parameter counts and
// FLOPs per sample, for the report's architecture table.
func Architectures() []results.Architecture {
	var out []results.Architecture
	for _, f := range archFuncs {
		out = append(out, f()...)
	}
	return out
}

// provenance is the table of how each method's defaults were chosen,
// registered by the experiments.
var provenance []results.Provenance

// RegisterDefaults adds p to the report's table of how each method's
// defaults were chosen. Experiments register in init.
func RegisterDefaults(p ...results.Provenance) { provenance = append(provenance, p...) }

// Defaults returns the registered provenance of every method's defaults.
func Defaults() []results.Provenance { return append([]results.Provenance(nil), provenance...) }
