package architecture

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// The README's package map has one line per package, and go list has no
// package it leaves out.
func TestREADMEPackageMap(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	start := strings.Index(readme, "## Layout")
	if start < 0 {
		t.Fatal("README has no Layout section")
	}
	section := readme[start:]
	if end := strings.Index(section[1:], "\n## "); end >= 0 {
		section = section[:end+1]
	}
	var listed []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "    ") {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 {
			t.Errorf("package map line without a description: %q", line)
			continue
		}
		listed = append(listed, strings.TrimPrefix(f[0], "internal/"))
	}
	for p := range packages(t) {
		if !slices.Contains(listed, p) {
			t.Errorf("package %s is not in the README's package map", p)
		}
	}
	all := packages(t)
	for _, p := range listed {
		if _, ok := all[p]; !ok {
			t.Errorf("the README's package map lists %s, which is not a package", p)
		}
		if n := slices.Index(listed, p); slices.Index(listed[n+1:], p) >= 0 {
			t.Errorf("the README's package map lists %s twice", p)
		}
	}
}
