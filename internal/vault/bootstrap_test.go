package vault_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"pakn/internal/vault"
	"pakn/internal/vaulttest"
	"pakn/keys"
)

func bootstrap(t *testing.T, v *vaulttest.Server) (certs, creds string, res *vault.BootstrapResult) {
	t.Helper()
	dir := t.TempDir()
	certs, creds = filepath.Join(dir, "certs"), filepath.Join(dir, "creds")
	res, err := vault.Bootstrap(context.Background(), v.Root(), vault.BootstrapOptions{
		PolicyName: keys.PakndPolicyName, PolicyHCL: keys.PakndPolicy, OrgName: "Thành phố Hà Nội",
		CertsDir: certs, CredsDir: creds, AuditLogPath: filepath.Join(dir, "vault-audit.log"),
	})
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	return certs, creds, res
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestBootstrapIsIdempotentAndSurvivesRestart(t *testing.T) {
	v := vaulttest.Start(t)
	certs, creds, res := bootstrap(t, v)
	if len(res.Steps) < 5 {
		t.Fatalf("first bootstrap did only %v", res.Steps)
	}
	root := readCert(t, filepath.Join(certs, vault.RootCAFile))
	issuing := readCert(t, filepath.Join(certs, vault.IssuingCAFile))
	if !root.IsCA || !issuing.IsCA {
		t.Fatal("exported certificates are not CAs")
	}
	if err := issuing.CheckSignatureFrom(root); err != nil {
		t.Fatalf("issuing CA not signed by root: %v", err)
	}
	if issuing.MaxPathLen != 0 || !issuing.MaxPathLenZero {
		t.Errorf("issuing CA may sign sub-CAs (MaxPathLen %d)", issuing.MaxPathLen)
	}
	for _, f := range []string{vault.RoleIDFile, vault.SecretIDFile} {
		st, err := os.Stat(filepath.Join(creds, f))
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", f, st.Mode().Perm())
		}
	}
	secret1, _ := os.ReadFile(filepath.Join(creds, vault.SecretIDFile))
	// The CRL lives 30 days (each bootstrap rebuilds it when a third is
	// left: verifiers refuse a list past its NextUpdate).
	if crl, err := v.Root().Logical().Read(vault.IssuingMount + "/config/crl"); err != nil || crl == nil || crl.Data["expiry"] != vault.CRLExpiry {
		t.Fatalf("CRL configuration: %v %v", crl, err)
	}

	v.Restart()
	res2, err := vault.Bootstrap(context.Background(), v.Root(), vault.BootstrapOptions{
		PolicyName: keys.PakndPolicyName, PolicyHCL: keys.PakndPolicy, OrgName: "Thành phố Hà Nội",
		CertsDir: certs, CredsDir: creds, AuditLogPath: "ignored-once-enabled",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Steps) != 0 {
		t.Fatalf("second bootstrap after a restart changed things: %v", res2.Steps)
	}
	if !readCert(t, filepath.Join(certs, vault.RootCAFile)).Equal(root) {
		t.Fatal("the root CA changed across a restart")
	}
	secret2, _ := os.ReadFile(filepath.Join(creds, vault.SecretIDFile))
	if string(secret1) != string(secret2) {
		t.Fatal("a still-valid secret id was replaced")
	}
}

// TestSignerRoleIssuesDocumentSigningCertificates signs a CSR of a Transit
// key with the official-signer role and checks the certificate's usages.
func TestSignerRoleIssuesDocumentSigningCertificates(t *testing.T) {
	v := vaulttest.Start(t)
	certs, _, _ := bootstrap(t, v)
	root := v.Root()
	ctx := context.Background()
	if _, err := root.Logical().WriteWithContext(ctx, "transit/keys/pakn-signer-test", map[string]any{"type": "ecdsa-p256"}); err != nil {
		t.Fatal(err)
	}
	s, err := root.Logical().WriteWithContext(ctx, "transit/keys/pakn-signer-test/csr", map[string]any{
		"csr": csrTemplatePEM(t, "Nguyễn Thị Hồng Nhung"),
	})
	if err != nil {
		t.Fatal(err)
	}
	csr, _ := s.Data["csr"].(string)
	s, err = root.Logical().WriteWithContext(ctx, vault.IssuingMount+"/sign/"+vault.SignerRole, map[string]any{"csr": csr, "ttl": "720h"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode([]byte(s.Data["certificate"].(string)))
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.Subject.CommonName != "Nguyễn Thị Hồng Nhung" {
		t.Errorf("subject CN %q", cert.Subject.CommonName)
	}
	if cert.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment {
		t.Errorf("key usage %b, want digitalSignature|nonRepudiation only", cert.KeyUsage)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageEmailProtection {
		t.Errorf("EKU %v, want emailProtection only", cert.ExtKeyUsage)
	}
	docSigning := asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}
	if len(cert.UnknownExtKeyUsage) != 1 || !cert.UnknownExtKeyUsage[0].Equal(docSigning) {
		t.Errorf("custom EKUs %v, want documentSigning %v", cert.UnknownExtKeyUsage, docSigning)
	}
	if cert.IsCA {
		t.Error("signer certificate is a CA")
	}
	pool := x509.NewCertPool()
	pool.AddCert(readCert(t, filepath.Join(certs, vault.RootCAFile)))
	inter := x509.NewCertPool()
	inter.AddCert(readCert(t, filepath.Join(certs, vault.IssuingCAFile)))
	if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
		t.Fatalf("signer certificate does not chain to the exported root: %v", err)
	}
}

// csrTemplatePEM returns a CSR whose subject Transit copies into its own CSR.
func csrTemplatePEM(t *testing.T, cn string) string {
	t.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Country: []string{"VN"}}}, k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
}

