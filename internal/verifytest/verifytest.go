// Package verifytest makes signed replies and a corpus of hostile
// documents for the verifier's tests: a test PKI shaped like pakn's Vault
// PKI, genuine replies, and every attack the verifier must refuse.
package verifytest

import (
	"bytes"
	"compress/zlib"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"pakn/internal/pdfrender"
	"pakn/internal/pdftest"
	"pakn/internal/reply"
	"pakn/internal/signing"
	"pakn/internal/tsa"
)

// pki is a test CA shaped like pakn's Vault PKI: a root, an issuing CA, and
// signer certificates with the official-signer role's usages.
type PKI struct {
	Root, Issuing       *x509.Certificate
	RootKey, IssuingKey crypto.Signer
	CRL                 *x509.RevocationList // the issuing CA's current list
	revoked             []x509.RevocationListEntry
}

// serials gives every test certificate its own serial number.
var serials atomicSerial

type atomicSerial struct {
	mu sync.Mutex
	n  int64
}

func (a *atomicSerial) next() *big.Int {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.n++
	return big.NewInt(time.Now().UnixNano() + a.n)
}

// ECKey makes an ECDSA P-256 key.
func ECKey(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// MustCert issues tmpl under parent.
func MustCert(t testing.TB, tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func caTemplate(cn string, pathLen int) *x509.Certificate {
	return &x509.Certificate{SerialNumber: serials.next(), Subject: pkix.Name{CommonName: cn, Organization: []string{"pakn"}},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(10 * 365 * 24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, MaxPathLen: pathLen, MaxPathLenZero: pathLen == 0, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
}

// NewPKI makes a root and an issuing CA named after name, and an empty CRL.
func NewPKI(t testing.TB, name string) *PKI {
	t.Helper()
	p := &PKI{RootKey: ECKey(t), IssuingKey: ECKey(t)}
	rt := caTemplate(name+" root", 1)
	p.Root = MustCert(t, rt, rt, p.RootKey.Public(), p.RootKey)
	p.Issuing = MustCert(t, caTemplate(name+" issuing CA", 0), p.Root, p.IssuingKey.Public(), p.RootKey)
	p.makeCRL(t)
	return p
}

func (p *PKI) makeCRL(t testing.TB) {
	t.Helper()
	p.makeCRLAt(t, time.Now().Add(-time.Minute))
}

// makeCRLAt issues the issuing CA's list as of at (valid 72 hours).
func (p *PKI) makeCRLAt(t testing.TB, at time.Time) {
	t.Helper()
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: serials.next(), ThisUpdate: at,
		NextUpdate: at.Add(72 * time.Hour), RevokedCertificateEntries: p.revoked}, p.Issuing, p.IssuingKey)
	if err != nil {
		t.Fatal(err)
	}
	if p.CRL, err = x509.ParseRevocationList(der); err != nil {
		t.Fatal(err)
	}
}

// Revoke puts c on p's CRL as revoked at at.
func (p *PKI) Revoke(t testing.TB, c *x509.Certificate, at time.Time) {
	p.revoked = append(p.revoked, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: at})
	p.makeCRL(t)
}

// RevokeLater puts c on p's CRL as revoked at at for reason (an RFC 5280
// reason code: 1 keyCompromise, 4 superseded), in a list issued at at, as
// the CA would publish it then.
func (p *PKI) RevokeLater(t testing.TB, c *x509.Certificate, at time.Time, reason int) {
	p.revoked = append(p.revoked, x509.RevocationListEntry{SerialNumber: c.SerialNumber, RevocationTime: at, ReasonCode: reason})
	p.makeCRLAt(t, at)
}

// RotateIssuing replaces p's issuing CA by a new one under the same root
// (pakn ca rotate), with its own empty CRL; certificates the old one
// issued stay as they are.
func (p *PKI) RotateIssuing(t testing.TB) {
	t.Helper()
	p.IssuingKey = ECKey(t)
	p.Issuing = MustCert(t, caTemplate(p.Issuing.Subject.CommonName+" (rotated)", 0), p.Root, p.IssuingKey.Public(), p.RootKey)
	p.revoked = nil
	p.makeCRL(t)
}

// Signer issues a signer certificate and its key; mod may change the template.
func (p *PKI) Signer(t testing.TB, cn string, mod func(*x509.Certificate)) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	k := ECKey(t)
	tmpl := &x509.Certificate{SerialNumber: serials.next(), Subject: pkix.Name{CommonName: cn, Organization: []string{"pakn"}, Country: []string{"VN"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}, UnknownExtKeyUsage: []asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 36}}}
	if mod != nil {
		mod(tmpl)
	}
	return MustCert(t, tmpl, p.Issuing, k.Public(), p.IssuingKey), k
}

