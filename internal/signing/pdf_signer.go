// Package signing signs reply PDFs: pdfsign driven around its known
// defects (ASCII-only dictionary text, a reservation sized from the real
// key and chain, a signer that refuses a second call) with any
// crypto.Signer (in production internal/vault's TransitSigner), and a
// loopback relay that gives pdfsign's time-stamp client a timeout. It knows
// nothing of Vault.
package signing

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"
	"unicode"

	"github.com/digitorus/pdf"
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

// SignPDF adds one approval signature (an incremental update with a
// detached CMS, /adbe.pkcs7.detached) to doc and returns the signed file.
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
	rdr, err := pdf.NewReader(bytes.NewReader(doc), int64(len(doc)))
	if err != nil {
		return nil, fmt.Errorf("sign pdf: read document: %w", err)
	}
	once := &onceSigner{Signer: r.Signer}
	var out bytes.Buffer
	sc := sign.SignContext{
		PDFReader:  rdr,
		InputFile:  bytes.NewReader(doc),
		OutputFile: &out,
		SignData: sign.SignData{
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
			TSA:               sign.TSA{URL: r.TSAURL},
		},
		SignatureMaxLengthBase: uint32(hex.EncodedLen(reserve(r.Chain[0]))),
	}
	if err := sc.SignPDF(); err != nil {
		if r.TSAURL != "" && strings.Contains(err.Error(), "timestamp") {
			return nil, apperr.Wrap(err, apperr.Unavailable, "time-stamp",
				msg.TimeStampUnavailable)
		}
		return nil, fmt.Errorf("sign pdf: %w", err)
	}
	if once.calls.Load() != 1 {
		return nil, fmt.Errorf("sign pdf: signer called %d times", once.calls.Load())
	}
	return out.Bytes(), nil
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

// ASCII folds Vietnamese (and other Latin) text to ASCII: diacritics go,
// đ/Đ become d/D, anything else outside printable ASCII becomes '?'.
func ASCII(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	s, _, _ = transform.String(t, s)
	s = strings.NewReplacer("đ", "d", "Đ", "D").Replace(s)
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}
