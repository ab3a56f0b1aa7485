package vault

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"pakn/internal/tsa"
	"pakn/internal/verify"

	vaultapi "github.com/hashicorp/vault/api"
)

// TSAKey is the Transit key of pakn's time-stamping authority (ECDSA
// P-256, not exportable, not deletable); paknd's policy may sign with it.
const TSAKey = "pakn-tsa"

// TSACertFile is where Bootstrap writes the authority's certificate chain,
// relative to the certs folder: the certificate (whose PEM headers name
// the Transit key and its version), then the issuing CA. It is public.
const TSACertFile = "tsa/pakn-tsa.pem"

// TSACertTTL is how long a TSA certificate lives (cut to end a day before
// the issuing CA does); Bootstrap renews it, on a new key version, when a
// third of it is left.
const TSACertTTL = 2 * 365 * 24 * time.Hour

// TSACert is the authority's key version and certificate chain, as read
// from TSACertFile.
type TSACert struct {
	Version int
	Chain   []*x509.Certificate // the TSA's certificate, then the issuing CA
}

// ReadTSACert reads the chain Bootstrap wrote to path.
func ReadTSACert(path string) (*TSACert, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	tc := &TSACert{}
	for len(b) > 0 {
		var blk *pem.Block
		if blk, b = pem.Decode(b); blk == nil {
			break
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(tc.Chain) == 0 {
			if blk.Headers["Transit-Key"] != TSAKey {
				return nil, fmt.Errorf("%s: the first certificate does not name the Transit key %s", path, TSAKey)
			}
			if tc.Version, err = strconv.Atoi(blk.Headers["Key-Version"]); err != nil || tc.Version < 1 {
				return nil, fmt.Errorf("%s: no key version", path)
			}
		}
		tc.Chain = append(tc.Chain, c)
	}
	if len(tc.Chain) < 2 {
		return nil, fmt.Errorf("%s: the certificate and its issuing CA are required", path)
	}
	return tc, nil
}

// tsaKey gives pakn's time-stamping authority its Transit key and a
// certificate from the issuing CA whose only extended key usage is
// timeStamping, marked critical (RFC 3161, 2.3). Vault's roles cannot mark
// it critical, so the CSR carries the extension, signed by the Transit key
// itself, and the issuing CA signs it verbatim.
func (b *bootstrapper) tsaKey(ctx context.Context) error {
	path := TransitMount + "/keys/" + TSAKey
	s, created, err := ensureTransitKey(ctx, b.api, path, "ecdsa-p256")
	if err != nil {
		return err
	}
	if created {
		b.did("created Transit signing key %s", TSAKey)
	}
	version, err := latestVersion(s)
	if err != nil {
		return err
	}
	file := filepath.Join(b.o.CertsDir, TSACertFile)
	if cur, err := ReadTSACert(file); err == nil && cur.Version == version && time.Until(cur.Chain[0].NotAfter) > TSACertTTL/3 &&
		matchesKey(ctx, b.api, path, version, cur.Chain[0]) == nil && b.issuedByCurrentCA(ctx, cur.Chain[0]) {
		return nil
	} else if err == nil && cur.Version == version {
		// Renew on a new key version: a version signs under one certificate.
		if _, err := b.api.Logical().WriteWithContext(ctx, path+"/rotate", nil); err != nil {
			return fmt.Errorf("rotate key %s: %w", TSAKey, redact(err))
		}
		if s, err = b.api.Logical().ReadWithContext(ctx, path); err != nil || s == nil {
			return fmt.Errorf("read key %s: %w", TSAKey, redact(err))
		}
		if version, err = latestVersion(s); err != nil {
			return err
		}
	}
	return b.certifyTSA(ctx, path, version, file)
}

// issuedByCurrentCA reports whether c was issued by the issuing CA's
// current certificate (after pakn ca rotate, the TSA is certified again).
func (b *bootstrapper) issuedByCurrentCA(ctx context.Context, c *x509.Certificate) bool {
	ca, err := b.issuingCACert(ctx)
	return err == nil && c.CheckSignatureFrom(ca) == nil
}

// issuingCACert is the issuing mount's current (default) CA certificate.
func (b *bootstrapper) issuingCACert(ctx context.Context) (*x509.Certificate, error) {
	caPEM, err := b.caPEM(ctx, IssuingMount)
	if err != nil {
		return nil, err
	}
	blk, _ := pem.Decode([]byte(caPEM))
	if blk == nil {
		return nil, errors.New("the issuing CA has no certificate")
	}
	return x509.ParseCertificate(blk.Bytes)
}

// certifyTSA issues the certificate of version of the TSA key and writes
// the chain to file.
func (b *bootstrapper) certifyTSA(ctx context.Context, path string, version int, file string) error {
	pub, err := publicKeyOf(ctx, b.api, path, version)
	if err != nil {
		return err
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	signer, err := NewTransitSigner(b.api, TransitMount, TSAKey, version, &x509.Certificate{PublicKey: pub, Raw: der}, 30*time.Second)
	if err != nil {
		return err
	}
	eku, _ := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	ku, _ := asn1.Marshal(asn1.BitString{Bytes: []byte{0x80}, BitLength: 1}) // digitalSignature
	csr, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: b.o.OrgName + " Time-Stamping Authority", Organization: []string{b.o.OrgName}, Country: []string{"VN"}},
		ExtraExtensions: []pkix.Extension{
			{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku},
			{Id: asn1.ObjectIdentifier{2, 5, 29, 15}, Critical: true, Value: ku},
		}}, signer)
	if err != nil {
		return fmt.Errorf("TSA certificate request: %w", err)
	}
	ca, err := b.issuingCACert(ctx)
	if err != nil {
		return err
	}
	ttl := min(TSACertTTL, time.Until(ca.NotAfter)-24*time.Hour)
	s, err := b.api.Logical().WriteWithContext(ctx, IssuingMount+"/sign-verbatim", map[string]any{
		"csr": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})), "ttl": fmt.Sprintf("%dh", int(ttl.Hours())),
		"key_usage": []string{"DigitalSignature"}, "ext_key_usage": []string{"TimeStamping"}, "format": "pem"})
	if err != nil {
		return fmt.Errorf("issue the TSA certificate: %w", redact(err))
	}
	certPEM, _ := s.Data["certificate"].(string)
	cblk, _ := pem.Decode([]byte(certPEM))
	if cblk == nil {
		return errors.New("the TSA certificate is not PEM")
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cblk.Bytes,
		Headers: map[string]string{"Transit-Key": TSAKey, "Key-Version": strconv.Itoa(version)}})
	out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Raw})...)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(file+".tmp", out, 0o644); err != nil {
		return err
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		return err
	}
	sum := sha256.Sum256(cblk.Bytes)
	b.did("certified the time-stamping authority's key %s v%d (certificate %x…), written to %s", TSAKey, version, sum[:6], file)
	return nil
}