var renderOnce struct {
	sync.Once
	doc []byte
	err error
}

// Reply renders a reply with text as its body (the default one, once per
// test binary, when text is "") for signing.
func Reply(t testing.TB, text string) []byte {
	t.Helper()
	d := pdfrender.Document{ParentAgency: "Ủy ban nhân dân thành phố Hà Nội", Agency: "Sở Tư pháp", Number: "1/STP-HN-PAKN", Place: "Hà Nội",
		Date: time.Date(2026, 11, 2, 3, 0, 0, 0, time.UTC), Subject: "V/v trả lời phản ánh, kiến nghị", Recipient: "Bà Nguyễn Thị Hồng Nhung",
		RecipientAddr: "phường Điện Biên, quận Ba Đình", Paragraphs: []string{text}, SignerTitle: "Phó Giám đốc", SignerName: "Lê Hoàng Cường",
		VerifyURL: "https://pakn.example.vn/verify/x", ShortCode: "x", TrackingCode: "PAKN-2026-0000-0000", ReplyID: "x"}
	if text == "" {
		renderOnce.Do(func() {
			d.Paragraphs = []string{"Sở Tư pháp trả lời như sau: việc chứng thực được thực hiện trong ngày."}
			renderOnce.doc, renderOnce.err = pdfrender.Render(d)
		})
		if renderOnce.err != nil {
			t.Fatal(renderOnce.err)
		}
		return renderOnce.doc
	}
	doc, err := pdfrender.Render(d)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// Sign signs doc with key, embedding chain (the signer's certificate first).
func Sign(t testing.TB, doc []byte, key crypto.Signer, chain ...*x509.Certificate) []byte {
	t.Helper()
	return SignStamped(t, doc, nil, key, chain...)
}

// Genuine is a reply signed by a signer of p.
func (p *PKI) Genuine(t testing.TB) []byte {
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	return Sign(t, Reply(t, ""), key, cert, p.Issuing)
}

var byteRangeRE = regexp.MustCompile(`/ByteRange\s*\[([^\]]*)\]( *)`)

// WithByteRange rewrites the /ByteRange numbers in place (same length).
func WithByteRange(t testing.TB, pdf []byte, vals ...int64) []byte {
	t.Helper()
	m := byteRangeRE.FindSubmatchIndex(pdf)
	if m == nil {
		t.Fatal("no /ByteRange")
	}
	parts := make([]string, len(vals))
	for i, v := range vals {
		parts[i] = strconv.FormatInt(v, 10)
	}
	// pdfsign pads the array with spaces after "]": the numbers may use them.
	repl := strings.Join(parts, " ") + "]"
	width := m[5] - m[2]
	if len(repl) > width {
		t.Fatalf("byte range %q does not fit in %d bytes", repl, width)
	}
	out := bytes.Clone(pdf)
	copy(out[m[2]:m[5]], repl+strings.Repeat(" ", width-len(repl)))
	return out
}

// ByteRange reads the first signature's /ByteRange.
func ByteRange(t testing.TB, pdf []byte) []int64 {
	t.Helper()
	m := byteRangeRE.FindSubmatch(pdf)
	if m == nil {
		t.Fatal("no /ByteRange")
	}
	var out []int64
	for _, f := range strings.Fields(string(m[1])) {
		n, _ := strconv.ParseInt(f, 10, 64)
		out = append(out, n)
	}
	return out
}

// AppendUpdate adds an incremental update that gives the first page new
// content and a font of its own, as an attacker editing a signed reply
// would. With loop, the update's /Prev points at itself.
func AppendUpdate(t testing.TB, pdf []byte, trailerExtra string, loop bool) []byte {
	t.Helper()
	page := regexp.MustCompile(`(\d+) 0 obj\s*<<\s*/Type /Page\s*/Parent (\d+ 0 R)`).FindSubmatch(pdf)
	startxref := regexp.MustCompile(`startxref\s+(\d+)\s+%%EOF\s*$`).FindSubmatch(pdf)
	roots := regexp.MustCompile(`/Root (\d+ 0 R)`).FindAllSubmatch(pdf, -1)
	sizes := regexp.MustCompile(`/Size (\d+)`).FindAllSubmatch(pdf, -1)
	if page == nil || startxref == nil || roots == nil || sizes == nil {
		t.Fatal("cannot find the page, startxref, root or size")
	}
	size, _ := strconv.Atoi(string(sizes[len(sizes)-1][1]))
	content := "BT /FX 28 Tf 60 400 Td (FORGED: the request is refused) Tj ET"
	var b bytes.Buffer
	b.Write(pdf)
	pageOff := b.Len()
	fmt.Fprintf(&b, "%s 0 obj\n<< /Type /Page /Parent %s /Resources << /Font << /FX << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> /Contents %d 0 R >>\nendobj\n",
		page[1], page[2], size)
	contentOff := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n<< /Length %d >>\nstream\n%s\nendstream\nendobj\n", size, len(content), content)
	xref := b.Len()
	prev := string(startxref[1])
	if loop {
		prev = strconv.Itoa(xref)
	}
	fmt.Fprintf(&b, "xref\n%s 1\n%010d 00000 n \n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %s /Prev %s %s>>\nstartxref\n%d\n%%%%EOF\n",
		page[1], pageOff, size, contentOff, size+1, roots[len(roots)-1][1], prev, trailerExtra, xref)
	return b.Bytes()
}

var bomb struct {
	sync.Once
	z []byte
}

// FlateBomb is a PDF (unsigned) whose one stream inflates to 256 MiB.
func FlateBomb(t testing.TB) []byte {
	t.Helper()
	bomb.Do(func() {
		var z bytes.Buffer
		w, _ := zlib.NewWriterLevel(&z, zlib.BestCompression)
		zero := make([]byte, 1<<20)
		for range 256 {
			_, _ = w.Write(zero)
		}
		_ = w.Close()
		bomb.z = z.Bytes()
	})
	z := bytes.NewBuffer(bomb.z)
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n")
	b.WriteString("3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>\nendobj\n")
	fmt.Fprintf(&b, "4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", z.Len())
	b.Write(z.Bytes())
	b.WriteString("\nendstream\nendobj\nxref\n0 5\n0000000000 65535 f \ntrailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n0\n%%EOF\n")
	return b.Bytes()
}

// Corpus is what the hostile documents are made from: a genuine reply,
// another genuine reply with different content (both signed under the
// trust anchors in use), the certificate that signed the first, and a
// trusted certificate unrelated to a rogue signer.
type Corpus struct {
	Genuine, Other []byte
	Signer         *x509.Certificate
	Trusted        *x509.Certificate
}

// Corpus makes a Corpus from p.
func (p *PKI) Corpus(t testing.TB) Corpus {
	t.Helper()
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	oc, ok := p.Signer(t, "Lê Hoàng Cường", nil)
	return Corpus{Genuine: Sign(t, Reply(t, ""), key, cert, p.Issuing),
		Other: Sign(t, Reply(t, "Một văn bản khác, ký bởi cùng người ký."), ok, oc, p.Issuing), Signer: cert, Trusted: p.Issuing}
}

// Expected is the sub-indication each hostile document must get.
var Expected = map[string]string{
	"one byte flipped inside the signed range":        "HASH_FAILURE",
	"one byte flipped in the second signed range":     "HASH_FAILURE",
	"incremental update changing the page text":       "SIG_CONSTRAINTS_FAILURE",
	"byte range with a negative value":                "FORMAT_FAILURE",
	"byte range overlapping":                          "FORMAT_FAILURE",
	"byte range not covering the gap exactly":         "FORMAT_FAILURE",
	"byte range past the end":                         "FORMAT_FAILURE",
	"byte range not starting at zero":                 "FORMAT_FAILURE",
	"byte range of three values":                      "FORMAT_FAILURE",
	"contents from another document's signature":      "HASH_FAILURE",
	"self-signed certificate with a signer's name":    "NO_CERTIFICATE_CHAIN_FOUND",
	"trusted certificate next to an untrusted signer": "NO_CERTIFICATE_CHAIN_FOUND",
	"truncated":                       "FORMAT_FAILURE",
	"truncated before the end marker": "FORMAT_FAILURE",
	"empty":                           "FORMAT_FAILURE",
	"not a PDF":                       "FORMAT_FAILURE",
	"flate bomb":                      "SIGNED_DATA_NOT_FOUND",
	"genuine reply with a flate bomb appended": "SIG_CONSTRAINTS_FAILURE",
	"huge /Size in an appended trailer":        "SIG_CONSTRAINTS_FAILURE",
	"/Prev loop in an appended trailer":        "SIG_CONSTRAINTS_FAILURE",
	"garbage /ByteRange":                       "FORMAT_FAILURE",
	"unterminated dictionary":                  "FORMAT_FAILURE",
	"deep nesting":                             "FORMAT_FAILURE",
}

// Hostile is the corpus of attacks built from c; none may pass.
func Hostile(t testing.TB, c Corpus) map[string][]byte {
	t.Helper()
	g := c.Genuine
	br := ByteRange(t, g)
	flip := bytes.Clone(g)
	flip[br[1]/2] ^= 0x01
	flipTail := bytes.Clone(g)
	flipTail[len(flipTail)-20] ^= 0x20

	// A self-signed certificate with the real signer's subject.
	fakeKey := ECKey(t)
	ft := *c.Signer
	ft.AuthorityKeyId, ft.PublicKey = nil, fakeKey.Public()
	ft.IsCA, ft.BasicConstraintsValid = true, true
	ft.KeyUsage |= x509.KeyUsageCertSign
	fake := MustCert(t, &ft, &ft, fakeKey.Public(), fakeKey)
	selfSigned := Sign(t, Reply(t, ""), fakeKey, fake)

	// An untrusted signer next to a trusted, unrelated certificate.
	rogue := NewPKI(t, "rogue")
	rc, rk := rogue.Signer(t, c.Signer.Subject.CommonName, nil)
	untrusted := EmbedCert(t, Sign(t, Reply(t, ""), rk, rc, rogue.Issuing), c.Trusted)

	out := map[string][]byte{
		"one byte flipped inside the signed range":        flip,
		"one byte flipped in the second signed range":     flipTail,
		"incremental update changing the page text":       AppendUpdate(t, g, "", false),
		"byte range with a negative value":                WithByteRange(t, g, 0, br[1], -1, br[3]),
		"byte range overlapping":                          WithByteRange(t, g, 0, br[2]+10, br[2], br[3]),
		"byte range not covering the gap exactly":         WithByteRange(t, g, 0, br[1]-2, br[2], br[3]),
		"byte range past the end":                         WithByteRange(t, g, 0, br[1], br[2], br[3]+5000),
		"byte range not starting at zero":                 WithByteRange(t, g, 1, br[1]-1, br[2], br[3]),
		"byte range of three values":                      WithByteRange(t, g, 0, br[1], br[2]),
		"contents from another document's signature":      WithCMS(t, g, CMSOf(t, c.Other)),
		"self-signed certificate with a signer's name":    selfSigned,
		"trusted certificate next to an untrusted signer": untrusted,
		"truncated":                       g[:len(g)/2],
		"truncated before the end marker": g[:len(g)-7],
		"empty":                           {},
		"not a PDF":                       []byte("GIF89a this is not a document at all %%EOF"),
		"flate bomb":                      FlateBomb(t),
		"genuine reply with a flate bomb appended": append(bytes.Clone(g), FlateBomb(t)...),
		"huge /Size in an appended trailer":        AppendUpdate(t, g, "/XSize 999999999999999 ", false),
		"/Prev loop in an appended trailer":        AppendUpdate(t, g, "", true),
		"garbage /ByteRange":                       bytes.Replace(bytes.Clone(g), []byte("/ByteRange"), []byte("/ByteRange[(x)] /Z"), 1),
		"unterminated dictionary":                  []byte("%PDF-1.7\n1 0 obj << /ByteRange [0 1 2 3] /Contents <00"),
		"deep nesting":                             []byte("%PDF-1.7\n1 0 obj << /ByteRange " + strings.Repeat("[", 100000) + "\n%%EOF"),
	}
	if len(out) != len(Expected) {
		t.Fatalf("%d hostile documents, %d expectations", len(out), len(Expected))
	}
	return out
}

// B64 wraps base64 at 64 columns, as PEM does.
func B64(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out []string
	for len(s) > 64 {
		out = append(out, s[:64])
		s = s[64:]
	}
	return strings.Join(append(out, s), "\n")
}

// CMSOf returns the DER of the signature's CMS, without the zero padding.
func CMSOf(t testing.TB, pdf []byte) []byte {
	t.Helper()
	return pdftest.Contents(t, pdf, pdftest.ByteRanges(t, pdf)[0])
}

// WithCMS writes der as the signature's /Contents, zero-padded, keeping
// the file's layout.
func WithCMS(t testing.TB, pdf, der []byte) []byte {
	t.Helper()
	br := ByteRange(t, pdf)
	h := hex.EncodeToString(der)
	width := int(br[2] - br[1] - 2)
	if len(h) > width {
		t.Fatalf("CMS of %d hex digits does not fit in %d", len(h), width)
	}
	out := bytes.Clone(pdf)
	copy(out[br[1]+1:br[2]-1], h+strings.Repeat("0", width-len(h)))
	return out
}

// EmbedCert adds cert to the certificates of the signature's CMS (which
// the signature does not cover), keeping the file's layout.
func EmbedCert(t testing.TB, pdf []byte, cert *x509.Certificate) []byte {
	t.Helper()
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(CMSOf(t, pdf), &ci); err != nil {
		t.Fatal(err)
	}
	var sd struct {
		Version          int
		DigestAlgorithms asn1.RawValue
		EncapContentInfo asn1.RawValue
		Certificates     asn1.RawValue `asn1:"optional,tag:0"`
		CRLs             asn1.RawValue `asn1:"optional,tag:1"`
		SignerInfos      asn1.RawValue
	}
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	sd.Certificates = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: append(bytes.Clone(sd.Certificates.Bytes), cert.Raw...)}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue
	}{ci.ContentType, asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
	if err != nil {
		t.Fatal(err)
	}
	return WithCMS(t, pdf, outer)
}

