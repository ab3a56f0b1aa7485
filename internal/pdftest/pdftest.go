// Package pdftest checks PDFs in tests with independent tools from Debian
// (poppler's pdfsig and pdftotext, qpdf, mupdf's mutool, NSS's certutil),
// which tools/stack.sh pdf-tools installs. A missing tool fails the test.
package pdftest

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Tool returns the path of a required command.
func Tool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required (tools/stack.sh pdf-tools installs it): %v", name, err)
	}
	return p
}

// Write stores pdf in a temporary file and returns its path.
func Write(t testing.TB, pdf []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(f, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// QPDFCheck fails the test unless `qpdf --check` is clean (exit 0: no
// errors, no warnings).
func QPDFCheck(t testing.TB, pdf []byte) {
	t.Helper()
	out, err := exec.Command(Tool(t, "qpdf"), "--check", Write(t, pdf)).CombinedOutput()
	if err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, out)
	}
}

// Text returns the document's text as pdftotext extracts it, lines joined
// by spaces (so wrapped sentences can be searched).
func Text(t testing.TB, pdf []byte) string {
	t.Helper()
	out, err := exec.Command(Tool(t, "pdftotext"), "-raw", "-enc", "UTF-8", Write(t, pdf), "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

var nssMu sync.Mutex

// Pdfsig runs poppler's pdfsig with an NSS database that trusts only
// roots, and returns its report. pdfsig's exit status says nothing about
// validity (callers read the text: see RequireValid), but a failure to run
// or to read the file, or a report without a signature, fails the test:
// a check of what the report lacks must not pass on an empty report.
func Pdfsig(t testing.TB, pdf []byte, roots ...*x509.Certificate) string {
	t.Helper()
	nssMu.Lock() // certutil is not safe to run concurrently on one machine's NSS locks
	defer nssMu.Unlock()
	dir := t.TempDir()
	certutil := Tool(t, "certutil")
	if out, err := exec.Command(certutil, "-N", "-d", "sql:"+dir, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v\n%s", err, out)
	}
	for i, r := range roots {
		f := filepath.Join(dir, "root.pem")
		if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.Raw}), 0o600); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(certutil, "-A", "-d", "sql:"+dir, "-n", "root"+string(rune('a'+i)), "-t", "C,C,C", "-i", f).CombinedOutput(); err != nil {
			t.Fatalf("certutil -A: %v\n%s", err, out)
		}
	}
	out, err := exec.Command(Tool(t, "pdfsig"), "-nssdir", "sql:"+dir, Write(t, pdf)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Signature #1") {
		t.Fatalf("pdfsig: %v\n%s", err, out)
	}
	return string(out)
}

// RequireValid fails the test unless pdfsig, trusting roots, reports exactly
// one signature that is valid, trusted and covers the whole document, and
// mutool and qpdf find the file sound.
func RequireValid(t testing.TB, pdf []byte, roots ...*x509.Certificate) string {
	t.Helper()
	rep := Pdfsig(t, pdf, roots...)
	for _, want := range []string{"Signature #1", "Signature is Valid.", "Certificate is Trusted.", "Total document signed"} {
		if !strings.Contains(rep, want) {
			t.Fatalf("pdfsig lacks %q:\n%s", want, rep)
		}
	}
	if strings.Contains(rep, "Signature #2") {
		t.Fatalf("pdfsig found more than one signature:\n%s", rep)
	}
	QPDFCheck(t, pdf)
	out, err := exec.Command(Tool(t, "mutool"), "sign", "-v", Write(t, pdf)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "The document is unchanged since signing.") {
		t.Fatalf("mutool sign -v: %v\n%s", err, out)
	}
	return rep
}
