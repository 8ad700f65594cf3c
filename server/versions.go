package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/oddity-ml/oddity/data/table"
	"github.com/oddity-ml/oddity/detector"
)

// Model versions and the model repository.
//
// The model folder holds, for each model NAME, either one file NAME.EXT
// (any extension: the model's only version, 1, as before versions
// existed) or a folder NAME/ of files N.EXT, one per version N (a
// positive integer written without leading zeros), as Triton lays out its
// repository (NAME/1/, NAME/2/), one level flatter because an oddity model
// is one file. Every version in the folder is served;
// /v2/models/NAME/versions/N/... asks for one, and every other path
// (/v2/models/NAME/..., /v1, the model list) means the latest: the
// highest N that loaded. So a new version is deployed by adding its file
// and rolled back by removing it, and a new version whose file is bad
// leaves the previous latest serving.
//
// Reload compares each file with the one loaded for that name and version
// (device, inode, size, modification time) and reads only the files that
// changed. A file that fails to load is skipped, logged and counted; if
// that version was serving, its previous file keeps serving, and
// otherwise the version is listed as UNAVAILABLE with the reason in the
// repository index. Hidden files and names ending in .tmp are skipped:
// they are files being written (SaveFile writes through a hidden
// temporary file and renames it).

// modelRef is one model file found in the folder.
type modelRef struct {
	name    string
	version int
	path    string
}

// unavailable is a model version whose file did not load and that has no
// earlier file of the same version serving.
type unavailable struct {
	name    string
	version int
	reason  string
	at      time.Time
}

// versionName is a version as the protocol writes it: a decimal string.
func versionName(v int) string { return strconv.Itoa(v) }

// parseVersion reads a version as a folder's file names and request paths
// give it: a positive integer without sign or leading zeros.
func parseVersion(s string) (int, bool) {
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 || strconv.Itoa(v) != s {
		return 0, false
	}
	return v, true
}

// skipName reports whether a folder entry is no model: hidden, or a file
// being written.
func skipName(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, ".tmp")
}

// stem is a file name without its extension.
func stem(name string) string { return strings.TrimSuffix(name, filepath.Ext(name)) }

// scan lists the model files of the folder, sorted by name then version.
// Conflicts (two files for one name or version, a file and a folder of
// the same name) are returned as errors naming the files, and the file
// that loses is left out: a folder wins over a file, and of two files the
// first in name order is kept.
func (s *Server) scan() ([]modelRef, []error, error) {
	top, err := os.ReadDir(s.opt.Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("server: model folder: %w", err)
	}
	var refs []modelRef
	var errs []error
	folders := map[string]bool{}
	for _, f := range top {
		if f.IsDir() && !skipName(f.Name()) {
			folders[f.Name()] = true
		}
	}
	flat := map[string]string{}
	for _, f := range top {
		if skipName(f.Name()) {
			continue
		}
		if f.IsDir() {
			vs, verrs := s.scanVersions(f.Name())
			refs = append(refs, vs...)
			errs = append(errs, verrs...)
			continue
		}
		name := stem(f.Name())
		if folders[name] {
			errs = append(errs, s.skipped(name, fmt.Errorf("%s: the folder %s/ holds the versions of model %q, so this file is not served (remove one of them)", f.Name(), name, name)))
			continue
		}
		if first, dup := flat[name]; dup {
			errs = append(errs, s.skipped(name, fmt.Errorf("%s: %s already gives a model named %q", f.Name(), first, name)))
			continue
		}
		flat[name] = f.Name()
		refs = append(refs, modelRef{name: name, version: 1, path: filepath.Join(s.opt.Dir, f.Name())})
	}
	sort.Slice(refs, func(i, j int) bool {
		if refs[i].name != refs[j].name {
			return refs[i].name < refs[j].name
		}
		return refs[i].version < refs[j].version
	})
	return refs, errs, nil
}

