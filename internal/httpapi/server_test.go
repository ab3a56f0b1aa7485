package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/identity"
	"pakn/internal/msg"
)

func newTestServer(t *testing.T, ready map[string]Checker) (*Server, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	s := New(Deps{Log: slog.New(slog.NewJSONHandler(&logs, nil)), MaxBodyBytes: 1024, Ready: ready})
	return s, &logs
}

func TestStatusMapping(t *testing.T) {
	tests := []struct {
		err    error
		status int
		detail string
	}{
		{apperr.New(apperr.Invalid, msg.TitleLength), 422, "Tiêu đề phải có 5–300 ký tự. / The title must have 5–300 characters."},
		{apperr.New(apperr.NotFound, msg.NoSuchPetition), 404, msg.NoSuchPetition.Both()},
		{apperr.New(apperr.Conflict, msg.ReplyCannotInStatus, "signed", "sign"), 409, msg.ReplyCannotInStatus.Both("signed", "sign")},
		{apperr.New(apperr.Unauthenticated, msg.SignInRequired), 401, msg.SignInRequired.Both()},
		{apperr.New(apperr.Forbidden, msg.NotAllowed), 403, msg.NotAllowed.Both()},
		{apperr.New(apperr.TooLarge, msg.PDFTooLarge), 413, msg.PDFTooLarge.Both()},
		{apperr.New(apperr.UnsupportedMedia, msg.VerifyMediaType), 415, msg.VerifyMediaType.Both()},
		{apperr.Wrap(errors.New("dial tcp: refused"), apperr.Unavailable, "vault", msg.KeyServiceUnavailable), 503, msg.KeyServiceUnavailable.Both()},
		{apperr.Wrap(errors.New("secret=hunter2"), apperr.Internal, "x", msg.NoSuchPetition), 500, msg.InternalError.Both()},
		{errors.New("password=hunter2 leaked"), 500, msg.InternalError.Both()},
		{&http.MaxBytesError{Limit: 10}, 413, msg.BodyTooLarge.Both()},
		{apperr.New(apperr.MFARequired, msg.MFACodeNeeded), 401, msg.MFACodeNeeded.Both()},
		{apperr.New(apperr.StepUpRequired, msg.StepUpNeeded), 403, msg.StepUpNeeded.Both()},
		{apperr.New(apperr.Restricted, msg.RestrictedSession), 403, msg.RestrictedSession.Both()},
		{&apperr.Error{Code: apperr.RateLimited, Key: msg.TooManyRequests, RetryAfter: 1500 * time.Millisecond}, 429, msg.TooManyRequests.Both()},
		{apperr.New(apperr.CrossOrigin, msg.CrossOriginRefused), 403, msg.CrossOriginRefused.Both()},
		{apperr.New(apperr.MethodNotAllowed, msg.MethodNotAllowed), 405, msg.MethodNotAllowed.Both()},
	}
	for _, tt := range tests {
		t.Run(tt.err.Error(), func(t *testing.T) {
			var logs bytes.Buffer
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", "/x", nil)
			writeError(rec, req, slog.New(slog.NewJSONHandler(&logs, nil)), tt.err)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			if tt.status == 429 && rec.Header().Get("Retry-After") != "2" {
				t.Errorf("Retry-After %q, want 2", rec.Header().Get("Retry-After"))
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
				t.Errorf("content type %q", ct)
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Detail != tt.detail || p.Status != tt.status {
				t.Errorf("problem %+v, want detail %q", p, tt.detail)
			}
			// Outside withLanguage the one-language message is Vietnamese.
			if vi, _, _ := strings.Cut(tt.detail, " / "); p.Message != vi {
				t.Errorf("message %q, want %q", p.Message, vi)
			}
			if strings.Contains(rec.Body.String(), "hunter2") {
				t.Error("internal cause shown to the client")
			}
			if tt.status >= 500 && !strings.Contains(logs.String(), "request failed") {
				t.Error("5xx not logged")
			}
		})
	}
}

func TestHealthAndReadiness(t *testing.T) {
	okCheck := func(context.Context) error { return nil }
	failing := func(context.Context) error { return errors.New("vault is sealed; token s.SECRET") }
	tests := []struct {
		name   string
		ready  map[string]Checker
		status int
		checks map[string]string
	}{
		{"all ok", map[string]Checker{"database": okCheck, "vault": okCheck}, 200, map[string]string{"database": "ok", "vault": "ok"}},
		{"vault down", map[string]Checker{"database": okCheck, "vault": failing}, 503, map[string]string{"database": "ok", "vault": "unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := newTestServer(t, tt.ready)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.status {
				t.Fatalf("readyz %d, want %d", rec.Code, tt.status)
			}
			var body struct{ Checks map[string]string }
			_ = json.Unmarshal(rec.Body.Bytes(), &body)
			for k, v := range tt.checks {
				if body.Checks[k] != v {
					t.Errorf("check %s = %q, want %q", k, body.Checks[k], v)
				}
			}
			if strings.Contains(rec.Body.String(), "SECRET") {
				t.Error("readyz shows a dependency's error text")
			}
			rec = httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
			if rec.Code != 200 {
				t.Fatalf("healthz %d", rec.Code)
			}
			rec = httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/", nil))
			if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"readiness":"/readyz"`) || !strings.Contains(rec.Body.String(), "phản ánh, kiến nghị") {
				t.Fatalf("index %d %s", rec.Code, rec.Body)
			}
		})
	}
}

func TestMiddleware(t *testing.T) {
	s, logs := newTestServer(t, nil)
	s.router.With(s.limitBody(1024, msg.BodyTooLarge)).Post("/echo", func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			writeError(w, r, s.log, err)
			return
		}
		w.WriteHeader(204)
	})
	s.router.Get("/boom", func(w http.ResponseWriter, r *http.Request) { panic("kaboom") })

	t.Run("body within limit", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/echo", strings.NewReader(strings.Repeat("a", 1024))))
		if rec.Code != 204 {
			t.Fatalf("status %d", rec.Code)
		}
	})
	t.Run("body over limit, declared", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("POST", "/echo", strings.NewReader(strings.Repeat("a", 1025))))
		if rec.Code != 413 {
			t.Fatalf("status %d, want 413", rec.Code)
		}
	})
	t.Run("body over limit, chunked", func(t *testing.T) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("POST", "/echo", io.MultiReader(strings.NewReader(strings.Repeat("a", 2000))))
		req.ContentLength = -1
		s.ServeHTTP(rec, req)
		if rec.Code != 413 {
			t.Fatalf("status %d, want 413", rec.Code)
		}
	})
	t.Run("panic becomes 500 and the server lives", func(t *testing.T) {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
		if rec.Code != 500 || !strings.Contains(rec.Body.String(), msg.InternalError.Both()) || strings.Contains(rec.Body.String(), "kaboom") {
			t.Fatalf("panic answered %d %s", rec.Code, rec.Body)
		}
		if !strings.Contains(logs.String(), "kaboom") {
			t.Error("panic not logged")
		}
	})
	t.Run("headers, request id, unknown routes", func(t *testing.T) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", "/nope?token=s3cr3t", nil)
		req.Header.Set("X-Request-Id", "injected\nline")
		s.ServeHTTP(rec, req)
		if rec.Code != 404 || rec.Header().Get("Content-Type") != "application/problem+json" {
			t.Fatalf("unknown route answered %d %s", rec.Code, rec.Header().Get("Content-Type"))
		}
		id := rec.Header().Get("X-Request-Id")
		if len(id) != 24 || strings.Contains(id, "injected") {
			t.Errorf("request id %q", id)
		}
		for h, want := range map[string]string{
			"X-Content-Type-Options":  "nosniff",
			"Referrer-Policy":         "no-referrer",
			"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
		} {
			if got := rec.Header().Get(h); got != want {
				t.Errorf("%s = %q, want %q", h, got, want)
			}
		}
		if strings.Contains(logs.String(), "s3cr3t") || strings.Contains(logs.String(), "injected") {
			t.Error("query string or client request id reached the logs")
		}
		rec = httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("DELETE", "/healthz", nil))
		if rec.Code != 405 {
			t.Errorf("wrong method answered %d", rec.Code)
		}
	})
}

func TestMetricsCountRequestsByRoute(t *testing.T) {
	s, _ := newTestServer(t, nil)
	for i := 0; i < 3; i++ {
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	}
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/missing/123", nil))
	// On the metrics listener's handler; not on the public router.
	rec := httptest.NewRecorder()
	s.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	pub := httptest.NewRecorder()
	s.ServeHTTP(pub, httptest.NewRequest("GET", "/metrics", nil))
	if pub.Code != 404 {
		t.Fatalf("/metrics on the public router: %d", pub.Code)
	}
	for _, want := range []string{
		`pakn_http_requests_total{code="200",method="GET",route="/healthz"} 3`,
		`pakn_http_requests_total{code="404",method="GET",route="unmatched"} 1`,
		`pakn_http_request_duration_seconds_count{method="GET",route="/healthz"} 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(body, "/missing/123") {
		t.Error("raw paths leak into metric labels")
	}
}

// With a configured token, the public router serves /metrics to requests
// bearing it, and to nobody else.
func TestMetricsWithBearerToken(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef-metrics"
	s := New(Deps{Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), MaxBodyBytes: 1024, MetricsToken: token})
	for _, tt := range []struct {
		auth string
		want int
	}{
		{"", 404},
		{"Bearer wrong", 404},
		{"Bearer " + token + "x", 404},
		{"Basic " + token, 404},
		{"Bearer " + token, 200},
	} {
		req := httptest.NewRequest("GET", "/metrics", nil)
		if tt.auth != "" {
			req.Header.Set("Authorization", tt.auth)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != tt.want || (tt.want == 200 && !strings.Contains(rec.Body.String(), "pakn_http_requests_total")) {
			t.Errorf("Authorization %q: %d, want %d", tt.auth, rec.Code, tt.want)
		}
	}
}

// /readyz checks each dependency at most once per cache period, however
// many probes arrive, at once or one after another.
func TestReadinessChecksAreCached(t *testing.T) {
	var mu sync.Mutex
	calls := map[string]int{}
	count := func(name string) Checker {
		return func(context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			calls[name]++
			return nil
		}
	}
	s := New(Deps{Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), MaxBodyBytes: 1024, ReadyCache: time.Hour,
		Ready: map[string]Checker{"database": count("database"), "vault": count("vault")}})
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != 200 {
				t.Errorf("readyz %d", rec.Code)
			}
		})
	}
	wg.Wait()
	if calls["database"] != 1 || calls["vault"] != 1 {
		t.Fatalf("50 probes made %v checks, want one each", calls)
	}
	// Once the period has passed, the next probe checks again.
	s.ready.ttl = time.Nanosecond
	s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/readyz", nil))
	if calls["database"] != 2 || calls["vault"] != 2 {
		t.Fatalf("after the period: %v", calls)
	}
}

