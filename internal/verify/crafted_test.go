package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"pakn/internal/verifytest"
)

// Inputs built to make a naive scanner or parser quadratic, at the largest
// size accepted: each gets a definite verdict (none passes, none is cut by
// the time limit), a report of bounded size, and leaves no work behind.
func TestCraftedInputsGetDefiniteVerdicts(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	v := verifier(p)
	makers := verifytest.Crafted(MaxSize - 1024)
	for _, name := range makers.Names() {
		t.Run(name, func(t *testing.T) {
			doc := makers[name]()
			if len(doc) > MaxSize {
				t.Fatalf("crafted %d bytes, more than accepted", len(doc))
			}
			r := v.Verify(context.Background(), doc)
			if r.Indication == TotalPassed || r.SubIndication == TimeLimitExceeded || r.SubIndication == "" {
				t.Fatalf("%s / %s:\n%s", r.Indication, r.SubIndication, r.Text())
			}
			if len(r.Signatures) > MaxSignatures {
				t.Fatalf("%d signatures examined", len(r.Signatures))
			}
			js, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(js) > 64<<10 {
				t.Fatalf("report of %d bytes for a crafted input", len(js))
			}
			if name == "thousands of signature dictionaries" && !strings.Contains(r.Text(), "too many signatures") {
				t.Errorf("want the plain reason \"too many signatures\":\n%s", r.Text())
			}
		})
	}
}

// The time limit stops the work itself: Verify returns the time-limit
// verdict, no goroutine of the verification survives it, and the process
// does no more work for the document afterwards.
func TestTimeLimitStopsTheWork(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	v := verifier(p)
	v.Timeout = time.Millisecond
	before := runtime.NumGoroutine()
	for name, mk := range verifytest.Crafted(MaxSize - 1024) {
		doc := mk()
		r := v.Verify(context.Background(), doc)
		if r.Indication == TotalPassed {
			t.Fatalf("%s passed", name)
		}
		if r.SubIndication == TimeLimitExceeded && (!strings.Contains(r.SummaryEN, "took too long") || !strings.Contains(r.SummaryVI, "quá nhiều thời gian")) {
			t.Fatalf("%s: summary %q / %q", name, r.SummaryVI, r.SummaryEN)
		}
	}
	// The genuine reply's hash alone takes longer than a nanosecond's limit.
	v.Timeout = time.Nanosecond
	if r := v.Verify(context.Background(), p.Genuine(t)); r.SubIndication != TimeLimitExceeded {
		t.Fatalf("a nanosecond's limit: %s", r.Text())
	}
	runtime.GC()
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines before, %d after", before, after)
	}
	start := verifytest.CPUTime(t)
	time.Sleep(500 * time.Millisecond)
	if used := verifytest.CPUTime(t) - start; used > 150*time.Millisecond {
		t.Fatalf("the process used %s of CPU in the half second after the answers", used)
	}
}

