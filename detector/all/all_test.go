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
// package has no test that runs detectortest.Conformance, or lacks a name
// or a file of the one shape (Method, Options with Validate,
// DefaultOptions, New, Detector, ErrOption; doc.go, options.go,
// detector.go): every detector is held to the shared contract, and a new
// one is not done until it is.
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
		// exported are the package's exported top-level names (and
		// "Options.Validate" for the method).
		exported map[string]bool
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
			p = &pkg{exported: map[string]bool{}}
			pkgs[dir] = p
		}
		test := strings.HasSuffix(path, "_test.go")
		if !test {
			for _, d := range f.Decls {
				switch d := d.(type) {
				case *ast.FuncDecl:
					if d.Recv == nil {
						p.exported[d.Name.Name] = d.Name.IsExported()
					} else if len(d.Recv.List) == 1 {
						if id, ok := d.Recv.List[0].Type.(*ast.Ident); ok && id.Name == "Options" && d.Name.Name == "Validate" {
							p.exported["Options.Validate"] = true
						}
					}
				case *ast.GenDecl:
					for _, sp := range d.Specs {
						switch sp := sp.(type) {
						case *ast.TypeSpec:
							p.exported[sp.Name.Name] = sp.Name.IsExported()
						case *ast.ValueSpec:
							for _, n := range sp.Names {
								p.exported[n.Name] = n.IsExported()
							}
						}
					}
				}
			}
		}
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
		// The one shape: every method package exports the same names.
		for _, name := range []string{"Method", "Options", "Options.Validate", "DefaultOptions", "New", "Detector", "ErrOption"} {
			if !p.exported[name] {
				t.Errorf("method %s (%s) does not export %s", p.method, dir, name)
			}
		}
		for _, f := range []string{"doc.go", "options.go", "detector.go"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("method %s (%s) has no %s", p.method, dir, f)
			}
		}
		found[p.method] = true
	}
	for _, m := range methods {
		if !found[m] {
			t.Errorf("registered method %s: no package declares const Method = %q", m, m)
		}
	}
}