// Authority is an in-process time-stamping authority whose certificate
// p's issuing CA issues as pakn's bootstrap does (timeStamping alone, in a
// critical extension, valid five years), telling the time from now
// (time.Now when nil).
func (p *PKI) Authority(t testing.TB, now func() time.Time) *tsa.Authority {
	t.Helper()
	key := ECKey(t)
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		t.Fatal(err)
	}
	cert := MustCert(t, &x509.Certificate{SerialNumber: serials.next(), Subject: pkix.Name{CommonName: "pakn test TSA", Organization: []string{"pakn"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(5 * 365 * 24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}}}, p.Issuing, key.Public(), p.IssuingKey)
	a, err := tsa.New(key, []*x509.Certificate{cert, p.Issuing}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ServeTSA serves a on loopback as an external RFC 3161 authority (POST,
// application/timestamp-query) and returns its URL; it stops with t.
func ServeTSA(t testing.TB, a *tsa.Authority) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, tsa.MaxRequest+1))
		resp, err := a.Respond(body)
		if resp == nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		_, _ = w.Write(resp)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// SignStamped signs doc like Sign, with a signature time-stamp from stamp
// (none when nil): PAdES B-T.
func SignStamped(t testing.TB, doc []byte, stamp reply.Stamper, key crypto.Signer, chain ...*x509.Certificate) []byte {
	t.Helper()
	out, err := signing.SignPDF(doc, reply.SignRequest{Signer: key, Chain: chain, Name: "Le Hoang Cuong", Reason: "test", Location: "Ha Noi", Stamp: stamp})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// SignLTA signs doc as pakn issues replies: time-stamped by a, with the
// chain (cert, p's issuing CA, root) and p's current CRL embedded, and a
// document time-stamp over them (PAdES B-LTA).
func (p *PKI) SignLTA(t testing.TB, doc []byte, a *tsa.Authority, key crypto.Signer, cert *x509.Certificate) []byte {
	t.Helper()
	out, err := signing.SignPDF(doc, reply.SignRequest{Signer: key, Chain: []*x509.Certificate{cert, p.Issuing, p.Root}, Name: "Le Hoang Cuong",
		Reason: "test", Location: "Ha Noi", Stamp: a.Respond, CRLs: [][]byte{p.CRL.Raw}})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// WithHighS replaces the ECDSA signature value (r, s) of the signature's
// CMS with its twin (r, n-s), which verifies as well: the same signature
// written differently, keeping the file's layout.
func WithHighS(t testing.TB, pdf []byte, curve elliptic.Curve) []byte {
	t.Helper()
	return rewriteSignerInfo(t, pdf, func(si *signerInfo) {
		var sig struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(si.Signature, &sig); err != nil {
			t.Fatal(err)
		}
		sig.S = new(big.Int).Sub(curve.Params().N, sig.S)
		var err error
		if si.Signature, err = asn1.Marshal(sig); err != nil {
			t.Fatal(err)
		}
	})
}

// Untimed removes the signature's unsigned attributes (its time-stamp),
// which the signature does not cover, keeping the file's layout: the same
// signature, proving no time.
func Untimed(t testing.TB, pdf []byte) []byte {
	t.Helper()
	return rewriteSignerInfo(t, pdf, func(*signerInfo) {})
}

// SignatureRevision is pdf up to the end of what its first signature
// covers: a reply as issued (PAdES B-LTA) without its validation data and
// document time-stamps.
func SignatureRevision(t testing.TB, pdf []byte) []byte {
	t.Helper()
	br := ByteRange(t, pdf)
	return bytes.Clone(pdf[:br[2]+br[3]])
}

// signerInfo is a CMS SignerInfo read without its unsigned attributes.
type signerInfo struct {
	Version                                         int
	SID, DigestAlgorithm, SignedAttrs, SignatureAlg asn1.RawValue
	Signature                                       []byte
}

// rewriteSignerInfo lets change alter the signer info of the signature's
// CMS (its unsigned attributes are dropped) and writes the CMS back in
// place.
func rewriteSignerInfo(t testing.TB, pdf []byte, change func(*signerInfo)) []byte {
	t.Helper()
	type raw = asn1.RawValue
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     raw `asn1:"explicit,tag:0"`
	}
	var sd struct {
		Version                                          int
		DigestAlgorithms, EncapContentInfo, Certificates raw
		SignerInfos                                      raw
	}
	var si signerInfo
	for _, step := range []func() error{
		func() error { _, err := asn1.Unmarshal(CMSOf(t, pdf), &ci); return err },
		func() error { _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); return err },
		func() error { _, err := asn1.Unmarshal(sd.SignerInfos.Bytes, &si); return err },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	change(&si)
	one, err := asn1.Marshal(si)
	if err != nil {
		t.Fatal(err)
	}
	sd.SignerInfos = raw{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: one}
	inner, err := asn1.Marshal(sd)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Content     raw
	}{ci.ContentType, raw{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: inner}})
	if err != nil {
		t.Fatal(err)
	}
	return WithCMS(t, pdf, outer)
}

