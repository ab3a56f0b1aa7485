package vault

import (
	"context"
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
	if !SignerKeyTypes[keyType] {
		return nil, fmt.Errorf("key type %q: use ecdsa-p256 or rsa-2048", keyType)
	}
	if strings.TrimSpace(subject.CommonName) == "" {
		return nil, errors.New("the certificate needs the signer's full name")
	}
	key := SignerKeyPrefix + name
	path := TransitMount + "/keys/" + key
	s, err := admin.Logical().ReadWithContext(ctx, path)
	if err != nil {
		return nil, redact(err)
	}
	if s == nil {
		if _, err := admin.Logical().WriteWithContext(ctx, path, map[string]any{"type": keyType, "exportable": false}); err != nil {
			return nil, fmt.Errorf("create key: %w", redact(err))
		}
		if s, err = admin.Logical().ReadWithContext(ctx, path); err != nil || s == nil {
			return nil, fmt.Errorf("read key: %w", redact(err))
		}
	} else if t, _ := s.Data["type"].(string); t != keyType {
		return nil, fmt.Errorf("key %s exists with type %s, not %s", key, t, keyType)
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
	s, err = admin.Logical().WriteWithContext(ctx, IssuingMount+"/sign/"+SignerRole, map[string]any{"csr": csr, "format": "pem"})
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
	return &ProvisionedSigner{Key: key, Version: version, Certificate: cert, ChainPEM: chain}, nil
}

func latestVersion(s *vaultapi.Secret) (int, error) {
	switch v := s.Data["latest_version"].(type) {
	case float64:
		return int(v), nil
	case interface{ Int64() (int64, error) }:
		n, err := v.Int64()
		return int(n), err
	}
	return 0, errors.New("transit key without latest_version")
}