// Every answer picks its language from Accept-Language (Vietnamese by
// default) and says so; problem details keep both languages in detail.
func TestLanguageFromAcceptLanguage(t *testing.T) {
	s, _ := newTestServer(t, nil)
	tests := []struct {
		header, lang, message string
	}{
		{"", "vi", msg.NoSuchResource.VI()},
		{"en-US,en;q=0.9", "en", msg.NoSuchResource.EN()},
		{"fr", "vi", msg.NoSuchResource.VI()},
		{"en;q=0.3, vi", "vi", msg.NoSuchResource.VI()},
	}
	for _, tt := range tests {
		for _, path := range []string{"/no-such-path", "/healthz"} {
			rec := httptest.NewRecorder()
			req := httptest.NewRequest("GET", path, nil)
			if tt.header != "" {
				req.Header.Set("Accept-Language", tt.header)
			}
			s.ServeHTTP(rec, req)
			if got := rec.Header().Get("Content-Language"); got != tt.lang {
				t.Errorf("%s with %q: Content-Language %q, want %q", path, tt.header, got, tt.lang)
			}
			if !slices.Contains(rec.Header().Values("Vary"), "Accept-Language") {
				t.Errorf("%s: no Vary: Accept-Language", path)
			}
			if path != "/no-such-path" {
				continue
			}
			var p Problem
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Message != tt.message || p.Detail != msg.NoSuchResource.Both() {
				t.Errorf("with %q: message %q, detail %q", tt.header, p.Message, p.Detail)
			}
		}
	}
}

