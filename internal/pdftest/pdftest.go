// Package pdftest checks PDFs in tests with independent tools from Debian
// (poppler's pdfsig and pdftotext, qpdf, mupdf's mutool, NSS's certutil),
// which tools/stack.sh pdf-tools installs. A missing tool fails the test.
package pdftest

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/digitorus/pkcs7"
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

// RequireValid fails the test unless pdfsig, trusting roots, reports the
// document's signature valid and trusted, and mutool and qpdf find the file
// sound. A document signed as pakn issues replies (PAdES B-LTA) has two:
// the signature, whose revision (the file up to its signed end) pdfsig
// must find wholly signed and mutool unchanged, and a document time-stamp
// over the whole file, which Debian's pdfsig lists but cannot validate, so
// openssl ts -verify checks both time-stamp tokens against roots. A
// document of one signature must be wholly signed by it.
func RequireValid(t testing.TB, pdf []byte, roots ...*x509.Certificate) string {
	t.Helper()
	rep := Pdfsig(t, pdf, roots...)
	first, second, stamped := strings.Cut(rep, "Signature #2")
	for _, want := range []string{"Signature #1", "Signature is Valid.", "Certificate is Trusted."} {
		if !strings.Contains(first, want) {
			t.Fatalf("pdfsig lacks %q:\n%s", want, rep)
		}
	}
	if strings.Contains(rep, "Signature #3") {
		t.Fatalf("pdfsig found more than two signatures:\n%s", rep)
	}
	revision := pdf
	if stamped {
		if !strings.Contains(second, "Total document signed") {
			t.Fatalf("the document time-stamp does not cover the whole file:\n%s", rep)
		}
		brs := ByteRanges(t, pdf)
		revision = pdf[:brs[0][2]+brs[0][3]]
		requireTimestamps(t, pdf, revision, brs[1], roots)
		if r := Pdfsig(t, revision, roots...); !strings.Contains(r, "Total document signed") || !strings.Contains(r, "Signature is Valid.") {
			t.Fatalf("pdfsig on the signature's revision:\n%s", r)
		}
	} else if !strings.Contains(first, "Total document signed") {
		t.Fatalf("pdfsig lacks %q:\n%s", "Total document signed", rep)
	}
	QPDFCheck(t, pdf)
	out, err := exec.Command(Tool(t, "mutool"), "sign", "-v", Write(t, revision)).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "The document is unchanged since signing.") {
		t.Fatalf("mutool sign -v: %v\n%s", err, out)
	}
	return rep
}

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]`)

// ByteRanges reads every /ByteRange of pdf, in file order.
func ByteRanges(t testing.TB, pdf []byte) [][4]int {
	t.Helper()
	var out [][4]int
	for _, m := range byteRangeRE.FindAllSubmatch(pdf, -1) {
		var br [4]int
		for i := range br {
			br[i], _ = strconv.Atoi(string(m[i+1]))
		}
		out = append(out, br)
	}
	if len(out) < 1 {
		t.Fatal("no /ByteRange")
	}
	return out
}

// Contents returns the DER value of the /Contents between the ranges of
// br (a CMS or a time-stamp token), without its zero padding.
func Contents(t testing.TB, pdf []byte, br [4]int) []byte {
	t.Helper()
	raw, err := hex.DecodeString(string(pdf[br[1]+1 : br[2]-1]))
	if err != nil {
		t.Fatal(err)
	}
	var v asn1.RawValue
	if _, err := asn1.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return v.FullBytes
}

// requireTimestamps checks with openssl the signature time-stamp of the
// signature whose revision is revision, and the document time-stamp whose
// byte range is docRange.
func requireTimestamps(t testing.TB, pdf, revision []byte, docRange [4]int, roots []*x509.Certificate) {
	t.Helper()
	p7, err := pkcs7.Parse(Contents(t, revision, ByteRanges(t, revision)[0]))
	if err != nil || len(p7.Signers) != 1 {
		t.Fatalf("the signature's CMS: %v", err)
	}
	var token []byte
	for _, a := range p7.Signers[0].UnauthenticatedAttributes {
		if a.Type.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}) {
			var tok asn1.RawValue
			if _, err := asn1.Unmarshal(a.Value.Bytes, &tok); err != nil {
				t.Fatal(err)
			}
			token = tok.FullBytes
		}
	}
	if token == nil {
		t.Fatal("the signature has no time-stamp")
	}
	sum := sha256.Sum256(p7.Signers[0].EncryptedDigest)
	OpenSSLTSVerify(t, token, "-digest", hex.EncodeToString(sum[:]), roots...)
	signed := append(append([]byte{}, pdf[docRange[0]:docRange[0]+docRange[1]]...), pdf[docRange[2]:docRange[2]+docRange[3]]...)
	OpenSSLTSVerify(t, Contents(t, pdf, docRange), "-data", WriteFile(t, signed), roots...)
}

// WriteFile writes data to a new file of the test and returns its path.
func WriteFile(t testing.TB, data []byte) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "data.bin")
	if err := os.WriteFile(f, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// OpenSSLTSVerify fails the test unless `openssl ts -verify` accepts the
// DER time-stamp token for what (-digest HEX or -data FILE, as how says),
// trusting roots (the token carries its intermediates): openssl checks the
// token's signature, its imprint, and that the TSA's certificate chains to
// a root with the timeStamping extended key usage alone, marked critical.
func OpenSSLTSVerify(t testing.TB, token []byte, how, what string, roots ...*x509.Certificate) {
	t.Helper()
	dir := t.TempDir()
	var pemRoots []byte
	for _, c := range roots {
		pemRoots = append(pemRoots, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	ca, tok := filepath.Join(dir, "roots.pem"), filepath.Join(dir, "token.der")
	if err := os.WriteFile(ca, pemRoots, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tok, token, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(Tool(t, "openssl"), "ts", "-verify", how, what, "-in", tok, "-token_in", "-CAfile", ca).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verification: OK") {
		t.Fatalf("openssl ts -verify: %v\n%s", err, out)
	}
}
