package vault_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"pakn/internal/apperr"
	"pakn/internal/vault"
	"pakn/internal/vaulttest"
)

var subject = pkix.Name{CommonName: "Lê Hoàng Cường"}

// paknd logs in with the AppRole credentials bootstrap wrote.
func paknd(t *testing.T, v *vaulttest.Server, dir string) *vault.Client {
	t.Helper()
	roleID, _ := os.ReadFile(filepath.Join(dir, "creds", vault.RoleIDFile))
	secretID, _ := os.ReadFile(filepath.Join(dir, "creds", vault.SecretIDFile))
	c, err := vault.Connect(context.Background(), vault.Config{Addr: v.Addr, RoleID: strings.TrimSpace(string(roleID)),
		SecretID: strings.TrimSpace(string(secretID))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProvisionedSignerCertificate(t *testing.T) {
	v, root, dir := vaulttest.Bootstrapped(t)
	p, err := vault.ProvisionSigner(context.Background(), root.API(), "le-hoang-cuong", "ecdsa-p256", subject)
	if err != nil {
		t.Fatal(err)
	}
	c := p.Certificate
	// The full name comes from the CSR; organisation and country from the role.
	if c.Subject.CommonName != "Lê Hoàng Cường" || len(c.Subject.Organization) != 1 || c.Subject.Organization[0] != "pakn" ||
		len(c.Subject.Country) != 1 || c.Subject.Country[0] != "VN" {
		t.Fatalf("subject %v", c.Subject)
	}
	if c.KeyUsage != x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment ||
		len(c.UnknownExtKeyUsage) != 1 || !c.UnknownExtKeyUsage[0].Equal(asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}) {
		t.Fatalf("usages %v %v %v", c.KeyUsage, c.ExtKeyUsage, c.UnknownExtKeyUsage)
	}
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	for pool, f := range map[*x509.CertPool]string{roots: vault.RootCAFile, inter: vault.IssuingCAFile} {
		b, _ := os.ReadFile(filepath.Join(dir, "certs", f))
		pool.AppendCertsFromPEM(b)
	}
	if _, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}); err != nil {
		t.Fatalf("chain: %v", err)
	}
	// Provisioning again keeps the key and issues a certificate for the same version.
	p2, err := vault.ProvisionSigner(context.Background(), root.API(), "le-hoang-cuong", "ecdsa-p256", subject)
	if err != nil || p2.Version != p.Version || p2.Key != p.Key {
		t.Fatalf("re-provision: %+v %v", p2, err)
	}
	if _, err := vault.ProvisionSigner(context.Background(), root.API(), "le-hoang-cuong", "rsa-2048", subject); err == nil {
		t.Fatal("provisioning an existing key with another type succeeded")
	}
	for _, bad := range []struct{ name, typ string }{{"Bad Name", "ecdsa-p256"}, {"ok-name", "ed25519"}} {
		if _, err := vault.ProvisionSigner(context.Background(), root.API(), bad.name, bad.typ, subject); err == nil {
			t.Errorf("provisioned %q %q", bad.name, bad.typ)
		}
	}
	_ = v
}

// signCase is one signature asked of a Transit signer.
type signCase struct {
	name   string
	digest []byte
	opts   crypto.SignerOpts
	ok     bool
	calls  int64 // Vault requests this attempt may make
}