// scanVersions lists the version files of the folder of model name.
// Entries that are not N.EXT files are ignored with a warning: they are
// not models, and a file named like "latest.oddity" would otherwise be
// silently unserved.
func (s *Server) scanVersions(name string) ([]modelRef, []error) {
	dir := filepath.Join(s.opt.Dir, name)
	files, err := os.ReadDir(dir)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // without the host's path
		}
		return nil, []error{s.skipped(name, fmt.Errorf("%s/: %w", name, err))}
	}
	var refs []modelRef
	var errs []error
	seen := map[int]string{}
	for _, f := range files {
		if skipName(f.Name()) {
			continue
		}
		v, ok := parseVersion(stem(f.Name()))
		if f.IsDir() || !ok {
			s.opt.Logger.Warn("ignored in a model's version folder: only files named VERSION.EXT (VERSION a positive integer) are versions",
				"model", name, "file", f.Name())
			continue
		}
		if first, dup := seen[v]; dup {
			errs = append(errs, s.skipped(name, fmt.Errorf("%s/%s: %s/%s already gives version %d of model %q", name, f.Name(), name, first, v, name)))
			continue
		}
		seen[v] = f.Name()
		refs = append(refs, modelRef{name: name, version: v, path: filepath.Join(dir, f.Name())})
	}
	if len(refs) == 0 && len(errs) == 0 {
		s.opt.Logger.Warn("model folder holds no version file (VERSION.EXT)", "model", name)
	}
	return refs, errs
}

// versionKey names one version of one model.
type versionKey struct {
	name    string
	version int
}

