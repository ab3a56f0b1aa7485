package verify

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pakn/internal/pdftest"
	"pakn/internal/verifytest"
)

func TestGenuineReplyPasses(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	g := p.Genuine(t)
	v := verifier(p)
	want, err := Binding(g)
	if err != nil {
		t.Fatal(err)
	}
	v.FindIssued = func(_ context.Context, binding, _ string) (*Match, error) {
		if binding != want {
			return nil, nil
		}
		return &Match{ReplyID: "r1", Number: "1/STP-HN-PAKN", Status: "current", AgencyName: "Sở Tư pháp"}, nil
	}
	r := v.Verify(context.Background(), g)
	if r.Indication != TotalPassed || r.SubIndication != "" || len(r.Signatures) != 1 {
		t.Fatalf("genuine reply: %s", r.Text())
	}
	s := r.Signatures[0]
	if !s.CoversWholeFile || s.Signer == nil || s.Signer.CommonName != "Lê Hoàng Cường" || s.Signer.Organization != "pakn" || s.TimestampTime != nil {
		t.Fatalf("signature report %+v", s)
	}
	for _, name := range []string{"byte_range", "cms", "message_digest", "signature_value", "certificate_chain", "certificate_validity", "key_usage", "revocation"} {
		found := false
		for _, c := range s.Checks {
			found = found || (c.Name == name && c.Result == Passed)
		}
		if !found {
			t.Errorf("check %s not passed: %+v", name, s.Checks)
		}
	}
	if !r.Register.Found || !strings.Contains(r.SummaryVI, "1/STP-HN-PAKN") || !strings.Contains(r.SummaryEN, "genuine") {
		t.Fatalf("register and summary: %+v %q %q", r.Register, r.SummaryVI, r.SummaryEN)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatal(err)
	}
	if r.Binding != want {
		t.Fatalf("the report's binding %s, issuance's %s", r.Binding, want)
	}
}

// The register is part of the verdict: a valid signature on a document
// the system did not issue is not a pass, a register that cannot be
// searched leaves the question open, and no register at all says so.
func TestRegisterDecidesTheVerdict(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	g := p.Genuine(t)
	v := verifier(p)
	for _, c := range []struct {
		name      string
		find      FindIssued
		ind, sub  string
		summaryEN string
	}{
		{"not issued", func(context.Context, string, string) (*Match, error) { return nil, nil }, TotalFailed, NotInRegister, "did not issue"},
		{"register down", func(context.Context, string, string) (*Match, error) { return nil, errors.New("connection refused") },
			Indeterminate, TryLater, "register of issued documents cannot be searched"},
		{"no register", nil, Indeterminate, RegisterNotConsulted, "register was not consulted"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v.FindIssued = c.find
			r := v.Verify(context.Background(), g)
			if r.Indication != c.ind || r.SubIndication != c.sub || !strings.Contains(r.SummaryEN, c.summaryEN) || r.Signatures[0].Indication != TotalPassed {
				t.Fatalf("%s / %s, want %s / %s:\n%s", r.Indication, r.SubIndication, c.ind, c.sub, r.Text())
			}
		})
	}
	// A document that failed on its own keeps its failure whatever the register says.
	v.FindIssued = func(context.Context, string, string) (*Match, error) { return nil, nil }
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	revoked := verifytest.Sign(t, verifytest.Reply(t, ""), key, cert, p.Issuing)
	p.Revoke(t, cert, time.Now().Add(-time.Minute))
	if r := v.Verify(context.Background(), revoked); r.SubIndication != Revoked {
		t.Fatalf("revoked and unregistered: %s", r.Text())
	}
	other := verifytest.NewPKI(t, "other").Genuine(t)
	if r := v.Verify(context.Background(), other); r.SubIndication != NoCertificateChain {
		t.Fatalf("untrusted and unregistered: %s", r.Text())
	}
}

