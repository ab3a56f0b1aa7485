package tsa_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"pakn/internal/tsa"
	"pakn/internal/verifytest"
)

func TestAuthorityAnswers(t *testing.T) {
	p := verifytest.NewPKI(t, "tsa")
	at := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	a := p.Authority(t, func() time.Time { return at })
	sum := sha256.Sum256([]byte("a reply"))
	req, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Nonce: big.NewInt(42), Certificates: true}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.Respond(req)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := timestamp.ParseResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if !ts.Time.Equal(at) || ts.Nonce.Int64() != 42 || !ts.Policy.Equal(tsa.Issuance(nil)) || string(ts.HashedMessage) != string(sum[:]) {
		t.Fatalf("token: time %s, nonce %v, policy %v", ts.Time, ts.Nonce, ts.Policy)
	}
	if len(ts.Certificates) < 1 || !ts.Certificates[0].Equal(a.Certificate()) {
		t.Fatal("the token does not carry the authority's certificate")
	}
}

func TestAuthorityRefuses(t *testing.T) {
	p := verifytest.NewPKI(t, "tsa")
	a := p.Authority(t, nil)
	sum := sha256.Sum256([]byte("x"))
	marshal := func(r *timestamp.Request) []byte {
		b, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	good := marshal(&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:]})
	for name, req := range map[string][]byte{
		"empty":        nil,
		"garbage":      []byte("not a request"),
		"too large":    make([]byte, tsa.MaxRequest+1),
		"trailing":     append(append([]byte{}, good...), 0),
		"short hash":   marshal(&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:20]}),
		"SHA-1":        marshal(&timestamp.Request{HashAlgorithm: crypto.SHA1, HashedMessage: sum[:20]}),
		"other policy": marshal(&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], TSAPolicyOID: asn1.ObjectIdentifier{1, 2, 3}}),
		"huge nonce":   marshal(&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Nonce: new(big.Int).Lsh(big.NewInt(1), 300)}),
		"an extension": marshal(&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 3}, Value: []byte{5, 0}}}}),
	} {
		t.Run(name, func(t *testing.T) {
			resp, err := a.Respond(req)
			if _, ok := err.(*tsa.RequestError); !ok {
				t.Fatalf("error %v, want a RequestError", err)
			}
			if _, perr := timestamp.ParseResponse(resp); perr == nil {
				t.Fatal("a refused request got a token")
			}
		})
	}
}

// The certificate must carry the timeStamping EKU alone, critical.
func TestAuthorityCertificateRules(t *testing.T) {
	p := verifytest.NewPKI(t, "tsa")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	issue := func(mod func(*x509.Certificate)) *x509.Certificate {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "TSA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
			ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}
		mod(tmpl)
		return verifytest.MustCert(t, tmpl, p.Issuing, key.Public(), p.IssuingKey)
	}
	for name, c := range map[string]*x509.Certificate{
		"EKU not critical": issue(func(*x509.Certificate) {}),
		"two EKUs":         issue(func(c *x509.Certificate) { c.ExtKeyUsage = append(c.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) }),
		"no EKU":           issue(func(c *x509.Certificate) { c.ExtKeyUsage = nil }),
	} {
		if _, err := tsa.New(key, []*x509.Certificate{c, p.Issuing}, nil, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := p.Authority(t, nil).Certificate()
	if _, err := tsa.New(other, []*x509.Certificate{good, p.Issuing}, nil, nil); err == nil {
		t.Error("accepted a certificate of another key")
	}
}

// FuzzRespond: whatever the request, no panic, and a token only for a
// request that reads back with its hash.
func FuzzRespond(f *testing.F) {
	p := verifytest.NewPKI(f, "tsa")
	a := p.Authority(f, nil)
	sum := sha256.Sum256([]byte("x"))
	good, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Nonce: big.NewInt(7), Certificates: true}).Marshal()
	f.Add(good)
	f.Add([]byte{0x30, 0x03, 0x02, 0x01, 0x01})
	f.Fuzz(func(t *testing.T, req []byte) {
		resp, err := a.Respond(req)
		if err != nil {
			return
		}
		ts, perr := timestamp.ParseResponse(resp)
		q, qerr := timestamp.ParseRequest(req)
		if perr != nil || qerr != nil || string(ts.HashedMessage) != string(q.HashedMessage) {
			t.Fatalf("a token for a request it cannot read back: %v %v", perr, qerr)
		}
	})
}
