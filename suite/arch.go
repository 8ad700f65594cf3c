package suite

// archFuncs produce the architecture rows; each method's file adds its own.
var archFuncs []func() []Architecture

// Architectures describes every method's networks, parameter counts and
// FLOPs per sample, for the report's architecture table.
func Architectures() []Architecture {
	var out []Architecture
	for _, f := range archFuncs {
		out = append(out, f()...)
	}
	return out
}