// The desk's MFA page changes nothing on a GET: it offers to start an
// enrolment, which a POST does, with the password for a session that need
// not enrol; it shows the secret started once.
func TestDeskMFAPageStartsNothingOnGet(t *testing.T) {
	s := newStack(t, DefaultLimits)
	official := s.session(s.byRole[access.Official])
	secret := func() string {
		var enc string
		if err := s.db.Pool.QueryRow(context.Background(), `SELECT coalesce(totp_secret_enc, '') FROM accounts WHERE id = $1`,
			s.byRole[access.Official].ID).Scan(&enc); err != nil {
			t.Fatal(err)
		}
		return enc
	}
	resp, body := s.do(request{method: "GET", path: "/desk/mfa", cookie: official})
	if resp.StatusCode != 200 || !strings.Contains(body, `id="start-mfa"`) || strings.Contains(body, `id="mfa-secret"`) || secret() != "" {
		t.Fatalf("GET /desk/mfa: %d, an enrolment stored: %v\n%.300s", resp.StatusCode, secret() != "", body)
	}
	// The official's session need not enrol: starting asks for the password.
	if resp, body = s.do(request{method: "POST", path: "/desk/mfa/start", cookie: official, contentType: urlForm, body: "x=1"}); resp.StatusCode != 422 || secret() != "" {
		t.Fatalf("POST /desk/mfa/start without the password: %d %.300s", resp.StatusCode, body)
	}
	resp, body = s.do(request{method: "POST", path: "/desk/mfa/start", cookie: official, contentType: urlForm,
		body: url.Values{"current_password": {loginPassword}}.Encode()})
	if resp.StatusCode != 200 || secret() == "" || !strings.Contains(body, `id="mfa-secret"`) || !strings.Contains(body, `src="data:image/png;base64,`) {
		t.Fatalf("POST /desk/mfa/start: %d %.300s", resp.StatusCode, body)
	}
	// Shown once: that session is not shown it again without the password.
	resp, body = s.do(request{method: "GET", path: "/desk/mfa", cookie: official})
	if resp.StatusCode != 200 || strings.Contains(body, `id="mfa-secret"`) || !strings.Contains(body, `id="f-current-password"`) {
		t.Fatalf("GET /desk/mfa after starting: %d %.300s", resp.StatusCode, body)
	}
	// A wrong first code: said on the page, which starts again with the password.
	resp, body = s.do(request{method: "POST", path: "/desk/mfa", cookie: official, contentType: urlForm, body: "code=000000"})
	if resp.StatusCode != 422 || !strings.Contains(body, `id="f-current-password-error"`) || strings.Contains(body, `id="mfa-secret"`) {
		t.Fatalf("a wrong first code: %d %.300s", resp.StatusCode, body)
	}
}

