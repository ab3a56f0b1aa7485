// Package tsa is pakn's own time-stamping authority (RFC 3161): it answers
// time-stamp requests with tokens signed by a crypto.Signer (in production
// a non-exportable Vault Transit key, see internal/vault) whose
// certificate, issued by pakn's issuing CA, carries the timeStamping
// extended key usage alone, marked critical. It serves paknd's signing in
// process and, when enabled, other agencies at POST /api/v1/tsa. It knows
// nothing of HTTP or Vault.
package tsa

import (
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/digitorus/timestamp"
)

// MaxRequest bounds a time-stamp request's size: a request is a hash, a
// policy, a nonce and flags, well under 1 KB.
const MaxRequest = 4 << 10

// DefaultPolicy is the arc of pakn's time-stamping policies when none is
// configured: under IANA's enterprise number for documentation (32473,
// RFC 5612), fit for development only; a deployment names its own
// published policy (paknd -tsa-policy).
var DefaultPolicy = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 32473, 1}

// Issuance is the policy of the tokens pakn puts on the documents it
// issues (base.1, base DefaultPolicy when empty): offline, a document
// time-stamp under it attests that pakn issued the document.
func Issuance(base asn1.ObjectIdentifier) asn1.ObjectIdentifier { return arc(base, 1) }

// Service is the policy of the tokens pakn's authority serves to others at
// POST /api/v1/tsa (base.2): they attest a time, never an issuance.
func Service(base asn1.ObjectIdentifier) asn1.ObjectIdentifier { return arc(base, 2) }

// ParsePolicy reads a policy arc written as dotted numbers (1.2.3.4);
// empty is DefaultPolicy.
func ParsePolicy(s string) (asn1.ObjectIdentifier, error) {
	if s == "" {
		return DefaultPolicy, nil
	}
	var oid asn1.ObjectIdentifier
	for _, part := range strings.Split(s, ".") {
		n, err := strconv.Atoi(part)
		if err != nil || n < 0 || len(oid) > 32 {
			return nil, fmt.Errorf("%q is not an OID such as 1.2.3.4", s)
		}
		oid = append(oid, n)
	}
	if len(oid) < 2 || oid[0] > 2 {
		return nil, fmt.Errorf("%q is not an OID such as 1.2.3.4", s)
	}
	return oid, nil
}

func arc(base asn1.ObjectIdentifier, n int) asn1.ObjectIdentifier {
	if len(base) == 0 {
		base = DefaultPolicy
	}
	return append(append(asn1.ObjectIdentifier{}, base...), n)
}

// Authority signs time-stamp tokens.
type Authority struct {
	signer crypto.Signer
	chain  []*x509.Certificate // the TSA's certificate, then its issuers up to (not including) the root
	policy asn1.ObjectIdentifier
	now    func() time.Time
}

var oidExtKeyUsage = asn1.ObjectIdentifier{2, 5, 29, 37}

// New returns an authority signing with signer, whose certificate is
// chain[0] (the rest of chain is embedded in tokens to help verifiers build
// the path), under policy (Issuance(DefaultPolicy) when empty), telling the time
// from now (time.Now when nil). The
// certificate must carry signer's public key and, as RFC 3161 (2.3) asks,
// one extended key usage, timeStamping, in a critical extension.
func New(signer crypto.Signer, chain []*x509.Certificate, policy asn1.ObjectIdentifier, now func() time.Time) (*Authority, error) {
	if signer == nil || len(chain) == 0 {
		return nil, errors.New("tsa: a signer and its certificate are required")
	}
	if err := CheckCertificate(chain[0]); err != nil {
		return nil, err
	}
	if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(chain[0].PublicKey) {
		return nil, errors.New("tsa: the certificate does not carry the signer's public key")
	}
	if now == nil {
		now = time.Now
	}
	if len(policy) == 0 {
		policy = Issuance(nil)
	}
	return &Authority{signer: signer, chain: chain, policy: policy, now: now}, nil
}

// CheckCertificate checks that c is fit for a time-stamping authority: one
// extended key usage, timeStamping, in a critical extension; digital
// signature among its key usages, when it states them; not a CA.
func CheckCertificate(c *x509.Certificate) error {
	if c.IsCA {
		return errors.New("tsa: the certificate is a CA certificate")
	}
	if len(c.ExtKeyUsage) != 1 || c.ExtKeyUsage[0] != x509.ExtKeyUsageTimeStamping || len(c.UnknownExtKeyUsage) != 0 {
		return errors.New("tsa: the certificate's extended key usage must be timeStamping alone")
	}
	for _, e := range c.Extensions {
		if e.Id.Equal(oidExtKeyUsage) && !e.Critical {
			return errors.New("tsa: the certificate's extended key usage must be critical (RFC 3161, 2.3)")
		}
	}
	if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageDigitalSignature == 0 {
		return errors.New("tsa: the certificate's key usage lacks digitalSignature")
	}
	return nil
}

