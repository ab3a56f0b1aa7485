package verify

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"pakn/internal/apperr"
	"pakn/internal/reply"
	"pakn/internal/signing"
	"pakn/internal/tsa"
	"pakn/internal/verifytest"
)

// A reply as pakn issues it (PAdES B-LTA), verified years later with a
// clock the test controls.
func TestLongTermValidation(t *testing.T) {
	ctx := context.Background()
	p := verifytest.NewPKI(t, "pakn")
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	doc := p.SignLTA(t, verifytest.Reply(t, ""), p.Authority(t, nil), key, cert)
	signedAt := time.Now()
	later := cert.NotAfter.Add(2 * 365 * 24 * time.Hour) // three years on: the certificate expired two years ago
	at := func(v *Verifier, when time.Time) *Verifier { v.Now = func() time.Time { return when }; return v }

	r := verifier(p).Verify(ctx, doc)
	if r.Indication != TotalPassed || len(r.Signatures) != 2 || r.Signatures[1].SubFilter != SubFilterDocTimeStamp || r.Signatures[0].TimestampTime == nil {
		t.Fatalf("B-LTA reply today: %s", r.Text())
	}
	if r := at(verifier(p), later).Verify(ctx, doc); r.Indication != TotalPassed || !r.Signatures[0].ValidationTime.Before(signedAt.Add(time.Minute)) {
		t.Fatalf("three years later: %s", r.Text())
	}
	// Offline: no CA to ask, no register: the embedded lists and the issuance time-stamp.
	offline := &Verifier{Roots: verifier(p).Roots, IssuancePolicy: tsa.Issuance(nil)}
	if r := at(offline, later).Verify(ctx, doc); r.Indication != TotalPassed {
		t.Fatalf("offline, three years later: %s", r.Text())
	}
	// A document time-stamp under another policy (one served to others) attests nothing.
	offline.IssuancePolicy = tsa.Service(nil)
	if r := at(offline, later).Verify(ctx, doc); r.SubIndication != RegisterNotConsulted {
		t.Fatalf("offline, another policy: %s", r.Text())
	}
}

// The signer's certificate revoked a month after the reply was signed (the
// signer left, or lost the key: superseded, or keyCompromise dated then):
// the reply still passes. Revoked with a date before the signing: REVOKED.
func TestRevocationAtTheProvenTime(t *testing.T) {
	ctx := context.Background()
	for _, reason := range []int{4, 1} { // superseded, keyCompromise
		p := verifytest.NewPKI(t, "pakn")
		cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
		doc := p.SignLTA(t, verifytest.Reply(t, ""), p.Authority(t, nil), key, cert)
		month := time.Now().Add(30 * 24 * time.Hour)
		p.RevokeLater(t, cert, month, reason)
		v := verifier(p)
		v.Now = func() time.Time { return month.Add(24 * time.Hour) }
		r := v.Verify(ctx, doc)
		if r.Indication != TotalPassed || !hasCheck(r.Signatures[0], "revocation", Warning) {
			t.Fatalf("reason %d, revoked a month after signing: %s", reason, r.Text())
		}
		// New signing with the revoked certificate is refused.
		if _, err := signing.SignPDF(verifytest.Reply(t, ""), signRequest(p, cert, key)); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("reason %d: signed with a revoked certificate", reason)
		}
	}
	p := verifytest.NewPKI(t, "pakn")
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	doc := p.SignLTA(t, verifytest.Reply(t, ""), p.Authority(t, nil), key, cert)
	p.Revoke(t, cert, time.Now().Add(-10*time.Minute)) // a compromise dated before the signing
	if r := verifier(p).Verify(ctx, doc); r.SubIndication != Revoked {
		t.Fatalf("revoked before signing: %s", r.Text())
	}
}

// After the issuing CA is rotated (a new intermediate under the same
// root), replies of the old and the new CA verify, given both as anchors.
func TestCARotation(t *testing.T) {
	ctx := context.Background()
	p := verifytest.NewPKI(t, "pakn")
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	old := p.SignLTA(t, verifytest.Reply(t, ""), p.Authority(t, nil), key, cert)
	oldIssuing := p.Issuing
	p.RotateIssuing(t)
	cert2, key2 := p.Signer(t, "Lê Hoàng Cường", nil)
	fresh := p.SignLTA(t, verifytest.Reply(t, ""), p.Authority(t, nil), key2, cert2)
	pool := x509.NewCertPool()
	pool.AddCert(p.Root)
	v := &Verifier{Roots: pool, Intermediates: []*x509.Certificate{oldIssuing, p.Issuing}, IssuancePolicy: tsa.Issuance(nil)}
	for name, doc := range map[string][]byte{"old": old, "new": fresh} {
		if r := v.Verify(ctx, doc); r.Indication != TotalPassed {
			t.Fatalf("%s CA's reply after the rotation: %s", name, r.Text())
		}
	}
}

