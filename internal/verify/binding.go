package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/big"
)

// The register of issued documents finds a document by its binding: the
// SHA-256 of what its signature binds, that is the digest of the signed
// byte ranges and the signature value decoded (an ECDSA value in its low-S
// form, r and s at the curve's width; an RSA value as it is, the modulus's
// width). Bytes the signature does not cover and that do not change the
// signature (the hex digits' case in /Contents, the zero padding after the
// CMS, its certificates and unsigned attributes, an ECDSA value's
// high-S twin) leave the binding as it is, so they can neither hide a
// reply's status nor make a genuine reply look unissued; the whole file's
// SHA-256 changes with every one of them.

// bindingPrefix separates pakn's bindings from any other use of SHA-256
// and names their version.
const bindingPrefix = "pakn document binding v1\x00"

// Binding is the binding of a signed document pakn issues: of its last
// approval signature, which must cover the whole file or be followed only
// by validation data under document time-stamps (PAdES B-LTA), and whose
// message digest must match the signed bytes and signature verify with
// the certificate it names. Issuance stores it; Verify computes it again
// from what it checks. Archive time-stamps added later leave it as it is.
func Binding(doc []byte) (string, error) {
	ctx := context.Background()
	sigs, err := findSignatures(ctx, doc)
	if err != nil {
		return "", err
	}
	if len(sigs) == 0 {
		return "", errors.New("binding: the document has no signature")
	}
	n, err := approvals(sigs)
	if err != nil {
		return "", errors.New("binding: " + err.Error())
	}
	sd := sigs[n-1]
	if sd.Err != nil {
		return "", sd.Err
	}
	var s Signature
	if f := checkByteRange(&s, sd, int64(len(doc))); f != nil {
		return "", errors.New("binding: /ByteRange " + f.detail)
	}
	if n < len(sigs) {
		if _, err := checkUpdates(ctx, doc, sd.ByteRange[2]+sd.ByteRange[3], nil); err != nil {
			return "", errors.New("binding: " + err.Error())
		}
	} else if !s.CoversWholeFile {
		return "", errors.New("binding: the last signature does not cover the whole file")
	}
	c, cert, f := checkSignedData(ctx, &s, doc, sd, nil)
	if f != nil {
		return "", errors.New("binding: " + f.name + ": " + f.detail)
	}
	return bindingOf(c, cert)
}

// bindingOf is the binding of a checked signature: c's message digest
// matched the signed ranges and its signature verified with cert.
func bindingOf(c *cms, cert *x509.Certificate) (string, error) {
	sig := c.signer.Signature
	if pub, ok := cert.PublicKey.(*ecdsa.PublicKey); ok {
		var v struct{ R, S *big.Int }
		if rest, err := asn1.Unmarshal(sig, &v); err != nil || len(rest) != 0 {
			return "", errors.New("binding: the ECDSA signature value is unreadable")
		}
		n := pub.Curve.Params().N
		if half := new(big.Int).Rsh(n, 1); v.S.Cmp(half) > 0 {
			v.S = new(big.Int).Sub(n, v.S)
		}
		size := (n.BitLen() + 7) / 8
		sig = append(v.R.FillBytes(make([]byte, size)), v.S.FillBytes(make([]byte, size))...)
	}
	h := sha256.New()
	h.Write([]byte(bindingPrefix))
	for _, part := range [][]byte{c.messageDigest, sig} {
		h.Write(binary.BigEndian.AppendUint32(nil, uint32(len(part))))
		h.Write(part)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