// publicKeyOf reads the public key of version of the Transit key at path.
func publicKeyOf(ctx context.Context, admin *vaultapi.Client, path string, version int) (crypto.PublicKey, error) {
	s, err := admin.Logical().ReadWithContext(ctx, path)
	if err != nil || s == nil {
		return nil, fmt.Errorf("read key: %w", redact(err))
	}
	keys, _ := s.Data["keys"].(map[string]any)
	v, _ := keys[strconv.Itoa(version)].(map[string]any)
	pubPEM, _ := v["public_key"].(string)
	blk, _ := pem.Decode([]byte(pubPEM))
	if blk == nil {
		return nil, fmt.Errorf("key %s v%d has no public key", path, version)
	}
	return x509.ParsePKIXPublicKey(blk.Bytes)
}

// TimeStamping returns pakn's time-stamping authority, signing through
// Vault with the TSA key version and certificate chain read from certFile
// (what Bootstrap wrote), under policy (tsa.Issuance(nil) when empty),
// telling the time from now (time.Now when nil). Tokens asked for at once
// are signed in one Vault request (BatchSigner). The certificate is proven
// to match the key at the first token.
func (c *Client) TimeStamping(certFile string, policy asn1.ObjectIdentifier, now func() time.Time) (*tsa.Authority, error) {
	tc, err := ReadTSACert(certFile)
	if err != nil {
		return nil, fmt.Errorf("time-stamping authority: %w (run pakn bootstrap)", err)
	}
	key, err := newTransitSigner(c.api, TransitMount, TSAKey, tc.Version, tc.Chain[0], c.cfg.Timeout, &c.proven)
	if err != nil {
		return nil, err
	}
	batched, err := NewBatchSigner(key)
	if err != nil {
		return nil, err
	}
	return tsa.New(batched, tc.Chain, policy, now)
}

// ValidationCRLs returns what gives the current DER revocation lists of
// every issuing CA (the current one and those it replaced) and of the
// root, each fetched from Vault at most every ttl (five minutes when zero),
// to embed in signed documents; signing also refuses a certificate they
// list.
func (c *Client) ValidationCRLs(ttl time.Duration) func(ctx context.Context) ([][]byte, error) {
	issuing, root := c.IssuerCRLs(ttl), &verify.CachedCRL{Fetch: c.RootCRL, TTL: ttl}
	return func(ctx context.Context) ([][]byte, error) {
		lists, err := issuing.CRLs(ctx)
		if err != nil {
			return nil, err
		}
		r, err := root.CRL(ctx)
		if err != nil {
			return nil, err
		}
		out := make([][]byte, 0, len(lists)+1)
		for _, l := range append(lists, r) {
			out = append(out, l.Raw)
		}
		return out, nil
	}
}
