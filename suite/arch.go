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
