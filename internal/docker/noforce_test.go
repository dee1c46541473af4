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
// (Force: force, opts.Force = true). The one exception is the rule
// hack/check-no-force.sh also holds: a client.NetworkDisconnectOptions
// literal whose line carries a comment saying "disconnect of a stale
// endpoint" (Docker deletes an endpoint whose container is gone only when
// asked with force; nothing is removed).
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
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution|parser.ParseComments)
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
			case *ast.CompositeLit:
				if !isDisconnectOptions(x.Type) {
					return true
				}
				for _, e := range x.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if k, isIdent := kv.Key.(*ast.Ident); ok && isIdent && k.Name == "Force" && !isFalse(kv.Value) &&
						!commentOnLine(fset, f, kv.Pos(), "disconnect of a stale endpoint") {
						t.Errorf("%s: forced disconnect without a comment saying it is a disconnect of a stale endpoint", fset.Position(kv.Pos()))
					}
				}
				return false
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

func isDisconnectOptions(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	return ok && sel.Sel.Name == "NetworkDisconnectOptions"
}

// commentOnLine reports whether a comment on pos's line contains text.
func commentOnLine(fset *token.FileSet, f *ast.File, pos token.Pos, text string) bool {
	line := fset.Position(pos).Line
	for _, g := range f.Comments {
		for _, c := range g.List {
			if fset.Position(c.Pos()).Line == line && strings.Contains(c.Text, text) {
				return true
			}
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