// pakndClient logs in with the AppRole credentials bootstrap wrote.
func pakndClient(t *testing.T, v *vaulttest.Server, creds string) *vault.Client {
	t.Helper()
	roleID, _ := os.ReadFile(filepath.Join(creds, vault.RoleIDFile))
	secretID, _ := os.ReadFile(filepath.Join(creds, vault.SecretIDFile))
	c, err := vault.Connect(context.Background(), vault.Config{
		Addr: v.Addr, RoleID: strings.TrimSpace(string(roleID)), SecretID: strings.TrimSpace(string(secretID)),
	}, nil)
	if err != nil {
		t.Fatalf("AppRole login: %v", err)
	}
	return c
}

// TestPakndTokenIsLeastPrivilege: paknd's token can sign with signer keys
// and keep itself alive, and nothing else: it cannot read, export, rotate or
// delete keys, nor change policies, mounts or auth.
func TestPakndTokenIsLeastPrivilege(t *testing.T) {
	v := vaulttest.Start(t)
	_, creds, _ := bootstrap(t, v)
	ctx := context.Background()
	root := v.Root()
	for _, k := range []string{"pakn-signer-a", "pakn-agency-stp-hn", "pakn-pii"} {
		if _, err := root.Logical().WriteWithContext(ctx, "transit/keys/"+k, map[string]any{"type": "ecdsa-p256", "exportable": true}); err != nil {
			t.Fatal(err)
		}
	}
	c := pakndClient(t, v, creds)
	if err := c.Ready(ctx); err != nil {
		t.Fatalf("paknd token not ready: %v", err)
	}
	digest := base64.StdEncoding.EncodeToString(make([]byte, 32))
	pakndMayDo(t, c, digest)

	// What it may not.
	api := c.API()
	denied := forbiddenToPaknd(api, digest)
	for _, d := range denied {
		t.Run(d.name, func(t *testing.T) {
			err := d.do()
			var re *vaultapi.ResponseError
			if !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
				t.Fatalf("want 403 permission denied, got %v", err)
			}
		})
	}
	// The token holds paknd's policy and nothing else: no "default".
	self, err := api.Auth().Token().LookupSelfWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pols, _ := self.TokenPolicies(); len(pols) != 1 || pols[0] != keys.PakndPolicyName {
		t.Errorf("paknd's token has the policies %v, want only %s", pols, keys.PakndPolicyName)
	}
	// The key is still there and still not deletable.
	s, err := root.Logical().ReadWithContext(ctx, "transit/keys/pakn-signer-a")
	if err != nil || s == nil || s.Data["deletion_allowed"] != false {
		t.Fatalf("signer key changed: %v %v", err, s)
	}
}

