package vault

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"
)

// SignerKeyPrefix starts the name of every signer's Transit key; paknd's
// policy may sign only with keys of that name.
const SignerKeyPrefix = "pakn-signer-"

// SignerKeyTypes are the Transit key types a signer may have.
var SignerKeyTypes = map[string]bool{"ecdsa-p256": true, "rsa-2048": true}

var signerName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,47}$`)

// ProvisionedSigner is a signer's key version and its certificate chain.
type ProvisionedSigner struct {
	Key         string // Transit key name
	Version     int
	Certificate *x509.Certificate
	ChainPEM    string // the certificate, then the issuing CA
}

// ProvisionSigner gives a signer a Transit key (created when missing: not
// exportable, not deletable) and a certificate for its latest version: a
// CSR from Transit whose common name is the signer's full name (Vietnamese
// letters included), signed by the issuing CA's official-signer role (which
// adds the organisation and country), set back on the key. It runs with an
// operator's token.
func ProvisionSigner(ctx context.Context, admin *vaultapi.Client, name, keyType string, subject pkix.Name) (*ProvisionedSigner, error) {
	if !signerName.MatchString(name) {
		return nil, fmt.Errorf("signer name %q: 2 to 48 lower-case letters, digits or dashes", name)
	}
	if strings.TrimSpace(subject.CommonName) == "" {
		return nil, errors.New("the certificate needs the signer's full name")
	}
	return provisionKey(ctx, admin, SignerKeyPrefix+name, keyType, subject)
}

// ProvisionAgencyKey gives an agency its service key, the Transit key
// AgencyKeyPrefix + the lower-case code (created when missing: not
// exportable, not deletable), and a certificate for its latest version from the same
// role, whose common name is the agency's name: what the agency signs its
// petition receipts with. It runs with an operator's token.
func ProvisionAgencyKey(ctx context.Context, admin *vaultapi.Client, code, keyType, agencyName string) (*ProvisionedSigner, error) {
	if !agencyCode.MatchString(code) {
		return nil, fmt.Errorf("agency code %q: 2 to 32 capital letters, digits or dashes", code)
	}
	if strings.TrimSpace(agencyName) == "" {
		return nil, errors.New("the certificate needs the agency's name")
	}
	return provisionKey(ctx, admin, AgencyKeyPrefix+strings.ToLower(code), keyType, pkix.Name{CommonName: agencyName})
}

// AgencyKeyPrefix starts the name of every agency's service key; paknd's
// policy may sign with keys of that name.
const AgencyKeyPrefix = "pakn-agency-"

var agencyCode = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)

// provisionKey creates the Transit key key when missing and certifies its
// latest version for subject.
func provisionKey(ctx context.Context, admin *vaultapi.Client, key, keyType string, subject pkix.Name) (*ProvisionedSigner, error) {
	if !SignerKeyTypes[keyType] {
		return nil, fmt.Errorf("key type %q: use ecdsa-p256 or rsa-2048", keyType)
	}
	path := TransitMount + "/keys/" + key
	s, _, err := ensureTransitKey(ctx, admin, path, keyType)
	if err != nil {
		return nil, err
	}
	version, err := latestVersion(s)
	if err != nil {
		return nil, err
	}
	// Transit copies the subject of a template CSR into the CSR it signs with the key.
	tk, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: subject}, tk)
	if err != nil {
		return nil, err
	}
	s, err = admin.Logical().WriteWithContext(ctx, path+"/csr", map[string]any{
		"version": version,
		"csr":     string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: tmpl})),
	})
	if err != nil {
		return nil, fmt.Errorf("csr: %w", redact(err))
	}
	csr, _ := s.Data["csr"].(string)
	s, err = admin.Logical().WriteWithContext(ctx, IssuingMount+"/sign/"+SignerRole, map[string]any{"csr": csr, "format": "pem",
		"exclude_cn_from_sans": true})
	if err != nil {
		return nil, fmt.Errorf("issue certificate: %w", redact(err))
	}
	certPEM, _ := s.Data["certificate"].(string)
	issuer, _ := s.Data["issuing_ca"].(string)
	chain := strings.TrimSpace(certPEM) + "\n" + strings.TrimSpace(issuer) + "\n"
	if _, err := admin.Logical().WriteWithContext(ctx, path+"/set-certificate", map[string]any{
		"version": version, "certificate_chain": chain,
	}); err != nil {
		return nil, fmt.Errorf("set certificate: %w", redact(err))
	}
	blk, _ := pem.Decode([]byte(certPEM))
	if blk == nil {
		return nil, errors.New("issued certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, err
	}
	if err := matchesKey(ctx, admin, path, version, cert); err != nil {
		return nil, err
	}
	return &ProvisionedSigner{Key: key, Version: version, Certificate: cert, ChainPEM: chain}, nil
}

// ensureTransitKey reads the Transit key at path, creating it (of
// keyType, not exportable) when it is missing, and says whether it did; a
// key of another type is an error.
func ensureTransitKey(ctx context.Context, admin *vaultapi.Client, path, keyType string) (*vaultapi.Secret, bool, error) {
	s, err := admin.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, false, fmt.Errorf("read key %s: %w", path, redact(err))
	}
	if s != nil {
		if t, _ := s.Data["type"].(string); t != keyType {
			return nil, false, fmt.Errorf("key %s exists with type %s, not %s", path, t, keyType)
		}
		return s, false, nil
	}
	if _, err := admin.Logical().WriteWithContext(ctx, path, map[string]any{"type": keyType, "exportable": false}); err != nil {
		return nil, false, fmt.Errorf("create key %s: %w", path, redact(err))
	}
	if s, err = admin.Logical().ReadWithContext(ctx, path); err != nil || s == nil {
		return nil, false, fmt.Errorf("read key %s: %w", path, redact(err))
	}
	return s, true, nil
}

func latestVersion(s *vaultapi.Secret) (int, error) {
	return intField(s, "latest_version")
}

// intField reads a number of a Vault answer.
func intField(s *vaultapi.Secret, name string) (int, error) {
	switch v := s.Data[name].(type) {
	case float64:
		return int(v), nil
	case interface{ Int64() (int64, error) }:
		n, err := v.Int64()
		return int(n), err
	}
	return 0, errors.New("transit key without " + name)
}

// matchesKey checks that cert carries the public key of the Transit key's
// version (read with the operator's token; paknd cannot read key metadata).
func matchesKey(ctx context.Context, admin *vaultapi.Client, path string, version int, cert *x509.Certificate) error {
	pub, err := publicKeyOf(ctx, admin, path, version)
	if err != nil {
		return err
	}
	if eq, ok := pub.(interface{ Equal(crypto.PublicKey) bool }); !ok || !eq.Equal(cert.PublicKey) {
		return fmt.Errorf("the certificate does not carry the public key of %s v%d", path, version)
	}
	return nil
}

// RotateSigner adds a new version to a signer's Transit key and gives it
// its own certificate (earlier versions keep theirs, for verifying what
// they signed); from then on Vault signs with no earlier version (the
// key's minimum version is the new one).
func RotateSigner(ctx context.Context, admin *vaultapi.Client, name, keyType string, subject pkix.Name) (*ProvisionedSigner, error) {
	if !signerName.MatchString(name) {
		return nil, fmt.Errorf("signer name %q: 2 to 48 lower-case letters, digits or dashes", name)
	}
	if _, err := admin.Logical().WriteWithContext(ctx, TransitMount+"/keys/"+SignerKeyPrefix+name+"/rotate", nil); err != nil {
		return nil, fmt.Errorf("rotate: %w", redact(err))
	}
	ps, err := ProvisionSigner(ctx, admin, name, keyType, subject)
	if err != nil {
		return nil, err
	}
	if err := setMinVersion(ctx, admin, name, ps.Version); err != nil {
		return nil, err
	}
	return ps, nil
}

// RetireSignerVersion makes Vault refuse to sign with a signer key's
// version and every earlier one: the key's minimum version is raised above
// it, the key rotated first when it is the latest (that new version has no
// certificate: nothing signs until a signer is provisioned again).
func RetireSignerVersion(ctx context.Context, admin *vaultapi.Client, name string, version int) error {
	path := TransitMount + "/keys/" + SignerKeyPrefix + name
	s, err := admin.Logical().ReadWithContext(ctx, path)
	if err != nil || s == nil {
		return fmt.Errorf("read key %s: %w", SignerKeyPrefix+name, redact(err))
	}
	latest, err := latestVersion(s)
	if err != nil {
		return err
	}
	if latest <= version {
		if _, err := admin.Logical().WriteWithContext(ctx, path+"/rotate", nil); err != nil {
			return fmt.Errorf("rotate: %w", redact(err))
		}
	}
	if min, _ := intField(s, "min_encryption_version"); min > version {
		return nil // already above it
	}
	return setMinVersion(ctx, admin, name, version+1)
}

// setMinVersion sets the oldest version of a signer key Vault signs with.
func setMinVersion(ctx context.Context, admin *vaultapi.Client, name string, version int) error {
	if _, err := admin.Logical().WriteWithContext(ctx, TransitMount+"/keys/"+SignerKeyPrefix+name+"/config",
		map[string]any{"min_encryption_version": version}); err != nil {
		return fmt.Errorf("raise the minimum version of %s: %w", SignerKeyPrefix+name, redact(err))
	}
	return nil
}

// RevokeCertificate revokes a certificate of the issuing CA by serial
// number ("aa:bb:..."), which puts it on the CRL.
func RevokeCertificate(ctx context.Context, admin *vaultapi.Client, serial string) error {
	if _, err := admin.Logical().WriteWithContext(ctx, IssuingMount+"/revoke", map[string]any{"serial_number": serial}); err != nil {
		return fmt.Errorf("revoke certificate %s: %w", serial, redact(err))
	}
	return nil
}
