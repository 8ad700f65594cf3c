package report

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/suite/results"
)

// The reports committed under docs/results are what Write makes from their
// results.json: every number and plot in them regenerates, as the
// comparison promises. A change to the renderer that alters them fails here
// until the committed reports are rendered again (`oddity bench report
// DIR`), so the repository never shows a report its own code would not
// write.
func TestCommittedReportsRegenerate(t *testing.T) {
	for _, name := range []string{"quick", "full"} {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join("..", "docs", "results", name)
			res, err := results.Read(filepath.Join(src, "results.json"))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			// The image files the cells list (reconstruction grids) are
			// written by the run, not by Write; bring them along.
			for _, c := range res.Cells {
				for _, rel := range c.Images {
					copyFile(t, filepath.Join(src, rel), filepath.Join(dir, rel))
				}
			}
			if err := Write(res, dir); err != nil {
				t.Fatal(err)
			}
			sameFile(t, filepath.Join(src, MarkdownFile), filepath.Join(dir, MarkdownFile))
			figs, err := filepath.Glob(filepath.Join(dir, FiguresDir, FigurePrefix+"*"))
			if err != nil {
				t.Fatal(err)
			}
			if len(figs) == 0 {
				t.Fatal("Write made no figures")
			}
			for _, f := range figs {
				sameFile(t, filepath.Join(src, FiguresDir, filepath.Base(f)), f)
			}
			// And no committed plot is left over from an older rendering.
			old, err := filepath.Glob(filepath.Join(src, FiguresDir, FigurePrefix+"*"))
			if err != nil {
				t.Fatal(err)
			}
			if len(old) != len(figs) {
				t.Errorf("%s holds %d report figures, the rendering makes %d", src, len(old), len(figs))
			}
		})
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// sameFile fails the test when the committed file differs from the
// rendered one, naming the first line that differs.
func sameFile(t *testing.T, committed, rendered string) {
	t.Helper()
	want, err := os.ReadFile(committed)
	if err != nil {
		t.Errorf("rendered %s, but: %v", filepath.Base(rendered), err)
		return
	}
	got, err := os.ReadFile(rendered)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(want, got) {
		return
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	for i := 0; i < max(len(wl), len(gl)); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			t.Errorf("%s differs from its rendering at line %d:\ncommitted: %.200s\nrendered:  %.200s", committed, i+1, w, g)
			return
		}
	}
}