// forbiddenCall is a Vault call paknd's token must be refused (403).
type forbiddenCall struct {
	name string
	do   func() error
}

// forbiddenToPaknd lists what paknd's token may not do: read, export, back
// up, change or create keys, touch policies, mounts, auth methods, secret
// ids or tokens, issue certificates, or use what Vault's default policy
// would grant.
func forbiddenToPaknd(api *vaultapi.Client, digest string) []forbiddenCall {
	ctx := context.Background()
	logical := func(op, path string, data map[string]any) func() error { return logicalCall(api, op, path, data) }
	return []forbiddenCall{
		{"read transit key", logical("read", "transit/keys/pakn-signer-a", nil)},
		{"list transit keys", logical("list", "transit/keys", nil)},
		{"export signing key", logical("read", "transit/export/signing-key/pakn-signer-a", nil)},
		{"export an agency's key", logical("read", "transit/export/signing-key/pakn-agency-stp-hn", nil)},
		{"rotate an agency's key", logical("write", "transit/keys/pakn-agency-stp-hn/rotate", nil)},
		{"export encryption key", logical("read", "transit/export/encryption-key/pakn-pii", nil)},
		{"backup key", logical("read", "transit/backup/pakn-signer-a", nil)},
		{"read MFA key", logical("read", "transit/keys/"+vault.MFAKey, nil)},
		{"export MFA key", logical("read", "transit/export/encryption-key/"+vault.MFAKey, nil)},
		{"encrypt directly with the PII key", logical("write", "transit/encrypt/"+vault.PIIKey, map[string]any{"plaintext": "eA=="})},
		{"export the PII key", logical("read", "transit/export/encryption-key/"+vault.PIIKey, nil)},
		{"generate a data key with the MFA key", logical("write", "transit/datakey/plaintext/"+vault.MFAKey, nil)},
		{"configure key deletable", logical("write", "transit/keys/pakn-signer-a/config", map[string]any{"deletion_allowed": true})},
		{"delete key", logical("delete", "transit/keys/pakn-signer-a", nil)},
		{"rotate key", logical("write", "transit/keys/pakn-signer-a/rotate", nil)},
		{"create key", logical("write", "transit/keys/pakn-signer-evil", map[string]any{"exportable": true})},
		{"sign with a non-signer key", logical("write", "transit/sign/pakn-pii", map[string]any{"input": digest, "prehashed": true})},
		{"write own policy", func() error {
			return api.Sys().PutPolicyWithContext(ctx, keys.PakndPolicyName, `path "*" { capabilities = ["sudo","create","read","update","delete","list"] }`)
		}},
		{"write new policy", func() error {
			return api.Sys().PutPolicyWithContext(ctx, "evil", `path "*" { capabilities = ["read"] }`)
		}},
		{"read policy", func() error { _, err := api.Sys().GetPolicyWithContext(ctx, keys.PakndPolicyName); return err }},
		{"delete policy", func() error { return api.Sys().DeletePolicyWithContext(ctx, keys.PakndPolicyName) }},
		{"mount engine", func() error { return api.Sys().MountWithContext(ctx, "evil", &vaultapi.MountInput{Type: "transit"}) }},
		{"issue a certificate", logical("write", vault.IssuingMount+"/issue/"+vault.SignerRole, map[string]any{"common_name": "evil"})},
		{"new secret id", logical("write", "auth/approle/role/paknd/secret-id", nil)},
		// What Vault's default policy would grant, had the role not set
		// token_no_default_policy.
		{"use the cubbyhole", logical("write", "cubbyhole/x", map[string]any{"a": "b"})},
		{"read its own capabilities", logical("write", "sys/capabilities-self", map[string]any{"paths": []string{"transit/keys"}})},
		{"wrap a response", logical("write", "sys/wrapping/wrap", map[string]any{"a": "b"})},
		{"hash with Vault's tools", logical("write", "sys/tools/hash", map[string]any{"input": "eA=="})},
		{"enable an auth method", func() error {
			return api.Sys().EnableAuthWithOptionsWithContext(ctx, "evil", &vaultapi.EnableAuthOptions{Type: "userpass"})
		}},
		{"create token", func() error {
			_, err := api.Auth().Token().CreateWithContext(ctx, &vaultapi.TokenCreateRequest{Policies: []string{"root"}})
			return err
		}},
	}
}

