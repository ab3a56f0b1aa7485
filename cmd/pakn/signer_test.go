package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pakn/internal/pdftest"
	"pakn/internal/pgtest"
	"pakn/internal/postgres"
	"pakn/internal/reply"
	"pakn/internal/sealed"
	"pakn/internal/signing"
	"pakn/internal/vault"
	"pakn/internal/vaulttest"
	"pakn/internal/verifytest"
)

func TestSignerCommands(t *testing.T) {
	db := pgtest.New(t)
	v, _, _ := vaulttest.Bootstrapped(t)
	vars := map[string]string{"PAKN_DATABASE_URL": db.AppURL, "USER": "ops-tester", "VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken}
	if code, _, errs := cli(t, vars, "seed", "-demo"); code != 0 {
		t.Fatalf("seed: %s", errs)
	}
	// The key is named after the account's id, never its username: "a.b",
	// "a-b" and "a_b" once shared one key.
	var id string
	if err := db.Pool.QueryRow(context.Background(), `SELECT id FROM accounts WHERE username = 'demo-signer'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	key := vault.SignerKeyPrefix + id
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"signer", "provision", "-username", "demo-official", "-title", "Chuyên viên"}, 2, "does not have the signer role"},
		{[]string{"signer", "provision", "-username", "demo-signer"}, 2, "-title is required"},
		{[]string{"signer", "rotate", "-username", "demo-signer"}, 2, "no key yet"},
		{[]string{"signer", "provision", "-username", "demo-signer", "-name", "Lê Hoàng Cường", "-title", "Phó Giám đốc", "-on-behalf", "KT. Giám đốc"}, 0,
			"provision: " + key + " v1 for Lê Hoàng Cường (Phó Giám đốc)"},
		{[]string{"signer", "provision", "-username", "demo-signer", "-title", "Phó Giám đốc"}, 2, "already has an active key"},
		{[]string{"signer", "rotate", "-username", "demo-signer"}, 0, "rotate: " + key + " v2 for Lê Hoàng Cường (Phó Giám đốc)"},
		{[]string{"signer", "list", "-username", "demo-signer"}, 0, key + " v2 ecdsa-p256 active"},
		{[]string{"signer", "revoke", "-username", "demo-signer", "-version", "7"}, 2, "no such key version"},
		{[]string{"signer", "revoke", "-username", "demo-signer"}, 0, "revoked " + key + " v2"},
		{[]string{"signer", "list", "-username", "demo-signer"}, 0, "v2 ecdsa-p256 revoked"},
		{[]string{"signer", "frobnicate", "-username", "demo-signer"}, 2, "unknown signer subcommand"},
		{[]string{"signer"}, 2, "usage"},
	}
	for _, st := range steps {
		code, out, errs := cli(t, vars, st.args...)
		if code != st.code || !strings.Contains(out+errs, st.want) {
			t.Fatalf("pakn %v: exit %d, %q %q; want %d and %q", st.args, code, out, errs, st.code, st.want)
		}
		if strings.Contains(out+errs, v.RootToken) {
			t.Fatal("the token was printed")
		}
	}
	ctx := context.Background()
	// Each version has its own certificate; the revoked one is on the issuing CA's revocation list.
	rows, err := db.Pool.Query(ctx, "SELECT key_version, status, serial FROM signers ORDER BY key_version")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Version int
		Status  string
		Serial  string
	}
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil || len(got) != 2 || got[0].Status != "retired" || got[1].Status != "revoked" || got[0].Serial == got[1].Serial {
		t.Fatalf("signers %+v %v", got, err)
	}
	for i, r := range got {
		s, err := v.Root().Logical().Read(vault.IssuingMount + "/cert/" + r.Serial)
		if err != nil || s == nil {
			t.Fatalf("certificate %s: %v", r.Serial, err)
		}
		revoked, _ := s.Data["revocation_time"].(interface{ Int64() (int64, error) })
		n, _ := revoked.Int64()
		if (i == 1) != (n > 0) {
			t.Errorf("certificate v%d revocation_time %d", r.Version, n)
		}
	}
	var events string
	if err := db.Pool.QueryRow(ctx, `SELECT string_agg(action || ':' || actor, ' ' ORDER BY seq) FROM audit_events WHERE object_type = 'signer'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != "signer.provision:operator:ops-tester signer.rotate:operator:ops-tester signer.revoke:operator:ops-tester" {
		t.Fatalf("audit trail %s", events)
	}
	vaultSignsWithNeither(t, v, key)
}

// vaultSignsWithNeither checks that Vault itself signs with neither of the
// key's first two versions (the rotation retired v1, the revocation v2):
// whoever holds paknd's credentials cannot either.
func vaultSignsWithNeither(t *testing.T, v *vaulttest.Server, key string) {
	t.Helper()
	for _, version := range []int{1, 2} {
		_, err := v.Root().Logical().Write(vault.TransitMount+"/sign/"+key+"/sha2-256",
			map[string]any{"input": "aGVsbG8=", "key_version": version, "prehashed": false})
		if err == nil {
			t.Errorf("Vault signed with the retired version %d", version)
		}
	}
	if _, err := v.Root().Logical().Write(vault.TransitMount+"/sign/"+key+"/sha2-256",
		map[string]any{"input": "aGVsbG8="}); err != nil {
		t.Errorf("the key's newest version (no certificate: unused) does not sign: %v", err)
	}
}

func TestSeedDemoReply(t *testing.T) {
	db := pgtest.New(t)
	v, _, dir := vaulttest.Bootstrapped(t)
	out := filepath.Join(t.TempDir(), "demo.txt")
	vars := map[string]string{"PAKN_DATABASE_URL": db.AppURL, "USER": "ops-tester", "VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken,
		"PAKN_AUDIT_KEY_FILE": auditKeyFile(t)}
	args := []string{"seed", "-demo", "-demo-reply", out, "-public-url", "http://127.0.0.1:8080", "-vault-creds-dir", filepath.Join(dir, "creds"),
		"-certs", filepath.Join(dir, "certs")}
	code, stdout, errs := cli(t, vars, args...)
	if code != 0 || !strings.Contains(stdout, "answered by signed reply 1/STP-HN-PAKN") {
		t.Fatalf("seed: %d %s %s", code, stdout, errs)
	}
	if b, err := os.ReadFile(out); err != nil || !strings.Contains(string(b), "lookup_secret=") {
		t.Fatalf("demo file: %q %v", b, err)
	}
	nothingToReseal(t, vars)
	pdf := publicVersion(t, db, v)
	rootPEM, _ := os.ReadFile(filepath.Join(dir, "certs", vault.RootCAFile))
	blk, _ := pem.Decode(rootPEM)
	root, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.RequireValid(t, pdf, root)

	certs := filepath.Join(dir, "certs")
	file := verifyOffline(t, v, certs, pdf)
	code, stdout, _ = cli(t, map[string]string{"VAULT_ADDR": v.Addr, "PAKN_DATABASE_URL": db.AppURL}, "verify", "-json", "-certs", certs, file)
	if code != 0 || !strings.Contains(stdout, `"found": true`) || !strings.Contains(stdout, `"number": "1/STP-HN-PAKN"`) {
		t.Fatalf("pakn verify with the register: %d\n%s", code, stdout)
	}
	s, err := v.Root().Logical().Read(vault.IssuingMount + "/cert/crl")
	if err != nil {
		t.Fatal(err)
	}
	crl := filepath.Join(t.TempDir(), "crl.pem")
	if err := os.WriteFile(crl, []byte(s.Data["certificate"].(string)), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := cli(t, map[string]string{"PAKN_DATABASE_URL": db.AppURL}, "verify", "-certs", certs, "-crl", crl, file); code != 0 {
		t.Fatalf("pakn verify -crl: %d\n%s", code, stdout)
	}
	tampered := append([]byte(nil), pdf...)
	tampered[100] ^= 1
	if err := os.WriteFile(file, tampered, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := cli(t, map[string]string{"VAULT_ADDR": v.Addr}, "verify", "-certs", certs, file); code != 1 || !strings.Contains(stdout, "HASH_FAILURE") {
		t.Fatalf("tampered: %d\n%s", code, stdout)
	}
	if code, _, _ := cli(t, map[string]string{}, "verify", "-certs", certs, "/nonexistent.pdf"); code != 2 {
		t.Fatalf("missing file: %d", code)
	}
	if code, _, errs := cli(t, map[string]string{}, "verify", "-certs", t.TempDir(), file); code != 2 || !strings.Contains(errs, "no *.pem") {
		t.Fatalf("no anchors: %d %s", code, errs)
	}

	forgedIsNotIssued(t, v, db, certs)

	// Idempotent: a second seed keeps the one demo reply.
	if code, stdout, _ := cli(t, vars, args...); code != 0 || !strings.Contains(stdout, "demo signed reply already present") {
		t.Fatalf("second seed: %d %s", code, stdout)
	}
}

// verifyOffline checks the demo reply pdf with pakn verify without a
// database (its issuance time-stamp attests it), three years later with
// nothing but certs/ and the file, and its signature's revision alone; it
// returns the file it wrote the reply to.
func verifyOffline(t *testing.T, v *vaulttest.Server, certs string, pdf []byte) string {
	t.Helper()
	// pakn verify: offline, against certs/ and the issuing CA's CRL from Vault (or a file).
	file := filepath.Join(t.TempDir(), "reply.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	// Without the register, the document time-stamp pakn's authority put on it at issuance attests that pakn issued it.
	code, stdout, errs := cli(t, map[string]string{"VAULT_ADDR": v.Addr}, "verify", "-certs", certs, file)
	if code != 0 || !strings.HasPrefix(stdout, "TOTAL_PASSED\n") || !strings.Contains(stdout, "signature #1  TOTAL_PASSED") ||
		!strings.Contains(stdout, "Lê Hoàng Cường") || !strings.Contains(errs, "not consulted") || !strings.Contains(stdout, "at its issuance") {
		t.Fatalf("pakn verify: %d\n%s%s", code, stdout, errs)
	}
	// Three years on, offline: no Vault, no database, only certs/ and the file (the lists it embeds).
	later := time.Now().AddDate(3, 0, 0).UTC().Format(time.RFC3339)
	code, stdout, errs = cli(t, map[string]string{}, "verify", "-certs", certs, "-at", later, file)
	if code != 0 || !strings.HasPrefix(stdout, "TOTAL_PASSED\n") || !strings.Contains(stdout, "embedded in the document") {
		t.Fatalf("pakn verify offline three years later: %d\n%s%s", code, stdout, errs)
	}
	// The signature's revision alone (no document time-stamp): whether pakn issued it is not known offline.
	revision := filepath.Join(t.TempDir(), "revision.pdf")
	br := verifytest.ByteRange(t, pdf)
	if err := os.WriteFile(revision, pdf[:br[2]+br[3]], 0o600); err != nil {
		t.Fatal(err)
	}
	if code, stdout, _ := cli(t, map[string]string{}, "verify", "-certs", certs, revision); code != 4 || !strings.HasPrefix(stdout, "INDETERMINATE / REGISTER_NOT_CONSULTED") {
		t.Fatalf("the signature's revision offline: %d\n%s", code, stdout)
	}
	return file
}

// forgedIsNotIssued signs a document the system never issued with a real
// signer's key in Vault (as whoever held paknd's credentials could): its
// signature is valid, and pakn verify says it was not issued (exit 3).
func forgedIsNotIssued(t *testing.T, v *vaulttest.Server, db *pgtest.DB, certs string) {
	t.Helper()
	signers, err := postgres.Stores(db.Pool, nil).Replies.ActiveSigners(context.Background())
	if err != nil || len(signers) == 0 {
		t.Fatalf("active signers: %v %v", signers, err)
	}
	g := signers[0]
	ts, err := vault.NewTransitSigner(v.Root(), vault.TransitMount, g.KeyName, g.KeyVersion, g.Certificate, 0)
	if err != nil {
		t.Fatal(err)
	}
	forged, err := signing.SignPDF(verifytest.Reply(t, "Một văn bản hệ thống chưa từng phát hành."), reply.SignRequest{Signer: ts, Chain: g.Chain})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "forged.pdf")
	if err := os.WriteFile(file, forged, 0o600); err != nil {
		t.Fatal(err)
	}
	code, stdout, errs := cli(t, map[string]string{"VAULT_ADDR": v.Addr, "PAKN_DATABASE_URL": db.AppURL}, "verify", "-certs", certs, file)
	if code != 3 || !strings.HasPrefix(stdout, "TOTAL_FAILED / NOT_IN_REGISTER\n") || !strings.Contains(stdout, "signature #1  TOTAL_PASSED") {
		t.Fatalf("a validly signed document the system did not issue: %d\n%s%s", code, stdout, errs)
	}
}

// auditKeyFile writes an audit key (hex) for the commands that need one.
func auditKeyFile(t *testing.T) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "audit.key")
	if err := os.WriteFile(f, []byte(strings.Repeat("5a", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// nothingToReseal checks that pakn reseal finds every petition sealed (the
// demo petition's words were sealed as paknd seals them).
func nothingToReseal(t *testing.T, vars map[string]string) {
	t.Helper()
	if code, stdout, errs := cli(t, vars, "reseal"); code != 0 || !strings.Contains(stdout, "reseal: sealed and indexed the words of 0 petition(s)") {
		t.Fatalf("reseal: %d %s %s", code, stdout, errs)
	}
}

// publicVersion reads the demo reply's public version as paknd serves it
// (stored sealed: opened with Vault).
func publicVersion(t *testing.T, db *pgtest.DB, v *vaulttest.Server) []byte {
	t.Helper()
	ctx := context.Background()
	var id string
	if err := db.Pool.QueryRow(ctx, "SELECT reply_id FROM public_replies").Scan(&id); err != nil {
		t.Fatal(err)
	}
	vc, err := vault.Connect(ctx, vault.Config{Addr: v.Addr, Token: v.RootToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pdf, err := sealed.Replies(postgres.Stores(db.Pool, nil).Replies, vault.NewEnvelopeBox(vc, vault.PIIKey), nil).PublicPDF(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return pdf
}
