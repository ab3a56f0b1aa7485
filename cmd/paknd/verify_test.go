package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"testing"

	"pakn/internal/signing"
	"pakn/internal/vault"
	"pakn/internal/verify"
	"pakn/internal/verifytest"
)

// paknd verifies with the anchors of PAKN_TRUST_ANCHORS_DIR and the CRL it
// reads from Vault with its own AppRole token.
func TestPakndVerifiesWithConfiguredAnchorsAndVaultCRL(t *testing.T) {
	s := newStack(t)
	base, _, stop := s.start(t)
	defer stop()
	ctx := context.Background()
	ps, err := vault.ProvisionSigner(ctx, s.v.Root(), "e2e", "ecdsa-p256", pkix.Name{CommonName: "Lê Hoàng Cường"})
	if err != nil {
		t.Fatal(err)
	}
	key, err := signing.NewTransitSigner(s.v.Root(), vault.TransitMount, ps.Key, ps.Version, ps.Certificate, 0)
	if err != nil {
		t.Fatal(err)
	}
	var chain []*x509.Certificate
	for rest := []byte(ps.ChainPEM); ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		c, _ := x509.ParseCertificate(blk.Bytes)
		chain = append(chain, c)
	}
	doc := verifytest.Sign(t, verifytest.Reply(t, ""), key, chain...)
	post := func(doc []byte) verify.Report {
		resp, err := http.Post(base+"/api/v1/verifications", "application/pdf", bytes.NewReader(doc))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r verify.Report
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatalf("%d: %v", resp.StatusCode, err)
		}
		return r
	}
	r := post(doc)
	if r.Indication != verify.TotalPassed || r.Register == nil || r.Register.Found {
		t.Fatalf("a reply signed under the configured CA but not issued: %+v", r)
	}
	// Another CA's reply: no chain.
	if r := post(verifytest.NewPKI(t, "other").Genuine(t)); r.SubIndication != verify.NoCertificateChain {
		t.Fatalf("foreign CA: %+v", r)
	}
}
