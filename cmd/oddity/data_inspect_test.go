package main

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/data/limit/limittest"
)

// An array whose values are all NaN is described as such, in text and in
// JSON ("nan"), not as "min 0 max 0".
func TestDataInspectAllNaN(t *testing.T) {
	b := limittest.NPYHeader("<f8", []int{2, 3})
	for i := 0; i < 6; i++ {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(math.NaN()))
	}
	p := filepath.Join(t.TempDir(), "nan.npy")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runRoot(t, "data", "inspect", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "all 6 values are NaN") || strings.Contains(out, "min 0 max 0") {
		t.Errorf("text output:\n%s", out)
	}
	out, _, err = runRoot(t, "data", "inspect", "--json", p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"nan": 6`) {
		t.Errorf("JSON output:\n%s", out)
	}
	_ = dataInspectCmd.Flags().Set("json", "false")
}

// --max-decoded bounds what a file may expand to; over it the file is an
// error naming it and the limit, and the limits are restored afterwards.
func TestDataInspectLimitFlags(t *testing.T) {
	b := append(limittest.NPYHeader("<f8", []int{2, 3}), make([]byte, 48)...)
	p := filepath.Join(t.TempDir(), "m.npy")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runRoot(t, "data", "inspect", "--max-decoded", "40b", p)
	if err == nil || !strings.Contains(out, p+": error:") || !strings.Contains(out, "limit.MaxDecoded") {
		t.Errorf("over --max-decoded: %v\n%s", err, out)
	}
	_ = dataInspectCmd.Flags().Set("max-decoded", "")
	if out, _, err := runRoot(t, "data", "inspect", p); err != nil || !strings.Contains(out, "2 × 3") {
		t.Errorf("after the flag: %v\n%s", err, out)
	}
	if _, _, err := runRoot(t, "data", "inspect", "--max-decompressed", "lots", p); err == nil || !strings.Contains(err.Error(), "--max-decompressed") {
		t.Errorf("a bad size: %v", err)
	}
	_ = dataInspectCmd.Flags().Set("max-decompressed", "")
}
