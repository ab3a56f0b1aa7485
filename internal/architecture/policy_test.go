package architecture

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// access.Decide is the only place that decides: only internal/guard calls
// it, and no code outside internal/access and internal/guard asks a
// principal for a role (Principal.Has) to decide for itself.
func TestOnlyTheGuardAsksThePolicy(t *testing.T) {
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if d != nil && d.IsDir() && d.Name() == "third_party" {
				return filepath.SkipDir // patched copies of other projects' code (see its PATCHES.md)
			}
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			dir := filepath.ToSlash(filepath.Dir(path))
			if strings.HasSuffix(dir, "/access") || strings.HasSuffix(dir, "/guard") {
				return nil
			}
			f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
			if err != nil {
				return err
			}
			ast.Inspect(f, func(n ast.Node) bool {
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				sel, ok := call.Fun.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "access" && sel.Sel.Name == "Decide" {
					t.Errorf("%s calls access.Decide: go through internal/guard", path)
				}
				if sel.Sel.Name == "Has" && len(call.Args) == 1 && isAccessName(call.Args[0]) {
					t.Errorf("%s asks a principal for a role (Has): let access.Decide decide", path)
				}
				return true
			})
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// isAccessName reports whether e is a name of internal/access, such as
// access.Signer.
func isAccessName(e ast.Expr) bool {
	sel, ok := e.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == "access"
}