// A CMS is refused before its certificates are parsed when it carries more
// than twenty, and a time-stamp token above 64 KiB is refused unread.
func TestCMSBoundsApplyBeforeParsing(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	der := verifytest.CMSOf(t, p.Genuine(t))
	var ci contentInfo
	if _, err := asn1.Unmarshal(der, &ci); err != nil {
		t.Fatal(err)
	}
	var sd signedData
	if _, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		t.Fatal(err)
	}
	remarshal := func(sd signedData) []byte {
		sdDER, err := asn1.Marshal(sd)
		if err != nil {
			t.Fatal(err)
		}
		out, err := asn1.Marshal(contentInfo{ContentType: oidSignedData, Content: asn1.RawValue{Class: 2, Tag: 0, IsCompound: true, Bytes: sdDER}})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tt := range []struct {
		name  string
		certs int
		ok    bool
	}{{"twenty certificates", 20, true}, {"twenty-one", 21, false}, {"two thousand", 2000, false}} {
		many := sd
		many.Certificates = asn1.RawValue{Class: 2, Tag: 0, IsCompound: true, Bytes: bytes.Repeat(p.Root.Raw, tt.certs)}
		_, err := parseCMS(remarshal(many))
		if (err == nil) != tt.ok || (!tt.ok && !strings.Contains(err.Error(), "more than 20")) {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// A time-stamp token over maxTimestampSize as the unsigned attribute.
	tok, _ := asn1.Marshal(asn1.RawValue{Tag: asn1.TagOctetString, Bytes: make([]byte, maxTimestampSize)})
	un, err := asn1.MarshalWithParams([]attribute{{Type: oidTimeStampToken, Values: asn1.RawValue{Class: 0, Tag: 17, IsCompound: true, Bytes: tok}}}, "set")
	if err != nil {
		t.Fatal(err)
	}
	var si signerInfo
	if _, err := asn1.Unmarshal(sd.SignerInfos.Bytes, &si); err != nil {
		t.Fatal(err)
	}
	signers := func(sis ...signerInfo) asn1.RawValue {
		var b []byte
		for _, s := range sis {
			der, err := asn1.Marshal(s)
			if err != nil {
				t.Fatal(err)
			}
			b = append(b, der...)
		}
		return asn1.RawValue{Tag: asn1.TagSet, IsCompound: true, Bytes: b}
	}
	big := sd
	withToken := si
	withToken.UnsignedAttrs = asn1.RawValue{FullBytes: append([]byte{0xA1}, un[1:]...)}
	big.SignerInfos = signers(withToken)
	if _, err := parseCMS(remarshal(big)); err == nil || !strings.Contains(err.Error(), "time-stamp token larger") {
		t.Fatalf("oversized time-stamp token: %v", err)
	}
	// Thousands of signers are counted, not parsed.
	many := sd
	many.SignerInfos = signers(slices.Repeat([]signerInfo{si}, 2000)...)
	if _, err := parseCMS(remarshal(many)); err == nil || !strings.Contains(err.Error(), "exactly one signer") {
		t.Fatalf("2,000 signers: %v", err)
	}
	// A time-stamp token nested deeper than DER of a real one.
	deep := []byte{0x04, 0x00}
	for range 60 {
		deep, _ = asn1.Marshal(asn1.RawValue{Tag: asn1.TagSequence, IsCompound: true, Bytes: deep})
	}
	un, _ = asn1.MarshalWithParams([]attribute{{Type: oidTimeStampToken, Values: asn1.RawValue{Class: 0, Tag: 17, IsCompound: true, Bytes: deep}}}, "set")
	withToken.UnsignedAttrs = asn1.RawValue{FullBytes: append([]byte{0xA1}, un[1:]...)}
	big.SignerInfos = signers(withToken)
	if _, err := parseCMS(remarshal(big)); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Fatalf("deeply nested time-stamp token: %v", err)
	}
}

// Certificates whose handling would cost more than their size are refused
// before anything is done with them: huge RSA moduli, huge names.
func TestCostlyCertificatesAreRefused(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	huge := new(big.Int).Lsh(big.NewInt(1), 16000)
	huge.Add(huge, big.NewInt(1))
	bigRSA := verifytest.MustCert(t, &x509.Certificate{SerialNumber: big.NewInt(77), Subject: pkix.Name{CommonName: "x"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}, p.Issuing, &rsa.PublicKey{N: huge, E: 65537}, p.IssuingKey)
	var ous []string
	for i := range 600 {
		ous = append(ous, fmt.Sprintf("đơn vị %d", i))
	}
	bigName := verifytest.MustCert(t, &x509.Certificate{SerialNumber: big.NewInt(78), Subject: pkix.Name{CommonName: "x", OrganizationalUnit: ous},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}, p.Issuing, verifytest.ECKey(t).Public(), p.IssuingKey)
	for _, tt := range []struct {
		cert *x509.Certificate
		want string
	}{{bigRSA, "RSA key of 16001 bits"}, {bigName, "name is longer"}, {p.Issuing, ""}} {
		err := certAcceptable(tt.cert)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("want %q, got %v", tt.want, err)
		}
	}
}

// countdown is a context whose Err reports cancellation from its n-th call
// on: it shows that a loop asks, however far it has gone.
type countdown struct {
	context.Context
	n int
}

func (c *countdown) Err() error {
	if c.n--; c.n < 0 {
		return context.Canceled
	}
	return nil
}

// Every loop over the document checks the context: the scan, the
// dictionary parser and the hashing each stop when it is done.
func TestLoopsCheckTheContext(t *testing.T) {
	makers := verifytest.Crafted(MaxSize - 1024)
	budget := maxTokens
	if _, err := findSignatures(&countdown{context.Background(), 1}, makers["obj words before each /ByteRange"]()); !errors.Is(err, context.Canceled) {
		t.Errorf("scan: %v", err)
	}
	doc := makers["huge /ByteRange array"]()
	d, _ := parseSigObject(&countdown{context.Background(), 1}, doc, bytes.Index(doc, []byte("<<")), &budget)
	if !errors.Is(d.Err, context.Canceled) {
		t.Errorf("parser: %v", d.Err)
	}
	if _, err := hashDocument(&countdown{context.Background(), 3}, make([]byte, 10*hashChunk)); !errors.Is(err, context.Canceled) {
		t.Errorf("hashing: %v", err)
	}
	if _, err := hashRanges(&countdown{context.Background(), 3}, crypto.SHA256, make([]byte, 10*hashChunk)); !errors.Is(err, context.Canceled) {
		t.Errorf("hashing ranges: %v", err)
	}
}

// Eight signature dictionaries are examined; a ninth is "too many".
func TestMaxSignatures(t *testing.T) {
	doc := func(n int) []byte {
		var b bytes.Buffer
		b.WriteString("%PDF-1.7\n")
		for i := range n {
			fmt.Fprintf(&b, "%d 0 obj\n<< /Type /Sig /ByteRange [0 1 2 3] /Contents <00> /SubFilter /adbe.pkcs7.detached >>\nendobj\n", i+1)
		}
		b.WriteString("%%EOF\n")
		return b.Bytes()
	}
	for _, tt := range []struct {
		n        int
		tooMany  bool
		examined int
	}{{MaxSignatures, false, MaxSignatures}, {MaxSignatures + 1, true, 0}} {
		r := verifier(verifytest.NewPKI(t, "pakn")).Verify(context.Background(), doc(tt.n))
		if strings.Contains(r.Text(), "too many signatures") != tt.tooMany || len(r.Signatures) != tt.examined {
			t.Errorf("%d dictionaries: %d examined\n%s", tt.n, len(r.Signatures), r.Text())
		}
	}
}

// A report's size is bounded: details and certificate fields are cut.
func TestReportIsBounded(t *testing.T) {
	long := strings.Repeat("Nguyễn ", 200)
	r := &Report{Checks: []Check{{"x", Failed, long}}, Signatures: []Signature{{Checks: []Check{{"y", Failed, long}},
		Signer: &Certificate{Subject: long, CommonName: long, Organization: long, Issuer: long}}}}
	r.bound()
	for _, f := range []string{r.Checks[0].Detail, r.Signatures[0].Checks[0].Detail, r.Signatures[0].Signer.Subject,
		r.Signatures[0].Signer.CommonName, r.Signatures[0].Signer.Organization, r.Signatures[0].Signer.Issuer} {
		if len(f) > maxDetail+len("…") || !utf8.ValidString(f) {
			t.Errorf("field of %d bytes (valid UTF-8: %v)", len(f), utf8.ValidString(f))
		}
	}
}

// A document whose reading the time limit cut short is not remembered as
// read: its dictionaries would say what the clock did, not the bytes.
func TestCutShortReadingIsNotRemembered(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	doc := verifytest.Crafted(1 << 20)["huge /ByteRange array"]() // a dictionary of many tokens
	v := verifier(p)
	dh, err := hashDocument(context.Background(), doc)
	if err != nil {
		t.Fatal(err)
	}
	// The scan's first check passes; the dictionary parser's then see the time is up.
	ctx := withDocHash(&countdown{context.Background(), 1}, dh)
	sigs, err := v.signatures(ctx, doc)
	if err == nil && (len(sigs) == 0 || !errors.Is(sigs[0].Err, context.Canceled)) {
		t.Fatalf("the parse was not cut short (%d signatures, %v): the test does not test", len(sigs), err)
	}
	if len(v.cache.docs) != 0 {
		t.Fatal("a reading cut short by the time limit was remembered")
	}
	if got, want := v.Verify(context.Background(), doc), verifier(p).Verify(context.Background(), doc); got.Text() != want.Text() {
		t.Fatalf("the same document afterwards:\n%s\nwant\n%s", got.Text(), want.Text())
	}
}