// Bytes outside the signature's cover that leave the signature as it is
// (the hex digits' case, the zero padding, an ECDSA value's high-S twin)
// leave the binding as it is: the register still finds the reply (and its
// status), where the file's SHA-256 would not.
func TestBindingIgnoresUnsignedBytes(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	g := p.Genuine(t)
	want, err := Binding(g)
	if err != nil {
		t.Fatal(err)
	}
	br := verifytest.ByteRange(t, g)
	upper := bytes.Clone(g)
	copy(upper[br[1]:br[2]], bytes.ToUpper(g[br[1]:br[2]]))
	v := verifier(p)
	v.FindIssued = func(_ context.Context, binding, _ string) (*Match, error) {
		if binding != want {
			return nil, nil
		}
		return &Match{ReplyID: "r1", Number: "1/STP-HN-PAKN", Status: "superseded", SupersededBy: "r2"}, nil
	}
	for name, doc := range map[string][]byte{
		"upper-case hex digits":         upper,
		"another certificate carried":   verifytest.EmbedCert(t, g, p.Root),
		"the ECDSA value's high-S twin": verifytest.WithHighS(t, g, elliptic.P256()),
	} {
		t.Run(name, func(t *testing.T) {
			if bytes.Equal(doc, g) {
				t.Fatal("the variant is the genuine file")
			}
			r := v.Verify(context.Background(), doc)
			if r.Indication != TotalPassed || r.Register == nil || !r.Register.Found || r.Register.Status != "superseded" || r.Binding != want {
				t.Fatalf("the variant lost its register entry:\n%s", r.Text())
			}
		})
	}
	// Altered signed bytes make another binding (and fail anyway).
	if _, err := Binding(bytes.Replace(g, []byte("/Producer"), []byte("/Producex"), 1)); err == nil {
		t.Fatal("a binding for altered signed bytes")
	}
}

type staticCRL struct{ p *verifytest.PKI }

func (s staticCRL) CRLs(context.Context) ([]*x509.RevocationList, error) {
	return []*x509.RevocationList{s.p.CRL}, nil
}

// verifier trusts only p's root and reads p's CRL.
func verifier(p *verifytest.PKI) *Verifier {
	pool := x509.NewCertPool()
	pool.AddCert(p.Root)
	return &Verifier{Roots: pool, CRL: staticCRL{p}, FindIssued: issuedAll}
}

// issuedAll is a register that holds every document: the tests of the
// signature's checks are not about the register.
func issuedAll(_ context.Context, binding, _ string) (*Match, error) {
	return &Match{ReplyID: "r-" + binding[:8], Number: "1/STP-HN-PAKN", Status: "current", AgencyName: "Sở Tư pháp"}, nil
}

// The hostile corpus: nothing passes, nothing panics, each failure is the
// one expected.
func TestHostileDocumentsNeverPass(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	want := verifytest.Expected
	corpus := verifytest.Hostile(t, p.Corpus(t))
	v := verifier(p)
	for name, doc := range corpus {
		t.Run(name, func(t *testing.T) {
			r := v.Verify(context.Background(), doc)
			if r.Indication == TotalPassed {
				t.Fatalf("TOTAL_PASSED:\n%s", r.Text())
			}
			if r.SubIndication != want[name] {
				t.Errorf("%s / %s, want %s:\n%s", r.Indication, r.SubIndication, want[name], r.Text())
			}
			if r.SummaryVI == "" || r.SummaryEN == "" {
				t.Error("no summary")
			}
		})
	}
	// The appended update really changes what a reader shows, and pdfsig says the signature no longer covers the document.
	mod := corpus["incremental update changing the page text"]
	if text := pdftest.Text(t, mod); !strings.Contains(text, "FORGED") {
		t.Fatalf("the forged update does not show: %s", text)
	}
	if rep := pdftest.Pdfsig(t, mod, p.Root); !strings.Contains(rep, "Not total document signed") {
		t.Fatalf("pdfsig on the modified reply:\n%s", rep)
	}
}

