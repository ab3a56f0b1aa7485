// Package signing signs reply PDFs as PAdES baseline signatures (B-B to
// B-LTA): pdfsign (a patched copy, see internal/third_party) driven around
// its known defects (ASCII-only dictionary text, a reservation sized from
// the real key and chain, a signer that refuses a second call) with any
// crypto.Signer (in production internal/vault's TransitSigner), time-stamps
// from any RFC 3161 authority (in production internal/tsa in process, or
// an external one through a client with a timeout), and validation data
// embedded. It knows nothing of Vault.
package signing

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/digitorus/pdf"
	"github.com/digitorus/pdfsign/revocation"
	"github.com/digitorus/pdfsign/sign"
	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"pakn/internal/apperr"
	"pakn/internal/msg"
	"pakn/internal/reply"
)

// MaxPDFBytes bounds the documents SignPDF accepts.
const MaxPDFBytes = 20 << 20

// SubFilter is the signature format: a CAdES detached signature, as PAdES
// baseline signatures (ETSI EN 319 142-1) are.
const SubFilter = "ETSI.CAdES.detached"

// SignPDF adds one approval signature to doc and returns the signed file:
// a PAdES baseline signature (an incremental update with a detached CAdES
// CMS, /SubFilter ETSI.CAdES.detached, no signingTime attribute: the
// claimed time is the dictionary's /M). With r.Stamp the signature carries
// a signature time-stamp (B-T); with r.Stamp and r.CRLs the chain and the
// CRLs are embedded, in the signed revocation attribute and in a document
// security store added with a document time-stamp in a second incremental
// update (B-LT and B-LTA). A time-stamping authority that does not answer
// fails the signing with apperr.Unavailable: nothing is returned.
//
// It works around the pinned pdfsign's known defects: text in the signature
// dictionary is folded to ASCII (pdfsign writes other text unescaped and
// corrupts the file); space for the CMS is reserved from the actual key and
// chain sizes with room to spare, and the signer refuses a second call, so
// an underestimate fails cleanly instead of signing twice and writing two
// concatenated copies.
func SignPDF(doc []byte, r reply.SignRequest) ([]byte, error) {
	if len(doc) == 0 || len(doc) > MaxPDFBytes {
		return nil, fmt.Errorf("sign pdf: document of %d bytes (1 to %d)", len(doc), MaxPDFBytes)
	}
	if r.Signer == nil || len(r.Chain) == 0 {
		return nil, errors.New("sign pdf: signer and certificate chain are required")
	}
	if r.Time.IsZero() {
		r.Time = time.Now()
	}
	var rev revocation.InfoArchival
	if len(r.CRLs) > 0 {
		if r.Stamp == nil {
			return nil, errors.New("sign pdf: validation data without a time-stamping authority")
		}
		if err := checkNotRevoked(r.Chain, r.CRLs); err != nil {
			return nil, err
		}
		for _, crl := range r.CRLs {
			_ = rev.AddCRL(crl)
		}
	}
	once := &onceSigner{Signer: r.Signer}
	stamp := stamper(r.Stamp)
	out, err := update(doc, sign.SignData{
		Signature: sign.SignDataSignature{
			CertType:   sign.ApprovalSignature,
			DocMDPPerm: sign.AllowFillingExistingFormFieldsAndSignaturesPerms,
			Info: sign.SignDataSignatureInfo{
				Name: ASCII(r.Name), Reason: ASCII(r.Reason), Location: ASCII(r.Location), Date: r.Time,
			},
		},
		Signer:            once,
		DigestAlgorithm:   crypto.SHA256,
		Certificate:       r.Chain[0],
		CertificateChains: [][]*x509.Certificate{r.Chain},
		TSA:               sign.TSA{Stamp: stamp},
		RevocationData:    rev,
		SubFilter:         SubFilter,
		OmitSigningTime:   true,
	}, reserve(r.Chain[0]))
	if err != nil {
		return nil, err
	}
	if once.calls.Load() != 1 {
		return nil, fmt.Errorf("sign pdf: signer called %d times", once.calls.Load())
	}
	if len(r.CRLs) == 0 {
		return out, nil
	}
	return Archive(out, r.Stamp, certsDER(r.Chain), r.CRLs)
}

// Archive adds a document time-stamp to a signed PDF (PAdES B-LTA) in an
// incremental update that first adds certs and crls (DER) to its document
// security store; the signed revisions are untouched. It is how replies
// are issued, and how an archive time-stamp renews the proof before the
// newest time-stamp's certificate expires.
func Archive(doc []byte, stamp reply.Stamper, certs, crls [][]byte) ([]byte, error) {
	if stamp == nil {
		return nil, errors.New("archive: a time-stamping authority is required")
	}
	return update(doc, sign.SignData{
		Signature:       sign.SignDataSignature{CertType: sign.TimeStampSignature},
		DigestAlgorithm: crypto.SHA256,
		TSA:             sign.TSA{Stamp: stamper(stamp)},
		DSS:             &sign.DSS{Certs: certs, CRLs: crls},
	}, 0)
}

