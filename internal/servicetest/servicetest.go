// Package servicetest starts the petitions and replies services over a
// test's own PostgreSQL database and Vault, with one account per role and a
// provisioned signer, and holds the helpers their tests share.
package servicetest

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"pakn/internal/access"
	"pakn/internal/agency"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/guard"
	"pakn/internal/petition"
	"pakn/internal/petitions"
	"pakn/internal/pgtest"
	"pakn/internal/replies"
	"pakn/internal/reply"
	"pakn/internal/sealed"
	"pakn/internal/signing"
	"pakn/internal/store"
	"pakn/internal/testclock"
	"pakn/internal/vault"
	"pakn/internal/vaulttest"
)

// Env is the petitions and replies services over a test's own PostgreSQL
// database and Vault, on a test clock.
type Env struct {
	DB        *pgtest.DB
	Stores    store.Set // the services' stores: citizens' words sealed (internal/sealed)
	Petitions *petitions.Service
	Replies   *replies.Service
	Clock     *testclock.Clock
	M         audit.Meta
	Vault     *vaulttest.Server
	VC        *vault.Client
	Root      *x509.Certificate // the bootstrapped root CA
}

// New starts an Env: the demo agencies, one account per role (RoleIDs),
// and a Vault key and certificate for the signer. opts may change the
// petitions service's configuration.
func New(t testing.TB, opts ...func(*petitions.Config)) *Env {
	t.Helper()
	ctx := context.Background()
	db := pgtest.New(t)
	vs, vc, dir := vaulttest.Bootstrapped(t)
	DemoCity(t, db.Stores(nil).Agencies)
	c := testclock.New(time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)) // Monday 10:00 in Hà Nội
	box := vault.NewEnvelopeBox(vc, vault.PIIKey)
	st := sealed.Stores(db.Stores(c.Now), box, SearchKey)
	cfg := petitions.Config{Stores: st, Box: box, Now: c.Now,
		Guard: &guard.Guard{Audit: st.Audit, Now: c.Now}}
	for _, o := range opts {
		o(&cfg)
	}
	pets, err := petitions.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// pakn's own time-stamping authority, on the real clock: certificates come from a real Vault.
	auth, err := vc.TimeStamping(filepath.Join(dir, "certs", vault.TSACertFile), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	reps, err := NewReplies(pets, st, vc, c.Now, auth.Respond)
	if err != nil {
		t.Fatal(err)
	}
	// Real accounts behind the test principals, and a Vault key and certificate for the signer.
	for _, r := range access.AllRoles {
		if _, err := db.Pool.Exec(ctx, `INSERT INTO accounts (id, username, display_name, agency_code, password_hash) VALUES ($1, $2, $3, 'STP-HN', 'x')`,
			RoleIDs[r], "test-"+string(r), "Lê Hoàng Cường"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Pool.Exec(ctx, `INSERT INTO account_roles (account_id, role) VALUES ($1, $2)`, RoleIDs[r], string(r)); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := vault.ProvisionSigner(ctx, vs.Root(), "test-signer", "ecdsa-p256", pkix.Name{CommonName: "Lê Hoàng Cường"})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Tx.InTx(ctx, func(ctx context.Context) error {
		return st.Replies.AddSigner(ctx, &reply.Signer{AccountID: RoleIDs[access.Signer], FullName: "Lê Hoàng Cường",
			Title: "Phó Giám đốc", OnBehalf: "KT. Giám đốc", KeyName: ps.Key, KeyVersion: ps.Version, KeyType: "ecdsa-p256",
			Certificate: ps.Certificate, ChainPEM: ps.ChainPEM}, c.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	// The Department of Justice signs the receipts of what it receives.
	AgencyKey(t, vs, st, "STP-HN", "Sở Tư pháp thành phố Hà Nội")
	rootPEM, err := os.ReadFile(filepath.Join(dir, "certs", vault.RootCAFile))
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(rootPEM)
	root, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{DB: db, Stores: st, Petitions: pets, Replies: reps, Clock: c, M: audit.Meta{RequestID: "r", ClientHash: "c"}, Vault: vs, VC: vc, Root: root}
}

// NewReplies is the replies service over pets and st, signing with the
// keys of vc, time-stamped by stamp, with the CAs' lists from vc embedded
// (PAdES B-LTA), as paknd issues documents.
func NewReplies(pets *petitions.Service, st store.Set, vc *vault.Client, now func() time.Time, stamp reply.Stamper) (*replies.Service, error) {
	return replies.New(replies.Config{Petitions: pets, Stores: st, Keys: vc, SignPDF: signing.SignPDF, Archive: signing.Archive, Now: now,
		Docs: replies.Documents{PublicURL: "https://pakn.example.vn", Place: "Hà Nội", Stamp: stamp, CRLs: vc.ValidationCRLs(time.Nanosecond)}})
}

// RoleIDs are the account ids of the test principals, one per role.
var RoleIDs = map[access.Role]string{
	access.Official: "00000000-0000-4000-8000-000000000001", access.Reviewer: "00000000-0000-4000-8000-000000000002",
	access.Signer: "00000000-0000-4000-8000-000000000003", access.Auditor: "00000000-0000-4000-8000-000000000004",
	access.Admin: "00000000-0000-4000-8000-000000000005",
}

// ReplyContent is a reply as an official drafts it.
func ReplyContent() *reply.Content {
	return &reply.Content{
		Summary:    "Hồ sơ đăng ký hộ kinh doanh chậm giải quyết quá thời hạn quy định",
		Answer:     "Sở đã kiểm tra hồ sơ và đôn đốc bộ phận một cửa trả kết quả.\nThời hạn giải quyết là 03 ngày làm việc kể từ ngày nhận đủ hồ sơ hợp lệ.",
		LegalBasis: []reply.LegalRef{{Document: "Nghị định số 01/2021/NĐ-CP", Articles: "Điều 87"}},
		Outcome:    reply.Explained,
	}
}

// Draft is the input of a draft_reply transition.
func Draft() petitions.TransitionInput { return petitions.TransitionInput{Reply: ReplyContent()} }

// Anon is an anonymous petitioner.
var Anon = access.Principal{Kind: access.Anonymous}

// Staff is a staff member of agencyCode with roles, on the account of the
// first role.
func Staff(agencyCode string, roles ...access.Role) access.Principal {
	return access.Principal{Kind: access.Staff, ID: RoleIDs[roles[0]], Name: "staff", Agency: agencyCode, Roles: roles}
}

// Submission is a valid petition.
func Submission() petition.Submission {
	return petition.Submission{
		Petitioner: petition.Petitioner{Kind: petition.Individual, Name: "Nguyễn Thị Hồng Nhung", Email: "nhung@example.vn",
			Phone: "0912345678", Address: "phường Điện Biên, quận Ba Đình", IdentityNumber: "001203004567"},
		Title:    "Thủ tục đăng ký hộ kinh doanh kéo dài",
		Body:     "Hồ sơ đăng ký hộ kinh doanh nộp ngày 01/10 đến nay chưa có kết quả, quá thời hạn quy định tại Nghị định 01/2021/NĐ-CP.",
		Category: petition.CatRegulation,
	}
}

// Submit submits sub anonymously and returns its receipt.
func (e *Env) Submit(t testing.TB, sub petition.Submission) *petitions.Receipt {
	t.Helper()
	r, err := e.Petitions.Submit(context.Background(), e.M, Anon, "", sub, nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// ID is the id of the petition with tracking code code.
func (e *Env) ID(t testing.TB, code string) string {
	t.Helper()
	var id string
	if err := e.DB.Pool.QueryRow(context.Background(), "SELECT id FROM petitions WHERE tracking_code = $1", code).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// WantCode fails t unless err has code c, and returns it.
func WantCode(t testing.TB, err error, c apperr.Code) *apperr.Error {
	t.Helper()
	if got := apperr.CodeOf(err); got != c {
		t.Fatalf("error %v has code %q, want %q", err, got, c)
	}
	return apperr.As(err)
}

// AnswerAndClose takes petition id from received (or, after a reopening,
// in progress) through its answer to closed, each step by its role.
func (e *Env) AnswerAndClose(t testing.TB, id string, from petition.Transition) {
	t.Helper()
	steps := []petition.Transition{petition.Accept, petition.Start, petition.DraftReply, petition.ApproveReply, petition.SignReply, petition.Publish, petition.Close}
	for _, tr := range steps[slices.Index(steps, from):] {
		who := Staff("STP-HN", access.Official)
		switch tr {
		case petition.ApproveReply:
			who = Staff("STP-HN", access.Reviewer)
		case petition.SignReply:
			who = Staff("STP-HN", access.Signer)
			who.SteppedUp = e.Clock.Now()
		}
		if err := e.Replies.Transition(context.Background(), e.M, who, id, tr, InputFor(tr)); err != nil {
			t.Fatalf("%s: %v", tr, err)
		}
	}
}

// InputFor gives a transition the input it needs.
func InputFor(t petition.Transition) petitions.TransitionInput {
	if t == petition.DraftReply {
		return Draft()
	}
	return petitions.TransitionInput{}
}

// Approved takes a new petition to an approved reply; it returns the
// petition's id, the reply and the petitioner's receipt.
func (e *Env) Approved(t testing.TB) (string, *reply.Reply, *petitions.Receipt) {
	t.Helper()
	ctx := context.Background()
	rc := e.Submit(t, Submission())
	id := e.ID(t, rc.TrackingCode)
	official := Staff("STP-HN", access.Official)
	for _, tr := range []petition.Transition{petition.Accept, petition.Start} {
		if err := e.Replies.Transition(ctx, e.M, official, id, tr, petitions.TransitionInput{}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := e.Replies.DraftReply(ctx, e.M, official, id, *ReplyContent(), "")
	if err != nil {
		t.Fatal(err)
	}
	if r, err = e.Replies.ReviewReply(ctx, e.M, Staff("STP-HN", access.Reviewer), r.ID, true, ""); err != nil {
		t.Fatal(err)
	}
	return id, r, rc
}

// Signer is the signer, stepped up now.
func (e *Env) Signer() access.Principal {
	p := Staff("STP-HN", access.Signer)
	p.SteppedUp = e.Clock.Now()
	return p
}

// Count runs a count query.
func (e *Env) Count(t testing.TB, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// AgencyKey gives the agency code its receipt-signing key in Vault and
// makes it the agency's active key, as pakn agency-key provision does.
func AgencyKey(t testing.TB, vs *vaulttest.Server, st store.Set, code, name string) {
	t.Helper()
	ctx := context.Background()
	ak, err := vault.ProvisionAgencyKey(ctx, vs.Root(), code, "ecdsa-p256", name)
	if err != nil {
		t.Fatal(err)
	}
	err = st.Tx.InTx(ctx, func(ctx context.Context) error {
		return st.Receipts.AddAgencyKey(ctx, &agency.Key{Agency: code, KeyName: ak.Key, KeyVersion: ak.Version, KeyType: "ecdsa-p256",
			Certificate: ak.Certificate, ChainPEM: ak.ChainPEM}, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// DemoCity adds the demo city's agencies and routing to ags, as pakn seed
// does.
func DemoCity(t testing.TB, ags store.Agencies) {
	t.Helper()
	d := &agency.Directory{Agencies: agency.DemoDirectory(), Routing: agency.DemoRouting()}
	if _, _, _, err := ags.Import(context.Background(), d, audit.Event{Actor: "test", Role: "seed"}); err != nil {
		t.Fatal(err)
	}
}

// SearchKey is the tests' key of the blind index of citizens' words.
var SearchKey = sealed.SearchKey([]byte("pakn test audit key, 32 bytes at least"))
