package ecod

import (
	"testing"

	"github.com/oddity-ml/oddity/scripts/reference/parity"
)

// TestParity compares ECOD with the NumPy reference written from the
// paper (scripts/reference/ecod.py) on the 21 ADBench files, three
// splits each: scores equal to 1e-9 (relative), AUC-ROC within 0.005, and
// the fit-plus-score times side by side (best of three, wall clock and
// CPU). Run with
//
//	ODDITY_PARITY=1 go test -run Parity -v ./ecod/
func TestParity(t *testing.T) {
	if !parity.Enabled() {
		t.Skip("set ODDITY_PARITY=1 to compare with the NumPy reference")
	}
	parity.Check(t, parity.Run{
		Method: Method, Script: "scripts/reference/ecod.py",
		Variants: []parity.Variant{
			{Name: "paper", Settings: map[string]string{"aggregate": AggregatePaper}, Args: []string{"--aggregate", "paper"}, Timed: true},
			{Name: "pyod", Settings: map[string]string{"aggregate": AggregatePyOD}, Args: []string{"--aggregate", "pyod"}},
		},
		RelTol: 1e-9, AUCTol: 0.005,
	})
}
