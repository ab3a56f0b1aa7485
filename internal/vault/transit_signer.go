package vault

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	vaultapi "github.com/hashicorp/vault/api"

	"pakn/internal/apperr"
	"pakn/internal/msg"
)

// TransitSigner is a crypto.Signer whose private key is one version of a
// Vault Transit key that never leaves Vault. Its public key comes from the
// signer's certificate (paknd never reads key metadata from Vault). Before
// a key version is used with a certificate, a signature Vault returns for
// them is verified against that certificate (at start-up for the active
// signers, see Client.CheckSigner; else at the first signature), so a
// certificate that does not belong to the key fails closed; once matched (a
// key version's key material never changes), the pair is remembered by the
// Client and later signatures are not verified again, which keeps a
// signature to one Vault call and little else.
type TransitSigner struct {
	api     *vaultapi.Client
	http    *http.Client
	mount   string
	key     string
	version int
	cert    *x509.Certificate
	timeout time.Duration
	calls   atomic.Int64
	match   matchKey // this key version with this certificate
	proven  *pairs   // the pairs known to match, shared with the Client
}

// NewTransitSigner returns a signer for version of the Transit key at
// mount/keys/key, whose certificate is cert, that remembers its own match
// (Client.SignerKey gives signers that share the Client's). Supported
// keys: ECDSA P-256 and P-384, RSA 2048 to 4096 bits.
func NewTransitSigner(api *vaultapi.Client, mount, key string, version int, cert *x509.Certificate, timeout time.Duration) (*TransitSigner, error) {
	return newTransitSigner(api, mount, key, version, cert, timeout, &pairs{})
}

func newTransitSigner(api *vaultapi.Client, mount, key string, version int, cert *x509.Certificate, timeout time.Duration, proven *pairs) (*TransitSigner, error) {
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
	hc := api.CloneConfig().HttpClient
	if hc == nil {
		hc = http.DefaultClient
	}
	return &TransitSigner{api: api, http: hc, mount: mount, key: key, version: version, cert: cert, timeout: timeout,
		match: matchKey{mount + "/" + key, version, sha256.Sum256(cert.Raw)}, proven: proven}, nil
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
	req := signRequest{Input: base64.StdEncoding.EncodeToString(digest), Prehashed: true, HashAlgorithm: name, KeyVersion: s.version}
	_, isRSA := s.cert.PublicKey.(*rsa.PublicKey)
	if isRSA {
		if _, pss := opts.(*rsa.PSSOptions); pss {
			return nil, errors.New("transit signer: RSA-PSS not supported; PKCS #1 v1.5 only")
		}
		req.SignatureAlgorithm = "pkcs1v15"
	} else {
		req.MarshalingAlgorithm = "asn1"
	}
	s.calls.Add(1)
	raw, err := s.post(req)
	if err != nil {
		return nil, err
	}
	sig, err := parseSignature(raw, s.version)
	if err != nil {
		return nil, err
	}
	if err := s.prove(h, digest, sig); err != nil {
		return nil, err
	}
	return sig, nil
}

// prove checks a signature Vault returned against the certificate until
// this key version and certificate are known to belong together, then
// remembers that they do.
func (s *TransitSigner) prove(h crypto.Hash, digest, sig []byte) error {
	if s.proven.has(s.match) {
		return nil
	}
	var err error
	switch pub := s.cert.PublicKey.(type) {
	case *rsa.PublicKey:
		err = rsa.VerifyPKCS1v15(pub, h, digest, sig)
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			err = errors.New("ECDSA verification failed")
		}
	}
	if err != nil {
		return fmt.Errorf("transit signer: Vault's signature does not verify with the certificate (wrong certificate for key %s v%d?): %w", s.key, s.version, err)
	}
	s.proven.add(s.match)
	return nil
}

// matchKey names a Transit key version and a certificate found to carry its
// public key.
type matchKey struct {
	key     string
	version int
	cert    [32]byte
}

// pairs holds the key versions and certificates proven to belong together.
type pairs struct {
	mu sync.Mutex
	m  map[matchKey]bool
}

func (p *pairs) has(k matchKey) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.m[k]
}

func (p *pairs) add(k matchKey) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = map[matchKey]bool{}
	}
	p.m[k] = true
}

// signRequest is the body of transit/sign/:name.
type signRequest struct {
	Input               string `json:"input"`
	Prehashed           bool   `json:"prehashed"`
	HashAlgorithm       string `json:"hash_algorithm"`
	KeyVersion          int    `json:"key_version"`
	SignatureAlgorithm  string `json:"signature_algorithm,omitempty"`
	MarshalingAlgorithm string `json:"marshaling_algorithm,omitempty"`
}

// post sends one sign request and returns the signature string.
func (s *TransitSigner) post(req signRequest) (string, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	raw, err := s.postJSON(body, 64<<10)
	if err != nil {
		return "", err
	}
	var out struct {
		Data struct {
			Signature string `json:"signature"`
		} `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", apperr.Wrap(fmt.Errorf("vault answer: %w", err), apperr.Unavailable, "vault sign", msg.SigningKeyUnavailable)
	}
	return out.Data.Signature, nil
}

// postJSON sends a sign request's body straight over the Vault client's
// HTTP connection pool (the api package's request machinery would add its
// retries, which a signature must not have, and measurable overhead) and
// returns the answer's body (at most limit bytes) when Vault says 200.
func (s *TransitSigner) postJSON(body []byte, limit int) ([]byte, error) {
	unavailable := func(err error) error {
		return apperr.Wrap(err, apperr.Unavailable, "vault sign", msg.SigningKeyUnavailable)
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, s.api.Address()+"/v1/"+s.mount+"/sign/"+s.key, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("X-Vault-Request", "true")
	hr.Header.Set("X-Vault-Token", s.api.Token())
	if ns := s.api.Namespace(); ns != "" {
		hr.Header.Set("X-Vault-Namespace", ns)
	}
	resp, err := s.http.Do(hr)
	if err != nil {
		return nil, unavailable(err)
	}
	defer resp.Body.Close()
	raw, rerr := io.ReadAll(io.LimitReader(resp.Body, int64(limit)))
	var out struct {
		Errors []string `json:"errors"`
	}
	if resp.StatusCode != http.StatusOK {
		_ = json.Unmarshal(raw, &out)
	}
	switch {
	case resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests:
		return nil, unavailable(fmt.Errorf("vault answered %d: %s", resp.StatusCode, strings.Join(out.Errors, "; ")))
	case resp.StatusCode != http.StatusOK:
		return nil, apperr.Wrap(fmt.Errorf("vault answered %d: %s", resp.StatusCode, strings.Join(out.Errors, "; ")), apperr.Internal, "vault sign", msg.InternalError)
	case rerr != nil:
		return nil, unavailable(fmt.Errorf("vault answer: %w", rerr))
	}
	return raw, nil
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
