package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Watching the model folder (Options.Watch).
//
// The watcher (fsnotify: inotify on Linux) follows the model folder and
// each version folder in it, and reloads once the folder has been quiet
// for Options.WatchDelay after a change: a file being copied in sends a
// stream of writes, and reloading in the middle would read it torn. The
// expected way to replace a model is still an atomic rename (write a
// hidden or .tmp file, rename it into place; SaveFile does so), which
// the watcher sees as one event and the scan never sees half-done; a file
// read half-written anyway fails its checksum, is skipped as any bad file
// is (the previous file keeps serving), and its later writes trigger the
// reload that loads it whole. Hidden and .tmp names are not changes.
// Version folders created later are watched from the reload that finds
// them on, and found folders are read once more after the watch is set,
// so that no file written in between is missed. The token and TLS files are read again on every reload, but
// a change to them alone does not start one (send SIGHUP).

// Watch reloads the model folder whenever files in it change, until ctx
// ends. It returns once the folder is watched, or the error of setting up
// the watch; reload problems are logged, as SIGHUP's are. Run calls it
// when Options.Watch is set.
func (s *Server) Watch(ctx context.Context) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("server: watching the model folder: %w", err)
	}
	watched := map[string]bool{}
	if _, err := s.syncWatches(w, watched); err != nil {
		w.Close()
		return err
	}
	go s.watchLoop(ctx, w, watched)
	return nil
}

// syncWatches makes the watch list the model folder and its folders (not
// hidden): new ones are added, vanished ones dropped. It reports whether
// it added a folder. Only the model folder itself must be watchable.
func (s *Server) syncWatches(w *fsnotify.Watcher, watched map[string]bool) (added bool, err error) {
	want := map[string]bool{s.opt.Dir: true}
	if files, err := os.ReadDir(s.opt.Dir); err == nil {
		for _, f := range files {
			if f.IsDir() && !skipName(f.Name()) {
				want[filepath.Join(s.opt.Dir, f.Name())] = true
			}
		}
	}
	for dir := range watched {
		if !want[dir] {
			_ = w.Remove(dir) // gone with its folder already, most often
			delete(watched, dir)
		}
	}
	for dir := range want {
		if watched[dir] {
			continue
		}
		if err := w.Add(dir); err != nil {
			if dir == s.opt.Dir {
				return added, fmt.Errorf("server: watching the model folder: %w", err)
			}
			s.opt.Logger.Warn("cannot watch a model's version folder; SIGHUP still reloads it", "folder", filepath.Base(dir), "err", err)
			continue
		}
		watched[dir] = true
		added = true
	}
	return added, nil
}

// relevant reports whether an event may change what is served: not a
// mere change of permissions, not a hidden or temporary file.
func relevant(ev fsnotify.Event) bool {
	if ev.Op == fsnotify.Chmod {
		return false
	}
	return !skipName(filepath.Base(ev.Name))
}

// watchLoop gathers events and reloads when the folder has been quiet
// for WatchDelay.
func (s *Server) watchLoop(ctx context.Context, w *fsnotify.Watcher, watched map[string]bool) {
	defer w.Close()
	quiet := time.NewTimer(time.Hour)
	quiet.Stop()
	pending := false
	for {
		select {
		case <-ctx.Done():
			quiet.Stop()
			return
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if !relevant(ev) {
				continue
			}
			pending = true
			quiet.Reset(s.opt.WatchDelay)
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			// An overflow of the kernel's event queue loses events: reload
			// to be sure nothing was missed.
			s.opt.Logger.Warn("watching the model folder", "err", err)
			pending = true
			quiet.Reset(s.opt.WatchDelay)
		case <-quiet.C:
			if !pending {
				continue
			}
			pending = false
			s.extra.watchReloads.Inc()
			if err := s.Reload(); err != nil {
				s.opt.Logger.Error("reload after a change in the model folder had problems; models that failed keep their previous version",
					"err", err, "models", s.Models())
			} else {
				s.opt.Logger.Info("reloaded after a change in the model folder", "models", s.Models())
			}
			added, err := s.syncWatches(w, watched)
			if err != nil {
				s.opt.Logger.Error("the model folder is no longer watched; SIGHUP still reloads it", "err", err)
			}
			if added {
				// Files written into a new folder between the reload's scan
				// and its watch were seen by neither: look once more.
				pending = true
				quiet.Reset(s.opt.WatchDelay)
			}
		}
	}
}
