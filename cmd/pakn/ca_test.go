package main

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pakn/internal/pgtest"
	"pakn/internal/postgres"
	"pakn/internal/reply"
	"pakn/internal/signing"
	"pakn/internal/tsa"
	"pakn/internal/vault"
	"pakn/internal/vaulttest"
	"pakn/internal/verifytest"
)

// After the issuing CA is rotated (pakn ca rotate), a reply of the CA
// before and one signed with a certificate of the new CA both verify,
// offline and online; the certificates folder holds both CAs and the
// time-stamping authority is certified by the new one.
func TestCARotation(t *testing.T) {
	ctx := context.Background()
	db, v, root, dir, vars := seededDemo(t)
	certs := filepath.Join(dir, "certs")
	old := publicVersion(t, db, v)
	oldTSA, err := vault.ReadTSACert(filepath.Join(certs, vault.TSACertFile))
	if err != nil {
		t.Fatal(err)
	}

	code, out, errs := cli(t, vars, "ca", "rotate", "-certs-dir", certs)
	if code != 0 || !strings.Contains(out, "new issuing CA") || !strings.Contains(out, "certified the time-stamping authority") {
		t.Fatalf("ca rotate: %d %s %s", code, out, errs)
	}
	issuing, err := os.ReadFile(filepath.Join(certs, vault.IssuingCAFile))
	if err != nil || strings.Count(string(issuing), "BEGIN CERTIFICATE") != 2 {
		t.Fatalf("the issuing CAs exported: %d certificates, %v", strings.Count(string(issuing), "BEGIN CERTIFICATE"), err)
	}
	newTSA, err := vault.ReadTSACert(filepath.Join(certs, vault.TSACertFile))
	if err != nil || newTSA.Chain[1].Equal(oldTSA.Chain[1]) || newTSA.Version <= oldTSA.Version {
		t.Fatalf("the time-stamping authority was not certified by the new CA (v%d): %v", newTSA.Version, err)
	}
	// The signer's next rotation gives it a certificate of the new CA.
	if code, _, errs := cli(t, vars, "signer", "rotate", "-username", "demo-signer"); code != 0 {
		t.Fatalf("signer rotate: %s", errs)
	}
	g := activeSigner(t, db)
	if g.Certificate.CheckSignatureFrom(newTSA.Chain[1]) != nil {
		t.Fatal("the rotated signer's certificate is not from the new CA")
	}
	key, err := vault.NewTransitSigner(v.Root(), vault.TransitMount, g.KeyName, g.KeyVersion, g.Certificate, 0)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := root.TimeStamping(filepath.Join(certs, vault.TSACertFile), tsa.Issuance(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	crls, err := root.ValidationCRLs(0)(ctx)
	if err != nil || len(crls) != 3 { // both issuing CAs and the root
		t.Fatalf("validation CRLs: %d, %v", len(crls), err)
	}
	fresh, err := signing.SignPDF(verifytest.Reply(t, ""), reply.SignRequest{Signer: key, Chain: g.Chain, Stamp: auth.Respond, CRLs: crls})
	if err != nil {
		t.Fatal(err)
	}
	for name, pdf := range map[string][]byte{"the old CA's reply": old, "the new CA's reply": fresh} {
		file := filepath.Join(t.TempDir(), "reply.pdf")
		if err := os.WriteFile(file, pdf, 0o600); err != nil {
			t.Fatal(err)
		}
		if code, out, errs := cli(t, map[string]string{}, "verify", "-certs", certs, file); code != 0 {
			t.Fatalf("%s offline: %d\n%s%s", name, code, out, errs)
		}
		if code, out, errs := cli(t, map[string]string{"VAULT_ADDR": v.Addr}, "verify", "-certs", certs, file); code != 0 {
			t.Fatalf("%s with the CA's current list: %d\n%s%s", name, code, out, errs)
		}
	}
}

// pakn archive-timestamp renews the demo documents (a time-stamp
// certificate ends within three years) with the new CA's authority; the
// public version served then verifies offline.
func TestArchiveTimestampCommand(t *testing.T) {
	db, v, _, dir, vars := seededDemo(t)
	certs := filepath.Join(dir, "certs")
	before := publicVersion(t, db, v)
	args := []string{"archive-timestamp", "-within", "26280h", "-certs", certs, "-vault-creds-dir", filepath.Join(dir, "creds")}
	code, out, errs := cli(t, vars, args...)
	if code != 0 || !strings.Contains(out, "2 renewed") {
		t.Fatalf("archive-timestamp: %d %s %s", code, out, errs)
	}
	after := publicVersion(t, db, v)
	if !bytes.HasPrefix(after, before) || len(after) == len(before) {
		t.Fatal("the public version served is not the archived one")
	}
	file := filepath.Join(t.TempDir(), "reply.pdf")
	if err := os.WriteFile(file, after, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errs := cli(t, map[string]string{}, "verify", "-certs", certs, file); code != 0 {
		t.Fatalf("the archived version offline: %d\n%s%s", code, out, errs)
	}
	if code, out, _ := cli(t, vars, append(args[:1], "-within", "720h", "-certs", certs)...); code != 0 || !strings.Contains(out, "0 renewed") {
		t.Fatalf("second run: %d %s", code, out)
	}
}

// seededDemo is a database and a bootstrapped Vault (its folder dir) after
// pakn seed -demo -demo-reply, and the environment of the CLI's operator.
func seededDemo(t *testing.T) (*pgtest.DB, *vaulttest.Server, *vault.Client, string, map[string]string) {
	t.Helper()
	db := pgtest.New(t)
	v, root, dir := vaulttest.Bootstrapped(t)
	vars := map[string]string{"PAKN_DATABASE_URL": db.AppURL, "USER": "ops-tester", "VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken,
		"PAKN_AUDIT_KEY_FILE": auditKeyFile(t)}
	if code, out, errs := cli(t, vars, "seed", "-demo", "-demo-reply", filepath.Join(t.TempDir(), "demo.txt"), "-vault-creds-dir",
		filepath.Join(dir, "creds"), "-certs", filepath.Join(dir, "certs")); code != 0 {
		t.Fatalf("seed: %s %s", out, errs)
	}
	return db, v, root, dir, vars
}

// activeSigner is the demo signer's active key version and certificate.
func activeSigner(t *testing.T, db *pgtest.DB) *reply.Signer {
	t.Helper()
	var id string
	if err := db.Pool.QueryRow(context.Background(), `SELECT id FROM accounts WHERE username = 'demo-signer'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	g, err := postgres.Stores(db.Pool, nil).Replies.ActiveSigner(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Chain) < 2 {
		blk, _ := pem.Decode([]byte(g.ChainPEM))
		t.Fatalf("the signer's chain: %v", blk != nil)
	}
	return g
}
