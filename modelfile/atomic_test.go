package modelfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Writers of one path at once each get their own temporary file: every
// write succeeds, the file ends whole (one writer's content), and nothing
// is left behind. With one fixed temporary name the writers would write
// into and rename each other's file.
func TestWriteFileAtomicConcurrent(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.odm")
	contents := make([][]byte, 8)
	for i := range contents {
		contents[i] = bytes.Repeat([]byte{byte('a' + i)}, 256<<10+i)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8*10)
	for i := range contents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 10; k++ {
				errs <- WriteFileAtomic(path, func(w io.Writer) error {
					// Written in pieces, so writers interleave.
					c := contents[i]
					for len(c) > 0 {
						n := min(len(c), 32<<10)
						if _, err := w.Write(c[:n]); err != nil {
							return err
						}
						c = c[n:]
					}
					return nil
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a concurrent write failed: %v", err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	whole := false
	for _, c := range contents {
		whole = whole || bytes.Equal(got, c)
	}
	if !whole {
		t.Errorf("the file (%d bytes) is no writer's whole content", len(got))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d entries left in the folder", len(entries))
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
}

// A failed write leaves the old file as it was, removes its temporary
// file, and never touches a file of the user's that happens to be named
// path+".tmp".
func TestWriteFileAtomicFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.odm")
	os.WriteFile(path, []byte("old model"), 0o644)
	os.WriteFile(path+".tmp", []byte("the user's file"), 0o644)
	boom := errors.New("boom")
	err := WriteFileAtomic(path, func(w io.Writer) error {
		fmt.Fprint(w, "half a new mod")
		return boom
	})
	if !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "old model" {
		t.Errorf("old file now %q", b)
	}
	if err := WriteFileAtomic(path, func(w io.Writer) error { _, err := fmt.Fprint(w, "new model"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "new model" {
		t.Errorf("new file %q", b)
	}
	if b, _ := os.ReadFile(path + ".tmp"); string(b) != "the user's file" {
		t.Errorf("path+.tmp now %q", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("%d entries in the folder, want the model and the user's file", len(entries))
	}
}
