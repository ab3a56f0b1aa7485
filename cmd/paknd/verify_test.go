package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"testing"
	"time"

	"pakn/internal/postgres"
	"pakn/internal/reply"
	"pakn/internal/servicetest"
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
	key, err := vault.NewTransitSigner(s.v.Root(), vault.TransitMount, ps.Key, ps.Version, ps.Certificate, 0)
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
	if r.Indication != verify.TotalFailed || r.SubIndication != verify.NotInRegister || r.Register == nil || r.Register.Found ||
		r.Signatures[0].Indication != verify.TotalPassed {
		t.Fatalf("a reply signed under the configured CA but not issued is not a pass: %+v", r)
	}
	// Another CA's reply: no chain.
	if r := post(verifytest.NewPKI(t, "other").Genuine(t)); r.SubIndication != verify.NoCertificateChain {
		t.Fatalf("foreign CA: %+v", r)
	}
}

// At start, paknd proves every active signer's certificate against its
// Transit key, and refuses to serve when one has been swapped.
func TestPakndChecksActiveSignersAtStart(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	st := postgres.Stores(s.db.Pool, nil)
	servicetest.DemoCity(t, st.Agencies)
	var accounts []string
	for _, name := range []string{"signer-a", "signer-b"} {
		var id string
		if err := s.db.Pool.QueryRow(ctx, `INSERT INTO accounts (username, display_name, agency_code, password_hash)
			VALUES ($1, $1, 'STP-HN', 'x') RETURNING id`, name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		accounts = append(accounts, id)
	}
	var signers []*reply.Signer
	for i, name := range []string{"signer-a", "signer-b"} {
		ps, err := vault.ProvisionSigner(ctx, s.v.Root(), name, "ecdsa-p256", pkix.Name{CommonName: "Lê Hoàng Cường"})
		if err != nil {
			t.Fatal(err)
		}
		g := &reply.Signer{AccountID: accounts[i], FullName: "Lê Hoàng Cường " + name, Title: "Phó Giám đốc", KeyName: ps.Key,
			KeyVersion: ps.Version, KeyType: "ecdsa-p256", Certificate: ps.Certificate, ChainPEM: ps.ChainPEM}
		if err := st.Tx.InTx(ctx, func(ctx context.Context) error { return st.Replies.AddSigner(ctx, g, time.Now()) }); err != nil {
			t.Fatal(err)
		}
		signers = append(signers, g)
	}
	_, logs, stop := s.start(t)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), `"msg":"signers checked against their Transit keys","active":2`) {
		t.Fatalf("no signer check in the logs:\n%s", logs)
	}

	// signer-a's row now carries signer-b's certificate: paknd will not serve.
	if _, err := s.db.Pool.Exec(ctx, `UPDATE signers SET chain_pem = $1 WHERE id = $2`, signers[1].ChainPEM, signers[0].ID); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	s.handOver(t)
	err := run(ctx, nil, func(k string) string { return s.env[k] }, &out)
	if err == nil || !strings.Contains(err.Error(), "signer Lê Hoàng Cường signer-a") || !strings.Contains(err.Error(), "does not verify with the certificate") {
		t.Fatalf("paknd with a swapped certificate: %v", err)
	}
}
