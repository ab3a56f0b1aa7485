package architecture

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every test SECURITY.md names as the proof of a claim exists: a renamed or
// deleted test cannot leave a claim unproven unnoticed.
func TestSecurityClaimsNameRealTests(t *testing.T) {
	b, err := os.ReadFile("../../SECURITY.md")
	if err != nil {
		t.Fatal(err)
	}
	start := strings.Index(string(b), "## Claims and the tests that prove them")
	if start < 0 {
		t.Fatal("SECURITY.md has no claims index")
	}
	section := string(b)[start:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+1]
	}
	named := regexp.MustCompile("`(Test[A-Za-z0-9_]+)`").FindAllStringSubmatch(section, -1)
	if len(named) < 10 {
		t.Fatalf("the claims index names %d tests", len(named))
	}
	defined := map[string]bool{}
	decl := regexp.MustCompile(`(?m)^func (Test[A-Za-z0-9_]+)\(`)
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
				return err
			}
			src, err := os.ReadFile(path)
			for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
				defined[m[1]] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range named {
		if !defined[m[1]] {
			t.Errorf("SECURITY.md names %s, which is not a test", m[1])
		}
	}
}