func TestRevocationValidityAndUsage(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	doc := verifytest.Reply(t, "")
	ctx := context.Background()

	revoked, rk := p.Signer(t, "Lê Hoàng Cường", nil)
	signedRevoked := verifytest.Sign(t, doc, rk, revoked, p.Issuing)
	p.Revoke(t, revoked, time.Now().Add(-time.Minute))
	if r := verifier(p).Verify(ctx, signedRevoked); r.Indication != TotalFailed || r.SubIndication != Revoked {
		t.Errorf("revoked signer: %s", r.Text())
	}

	server, sk := p.Signer(t, "web", func(c *x509.Certificate) {
		c.ExtKeyUsage, c.UnknownExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, nil
	})
	if r := verifier(p).Verify(ctx, verifytest.Sign(t, doc, sk, server, p.Issuing)); r.SubIndication != ChainConstraintsFailure {
		t.Errorf("server certificate: %s", r.Text())
	}
	noEKU, nk := p.Signer(t, "Lê Hoàng Cường", func(c *x509.Certificate) { c.ExtKeyUsage, c.UnknownExtKeyUsage = nil, nil })
	if r := verifier(p).Verify(ctx, verifytest.Sign(t, doc, nk, noEKU, p.Issuing)); r.Indication != TotalPassed {
		t.Errorf("no EKU is acceptable: %s", r.Text())
	}
	encOnly, ek := p.Signer(t, "x", func(c *x509.Certificate) { c.KeyUsage = x509.KeyUsageKeyEncipherment })
	if r := verifier(p).Verify(ctx, verifytest.Sign(t, doc, ek, encOnly, p.Issuing)); r.SubIndication != ChainConstraintsFailure {
		t.Errorf("key-encipherment-only certificate: %s", r.Text())
	}

	// Expired at verification time, no time-stamp: OUT_OF_BOUNDS_NO_POE.
	short, shk := p.Signer(t, "Lê Hoàng Cường", nil)
	g := verifytest.Sign(t, doc, shk, short, p.Issuing)
	v := verifier(p)
	if r := v.Verify(ctx, g); r.Indication != TotalPassed { // now the chain's signatures are remembered
		t.Fatalf("fresh: %s", r.Text())
	}
	v.Now = func() time.Time { return short.NotAfter.Add(time.Hour) }
	if r := v.Verify(ctx, g); r.Indication != Indeterminate || r.SubIndication != OutOfBoundsNoPOE {
		t.Errorf("expired (a remembered chain must not hide it): %s", r.Text())
	}

	// Revocation unknown: INDETERMINATE / TRY_LATER, never passed.
	v = verifier(p)
	v.CRL = failingCRL{}
	if r := v.Verify(ctx, g); r.Indication != Indeterminate || r.SubIndication != TryLater {
		t.Errorf("CRL unavailable: %s", r.Text())
	}
	v.CRL = nil
	if r := v.Verify(ctx, g); r.Indication != Indeterminate {
		t.Errorf("no CRL source: %s", r.Text())
	}
	// A CRL of another CA does not count.
	v.CRL = staticCRL{verifytest.NewPKI(t, "other")}
	if r := v.Verify(ctx, g); r.Indication != Indeterminate {
		t.Errorf("foreign CRL: %s", r.Text())
	}
}

type failingCRL struct{}

func (failingCRL) CRLs(context.Context) ([]*x509.RevocationList, error) {
	return nil, errors.New("vault unreachable")
}

