package verify

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"time"
)

// The CMS structures (RFC 5652) a detached PDF signature holds.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0"`
}

type signedData struct {
	Version          int
	DigestAlgorithms asn1.RawValue
	EncapContentInfo encapContentInfo
	Certificates     asn1.RawValue `asn1:"optional,tag:0"`
	CRLs             asn1.RawValue `asn1:"optional,tag:1"`
	SignerInfos      asn1.RawValue // a SET OF SignerInfo, counted before it is read
}

type encapContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"optional,explicit,tag:0"`
}

type issuerAndSerial struct {
	Issuer asn1.RawValue
	Serial *big.Int
}

type signerInfo struct {
	Version            int
	SID                asn1.RawValue
	DigestAlgorithm    pkix.AlgorithmIdentifier
	SignedAttrs        asn1.RawValue `asn1:"optional,tag:0"`
	SignatureAlgorithm pkix.AlgorithmIdentifier
	Signature          []byte
	UnsignedAttrs      asn1.RawValue `asn1:"optional,tag:1"`
}

type attribute struct {
	Type   asn1.ObjectIdentifier
	Values asn1.RawValue `asn1:"set"`
}

// Object identifiers.
var (
	oidSignedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidContentType     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidMessageDigest   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidSigningTime     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	oidTimeStampToken  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidSHA256          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidRSA             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidECPublicKey     = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512 = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidDocumentSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 3, 36}
)

var digestByOID = map[string]crypto.Hash{
	oidSHA256.String(): crypto.SHA256,
	oidSHA384.String(): crypto.SHA384,
	oidSHA512.String(): crypto.SHA512,
}

// cms is a parsed detached signature with its one signer.
type cms struct {
	certs         []*x509.Certificate
	signer        signerInfo
	digest        crypto.Hash
	messageDigest []byte
	signedAttrs   []byte // DER of the SET OF attributes, as signed
	signingTime   time.Time
	timestamp     []byte                 // the time-stamp token's ContentInfo, if any
	crls          []*x509.RevocationList // of the signed revocation archive, if any
}

// Bounds of a signature's CMS: its size (the lexer refuses a larger
// /Contents), the certificates it may carry (counted before any is parsed)
// and its time-stamp token. pdfsign's largest real CMS (RSA-4096 with its
// chain and a time-stamp) is some 20 KB.
const (
	MaxCMSSize       = 1 << 20
	maxCertificates  = 20
	maxTimestampSize = 16 << 10
	maxNameSize      = 4 << 10 // a certificate's subject or issuer, DER
	maxRSABits       = 4096
	maxDERDepth      = 32 // of a time-stamp token (a real one nests about a dozen levels)
)

// parseCMS reads a PDF signature's /Contents (zero padding after the DER
// value is allowed, nothing else). It is a linear parser, one bounded step
// after another, and is kept whole so the order of its checks reads as the
// structure it walks.
func parseCMS(b []byte) (*cms, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(b, &ci)
	if err != nil {
		return nil, fmt.Errorf("not a CMS ContentInfo: %w", err)
	}
	if len(bytes.Trim(rest, "\x00")) != 0 {
		return nil, errors.New("bytes after the CMS value")
	}
	if !ci.ContentType.Equal(oidSignedData) {
		return nil, errors.New("the CMS is not SignedData")
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("SignedData: %v", err)
	}
	if !sd.EncapContentInfo.ContentType.Equal(oidData) || len(sd.EncapContentInfo.Content.Bytes) != 0 {
		return nil, errors.New("not a detached signature of data")
	}
	if n, err := countDER(sd.SignerInfos.Bytes, 2); err != nil || n != 1 || sd.SignerInfos.Tag != asn1.TagSet {
		return nil, errors.New("a reply's signature has exactly one signer")
	}
	c := &cms{}
	if rest, err := asn1.Unmarshal(sd.SignerInfos.Bytes, &c.signer); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("SignerInfo: %v", err)
	}
	if len(sd.Certificates.Bytes) > 0 {
		if n, err := countDER(sd.Certificates.Bytes, maxCertificates+1); err != nil || n > maxCertificates {
			return nil, fmt.Errorf("more than %d embedded certificates, or unreadable ones", maxCertificates)
		}
		certs, err := x509.ParseCertificates(sd.Certificates.Bytes)
		if err != nil {
			return nil, fmt.Errorf("embedded certificates: %w", err)
		}
		for _, cert := range certs {
			if err := certAcceptable(cert); err != nil {
				return nil, err
			}
		}
		c.certs = certs
	}
	var ok bool
	if c.digest, ok = digestByOID[c.signer.DigestAlgorithm.Algorithm.String()]; !ok {
		return nil, fmt.Errorf("digest algorithm %s not accepted (SHA-256, SHA-384, SHA-512)", c.signer.DigestAlgorithm.Algorithm)
	}
	if len(c.signer.SignedAttrs.FullBytes) == 0 {
		return nil, errors.New("no signed attributes")
	}
	// The signature covers the attributes encoded as a SET OF (tag 0x31), not [0].
	c.signedAttrs = append([]byte{0x31}, c.signer.SignedAttrs.FullBytes[1:]...)
	var attrs []attribute
	if rest, err := asn1.UnmarshalWithParams(c.signedAttrs, &attrs, "set"); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("signed attributes: %v", err)
	}
	seen := map[string]bool{}
	for _, a := range attrs {
		k := a.Type.String()
		if seen[k] {
			return nil, fmt.Errorf("signed attribute %s twice", k)
		}
		seen[k] = true
		switch {
		case a.Type.Equal(oidMessageDigest):
			var d []byte
			if _, err := asn1.Unmarshal(a.Values.Bytes, &d); err != nil {
				return nil, errors.New("messageDigest is not an OCTET STRING")
			}
			c.messageDigest = d
		case a.Type.Equal(oidContentType):
			var ct asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(a.Values.Bytes, &ct); err != nil || !ct.Equal(oidData) {
				return nil, errors.New("contentType attribute is not id-data")
			}
		case a.Type.Equal(oidRevocationInfoArchival):
			crls, err := revocationArchive(a.Values.Bytes)
			if err != nil {
				return nil, err
			}
			c.crls = crls
		case a.Type.Equal(oidSigningTime):
			var t time.Time
			if _, err := asn1.Unmarshal(a.Values.Bytes, &t); err == nil {
				c.signingTime = t
			}
		}
	}
	if c.messageDigest == nil {
		return nil, errors.New("no messageDigest attribute")
	}
	if !seen[oidContentType.String()] {
		return nil, errors.New("no contentType attribute")
	}
	if len(c.signer.UnsignedAttrs.Bytes) > 0 {
		var un []attribute
		if _, err := asn1.UnmarshalWithParams(append([]byte{0x31}, c.signer.UnsignedAttrs.FullBytes[1:]...), &un, "set"); err != nil {
			return nil, fmt.Errorf("unsigned attributes: %v", err)
		}
		for _, a := range un {
			if a.Type.Equal(oidTimeStampToken) {
				var tok asn1.RawValue
				if _, err := asn1.Unmarshal(a.Values.Bytes, &tok); err != nil {
					return nil, errors.New("time-stamp token unreadable")
				}
				if len(tok.FullBytes) > maxTimestampSize {
					return nil, fmt.Errorf("time-stamp token larger than %d bytes", maxTimestampSize)
				}
				if err := shallowDER(tok.FullBytes, maxDERDepth); err != nil {
					return nil, fmt.Errorf("time-stamp token: %v", err)
				}
				c.timestamp = tok.FullBytes
			}
		}
	}
	return c, nil
}

// certAcceptable refuses certificates whose handling would cost more than
// their size: RSA moduli over 4096 bits or with an exponent over 2^32 (a
// public-key operation grows with the square of the modulus), subjects or
// issuers over 4 KiB (rendering a name grows with the square of its
// entries). Real certificates are far below these bounds.
func certAcceptable(c *x509.Certificate) error {
	if len(c.RawSubject) > maxNameSize || len(c.RawIssuer) > maxNameSize {
		return fmt.Errorf("a certificate's name is longer than %d bytes", maxNameSize)
	}
	if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && (pub.N.BitLen() > maxRSABits || pub.E > 1<<32) {
		return fmt.Errorf("an RSA key of %d bits (at most %d are accepted)", pub.N.BitLen(), maxRSABits)
	}
	return nil
}

// shallowDER checks that b is definite-length DER nested at most depth
// levels, reading only the headers: the time-stamp library converts BER to
// DER at a cost that grows with nesting times size.
func shallowDER(b []byte, depth int) error {
	for len(b) > 0 {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return err
		}
		if v.IsCompound {
			if depth == 0 {
				return errors.New("nested too deeply")
			}
			if err := shallowDER(v.Bytes, depth-1); err != nil {
				return err
			}
		}
		b = rest
	}
	return nil
}

// countDER counts the DER values in b, stopping once it has seen limit:
// only their headers are read.
func countDER(b []byte, limit int) (int, error) {
	n := 0
	for len(b) > 0 && n < limit {
		var v asn1.RawValue
		rest, err := asn1.Unmarshal(b, &v)
		if err != nil {
			return n, err
		}
		b = rest
		n++
	}
	return n, nil
}

// signerCert finds the certificate the signer info names, among those the
// CMS carries.
func (c *cms) signerCert() (*x509.Certificate, error) {
	sid := c.signer.SID
	if sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 { // subjectKeyIdentifier
		for _, cert := range c.certs {
			if len(cert.SubjectKeyId) > 0 && bytes.Equal(cert.SubjectKeyId, sid.Bytes) {
				return cert, nil
			}
		}
		return nil, errors.New("no embedded certificate has the signer's key identifier")
	}
	var ias issuerAndSerial
	if rest, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil || len(rest) != 0 || ias.Serial == nil {
		return nil, errors.New("signer identifier unreadable")
	}
	for _, cert := range c.certs {
		if cert.SerialNumber.Cmp(ias.Serial) == 0 && bytes.Equal(cert.RawIssuer, ias.Issuer.FullBytes) {
			return cert, nil
		}
	}
	return nil, errors.New("the certificate the signature names is not in the document")
}

// checkSignature verifies the signer's signature over the signed attributes.
func (c *cms) checkSignature(cert *x509.Certificate) error {
	alg := c.signer.SignatureAlgorithm.Algorithm
	h := c.digest.New()
	h.Write(c.signedAttrs)
	sum := h.Sum(nil)
	switch pub := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if !alg.Equal(oidECPublicKey) && !alg.Equal(oidECDSAWithSHA256) && !alg.Equal(oidECDSAWithSHA384) && !alg.Equal(oidECDSAWithSHA512) {
			return fmt.Errorf("signature algorithm %s does not fit an ECDSA key", alg)
		}
		if !ecdsa.VerifyASN1(pub, sum, c.signer.Signature) {
			return errors.New("the ECDSA signature does not verify with the signer's certificate")
		}
	case *rsa.PublicKey:
		if !alg.Equal(oidRSA) && !alg.Equal(oidSHA256WithRSA) && !alg.Equal(oidSHA384WithRSA) && !alg.Equal(oidSHA512WithRSA) {
			return fmt.Errorf("signature algorithm %s not accepted for RSA (PKCS #1 v1.5 only)", alg)
		}
		if pub.N.BitLen() < 2048 {
			return errors.New("RSA key shorter than 2048 bits")
		}
		if err := rsa.VerifyPKCS1v15(pub, c.digest, sum, c.signer.Signature); err != nil {
			return errors.New("the RSA signature does not verify with the signer's certificate")
		}
	default:
		return fmt.Errorf("%T keys are not accepted", cert.PublicKey)
	}
	return nil
}
