package architecture

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The layers of pakn's packages (see the package comment).
var (
	domain = []string{"access", "agency", "apperr", "audit", "credential", "deadline", "gc", "msg", "pdfrender", "petition", "quota", "reply", "spool", "store", "tsa", "verify"}
	// services may import the domain.
	services = []string{"auditlog", "guard", "identity", "petitions", "register", "replies", "sealed"}
	// adapters may import the domain and their own driver; httpapi and web
	// also the services, and httpapi the website it serves.
	adapters = map[string][]string{
		"config":   nil,
		"httpapi":  {"github.com/go-chi/"},
		"web":      {"github.com/go-chi/"},
		"postgres": {"github.com/jackc/"},
		"signing":  {"github.com/digitorus/"},
		"vault":    {"github.com/hashicorp/vault/api"},
	}
	helpers  = []string{"architecture", "pdftest", "pgtest", "servicetest", "testclock", "vaulttest", "verifytest"}
	commands = []string{"cmd/pakn", "cmd/paknd"}
	// forbidden for the domain and the services, whatever else they import.
	forbidden = []string{"net/http", "github.com/jackc/", "github.com/hashicorp/", "github.com/go-chi/"}
)

type pkg struct {
	ImportPath string
	Imports    []string
}

// packages lists pakn's packages with their direct imports (tests aside),
// named without the module prefix ("desk", "cmd/paknd").
func packages(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-json", "pakn/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	all := map[string][]string{}
	dec := json.NewDecoder(bufio.NewReader(bytes.NewReader(out)))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		var imps []string
		for _, i := range p.Imports {
			imps = append(imps, short(i))
		}
		all[short(p.ImportPath)] = imps
	}
	return all
}

func short(path string) string {
	if s, ok := strings.CutPrefix(path, "pakn/internal/"); ok {
		return s
	}
	return strings.TrimPrefix(path, "pakn/")
}

func hasPrefix(imp string, prefixes []string) bool {
	return slices.ContainsFunc(prefixes, func(p string) bool { return imp == p || strings.HasPrefix(imp, p) })
}

// own reports whether imp is one of pakn's packages.
func own(all map[string][]string, imp string) bool { _, ok := all[imp]; return ok }

func TestPackageArrows(t *testing.T) {
	all := packages(t)
	layer := map[string]string{}
	for _, p := range domain {
		layer[p] = "domain"
	}
	for _, p := range services {
		layer[p] = "service"
	}
	for p := range adapters {
		layer[p] = "adapter"
	}
	for _, p := range helpers {
		layer[p] = "helper"
	}
	for _, p := range commands {
		layer[p] = "command"
	}
	layer["keys"] = "domain" // the Vault policies, embedded
	for p, imps := range all {
		l, ok := layer[p]
		if !ok {
			t.Errorf("package %s has no layer: add it to the architecture test and the README's package map", p)
			continue
		}
		for _, imp := range imps {
			isOwn := own(all, imp)
			switch l {
			case "domain":
				if hasPrefix(imp, forbidden) {
					t.Errorf("domain package %s imports %s (no HTTP, SQL or Vault in the domain)", p, imp)
				}
				if isOwn && layer[imp] != "domain" {
					t.Errorf("domain package %s imports the %s %s", p, layer[imp], imp)
				}
			case "service":
				if hasPrefix(imp, forbidden) {
					t.Errorf("service %s imports %s: give it an interface instead", p, imp)
				}
				if isOwn && layer[imp] != "domain" && layer[imp] != "service" {
					t.Errorf("service %s imports the %s %s: give it an interface instead", p, layer[imp], imp)
				}
			case "adapter":
				if isOwn {
					switch {
					case layer[imp] == "domain":
					case layer[imp] == "service" && (p == "httpapi" || p == "web"):
					case p == "httpapi" && imp == "web":
					default:
						t.Errorf("adapter %s imports the %s %s (adapters meet only through the domain's interfaces)", p, layer[imp], imp)
					}
					continue
				}
				if hasPrefix(imp, forbidden) && !hasPrefix(imp, adapters[p]) && imp != "net/http" {
					t.Errorf("adapter %s imports %s, another adapter's driver", p, imp)
				}
			}
			if isOwn && layer[imp] == "helper" && l != "helper" {
				t.Errorf("%s imports the test helper %s", p, imp)
			}
		}
	}
}