// SignerSignature returns what the first signature of pdf verifies with
// one ECDSA verification: the signer's public key (from the CMS's first
// certificate), the SHA-256 of the DER signed attributes (re-tagged as a
// SET, as CMS signs them) and the signature. It is the benchmarks' raw
// floor of a verification: hash the file, verify one signature.
func SignerSignature(t testing.TB, pdf []byte) (*ecdsa.PublicKey, []byte, []byte) {
	t.Helper()
	s := cryptobyte.String(CMSOf(t, pdf))
	var ci, sd, certs, infos, info, attrs cryptobyte.String
	var sig []byte
	ok := s.ReadASN1(&ci, cbasn1.SEQUENCE) && ci.SkipASN1(cbasn1.OBJECT_IDENTIFIER) &&
		ci.ReadASN1(&sd, cbasn1.Tag(0).Constructed().ContextSpecific()) && sd.ReadASN1(&sd, cbasn1.SEQUENCE) &&
		sd.SkipASN1(cbasn1.INTEGER) && sd.SkipASN1(cbasn1.SET) && sd.SkipASN1(cbasn1.SEQUENCE) &&
		sd.ReadASN1(&certs, cbasn1.Tag(0).Constructed().ContextSpecific()) &&
		sd.SkipOptionalASN1(cbasn1.Tag(1).Constructed().ContextSpecific()) && sd.ReadASN1(&infos, cbasn1.SET) &&
		infos.ReadASN1(&info, cbasn1.SEQUENCE) && info.SkipASN1(cbasn1.INTEGER) && info.SkipASN1(cbasn1.SEQUENCE) &&
		info.SkipASN1(cbasn1.SEQUENCE) && info.ReadASN1Element(&attrs, cbasn1.Tag(0).Constructed().ContextSpecific()) &&
		info.SkipASN1(cbasn1.SEQUENCE) && info.ReadASN1Bytes(&sig, cbasn1.OCTET_STRING)
	if !ok {
		t.Fatal("signer signature: the CMS is not shaped as pakn signs")
	}
	var first cryptobyte.String
	if !certs.ReadASN1Element(&first, cbasn1.SEQUENCE) {
		t.Fatal("signer signature: no certificate")
	}
	cert, err := x509.ParseCertificate(first)
	if err != nil {
		t.Fatal(err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		t.Fatalf("signer signature: a %T key", cert.PublicKey)
	}
	set := append([]byte{}, attrs...)
	set[0] = 0x31 // [0] IMPLICIT becomes SET OF
	digest := sha256.Sum256(set)
	if !ecdsa.VerifyASN1(pub, digest[:], sig) {
		t.Fatal("signer signature: the first certificate's key does not verify it")
	}
	return pub, digest[:], sig
}
