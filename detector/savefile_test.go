package detector

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// SaveFile leaves a file of the user's named path+".tmp" alone, leaves
// nothing else behind, and concurrent saves to one path all succeed with a
// whole model at the end; with a fixed ".tmp" name the first would be
// overwritten and removed, and the saves would rename each other's file.
func TestSaveFileTemporaryName(t *testing.T) {
	m, err := Fit(context.Background(), &meanDist{}, TrainSet{X: line(11)}, ThresholdRule{Contamination: 0.2})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "m.odm")
	os.WriteFile(path+".tmp", []byte("keep me"), 0o644)
	if err := m.SaveFile(path); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path + ".tmp"); err != nil || string(b) != "keep me" {
		t.Errorf("path+.tmp: %q %v", b, err)
	}
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = m.SaveFile(path) }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("save %d: %v", i, err)
		}
	}
	m2, err := LoadFile(path)
	if err != nil || m2.Threshold != m.Threshold {
		t.Errorf("after concurrent saves: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d entries in the folder, want the model and the user's file", len(entries))
	}
}