// checkTransitSigner provisions a signer key of keyType and checks what
// its Transit signer signs and refuses, in how many Vault requests, and
// that its key version stays pinned after a rotation.
func checkTransitSigner(t *testing.T, root *vault.Client, api *vaultapi.Client, keyType string) {
	ctx := context.Background()
	p, err := vault.ProvisionSigner(ctx, root.API(), "signer-"+keyType, keyType, subject)
	if err != nil {
		t.Fatal(err)
	}
	s, err := vault.NewTransitSigner(api, vault.TransitMount, p.Key, p.Version, p.Certificate, 0)
	if err != nil {
		t.Fatal(err)
	}
	d256 := sha256.Sum256([]byte("Công văn trả lời phản ánh, kiến nghị"))
	d384 := sha512.Sum384([]byte("x"))
	d1 := sha1.Sum([]byte("x"))
	tests := []signCase{
		{"sha256", d256[:], crypto.SHA256, true, 1},
		{"sha384", d384[:], crypto.SHA384, true, 1},
		{"sha1 refused", d1[:], crypto.SHA1, false, 0},
		{"no hash refused", d256[:], crypto.Hash(0), false, 0},
		{"digest length wrong", d256[:20], crypto.SHA256, false, 0},
	}
	if keyType == "rsa-2048" {
		tests = append(tests, signCase{"pss refused", d256[:], &rsa.PSSOptions{Hash: crypto.SHA256}, false, 0})
	}
	for _, tt := range tests {
		before := s.Calls()
		sig, err := s.Sign(nil, tt.digest, tt.opts)
		if (err == nil) != tt.ok {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := s.Calls() - before; got != tt.calls {
			t.Fatalf("%s: %d Vault calls, want %d", tt.name, got, tt.calls)
		}
		if !tt.ok {
			continue
		}
		switch pub := s.Public().(type) {
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, tt.digest, sig) {
				t.Fatalf("%s: signature does not verify", tt.name)
			}
		case *rsa.PublicKey:
			if err := rsa.VerifyPKCS1v15(pub, tt.opts.HashFunc(), tt.digest, sig); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
		}
	}

	// The key version is pinned: after a rotation, v1 still signs as v1.
	if _, err := root.API().Logical().WriteWithContext(ctx, "transit/keys/"+p.Key+"/rotate", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Sign(nil, d256[:], crypto.SHA256); err != nil {
		t.Fatalf("pinned version after rotation: %v", err)
	}
}

func TestTransitSigner(t *testing.T) {
	v, root, dir := vaulttest.Bootstrapped(t)
	ctx := context.Background()
	api := paknd(t, v, dir).API()
	for _, keyType := range []string{"ecdsa-p256", "rsa-2048"} {
		t.Run(keyType, func(t *testing.T) { checkTransitSigner(t, root, api, keyType) })
	}

	// A certificate of another key fails closed.
	a, err := vault.ProvisionSigner(ctx, root.API(), "alpha", "ecdsa-p256", subject)
	if err != nil {
		t.Fatal(err)
	}
	b, err := vault.ProvisionSigner(ctx, root.API(), "beta", "ecdsa-p256", subject)
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := vault.NewTransitSigner(api, vault.TransitMount, a.Key, a.Version, b.Certificate, 0)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	if _, err := wrong.Sign(nil, d[:], crypto.SHA256); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("signed with a certificate of another key: %v", err)
	}
	// paknd's token can neither export nor read a signer key, nor make it exportable.
	for _, try := range []func() error{
		func() error { _, err := api.Logical().Read("transit/export/signing-key/" + a.Key); return err },
		func() error { _, err := api.Logical().Read("transit/keys/" + a.Key); return err },
		func() error {
			_, err := api.Logical().Write("transit/keys/"+a.Key+"/config", map[string]any{"exportable": true})
			return err
		},
		func() error { _, err := api.Logical().Read("transit/backup/" + a.Key); return err },
	} {
		var re *vaultapi.ResponseError
		if err := try(); !errors.As(err, &re) || re.StatusCode != 403 {
			t.Fatalf("paknd reached signer key material: %v", err)
		}
	}
	// paknd may not sign with keys that are not signer keys.
	other, _ := vault.NewTransitSigner(api, vault.TransitMount, vault.MFAKey, 1, a.Certificate, 0)
	if _, err := other.Sign(nil, d[:], crypto.SHA256); err == nil {
		t.Fatal("signed with the MFA key")
	}
	// A sealed Vault is unavailability, with a clear message.
	good, _ := vault.NewTransitSigner(api, vault.TransitMount, a.Key, a.Version, a.Certificate, 0)
	if err := root.API().Sys().SealWithContext(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := good.Sign(nil, d[:], crypto.SHA256); apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("sign with a sealed Vault: %v (%s)", err, apperr.CodeOf(err))
	}
}