// Only validation data under a document time-stamp may follow the
// signature: a page changed in between, then time-stamped by a trusted
// authority, is a change after signing.
func TestNothingButValidationDataAfterTheSignature(t *testing.T) {
	ctx := context.Background()
	p := verifytest.NewPKI(t, "pakn")
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	auth := p.Authority(t, nil)
	signed := verifytest.SignStamped(t, verifytest.Reply(t, ""), auth.Respond, key, cert, p.Issuing, p.Root)
	edited := verifytest.AppendUpdate(t, signed, "", false)
	stamped, err := signing.Archive(edited, auth.Respond, nil, [][]byte{p.CRL.Raw})
	if err != nil {
		t.Fatal(err)
	}
	r := verifier(p).Verify(ctx, stamped)
	if r.Indication != TotalFailed || r.SubIndication != SigConstraintsFailure || !hasCheck(r.Signatures[0], "modification_after_signing", Failed) {
		t.Fatalf("an edit under a document time-stamp: %s", r.Text())
	}
	// The time-stamp's update itself altered: its catalog gains an action.
	genuine := p.SignLTA(t, verifytest.Reply(t, ""), auth, key, cert)
	budget := maxTokens
	br := verifytest.ByteRange(t, genuine)
	prev, err := lastCatalog(ctx, genuine[:br[2]+br[3]], &budget)
	if err != nil {
		t.Fatal(err)
	}
	objs, trailer, _, err := readUpdate(ctx, genuine, int(br[2]+br[3]), &budget)
	if err != nil {
		t.Fatal(err)
	}
	prevSize, err := lastTrailerSize(ctx, genuine[:br[2]+br[3]], &budget)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := checkUpdate(objs, trailer, prev, prevSize, &validationData{}); err != nil {
		t.Fatalf("the genuine update: %v", err)
	}
	// A stream the store does not name (content for something yet to come) is refused.
	extra := ltvObject{num: prevSize + 100, dict: pdfDict{entries: map[string]any{"Length": pdfInt(len(p.Root.Raw))}}, stream: p.Root.Raw}
	if _, err := checkUpdate(append(slices.Clone(objs), extra), trailer, prev, prevSize, &validationData{}); err == nil {
		t.Fatal("an update with a stream its store does not name passed")
	}
	// An object of the signed document redefined is refused.
	redefined := slices.Clone(objs)
	redefined[0].num = 1
	if _, err := checkUpdate(redefined, trailer, prev, prevSize, &validationData{}); err == nil {
		t.Fatal("an update redefining an object of the signed document passed")
	}
	byNum := map[int64]ltvObject{}
	var catalog, dss *ltvObject
	widget := int64(0)
	for i, o := range objs {
		byNum[o.num] = o
		switch o.dict.entries["Type"] {
		case pdfName("Catalog"):
			catalog = &objs[i]
		case pdfName("DSS"):
			dss = &objs[i]
		case pdfName("Annot"):
			widget = o.num
		}
	}
	if err := checkCatalog(catalog, prev, widget, dss, byNum); err != nil {
		t.Fatalf("the genuine update's catalog: %v", err)
	}
	catalog.dict.entries["OpenAction"] = pdfRef{1, 0}
	if err := checkCatalog(catalog, prev, widget, dss, byNum); err == nil {
		t.Fatal("a catalog with a new action passed")
	}
	// Issuance computes no binding for such a file either.
	if _, err := Binding(stamped); err == nil || !strings.Contains(err.Error(), "binding") {
		t.Fatalf("binding of an edited document: %v", err)
	}
}

// signRequest is how pakn signs with p's signer cert (B-LTA).
func signRequest(p *verifytest.PKI, cert *x509.Certificate, key crypto.Signer) reply.SignRequest {
	return reply.SignRequest{Signer: key, Chain: []*x509.Certificate{cert, p.Issuing, p.Root}, Stamp: func(q []byte) ([]byte, error) {
		return nil, errors.New("no time-stamp should be asked for")
	}, CRLs: [][]byte{p.CRL.Raw}}
}

func hasCheck(s Signature, name, result string) bool {
	for _, c := range s.Checks {
		if c.Name == name && c.Result == result {
			return true
		}
	}
	return false
}

// The verifier remembers signatures it has verified, by their DER, and
// what it read of a document, by the document's SHA-256: a second
// verification of the same reply passes without verifying or reading them
// again, and what depends on the document is still checked each time (an
// altered copy with the same signature fails on its digest; a copy whose
// signature value differs is verified, and fails).
func TestRememberedSignaturesStillCheckEachDocument(t *testing.T) {
	ctx := context.Background()
	p := verifytest.NewPKI(t, "pakn")
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	doc := p.SignLTA(t, verifytest.Reply(t, ""), p.Authority(t, nil), key, cert)
	v := verifier(p)
	for range 2 {
		if r := v.Verify(ctx, doc); r.Indication != TotalPassed {
			t.Fatalf("genuine: %s", r.Text())
		}
	}
	if len(v.cache.cms) != 1 || len(v.cache.tokens) != 2 || len(v.cache.docs) != 1 {
		t.Fatalf("remembered %d CMS, %d tokens and %d documents, want 1, 2 and 1", len(v.cache.cms), len(v.cache.tokens), len(v.cache.docs))
	}
	for _, d := range v.cache.docs {
		if len(d.sigs) != 2 || d.updates == nil || len(d.updates.certs) == 0 || len(d.updates.crls) == 0 {
			t.Fatalf("what was read of the reply: %d signatures, validation data %v", len(d.sigs), d.updates)
		}
	}
	altered := bytes.Replace(doc, []byte("/Producer"), []byte("/Producex"), 1)
	r := v.Verify(ctx, altered)
	if r.Indication != TotalFailed || len(r.Signatures) == 0 || r.Signatures[0].SubIndication != HashFailure {
		t.Fatalf("altered signed bytes, same signature: %s", r.Text())
	}
	_, _, sig := verifytest.SignerSignature(t, doc)
	cms := verifytest.CMSOf(t, doc)
	at := bytes.Index(cms, sig)
	if at < 0 {
		t.Fatal("the signature value is not in the CMS")
	}
	forged := bytes.Clone(cms)
	forged[at+len(sig)-1] ^= 1 // the last byte of s
	r = v.Verify(ctx, verifytest.WithCMS(t, doc, forged))
	if r.Indication != TotalFailed || len(r.Signatures) == 0 || r.Signatures[0].SubIndication != SigCryptoFailure {
		t.Fatalf("another signature value: %s", r.Text())
	}
}
