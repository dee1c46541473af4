package docker

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoForcedRemovalInCode is the vet-style half of hack/check-no-force.sh:
// it parses every non-test Go file that imports the Docker client and fails
// on any Force field set to anything but the literal false, in a composite
// literal or an assignment, which a grep for "Force: true" would miss
// (Force: force, opts.Force = true).
func TestNoForcedRemovalInCode(t *testing.T) {
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "vendor", "node_modules", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			// Someone else's file mid-edit; the compiler reports it.
			return nil
		}
		if !importsDockerClient(f) {
			return nil
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.KeyValueExpr:
				if k, ok := x.Key.(*ast.Ident); ok && k.Name == "Force" && !isFalse(x.Value) {
					t.Errorf("%s: Force set to %s", fset.Position(x.Pos()), exprString(x.Value))
				}
			case *ast.AssignStmt:
				for i, lhs := range x.Lhs {
					if sel, ok := lhs.(*ast.SelectorExpr); ok && sel.Sel.Name == "Force" && i < len(x.Rhs) && !isFalse(x.Rhs[i]) {
						t.Errorf("%s: Force assigned %s", fset.Position(x.Pos()), exprString(x.Rhs[i]))
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("found no file importing the Docker client; the check looked in the wrong place")
	}
}

func importsDockerClient(f *ast.File) bool {
	for _, imp := range f.Imports {
		p, _ := strconv.Unquote(imp.Path.Value)
		if p == "github.com/moby/moby/client" || strings.HasPrefix(p, "github.com/docker/docker/client") {
			return true
		}
	}
	return false
}

func isFalse(e ast.Expr) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == "false"
}

func exprString(e ast.Expr) string {
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return "an expression"
}
