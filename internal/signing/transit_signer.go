// Package signing holds pakn's signers: a crypto.Signer whose private key is
// a HashiCorp Vault Transit key that never leaves Vault.
package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"pakn/internal/apperr"
)

// TransitSigner signs digests with one version of a Vault Transit key. Its
// public key comes from the signer's certificate (paknd never reads key
// metadata from Vault); every signature Vault returns is verified against
// that certificate before it is used, so a certificate that does not belong
// to the key fails closed.
type TransitSigner struct {
	api     *vaultapi.Client
	mount   string
	key     string
	version int
	cert    *x509.Certificate
	timeout time.Duration
	calls   atomic.Int64
}

// NewTransitSigner returns a signer for version of the Transit key at
// mount/keys/key, whose certificate is cert. Supported keys: ECDSA P-256 and
// P-384, RSA 2048 to 4096 bits.
func NewTransitSigner(api *vaultapi.Client, mount, key string, version int, cert *x509.Certificate, timeout time.Duration) (*TransitSigner, error) {
	if key == "" || version < 1 || cert == nil {
		return nil, errors.New("transit signer: key, version and certificate are required")
	}
	switch pub := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() && pub.Curve != elliptic.P384() {
			return nil, fmt.Errorf("transit signer: ECDSA curve %s not supported", pub.Curve.Params().Name)
		}
	case *rsa.PublicKey:
		if n := pub.N.BitLen(); n < 2048 || n > 4096 {
			return nil, fmt.Errorf("transit signer: RSA-%d not supported (2048 to 4096)", n)
		}
	default:
		return nil, fmt.Errorf("transit signer: %T keys not supported", cert.PublicKey)
	}
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	return &TransitSigner{api: api, mount: mount, key: key, version: version, cert: cert, timeout: timeout}, nil
}

// Public returns the certificate's public key.
func (s *TransitSigner) Public() crypto.PublicKey { return s.cert.PublicKey }

// Certificate returns the signer's certificate.
func (s *TransitSigner) Certificate() *x509.Certificate { return s.cert }

// KeyVersion returns the pinned Transit key version.
func (s *TransitSigner) KeyVersion() int { return s.version }

// Calls returns how many signing requests were sent to Vault.
func (s *TransitSigner) Calls() int64 { return s.calls.Load() }

var hashNames = map[crypto.Hash]string{
	crypto.SHA256: "sha2-256",
	crypto.SHA384: "sha2-384",
	crypto.SHA512: "sha2-512",
}

// Sign signs digest, a hash made with opts.HashFunc(), in one Vault request:
// PKCS #1 v1.5 for RSA (PSS is refused), ASN.1 for ECDSA. rand is unused:
// Vault draws its own randomness.
func (s *TransitSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h := opts.HashFunc()
	name, ok := hashNames[h]
	if !ok {
		return nil, fmt.Errorf("transit signer: hash %v not supported (SHA-256, SHA-384, SHA-512)", h)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("transit signer: digest of %d bytes for %v", len(digest), h)
	}
	body := map[string]any{
		"input":          base64.StdEncoding.EncodeToString(digest),
		"prehashed":      true,
		"hash_algorithm": name,
		"key_version":    s.version,
	}
	_, isRSA := s.cert.PublicKey.(*rsa.PublicKey)
	if isRSA {
		if _, pss := opts.(*rsa.PSSOptions); pss {
			return nil, errors.New("transit signer: RSA-PSS not supported; PKCS #1 v1.5 only")
		}
		body["signature_algorithm"] = "pkcs1v15"
	} else {
		body["marshaling_algorithm"] = "asn1"
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	s.calls.Add(1)
	secret, err := s.api.Logical().WriteWithContext(ctx, s.mount+"/sign/"+s.key, body)
	if err != nil {
		var re *vaultapi.ResponseError
		if errors.As(err, &re) && re.StatusCode >= 400 && re.StatusCode < 500 {
			return nil, apperr.Wrap(err, apperr.Internal, "vault sign", "")
		}
		return nil, apperr.Wrap(err, apperr.Unavailable, "vault sign", "Dịch vụ khóa ký tạm thời không sẵn sàng; hãy thử lại sau. / The signing key service is unavailable; try again later.")
	}
	if secret == nil {
		return nil, errors.New("transit signer: empty answer")
	}
	raw, _ := secret.Data["signature"].(string)
	sig, err := parseSignature(raw, s.version)
	if err != nil {
		return nil, err
	}
	if isRSA {
		err = rsa.VerifyPKCS1v15(s.cert.PublicKey.(*rsa.PublicKey), h, digest, sig)
	} else if !ecdsa.VerifyASN1(s.cert.PublicKey.(*ecdsa.PublicKey), digest, sig) {
		err = errors.New("ECDSA verification failed")
	}
	if err != nil {
		return nil, fmt.Errorf("transit signer: Vault's signature does not verify with the certificate (wrong certificate for key %s v%d?): %w", s.key, s.version, err)
	}
	return sig, nil
}

// parseSignature reads "vault:v<N>:<base64>" and checks the version.
func parseSignature(s string, version int) ([]byte, error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 || parts[0] != "vault" || !strings.HasPrefix(parts[1], "v") {
		return nil, errors.New("transit signer: malformed signature")
	}
	if v, err := strconv.Atoi(parts[1][1:]); err != nil || v != version {
		return nil, fmt.Errorf("transit signer: signature of key version %s, want v%d", parts[1], version)
	}
	sig, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(sig) == 0 {
		return nil, errors.New("transit signer: malformed signature")
	}
	return sig, nil
}