// update runs pdfsign once over doc with sd, reserving room beyond
// pdfsign's own estimate.
func update(doc []byte, sd sign.SignData, room int) ([]byte, error) {
	rdr, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		return nil, fmt.Errorf("sign pdf: read document: %w", err)
	}
	sc := sign.SignContext{PDFReader: rdr, InputFile: bytes.NewReader(doc), SignData: sd,
		SignatureMaxLengthBase: uint32(hex.EncodedLen(room))}
	if err := sc.SignPDF(); err != nil {
		var unavailable *stampError
		if errors.As(err, &unavailable) {
			return nil, apperr.Wrap(err, apperr.Unavailable, "time-stamp", msg.TimeStampUnavailable)
		}
		return nil, fmt.Errorf("sign pdf: %w", err)
	}
	return sc.OutputBuffer.Buff.Bytes(), nil // without an OutputFile the file stays there
}

// stampError is a time-stamping authority's failure to answer.
type stampError struct{ err error }

func (e *stampError) Error() string { return "time-stamping authority: " + e.err.Error() }
func (e *stampError) Unwrap() error { return e.err }

// stamper adapts a Stamper to pdfsign, marking its failures, and bounds
// its answers.
func stamper(s reply.Stamper) func([]byte) ([]byte, error) {
	if s == nil {
		return nil
	}
	return func(req []byte) ([]byte, error) {
		resp, err := s(req)
		if err != nil {
			return nil, &stampError{err}
		}
		if len(resp) > maxTSAMessage {
			return nil, &stampError{fmt.Errorf("an answer of %d bytes", len(resp))}
		}
		return resp, nil
	}
}

// certsDER is the DER of each certificate of chain.
func certsDER(chain []*x509.Certificate) [][]byte {
	out := make([][]byte, len(chain))
	for i, c := range chain {
		out[i] = c.Raw
	}
	return out
}

// checkNotRevoked refuses to sign with a certificate its issuer's CRL (one
// of crls, signed by chain[1]) lists as revoked, and refuses CRLs that do
// not verify: what is embedded must be the CAs' own lists.
func checkNotRevoked(chain []*x509.Certificate, crls [][]byte) error {
	if len(chain) < 2 {
		return errors.New("sign pdf: the chain has no issuer to check revocation with")
	}
	found := false
	for _, der := range crls {
		crl, err := issuerList(der, chain[1])
		if err != nil {
			return err
		}
		if crl == nil {
			continue // another CA's (after a rotation, one of the same name)
		}
		found = true
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber.Cmp(chain[0].SerialNumber) == 0 {
				return apperr.New(apperr.Conflict, msg.SignerCertificateRevoked)
			}
		}
	}
	if !found {
		return errors.New("sign pdf: no revocation list of the signer's issuing CA")
	}
	return nil
}

// checkedLists remembers the CRLs found signed by their issuer (a list
// changes at each revocation and each rebuild: a handful a month), so a
// signature does not parse and verify the same lists again.
var checkedLists struct {
	sync.Mutex
	m map[[32]byte]*x509.RevocationList
}

// issuerList parses der and returns it when issuer signed it, nil when it
// is another CA's; a list that names issuer but does not verify is an
// error.
func issuerList(der []byte, issuer *x509.Certificate) (*x509.RevocationList, error) {
	h := sha256.New()
	h.Write(der)
	h.Write(issuer.Raw)
	var k [32]byte
	h.Sum(k[:0])
	checkedLists.Lock()
	crl := checkedLists.m[k]
	checkedLists.Unlock()
	if crl != nil {
		return crl, nil
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("sign pdf: revocation list: %w", err)
	}
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) ||
		len(crl.AuthorityKeyId) > 0 && len(issuer.SubjectKeyId) > 0 && !bytes.Equal(crl.AuthorityKeyId, issuer.SubjectKeyId) {
		return nil, nil
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("sign pdf: the issuing CA's revocation list does not verify: %w", err)
	}
	checkedLists.Lock()
	if checkedLists.m == nil || len(checkedLists.m) >= 64 {
		checkedLists.m = map[[32]byte]*x509.RevocationList{}
	}
	checkedLists.m[k] = crl
	checkedLists.Unlock()
	return crl, nil
}

// reserve is the room, beyond what pdfsign adds for the certificates,
// digests and time-stamp token, kept for the signature value and the signed
// attributes (content type, signing time, message digest, signing
// certificate, revocation archive) with their encoding.
func reserve(cert *x509.Certificate) int {
	sig := 0
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		sig = pub.Size()
	case *ecdsa.PublicKey:
		sig = 2*((pub.Curve.Params().BitSize+7)/8) + 16
	default:
		sig = 512
	}
	return 1024 + sig
}

// onceSigner lets its signer be called once; pdfsign retries a signature
// that outgrew its reservation by signing again, which would mean a second
// Vault call and a corrupt file.
type onceSigner struct {
	crypto.Signer
	calls atomic.Int64
}

func (s *onceSigner) Sign(rand io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if s.calls.Add(1) > 1 {
		return nil, errors.New("signature larger than its reservation; refusing to sign twice")
	}
	return s.Signer.Sign(rand, digest, opts)
}

// dStroke folds đ and Đ, which have no decomposition.
var dStroke = strings.NewReplacer("đ", "d", "Đ", "D")

// ASCII folds Vietnamese (and other Latin) text to ASCII: diacritics go,
// đ/Đ become d/D, anything else outside printable ASCII becomes '?'.
func ASCII(s string) string {
	if printable(s) {
		return s // nothing to fold (the transforms cost more than the rest of a signature's dictionary)
	}
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, _ = transform.String(t, s)
	s = dStroke.Replace(s)
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// printable reports whether s is printable ASCII only.
func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
