package signing_test

import (
	"bytes"
	"crypto/x509"
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
	// pdfsig on both revisions, openssl ts -verify on both tokens (Debian's pdfsig,
	// poppler 22.12, lists the document time-stamp but cannot validate its type), qpdf, mutool.
	rep := pdftest.RequireValid(t, out, p.Root)
	first, second, _ := strings.Cut(rep, "Signature #2")
	if !strings.Contains(first, "Signature Type: ETSI.CAdES.detached") || !strings.Contains(second, "pakn test TSA") {
		t.Errorf("pdfsig:\n%s", rep)
	}
	pdftest.QPDFCheck(t, out)
	if out, err := exec.Command(pdftest.Tool(t, "mutool"), "sign", "-v", pdftest.Write(t, out)).CombinedOutput(); err != nil {
		t.Fatalf("mutool sign -v: %v\n%s", err, out)
	}
	p7, err := pkcs7.Parse(verifytest.CMSOf(t, out))
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
