package replies_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/pdftest"
	"pakn/internal/petition"
	"pakn/internal/petitions"
	"pakn/internal/register"
	"pakn/internal/replies"
	"pakn/internal/reply"
	"pakn/internal/servicetest"
	"pakn/internal/signing"
	"pakn/internal/verify"
	"pakn/internal/verifytest"
)

func TestDraftValidationAndFourEyes(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	id := e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode)
	official := servicetest.Staff("STP-HN", access.Official)
	for _, tr := range []petition.Transition{petition.Accept, petition.Start} {
		if err := e.Replies.Transition(ctx, e.M, official, id, tr, petitions.TransitionInput{}); err != nil {
			t.Fatal(err)
		}
	}
	bad := reply.Content{Summary: "ngắn", Answer: "", Outcome: "maybe", LegalBasis: []reply.LegalRef{{Document: "x"}}}
	ae := servicetest.WantCode(t, func() error { _, err := e.Replies.DraftReply(ctx, e.M, official, id, bad, ""); return err }(), apperr.Invalid)
	fields := map[string]bool{}
	for _, f := range ae.Fields {
		fields[f.Field] = f.VI != "" && f.EN != ""
	}
	for _, f := range []string{"summary", "answer", "outcome", "legal_basis[0]"} {
		if !fields[f] {
			t.Errorf("no bilingual error for %s: %+v", f, ae.Fields)
		}
	}
	tr := *servicetest.ReplyContent()
	tr.Outcome = reply.Transferred
	servicetest.WantCode(t, func() error { _, err := e.Replies.DraftReply(ctx, e.M, official, id, tr, ""); return err }(), apperr.Invalid)

	r, err := e.Replies.DraftReply(ctx, e.M, official, id, *servicetest.ReplyContent(), "")
	if err != nil {
		t.Fatal(err)
	}
	// A second open draft is refused; the drafter cannot approve their own reply.
	_, err = e.Replies.DraftReply(ctx, e.M, official, id, *servicetest.ReplyContent(), "")
	servicetest.WantCode(t, err, apperr.Conflict)
	both := servicetest.Staff("STP-HN", access.Official, access.Reviewer)
	_, err = e.Replies.ReviewReply(ctx, e.M, both, r.ID, true, "")
	servicetest.WantCode(t, err, apperr.Forbidden)
	// Sent back with a comment; a new draft follows.
	_, err = e.Replies.ReviewReply(ctx, e.M, servicetest.Staff("STP-HN", access.Reviewer), r.ID, false, "")
	servicetest.WantCode(t, err, apperr.Invalid)
	back, err := e.Replies.ReviewReply(ctx, e.M, servicetest.Staff("STP-HN", access.Reviewer), r.ID, false, "Bổ sung căn cứ pháp lý")
	if err != nil || back.Status != reply.SentBack || back.ReviewComment != "Bổ sung căn cứ pháp lý" {
		t.Fatalf("sent back: %+v %v", back, err)
	}
	// Another agency's staff see nothing.
	_, err = e.Replies.Reply(ctx, e.M, servicetest.Staff("SKHDT-HN", access.Official), r.ID)
	servicetest.WantCode(t, err, apperr.NotFound)
	// Signing needs an approved reply.
	_, err = e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID)
	servicetest.WantCode(t, err, apperr.Conflict)
}

// requireReplyInView checks the petitioner's view names want (nil: no
// reply yet) as the current signed reply.
func requireReplyInView(t *testing.T, e *servicetest.Env, rc *petitions.Receipt, want *reply.Reply) {
	t.Helper()
	v, err := e.Petitions.Lookup(context.Background(), e.M, rc.TrackingCode, rc.LookupSecret)
	if err != nil {
		t.Fatal(err)
	}
	if want == nil {
		if v.Reply != nil {
			t.Fatalf("the petitioner's view names a reply before any is signed: %+v", v.Reply)
		}
		return
	}
	if r := v.Reply; r == nil || r.ID != want.ID || r.Number != want.Document.Number || r.ShortCode != reply.ShortCode(want.ID) || !r.SignedAt.Equal(want.Document.SignedAt) {
		t.Fatalf("the petitioner's view names %+v, want the signed reply %s", v.Reply, want.ID)
	}
}