// Under is the same authority (the same signer, certificate and clock)
// writing policy in its tokens: pakn's own documents and other agencies'
// requests are answered under different policies by one key.
func (a *Authority) Under(policy asn1.ObjectIdentifier) *Authority {
	c := *a
	c.policy = policy
	return &c
}

// Certificate is the authority's certificate.
func (a *Authority) Certificate() *x509.Certificate { return a.chain[0] }

// A RequestError is a request the authority refuses; its answer is a
// rejection (PKIStatus 2) with the failure info.
type RequestError struct {
	Reason string
	Info   timestamp.FailureInfo
}

func (e *RequestError) Error() string { return "tsa: " + e.Reason }

// Respond answers a DER time-stamp request with a DER time-stamp response.
// A request the authority refuses (malformed, an unsupported hash, a
// policy not its own, extensions) is answered with a rejection and a
// *RequestError; a failure to sign returns no answer and the error.
func (a *Authority) Respond(req []byte) ([]byte, error) {
	r, rerr := parseRequest(req, a.policy)
	if rerr != nil {
		resp, err := rejection(rerr.Info)
		if err != nil {
			return nil, err
		}
		return resp, rerr
	}
	ts := timestamp.Timestamp{HashAlgorithm: r.HashAlgorithm, HashedMessage: r.HashedMessage, Time: a.now().UTC().Truncate(time.Second),
		Accuracy: time.Second, Nonce: r.Nonce, Policy: a.policy, AddTSACertificate: true, Certificates: a.chain[1:]}
	resp, err := ts.CreateResponseWithOpts(a.chain[0], a.signer, crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("tsa: sign: %w", err)
	}
	return resp, nil
}

var hashes = map[crypto.Hash]bool{crypto.SHA256: true, crypto.SHA384: true, crypto.SHA512: true}

// parseRequest reads and checks a request.
func parseRequest(req []byte, policy asn1.ObjectIdentifier) (*timestamp.Request, *RequestError) {
	if len(req) == 0 || len(req) > MaxRequest {
		return nil, &RequestError{fmt.Sprintf("a request of %d bytes (1 to %d)", len(req), MaxRequest), timestamp.BadDataFormat}
	}
	r, err := timestamp.ParseRequest(req)
	if err != nil {
		return nil, &RequestError{"the request is not a time-stamp request", timestamp.BadDataFormat}
	}
	// Nothing may follow the request.
	var rest asn1.RawValue
	if tail, err := asn1.Unmarshal(req, &rest); err != nil || len(tail) != 0 {
		return nil, &RequestError{"bytes follow the request", timestamp.BadDataFormat}
	}
	switch {
	case !hashes[r.HashAlgorithm]:
		return nil, &RequestError{"the hash algorithm is not SHA-256, SHA-384 or SHA-512", timestamp.BadAlgorithm}
	case len(r.HashedMessage) != r.HashAlgorithm.Size():
		return nil, &RequestError{"the hash is not of its algorithm's size", timestamp.BadDataFormat}
	case len(r.TSAPolicyOID) > 0 && !r.TSAPolicyOID.Equal(policy):
		return nil, &RequestError{"the requested policy is not this authority's", timestamp.UnacceptedPolicy}
	case len(r.Extensions) > 0:
		return nil, &RequestError{"the request has extensions", timestamp.UnacceptedExtension}
	case r.Nonce != nil && (r.Nonce.Sign() < 0 || r.Nonce.BitLen() > 256):
		return nil, &RequestError{"the nonce is negative or longer than 256 bits", timestamp.BadDataFormat}
	}
	return r, nil
}

// rejection is a response with PKIStatus rejection and the failure info.
func rejection(info timestamp.FailureInfo) ([]byte, error) {
	type statusInfo struct {
		Status   int
		FailInfo asn1.BitString `asn1:"optional"`
	}
	bits := asn1.BitString{Bytes: make([]byte, 4), BitLength: 26}
	if info >= 0 && int(info) < bits.BitLength {
		bits.Bytes[info/8] |= 0x80 >> (uint(info) % 8)
		bits.BitLength = int(info) + 1
		bits.Bytes = bits.Bytes[:info/8+1]
	}
	return asn1.Marshal(struct{ Status statusInfo }{statusInfo{Status: int(timestamp.Rejection), FailInfo: bits}})
}
