package hbos

import (
	"testing"

	"github.com/oddity-ml/oddity/scripts/reference/parity"
)

// TestParity compares HBOS with the NumPy reference written from the
// paper with PyOD's choices (scripts/reference/hbos.py) on the 21 ADBench
// files, three splits each, with the default options and another set:
// scores equal to 1e-9 (relative), AUC-ROC within 0.005. Run with
//
//	ODDITY_PARITY=1 go test -run Parity -v ./hbos/
func TestParity(t *testing.T) {
	if !parity.Enabled() {
		t.Skip("set ODDITY_PARITY=1 to compare with the NumPy reference")
	}
	parity.Check(t, parity.Run{
		Method: Method, Script: "scripts/reference/hbos.py",
		Variants: []parity.Variant{
			{Name: "default", Settings: map[string]string{}, Timed: true},
			{Name: "k25", Settings: map[string]string{"bins": "25", "alpha": "0.05", "tol": "0.2"}, Args: []string{"--bins", "25", "--alpha", "0.05", "--tol", "0.2"}},
		},
		RelTol: 1e-9, AUCTol: 0.005,
	})
}