func TestPanicsAndSlowDependenciesAreContained(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	g := p.Genuine(t)
	v := verifier(p)
	v.FindIssued = func(context.Context, string, string) (*Match, error) { panic("register exploded") }
	r := v.Verify(context.Background(), g)
	if r.Indication != TotalFailed || r.SubIndication != FormatFailure || strings.Contains(r.Text(), "exploded") {
		t.Fatalf("a panic: %s", r.Text())
	}
	v.FindIssued = func(ctx context.Context, _, _ string) (*Match, error) {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond)
		return nil, ctx.Err()
	}
	v.Timeout = 200 * time.Millisecond
	r = v.Verify(context.Background(), g)
	if r.Indication != Indeterminate || r.SubIndication != TimeLimitExceeded || !strings.Contains(r.SummaryEN, "took too long") {
		t.Fatalf("time limit: %s", r.Text())
	}
	// A CRL source that runs out of time is the time limit too, not "revocation could not be checked".
	v.FindIssued = nil
	v.CRL = slowCRL{}
	if r = v.Verify(context.Background(), g); r.SubIndication != TimeLimitExceeded || strings.Contains(r.SummaryEN, "revocation") {
		t.Fatalf("slow CRL: %s", r.Text())
	}
}

// A Verifier that sets no time limit gives each verification 10 seconds
// (SECURITY.md): the work's context, seen by the register lookup, ends
// 10 s after the verification began.
func TestDefaultTimeLimitIsTenSeconds(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	v := verifier(p)
	var deadline time.Time
	var ok bool
	v.FindIssued = func(ctx context.Context, _, _ string) (*Match, error) {
		deadline, ok = ctx.Deadline()
		return nil, nil
	}
	start := time.Now()
	v.Verify(context.Background(), p.Genuine(t))
	end := time.Now()
	if !ok || deadline.Before(start.Add(10*time.Second)) || deadline.After(end.Add(10*time.Second)) {
		t.Fatalf("deadline %v (set %v) for a verification begun at %v: want 10 s after", deadline, ok, start)
	}
}

type slowCRL struct{}