// logicalCall is a call of api to a logical path: read, list, write or
// delete.
func logicalCall(api *vaultapi.Client, op, path string, data map[string]any) func() error {
	ctx := context.Background()
	return func() error {
		var err error
		switch op {
		case "read":
			_, err = api.Logical().ReadWithContext(ctx, path)
		case "list":
			_, err = api.Logical().ListWithContext(ctx, path)
		case "write":
			_, err = api.Logical().WriteWithContext(ctx, path, data)
		case "delete":
			_, err = api.Logical().DeleteWithContext(ctx, path)
		}
		return err
	}
}

// pakndMayDo checks what paknd's token may do: sign with a signer key,
// renew itself, seal and open MFA secrets (bound to their owner), and get
// and unwrap data keys of the PII key.
func pakndMayDo(t *testing.T, c *vault.Client, digest string) {
	t.Helper()
	ctx := context.Background()
	api := c.API()
	s, err := api.Logical().WriteWithContext(ctx, "transit/sign/pakn-signer-a", map[string]any{
		"input": digest, "prehashed": true, "hash_algorithm": "sha2-256", "marshaling_algorithm": "asn1",
	})
	if err != nil || s == nil || !strings.HasPrefix(s.Data["signature"].(string), "vault:v1:") {
		t.Fatalf("paknd cannot sign with a signer key: %v", err)
	}
	s, err = api.Logical().WriteWithContext(ctx, "transit/sign/pakn-agency-stp-hn", map[string]any{
		"input": digest, "prehashed": true, "hash_algorithm": "sha2-256", "marshaling_algorithm": "asn1",
	})
	if err != nil || s == nil || !strings.HasPrefix(s.Data["signature"].(string), "vault:v1:") {
		t.Fatalf("paknd cannot sign with an agency's key: %v", err)
	}
	if _, err := api.Auth().Token().RenewSelfWithContext(ctx, 0); err != nil {
		t.Fatalf("paknd cannot renew its token: %v", err)
	}
	box := vault.NewTransitBox(c, vault.MFAKey)
	ct, err := box.Seal(ctx, "account-1", []byte("JBSWY3DPEHPK3PXP"))
	if err != nil {
		t.Fatalf("paknd cannot encrypt with the MFA key: %v", err)
	}
	if pt, err := box.Open(ctx, "account-1", ct); err != nil || string(pt) != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("paknd cannot decrypt with the MFA key: %v", err)
	}
	if _, err := box.Open(ctx, "account-2", ct); err == nil {
		t.Fatal("a ciphertext opened for another owner")
	}
	env := vault.NewEnvelopeBox(c, vault.PIIKey)
	sealed, err := env.Seal(ctx, "petition-1", []byte("Nguyễn Thị Hồng Nhung"))
	if err != nil {
		t.Fatalf("paknd cannot get a data key of the PII key: %v", err)
	}
	fresh := vault.NewEnvelopeBox(c, vault.PIIKey) // no cached data key: must unwrap through Vault
	if pt, err := fresh.Open(ctx, "petition-1", sealed); err != nil || string(pt) != "Nguyễn Thị Hồng Nhung" {
		t.Fatalf("paknd cannot unwrap a PII data key: %v", err)
	}
}

func TestReadyReportsSealedVault(t *testing.T) {
	v := vaulttest.Start(t)
	_, creds, _ := bootstrap(t, v)
	c := pakndClient(t, v, creds)
	ctx := context.Background()
	if err := c.Ready(ctx); err != nil {
		t.Fatal(err)
	}
	if err := v.Root().Sys().SealWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Ready(ctx); err == nil || !strings.Contains(err.Error(), "sealed") {
		t.Fatalf("Ready on a sealed Vault = %v, want sealed", err)
	}
	v.Stop()
	if err := c.Ready(ctx); err == nil || !strings.Contains(err.Error(), "unreachable") {
		t.Fatalf("Ready on a stopped Vault = %v, want unreachable", err)
	}
}