func TestSignedReplyIsGenuineOnceAndImmutable(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	id, r, rc := e.Approved(t)

	requireReplyInView(t, e, rc, nil)
	// Without a fresh TOTP code: step-up required.
	notUp := servicetest.Staff("STP-HN", access.Signer)
	_, err := e.Replies.SignReply(ctx, e.M, notUp, r.ID)
	servicetest.WantCode(t, err, apperr.StepUpRequired)

	signed, err := e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	doc := signed.Document
	if signed.Status != reply.Signed || doc == nil || doc.Number != "1/STP-HN-PAKN" || doc.KeyVersion != 1 || len(doc.SHA256) != 64 {
		t.Fatalf("signed reply %+v %+v", signed, doc)
	}
	// Signing again gives the same document, not a second one.
	again, err := e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID)
	if err != nil || again.Document.SHA256 != doc.SHA256 {
		t.Fatalf("second signing: %+v %v", again, err)
	}
	if n := e.Count(t, "SELECT count(*) FROM signed_replies"); n != 1 {
		t.Fatalf("%d signed documents, want 1", n)
	}
	d, _ := e.Petitions.Get(ctx, e.M, servicetest.Staff("STP-HN", access.Official), id)
	if d.State != petition.ReplySigned {
		t.Fatalf("petition %s after signing", d.State)
	}
	requireReplyInView(t, e, rc, signed)
	if n := e.Count(t, "SELECT count(*) FROM audit_events WHERE action = 'petition.sign_reply' AND object_id = $1 AND details->>'sha256' = $2", r.ID, doc.SHA256); n != 1 {
		t.Fatalf("%d signing events", n)
	}

	_, pdf, err := e.Replies.ReplyPDF(ctx, e.M, servicetest.Staff("STP-HN", access.Official), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	rep := pdftest.RequireValid(t, pdf, e.Root)
	if !strings.Contains(rep, "Lê Hoàng Cường") {
		t.Errorf("pdfsig does not name the signer:\n%s", rep)
	}
	text := pdftest.Text(t, pdf)
	for _, want := range []string{"Nguyễn Thị Hồng Nhung, phường Điện Biên, quận Ba Đình", "Số: 1/STP-HN-PAKN", "SỞ TƯ PHÁP",
		"ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Nghị định số 01/2021/NĐ-CP, Điều 87",
		"Giải thích, hướng dẫn quy định hiện hành", "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", "Lê Hoàng Cường", rc.TrackingCode,
		"https://pakn.example.vn/verify/" + r.ID, "mã kiểm tra " + reply.ShortCode(r.ID)} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "nhung@example.vn") || strings.Contains(text, "0912345678") || strings.Contains(text, "001203004567") {
		t.Error("the reply prints contact or identity data")
	}

	if _, err := e.Replies.ReceiptPDF(ctx, e.M, rc.TrackingCode, rc.LookupSecret); err != nil { // a signed receipt too
		t.Fatal(err)
	}
	requireImmutable(t, e)

	// The petitioner downloads it with code and secret; the public only once published.
	_, got, err := e.Replies.PetitionerReplyPDF(ctx, e.M, rc.TrackingCode, rc.LookupSecret)
	if err != nil || string(got) != string(pdf) {
		t.Fatalf("petitioner download: %v", err)
	}
	_, _, err = e.Replies.PetitionerReplyPDF(ctx, e.M, rc.TrackingCode, "WRONGSECRETWRONGSECRETWRON")
	servicetest.WantCode(t, err, apperr.NotFound)
	_, _, err = e.Replies.PublishedReply(ctx, r.ID)
	servicetest.WantCode(t, err, apperr.NotFound)
	if err := e.Replies.Transition(ctx, e.M, servicetest.Staff("STP-HN", access.Official), id, petition.Publish, petitions.TransitionInput{}); err != nil {
		t.Fatal(err)
	}
	if _, got, err = e.Replies.PublishedReply(ctx, r.ID); err != nil {
		t.Fatalf("public download: %v", err)
	}
	requirePublicVersion(t, e, r.ID, got, pdf)
}

