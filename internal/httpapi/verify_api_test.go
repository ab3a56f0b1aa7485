package httpapi

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/msg"
	"pakn/internal/reply"
	"pakn/internal/vault"
	"pakn/internal/verify"
	"pakn/internal/verifytest"
)

// signedPDF returns a signed reply's bytes from the database.
func (s *stack) signedPDF(replyID string) []byte {
	s.t.Helper()
	b, err := s.stores.Replies.PDF(context.Background(), replyID) // the personal version, opened
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

func (s *stack) issuingCA() *x509.Certificate { return s.caCert(vault.IssuingCAFile) }

// corpus builds the hostile documents from replies signed through Vault.
func (s *stack) corpus(draftID, signedID string) (verifytest.Corpus, map[string][]byte) {
	s.t.Helper()
	ctx := context.Background()
	if _, err := s.replies.ReviewReply(ctx, audit.Meta{}, principal(s.byRole[access.Reviewer]), draftID, true, ""); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.replies.SignReply(ctx, audit.Meta{}, principal(s.byRole[access.Signer]), draftID); err != nil {
		s.t.Fatal(err)
	}
	g, err := s.db.Stores(nil).Replies.ActiveSigner(ctx, s.byRole[access.Signer].ID)
	if err != nil {
		s.t.Fatal(err)
	}
	// The corpus alters a document of one signature: the replies' signature revisions (what follows them,
	// validation data under a document time-stamp, has hostile cases of its own in internal/verify).
	c := verifytest.Corpus{Genuine: verifytest.SignatureRevision(s.t, s.signedPDF(signedID)), Other: verifytest.SignatureRevision(s.t, s.signedPDF(draftID)),
		Signer: g.Certificate, Trusted: s.issuingCA()}
	return c, verifytest.Hostile(s.t, c)
}

func (s *stack) verify(doc []byte) (*http.Response, *verify.Report) {
	s.t.Helper()
	resp, err := http.Post(s.srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(doc))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var rep verify.Report
	if resp.StatusCode == 200 || resp.StatusCode == 422 {
		if err := json.Unmarshal(body, &rep); err != nil {
			s.t.Fatalf("report: %v\n%s", err, body)
		}
	}
	return resp, &rep
}

func fileForm(t testing.TB, field string, doc []byte) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	f, err := w.CreateFormFile(field, "tra-loi.pdf")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = f.Write(doc)
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

func TestVerificationEndpoint(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	_, signedID, _ := s.seedReplies()
	genuine := s.signedPDF(signedID)

	resp, rep := s.verify(genuine)
	if resp.StatusCode != 200 || rep.Indication != verify.TotalPassed || rep.Register == nil || !rep.Register.Found ||
		rep.Register.ReplyID != signedID || rep.Register.Status != "current" || rep.Signatures[0].Signer.CommonName != "Lê Hoàng Cường" {
		t.Fatalf("genuine: %d %+v", resp.StatusCode, rep)
	}
	if !strings.Contains(rep.SummaryVI, "hiện hành") || !strings.Contains(rep.SummaryEN, "current") {
		t.Fatalf("summary %q / %q", rep.SummaryVI, rep.SummaryEN)
	}
	// The same as the multipart field "file".
	body, ct := fileForm(t, "file", genuine)
	resp, b := s.do(request{method: "POST", path: "/api/v1/verifications", body: body, contentType: ct})
	if resp.StatusCode != 200 || !strings.Contains(b, `"indication":"TOTAL_PASSED"`) {
		t.Fatalf("multipart: %d %s", resp.StatusCode, b)
	}
	// Every verification is in the audit log, with the document's hash and the verdict.
	var n int
	if err := s.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = 'verification.check'
		AND object_id = $1 AND details->>'indication' = 'TOTAL_PASSED' AND details->>'reply' = $2 AND client_hash <> ''`,
		rep.SHA256, signedID).Scan(&n); err != nil || n != 2 {
		t.Fatalf("%d audit events (%v), want 2", n, err)
	}
	// Wrong media type, too large, empty form.
	resp, _ = s.do(request{method: "POST", path: "/api/v1/verifications", body: "{}", contentType: "application/json"})
	if resp.StatusCode != 415 {
		t.Fatalf("JSON body: %d", resp.StatusCode)
	}
	// The limit is the contract's 20 MB (20 MiB): one byte more is refused
	// unread, the limit itself is read and judged.
	resp, _ = s.do(request{method: "POST", path: "/api/v1/verifications", body: string(make([]byte, 20<<20+1)), contentType: "application/pdf"})
	if resp.StatusCode != 413 {
		t.Fatalf("20 MiB + 1 byte: %d, want 413", resp.StatusCode)
	}
	resp, _ = s.do(request{method: "POST", path: "/api/v1/verifications", body: string(make([]byte, 20<<20)), contentType: "application/pdf"})
	if resp.StatusCode != 422 {
		t.Fatalf("20 MiB of zeros: %d, want 422 (read, and not a PDF)", resp.StatusCode)
	}
	body, ct = fileForm(t, "other", genuine)
	if resp, _ = s.do(request{method: "POST", path: "/api/v1/verifications", body: body, contentType: ct}); resp.StatusCode != 422 {
		t.Fatalf("no file field: %d", resp.StatusCode)
	}

	// If the audit event cannot be written, no report: 503.
	s.db.Superuser(t, "REVOKE INSERT ON audit_events FROM pakn_app")
	resp, _ = s.verify(genuine)
	s.db.Superuser(t, "GRANT INSERT ON audit_events TO pakn_app")
	if resp.StatusCode != 503 {
		t.Fatalf("audit failure: %d", resp.StatusCode)
	}
}

func TestVerificationSupersededAndRevoked(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	draftID, signedID, _ := s.seedReplies()
	genuine := s.signedPDF(signedID)
	ctx := context.Background()
	official := principal(s.byRole[access.Official])
	var pid string
	if err := s.db.Pool.QueryRow(ctx, "SELECT petition_id FROM replies WHERE id = $1", signedID).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	corr, err := s.replies.DraftReply(ctx, audit.Meta{}, official, pid, reply.Content{Summary: "Mức phí trông giữ xe đạp điện chưa hợp lý",
		Answer: "Đính chính: mức phí áp dụng từ ngày 01/01/2027.", LegalBasis: []reply.LegalRef{{Document: "Nghị quyết số 44/2025/NQ-HĐND"}},
		Outcome: reply.Explained}, signedID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.replies.ReviewReply(ctx, audit.Meta{}, principal(s.byRole[access.Reviewer]), corr.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.replies.SignReply(ctx, audit.Meta{}, principal(s.byRole[access.Signer]), corr.ID); err != nil {
		t.Fatal(err)
	}
	_, rep := s.verify(genuine)
	if rep.Indication != verify.TotalPassed || rep.Register.Status != "superseded" || rep.Register.SupersededBy != corr.ID ||
		!strings.Contains(rep.SummaryEN, "superseded") {
		t.Fatalf("superseded: %+v", rep)
	}
	if _, body := s.do(request{method: "GET", path: "/api/v1/register/replies/" + signedID}); !strings.Contains(body, `"status":"superseded"`) {
		t.Fatalf("register entry: %s", body)
	}

	// Revoke the signer's certificate in Vault PKI: the reply was time-stamped before, so it still passes, with a warning;
	// the signer cannot sign again.
	g, err := s.db.Stores(nil).Replies.ActiveSigner(ctx, s.byRole[access.Signer].ID)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // times are in whole seconds: the revocation must come strictly after the time-stamp
	if err := vault.RevokeCertificate(ctx, s.vault.Root(), reply.SerialHex(g.Certificate)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // and strictly before the time an untimed signature is checked at
	_, rep = s.verify(genuine)
	if rep.Indication != verify.TotalPassed || !slices.ContainsFunc(rep.Signatures[0].Checks, func(c verify.Check) bool {
		return c.Name == "revocation" && c.Result == verify.Warning && strings.Contains(c.Detail, "after the time-stamped signing time")
	}) {
		t.Fatalf("revoked after signing: %s", rep.Text())
	}
	if _, err := s.replies.ReviewReply(ctx, audit.Meta{}, principal(s.byRole[access.Reviewer]), draftID, true, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.replies.SignReply(ctx, audit.Meta{}, principal(s.byRole[access.Signer]), draftID); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("signing with a revoked certificate: %v", err)
	}
	// Without its time-stamps, the signature proves no time: checked now, it is revoked.
	untimed := verifytest.Untimed(t, verifytest.SignatureRevision(t, genuine))
	if _, rep = s.verify(untimed); rep.Indication != verify.TotalFailed || rep.SubIndication != verify.Revoked {
		t.Fatalf("revoked, untimed: %s", rep.Text())
	}
	// With Vault unreachable, the last list fetched still counts while it is current (before its NextUpdate).
	s.vault.Stop()
	if _, rep = s.verify(untimed); rep.SubIndication != verify.Revoked {
		t.Fatalf("with Vault down: %s", rep.Text())
	}
}

func TestHostileCorpusOverHTTP(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	draftID, signedID, _ := s.seedReplies()
	c, corpus := s.corpus(draftID, signedID)
	for name, doc := range corpus {
		resp, rep := s.verify(doc)
		if resp.StatusCode >= 500 || (resp.StatusCode != 200 && resp.StatusCode != 422) {
			t.Errorf("%s: status %d", name, resp.StatusCode)
			continue
		}
		if rep.Indication == verify.TotalPassed || rep.SubIndication != verifytest.Expected[name] {
			t.Errorf("%s: %s / %s, want %s", name, rep.Indication, rep.SubIndication, verifytest.Expected[name])
		}
		if (resp.StatusCode == 422) != (rep.SubIndication == verify.FormatFailure) {
			t.Errorf("%s: status %d for %s", name, resp.StatusCode, rep.SubIndication)
		}
	}

	// Genuine requests keep being answered correctly while the corpus is fed
	// concurrently, by four attackers at addresses of their own. Each must end
	// inside the verifier's 10 s limit; measured under -race on the 2-core
	// machine, the slowest of the 40 took 0.16 s (every one fetching the CRL
	// from Vault, the stack's cache lasting 1 ns), so the margin is wide.
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	stop := make(chan struct{})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		attacker := clientFrom(fmt.Sprintf("127.0.0.%d", 10+w))
		go func() {
			defer wg.Done()
			for {
				for name, doc := range corpus {
					select {
					case <-stop:
						return
					default:
					}
					resp, err := attacker.Post(s.srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(doc))
					if err != nil {
						errs <- err
						return
					}
					var rep verify.Report
					_ = json.NewDecoder(resp.Body).Decode(&rep)
					resp.Body.Close()
					if resp.StatusCode >= 500 || rep.Indication == verify.TotalPassed {
						errs <- fmt.Errorf("hostile %q: %d %s", name, resp.StatusCode, rep.Indication)
					}
				}
			}
		}()
	}
	citizen := clientFrom("127.0.0.2")
	for i := 0; i < 40; i++ {
		resp, err := citizen.Post(s.srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(c.Genuine))
		if err != nil {
			t.Fatal(err)
		}
		var rep verify.Report
		_ = json.NewDecoder(resp.Body).Decode(&rep)
		resp.Body.Close()
		if resp.StatusCode != 200 || rep.Indication != verify.TotalPassed || !rep.Register.Found {
			t.Errorf("genuine request %d under load: %d %s %s", i, resp.StatusCode, rep.Indication, rep.SubIndication)
		}
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// A verification that cannot be audit-logged is not answered: 503, and no
// report (SECURITY.md, "the verification log").
func TestUnloggedVerificationIsNotAnswered(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	_, signedID, _ := s.seedReplies()
	genuine := s.signedPDF(signedID)
	s.db.RefuseAuditInserts(t)
	for _, post := range []func() (*http.Response, error){
		func() (*http.Response, error) {
			return http.Post(s.srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(genuine))
		},
		func() (*http.Response, error) {
			body, ct := fileForm(t, "file", genuine)
			return http.Post(s.srv.URL+"/verify/"+signedID, ct, strings.NewReader(body))
		},
	} {
		resp, err := post()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 503 || strings.Contains(string(body), "TOTAL_PASSED") || strings.Contains(string(body), `"indication"`) ||
			strings.Contains(string(body), `class="verdict`) {
			t.Fatalf("unlogged verification: %d %.300s", resp.StatusCode, body)
		}
	}
}