func (slowCRL) CRLs(ctx context.Context) ([]*x509.RevocationList, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestCachedCRL(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	now := time.Now()
	calls := 0
	fail := false
	c := &CachedCRL{TTL: time.Minute, Now: func() time.Time { return now }, Fetch: func(context.Context) ([]byte, error) {
		calls++
		if fail {
			return nil, errors.New("down")
		}
		return p.CRL.Raw, nil
	}}
	ctx := context.Background()
	for range 3 {
		if _, err := c.CRL(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if calls != 1 {
		t.Fatalf("%d fetches, want 1 within the TTL", calls)
	}
	now = now.Add(2 * time.Minute)
	fail = true
	if _, err := c.CRL(ctx); err != nil || calls != 2 {
		t.Fatalf("a failed refresh keeps a current list: %v (%d)", err, calls)
	}
	// An older list than one seen (a replay) is a failed refresh: the newer one stays.
	old := p.CRL
	leaf, _ := p.Signer(t, "revoked later", nil)
	p.Revoke(t, leaf, now)
	fail, served := false, p.CRL
	now = now.Add(2 * time.Minute)
	if got, err := c.CRL(ctx); err != nil || got.Number.Cmp(served.Number) != 0 {
		t.Fatalf("the newer list: %v", err)
	}
	c.Fetch = func(context.Context) ([]byte, error) { return old.Raw, nil }
	now = now.Add(2 * time.Minute)
	if got, err := c.CRL(ctx); err != nil || got.Number.Cmp(served.Number) != 0 {
		t.Fatalf("an older list replaced the newer one: %v", err)
	}
	// Past its NextUpdate, a list is not used, even freshly fetched.
	now = p.CRL.NextUpdate.Add(time.Minute)
	c.Fetch = func(context.Context) ([]byte, error) { return served.Raw, nil }
	if _, err := c.CRL(ctx); err == nil {
		t.Fatal("a list past its NextUpdate was used")
	}
	if _, err := ParseCRL(bytes.Repeat([]byte{1}, 10)); err == nil {
		t.Fatal("parsed garbage")
	}
}

func TestLoadAnchors(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	leaf, _ := p.Signer(t, "x", nil)
	write := func(certs ...*x509.Certificate) string {
		dir := t.TempDir()
		for i, c := range certs {
			pem := "-----BEGIN CERTIFICATE-----\n" + verifytest.B64(c.Raw) + "\n-----END CERTIFICATE-----\n"
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%d.pem", i)), []byte(pem), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	roots, inter, err := LoadAnchors(write(p.Root, p.Issuing), false)
	if err != nil || len(inter) != 1 || roots == nil {
		t.Fatalf("anchors: %v %d", err, len(inter))
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: poolOf(inter), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("the loaded anchors do not verify a signer: %v", err)
	}
	if _, _, err := LoadAnchors(write(p.Issuing), false); err == nil {
		t.Fatal("an intermediate alone was accepted as anchors")
	}
	if _, _, err := LoadAnchors(write(p.Root, leaf), false); err == nil {
		t.Fatal("a leaf was accepted as an anchor")
	}
	if _, _, err := LoadAnchors(t.TempDir(), false); err == nil {
		t.Fatal("an empty folder was accepted")
	}
	sys, _, err := LoadAnchors(write(p.Root), true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: sys, Intermediates: poolOf([]*x509.Certificate{p.Issuing}), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("with the system roots, ours are still trusted: %v", err)
	}
}

func poolOf(certs []*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}

// pdfsig, mutool and qpdf, trusting the same root, accept the genuine reply
// this verifier passes.
func TestPdfsigAgreesOnGenuineReplies(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	g := p.Genuine(t)
	if rep := verifier(p).Verify(context.Background(), g); rep.Indication != TotalPassed {
		t.Fatalf("our verifier: %s", rep.Text())
	}
	pdftest.RequireValid(t, g, p.Root)
}

func TestTimestampGivesProofOfExistence(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	ctx := context.Background()
	cert, key := p.Signer(t, "Lê Hoàng Cường", nil)
	doc := verifytest.SignStamped(t, verifytest.Reply(t, ""), p.Authority(t, nil).Respond, key, cert, p.Issuing)

	r := verifier(p).Verify(ctx, doc)
	s := r.Signatures[0]
	if r.Indication != TotalPassed || s.TimestampTime == nil || time.Since(*s.TimestampTime) > time.Minute || !s.ValidationTime.Equal(*s.TimestampTime) {
		t.Fatalf("time-stamped reply: %s", r.Text())
	}
	// Years later, the certificate has expired: the time-stamp proves it was signed while valid.
	v := verifier(p)
	v.Now = func() time.Time { return cert.NotAfter.Add(24 * time.Hour) }
	if r := v.Verify(ctx, doc); r.Indication != TotalPassed {
		t.Fatalf("expired certificate with a time-stamp: %s", r.Text())
	}
	// Revoked after the time-stamp: still valid, with a warning.
	p.Revoke(t, cert, time.Now().Add(time.Second))
	v = verifier(p)
	v.Now = func() time.Time { return time.Now().Add(time.Hour) }
	r = v.Verify(ctx, doc)
	warned := false
	for _, c := range r.Signatures[0].Checks {
		warned = warned || (c.Name == "revocation" && c.Result == Warning)
	}
	if r.Indication != TotalPassed || !warned {
		t.Fatalf("revoked after the time-stamp: %s", r.Text())
	}
	// A TSA the anchors do not trust proves nothing: the current time is used.
	other := verifytest.NewPKI(t, "other")
	doc2 := verifytest.SignStamped(t, verifytest.Reply(t, ""), other.Authority(t, nil).Respond, key, cert, p.Issuing)
	v = verifier(p)
	v.Now = func() time.Time { return cert.NotAfter.Add(24 * time.Hour) }
	if r := v.Verify(ctx, doc2); r.SubIndication != OutOfBoundsNoPOE || r.Signatures[0].TimestampTime != nil {
		t.Fatalf("untrusted TSA: %s", r.Text())
	}
}
