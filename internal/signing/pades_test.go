package signing_test

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/digitorus/pkcs7"

	"pakn/internal/apperr"
	"pakn/internal/pdftest"
	"pakn/internal/reply"
	"pakn/internal/signing"
	"pakn/internal/verifytest"
)

// TestPAdESLTAIndependentCheckers signs as pakn issues replies (B-LTA) and
// lets poppler, qpdf and mupdf judge the file: the signature revision is
// a whole signed document with its time-stamp, the document time-stamp
// covers the whole file.
func TestPAdESLTAIndependentCheckers(t *testing.T) {
	p := verifytest.NewPKI(t, "pades")
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	doc := verifytest.Reply(t, "")
	out := p.SignLTA(t, doc, p.Authority(t, nil), key, cert)
	for _, want := range []string{"/SubFilter /ETSI.CAdES.detached", "/SubFilter /ETSI.RFC3161", "/Type /DocTimeStamp", "/Type /DSS", "/M (D:"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the file lacks %s", want)
		}
	}
	br := verifytest.ByteRange(t, out)
	revision := out[:br[2]+br[3]]
	rep := pdftest.RequireValid(t, revision, p.Root)
	if !strings.Contains(rep, "Signature Type: ETSI.CAdES.detached") {
		t.Errorf("pdfsig on the signature revision:\n%s", rep)
	}
	// Debian's pdfsig (poppler 22.12) lists the document time-stamp but
	// cannot validate its type: openssl does, below.
	full := pdftest.Pdfsig(t, out, p.Root)
	_, second, _ := strings.Cut(full, "Signature #2")
	if !strings.Contains(second, "pakn test TSA") || !strings.Contains(second, "Total document signed") {
		t.Fatalf("pdfsig does not show the document time-stamp over the whole file:\n%s", full)
	}
	if first, _, _ := strings.Cut(full, "Signature #2"); !strings.Contains(first, "Signature is Valid.") || !strings.Contains(first, "Certificate is Trusted.") {
		t.Fatalf("pdfsig on the whole file:\n%s", full)
	}
	sigTok, sigValue := verifytest.SignatureTimestamp(t, revision)
	digest := sha256.Sum256(sigValue)
	pdftest.OpenSSLTSVerify(t, sigTok, "-digest", hex.EncodeToString(digest[:]), p.Root)
	docTok, signed := verifytest.DocumentTimestamp(t, out)
	pdftest.OpenSSLTSVerify(t, docTok, "-data", pdftest.WriteFile(t, signed), p.Root)
	pdftest.QPDFCheck(t, out)
	if out, err := exec.Command(pdftest.Tool(t, "mutool"), "sign", "-v", pdftest.Write(t, out)).CombinedOutput(); err != nil {
		t.Fatalf("mutool sign -v: %v\n%s", err, out)
	}
	p7, err := pkcs7.Parse(verifytest.CMSOf(t, revision))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range p7.Signers[0].AuthenticatedAttributes {
		if a.Type.Equal(pkcs7.OIDAttributeSigningTime) {
			t.Error("the CMS carries a signingTime attribute")
		}
	}
}

// TestSigningRefusesRevokedSigner: a signer whose certificate its CA has
// revoked cannot sign, whatever the revocation's date.
func TestSigningRefusesRevokedSigner(t *testing.T) {
	p := verifytest.NewPKI(t, "revoked")
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	p.Revoke(t, cert, cert.NotBefore)
	_, err := signing.SignPDF(verifytest.Reply(t, ""), reply.SignRequest{Signer: key, Chain: []*x509.Certificate{cert, p.Issuing, p.Root},
		Stamp: p.Authority(t, nil).Respond, CRLs: [][]byte{p.CRL.Raw}})
	if apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("revoked signer: %v, want a conflict", err)
	}
}

// TestSigningFailsClosedWithoutTSA: no answer from the authority, no file.
func TestSigningFailsClosedWithoutTSA(t *testing.T) {
	p := verifytest.NewPKI(t, "down")
	cert, key := p.Signer(t, "A", nil)
	down := func([]byte) ([]byte, error) { return nil, errors.New("connection refused") }
	out, err := signing.SignPDF(verifytest.Reply(t, ""), reply.SignRequest{Signer: key, Chain: []*x509.Certificate{cert, p.Issuing, p.Root},
		Stamp: down, CRLs: [][]byte{p.CRL.Raw}})
	if apperr.CodeOf(err) != apperr.Unavailable || out != nil {
		t.Fatalf("TSA down: %d bytes, %v, want unavailable and nothing", len(out), err)
	}
}
