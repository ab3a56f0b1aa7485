package architecture

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Every row of SECURITY.md's tables has a line in its claims index, every
// line names at least one test, and every test named exists: a renamed or
// deleted test, or a new row without a test, cannot leave a claim unproven
// unnoticed.
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
	testName := regexp.MustCompile("`(Test[A-Za-z0-9_]+)`")
	index := map[string]bool{}
	for _, row := range tableRows(section) {
		index[row[0]] = true
		if !testName.MatchString(row[len(row)-1]) {
			t.Errorf("the claims index names no test for %q", row[0])
		}
	}
	for _, row := range tableRows(string(b)[:start]) {
		if !index[row[0]] {
			t.Errorf("SECURITY.md's row %q has no line in the claims index", row[0])
		}
	}
	named := testName.FindAllStringSubmatch(section, -1)
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

// tableRows returns the body rows of the Markdown tables in text, each as
// its trimmed cells (header and separator rows left out).
func tableRows(text string) [][]string {
	var rows [][]string
	header := true
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "| ") {
			header = true
			continue
		}
		if header || strings.HasPrefix(line, "| ---") {
			header = false
			continue
		}
		var cells []string
		for _, c := range strings.Split(strings.Trim(line, "|"), " | ") {
			cells = append(cells, strings.TrimSpace(c))
		}
		rows = append(rows, cells)
	}
	return rows
}
