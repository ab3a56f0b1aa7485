package signing

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"pakn/internal/apperr"
	"pakn/internal/pdftest"
	"pakn/internal/reply"
)

// testTSA is an RFC 3161 time-stamping authority on loopback.
func testTSA(t *testing.T, ca *testCA, delay <-chan struct{}) *httptest.Server {
	t.Helper()
	key := newKey(t, "ecdsa-p256")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "pakn test TSA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if delay != nil {
			select {
			case <-delay:
			case <-r.Context().Done():
				return
			}
		}
		body, _ := io.ReadAll(r.Body)
		req, err := timestamp.ParseRequest(body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		ts := timestamp.Timestamp{HashAlgorithm: req.HashAlgorithm, HashedMessage: req.HashedMessage, Time: time.Now(),
			Nonce: req.Nonce, Policy: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, AddTSACertificate: req.Certificates}
		resp, err := ts.CreateResponseWithOpts(cert, key, crypto.SHA256)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv
}

var contentsHex = regexp.MustCompile(`/Contents\s*<([0-9a-fA-F]+)>`)

// oidTimeStampToken is id-aa-timeStampToken (1.2.840.113549.1.9.16.2.14), DER-encoded.
var oidTimeStampToken = []byte{0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0e}

func TestSignPDFWithTimestampFromExternalTSA(t *testing.T) {
	ca := newCA(t, "ecdsa-p256")
	tsa := testTSA(t, ca, nil)
	client, err := TSAClient(tsa.URL, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	key := &countingSigner{Signer: newKey(t, "ecdsa-p256")}
	leaf := ca.issue(t, key.Public(), "Lê Hoàng Cường")
	out, err := SignPDF(renderSample(t), reply.SignRequest{Signer: key, Chain: []*x509.Certificate{leaf, ca.cert}, Stamp: client})
	if err != nil {
		t.Fatal(err)
	}
	if key.n.Load() != 1 {
		t.Fatalf("signer called %d times", key.n.Load())
	}
	pdftest.RequireValid(t, out, ca.cert)
	m := contentsHex.FindSubmatch(out)
	if m == nil {
		t.Fatal("no /Contents")
	}
	cms, _ := hex.DecodeString(string(m[1]))
	if !bytes.Contains(cms, oidTimeStampToken) {
		t.Fatal("the CMS carries no time-stamp token")
	}
}

func TestSlowTSAFailsCleanly(t *testing.T) {
	ca := newCA(t, "ecdsa-p256")
	release := make(chan struct{})
	defer close(release)
	tsa := testTSA(t, ca, release)
	client, err := TSAClient(tsa.URL, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	key := newKey(t, "ecdsa-p256")
	leaf := ca.issue(t, key.Public(), "A")
	_, err = SignPDF(renderSample(t), reply.SignRequest{Signer: key, Chain: []*x509.Certificate{leaf, ca.cert}, Stamp: client})
	if apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("slow TSA: %v (%s), want unavailable", err, apperr.CodeOf(err))
	}
	if _, err := TSAClient("ftp://x", time.Second); err == nil {
		t.Fatal("accepted a non-http TSA URL")
	}
}
