package server

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// eventually polls cond every 10 ms for up to 10 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Watching: new files, new version folders and removals are served
// without a Reload call; hidden temporary files start no reload.
func TestWatchReloads(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	s, err := New(Options{Dir: dir, WatchDelay: 50 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	models := func(want ...string) func() bool {
		return func() bool { return reflect.DeepEqual(s.Models(), want) }
	}
	// A model saved (atomically) into the folder.
	writeModel(t, filepath.Join(dir, "new.odm"), 1, 3)
	eventually(t, "new.odm to be served", models("new", "rows"))
	// A version folder made after the watch began, and a file in it
	// written right away.
	if err := os.Mkdir(filepath.Join(dir, "vm"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeModel(t, filepath.Join(dir, "vm", "1.odm"), 1, 3)
	eventually(t, "vm to be served", models("new", "rows", "vm"))
	// A second version in the (now watched) folder.
	writeModel(t, filepath.Join(dir, "vm", "2.odm"), 2, 3)
	eventually(t, "vm version 2", func() bool {
		e, ok := s.lookup("vm")
		return ok && e.ver == 2
	})
	// Removal.
	if err := os.Remove(filepath.Join(dir, "new.odm")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "new.odm to be removed", models("rows", "vm"))
	// A hidden temporary file is no change.
	time.Sleep(200 * time.Millisecond)
	before := testutil.ToFloat64(s.extra.watchReloads)
	if err := os.WriteFile(filepath.Join(dir, ".rows.odm.tmp123"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "x.tmp"), []byte("partial"), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if after := testutil.ToFloat64(s.extra.watchReloads); after != before {
		t.Errorf("temporary files started %v reload(s)", after-before)
	}
	// After the context ends, changes are not followed.
	cancel()
	time.Sleep(100 * time.Millisecond)
	writeModel(t, filepath.Join(dir, "late.odm"), 1, 3)
	time.Sleep(300 * time.Millisecond)
	if got := s.Models(); !reflect.DeepEqual(got, []string{"rows", "vm"}) {
		t.Errorf("after the watch ended: %v", got)
	}
}

// A model file written in place, in pieces (as cp or a slow upload
// writes), is read only once the folder has been quiet for WatchDelay:
// no torn read is ever counted as a failed load.
func TestWatchWaitsForQuiet(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	src := filepath.Join(t.TempDir(), "src.odm")
	writeModel(t, src, 7, 3)
	raw, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Dir: dir, WatchDelay: time.Second, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := s.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "slow.odm"))
	if err != nil {
		t.Fatal(err)
	}
	const pieces = 8
	for i := 0; i < pieces; i++ {
		lo, hi := i*len(raw)/pieces, (i+1)*len(raw)/pieces
		if _, err := f.Write(raw[lo:hi]); err != nil {
			t.Fatal(err)
		}
		time.Sleep(30 * time.Millisecond)
	}
	f.Close()
	eventually(t, "slow.odm to be served", func() bool { _, ok := s.lookup("slow"); return ok })
	if n := testutil.ToFloat64(s.metrics.loadFailures.WithLabelValues("slow")); n != 0 {
		t.Errorf("%v failed load(s) of the file being written", n)
	}
	if n := testutil.ToFloat64(s.extra.watchReloads); n != 1 {
		t.Errorf("%v reloads for one file, want 1", n)
	}
	e, _ := s.lookup("slow")
	if e.model.Threshold != 17 {
		t.Errorf("slow.odm threshold %v, want 17 (the whole file)", e.model.Threshold)
	}
}