// requirePublicVersion checks public is the public version of the reply
// replyID whose personal version is personal: signed and valid, addressed
// to "Người phản ánh", naming nobody, and in the register as that reply.
func requirePublicVersion(t *testing.T, e *servicetest.Env, replyID string, public, personal []byte) {
	t.Helper()
	if bytes.Equal(public, personal) {
		t.Fatal("the public register serves the personal version")
	}
	pdftest.RequireValid(t, public, e.Root)
	text := strings.Join(strings.Fields(pdftest.Text(t, public)), " ")
	sub := servicetest.Submission()
	if !strings.Contains(text, "Kính gửi: Người phản ánh") || !strings.Contains(text, "của người phản ánh (mã tra cứu") {
		t.Errorf("the public version is not addressed to Người phản ánh:\n%s", text)
	}
	for _, private := range []string{sub.Petitioner.Name, sub.Petitioner.Address, sub.Petitioner.Email, sub.Petitioner.Phone} {
		if strings.Contains(text, private) {
			t.Errorf("the public version prints %q", private)
		}
	}
	binding, err := verify.Binding(public)
	if err != nil {
		t.Fatal(err)
	}
	is, err := e.DB.Stores(nil).Replies.IssuedByBinding(context.Background(), binding, "")
	if err != nil || is.ReplyID != replyID || is.Kind != reply.KindReply {
		t.Fatalf("the register does not know the public version as reply %s: %+v %v", replyID, is, err)
	}
}

