package server

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// score0 posts one row of three zeros to path and returns the score: an
// offset model's offset, which tells which file answered.
func score0(t *testing.T, url, path string) (int, float64) {
	t.Helper()
	body := `{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[0,0,0]}]}`
	if strings.HasPrefix(path, "/v1/") {
		body = `{"rows":[[0,0,0]]}`
	}
	c, m := call(t, "POST", url+path, body)
	if c != 200 {
		return c, 0
	}
	if sc, ok := m["scores"].([]any); ok {
		return c, sc[0].(float64)
	}
	return c, m["outputs"].([]any)[0].(map[string]any)["data"].([]any)[0].(float64)
}

func newVersionServer(t *testing.T) (*Server, *httptest.Server, string) {
	t.Helper()
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "rows.odm"), 0.5, 3)
	if err := os.Mkdir(filepath.Join(dir, "vm"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeModel(t, filepath.Join(dir, "vm", "1.odm"), 1, 3)
	writeModel(t, filepath.Join(dir, "vm", "2.odm"), 2, 3)
	// Not versions: a leading zero, a name, a notes file, a hidden file.
	writeModel(t, filepath.Join(dir, "vm", "03.odm"), 3, 3)
	writeModel(t, filepath.Join(dir, "vm", "latest.odm"), 4, 3)
	for _, f := range []string{"README.txt", ".5.odm"} {
		if err := os.WriteFile(filepath.Join(dir, "vm", f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := New(Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts, dir
}

// Versions: a folder NAME/ of N.EXT files serves each version at
// /v2/models/NAME/versions/N and the highest at every path without a
// version; a flat file is version 1; unknown versions are 404s.
func TestVersionRouting(t *testing.T) {
	_, ts, _ := newVersionServer(t)
	for _, c := range []struct {
		path string
		code int
		want float64
	}{
		{"/v2/models/vm/infer", 200, 2},
		{"/v2/models/vm/versions/2/infer", 200, 2},
		{"/v2/models/vm/versions/1/infer", 200, 1},
		{"/v1/models/vm:score", 200, 2},
		{"/v2/models/rows/infer", 200, 0.5},
		{"/v2/models/rows/versions/1/infer", 200, 0.5},
		{"/v2/models/vm/versions/3/infer", 404, 0},
		{"/v2/models/vm/versions/03/infer", 404, 0},
		{"/v2/models/vm/versions/0/infer", 404, 0},
		{"/v2/models/vm/versions/-1/infer", 404, 0},
		{"/v2/models/vm/versions/latest/infer", 404, 0},
		{"/v2/models/rows/versions/2/infer", 404, 0},
		{"/v2/models/nope/versions/1/infer", 404, 0},
	} {
		code, got := score0(t, ts.URL, c.path)
		if code != c.code || got != c.want {
			t.Errorf("%s: %d score %v, want %d score %v", c.path, code, got, c.code, c.want)
		}
	}
	// The /v2 answer names the version that scored it.
	body := `{"inputs":[{"name":"input","shape":[1,3],"datatype":"FP32","data":[0,0,0]}]}`
	for path, want := range map[string]string{"/v2/models/vm/infer": "2", "/v2/models/vm/versions/1/infer": "1", "/v2/models/vm/versions/2/infer": "2", "/v2/models/rows/infer": "1"} {
		if c, m := call(t, "POST", ts.URL+path, body); c != 200 || m["model_version"] != want {
			t.Errorf("%s answers model_version %v (%d), want %q", path, m["model_version"], c, want)
		}
	}
	c, m := call(t, "GET", ts.URL+"/v2/models/vm", "")
	if c != 200 || !reflect.DeepEqual(m["versions"], []any{"1", "2"}) || m["parameters"].(map[string]any)["version"] != "2" || m["threshold"] != 12.0 {
		t.Errorf("metadata of the latest: %d %v", c, m)
	}
	c, m = call(t, "GET", ts.URL+"/v2/models/vm/versions/1", "")
	if c != 200 || !reflect.DeepEqual(m["versions"], []any{"1", "2"}) || m["parameters"].(map[string]any)["version"] != "1" || m["threshold"] != 11.0 {
		t.Errorf("metadata of version 1: %d %v", c, m)
	}
	c, m = call(t, "GET", ts.URL+"/v2/models/vm/versions/1/ready", "")
	if c != 200 || m["version"] != "1" || m["ready"] != true {
		t.Errorf("ready of version 1: %d %v", c, m)
	}
	if c, m := call(t, "GET", ts.URL+"/v2/models/vm/versions/9/ready", ""); c != 404 || !strings.Contains(m["error"].(string), "versions: 1, 2") {
		t.Errorf("ready of version 9: %d %v", c, m)
	}
	if c, _ := call(t, "DELETE", ts.URL+"/v2/models/vm/versions/1", ""); c != 405 {
		t.Errorf("DELETE on a version: %d, want 405", c)
	}
	if c, _ := call(t, "GET", ts.URL+"/v2/models/vm/versions/1/infer", ""); c != 405 {
		t.Errorf("GET on a version's infer: %d, want 405", c)
	}
	c, m = call(t, "GET", ts.URL+"/v2/models", "")
	if c != 200 {
		t.Fatalf("repository: %d", c)
	}
	models := m["models"].([]any)
	if len(models) != 2 {
		t.Fatalf("repository lists %v", models)
	}
	rows, vm := models[0].(map[string]any), models[1].(map[string]any)
	if rows["name"] != "rows" || !reflect.DeepEqual(rows["versions"], []any{"1"}) || rows["state"] != "READY" ||
		vm["name"] != "vm" || !reflect.DeepEqual(vm["versions"], []any{"1", "2"}) || vm["version"] != "2" || vm["state"] != "READY" {
		t.Errorf("repository: %v", models)
	}
	if c, m := call(t, "GET", ts.URL+"/v2/health/ready", ""); c != 200 || m["models"] != 2.0 {
		t.Errorf("ready: %d %v", c, m)
	}
}

// index posts to the repository index and returns name/version/state
// (and the reason of unavailable versions).
func index(t *testing.T, url, body string) (int, []map[string]string) {
	t.Helper()
	resp, err := http.Post(url+"/v2/repository/index", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out []map[string]string
	if resp.StatusCode == 200 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("index: %v in %s", err, raw)
		}
	}
	return resp.StatusCode, out
}

func states(items []map[string]string) string {
	var b []string
	for _, it := range items {
		b = append(b, it["name"]+"/"+it["version"]+":"+it["state"])
	}
	return strings.Join(b, " ")
}

// Reloading versions: a new version becomes the latest; a bad new version
// is UNAVAILABLE (with a reason that names no host path) and the previous
// latest keeps serving; a bad replacement of a serving version keeps the
// old file serving; removing a file removes its version; unchanged files
// are not read again.
func TestVersionReload(t *testing.T) {
	s, ts, dir := newVersionServer(t)
	v1 := s.models.Load()
	model1 := (*v1)["vm"].version(1).model
	if c, items := index(t, ts.URL, ""); c != 200 || states(items) != "rows/1:READY vm/1:READY vm/2:READY" {
		t.Fatalf("index: %d %s", c, states(items))
	}
	// A corrupt version 3: not served, listed as unavailable.
	bad := filepath.Join(dir, "vm", "3.odm")
	if err := os.WriteFile(bad, []byte("ODDITYMF garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "3.odm") {
		t.Fatalf("reload with a corrupt version: %v", err)
	}
	if _, got := score0(t, ts.URL, "/v2/models/vm/infer"); got != 2 {
		t.Errorf("latest after a corrupt version 3: %v, want 2", got)
	}
	c, items := index(t, ts.URL, "{}")
	if c != 200 || states(items) != "rows/1:READY vm/1:READY vm/2:READY vm/3:UNAVAILABLE" {
		t.Fatalf("index after a corrupt version: %d %s", c, states(items))
	}
	if r := items[3]["reason"]; r == "" || strings.Contains(r, dir) {
		t.Errorf("reason %q: empty, or names the host's folder", r)
	}
	if _, items := index(t, ts.URL, `{"ready": true}`); states(items) != "rows/1:READY vm/1:READY vm/2:READY" {
		t.Errorf("ready index: %s", states(items))
	}
	if c, _ := index(t, ts.URL, `{"bogus": 1}`); c != 400 {
		t.Errorf("index with a bad body: %d", c)
	}
	_, m := call(t, "GET", ts.URL+"/v2/models", "")
	if u := m["unavailable"].([]any); len(u) != 1 || u[0].(map[string]any)["version"] != "3" {
		t.Errorf("repository's unavailable: %v", m["unavailable"])
	}
	// Fixed: version 3 serves and is the latest; version 1 was not read again.
	writeModel(t, bad, 3, 3)
	if err := s.Reload(); err != nil {
		t.Fatal(err)
	}
	if _, got := score0(t, ts.URL, "/v2/models/vm/infer"); got != 3 {
		t.Errorf("latest after version 3: %v", got)
	}
	if _, items := index(t, ts.URL, ""); states(items) != "rows/1:READY vm/1:READY vm/2:READY vm/3:READY" {
		t.Errorf("index: %s", states(items))
	}
	if (*s.models.Load())["vm"].version(1).model != model1 {
		t.Error("an unchanged version was loaded again")
	}
	// A corrupt replacement of version 1 keeps the old file serving.
	if err := os.WriteFile(filepath.Join(dir, "vm", "1.odm"), []byte("ODDITYMF torn"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil {
		t.Fatal("reload with a corrupt version 1 succeeded")
	}
	if _, got := score0(t, ts.URL, "/v2/models/vm/versions/1/infer"); got != 1 {
		t.Errorf("version 1 after a corrupt replacement: %v, want 1 (the previous file)", got)
	}
	// Removing the latest: the previous one serves.
	if err := os.Remove(filepath.Join(dir, "vm", "3.odm")); err != nil {
		t.Fatal(err)
	}
	_ = s.Reload()
	if _, got := score0(t, ts.URL, "/v1/models/vm:score"); got != 2 {
		t.Errorf("latest after removing 3: %v", got)
	}
	if c, _ := score0(t, ts.URL, "/v2/models/vm/versions/3/infer"); c != 404 {
		t.Errorf("removed version 3: %d", c)
	}
}

// A file NAME.EXT beside a folder NAME/ is refused (the folder serves),
// whatever their order; a folder without versions serves nothing.
func TestVersionConflicts(t *testing.T) {
	dir := t.TempDir()
	writeModel(t, filepath.Join(dir, "a.odm"), 9, 3)
	writeModel(t, filepath.Join(dir, "b.odm"), 0, 3)
	for _, d := range []string{"a", "empty"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeModel(t, filepath.Join(dir, "a", "4.odm"), 4, 3)
	s, err := New(Options{Dir: dir, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "a.odm") {
		t.Errorf("reload: %v, want the conflict of a.odm", err)
	}
	if got := s.Models(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("models %v", got)
	}
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	if _, got := score0(t, ts.URL, "/v2/models/a/infer"); got != 4 {
		t.Errorf("a: %v, want 4 from the folder", got)
	}
	if c, _ := score0(t, ts.URL, "/v2/models/a/versions/1/infer"); c != 404 {
		t.Errorf("a's version 1 (the flat file): %d, want 404", c)
	}
}