// Reload reads the model folder (and the token and TLS files) again and
// swaps in the new set of models, every version of every model at once:
// requests in flight finish on the models they started with, new requests
// see the new set. A file that fails to load is skipped, logged and
// counted, and that version keeps serving its previous file if it had
// one; the others load. Unchanged files are not read again. The error,
// when not nil, lists what was skipped; the new set is in place all the
// same, unless the folder could not be read or nothing at all would be
// served.
func (s *Server) Reload() error {
	s.reload.Lock()
	defer s.reload.Unlock()
	var errs []error
	if err := s.loadSecrets(); err != nil {
		s.opt.Logger.Error("reload: keeping the previous tokens and certificate", "err", err)
		errs = append(errs, err)
	}
	refs, scanErrs, err := s.scan()
	if err != nil {
		return err
	}
	errs = append(errs, scanErrs...)
	old := *s.models.Load()
	prevOf := map[versionKey]*entry{}
	for _, latest := range old {
		for _, e := range latest.versions {
			prevOf[versionKey{e.name, e.ver}] = e
		}
	}
	byName := map[string][]*entry{}
	var down []unavailable
	for _, ref := range refs {
		key := versionKey{ref.name, ref.version}
		prev := prevOf[key]
		info, statErr := os.Stat(ref.path)
		if prev != nil && statErr == nil && prev.path == ref.path && sameFile(prev.info, info) {
			byName[ref.name] = append(byName[ref.name], prev)
			continue
		}
		e, err := s.load(ref, info)
		if err != nil {
			errs = append(errs, s.skipped(ref.name, err))
			if prev != nil {
				byName[ref.name] = append(byName[ref.name], prev)
				s.opt.Logger.Warn("keeping the previous file of the model version", "name", ref.name, "version", ref.version)
			} else {
				down = append(down, unavailable{name: ref.name, version: ref.version, reason: s.hidePaths(err.Error()), at: time.Now()})
			}
			continue
		}
		byName[ref.name] = append(byName[ref.name], e)
	}
	next := make(map[string]*entry, len(byName))
	for name, es := range byName {
		// Fresh copies carry the new version list; the entries of the
		// previous set, which requests in flight may hold, are not touched.
		cs := make([]*entry, len(es))
		for i, e := range es {
			c := *e
			cs[i] = &c
		}
		for _, c := range cs {
			c.versions = cs
		}
		next[name] = cs[len(cs)-1]
	}
	if len(next) == 0 {
		s.down.Store(&down)
		errs = append(errs, fmt.Errorf("server: no model loaded from %s", s.opt.Dir))
		return errors.Join(errs...)
	}
	s.models.Store(&next)
	s.down.Store(&down)
	s.metrics.modelsLoaded.Set(float64(len(next)))
	nv := 0
	for _, e := range next {
		nv += len(e.versions)
	}
	s.extra.versionsLoaded.Set(float64(nv))
	for name, e := range old {
		n := next[name]
		if n == nil {
			s.opt.Logger.Info("model removed", "name", name)
			continue
		}
		for _, v := range e.versions {
			if n.version(v.ver) == nil {
				s.opt.Logger.Info("model version removed", "name", name, "version", v.ver)
			}
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("server: %d problem(s) on loading, the rest loaded: %w", len(errs), errors.Join(errs...))
	}
	return nil
}

// hidePaths removes the model folder's absolute path from a message, so
// that the repository index names files relative to it and nothing else
// of the host.
func (s *Server) hidePaths(msg string) string {
	dir := filepath.Clean(s.opt.Dir)
	if abs, err := filepath.Abs(dir); err == nil {
		msg = strings.ReplaceAll(msg, abs+string(filepath.Separator), "")
	}
	if dir != "." {
		msg = strings.ReplaceAll(msg, dir+string(filepath.Separator), "")
	}
	return msg
}

// sameFile reports whether b is the file a was: the same file (device and
// inode), size and modification time.
func sameFile(a, b fs.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// load reads one model file.
func (s *Server) load(ref modelRef, info fs.FileInfo) (*entry, error) {
	start := time.Now()
	m, err := detector.LoadFile(ref.path)
	if err != nil {
		return nil, err
	}
	e := &entry{name: ref.name, ver: ref.version, path: ref.path, model: m, loaded: time.Now(), info: info}
	if m.Pipeline != nil {
		if e.pipe, err = table.Unmarshal(m.Pipeline); err != nil {
			return nil, fmt.Errorf("model %s: table pipeline: %w", ref.path, err)
		}
		if e.pipe.Dim() != sampleDim(m.Schema.Shape) {
			return nil, fmt.Errorf("model %s: the table pipeline gives %d features, the model takes %v", ref.path, e.pipe.Dim(), m.Schema.Shape)
		}
	}
	e.batch = s.newBatcher(e)
	sec := time.Since(start).Seconds()
	s.metrics.loadSeconds.WithLabelValues(ref.name).Set(sec)
	// The load gauges exist, at 0, from the first load on.
	s.metrics.inFlight.WithLabelValues(ref.name)
	s.metrics.queued.WithLabelValues(ref.name)
	s.metrics.shed.WithLabelValues(ref.name)
	s.opt.Logger.Info("model loaded", "name", ref.name, "version", ref.version, "method", m.Detector.Method(), "shape", m.Schema.Shape,
		"pipeline", e.pipe != nil, "calibrated", m.Calibration() != nil, "batching", e.batch != nil, "seconds", sec)
	return e, nil
}

// skipped logs and counts a model file that did not load, and returns
// the error.
func (s *Server) skipped(name string, err error) error {
	s.metrics.loadFailures.WithLabelValues(name).Inc()
	s.opt.Logger.Error("model file skipped", "name", name, "err", err)
	return err
}

// version returns version v of e's model, or nil.
func (e *entry) version(v int) *entry {
	for _, x := range e.versions {
		if x.ver == v {
			return x
		}
	}
	return nil
}

// versionNames are the versions of e's model, ascending, as strings.
func (e *entry) versionNames() []string {
	out := make([]string, len(e.versions))
	for i, x := range e.versions {
		out[i] = versionName(x.ver)
	}
	return out
}

// versionLabel is the model version e serves, as the protocol writes it
// (the /v2 answers' model_version).
func (e *entry) versionLabel() string { return versionName(e.ver) }

// find returns the model name at version version ("" for the latest),
// or the 404 that says what is served.
func (s *Server) find(name, version string) (*entry, error) {
	e, ok := s.lookup(name)
	if !ok {
		return nil, &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("no model %q (loaded: %v)", name, s.Models())}
	}
	if version == "" {
		return e, nil
	}
	if v, ok := parseVersion(version); ok {
		if x := e.version(v); x != nil {
			return x, nil
		}
	}
	return nil, &apiError{status: http.StatusNotFound, msg: fmt.Sprintf("model %s has no version %q (versions: %s)", name, version, strings.Join(e.versionNames(), ", "))}
}

// unavailableList returns the versions that failed to load, sorted.
func (s *Server) unavailableList() []unavailable {
	p := s.down.Load()
	if p == nil {
		return nil
	}
	out := slices.Clone(*p)
	sort.Slice(out, func(i, j int) bool {
		if out[i].name != out[j].name {
			return out[i].name < out[j].name
		}
		return out[i].version < out[j].version
	})
	return out
}

// repository lists the loaded models (GET /v2/models): for each, its
// latest version and all its versions, its state, method and load time,
// and under "unavailable" the versions whose files did not load, with the
// reason.
func (s *Server) repository(w http.ResponseWriter, _ *http.Request, _ *entry) error {
	ms := *s.models.Load()
	out := make([]map[string]any, 0, len(ms))
	for _, n := range s.Models() {
		e := ms[n]
		out = append(out, map[string]any{"name": n, "version": e.versionLabel(), "versions": e.versionNames(), "state": "READY",
			"platform": "oddity-" + e.model.Detector.Method(), "method": e.model.Detector.Method(), "table_pipeline": e.pipe != nil,
			"calibrated": e.model.Calibration() != nil, "batching": e.batch != nil, "loaded": e.loaded.UTC().Format(time.RFC3339)})
	}
	down := []map[string]any{}
	for _, u := range s.unavailableList() {
		down = append(down, map[string]any{"name": u.name, "version": versionName(u.version), "state": "UNAVAILABLE", "reason": u.reason,
			"since": u.at.UTC().Format(time.RFC3339)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": out, "unavailable": down})
	return nil
}

// indexRequest is the optional body of POST /v2/repository/index.
type indexRequest struct {
	// Ready, when true, keeps only the versions that serve.
	Ready bool `json:"ready"`
}

// repositoryIndex answers POST /v2/repository/index as Triton's
// repository extension does: one object per model version, name,
// version, state ("READY" or "UNAVAILABLE") and, for an unavailable
// version, the reason. The body may be empty or {"ready": true}.
func (s *Server) repositoryIndex(w http.ResponseWriter, r *http.Request, _ *entry) error {
	var req indexRequest
	if r.ContentLength != 0 {
		body, release, err := s.readBody(r)
		if err != nil {
			return err
		}
		defer release()
		if len(strings.TrimSpace(string(body))) > 0 {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil {
				return badRequest("request body: %v (want nothing or {\"ready\": true})", err)
			}
		}
	}
	type item struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		State   string `json:"state"`
		Reason  string `json:"reason,omitempty"`
	}
	var items []item
	ms := *s.models.Load()
	for _, n := range s.Models() {
		for _, e := range ms[n].versions {
			items = append(items, item{Name: n, Version: e.versionLabel(), State: "READY"})
		}
	}
	if !req.Ready {
		for _, u := range s.unavailableList() {
			items = append(items, item{Name: u.name, Version: versionName(u.version), State: "UNAVAILABLE", Reason: u.reason})
		}
		sort.SliceStable(items, func(i, j int) bool {
			if items[i].Name != items[j].Name {
				return items[i].Name < items[j].Name
			}
			a, _ := strconv.Atoi(items[i].Version)
			b, _ := strconv.Atoi(items[j].Version)
			return a < b
		})
	}
	if items == nil {
		items = []item{}
	}
	writeJSON(w, http.StatusOK, items)
	return nil
}
