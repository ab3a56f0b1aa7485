package httpapi

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"
	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp/totp"

	"pakn/internal/access"
	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/auditlog"
	"pakn/internal/credential"
	"pakn/internal/guard"
	"pakn/internal/identity"
	"pakn/internal/petition"
	"pakn/internal/petitions"
	"pakn/internal/pgtest"
	"pakn/internal/postgres"
	"pakn/internal/register"
	"pakn/internal/replies"
	"pakn/internal/reply"
	"pakn/internal/sealed"
	"pakn/internal/servicetest"
	"pakn/internal/signing"
	"pakn/internal/store"
	"pakn/internal/tsa"
	"pakn/internal/vault"
	"pakn/internal/vaulttest"
	"pakn/internal/verify"
)

var apiHasher = credential.NewPasswordHasher(credential.DefaultArgon2, 4)

// stack is a real API over a real database and Vault.
type stack struct {
	t         testing.TB
	db        *pgtest.DB
	stores    store.Set          // the services' stores: citizens' words sealed
	words     *vault.EnvelopeBox // what seals them
	ids       *identity.Service
	box       *vault.TransitBox
	petitions *petitions.Service
	replies   *replies.Service
	api       *Server
	srv       *httptest.Server
	logs      *bytes.Buffer
	byRole    map[access.Role]*credential.Account
	victim    *credential.Account // an account of the same agency that admins act on
	foreign   *credential.Account // an account of another agency
	vault     *vaulttest.Server
	certs     string           // the bootstrapped CA chain's folder
	deps      Deps             // what api was built with
	verifier  *verify.Verifier // the desk's
}

const loginPassword = "Hồ Hoàn Kiếm, Hà Nội 2026"

// changedPassword is the test accounts' password once the matrix has
// changed it (POST /api/v1/auth/password).
const changedPassword = "Một mật khẩu mới, đủ dài 2027"

// mfaSecret is the TOTP secret of the test accounts that have MFA.
const mfaSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

// ownerTx begins a transaction as the database's owner, for what the
// application's role may not do; it is rolled back at the end of the test
// unless committed.
func (s *stack) ownerTx(tb testing.TB) pgx.Tx {
	tb.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.db.OwnerURL)
	if err != nil {
		tb.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		conn.Close(ctx)
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = tx.Rollback(ctx); conn.Close(ctx) })
	return tx
}