func TestCorrectionSupersedes(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	id, r, _ := e.Approved(t)
	first, err := e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	official := servicetest.Staff("STP-HN", access.Official)
	c := servicetest.ReplyContent()
	c.Answer += "\nĐính chính: thời hạn là 03 ngày làm việc."
	_, err = e.Replies.DraftReply(ctx, e.M, official, id, *c, "")
	servicetest.WantCode(t, err, apperr.Conflict) // a correction names what it corrects
	corr, err := e.Replies.DraftReply(ctx, e.M, official, id, *c, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Replies.ReviewReply(ctx, e.M, servicetest.Staff("STP-HN", access.Reviewer), corr.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	second, err := e.Replies.SignReply(ctx, e.M, e.Signer(), corr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if second.Document.Number != "2/STP-HN-PAKN" || second.Supersedes != first.ID {
		t.Fatalf("correction %+v", second)
	}
	old, _ := e.Replies.Reply(ctx, e.M, official, first.ID)
	if old.Document.SupersededBy != second.ID || old.Document.SHA256 != first.Document.SHA256 {
		t.Fatalf("the first reply is not marked superseded: %+v", old.Document)
	}
	_, pdf, err := e.Replies.ReplyPDF(ctx, e.M, official, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.RequireValid(t, pdf, e.Root)
	if text := pdftest.Text(t, pdf); !strings.Contains(text, "Văn bản này thay thế Văn bản số 1/STP-HN-PAKN") {
		t.Errorf("the correction does not say what it replaces:\n%s", text)
	}
	// Both documents stay; the old one is still retrievable and valid.
	_, oldPDF, err := e.Replies.ReplyPDF(ctx, e.M, official, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.RequireValid(t, oldPDF, e.Root)
	// The superseded reply cannot be corrected again.
	_, err = e.Replies.DraftReply(ctx, e.M, official, id, *c, first.ID)
	servicetest.WantCode(t, err, apperr.Conflict)
	if d, _ := e.Petitions.Get(ctx, e.M, official, id); d.State != petition.ReplySigned {
		t.Fatalf("a correction moved the petition to %s", d.State)
	}
}

func TestSigningSurvivesVaultOutages(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	id, r, _ := e.Approved(t)
	unchanged := func(stage string) {
		t.Helper()
		got, err := e.Replies.Reply(ctx, e.M, servicetest.Staff("STP-HN", access.Official), r.ID)
		if err != nil || got.Status != reply.Approved || got.Document != nil {
			t.Fatalf("%s: reply %+v %v", stage, got, err)
		}
		if d, _ := e.Petitions.Get(ctx, e.M, servicetest.Staff("STP-HN", access.Official), id); d.State != petition.ReplyApproved {
			t.Fatalf("%s: petition %s", stage, d.State)
		}
		if n := e.Count(t, "SELECT count(*) FROM signed_replies") + e.Count(t, "SELECT count(*) FROM reply_numbers"); n != 0 {
			t.Fatalf("%s: something was written (%d rows)", stage, n)
		}
	}

	// Sealed.
	if _, err := e.Vault.Root().Logical().Write("sys/seal", nil); err != nil {
		t.Fatal(err)
	}
	_, err := e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID)
	ae := servicetest.WantCode(t, err, apperr.Unavailable)
	if m := ae.Message(); !strings.Contains(m, "thử lại") || !strings.Contains(m, "try again") {
		t.Errorf("unclear message: %q", m)
	}
	unchanged("sealed")

	// Unreachable.
	e.Vault.Stop()
	_, err = e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID)
	servicetest.WantCode(t, err, apperr.Unavailable)
	unchanged("stopped")
	if n := e.Count(t, "SELECT count(*) FROM audit_events WHERE action = 'petition.sign_reply' AND outcome = 'failure'"); n < 1 {
		t.Error("failed signing attempts are not audited")
	}

	// Back: the retry signs.
	e.Vault.Restart()
	signed, err := e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if signed.Document.Number != "1/STP-HN-PAKN" {
		t.Fatalf("number %s: failed attempts consumed numbers", signed.Document.Number)
	}
	_, pdf, _ := e.Replies.ReplyPDF(ctx, e.M, servicetest.Staff("STP-HN", access.Official), r.ID)
	pdftest.RequireValid(t, pdf, e.Root)
}

// With an external time-stamping authority configured (PAKN_TSA_URL),
// signatures carry its token (through a client with a timeout).
func TestSigningWithAnExternalTimestampAuthority(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	tsaPKI := verifytest.NewPKI(t, "tsa")
	client, err := signing.TSAClient(verifytest.ServeTSA(t, tsaPKI.Authority(t, nil)), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := servicetest.NewReplies(e.Petitions, e.DB.Stores(e.Clock.Now), e.VC, e.Clock.Now, client)
	if err != nil {
		t.Fatal(err)
	}
	_, r, _ := e.Approved(t)
	signed, err := svc.SignReply(ctx, e.M, e.Signer(), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !signed.Document.Timestamped {
		t.Fatal("the document is not marked time-stamped")
	}
	_, pdf, err := svc.ReplyPDF(ctx, e.M, servicetest.Staff("STP-HN", access.Official), r.ID)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.RequireValid(t, pdf, e.Root, tsaPKI.Root)
	roots := x509.NewCertPool()
	roots.AddCert(e.Root)
	roots.AddCert(tsaPKI.Root)
	rep := (&verify.Verifier{Roots: roots, Intermediates: []*x509.Certificate{tsaPKI.Issuing}, CRL: e.VC.IssuerCRLs(time.Nanosecond),
		FindIssued: register.Finder(e.DB.Stores(nil).Replies)}).Verify(ctx, pdf)
	if rep.Indication != verify.TotalPassed || rep.Signatures[0].TimestampTime == nil {
		t.Fatalf("time-stamped reply: %s", rep.Text())
	}
}

// The replies service builds none of its collaborators: missing ones are
// named.
func TestNewNeedsItsCollaborators(t *testing.T) {
	_, err := replies.New(replies.Config{})
	if err == nil || err.Error() != "replies: Petitions, Stores.Agencies, Stores.Audit, Stores.Petitions, Stores.Receipts, Stores.Replies, Stores.Tx required" {
		t.Fatalf("New without collaborators: %v", err)
	}
}

// requireImmutable checks the stored rows of a signed reply cannot change:
// the application role lacks the grant, and the owner and the superuser,
// who have it, are stopped by the triggers (P0001 with their message).
func requireImmutable(t *testing.T, e *servicetest.Env) {
	t.Helper()
	ctx := context.Background()
	for _, sql := range []string{"UPDATE signed_replies SET number = 'x'", "DELETE FROM signed_replies",
		"UPDATE replies SET review_comment = 'x' WHERE status = 'signed'", "UPDATE signed_receipts SET size = 0", "DELETE FROM signed_receipts",
		"UPDATE public_replies SET size = 0", "DELETE FROM public_replies"} {
		if _, err := e.DB.Pool.Exec(ctx, sql); err == nil {
			t.Errorf("%s succeeded as the application role", sql)
		}
	}
	for who, url := range map[string]string{"owner": e.DB.OwnerURL, "superuser": e.DB.SuperURL} {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ sql, message string }{
			{"UPDATE signed_replies SET number = 'x'", "signed replies are immutable"},
			{"DELETE FROM signed_replies", "signed replies are immutable"},
			{"TRUNCATE signed_replies CASCADE", "signed replies are immutable"},
			{"UPDATE replies SET review_comment = 'x' WHERE status = 'signed'", "a signed reply is immutable"},
			{"UPDATE signed_receipts SET size = 0", "signed receipts are immutable"},
			{"DELETE FROM signed_receipts", "signed receipts are immutable"},
			{"TRUNCATE signed_receipts", "signed receipts are immutable"},
			{"UPDATE public_replies SET size = 0", "public replies are immutable"},
			{"DELETE FROM public_replies", "public replies are immutable"},
			{"TRUNCATE public_replies", "public replies are immutable"},
		} {
			_, err := c.Exec(ctx, tc.sql)
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) || pgErr.Code != "P0001" || !strings.Contains(pgErr.Message, tc.message) {
				t.Errorf("%s as %s: %v, want the trigger's refusal %q (P0001)", tc.sql, who, err, tc.message)
			}
		}
		c.Close(ctx)
	}
}

// Audit before act: with the audit log refusing the application's inserts,
// no state-changing action of a petition or its reply happens. Each is
// tried, must fail, and must leave every table as it was.
func TestNothingHappensWithoutItsAuditEvent(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	official, reviewer := servicetest.Staff("STP-HN", access.Official), servicetest.Staff("STP-HN", access.Reviewer)
	received := e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode)
	started := e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode)
	for _, tr := range []petition.Transition{petition.Accept, petition.Start} {
		if err := e.Replies.Transition(ctx, e.M, official, started, tr, petitions.TransitionInput{}); err != nil {
			t.Fatal(err)
		}
	}
	drafted := e.ID(t, e.Submit(t, servicetest.Submission()).TrackingCode)
	for _, tr := range []petition.Transition{petition.Accept, petition.Start, petition.DraftReply} {
		if err := e.Replies.Transition(ctx, e.M, official, drafted, tr, servicetest.InputFor(tr)); err != nil {
			t.Fatal(err)
		}
	}
	_, approved, _ := e.Approved(t)

	e.DB.RefuseAuditInserts(t)
	state := func() string {
		var s string
		if err := e.DB.Pool.QueryRow(ctx, `SELECT concat_ws('|', (SELECT string_agg(p::text, '|' ORDER BY id) FROM petitions p),
			(SELECT string_agg(r::text, '|' ORDER BY id) FROM replies r), (SELECT count(*) FROM signed_replies),
			(SELECT count(*) FROM petition_events), (SELECT count(*) FROM petition_attachments), (SELECT count(*) FROM audit_events))`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := state()
	file := []petitions.FileIn{{Name: "a.pdf", Content: bytes.NewReader([]byte("%PDF-1.7 a"))}}
	for name, act := range map[string]func() error{
		"submit": func() error {
			_, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", servicetest.Submission(), nil)
			return err
		},
		"submit with a file": func() error {
			_, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", servicetest.Submission(), file)
			return err
		},
		"accept": func() error {
			return e.Replies.Transition(ctx, e.M, official, received, petition.Accept, petitions.TransitionInput{})
		},
		"draft": func() error {
			return e.Replies.Transition(ctx, e.M, official, started, petition.DraftReply, servicetest.Draft())
		},
		"approve": func() error {
			return e.Replies.Transition(ctx, e.M, reviewer, drafted, petition.ApproveReply, petitions.TransitionInput{})
		},
		"sign": func() error { _, err := e.Replies.SignReply(ctx, e.M, e.Signer(), approved.ID); return err },
		"post update": func() error {
			return e.Petitions.PostUpdate(ctx, e.M, official, started, "Đang xác minh thông tin với bộ phận một cửa.")
		},
	} {
		if err := act(); err == nil {
			t.Errorf("%s succeeded with the audit log refusing its event", name)
		}
		if after := state(); after != before {
			t.Errorf("%s changed the database without its audit event", name)
		}
	}
}

// A key version revoked in the database (pakn signer revoke's first step)
// signs nothing more: the signer has no active key until a new one is
// provisioned, and the reply stays approved.
func TestRevokedKeyVersionSignsNothing(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	_, r, _ := e.Approved(t)
	st := e.DB.Stores(e.Clock.Now)
	g, err := st.Replies.ActiveSigner(ctx, servicetest.RoleIDs[access.Signer])
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Tx.InTx(ctx, func(ctx context.Context) error { return st.Replies.RevokeSigner(ctx, g.ID, e.Clock.Now()) }); err != nil {
		t.Fatal(err)
	}
	_, err = e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID)
	servicetest.WantCode(t, err, apperr.Conflict)
	if n := e.Count(t, "SELECT count(*) FROM signed_replies"); n != 0 {
		t.Fatalf("%d signed replies after the key was revoked", n)
	}
	if cur, err := e.Replies.Reply(ctx, e.M, servicetest.Staff("STP-HN", access.Official), r.ID); err != nil || cur.Status != reply.Approved {
		t.Fatalf("the reply is %v (%v), want still approved", cur, err)
	}
}

// A reply not yet signed can be previewed by its agency's staff as the
// personal version will look: marked as a preview, unnumbered, unsigned,
// with no QR code; the reading is audited; a signed reply is not
// previewed, another agency's staff do not find it.
func TestPreviewBeforeSigning(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	_, r, _ := e.Approved(t)
	reviewer := servicetest.Staff("STP-HN", access.Reviewer)
	pdf, err := e.Replies.PreviewPDF(ctx, e.M, reviewer, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	pdftest.QPDFCheck(t, pdf)
	text := pdftest.Text(t, pdf)
	for _, want := range []string{"BẢN XEM TRƯỚC", "…/STP-HN-PAKN", "Nguyễn Thị Hồng Nhung", strings.Join(strings.Fields(servicetest.ReplyContent().Summary)[:2], " ")} {
		if !strings.Contains(text, want) {
			t.Fatalf("the preview lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "quét mã QR") || bytes.Contains(pdf, []byte("/ByteRange")) {
		t.Fatal("the preview looks issued: a QR code or a signature")
	}
	if n := e.Count(t, "SELECT count(*) FROM audit_events WHERE action = 'reply.preview' AND object_id = $1", r.ID); n != 1 {
		t.Fatalf("%d preview events, want 1", n)
	}
	_, err = e.Replies.PreviewPDF(ctx, e.M, servicetest.Staff("UBND-BD", access.Reviewer), r.ID)
	servicetest.WantCode(t, err, apperr.NotFound)
	if _, err := e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.Replies.PreviewPDF(ctx, e.M, reviewer, r.ID)
	servicetest.WantCode(t, err, apperr.Conflict)
}

// After someone else reset a signer's password or MFA, the signer cannot
// sign for a day (an administrator who reset a signer and signed in as
// them cannot sign at once); then they can.
func TestNoSignatureSoonAfterACredentialReset(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	_, r, _ := e.Approved(t)
	st := e.DB.Stores(nil)
	err := st.Tx.InTx(ctx, func(ctx context.Context) error {
		return st.Accounts.MarkCredentialsReset(ctx, servicetest.RoleIDs[access.Signer], e.Clock.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID)
	servicetest.WantCode(t, err, apperr.Conflict)
	if n := e.Count(t, "SELECT count(*) FROM signed_replies"); n != 0 {
		t.Fatalf("%d signed documents during the hold", n)
	}
	e.Clock.Add(replies.DefaultHoldAfterReset + time.Minute)
	if _, err := e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID); err != nil {
		t.Fatalf("after the hold: %v", err)
	}
}

// The application's database role cannot write a signed reply itself: it
// may not insert into signed_replies or public_replies, and sign_reply
// refuses a reply that is not an approved one, another account's or an
// inactive key version, and an account that is not the key's signer.
func TestOnlySignReplyWritesSignedReplies(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	id, r, _ := e.Approved(t)
	var signer, keyName string
	var version int
	var cert []byte
	if err := e.DB.Pool.QueryRow(ctx, `SELECT id, key_name, key_version, certificate FROM signers WHERE account_id = $1`,
		servicetest.RoleIDs[access.Signer]).Scan(&signer, &keyName, &version, &cert); err != nil {
		t.Fatal(err)
	}
	pdf := []byte("%PDF-1.7 forged")
	sum := sha256Hex(pdf)
	for name, q := range map[string]string{
		"insert into signed_replies": `INSERT INTO signed_replies (reply_id, petition_id, agency_code, number, year, seq, pdf, sha256, size, signer_id,
			signed_by, key_name, key_version, certificate, signed_at, timestamped) VALUES ('` + r.ID + `', '` + id + `', 'STP-HN', '9/X', 2026, 9,
			'\x00', '` + sum + `', 1, '` + signer + `', '` + servicetest.RoleIDs[access.Signer] + `', 'k', 1, '\x00', now(), false)`,
		"insert into public_replies": `INSERT INTO public_replies (reply_id, pdf, sha256, size) VALUES ('` + r.ID + `', '\x00', '` + sum + `', 1)`,
	} {
		var pe *pgconn.PgError
		if _, err := e.DB.Pool.Exec(ctx, q); !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("%s as the application: %v, want permission denied", name, err)
		}
	}
	call := func(replyID, signedBy, key string, v int) error {
		_, err := e.DB.Pool.Exec(ctx, `SELECT sign_reply($1, $2, 'STP-HN', '9/STP-HN-PAKN', 2026, 9, $3, $4, NULL, $5, $6, $7, $8, $9, now(), false, NULL, NULL, NULL, 15, NULL)`,
			replyID, id, pdf, sum, signer, signedBy, key, v, cert)
		return err
	}
	for name, err := range map[string]error{
		"another account":         call(r.ID, servicetest.RoleIDs[access.Official], keyName, version),
		"another key version":     call(r.ID, servicetest.RoleIDs[access.Signer], keyName, version+1),
		"a reply that is missing": call("00000000-0000-0000-0000-000000000000", servicetest.RoleIDs[access.Signer], keyName, version),
	} {
		if err == nil {
			t.Errorf("sign_reply with %s: stored", name)
		}
	}
	if _, err := e.DB.Pool.Exec(ctx, `UPDATE signers SET status = 'retired' WHERE id = $1`, signer); err != nil {
		t.Fatal(err)
	}
	if err := call(r.ID, servicetest.RoleIDs[access.Signer], keyName, version); err == nil {
		t.Error("sign_reply with a retired key version: stored")
	}
	if n := e.Count(t, "SELECT count(*) FROM signed_replies"); n != 0 {
		t.Fatalf("%d signed replies written around the service", n)
	}
}
