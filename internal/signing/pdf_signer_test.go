package signing

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"io"
	"math/big"
	"sync/atomic"
	"testing"
	"time"

	"pakn/internal/pdfrender"
	"pakn/internal/pdftest"
	"pakn/internal/reply"
)

// testCA issues certificates like Vault's official-signer role does.
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
}

func newKey(t testing.TB, kind string) crypto.Signer {
	t.Helper()
	var k crypto.Signer
	var err error
	switch kind {
	case "ecdsa-p256":
		k, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "rsa-2048":
		k, err = rsa.GenerateKey(rand.Reader, 2048)
	case "rsa-3072":
		k, err = rsa.GenerateKey(rand.Reader, 3072)
	}
	if err != nil || k == nil {
		t.Fatalf("key %s: %v", kind, err)
	}
	return k
}

func newCA(t testing.TB, kind string) *testCA {
	t.Helper()
	k := newKey(t, kind)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pakn test root", Organization: []string{"pakn"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return &testCA{cert: c, key: k}
}

var oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}

func (ca *testCA) issue(t testing.TB, pub crypto.PublicKey, cn string) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{"Sở Tư pháp"}, Country: []string{"VN"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		UnknownExtKeyUsage: []asn1.ObjectIdentifier{oidDocumentSigning}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c
}

type countingSigner struct {
	crypto.Signer
	n atomic.Int64
}

func (c *countingSigner) Sign(r io.Reader, d []byte, o crypto.SignerOpts) ([]byte, error) {
	c.n.Add(1)
	return c.Signer.Sign(r, d, o)
}

func renderSample(t testing.TB) []byte {
	t.Helper()
	doc, err := pdfrender.Render(pdfrender.Document{Agency: "Sở Tư pháp", ParentAgency: "UBND thành phố Hà Nội", Number: "1/STP-HN-PAKN", Place: "Hà Nội",
		Date: time.Now(), Subject: "V/v trả lời phản ánh, kiến nghị", Recipient: "Bà Nguyễn Thị Hồng Nhung", RecipientAddr: "phường Điện Biên, quận Ba Đình",
		Paragraphs: []string{"Nội dung trả lời."}, SignerTitle: "Giám đốc", SignerName: "Nguyễn Văn Ĩnh",
		VerifyURL: "https://pakn.example/verify/x", ShortCode: "X", TrackingCode: "PAKN-2026-0000-0000", ReplyID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestSignPDFIndependentCheckers(t *testing.T) {
	doc := renderSample(t)
	for _, kind := range []string{"ecdsa-p256", "rsa-2048", "rsa-3072"} {
		t.Run(kind, func(t *testing.T) {
			ca := newCA(t, kind)
			key := &countingSigner{Signer: newKey(t, kind)}
			leaf := ca.issue(t, key.Public(), "Nguyễn Văn Ĩnh")
			out, err := SignPDF(doc, reply.SignRequest{Signer: key, Chain: []*x509.Certificate{leaf, ca.cert}, Name: "Nguyễn Văn Ĩnh (ĩ)",
				Reason: "Trả lời phản ánh, kiến nghị", Location: "Hà Nội, Việt Nam"})
			if err != nil {
				t.Fatal(err)
			}
			if key.n.Load() != 1 {
				t.Fatalf("signer called %d times, want 1", key.n.Load())
			}
			if !bytes.HasPrefix(out, doc) {
				t.Fatal("the signature is not an incremental update of the rendered document")
			}
			if !bytes.Contains(out, []byte("/Name (Nguyen Van Inh \\(i\\))")) || !bytes.Contains(out, []byte("/Location (Ha Noi, Viet Nam)")) {
				t.Error("signature dictionary text not folded to escaped ASCII")
			}
			rep := pdftest.RequireValid(t, out, ca.cert)
			if !bytes.Contains([]byte(rep), []byte("Nguyễn Văn Ĩnh")) {
				t.Errorf("pdfsig does not show the certificate's Vietnamese name:\n%s", rep)
			}
			if got := pdftest.Text(t, out); !bytes.Contains([]byte(got), []byte("Nguyễn Thị Hồng Nhung, phường Điện Biên, quận Ba Đình")) {
				t.Errorf("Vietnamese text lost after signing: %s", got)
			}
			// An untrusted root: valid signature, certificate not trusted.
			if rep := pdftest.Pdfsig(t, out); bytes.Contains([]byte(rep), []byte("Certificate is Trusted.")) {
				t.Errorf("pdfsig trusts a certificate without our root:\n%s", rep)
			}
		})
	}
}

func TestSignPDFRefusesSecondCall(t *testing.T) {
	s := &onceSigner{Signer: newKey(t, "ecdsa-p256")}
	d := make([]byte, 32)
	if _, err := s.Sign(rand.Reader, d, crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(rand.Reader, d, crypto.SHA256); err == nil {
		t.Fatal("second call signed")
	}
}

func TestSignPDFRejectsBadInput(t *testing.T) {
	key := newKey(t, "ecdsa-p256")
	ca := newCA(t, "ecdsa-p256")
	chain := []*x509.Certificate{ca.issue(t, key.Public(), "A"), ca.cert}
	for name, doc := range map[string][]byte{"empty": nil, "not a pdf": []byte("hello"), "truncated": renderSample(t)[:500]} {
		if _, err := SignPDF(doc, reply.SignRequest{Signer: key, Chain: chain}); err == nil {
			t.Errorf("%s: signed", name)
		}
	}
	if _, err := SignPDF(renderSample(t), reply.SignRequest{Signer: key}); err == nil {
		t.Error("signed without a certificate")
	}
}

func TestASCII(t *testing.T) {
	for in, want := range map[string]string{
		"Nguyễn Thị Hồng Nhung": "Nguyen Thi Hong Nhung", "Đặng Văn Đức": "Dang Van Duc", "Hà Nội (VN)": "Ha Noi (VN)",
		"漢字": "??", "tab\there": "tab?here",
	} {
		if got := ASCII(in); got != want {
			t.Errorf("ASCII(%q) = %q, want %q", in, got, want)
		}
	}
}
