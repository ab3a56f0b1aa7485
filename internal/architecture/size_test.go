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

// maxFuncLines bounds a function's length, its signature and closing brace
// included.
const maxFuncLines = 80

// No function of pakn (internal/ and cmd/, tests included) is longer than
// maxFuncLines, except a linear parser whose doc comment says it is one.
// (tools/vault builds the Vault server pakn runs against, and
// internal/third_party holds patched copies of libraries: neither is pakn.)
func TestFunctionLength(t *testing.T) {
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if d != nil && d.IsDir() && d.Name() == "third_party" {
				return filepath.SkipDir // patched copies of other projects' code (see its PATCHES.md)
			}
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") {
				return err
			}
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok || fd.Body == nil {
					continue
				}
				n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
				if n > maxFuncLines && !strings.Contains(fd.Doc.Text(), "linear parser") {
					t.Errorf("%s: %s is %d lines (at most %d): split it", path, fd.Name.Name, n, maxFuncLines)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