func newStack(t testing.TB, limits Limits, trusted ...netip.Prefix) *stack {
	t.Helper()
	db := pgtest.New(t)
	vs, vc, dir := vaulttest.Bootstrapped(t)
	words := vault.NewEnvelopeBox(vc, vault.PIIKey)
	st := sealed.Stores(db.Stores(nil), words, servicetest.SearchKey)
	ags := st.Agencies
	servicetest.DemoCity(t, ags)
	box := vault.NewTransitBox(vc, vault.MFAKey)
	g := &guard.Guard{Audit: st.Audit, Now: time.Now}
	ids, err := identity.New(identity.Config{Stores: st, Hasher: apiHasher, Box: box, Guard: g})
	if err != nil {
		t.Fatal(err)
	}
	roots, inter, err := verify.LoadAnchors(filepath.Join(dir, "certs"), false)
	if err != nil {
		t.Fatal(err)
	}
	verifier := &verify.Verifier{Roots: roots, Intermediates: inter, CRL: vc.IssuerCRLs(time.Nanosecond),
		FindIssued: register.Finder(st.Replies), IssuancePolicy: tsa.Issuance(nil)}
	// pakn's own authority: its issuance policy for the replies, the one it serves others at /api/v1/tsa.
	own, err := vc.TimeStamping(filepath.Join(dir, "certs", vault.TSACertFile), tsa.Issuance(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := register.New(register.Config{Stores: st, Verifier: verifier, TSA: own.Under(tsa.Service(nil))})
	if err != nil {
		t.Fatal(err)
	}
	pets, err := petitions.New(petitions.Config{Stores: st, Box: words, Guard: g})
	if err != nil {
		t.Fatal(err)
	}
	reps, err := replies.New(replies.Config{Petitions: pets, Stores: st, Keys: vc, SignPDF: signing.SignPDF,
		Docs: replies.Documents{PublicURL: "https://pakn.example.vn", Place: "Hà Nội", Stamp: own.Respond, CRLs: vc.ValidationCRLs(time.Nanosecond)}})
	if err != nil {
		t.Fatal(err)
	}
	clients, _ := audit.NewClientHasher(bytes.Repeat([]byte{7}, 32))
	logs := &bytes.Buffer{}
	deps := Deps{
		Log: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), MaxBodyBytes: 1 << 20, // every level: what is checked absent is absent from all of them
		Ready:    map[string]Checker{"database": func(ctx context.Context) error { return db.Pool.Ping(ctx) }, "vault": vc.Ready},
		Identity: ids, AuditLog: &auditlog.Service{Audit: st.Audit, Guard: g}, Guard: g, Petitions: pets, Replies: reps, Register: reg,
		Agencies: func(ctx context.Context) ([]agency.Agency, error) { return ags.List(ctx) },
		Clients:  clients, TrustedProxies: trusted, Limits: limits,
	}
	api := New(deps)
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	s := &stack{t: t, db: db, stores: st, words: words, ids: ids, box: box, petitions: pets, replies: reps, api: api, srv: srv, logs: logs, byRole: map[access.Role]*credential.Account{},
		vault: vs, certs: filepath.Join(dir, "certs"), deps: deps, verifier: verifier}
	for _, r := range access.AllRoles {
		s.byRole[r] = s.account("demo-"+string(r), "STP-HN", r)
	}
	servicetest.AgencyKey(t, vs, st, "STP-HN", "Sở Tư pháp thành phố Hà Nội")
	s.victim = s.account("victim", "STP-HN", access.Official)
	s.foreign = s.account("foreigner", "UBND-BD", access.Official)
	return s
}

// account creates a ready account: password set (loginPassword), MFA on for
// roles that need it.
// powerRequest makes a pending two-person request by another
// administrator of STP-HN (a new signer's MFA reset), for the matrix's
// approvals and refusals, and returns its id.
func (s *stack) powerRequest() string {
	s.t.Helper()
	ctx := context.Background()
	second, err := s.ids.FindAccount(ctx, "matrix-admin2")
	if err != nil {
		second = s.account("matrix-admin2", "STP-HN", access.Admin)
	}
	target := s.account("pr-"+strconv.FormatInt(time.Now().UnixNano(), 36), "STP-HN", access.Signer)
	p := access.Principal{Kind: access.Staff, ID: second.ID, Agency: "STP-HN", Roles: []access.Role{access.Admin}, SteppedUp: time.Now()}
	req, err := s.ids.ResetMFA(ctx, audit.Meta{}, p, target.ID)
	if err != nil || req == nil {
		s.t.Fatalf("power request: %+v %v", req, err)
	}
	return req.ID
}

func (s *stack) account(username, agencyCode string, roles ...access.Role) *credential.Account {
	s.t.Helper()
	ctx := context.Background()
	op := access.Principal{Kind: access.Operator, Name: "test"}
	a, _, err := s.ids.CreateAccount(ctx, audit.Meta{}, op, identity.NewAccount{Username: username, DisplayName: username, Agency: agencyCode, Roles: roles})
	if err != nil {
		s.t.Fatal(err)
	}
	hash, _ := apiHasher.Hash(loginPassword)
	store := &postgres.IdentityStore{}
	err = s.db.PG.InTx(ctx, func(ctx context.Context) error {
		if err := store.SetPassword(ctx, a.ID, hash, false, time.Now()); err != nil {
			return err
		}
		if access.MFARequired(roles) {
			enc, err := s.box.Seal(ctx, a.ID, []byte(mfaSecret))
			if err != nil {
				return err
			}
			return store.SetTOTP(ctx, a.ID, enc, time.Now(), 0)
		}
		return nil
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return a
}

// session opens a fresh, stepped-up session for a and returns its token.
func (s *stack) session(a *credential.Account) string {
	s.t.Helper()
	return s.sessionSteppedUpAt(a, time.Now())
}

// sessionSteppedUpAt opens a session for a whose last TOTP code was typed
// at mfaAt, and returns its token.
func (s *stack) sessionSteppedUpAt(a *credential.Account, mfaAt time.Time) string {
	s.t.Helper()
	ctx := context.Background()
	secret, hash, _ := credential.NewSecret()
	now := time.Now()
	err := s.db.PG.InTx(ctx, func(ctx context.Context) error {
		return s.db.Stores(nil).Accounts.CreateSession(ctx, credential.Session{TokenHash: hash, AccountID: a.ID,
			CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(credential.AbsoluteTimeout), MFAAt: mfaAt})
	})
	if err != nil {
		s.t.Fatal(err)
	}
	return secret
}

// token issues an integration token of STP-HN with the given scopes.
func (s *stack) token(scopes ...access.Action) (id, secret string) {
	s.t.Helper()
	// Issued by an operator for the agency: an administrator delegates only
	// what their roles hold, and the matrix's token reads the audit chain.
	op := access.Principal{Kind: access.Operator, Name: "test", Agency: "STP-HN"}
	t, secret, err := s.ids.IssueToken(context.Background(), audit.Meta{}, op, "integration", scopes, 0)
	if err != nil {
		s.t.Fatal(err)
	}
	return t.ID, secret
}

type request struct {
	method, path, body string
	cookie, bearer     string
	header             map[string]string
	contentType        string
}

// noRedirects is the tests' client: a redirect is an answer to check, not
// to follow.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func (s *stack) do(r request) (*http.Response, string) {
	s.t.Helper()
	var body io.Reader
	if r.body != "" {
		body = strings.NewReader(r.body)
	}
	req, err := http.NewRequest(r.method, s.srv.URL+r.path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	if r.body != "" {
		ct := r.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	if r.cookie != "" {
		req.AddCookie(&http.Cookie{Name: SessionCookie, Value: r.cookie})
	}
	if r.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for k, v := range r.header {
		req.Header.Set(k, v)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// expected says who may use each route: "all", "staff" (any signed-in
// account), or a list of roles, with "token" for an integration token that
// holds the route's scope. A route missing here fails the test, and so does a
// row for a route the router does not have.
var expected = map[string]string{
	"GET /api/v1/":                              "all",
	"GET /healthz":                              "all",
	"GET /readyz":                               "all",
	"POST /api/v1/auth/login":                   "all",
	"POST /api/v1/auth/logout":                  "staff",
	"GET /api/v1/auth/session":                  "staff",
	"POST /api/v1/auth/password":                "staff",
	"POST /api/v1/auth/mfa/enrol":               "staff",
	"POST /api/v1/auth/mfa/confirm":             "staff",
	"POST /api/v1/auth/step-up":                 "staff",
	"GET /api/v1/agencies":                      "all",
	"GET /api/v1/accounts":                      "admin",
	"POST /api/v1/accounts":                     "admin",
	"GET /api/v1/accounts/{id}":                 "admin",
	"POST /api/v1/accounts/{id}/roles":          "admin",
	"DELETE /api/v1/accounts/{id}/roles/{role}": "admin",
	"POST /api/v1/accounts/{id}/disable":        "admin",
	"POST /api/v1/accounts/{id}/mfa-reset":      "admin",
	"POST /api/v1/accounts/{id}/password-reset": "admin",
	"GET /api/v1/power-requests":                "admin",
	"POST /api/v1/power-requests/{id}/approve":  "admin",
	"POST /api/v1/power-requests/{id}/refuse":   "admin",
	"GET /api/v1/tokens":                        "admin",
	"POST /api/v1/tokens":                       "admin",
	"DELETE /api/v1/tokens/{id}":                "admin",
	"GET /api/v1/audit/events":                  "auditor",
	"GET /api/v1/audit/verify":                  "auditor,token",
	"GET /api/v1/audit/export":                  "auditor",

	"GET /api/v1/openapi.json":                            "all",
	"POST /api/v1/petitions":                              "anonymous,official",
	"POST /api/v1/petitions/lookup":                       "all",
	"POST /api/v1/petitions/reopen":                       "all",
	"GET /api/v1/petitions/reject-reasons":                "all",
	"GET /api/v1/calendar/holidays":                       "all",
	"GET /api/v1/petitions":                               "official,reviewer,signer",
	"GET /api/v1/petitions/{id}":                          "official,reviewer,signer",
	"GET /api/v1/petitions/{id}/attachments/{attachment}": "official,reviewer,signer",
	"POST /api/v1/petitions/{id}/transitions":             "official",
	"POST /api/v1/petitions/{id}/updates":                 "official",
	"GET /api/v1/reports/deadlines":                       "official,reviewer,signer,admin",
	"GET /api/v1/petitions/{id}/replies":                  "official,reviewer,signer",
	"POST /api/v1/petitions/{id}/replies":                 "official",
	"GET /api/v1/replies/{id}":                            "official,reviewer,signer",
	"POST /api/v1/replies/{id}/approve":                   "reviewer",
	"POST /api/v1/replies/{id}/send-back":                 "reviewer",
	"POST /api/v1/replies/{id}/sign":                      "signer",
	"GET /api/v1/replies/{id}/pdf":                        "official,reviewer,signer",
	"POST /api/v1/petitions/reply":                        "all",
	"POST /api/v1/petitions/receipt":                      "all",
	"GET /api/v1/register/replies/{id}/pdf":               "all",
	"GET /api/v1/register/replies/{id}":                   "all",
	"POST /api/v1/verifications":                          "all",
	"POST /api/v1/tsa":                                    "all",
	"GET /verify/{id}":                                    "all",
	"POST /verify/{id}":                                   "all",

	// The staff desk: a page no role of the caller may see is refused (403,
	// or 404 for another agency's object); a caller not signed in is sent to
	// the sign-in page (303), which counts as a refusal.
	"GET /desk":                                     "all",
	"GET /desk/signin":                              "all",
	"POST /desk/signin":                             "all",
	"POST /desk/signin/code":                        "all",
	"POST /desk/signout":                            "all",
	"GET /desk/password":                            "staff",
	"POST /desk/password":                           "staff",
	"GET /desk/mfa":                                 "staff",
	"POST /desk/mfa":                                "staff",
	"POST /desk/mfa/start":                          "staff",
	"GET /desk/":                                    "staff",
	"POST /desk/":                                   "staff",
	"GET /desk/petitions/{id}":                      "official,reviewer,signer",
	"POST /desk/petitions/{id}/petitioner":          "official,reviewer,signer",
	"POST /desk/petitions/{id}/transitions":         "official",
	"POST /desk/petitions/{id}/updates":             "official",
	"GET /desk/petitions/{id}/reply":                "official",
	"POST /desk/petitions/{id}/replies":             "official",
	"GET /desk/replies/{id}":                        "official,reviewer,signer",
	"GET /desk/replies/{id}/preview":                "official,reviewer,signer",
	"GET /desk/replies/{id}/pdf":                    "official,reviewer,signer",
	"POST /desk/replies/{id}/review":                "reviewer",
	"POST /desk/replies/{id}/sign":                  "signer",
	"GET /desk/step-up":                             "staff",
	"POST /desk/step-up":                            "staff",
	"GET /desk/admin":                               "all",
	"GET /desk/admin/":                              "admin",
	"POST /desk/admin/accounts":                     "admin",
	"GET /desk/admin/accounts/{id}":                 "admin",
	"POST /desk/admin/accounts/{id}/roles":          "admin",
	"POST /desk/admin/accounts/{id}/disable":        "admin",
	"POST /desk/admin/accounts/{id}/mfa-reset":      "admin",
	"POST /desk/admin/accounts/{id}/password-reset": "admin",
	"POST /desk/admin/requests/{id}/approve":        "admin",
	"POST /desk/admin/requests/{id}/refuse":         "admin",
	"GET /desk/admin/tokens":                        "admin",
	"POST /desk/admin/tokens":                       "admin",
	"POST /desk/admin/tokens/{id}/revoke":           "admin",
	"GET /desk/admin/signers":                       "admin",
	"GET /desk/admin/report":                        "official,reviewer,signer,admin",

	// The website.
	"GET /":                "all",
	"GET /static/*":        "all",
	"GET /submit":          "all",
	"POST /submit":         "all",
	"POST /submit/receipt": "all",
	"GET /track":           "all",
	"POST /track":          "all",
	"POST /track/reply":    "all",
	"POST /track/receipt":  "all",
	"POST /track/reopen":   "all",
	"GET /verify":          "all",
	"POST /verify":         "all",
	"GET /register":        "all",
	"GET /register/{id}":   "all",
	"GET /register.csv":    "all",
	"GET /register.json":   "all",
}

// call is what the matrix sends on a route and what every caller the
// route allows must get: the status of the contract (OpenAPI document and
// README), with a request made to succeed wherever one can.
type call struct {
	body, contentType string
	bodies            map[string]string // where a caller sends another body
	want              int               // the status of an allowed caller
	wants             map[string]int    // where a caller's status differs
}

// calls lists what differs from an empty JSON object answered 200.
func (s *stack) calls(m matrixFixture) map[string]call {
	form, formType := fileForm(s.t, "file", m.genuine)
	submission := `{"petitioner":{"kind":"individual","name":"Phạm Thu Hà","email":"ha@example.vn"},
		"title":"Giờ làm việc của bộ phận một cửa","body":"Đề nghị mở cửa bộ phận một cửa vào sáng thứ Bảy.","category":"proposal"}`
	petitionForm, petitionFormType := petitionPage(s.t)
	lookupForm := url.Values{"tracking_code": {m.receipt.TrackingCode}, "lookup_secret": {m.receipt.LookupSecret}}
	lookup := `{"tracking_code":"` + m.receipt.TrackingCode + `","lookup_secret":"` + m.receipt.LookupSecret + `"}`
	calls := map[string]call{
		"POST /api/v1/auth/login":    {body: `{"username":"demo-official","password":"` + loginPassword + `"}`, want: 200},
		"POST /api/v1/auth/logout":   {want: 204},
		"POST /api/v1/auth/password": {body: `{"current_password":"` + loginPassword + `","new_password":"` + changedPassword + `"}`, want: 204},
		// Accounts with MFA have it already; the others have not started
		// (with the current password: their sessions need not enrol).
		"POST /api/v1/auth/mfa/enrol": {body: `{"current_password":"` + loginPassword + `"}`, want: 200,
			wants: map[string]int{"admin": 409, "auditor": 409, "signer": 409}},
		"POST /api/v1/auth/mfa/confirm": {body: `{"code":"123456"}`, want: 409},
		"POST /api/v1/auth/step-up":     {want: 204, wants: map[string]int{"official": 409, "reviewer": 409}}, // a current code, see totpNow

		"POST /api/v1/accounts":                     {body: `{"username":"matrix-new","display_name":"Người mới","roles":["official"]}`, want: 201},
		"POST /api/v1/accounts/{id}/roles":          {body: `{"role":"reviewer"}`, want: 204},
		"DELETE /api/v1/accounts/{id}/roles/{role}": {want: 204},
		"POST /api/v1/accounts/{id}/disable":        {want: 204},
		"POST /api/v1/accounts/{id}/mfa-reset":      {want: 204},
		"POST /api/v1/power-requests/{id}/refuse":   {want: 204},
		"POST /api/v1/tokens":                       {body: `{"name":"matrix","scopes":["agency.read"],"ttl_days":30}`, want: 201},
		"DELETE /api/v1/tokens/{id}":                {want: 204},

		"POST /api/v1/petitions": {body: submission, want: 201,
			bodies: map[string]string{"official": strings.Replace(submission, `"category"`, `"channel":"in_person","category"`, 1)}},
		"POST /api/v1/petitions/lookup":  {body: lookup, want: 200},
		"POST /api/v1/petitions/reply":   {body: lookup, want: 200},
		"POST /api/v1/petitions/receipt": {body: lookup, want: 200},
		// A wrong secret: the same answer as for a code that does not exist.
		"POST /api/v1/petitions/reopen":           {body: `{"tracking_code":"` + m.receipt.TrackingCode + `","lookup_secret":"wrong"}`, want: 404},
		"POST /api/v1/petitions/{id}/transitions": {body: `{"transition":"accept"}`, want: 204},
		"POST /api/v1/petitions/{id}/updates":     {body: `{"message":"Đang xử lý"}`, want: 204},
		"POST /api/v1/petitions/{id}/replies":     {body: m.content, want: 201},
		"POST /api/v1/replies/{id}/send-back":     {body: `{"note":"Bổ sung căn cứ pháp lý"}`},
		"POST /api/v1/verifications":              {body: string(m.genuine), contentType: "application/pdf", want: 200},
		"POST /api/v1/tsa":                        {body: string(tsaQuery()), contentType: "application/timestamp-query", want: 200},
		"POST /verify/{id}":                       {body: form, contentType: formType, want: 200},

		"POST /submit":         {body: petitionForm, contentType: petitionFormType, want: 201},
		"POST /submit/receipt": {body: lookupForm.Encode(), contentType: "application/x-www-form-urlencoded"},

		"POST /track":         {body: lookupForm.Encode(), contentType: "application/x-www-form-urlencoded"},
		"POST /track/reply":   {body: lookupForm.Encode(), contentType: "application/x-www-form-urlencoded"},
		"POST /track/receipt": {body: lookupForm.Encode(), contentType: "application/x-www-form-urlencoded"},
		"POST /track/reopen":  {body: url.Values{"tracking_code": {m.receipt.TrackingCode}, "lookup_secret": {"wrong"}, "reason": {"Chưa đồng ý với kết quả."}}.Encode(), contentType: "application/x-www-form-urlencoded", want: 404},
		"POST /verify":        {body: form, contentType: formType, want: 200},
	}
	maps.Copy(calls, deskCalls())
	return calls
}

// deskCalls are calls of the desk's routes (see calls).
func deskCalls() map[string]call {
	return map[string]call{
		"GET /desk":              {want: 301},
		"GET /desk/signin":       {wants: map[string]int{"official": 303, "reviewer": 303, "signer": 303, "auditor": 303, "admin": 303}},
		"POST /desk/signin":      {body: url.Values{"username": {"desk-reviewer"}, "password": {loginPassword}}.Encode(), contentType: urlForm, want: 303},
		"POST /desk/signin/code": {body: "ticket=forged&code=123456", contentType: urlForm, want: 401},
		"POST /desk/":            {body: "q=ph%C3%AD+tr%C3%B4ng+gi%E1%BB%AF&page=1", contentType: urlForm},
		"POST /desk/signout":     {body: "", contentType: urlForm, want: 303},
		"POST /desk/password":    {body: "current_password=wrong&new_password=x&new_password_again=y", contentType: urlForm, want: 422},
		"GET /desk/mfa":          {wants: map[string]int{"signer": 409, "auditor": 409, "admin": 409}},
		// Those without MFA started an enrolment through the API (called before): a wrong code; the others have MFA on.
		"POST /desk/mfa": {body: "code=000000", contentType: urlForm, want: 409, wants: map[string]int{"official": 422, "reviewer": 422}},
		// The password changed by then (POST /api/v1/auth/password comes first).
		"POST /desk/mfa/start": {body: url.Values{"current_password": {changedPassword}}.Encode(), contentType: urlForm, want: 200,
			wants: map[string]int{"signer": 409, "auditor": 409, "admin": 409}},
		"POST /desk/petitions/{id}/petitioner":  {body: "", contentType: urlForm},
		"POST /desk/petitions/{id}/transitions": {body: "transition=start", contentType: urlForm, want: 303},
		"POST /desk/petitions/{id}/updates":     {body: "message=Đang+xác+minh", contentType: urlForm, want: 303},
		// Accepted and not yet started by then (the desk's own start comes after): a conflict; the browser test drafts.
		"POST /desk/petitions/{id}/replies": {body: url.Values{"summary": {replyContent.Summary}, "answer": {replyContent.Answer},
			"legal_basis[0].document": {replyContent.LegalBasis[0].Document}, "outcome": {string(replyContent.Outcome)}}.Encode(),
			contentType: urlForm, want: 409},
		// The reply is signed by then (the API's routes come first): a conflict to review, the same document to sign.
		"POST /desk/replies/{id}/review": {body: "decision=approve", contentType: urlForm, want: 409},
		"POST /desk/replies/{id}/sign":   {body: "", contentType: urlForm, want: 303},
		// A wrong code (the current one went to the API's step-up): shown on
		// the page; those without MFA are told to enrol first.
		"POST /desk/step-up": {body: "code=000000&next=/desk/admin/", contentType: urlForm, want: 422,
			wants: map[string]int{"official": 409, "reviewer": 409}},
		"GET /desk/admin":                               {want: 301},
		"POST /desk/admin/accounts":                     {body: "username=matrix-desk&display_name=Ng%C6%B0%E1%BB%9Di+m%E1%BB%9Bi&role=official", contentType: urlForm},
		"POST /desk/admin/accounts/{id}/roles":          {body: "role=official&role=signer", contentType: urlForm, want: 303},
		"POST /desk/admin/accounts/{id}/disable":        {body: "confirm=yes", contentType: urlForm, want: 303},
		"POST /desk/admin/accounts/{id}/mfa-reset":      {body: "", contentType: urlForm, want: 303},
		"POST /desk/admin/accounts/{id}/password-reset": {body: "", contentType: urlForm},
		"POST /desk/admin/requests/{id}/approve":        {body: "", contentType: urlForm, want: 303},
		"POST /desk/admin/requests/{id}/refuse":         {body: "", contentType: urlForm, want: 303},
		"POST /desk/admin/tokens":                       {body: "name=matrix-desk&scope=agency.read&days=30", contentType: urlForm},
		"POST /desk/admin/tokens/{id}/revoke":           {body: "", contentType: urlForm, want: 303},
	}
}

// petitionPage is the petition page's form, filled in, with consent.
func petitionPage(t testing.TB) (body, contentType string) {
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, kv := range [][2]string{{"petitioner.kind", "individual"}, {"petitioner.name", "Phạm Thu Hà"}, {"petitioner.email", "ha@example.vn"},
		{"title", "Giờ làm việc của bộ phận một cửa"}, {"body", "Đề nghị mở cửa bộ phận một cửa vào sáng thứ Bảy."}, {"category", "proposal"},
		{"consent", "yes"}} {
		if err := w.WriteField(kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// matrixFixture is what the matrix's requests refer to.
type matrixFixture struct {
	petition, attachment string // received, with a file
	inProgress           string // a petition a reply can be drafted for
	draft, sentBack      string // replies: approved then signed; sent back
	signed               string // a signed, published reply
	receipt              *petitions.Receipt
	genuine              []byte // the signed reply's PDF
	content              string
	token                string // an integration token's secret
}

func (s *stack) matrixFixture(t *testing.T) matrixFixture {
	var m matrixFixture
	_, m.token = s.token(access.AuditRead, access.AgencyRead)
	m.petition, m.attachment = s.petition()
	m.draft, m.signed, m.receipt = s.seedReplies()
	pid, _ := s.inProgressPetition()
	m.sentBack = s.draftReply(pid)
	m.inProgress, _ = s.inProgressPetition()
	m.genuine = s.signedPDF(m.signed)
	c, _ := json.Marshal(replyContent)
	m.content = string(c)
	s.account("desk-reviewer", "STP-HN", access.Reviewer) // signs in to the desk with loginPassword
	return m
}

// totpNow is the current TOTP code of the test accounts with MFA.
func totpNow(t *testing.T) string {
	code, err := totp.GenerateCodeCustom(mfaSecret, time.Now(), totp.ValidateOpts{Period: credential.TOTPPeriod, Digits: credential.TOTPDigits})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// stepUpRoutes are the routes SECURITY.md says need a TOTP code from the
// last five minutes: signing, audit export, managing accounts and tokens.
var stepUpRoutes = map[string]bool{
	"POST /api/v1/accounts": true, "POST /api/v1/accounts/{id}/roles": true, "DELETE /api/v1/accounts/{id}/roles/{role}": true,
	"POST /api/v1/accounts/{id}/disable": true, "POST /api/v1/accounts/{id}/mfa-reset": true, "POST /api/v1/accounts/{id}/password-reset": true,
	"POST /api/v1/tokens": true, "DELETE /api/v1/tokens/{id}": true, "GET /api/v1/audit/export": true, "POST /api/v1/replies/{id}/sign": true,
	"POST /api/v1/power-requests/{id}/approve": true, "POST /api/v1/power-requests/{id}/refuse": true,
	// The desk's forms: the same actions, refused the same way (the page
	// shown again with the error, 403).
	"POST /desk/replies/{id}/sign": true, "POST /desk/admin/accounts": true, "POST /desk/admin/accounts/{id}/roles": true,
	"POST /desk/admin/accounts/{id}/disable": true, "POST /desk/admin/accounts/{id}/mfa-reset": true,
	"POST /desk/admin/accounts/{id}/password-reset": true, "POST /desk/admin/tokens": true, "POST /desk/admin/tokens/{id}/revoke": true,
	"POST /desk/admin/requests/{id}/approve": true, "POST /desk/admin/requests/{id}/refuse": true,
}

// staleCallers checks that the roles route allows, with a session whose
// last TOTP code is six minutes old, are refused 403 step_up_required and
// change nothing.
func (s *stack) staleCallers(t *testing.T, m matrixFixture, c call, route string) {
	method, pattern, _ := strings.Cut(route, " ")
	for _, role := range []access.Role{access.Admin, access.Auditor, access.Signer} {
		if !allowedFor(expected[route], string(role)) {
			continue
		}
		t.Run(route+"/"+string(role)+"-stale", func(t *testing.T) {
			req := request{method: method, path: m.path(s, route, pattern), body: c.body, contentType: c.contentType,
				cookie: s.sessionSteppedUpAt(s.byRole[role], time.Now().Add(-6*time.Minute))}
			if method == http.MethodPost && req.body == "" {
				req.body = "{}"
			}
			before, seq := s.fingerprint(t)
			resp, body := s.do(req)
			if resp.StatusCode != 403 || !strings.Contains(body, `"step_up_required"`) && !strings.HasPrefix(pattern, "/desk/") {
				t.Fatalf("%s as %s with a six-minute-old code: %d %.300s; want 403 step_up_required", route, role, resp.StatusCode, body)
			}
			s.unchangedButDenials(t, before, seq, route+" as a stale "+string(role))
		})
	}
}

// urlForm is the content type of a page's form.
const urlForm = "application/x-www-form-urlencoded"

// path fills pattern's parameters with the fixture's objects.
func (m matrixFixture) path(s *stack, route, pattern string) string {
	switch {
	case route == "POST /api/v1/petitions/{id}/replies":
		return strings.Replace(pattern, "{id}", m.inProgress, 1)
	case route == "POST /api/v1/replies/{id}/send-back":
		return strings.Replace(pattern, "{id}", m.sentBack, 1)
	case strings.HasPrefix(pattern, "/api/v1/petitions/{id}") || strings.HasPrefix(pattern, "/desk/petitions/{id}"):
		return strings.NewReplacer("{id}", m.petition, "{attachment}", m.attachment).Replace(pattern)
	case strings.HasSuffix(pattern, "/pdf") || strings.HasPrefix(pattern, "/verify/") || strings.HasPrefix(pattern, "/api/v1/register/") ||
		strings.HasPrefix(pattern, "/register/"):
		return strings.Replace(pattern, "{id}", m.signed, 1)
	case strings.HasPrefix(pattern, "/api/v1/replies/{id}") || strings.HasPrefix(pattern, "/desk/replies/{id}"):
		return strings.Replace(pattern, "{id}", m.draft, 1)
	case pattern == "/static/*":
		return "/static/site.css"
	case strings.HasPrefix(pattern, "/api/v1/tokens/") || strings.HasPrefix(pattern, "/desk/admin/tokens/"):
		id, _ := s.token(access.AgencyRead)
		return strings.Replace(pattern, "{id}", id, 1)
	case strings.HasPrefix(pattern, "/api/v1/power-requests/") || strings.HasPrefix(pattern, "/desk/admin/requests/"):
		return strings.Replace(pattern, "{id}", s.powerRequest(), 1)
	}
	return strings.NewReplacer("{id}", s.victim.ID, "{role}", "reviewer").Replace(pattern)
}

func allowedFor(rule, who string) bool {
	switch rule {
	case "all":
		return true
	case "staff":
		return who != "anonymous" && who != "token"
	}
	for _, r := range strings.Split(rule, ",") {
		if r == who {
			return true
		}
	}
	return false
}

// TestEveryRouteForEveryRole calls every route as every kind of caller, in
// a fixed order (routes sorted, so a reply is approved before it is
// signed): an allowed caller gets exactly the contract's status; a refused
// one gets 401, 403 or 404 and changes nothing but the audit log's refusals.
func TestEveryRouteForEveryRole(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	routes := map[string]bool{}
	for _, r := range s.api.Routes() {
		routes[r[0]+" "+r[1]] = true
	}
	for k := range expected {
		if !routes[k] {
			t.Errorf("the table names %s, which the router does not serve", k)
		}
	}
	for k := range routes {
		if _, ok := expected[k]; !ok {
			t.Errorf("route %s is not in the role table: add it", k)
		}
	}
	m := s.matrixFixture(t)
	calls := s.calls(m)
	for k := range calls {
		if _, ok := expected[k]; !ok {
			t.Errorf("calls names %s, which is not in the role table", k)
		}
	}
	who := []string{"anonymous", "token"}
	for _, r := range access.AllRoles {
		who = append(who, string(r))
	}
	for _, route := range slices.Sorted(maps.Keys(expected)) {
		method, pattern, _ := strings.Cut(route, " ")
		c, ok := calls[route]
		if !ok || c.want == 0 {
			c.want = 200
		}
		if stepUpRoutes[route] {
			s.staleCallers(t, m, c, route)
		}
		for _, w := range who {
			t.Run(route+"/"+w, func(t *testing.T) {
				req := request{method: method, path: m.path(s, route, pattern), body: c.body, contentType: c.contentType}
				if route == "POST /api/v1/auth/step-up" {
					req.body = `{"code":"` + totpNow(t) + `"}`
				}
				if b, ok := c.bodies[w]; ok {
					req.body = b
				}
				if method == http.MethodPost && req.body == "" {
					req.body = "{}"
				}
				switch w {
				case "anonymous":
				case "token":
					req.bearer = m.token
				default:
					req.cookie = s.session(s.byRole[access.Role(w)])
				}
				before, seq := s.fingerprint(t)
				resp, body := s.do(req)
				if !allowedFor(expected[route], w) {
					denied := resp.StatusCode == 401 || resp.StatusCode == 403 || (resp.StatusCode == 404 && strings.Contains(pattern, "{")) ||
						(resp.StatusCode == 303 && strings.HasPrefix(pattern, "/desk/") && strings.HasPrefix(resp.Header.Get("Location"), "/desk/signin"))
					if !denied {
						t.Fatalf("%s as %s: %d %.300s; want a refusal", route, w, resp.StatusCode, body)
					}
					s.unchangedButDenials(t, before, seq, route+" as "+w)
					return
				}
				want := c.want
				if v, ok := c.wants[w]; ok {
					want = v
				}
				if resp.StatusCode != want {
					t.Fatalf("%s as %s: %d %.300s; want %d", route, w, resp.StatusCode, body, want)
				}
			})
		}
	}
}

func TestOtherAgencysObjectsAreInvisibleAndAudited(t *testing.T) {
	s := newStack(t, DefaultLimits)
	admin := s.session(s.byRole[access.Admin])
	for _, r := range []request{
		{method: "GET", path: "/api/v1/accounts/" + s.foreign.ID},
		{method: "POST", path: "/api/v1/accounts/" + s.foreign.ID + "/disable", body: "{}"},
		{method: "POST", path: "/api/v1/accounts/" + s.foreign.ID + "/roles", body: `{"role":"admin"}`},
		{method: "POST", path: "/api/v1/accounts/" + s.foreign.ID + "/password-reset", body: "{}"},
	} {
		r.cookie = admin
		resp, body := s.do(r)
		if resp.StatusCode != 404 {
			t.Fatalf("%s %s: %d %s, want 404", r.method, r.path, resp.StatusCode, body)
		}
		// The same answer as for an id that does not exist.
		r.path = strings.Replace(r.path, s.foreign.ID, "00000000-0000-4000-8000-000000000000", 1)
		resp2, body2 := s.do(r)
		if resp2.StatusCode != 404 || problemDetail(body) != problemDetail(body2) {
			t.Fatalf("another agency's account is distinguishable from a missing one: %s vs %s", body, body2)
		}
	}
	ctx := context.Background()
	var n int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'access.denied' AND outcome = 'denied'
		AND object_id = $1 AND actor = $2`, s.foreign.ID, "account:"+s.byRole[access.Admin].ID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 4 {
		t.Fatalf("%d denied events for the attempts on another agency's account, want 4", n)
	}
	c, err := s.ids.FindAccount(ctx, "foreigner")
	if err != nil || c.Disabled || len(c.Roles) != 1 {
		t.Fatalf("the foreign account changed: %+v %v", c, err)
	}
}

func problemDetail(body string) string {
	var p Problem
	_ = json.Unmarshal([]byte(body), &p)
	return p.Detail
}

func TestForgedForwardedForDoesNotBypassRateLimit(t *testing.T) {
	s := newStack(t, Limits{Login: 3, Public: 1000})
	// Each attempt names another account, so only the per-address limit is at work.
	n := 0
	login := func(xff string) int {
		n++
		resp, _ := s.do(request{method: "POST", path: "/api/v1/auth/login", body: fmt.Sprintf(`{"username":"x%d","password":"y"}`, n),
			header: map[string]string{"X-Forwarded-For": xff}})
		return resp.StatusCode
	}
	for i, xff := range []string{"203.0.113.1", "203.0.113.2", "203.0.113.3"} {
		if code := login(xff); code == 429 {
			t.Fatalf("request %d limited too early", i)
		}
	}
	if code := login("198.51.100.99"); code != 429 {
		t.Fatalf("a fresh forged X-Forwarded-For got %d, want 429", code)
	}

	// Behind a trusted proxy the forwarded address is the client.
	p := newStack(t, Limits{Login: 3, Public: 1000}, netip.MustParsePrefix("127.0.0.0/8"))
	for i := 0; i < 5; i++ {
		resp, _ := p.do(request{method: "POST", path: "/api/v1/auth/login", body: fmt.Sprintf(`{"username":"y%d","password":"y"}`, i),
			header: map[string]string{"X-Forwarded-For": "203.0.113." + string(rune('1'+i))}})
		if resp.StatusCode == 429 {
			t.Fatalf("distinct clients behind a trusted proxy were limited together (request %d)", i)
		}
	}
}

func TestRealClient(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	tests := []struct {
		remote, xff, want string
	}{
		{"203.0.113.5:1234", "", "203.0.113.5"},
		{"203.0.113.5:1234", "1.2.3.4", "203.0.113.5"},             // untrusted peer: header ignored
		{"10.0.0.2:1234", "198.51.100.7", "198.51.100.7"},          // trusted proxy
		{"10.0.0.2:1234", "1.2.3.4, 198.51.100.7", "198.51.100.7"}, // rightmost untrusted
		{"10.0.0.2:1234", "198.51.100.7, 10.0.0.9", "198.51.100.7"},
		{"10.0.0.2:1234", "garbage", "10.0.0.2"},
		{"10.0.0.2:1234", "", "10.0.0.2"},
		{"[::1]:80", "2001:db8::1", "2001:db8::1"},
		{"[::ffff:203.0.113.9]:80", "", "203.0.113.9"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := realClient(r, trusted); got != tt.want {
			t.Errorf("remote %s xff %q: %s, want %s", tt.remote, tt.xff, got, tt.want)
		}
	}
}

func FuzzRealClient(f *testing.F) {
	f.Add("10.0.0.2:1234", "1.2.3.4, 198.51.100.7")
	f.Add("[::1]:1", ",,,")
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		got := realClient(r, trusted)
		if a, err := netip.ParseAddr(got); err == nil && isTrusted(a, trusted) && !strings.HasPrefix(remote, got) {
			// Only the peer itself may come back as a trusted address.
			t.Fatalf("returned trusted address %s not equal to the peer %s", got, remote)
		}
	})
}

// pageCSP is the policy of every page of the website.
var pageCSP = regexp.MustCompile(`^default-src 'none'; style-src 'self'; img-src 'self'; script-src 'nonce-[A-Za-z0-9+/]{22}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'$`)

// isPage says whether a path (or route pattern) is one of the website's
// pages rather than the API's, a probe's or the metrics'.
func isPage(path string) bool {
	return !strings.HasPrefix(path, "/api/") && path != "/healthz" && path != "/readyz" && path != "/metrics"
}

func TestSecurityHeadersOnEveryRoute(t *testing.T) {
	s := newStack(t, DefaultLimits)
	paths := []string{"/does-not-exist", "/api/v1/does-not-exist"}
	methods := []string{"GET", "GET"}
	for _, r := range s.api.Routes() {
		paths = append(paths, strings.NewReplacer("{id}", s.victim.ID, "{role}", "official", "*", "missing.css").Replace(r[1]))
		methods = append(methods, r[0])
	}
	for i, p := range paths {
		resp, _ := s.do(request{method: methods[i], path: p})
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
			"X-Frame-Options":         "DENY",
		} {
			got := resp.Header.Get(h)
			redirect := resp.StatusCode >= 300 && resp.StatusCode < 400
			if h == "Content-Security-Policy" && isPage(p) && !redirect && !strings.HasPrefix(p, "/static/site.") && !strings.HasPrefix(p, "/register.") {
				// A page: its own stylesheet, its own script by nonce, its forms posting to this site only
				// (static files, the register's data feeds and redirects keep the API's policy).
				if !pageCSP.MatchString(got) {
					t.Errorf("%s %s: CSP %q", methods[i], p, got)
				}
				continue
			}
			if got != want {
				t.Errorf("%s %s: %s = %q, want %q", methods[i], p, h, got, want)
			}
		}
		if resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS over plain HTTP", p)
		}
	}
	// Over TLS, HSTS too.
	ts := httptest.NewTLSServer(s.api)
	defer ts.Close()
	c := ts.Client()
	c.Transport.(*http.Transport).TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the test server's own certificate
	resp, err := c.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if !strings.HasPrefix(resp.Header.Get("Strict-Transport-Security"), "max-age=") {
		t.Fatal("no HSTS over TLS")
	}
}

func TestCrossSiteStateChangesAreRefused(t *testing.T) {
	s := newStack(t, DefaultLimits)
	cookie := s.session(s.byRole[access.Admin])
	tests := []struct {
		name   string
		header map[string]string
		ct     string
		want   int
	}{
		{"cross-site form post", map[string]string{"Sec-Fetch-Site": "cross-site"}, "application/x-www-form-urlencoded", 403},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, "application/json", 403},
		{"foreign origin (old browser)", map[string]string{"Origin": "https://evil.example"}, "application/x-www-form-urlencoded", 403},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin"}, "application/json", 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			session := s.session(s.byRole[access.Official])
			body := "{}"
			if tt.ct != "application/json" {
				body = "x=1"
			}
			resp, b := s.do(request{method: "POST", path: "/api/v1/auth/logout", body: body, contentType: tt.ct, cookie: session, header: tt.header})
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d %s, want %d", resp.StatusCode, b, tt.want)
			}
			// A refused logout leaves the session alive; an accepted one ends it.
			resp, _ = s.do(request{method: "GET", path: "/api/v1/auth/session", cookie: session})
			if alive := resp.StatusCode == 200; alive != (tt.want == 403) {
				t.Fatalf("session alive = %v after a %d logout", alive, tt.want)
			}
		})
	}
	// A cross-site POST to create an account is refused before anything happens.
	resp, _ := s.do(request{method: "POST", path: "/api/v1/accounts", cookie: cookie,
		body: `{"username":"csrf-victim","display_name":"x","roles":["admin"]}`, header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
	if resp.StatusCode != 403 {
		t.Fatalf("cross-site account creation: %d", resp.StatusCode)
	}
	if _, err := s.ids.FindAccount(context.Background(), "csrf-victim"); err == nil {
		t.Fatal("the cross-site request created an account")
	}
}

func TestLoginSetsAFreshHardenedCookie(t *testing.T) {
	s := newStack(t, DefaultLimits)
	planted := strings.Repeat("A", 43) // an attacker's chosen value
	resp, body := s.do(request{method: "POST", path: "/api/v1/auth/login", cookie: planted,
		body: `{"username":"demo-official","password":"` + loginPassword + `"}`})
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %s", resp.StatusCode, body)
	}
	// The name is the contract (SECURITY.md): the __Host- prefix makes
	// browsers refuse it unless Secure, host-only and for path /.
	var set *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-pakn_session" && c.Value != "" {
			set = c
		}
	}
	if set == nil {
		t.Fatalf("login set no __Host-pakn_session cookie: %v", resp.Header.Values("Set-Cookie"))
	}
	if set.Value == planted {
		t.Fatal("login kept the planted session token")
	}
	if !set.Secure || !set.HttpOnly || set.SameSite != http.SameSiteStrictMode || set.Path != "/" || set.Domain != "" {
		t.Fatalf("cookie attributes %+v", set)
	}
	if set.MaxAge <= 0 || set.MaxAge > int(credential.AbsoluteTimeout.Seconds()) {
		t.Fatalf("cookie max-age %d", set.MaxAge)
	}
	if r, _ := s.do(request{method: "GET", path: "/api/v1/auth/session", cookie: planted}); r.StatusCode != 401 {
		t.Fatal("the planted token authenticates")
	}
	r, b := s.do(request{method: "GET", path: "/api/v1/auth/session", cookie: set.Value})
	if r.StatusCode != 200 || !strings.Contains(b, `"username":"demo-official"`) {
		t.Fatalf("new session: %d %s", r.StatusCode, b)
	}
	// A second login gives yet another token.
	resp, _ = s.do(request{method: "POST", path: "/api/v1/auth/login", cookie: set.Value,
		body: `{"username":"demo-official","password":"` + loginPassword + `"}`})
	for _, c := range resp.Cookies() {
		if c.Name == SessionCookie && c.Value == set.Value {
			t.Fatal("re-login reused the token")
		}
	}
	if strings.Contains(s.logs.String(), loginPassword) || strings.Contains(s.logs.String(), set.Value) {
		t.Fatal("a password or session token reached the logs")
	}
}

func TestStepUpGatesSensitiveActions(t *testing.T) {
	s := newStack(t, DefaultLimits)
	ctx := context.Background()
	secret, hash, _ := credential.NewSecret()
	old := time.Now().Add(-10 * time.Minute)
	if err := s.db.PG.InTx(ctx, func(ctx context.Context) error {
		return s.db.Stores(nil).Accounts.CreateSession(ctx, credential.Session{TokenHash: hash, AccountID: s.byRole[access.Admin].ID,
			CreatedAt: old, LastSeenAt: time.Now(), ExpiresAt: old.Add(credential.AbsoluteTimeout), MFAAt: old})
	}); err != nil {
		t.Fatal(err)
	}
	resp, body := s.do(request{method: "POST", path: "/api/v1/accounts/" + s.victim.ID + "/disable", body: "{}", cookie: secret})
	if resp.StatusCode != 403 || !strings.Contains(body, "step_up_required") {
		t.Fatalf("stale step-up: %d %s", resp.StatusCode, body)
	}
	// Reading needs no step-up.
	if resp, _ := s.do(request{method: "GET", path: "/api/v1/accounts", cookie: secret}); resp.StatusCode != 200 {
		t.Fatalf("list accounts: %d", resp.StatusCode)
	}
}

// petition submits a petition to STP-HN with one attachment and returns the
// ids of both.
func (s *stack) petition() (id, attachment string) {
	s.t.Helper()
	ctx := context.Background()
	sub := petition.Submission{
		Petitioner: petition.Petitioner{Kind: petition.Individual, Name: "Trần Văn Bảo", Email: "bao@example.vn"},
		Title:      "Quy định về phí trông giữ xe chưa hợp lý",
		Body:       "Đề nghị xem xét lại mức phí trông giữ xe đạp điện tại các điểm công cộng trên địa bàn.",
		Category:   petition.CatRegulation,
	}
	r, err := s.petitions.Submit(ctx, audit.Meta{}, access.Principal{Kind: access.Anonymous}, "", sub,
		[]petitions.FileIn{{Name: "ảnh.png", Content: bytes.NewReader([]byte("\x89PNG\r\n\x1a\n image"))}})
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.db.Pool.QueryRow(ctx, `SELECT p.id, a.id FROM petitions p JOIN petition_attachments a ON a.petition_id = p.id
		WHERE p.tracking_code = $1`, r.TrackingCode).Scan(&id, &attachment); err != nil {
		s.t.Fatal(err)
	}
	return id, attachment
}

// provisionSigner gives a a Vault Transit key and certificate, as
// `pakn signer provision` does.
func (s *stack) provisionSigner(a *credential.Account) {
	s.t.Helper()
	ctx := context.Background()
	ps, err := vault.ProvisionSigner(ctx, s.vault.Root(), a.Username, "ecdsa-p256", pkix.Name{CommonName: "Lê Hoàng Cường"})
	if err != nil {
		s.t.Fatal(err)
	}
	err = s.db.PG.InTx(ctx, func(ctx context.Context) error {
		return s.db.Stores(nil).Replies.AddSigner(ctx, &reply.Signer{AccountID: a.ID, FullName: "Lê Hoàng Cường", Title: "Phó Giám đốc",
			KeyName: ps.Key, KeyVersion: ps.Version, KeyType: "ecdsa-p256", Certificate: ps.Certificate, ChainPEM: ps.ChainPEM}, time.Now())
	})
	if err != nil {
		s.t.Fatal(err)
	}
}

// principal is a stepped-up principal of a.
func principal(a *credential.Account) access.Principal {
	return access.Principal{Kind: access.Staff, ID: a.ID, Name: a.Username, Agency: a.Agency, Roles: a.Roles, SteppedUp: time.Now()}
}

// replyContent is the reply the tests draft.
var replyContent = reply.Content{Summary: "Mức phí trông giữ xe đạp điện chưa hợp lý", Answer: "Mức phí được quy định tại Nghị quyết của Hội đồng nhân dân thành phố.",
	LegalBasis: []reply.LegalRef{{Document: "Nghị quyết số 44/2025/NQ-HĐND", Articles: "Điều 3"}}, Outcome: reply.Explained}

// inProgressPetition submits a petition to STP-HN through the service,
// accepts and starts it, and returns its id and receipt.
func (s *stack) inProgressPetition() (string, *petitions.Receipt) {
	s.t.Helper()
	ctx := context.Background()
	sub := petition.Submission{Petitioner: petition.Petitioner{Kind: petition.Individual, Name: "Nguyễn Thị Hồng Nhung",
		Email: "nhung@example.vn", Phone: "0912345678", IdentityNumber: "001190012345", Address: "phường Điện Biên, quận Ba Đình"},
		Title: "Phí trông giữ xe đạp điện", Body: "Đề nghị xem xét lại mức phí trông giữ xe đạp điện tại các điểm công cộng.", Category: petition.CatRegulation}
	r, err := s.petitions.Submit(ctx, audit.Meta{}, access.Principal{Kind: access.Anonymous}, "", sub, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	var pid string
	if err := s.db.Pool.QueryRow(ctx, `SELECT id FROM petitions WHERE tracking_code = $1`, r.TrackingCode).Scan(&pid); err != nil {
		s.t.Fatal(err)
	}
	for _, tr := range []petition.Transition{petition.Accept, petition.Start} {
		if err := s.replies.Transition(ctx, audit.Meta{}, principal(s.byRole[access.Official]), pid, tr, petitions.TransitionInput{}); err != nil {
			s.t.Fatal(err)
		}
	}
	return pid, r
}

// draftReply drafts replyContent for petition pid and returns the reply's id.
func (s *stack) draftReply(pid string) string {
	s.t.Helper()
	d, err := s.replies.DraftReply(context.Background(), audit.Meta{}, principal(s.byRole[access.Official]), pid, replyContent, "")
	if err != nil {
		s.t.Fatal(err)
	}
	return d.ID
}

// seedReplies creates, through the services, a petition with a draft reply and a
// petition whose reply is signed and published; it returns both replies'
// ids and the second petition's receipt.
func (s *stack) seedReplies() (draft, published string, rc *petitions.Receipt) {
	s.t.Helper()
	ctx := context.Background()
	s.provisionSigner(s.byRole[access.Signer])
	pid, _ := s.inProgressPetition()
	draft = s.draftReply(pid)
	pid, rc = s.inProgressPetition()
	published = s.draftReply(pid)
	if _, err := s.replies.ReviewReply(ctx, audit.Meta{}, principal(s.byRole[access.Reviewer]), published, true, ""); err != nil {
		s.t.Fatal(err)
	}
	if _, err := s.replies.SignReply(ctx, audit.Meta{}, principal(s.byRole[access.Signer]), published); err != nil {
		s.t.Fatal(err)
	}
	if err := s.replies.Transition(ctx, audit.Meta{}, principal(s.byRole[access.Official]), pid, petition.Publish, petitions.TransitionInput{}); err != nil {
		s.t.Fatal(err)
	}
	return draft, published, rc
}

// Another agency's official can neither read a petition's attachment nor
// its replies or their PDFs: each answer is the missing object's, and each
// attempt is audited as denied.
func TestOtherAgencysFilesAreInvisibleAndAudited(t *testing.T) {
	s := newStack(t, DefaultLimits)
	ctx := context.Background()
	draftID, signedID, rc := s.seedReplies() // the Department of Justice's (STP-HN)
	var pid string
	if err := s.db.Pool.QueryRow(ctx, `SELECT id FROM petitions WHERE tracking_code = $1`, rc.TrackingCode).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	sub := petition.Submission{Petitioner: petition.Petitioner{Kind: petition.Individual, Name: "Trần Văn An", Email: "an@example.vn"},
		Title: "Hồ sơ đính kèm", Body: "Kèm theo đơn là bản chụp giấy tờ liên quan đến thủ tục hành chính.", Category: petition.CatRegulation}
	r, err := s.petitions.Submit(ctx, audit.Meta{}, access.Principal{Kind: access.Anonymous}, "", sub,
		[]petitions.FileIn{{Name: "don.pdf", Content: bytes.NewReader([]byte("%PDF-1.7 don"))}})
	if err != nil {
		t.Fatal(err)
	}
	var withFile, attID string
	if err := s.db.Pool.QueryRow(ctx, `SELECT p.id, a.id FROM petitions p JOIN petition_attachments a ON a.petition_id = p.id
		WHERE p.tracking_code = $1`, r.TrackingCode).Scan(&withFile, &attID); err != nil {
		t.Fatal(err)
	}
	other := s.session(s.account("official-bd", "UBND-BD", access.Official))
	paths := []string{"/api/v1/petitions/" + withFile + "/attachments/" + attID, "/api/v1/petitions/" + pid + "/replies",
		"/api/v1/replies/" + draftID, "/api/v1/replies/" + signedID, "/api/v1/replies/" + signedID + "/pdf"}
	for _, p := range paths {
		if resp, body := s.do(request{method: "GET", path: p, cookie: other}); resp.StatusCode != 404 || strings.Contains(body, "PDF") {
			t.Errorf("GET %s by another agency: %d %.80s, want 404", p, resp.StatusCode, body)
		}
	}
	var denied int
	if err := s.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'access.denied' AND outcome = 'denied'
		AND actor LIKE 'account:%' AND details->>'object_agency' = 'STP-HN'`).Scan(&denied); err != nil || denied != len(paths) {
		t.Fatalf("%d denied events (%v), want %d", denied, err, len(paths))
	}
}

// fingerprint sums up what a call may change (petitions and their
// timelines, replies, signed replies, accounts and roles, tokens but their
// last use, agencies) and returns it with the audit log's last sequence
// number.
func (s *stack) fingerprint(t *testing.T) (string, int64) {
	t.Helper()
	var sum string
	var seq int64
	err := s.db.Pool.QueryRow(context.Background(), `SELECT concat_ws('|',
		(SELECT md5(coalesce(string_agg(p::text, '' ORDER BY id), '')) FROM petitions p),
		(SELECT count(*) FROM petition_events), (SELECT count(*) FROM petition_attachments),
		(SELECT md5(coalesce(string_agg(r::text, '' ORDER BY id), '')) FROM replies r), (SELECT count(*) FROM signed_replies),
		(SELECT md5(coalesce(string_agg(a::text, '' ORDER BY id), '')) FROM accounts a), (SELECT count(*) FROM account_roles),
		(SELECT md5(coalesce(string_agg(concat_ws(',', id, name, scopes, expires_at, revoked_at), '' ORDER BY id), '')) FROM api_tokens k), (SELECT count(*) FROM agencies),
		(SELECT md5(coalesce(string_agg(q::text, '' ORDER BY id), '')) FROM power_requests q)),
		(SELECT coalesce(max(seq), 0) FROM audit_events)`).Scan(&sum, &seq)
	if err != nil {
		t.Fatal(err)
	}
	return sum, seq
}

// unchangedButDenials fails t unless a refused call changed nothing of what
// fingerprint sums up and added no audit event but refusals.
func (s *stack) unchangedButDenials(t *testing.T, before string, seq int64, call string) {
	t.Helper()
	if after, _ := s.fingerprint(t); after != before {
		t.Fatalf("refused, %s still changed the database", call)
	}
	var others int
	if err := s.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE seq > $1 AND outcome <> 'denied'`,
		seq).Scan(&others); err != nil || others != 0 {
		t.Fatalf("refused, %s still recorded %d events other than refusals (%v)", call, others, err)
	}
}

// Another agency's petition and a missing one get the same answer, text
// included; a role that may not read accounts, manage tokens or review
// replies is refused the same way whether the id exists or not.
func TestForeignAndMissingLookAlike(t *testing.T) {
	s := newStack(t, DefaultLimits)
	theirs, _ := s.petition() // the Department of Justice's
	missing := "00000000-0000-4000-8000-000000000000"
	other := s.session(s.account("ubnd-official", "UBND-BD", access.Official))
	var details []string
	for _, id := range []string{theirs, missing} {
		resp, body := s.do(request{method: "GET", path: "/api/v1/petitions/" + id, cookie: other})
		if resp.StatusCode != 404 {
			t.Fatalf("petition %s for another agency's official: %d %s", id, resp.StatusCode, body)
		}
		details = append(details, problemDetail(body))
	}
	if details[0] != details[1] {
		t.Fatalf("another agency's petition is distinguishable from a missing one: %q vs %q", details[0], details[1])
	}
	official := s.session(s.byRole[access.Official])
	tokenID, _ := s.token(access.AgencyRead)
	draft, _, _ := s.seedReplies()
	for _, pair := range [][2]request{
		{{method: "GET", path: "/api/v1/accounts/" + s.victim.ID}, {method: "GET", path: "/api/v1/accounts/" + missing}},
		{{method: "POST", path: "/api/v1/replies/" + draft + "/approve", body: "{}"}, {method: "POST", path: "/api/v1/replies/" + missing + "/approve", body: "{}"}},
		{{method: "DELETE", path: "/api/v1/tokens/" + tokenID}, {method: "DELETE", path: "/api/v1/tokens/" + missing}},
	} {
		var got []string
		for _, r := range pair {
			r.cookie = official
			resp, body := s.do(r)
			got = append(got, fmt.Sprint(resp.StatusCode, " ", problemDetail(body)))
		}
		if got[0] != got[1] || !strings.HasPrefix(got[0], "403") {
			t.Fatalf("%s %s: an existing id answers %q, a missing one %q; want the same 403", pair[0].method, pair[0].path, got[0], got[1])
		}
	}
}

// tsaQuery is an RFC 3161 request for the hash of a document.
func tsaQuery() []byte {
	sum := sha256.Sum256([]byte("a document of another agency"))
	q, err := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Certificates: true}).Marshal()
	if err != nil {
		panic(err)
	}
	return q
}