// A first sign-in that must enrol MFA may use the enrolment's own pages,
// starting one included, and is sent there from any other desk page.
func TestDeskRestrictedSessionReachesItsEnrolment(t *testing.T) {
	s := newStack(t, DefaultLimits)
	ctx := context.Background()
	m := audit.Meta{RequestID: "test"}
	_, oneTime, err := s.ids.CreateAccount(ctx, m, access.Principal{Kind: access.Operator, Name: "test"},
		identity.NewAccount{Username: "new-signer", DisplayName: "Ký mới", Agency: "STP-HN", Roles: []access.Role{access.Signer}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.ids.Login(ctx, m, identity.LoginInput{Username: "new-signer", Password: oneTime})
	if err == nil {
		err = s.ids.ChangePassword(ctx, m, res.Authn, oneTime, loginPassword)
	}
	if err == nil {
		res, err = s.ids.Login(ctx, m, identity.LoginInput{Username: "new-signer", Password: loginPassword})
	}
	if err != nil || res.Authn.Principal.Restricted != "mfa_enrolment" {
		t.Fatalf("a session that must enrol: %v %+v", err, res)
	}
	if resp, _ := s.do(request{method: "GET", path: "/desk/", cookie: res.Token}); resp.StatusCode != 303 || resp.Header.Get("Location") != "/desk/mfa" {
		t.Fatalf("the queue for a session that must enrol: %d to %q, want 303 to /desk/mfa", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := s.do(request{method: "POST", path: "/desk/mfa/start", cookie: res.Token, contentType: urlForm, body: "x=1"})
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/desk/mfa" {
		t.Fatalf("starting the enrolment: %d to %q %.200s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if resp, body = s.do(request{method: "GET", path: "/desk/mfa", cookie: res.Token}); resp.StatusCode != 200 || !strings.Contains(body, `id="mfa-secret"`) {
		t.Fatalf("the enrolment started: %d %.300s", resp.StatusCode, body)
	}
}

// A sign-in ticket (the first step sealed for the code's page) signs in
// once: replayed with a later code in the same browser it is refused.
// Signing in again while signed in ends the session one had.
func TestDeskTicketsAreSpentAndSigningInAgainEndsTheOldSession(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000})
	s.account("desk-reviewer", "STP-HN", access.Reviewer)
	post := func(path string, form url.Values, cookies ...*http.Cookie) (*http.Response, string) {
		var parts []string
		for _, c := range cookies {
			parts = append(parts, c.Name+"="+c.Value)
		}
		return s.do(request{method: "POST", path: path, contentType: urlForm, body: form.Encode(), header: map[string]string{"Cookie": strings.Join(parts, "; ")}})
	}
	cookie := func(resp *http.Response, name string) *http.Cookie {
		for _, c := range resp.Cookies() {
			if c.Name == name && c.Value != "" {
				return c
			}
		}
		t.Fatalf("no cookie %s in %d", name, resp.StatusCode)
		return nil
	}
	signer := s.byRole[access.Signer].Username
	resp, body := post("/desk/signin", url.Values{"username": {signer}, "password": {loginPassword}})
	m := regexp.MustCompile(`name="ticket" value="([^"]+)"`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("the first step: %d %.300s", resp.StatusCode, body)
	}
	bind := cookie(resp, "__Host-pakn_signin")
	if resp, body = post("/desk/signin/code", url.Values{"ticket": {m[1]}, "code": {totpNow(t)}}, bind); resp.StatusCode != 303 {
		t.Fatalf("the code: %d %.300s", resp.StatusCode, body)
	}
	later, err := totp.GenerateCodeCustom(mfaSecret, time.Now().Add(30*time.Second), totp.ValidateOpts{Period: credential.TOTPPeriod, Digits: credential.TOTPDigits})
	if err != nil {
		t.Fatal(err)
	}
	if resp, body = post("/desk/signin/code", url.Values{"ticket": {m[1]}, "code": {later}}, bind); resp.StatusCode != 401 {
		t.Fatalf("the ticket again, with a later code: %d %.300s", resp.StatusCode, body)
	}

	resp, _ = post("/desk/signin", url.Values{"username": {"desk-reviewer"}, "password": {loginPassword}})
	first := cookie(resp, SessionCookie)
	resp, body = post("/desk/signin", url.Values{"username": {"desk-reviewer"}, "password": {loginPassword}}, first)
	second := cookie(resp, SessionCookie)
	if resp.StatusCode != 303 || second.Value == first.Value {
		t.Fatalf("signing in again: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := s.do(request{method: "GET", path: "/desk/", cookie: first.Value}); resp.StatusCode != 303 {
		t.Fatalf("the first session after signing in again: %d, want 303 to sign in", resp.StatusCode)
	}
	if resp, _ := s.do(request{method: "GET", path: "/desk/", cookie: second.Value}); resp.StatusCode != 200 {
		t.Fatalf("the second session: %d", resp.StatusCode)
	}
}

// An audit export longer than the server's write timeout is not cut: each
// line written moves the deadline on, while a reader that stalls is still
// cut off (exportStall).
func TestAuditExportOutlivesTheWriteTimeout(t *testing.T) {
	s := newStack(t, DefaultLimits)
	ctx := context.Background()
	st := s.db.Stores(nil)
	const events = 20000
	err := st.Tx.InTx(ctx, func(ctx context.Context) error {
		for i := range events {
			e := audit.Event{Actor: "test", Role: "seed", Action: "test.event", ObjectType: "test", ObjectID: strconv.Itoa(i), Outcome: audit.Success,
				Details: []byte(`{"padding":"` + strings.Repeat("x", 200) + `"}`)}
			if err := st.Audit.Append(ctx, &e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(s.api)
	srv.Config.WriteTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/audit/export", nil)
	req.AddCookie(&http.Cookie{Name: SessionCookie, Value: s.session(s.byRole[access.Auditor])})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines, start := 0, time.Now()
	buf := make([]byte, 64<<10)
	var tail []byte
	for {
		time.Sleep(10 * time.Millisecond) // a slow reader: the export takes longer than the write timeout
		n, err := resp.Body.Read(buf)
		lines += bytes.Count(buf[:n], []byte("\n"))
		if n > 0 {
			tail = append(tail[:0], buf[max(0, n-200):n]...)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d lines and %s: %v", lines, time.Since(start), err)
		}
	}
	if took := time.Since(start); lines < events || took < 300*time.Millisecond {
		t.Fatalf("%d lines in %s (ending %q), want every event, over more than the write timeout", lines, took, tail)
	}
}