func TestConnectRefusesBadCredentials(t *testing.T) {
	v := vaulttest.Start(t)
	bootstrap(t, v)
	_, err := vault.Connect(context.Background(), vault.Config{Addr: v.Addr, RoleID: "nope", SecretID: "nope"}, nil)
	if err == nil {
		t.Fatal("login with a wrong role id succeeded")
	}
	if strings.Contains(err.Error(), "nope") {
		t.Fatalf("error echoes the credentials: %v", err)
	}
}

// paknd's AppRole secret id has a lifetime and logs in only from the
// configured addresses: from elsewhere (here, loopback outside the bound
// CIDRs) it is refused. A bootstrap run when a third of its life is left
// issues a new one and destroys the old.
func TestAppRoleSecretIDIsBoundAndExpires(t *testing.T) {
	v := vaulttest.Start(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds")
	opts := vault.BootstrapOptions{PolicyName: keys.PakndPolicyName, PolicyHCL: keys.PakndPolicy, CertsDir: filepath.Join(dir, "certs"),
		CredsDir: creds, AuditLogPath: filepath.Join(dir, "vault-audit.log"), BoundCIDRs: []string{"10.1.2.0/24"}, SecretIDTTL: 24 * time.Hour}
	if _, err := vault.Bootstrap(context.Background(), v.Root(), opts); err != nil {
		t.Fatal(err)
	}
	login := func() error {
		roleID, _ := os.ReadFile(filepath.Join(creds, vault.RoleIDFile))
		secretID, _ := os.ReadFile(filepath.Join(creds, vault.SecretIDFile))
		_, err := vault.Connect(context.Background(), vault.Config{Addr: v.Addr, RoleID: strings.TrimSpace(string(roleID)),
			SecretID: strings.TrimSpace(string(secretID))}, nil)
		return err
	}
	if err := login(); err == nil {
		t.Fatal("paknd's credentials logged in from outside their bound addresses")
	}
	// A run that names no addresses keeps the role's.
	opts.BoundCIDRs = nil
	if _, err := vault.Bootstrap(context.Background(), v.Root(), opts); err != nil {
		t.Fatal(err)
	}
	if err := login(); err == nil {
		t.Fatal("a bootstrap run without -paknd-cidrs unbound paknd's credentials")
	}
	role, err := v.Root().Logical().Read("auth/approle/role/" + vault.PakndAppRole)
	if err != nil || role == nil {
		t.Fatal(err)
	}
	if ttl := fmt.Sprint(role.Data["secret_id_ttl"]); ttl != "86400" {
		t.Fatalf("secret id lifetime %s, want 86400 s", ttl)
	}
	// From loopback, once bound there; a secret id with less than a third of
	// its life left is replaced, and the old one logs in no more.
	opts.BoundCIDRs = []string{"127.0.0.1/32"}
	opts.SecretIDTTL = 365 * 24 * time.Hour // the 24 h one has less than a third of that left
	old, _ := os.ReadFile(filepath.Join(creds, vault.SecretIDFile))
	if _, err := vault.Bootstrap(context.Background(), v.Root(), opts); err != nil {
		t.Fatal(err)
	}
	if err := login(); err != nil {
		t.Fatalf("from a bound address: %v", err)
	}
	now, _ := os.ReadFile(filepath.Join(creds, vault.SecretIDFile))
	if string(now) == string(old) {
		t.Fatal("the secret id near its end was not replaced")
	}
	list, err := v.Root().Logical().List("auth/approle/role/" + vault.PakndAppRole + "/secret-id")
	if err != nil || list == nil || len(list.Data["keys"].([]any)) != 1 {
		t.Fatalf("paknd's role holds %v secret ids (%v), want one: the replaced ones destroyed", list, err)
	}
}

// The secret id reaches paknd response-wrapped: the file holds a token
// that unwraps once. Someone who unwraps it first leaves paknd unable to,
// and paknd says so; the next bootstrap hands over a new one and destroys
// the one they took.
func TestWrappedSecretIDUnwrapsOnce(t *testing.T) {
	v := vaulttest.Start(t)
	dir := t.TempDir()
	vaulttest.Bootstrap(t, v, dir)
	creds := filepath.Join(dir, "creds")
	file := filepath.Join(creds, vault.SecretIDFile)
	wrapped, _ := os.ReadFile(file)
	if !vault.IsWrappingToken(strings.TrimSpace(string(wrapped))) {
		t.Fatal("the secret id file does not hold a wrapping token")
	}
	thief, err := v.Client("").Logical().Unwrap(strings.TrimSpace(string(wrapped)))
	if err != nil || thief == nil || thief.Data["secret_id"] == nil {
		t.Fatalf("unwrap: %v %v", thief, err)
	}
	stolen := thief.Data["secret_id"].(string)
	roleID, _ := os.ReadFile(filepath.Join(creds, vault.RoleIDFile))
	cfg := vault.Config{Addr: v.Addr, RoleID: strings.TrimSpace(string(roleID)), SecretIDFile: file}
	if _, err := vault.Connect(context.Background(), cfg, nil); err == nil || !strings.Contains(err.Error(), "does not unwrap") ||
		strings.Contains(err.Error(), stolen) {
		t.Fatalf("paknd with a secret id someone else unwrapped: %v", err)
	}
	vaulttest.Bootstrap(t, v, dir)
	if _, err := vault.Connect(context.Background(), cfg, nil); err != nil {
		t.Fatalf("with the new wrapped secret id: %v", err)
	}
	if _, err := vault.Connect(context.Background(), vault.Config{Addr: v.Addr, RoleID: cfg.RoleID, SecretID: stolen}, nil); err == nil {
		t.Fatal("the stolen secret id still logs in")
	}
}

// Vault answers at most SignRate requests a second on transit/sign/*, even
// to paknd's own credentials: whoever holds them cannot sign in bulk.
func TestSigningIsRateLimitedByVault(t *testing.T) {
	v := vaulttest.Start(t)
	dir := t.TempDir()
	creds := filepath.Join(dir, "creds")
	opts := vault.BootstrapOptions{PolicyName: keys.PakndPolicyName, PolicyHCL: keys.PakndPolicy, CertsDir: filepath.Join(dir, "certs"),
		CredsDir: creds, AuditLogPath: filepath.Join(dir, "vault-audit.log"), SignRate: 3}
	ctx := context.Background()
	if _, err := vault.Bootstrap(ctx, v.Root(), opts); err != nil {
		t.Fatal(err)
	}
	if res, err := vault.Bootstrap(ctx, v.Root(), opts); err != nil || len(res.Steps) != 0 {
		t.Fatalf("a second run changed %v (%v)", res.Steps, err)
	}
	ps, err := vault.ProvisionSigner(ctx, v.Root(), "quota", "ecdsa-p256", pkix.Name{CommonName: "Lê Hoàng Cường"})
	if err != nil {
		t.Fatal(err)
	}
	roleID, _ := os.ReadFile(filepath.Join(creds, vault.RoleIDFile))
	secretID, _ := os.ReadFile(filepath.Join(creds, vault.SecretIDFile))
	vc, err := vault.Connect(ctx, vault.Config{Addr: v.Addr, RoleID: strings.TrimSpace(string(roleID)), SecretID: strings.TrimSpace(string(secretID))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	refused := 0
	for range 10 {
		_, err := vc.API().Logical().Write(vault.TransitMount+"/sign/"+ps.Key+"/sha2-256", map[string]any{"input": "aGVsbG8="})
		var re *vaultapi.ResponseError
		switch {
		case errors.As(err, &re) && re.StatusCode == 429:
			refused++
		case err != nil:
			t.Fatal(err)
		}
	}
	if refused < 5 {
		t.Fatalf("%d of 10 signatures at once refused by a quota of 3 a second", refused)
	}
}