// A Vault that accepts connections and never answers: the signer's
// timeout turns it into unavailability.
func TestSlowVaultTimesOut(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	api, err := vault.NewAPI("http://"+ln.Addr().String(), "token", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	api.SetMaxRetries(0)
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: subject, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	s, err := vault.NewTransitSigner(api, vault.TransitMount, "pakn-signer-x", 1, c, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	start := time.Now()
	_, err = s.Sign(nil, d[:], crypto.SHA256)
	if apperr.CodeOf(err) != apperr.Unavailable {
		t.Fatalf("slow Vault: %v (%s), want unavailable", err, apperr.CodeOf(err))
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Fatalf("the timeout did not hold: waited %s", waited)
	}
}

func TestNewTransitSignerRefusesUnsupportedKeys(t *testing.T) {
	b, _ := pem.Decode([]byte(ed25519Cert))
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := vault.NewTransitSigner(nil, "transit", "k", 1, c, 0); err == nil {
		t.Fatal("accepted an Ed25519 certificate")
	}
	if _, err := vault.NewTransitSigner(nil, "transit", "k", 0, c, 0); err == nil {
		t.Fatal("accepted version 0")
	}
}

// ed25519Cert is a self-signed Ed25519 certificate (RFC 8410 test vector shape).
const ed25519Cert = `-----BEGIN CERTIFICATE-----
MIIBLDCB36ADAgECAghWAUdKKo3DMDAFBgMrZXAwGTEXMBUGA1UEAwwOSUVURiBUZXN0IERlbW8wHhcNMTYwODAxMTIxOTI0WhcNNDAxMjMxMjM1OTU5WjAZMRcwFQYDVQQDDA5JRVRGIFRlc3QgRGVtbzAqMAUGAytlbgMhAIUg8AmJMKdUdIt93LQ+91oNvzoNJjga9OukqY6qm05qo0UwQzAPBgNVHRMBAf8EBTADAQEAMA4GA1UdDwEBAAQEAwIDCDAgBgNVHQ4BAQAEFgQUmx9e7e0EM4Xk97xiPFl1uQvIuzswBQYDK2VwA0EAryMB/t3J5v/BzKc9dNZIpDmAgs3babFOTQbs+BolzlDUwsPrdGxO3YNGhW7Ibz3OGhhlxXrCe1Cgw1AH9efZBw==
-----END CERTIFICATE-----`

// Concurrent signatures of the time-stamping authority's key go to Vault
// together: fewer requests than signatures, each signature valid.
func TestBatchSignerGroupsConcurrentSignatures(t *testing.T) {
	_, root, dir := vaulttest.Bootstrapped(t)
	tc, err := vault.ReadTSACert(filepath.Join(dir, "certs", vault.TSACertFile))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := vault.NewTransitSigner(root.API(), vault.TransitMount, vault.TSAKey, tc.Version, tc.Chain[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := vault.NewBatchSigner(ts)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	const n = 200
	for i := range n {
		wg.Go(func() {
			digest := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
			sig, err := b.Sign(nil, digest[:], crypto.SHA256)
			if err != nil || !ecdsa.VerifyASN1(tc.Chain[0].PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
				t.Errorf("signature %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if got := b.Batches(); got >= n || got < 1 {
		t.Fatalf("%d Vault requests for %d concurrent signatures", got, n)
	}
	if _, err := b.Sign(nil, make([]byte, 48), crypto.SHA384); err == nil {
		t.Fatal("a SHA-384 digest was accepted")
	}
}