func TestVerificationIsRateLimited(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 2})
	for i, want := range []int{415, 415, 429} {
		resp, _ := s.do(request{method: "POST", path: "/api/v1/verifications", body: "x", contentType: "text/plain"})
		if resp.StatusCode != want {
			t.Fatalf("request %d: %d, want %d", i+1, resp.StatusCode, want)
		}
	}
}

func TestVerifyPage(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	_, signedID, rc := s.seedReplies()
	genuine := s.signedPDF(signedID)
	resp, page := s.do(request{method: "GET", path: "/verify/" + signedID})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"1/STP-HN-PAKN", "Sở Tư pháp", "Lê Hoàng Cường", rc.TrackingCode, `lang="vi"`, "Hiện hành", `name="file"`, `enctype="multipart/form-data"`} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The short code printed on the reply leads to the same page, however it is typed.
	code := reply.ShortCode(signedID)
	if resp, page := s.do(request{method: "GET", path: "/verify/" + strings.ToLower(code)}); resp.StatusCode != 200 || !strings.Contains(page, code) || !strings.Contains(page, "1/STP-HN-PAKN") {
		t.Fatalf("short code %s: %d", code, resp.StatusCode)
	}
	if resp, _ := s.do(request{method: "GET", path: "/verify/0000-0000-0000"}); resp.StatusCode != 404 {
		t.Fatalf("unknown short code: %d", resp.StatusCode)
	}
	if resp, _ := s.do(request{method: "GET", path: "/verify/00000000-0000-4000-8000-000000000000"}); resp.StatusCode != 404 {
		t.Fatalf("unknown reply: %d", resp.StatusCode)
	}
	body, ct := fileForm(t, "file", genuine)
	resp, page = s.do(request{method: "POST", path: "/verify/" + signedID, body: body, contentType: ct, header: map[string]string{"Sec-Fetch-Site": "same-origin"}})
	if resp.StatusCode != 200 || !strings.Contains(page, "TOTAL_PASSED") || !strings.Contains(page, `class="verdict ok"`) ||
		!strings.Contains(page, html.EscapeString(msg.FileMatchesPage.VI())) || !strings.Contains(page, html.EscapeString(msg.VerdictGenuine.VI("1/STP-HN-PAKN", "Sở Tư pháp", ""))[:40]) {
		t.Fatalf("upload: %d\n%s", resp.StatusCode, page)
	}
	// In English, by choice.
	resp, page = s.do(request{method: "GET", path: "/verify/" + signedID + "?lang=en"})
	if resp.StatusCode != 200 || !strings.Contains(page, `lang="en"`) || !strings.Contains(page, "Current") || resp.Header.Get("Content-Language") != "en" {
		t.Fatalf("English page: %d %s", resp.StatusCode, resp.Header.Get("Content-Language"))
	}
	// Another agency's petition text cannot be injected into the page: output is escaped.
	body, ct = fileForm(t, "file", []byte("<script>alert(1)</script>"))
	resp, page = s.do(request{method: "POST", path: "/verify/" + signedID, body: body, contentType: ct})
	if resp.StatusCode != 422 || strings.Contains(page, "<script>alert") || !strings.Contains(page, html.EscapeString(msg.FileOtherThanPage.VI())) {
		t.Fatalf("non-PDF upload: %d", resp.StatusCode)
	}
	// From another site, the form is refused.
	resp, _ = s.do(request{method: "POST", path: "/verify/" + signedID, body: body, contentType: ct, header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	if resp.StatusCode != 403 {
		t.Fatalf("cross-site post: %d", resp.StatusCode)
	}
}
