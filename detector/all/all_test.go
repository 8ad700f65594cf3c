package all

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/detector"
)

// TestEveryMethodPassesConformance fails when a registered method's
// package has no test that runs detectortest.Conformance with its Method:
// every detector must be held to the shared contract, and a new one is
// not done until it is.
func TestEveryMethodPassesConformance(t *testing.T) {
	root := filepath.Join("..", "..")
	methods := detector.Methods()
	if len(methods) < 9 {
		t.Fatalf("only %d methods registered: %v", len(methods), methods)
	}
	// Find, for each package directory, the Method constant its non-test
	// files declare and whether a test file calls Conformance.
	type pkg struct {
		method      string
		conformance bool
	}
	pkgs := map[string]*pkg{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); n == "testdata" || n == "docs" || n == "beam" || strings.HasPrefix(n, ".") && path != root {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		dir := filepath.Dir(path)
		p := pkgs[dir]
		if p == nil {
			p = &pkg{}
			pkgs[dir] = p
		}
		test := strings.HasSuffix(path, "_test.go")
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				if !test && len(n.Names) == 1 && n.Names[0].Name == "Method" && len(n.Values) == 1 {
					if lit, ok := n.Values[0].(*ast.BasicLit); ok && lit.Kind == token.STRING {
						p.method, _ = strconv.Unquote(lit.Value)
					}
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && test && x.Name == "detectortest" && n.Sel.Name == "Conformance" {
					p.conformance = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for dir, p := range pkgs {
		if p.method == "" {
			continue
		}
		if !p.conformance {
			t.Errorf("method %s (%s) has no test calling detectortest.Conformance", p.method, dir)
		}
		found[p.method] = true
	}
	for _, m := range methods {
		if !found[m] {
			t.Errorf("registered method %s: no package declares const Method = %q", m, m)
		}
	}
}
