package identity_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/guard"
	"pakn/internal/identity"
	"pakn/internal/pgtest"
	"pakn/internal/testclock"
	"pakn/internal/vault"
	"pakn/internal/vaulttest"
)

type env struct {
	db    *pgtest.DB
	vc    *vault.Client
	svc   *identity.Service
	clock *testclock.Clock
	op    access.Principal
	m     audit.Meta
}

// testHasher uses the production parameters: tests prove what runs.
var testHasher = credential.NewPasswordHasher(credential.DefaultArgon2, 4)

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.New(t)
	_, vc, _ := vaulttest.Bootstrapped(t)
	// 10:00:05 in a 30-second step, so tests control which step a code is in.
	c := testclock.New(time.Date(2026, 11, 30, 10, 0, 5, 0, time.UTC))
	st := db.Stores(c.Now)
	svc, err := identity.New(identity.Config{Stores: st, Hasher: testHasher, Box: vault.NewTransitBox(vc, vault.MFAKey), Now: c.Now,
		Guard: &guard.Guard{Audit: st.Audit, Now: c.Now}})
	if err != nil {
		t.Fatal(err)
	}
	seedAgencies(t, db)
	return &env{db: db, vc: vc, svc: svc, clock: c, op: access.Principal{Kind: access.Operator, ID: "test", Name: "test"},
		m: audit.Meta{RequestID: "req-1", ClientHash: "client-a"}}
}

func seedAgencies(t *testing.T, db *pgtest.DB) {
	t.Helper()
	db.Superuser(t,
		`INSERT INTO agencies (code, parent_code, kind, name_vi, name_en) VALUES
		 ('VPCP', NULL, 'government_office', 'Văn phòng Chính phủ', 'Government Office'),
		 ('STP-HN', 'VPCP', 'department', 'Sở Tư pháp', 'Department of Justice'),
		 ('UBND-BD', 'VPCP', 'district_committee', 'UBND quận Ba Đình', 'Ba Dinh')`)
}

// create makes an account and returns it with its one-time password.
func (e *env) create(t *testing.T, username, agency string, roles ...access.Role) (*credential.Account, string) {
	t.Helper()
	a, pw, err := e.svc.CreateAccount(context.Background(), e.m, e.op, identity.NewAccount{
		Username: username, DisplayName: "Nguyễn Thị Hồng Nhung", Agency: agency, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID == "" || a.CreatedAt.IsZero() {
		t.Fatalf("created account lacks id or time: %+v", a)
	}
	return a, pw
}

// signer makes the onboarded signer "signer1" and returns its TOTP secret.
func (e *env) signer(t *testing.T) string {
	t.Helper()
	_, pw := e.create(t, "signer1", "STP-HN", access.Signer)
	secret, _ := e.onboard(t, "signer1", pw)
	return secret
}

// signIn signs "signer1" in with the current code.
func (e *env) signIn(t *testing.T, secret string) *identity.LoginResult {
	t.Helper()
	res, err := e.svc.Login(context.Background(), e.m, identity.LoginInput{Username: "signer1", Password: goodPassword, TOTP: code(t, secret, e.clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// wrongCode is the i-th six-digit code that no step near at accepts.
func wrongCode(t *testing.T, secret string, at time.Time, i int) string {
	t.Helper()
	for n := i; ; n += 7919 {
		c := fmt.Sprintf("%06d", n%1000000)
		ok := true
		for _, d := range []time.Duration{-time.Minute, -30 * time.Second, 0, 30 * time.Second, time.Minute} {
			ok = ok && c != code(t, secret, at.Add(d))
		}
		if ok {
			return c
		}
	}
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantCode(t *testing.T, err error, c apperr.Code) {
	t.Helper()
	if got := apperr.CodeOf(err); got != c {
		t.Fatalf("error %v has code %q, want %q", err, got, c)
	}
}

const goodPassword = "đường Điện Biên Phủ số 9"

// onboard takes a signer through first sign-in: change the one-time
// password, enrol TOTP. It returns the TOTP secret and recovery codes.
func (e *env) onboard(t *testing.T, username, oneTime string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	res, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: username, Password: oneTime})
	if err != nil {
		t.Fatal(err)
	}
	if res.Authn.Principal.Restricted != "password_change" {
		t.Fatalf("first session restricted %q, want password_change", res.Authn.Principal.Restricted)
	}
	if err := e.svc.ChangePassword(ctx, e.m, res.Authn, oneTime, goodPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, res.Token); err == nil {
		t.Fatal("the session survived a password change")
	}
	res, err = e.svc.Login(ctx, e.m, identity.LoginInput{Username: username, Password: goodPassword})
	if err != nil {
		t.Fatal(err)
	}
	if res.Authn.Principal.Restricted != "mfa_enrolment" {
		t.Fatalf("second session restricted %q, want mfa_enrolment", res.Authn.Principal.Restricted)
	}
	enr, err := e.svc.StartEnrolment(ctx, e.m, res.Authn, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(enr.QRPNG) < 100 || string(enr.QRPNG[1:4]) != "PNG" || !strings.HasPrefix(enr.URL, "otpauth://totp/") {
		t.Fatal("enrolment lacks a QR code PNG or an otpauth URL")
	}
	if _, err := e.svc.ConfirmEnrolment(ctx, e.m, res.Authn, "000000"); err == nil {
		t.Fatal("a wrong first code confirmed enrolment")
	}
	codes, err := e.svc.ConfirmEnrolment(ctx, e.m, res.Authn, code(t, enr.Secret, e.clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	a, err := e.svc.Authenticate(ctx, res.Token)
	if err != nil || a.Principal.Restricted != "" || a.Session.MFAAt.IsZero() {
		t.Fatalf("after enrolment the session is %+v, %v", a, err)
	}
	e.clock.Add(30 * time.Second) // the enrolment code's step is used up
	return enr.Secret, codes
}

func TestFirstSignInPasswordChangeAndMFAEnrolment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "signer1", "STP-HN", access.Signer)
	secret, _ := e.onboard(t, "signer1", pw)

	_, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "signer1", Password: goodPassword})
	wantCode(t, err, apperr.MFARequired)
	res, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "signer1", Password: goodPassword, TOTP: code(t, secret, e.clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	if res.Authn.Principal.Restricted != "" || !res.Authn.Principal.Has(access.Signer) {
		t.Fatalf("principal %+v", res.Authn.Principal)
	}
	// The old one-time password no longer works.
	_, err = e.svc.Login(ctx, e.m, identity.LoginInput{Username: "signer1", Password: pw, TOTP: code(t, secret, e.clock.Now())})
	wantCode(t, err, apperr.Unauthenticated)
}

func TestTOTPCodeWorksOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "auditor1", "STP-HN", access.Auditor)
	secret, _ := e.onboard(t, "auditor1", pw)

	c := code(t, secret, e.clock.Now())
	res, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "auditor1", Password: goodPassword, TOTP: c})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(5 * time.Second)
	// Replays of the same code: at login, at step-up.
	_, err = e.svc.Login(ctx, e.m, identity.LoginInput{Username: "auditor1", Password: goodPassword, TOTP: c})
	wantCode(t, err, apperr.Unauthenticated)
	wantCode(t, e.svc.StepUp(ctx, e.m, res.Authn, c, ""), apperr.Invalid)
	// An older code (previous step, still inside the skew window) is refused too.
	wantCode(t, e.svc.StepUp(ctx, e.m, res.Authn, code(t, secret, e.clock.Now().Add(-30*time.Second)), ""), apperr.Invalid)
	// The next step's code works, once.
	e.clock.Add(30 * time.Second)
	next := code(t, secret, e.clock.Now())
	before := res.Authn.Principal.SteppedUp
	up, err := e.svc.SteppedUp(ctx, e.m, res.Authn, next, "")
	if err != nil {
		t.Fatalf("fresh code refused: %v", err)
	}
	// The session as it is now (the desk acts with it at once); the Authn
	// given, which another request may be reading, is left alone.
	if got := up.Principal.SteppedUp; !got.Equal(e.clock.Now()) || !res.Authn.Principal.SteppedUp.Equal(before) {
		t.Fatalf("stepped up at %v (the given Authn %v, before %v), want %v", got, res.Authn.Principal.SteppedUp, before, e.clock.Now())
	}
	wantCode(t, e.svc.StepUp(ctx, e.m, res.Authn, next, ""), apperr.Invalid)
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "admin1", "STP-HN", access.Admin)
	_, codes := e.onboard(t, "admin1", pw)
	typed := strings.ToLower(strings.ReplaceAll(codes[3], "-", " "))
	if _, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "admin1", Password: goodPassword, RecoveryCode: typed}); err != nil {
		t.Fatalf("recovery code refused: %v", err)
	}
	_, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "admin1", Password: goodPassword, RecoveryCode: codes[3]})
	wantCode(t, err, apperr.Unauthenticated)
}

func TestEveryLoginGetsANewToken(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "official1", "STP-HN", access.Official)
	seen := map[string]bool{}
	for i := 0; i < 3; i++ {
		res, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "official1", Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		if seen[res.Token] || len(res.Token) < 43 {
			t.Fatalf("login %d reused or weak token", i)
		}
		seen[res.Token] = true
	}
	// Only hashes are stored.
	var n int
	for tok := range seen {
		var raw int
		if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FILTER (WHERE token_hash = $2), count(*) FILTER (WHERE token_hash = $1) FROM sessions",
			[]byte(tok), credential.HashSecret(tok)).Scan(&n, &raw); err != nil || n != 1 || raw != 0 {
			t.Fatalf("session rows: %d by the token's hash, %d by the token itself (%v); want 1 and 0", n, raw, err)
		}
	}
}

func TestSessionIdleAndAbsoluteExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "official1", "STP-HN", access.Official)
	res, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "official1", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(29 * time.Minute)
	if _, err := e.svc.Authenticate(ctx, res.Token); err != nil {
		t.Fatalf("session ended after 29 idle minutes: %v", err)
	}
	e.clock.Add(30 * time.Minute)
	if _, err := e.svc.Authenticate(ctx, res.Token); err == nil {
		t.Fatal("session alive after 30 idle minutes")
	}

	res, err = e.svc.Login(ctx, e.m, identity.LoginInput{Username: "official1", Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	for elapsed := time.Duration(0); elapsed < 12*time.Hour-20*time.Minute; elapsed += 20 * time.Minute {
		e.clock.Add(20 * time.Minute)
		if _, err := e.svc.Authenticate(ctx, res.Token); err != nil {
			t.Fatalf("active session ended after %v: %v", elapsed+20*time.Minute, err)
		}
	}
	e.clock.Add(20 * time.Minute)
	if _, err := e.svc.Authenticate(ctx, res.Token); err == nil {
		t.Fatal("session alive past its 12-hour absolute lifetime")
	}
}

func TestLogoutEndsSessionOnServer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "official1", "STP-HN", access.Official)
	res, _ := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "official1", Password: pw})
	if err := e.svc.Logout(ctx, e.m, res.Authn); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Authenticate(ctx, res.Token); err == nil {
		t.Fatal("token still valid after logout")
	}
}

// A sign-in name is slowed for the client guessing at it, never locked for
// its owner, and answers the same whether or not an account has it.
func TestLoginThrottlingSlowsTheGuesserNeverTheOwner(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "official1", "STP-HN", access.Official)
	type answer struct {
		code  apperr.Code
		retry time.Duration
	}
	attempt := func(client, username, password string) answer {
		_, err := e.svc.Login(ctx, audit.Meta{RequestID: "req", ClientHash: client}, identity.LoginInput{Username: username, Password: password})
		return answer{apperr.CodeOf(err), apperr.RetryAfterOf(err)}
	}
	// Two guessers, one at a name that exists and one at a name that does not,
	// in step: each tries, retries at once, then waits what it was told.
	var real, none []answer
	for range 8 {
		real = append(real, attempt("client-a", "official1", "wrong password 123"), attempt("client-a", "official1", "wrong password 123"))
		none = append(none, attempt("client-b", "nosuchname", "wrong password 123"), attempt("client-b", "nosuchname", "wrong password 123"))
		e.clock.Add(max(real[len(real)-1].retry, real[len(real)-2].retry))
	}
	if !slices.Equal(real, none) {
		t.Fatalf("a name that exists answers differently:\n%v\n%v", real, none)
	}
	limited := 0
	for _, a := range real {
		switch {
		case a.code == apperr.RateLimited && a.retry > 0 && a.retry <= time.Minute:
			limited++
		case a.code == apperr.Unauthenticated:
		default:
			t.Fatalf("answer %+v", a)
		}
	}
	if limited < 6 {
		t.Fatalf("only %d of %d guesses were slowed down: %v", limited, len(real), real)
	}
	// The guesser is slowed down, even when it next tries the right password...
	if a := attempt("client-a", "official1", "wrong password 123"); a.code != apperr.Unauthenticated {
		t.Fatalf("the guesser's attempt after its wait: %+v", a)
	}
	if a := attempt("client-a", "official1", pw); a.code != apperr.RateLimited {
		t.Fatalf("the guesser's next attempt: %+v", a)
	}
	// ...the owner, from their own client, signs in at once: the name is never locked.
	if a := attempt("client-home", "official1", pw); a.code != "" {
		t.Fatalf("the owner's sign-in during the guessing: %+v", a)
	}
	var lockouts int
	if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'auth.lockout'").Scan(&lockouts); err != nil || lockouts != 0 {
		t.Fatalf("%d lock-out events (%v), want none", lockouts, err)
	}
	// The throttle table holds no name as typed.
	var typed int
	if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM login_throttle WHERE client_hash LIKE '%nosuchname%' OR client_hash LIKE '%official1%'").Scan(&typed); err != nil || typed != 0 {
		t.Fatalf("%d throttle rows name the typed name (%v)", typed, err)
	}
}

// race runs n attempts at once and counts their answers by code.
func race(n int, attempt func(i int) error) map[apperr.Code]int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[apperr.Code]int{}
	for i := range n {
		wg.Go(func() {
			err := attempt(i)
			mu.Lock()
			codes[apperr.CodeOf(err)]++
			mu.Unlock()
		})
	}
	wg.Wait()
	return codes
}

// Attempts racing each other are each counted: twenty concurrent wrong
// guesses from one client at one name cannot all slip past the delay.
func TestConcurrentGuessesAreEachCounted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.create(t, "official1", "STP-HN", access.Official)
	codes := race(20, func(int) error {
		_, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "official1", Password: "wrong password 123"})
		return err
	})
	// Three free failures, then the delay: the other attempts are refused without being tried.
	if codes[apperr.Unauthenticated] > credential.AccountThrottle.FreeFailures || codes[apperr.RateLimited] < 20-credential.AccountThrottle.FreeFailures {
		t.Fatalf("answers %v", codes)
	}
}

// One address guessing is locked out for 15 minutes after 50 failures,
// even for the right password; other addresses are not.
func TestAddressLockout(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "official1", "STP-HN", access.Official)
	// SECURITY.md: per address, lock 15 min at 50 failures.
	guess := func(client string, n int) {
		for i := range n {
			_, err := e.svc.Login(ctx, audit.Meta{ClientHash: client}, identity.LoginInput{Username: fmt.Sprintf("guess%d", i), Password: "guess guess guess"})
			if c := apperr.CodeOf(err); c != apperr.Unauthenticated && c != apperr.RateLimited {
				t.Fatalf("guess %d: %v", i, err)
			}
			e.clock.Add(time.Minute) // past any delay, so every guess is counted
		}
	}
	guess("client-49", 49)
	if _, err := e.svc.Login(ctx, audit.Meta{ClientHash: "client-49"}, identity.LoginInput{Username: "official1", Password: pw}); err != nil {
		t.Fatalf("after 49 failures the address is locked: %v", err)
	}
	// That success did not wipe the address's failures: one more locks it
	// (an attacker with any valid account cannot keep the lock from starting).
	guess("client-49", 1)
	_, err49 := e.svc.Login(ctx, audit.Meta{ClientHash: "client-49"}, identity.LoginInput{Username: "official1", Password: pw})
	wantCode(t, err49, apperr.RateLimited)
	guess(e.m.ClientHash, 50)
	_, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "official1", Password: pw})
	wantCode(t, err, apperr.RateLimited)
	// The lock began at the 50th failure, a minute of the test's clock ago.
	if ra := apperr.RetryAfterOf(err); ra != 14*time.Minute {
		t.Fatalf("locked for %s more, want 14 minutes (15 from the 50th failure)", ra)
	}
	if _, err := e.svc.Login(ctx, audit.Meta{ClientHash: "client-b"}, identity.LoginInput{Username: "official1", Password: pw}); err != nil {
		t.Fatalf("another address: %v", err)
	}
	var lockouts int
	if err := e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'auth.lockout' AND object_type = 'client'").Scan(&lockouts); err != nil || lockouts != 1 {
		t.Fatalf("%d lock-out events (%v), want 1", lockouts, err)
	}
}

// A TOTP secret is stored only as a Vault Transit ciphertext of pakn-mfa,
// bound to its account: the database holds neither the secret nor anything
// that opens for another account.
func TestTOTPSecretIsSealedForItsAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := e.signer(t)
	_, pw := e.create(t, "signer2", "STP-HN", access.Signer)
	e.onboard(t, "signer2", pw)
	var stored string
	if err := e.db.Pool.QueryRow(ctx, `SELECT totp_secret_enc FROM accounts WHERE username = 'signer1'`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored, "vault:v") || strings.Contains(stored, secret) {
		t.Fatalf("stored TOTP secret %q: want a Transit ciphertext", stored)
	}
	// Moved to another account, it does not open: signer1's codes do not sign signer2 in.
	e.db.Superuser(t, `UPDATE accounts SET totp_secret_enc = (SELECT totp_secret_enc FROM accounts WHERE username = 'signer1'),
		totp_last_step = 0 WHERE username = 'signer2'`)
	e.clock.Add(30 * time.Second)
	if _, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "signer2", Password: goodPassword, TOTP: code(t, secret, e.clock.Now())}); err == nil {
		t.Fatal("a TOTP ciphertext moved to another account opened")

	}
}

// countingHasher counts the passwords Verify checks.
type countingHasher struct {
	identity.Hasher
	verified atomic.Int32
}

func (h *countingHasher) Verify(encoded, pw string) (bool, error) {
	h.verified.Add(1)
	return h.Hasher.Verify(encoded, pw)
}

// A sign-in with a name no account has, or of a disabled account, checks
// the password as for a live account (against the dummy hash), so its
// answer takes as long.
func TestUnknownAndDisabledAccountsCostAPasswordCheck(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	h := &countingHasher{Hasher: testHasher}
	st := e.db.Stores(e.clock.Now)
	svc, err := identity.New(identity.Config{Stores: st, Hasher: h, Box: vault.NewTransitBox(e.vc, vault.MFAKey), Now: e.clock.Now,
		Guard: &guard.Guard{Audit: st.Audit, Now: e.clock.Now}})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := e.create(t, "official1", "STP-HN", access.Official)
	if err := e.svc.Disable(ctx, e.m, e.op, a.ID); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"nobody-here", "official1"} {
		_, err := svc.Login(ctx, audit.Meta{ClientHash: fmt.Sprintf("client-%d", i)}, identity.LoginInput{Username: name, Password: goodPassword})
		wantCode(t, err, apperr.Unauthenticated)
		if n := h.verified.Swap(0); n != 1 {
			t.Fatalf("signing in as %q checked %d passwords, want 1", name, n)
		}
	}
}

// The step a TOTP code uses is read under the account's row lock: a step-up
// with a valid code waits, at its locking read, for another transaction
// holding the account (so two cannot both find the code unused).
func TestStepUpReadsTheLastStepUnderTheAccountLock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := e.signer(t)
	res := e.signIn(t, secret)
	e.clock.Add(30 * time.Second)
	holder, err := e.db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback(ctx)
	if _, err := holder.Exec(ctx, "SELECT 1 FROM accounts WHERE username = 'signer1' FOR UPDATE"); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- e.svc.StepUp(ctx, e.m, res.Authn, code(t, secret, e.clock.Now()), "") }()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("the step-up finished (%v) while another transaction held the account", err)
		default:
		}
		var query string
		err := e.db.Pool.QueryRow(ctx, `SELECT coalesce(max(query), '') FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&query)
		if err != nil {
			t.Fatal(err)
		}
		if query != "" {
			if !strings.Contains(query, "FOR UPDATE") || !strings.Contains(query, "FROM accounts") {
				t.Fatalf("the step-up waits at %q, not at a locking read of the account", query)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the step-up neither finished nor waited for the account's lock")
		}
	}
	if err := holder.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("step-up after the lock was released: %v", err)
	}
}

// One code used by racing requests works once: the last used step is read
// and written under the account's row lock (FOR UPDATE), so concurrent
// sign-ins or step-ups with the same code cannot each see it unused.
func TestConcurrentReplaysOfOneCodeWorkOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := e.signer(t)
	var sessions []*identity.LoginResult
	for range 8 {
		e.clock.Add(30 * time.Second) // each sign-in needs a code of its own
		sessions = append(sessions, e.signIn(t, secret))
	}
	e.clock.Add(30 * time.Second)
	c := code(t, secret, e.clock.Now())
	answers := race(8, func(i int) error {
		return e.svc.StepUp(ctx, audit.Meta{ClientHash: fmt.Sprintf("client-%d", i)}, sessions[i].Authn, c, "")
	})
	if answers[""] != 1 {
		t.Fatalf("one code at 8 step-ups at once: %v, want exactly one success", answers)
	}
	e.clock.Add(30 * time.Second)
	c = code(t, secret, e.clock.Now())
	answers = race(8, func(i int) error {
		_, err := e.svc.Login(ctx, audit.Meta{ClientHash: fmt.Sprintf("client-%d", i)}, identity.LoginInput{Username: "signer1", Password: goodPassword, TOTP: c})
		return err
	})
	if answers[""] != 1 {
		t.Fatalf("one code at 8 sign-ins at once: %v, want exactly one success", answers)
	}
}

// Right and wrong codes racing in four sessions of one account never wait
// for each other in a cycle: every transaction takes the session's row,
// then the throttle rows, then the audit chain, so each answer is a real
// one (a success, a wrong code, a wait, the session's end), never a
// deadlock's 500.
func TestRacingStepUpsNeverDeadlock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := e.signer(t)
	for round := range 6 {
		var sessions []*identity.LoginResult
		for range 4 {
			e.clock.Add(30 * time.Second)
			sessions = append(sessions, e.signIn(t, secret))
		}
		e.clock.Add(30 * time.Second)
		right := code(t, secret, e.clock.Now())
		answers := race(8, func(i int) error {
			c := right
			if i%2 == 1 {
				c = fmt.Sprintf("%06d", (i*137911+round)%1000000)
				if c == right {
					c = "000000"
				}
			}
			return e.svc.StepUp(ctx, audit.Meta{ClientHash: fmt.Sprintf("client-%d-%d", round, i)}, sessions[i/2].Authn, c, "")
		})
		if answers[""] > 1 {
			t.Fatalf("round %d: one code worked %d times: %v", round, answers[""], answers)
		}
		for c, n := range answers {
			switch c {
			case "", apperr.Unauthenticated, apperr.RateLimited, apperr.Invalid:
			default:
				t.Fatalf("round %d: %d step-ups answered %q: %v", round, n, c, answers)
			}
		}
	}
}

// Step-up with a stolen session: wrong codes are slowed down, and the
// fifth ends the session (audited), so codes cannot be tried until one works.
func TestStepUpBruteForceEndsTheSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := e.signer(t)
	res := e.signIn(t, secret)
	e.clock.Add(30 * time.Second)
	tries := 0
	for i := range 6 {
		c := wrongCode(t, secret, e.clock.Now(), i)
		err := e.svc.StepUp(ctx, e.m, res.Authn, c, "")
		if apperr.CodeOf(err) == apperr.RateLimited {
			// Slowed down: an immediate retry is refused without trying the code.
			if ra := apperr.RetryAfterOf(err); ra <= 0 || ra > time.Minute {
				t.Fatalf("retry after %s", ra)
			}
			e.clock.Add(apperr.RetryAfterOf(err))
			err = e.svc.StepUp(ctx, e.m, res.Authn, c, "")
		}
		tries++
		if apperr.CodeOf(err) == apperr.Unauthenticated {
			break
		}
		wantCode(t, err, apperr.Invalid)
	}
	if tries != credential.MaxSessionCodeFailures {
		t.Fatalf("the session ended after %d wrong codes, want %d", tries, credential.MaxSessionCodeFailures)
	}
	if _, err := e.svc.Authenticate(ctx, res.Token); err == nil {
		t.Fatal("the session survived five wrong codes")
	}
	var ended, denied int
	_ = e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'auth.session_end' AND details->>'reason' = 'too many wrong codes'").Scan(&ended)
	_ = e.db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'auth.step_up' AND outcome = 'denied'").Scan(&denied)
	if ended != 1 || denied == 0 {
		t.Fatalf("%d session-end events, %d slowed-down refusals audited", ended, denied)
	}
	// The account is slowed, not locked: after the wait, a new session and a right code step up.
	e.clock.Add(time.Minute)
	res = e.signIn(t, secret)
	e.clock.Add(30 * time.Second)
	if err := e.svc.StepUp(ctx, e.m, res.Authn, code(t, secret, e.clock.Now()), ""); err != nil {
		t.Fatalf("right code after the wait: %v", err)
	}
}

// Step-ups racing each other in one stolen session are each counted before
// they are checked: no more codes are tried than the session allows.
func TestConcurrentStepUpsAreEachCounted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := e.signer(t)
	res := e.signIn(t, secret)
	codes := race(20, func(i int) error {
		return e.svc.StepUp(ctx, audit.Meta{ClientHash: fmt.Sprintf("client-%d", i)}, res.Authn, wrongCode(t, secret, e.clock.Now(), i), "")
	})
	tried := codes[apperr.Invalid] + codes[apperr.Unauthenticated]
	if tried == 0 || tried > credential.MaxSessionCodeFailures || codes[apperr.RateLimited] != 20-tried {
		t.Fatalf("answers %v: %d codes tried in one session", codes, tried)
	}
}

// Wrong codes count for the account across its sessions: a thief with two
// sessions does not get twice the guesses.
func TestWrongCodesCountForTheAccountAcrossSessions(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := e.signer(t)
	a := e.signIn(t, secret)
	e.clock.Add(30 * time.Second)
	b := e.signIn(t, secret)
	// Two wrong codes in session a, one in session b: three for the account.
	for i, s := range []*identity.LoginResult{a, a, b} {
		if i == 1 {
			e.clock.Add(time.Second) // past session a's own delay after its first
		}
		wantCode(t, e.svc.StepUp(ctx, e.m, s.Authn, wrongCode(t, secret, e.clock.Now(), i), ""), apperr.Invalid)
	}
	// Session b has had one wrong code, but the account three: it must wait.
	err := e.svc.StepUp(ctx, e.m, b.Authn, wrongCode(t, secret, e.clock.Now(), 9), "")
	wantCode(t, err, apperr.RateLimited)
}

// MFA confirmation is throttled the same way.
func TestMFAConfirmationBruteForceEndsTheSession(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res := e.toEnrol(t, "auditor1")
	enr, err := e.svc.StartEnrolment(ctx, e.m, res.Authn, "")
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; ; i++ {
		_, err := e.svc.ConfirmEnrolment(ctx, e.m, res.Authn, wrongCode(t, enr.Secret, e.clock.Now(), i))
		if apperr.CodeOf(err) == apperr.RateLimited {
			e.clock.Add(apperr.RetryAfterOf(err))
			_, err = e.svc.ConfirmEnrolment(ctx, e.m, res.Authn, wrongCode(t, enr.Secret, e.clock.Now(), i))
		}
		if apperr.CodeOf(err) == apperr.Unauthenticated {
			if i != credential.MaxSessionCodeFailures {
				t.Fatalf("ended after %d codes", i)
			}
			break
		}
		wantCode(t, err, apperr.Invalid)
	}
	if _, err := e.svc.Authenticate(ctx, res.Token); err == nil {
		t.Fatal("the session survived")
	}
}

func TestAddressThrottleAcrossAccounts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "official1", "STP-HN", access.Official)
	// Guessing many usernames from one address slows that address down...
	for i := 0; i < 10; i++ {
		_, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "nosuchuser" + string(rune('a'+i)), Password: "guess guess guess"})
		wantCode(t, err, apperr.Unauthenticated)
	}
	_, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "official1", Password: pw})
	wantCode(t, err, apperr.RateLimited)
	// ...but not another address.
	other := audit.Meta{ClientHash: "client-b"}
	if _, err := e.svc.Login(ctx, other, identity.LoginInput{Username: "official1", Password: pw}); err != nil {
		t.Fatalf("another address was throttled: %v", err)
	}
}

func TestIntegrationTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct, _ := e.create(t, "admin1", "STP-HN", access.Admin)
	admin := access.Principal{Kind: access.Staff, ID: acct.ID, Agency: "STP-HN", Roles: []access.Role{access.Admin}}
	_, _, err := e.svc.IssueToken(ctx, e.m, admin, "cổng dịch vụ công", []access.Action{access.AuditRead}, 0)
	wantCode(t, err, apperr.StepUpRequired)
	admin.SteppedUp = e.clock.Now()
	_, _, err = e.svc.IssueToken(ctx, e.m, admin, "x", []access.Action{access.AccountManage}, 0)
	wantCode(t, err, apperr.Invalid)
	// An administrator cannot mint an audit reader: only what their roles hold.
	_, _, err = e.svc.IssueToken(ctx, e.m, admin, "cổng dịch vụ công", []access.Action{access.AuditRead}, 0)
	wantCode(t, err, apperr.Forbidden)
	if _, err := e.svc.AddRole(ctx, e.m, e.op, acct.ID, access.Auditor); err != nil {
		t.Fatal(err)
	}
	admin.Roles = append(admin.Roles, access.Auditor)
	tok, secret, err := e.svc.IssueToken(ctx, e.m, admin, "cổng dịch vụ công", []access.Action{access.AuditRead}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, credential.TokenPrefix) {
		t.Fatalf("secret %q lacks the prefix", secret)
	}
	a, err := e.svc.AuthenticateToken(ctx, secret)
	if err != nil || a.Principal.Kind != access.Token || a.Principal.Agency != "STP-HN" {
		t.Fatalf("token auth: %+v %v", a, err)
	}
	if _, err := e.svc.AuthenticateToken(ctx, secret+"x"); err == nil {
		t.Fatal("a corrupted token authenticated")
	}
	// It lives while its creator holds what it gives: not once the auditor's role is gone.
	if err := e.svc.RemoveRole(ctx, e.m, e.op, acct.ID, access.Auditor); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateToken(ctx, secret); err == nil {
		t.Fatal("a token outlived its creator's auditor role")
	}
	if _, err := e.svc.AddRole(ctx, e.m, e.op, acct.ID, access.Auditor); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateToken(ctx, secret); err == nil {
		t.Fatal("giving the role back brought the token back: it was revoked with the role")
	}
	otherAcct, _ := e.create(t, "admin2", "UBND-BD", access.Admin)
	other := access.Principal{Kind: access.Staff, ID: otherAcct.ID, Agency: "UBND-BD", Roles: []access.Role{access.Admin}, SteppedUp: e.clock.Now()}
	wantCode(t, e.svc.RevokeToken(ctx, e.m, other, tok.ID), apperr.NotFound)
	if err := e.svc.RevokeToken(ctx, e.m, admin, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateToken(ctx, secret); err == nil {
		t.Fatal("a revoked token authenticated")
	}
	_, secret2, err := e.svc.IssueToken(ctx, e.m, admin, "short", []access.Action{access.AgencyRead}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Nor once its creator is disabled (another administrator remains).
	e.create(t, "admin3", "STP-HN", access.Admin)
	if err := e.svc.Disable(ctx, e.m, e.op, acct.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateToken(ctx, secret2); err == nil {
		t.Fatal("a token outlived its creator's account")
	}
}

// TestExpiredTokens: an unrevoked token ends at its end.
func TestExpiredTokens(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct, _ := e.create(t, "admin1", "STP-HN", access.Admin)
	admin := access.Principal{Kind: access.Staff, ID: acct.ID, Agency: "STP-HN", Roles: []access.Role{access.Admin}, SteppedUp: e.clock.Now()}
	_, secret, err := e.svc.IssueToken(ctx, e.m, admin, "short", []access.Action{access.AgencyRead}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateToken(ctx, secret); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(time.Hour)
	if _, err := e.svc.AuthenticateToken(ctx, secret); err == nil {
		t.Fatal("an expired token authenticated")
	}
}

// Nobody grants a role to themselves, and an agency keeps an active
// administrator: the last one can neither lose the role nor be disabled,
// even by an operator (another is appointed first).
func TestNoSelfGrantAndAlwaysAnAdministrator(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	acct, _ := e.create(t, "admin1", "STP-HN", access.Admin)
	admin := access.Principal{Kind: access.Staff, ID: acct.ID, Agency: "STP-HN", Roles: []access.Role{access.Admin}, SteppedUp: e.clock.Now()}
	_, err := e.svc.AddRole(ctx, e.m, admin, acct.ID, access.Signer)
	wantCode(t, err, apperr.Forbidden)
	wantCode(t, e.svc.RemoveRole(ctx, e.m, e.op, acct.ID, access.Admin), apperr.Conflict)
	wantCode(t, e.svc.Disable(ctx, e.m, e.op, acct.ID), apperr.Conflict)
	other, _ := e.create(t, "admin2", "STP-HN", access.Admin)
	if err := e.svc.RemoveRole(ctx, e.m, admin, other.ID, access.Admin); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AddRole(ctx, e.m, e.op, other.ID, access.Admin); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Disable(ctx, e.m, admin, other.ID); err != nil {
		t.Fatal(err) // admin1 is left
	}
	wantCode(t, e.svc.Disable(ctx, e.m, e.op, acct.ID), apperr.Conflict)
}

// TestAuthEventsAreAuditedWithoutSecrets follows one person through the
// authentication events and checks the log holds each, and no secret.
func TestAuthEventsAreAuditedWithoutSecrets(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "admin1", "STP-HN", access.Admin)
	secret, codes := e.onboard(t, "admin1", pw)
	_, _ = e.svc.Login(ctx, e.m, identity.LoginInput{Username: "admin1", Password: "not the password!"})
	_, _ = e.svc.Login(ctx, e.m, identity.LoginInput{Username: "nobody-" + goodPassword, Password: goodPassword})
	res, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "admin1", Password: goodPassword, TOTP: code(t, secret, e.clock.Now())})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Add(30 * time.Second)
	if err := e.svc.StepUp(ctx, e.m, res.Authn, code(t, secret, e.clock.Now()), ""); err != nil {
		t.Fatal(err)
	}
	colleague, _ := e.create(t, "official9", "STP-HN", access.Official)
	if _, err := e.svc.AddRole(ctx, e.m, res.Authn.Principal, colleague.ID, access.Reviewer); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Logout(ctx, e.m, res.Authn); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	actions := map[string]int{}
	if _, brk, err := e.db.Stores(nil).Audit.Verify(ctx, nil, nil); err != nil || brk != nil {
		t.Fatalf("chain: %v %v", err, brk)
	}
	err = e.db.Stores(nil).Audit.Walk(ctx, 0, func(ev *audit.Event) error {
		actions[ev.Action+"/"+string(ev.Outcome)]++
		all.WriteString(ev.Actor + ev.ObjectID + string(ev.Details) + ev.ClientHash)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"account.create/success", "auth.login/success", "auth.login/failure", "auth.password_change/success",
		"auth.mfa_enrol_start/success", "auth.mfa_enrol/success", "auth.mfa_enrol/failure", "auth.mfa/success",
		"auth.step_up/success", "account.role_add/success", "auth.logout/success"} {
		if actions[want] == 0 {
			t.Errorf("no %s event; have %v", want, actions)
		}
	}
	for _, secretish := range append([]string{pw, goodPassword, secret, "not the password!"}, codes...) {
		if strings.Contains(all.String(), secretish) {
			t.Fatalf("the audit log contains a secret")
		}
	}
}

// The identity service builds none of its collaborators: missing ones are
// named.
func TestNewNeedsItsCollaborators(t *testing.T) {
	_, err := identity.New(identity.Config{})
	if err == nil || err.Error() != "identity: Guard, Hasher, Stores.Accounts, Stores.Audit, Stores.Tx required" {
		t.Fatalf("New without collaborators: %v", err)
	}
}

// Audit before act: with the audit log refusing the application's inserts,
// no account is created or changed, no token issued and no session opened.
func TestNothingHappensWithoutItsAuditEvent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	secret := e.signer(t)
	official, _ := e.create(t, "official1", "STP-HN", access.Official)
	e.clock.Add(time.Minute) // a fresh TOTP step for the sign-in below
	e.db.RefuseAuditInserts(t)
	state := func() string {
		var s string
		if err := e.db.Pool.QueryRow(ctx, `SELECT concat_ws('|', (SELECT string_agg(a::text, '|' ORDER BY id) FROM accounts a),
			(SELECT string_agg(r::text, '|' ORDER BY account_id, role) FROM account_roles r), (SELECT count(*) FROM sessions),
			(SELECT count(*) FROM api_tokens), (SELECT count(*) FROM audit_events))`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := state()
	for name, act := range map[string]func() error{
		"create an account": func() error {
			_, _, err := e.svc.CreateAccount(ctx, e.m, e.op, identity.NewAccount{Username: "new1", DisplayName: "Trần Văn An",
				Agency: "STP-HN", Roles: []access.Role{access.Official}})
			return err
		},
		"add a role": func() error { _, err := e.svc.AddRole(ctx, e.m, e.op, official.ID, access.Reviewer); return err },
		"disable":    func() error { return e.svc.Disable(ctx, e.m, e.op, official.ID) },
		"sign in": func() error {
			_, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "signer1", Password: goodPassword, TOTP: code(t, secret, e.clock.Now())})
			return err
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

// toEnrol creates an auditor, signs in, replaces the one-time password and
// signs in again: the session that must enrol MFA.
func (e *env) toEnrol(t *testing.T, username string) *identity.LoginResult {
	t.Helper()
	ctx := context.Background()
	_, pw := e.create(t, username, "STP-HN", access.Auditor)
	res, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: username, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ChangePassword(ctx, e.m, res.Authn, pw, goodPassword); err != nil {
		t.Fatal(err)
	}
	if res, err = e.svc.Login(ctx, e.m, identity.LoginInput{Username: username, Password: goodPassword}); err != nil {
		t.Fatal(err)
	}
	return res
}

// The enrolment a page shows again is the one started: a reloaded page or
// a wrong first code keeps the secret already scanned, and the first code
// of that secret turns MFA on.
func TestEnrolmentIsShownAgainUntilConfirmed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	res := e.toEnrol(t, "auditor1")
	first, err := e.svc.Enrolment(ctx, e.m, res.Authn, "")
	if err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.Enrolment(ctx, e.m, res.Authn, "")
	if err != nil {
		t.Fatal(err)
	}
	if again.Secret != first.Secret || again.URL != first.URL || len(again.QRPNG) == 0 {
		t.Fatalf("shown again: %q %q, want the secret started %q %q", again.Secret, again.URL, first.Secret, first.URL)
	}
	if _, err := e.svc.ConfirmEnrolment(ctx, e.m, res.Authn, wrongCode(t, first.Secret, e.clock.Now(), 1)); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("a wrong first code: %v", err)
	}
	if again, err = e.svc.Enrolment(ctx, e.m, res.Authn, ""); err != nil || again.Secret != first.Secret {
		t.Fatalf("after a wrong code: %v, secret %q, want %q", err, again.Secret, first.Secret)
	}
	if _, err := e.svc.ConfirmEnrolment(ctx, e.m, res.Authn, code(t, first.Secret, e.clock.Now())); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Enrolment(ctx, e.m, res.Authn, ""); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("an enrolment once MFA is on: %v, want 409", err)
	}
}

// A session that need not enrol (an official's, signed in a while ago)
// puts an authenticator on the account only with the current password: a
// session left open on a desk cannot take the account over. It is not
// shown an enrolment another started, and a wrong password counts as a
// wrong code.
func TestVoluntaryEnrolmentNeedsThePassword(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, pw := e.create(t, "official1", "STP-HN", access.Official)
	res, err := e.svc.Login(ctx, e.m, identity.LoginInput{Username: "official1", Password: pw})
	if err == nil {
		err = e.svc.ChangePassword(ctx, e.m, res.Authn, pw, goodPassword)
	}
	if err == nil {
		res, err = e.svc.Login(ctx, e.m, identity.LoginInput{Username: "official1", Password: goodPassword})
	}
	if err != nil || res.Authn.Principal.Restricted != "" {
		t.Fatalf("an official's session: %+v %v", res, err)
	}
	for _, pw := range []string{"", "không phải mật khẩu"} {
		_, err := e.svc.Enrolment(ctx, e.m, res.Authn, pw)
		wantCode(t, err, apperr.Invalid)
		e.clock.Add(time.Minute) // past the slowing down a wrong answer brings
	}
	var n int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'auth.mfa_enrol_start' AND outcome = 'failure'`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("wrong passwords audited: %d %v", n, err)
	}
	enr, err := e.svc.Enrolment(ctx, e.m, res.Authn, goodPassword)
	if err != nil || enr.Secret == "" {
		t.Fatalf("with the password: %+v %v", enr, err)
	}
	if p, err := e.svc.PendingEnrolment(ctx, res.Authn); err != nil || p != nil {
		t.Fatalf("the enrolment started is shown again to a session that need not enrol: %+v %v", p, err)
	}
	if _, err := e.svc.ConfirmEnrolment(ctx, e.m, res.Authn, code(t, enr.Secret, e.clock.Now())); err != nil {
		t.Fatal(err)
	}
}

// Resetting a signer's password or MFA marks the account (internal/replies
// holds its signatures for a while) and raises an alert in the audit log;
// an official's reset is marked, without an alert.
func TestCredentialResetIsMarkedAndAlerted(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	signer, _ := e.create(t, "signer1", "STP-HN", access.Signer)
	official, _ := e.create(t, "official1", "STP-HN", access.Official)
	if _, _, err := e.svc.ResetPassword(ctx, e.m, e.op, signer.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ResetMFA(ctx, e.m, e.op, official.ID); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{signer.ID, official.ID} {
		c, err := e.db.Stores(nil).Accounts.Credentials(ctx, id)
		if err != nil || !c.CredentialsResetAt.Equal(e.clock.Now()) {
			t.Fatalf("account %s reset at %v (%v), want %v", id, c.CredentialsResetAt, err, e.clock.Now())
		}
	}
	var alerts int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'alert.credentials_reset' AND object_id = $1`,
		signer.ID).Scan(&alerts); err != nil || alerts != 1 {
		t.Fatalf("%d alerts for the signer's reset (%v), want 1", alerts, err)
	}
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'alert.credentials_reset' AND object_id = $1`,
		official.ID).Scan(&alerts); err != nil || alerts != 0 {
		t.Fatalf("%d alerts for an official's reset (%v), want none", alerts, err)
	}
}

// An administrator cannot appoint an auditor (an operator does); granting a
// signer's or administrator's role is an alert in the audit log, and a
// signer an administrator made (with a second administrator's approval)
// may not sign for the hold after a reset.
func TestPowerGrants(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, second := e.admins(t)
	_, _, err := e.svc.CreateAccount(ctx, e.m, admin, identity.NewAccount{Username: "watcher", DisplayName: "Người kiểm toán", Agency: "STP-HN",
		Roles: []access.Role{access.Auditor}})
	wantCode(t, err, apperr.Forbidden)
	colleague, _ := e.create(t, "official2", "STP-HN", access.Official)
	_, err = e.svc.AddRole(ctx, e.m, admin, colleague.ID, access.Auditor)
	wantCode(t, err, apperr.Forbidden)
	req, err := e.svc.AddRole(ctx, e.m, admin, colleague.ID, access.Signer)
	if err != nil || req == nil {
		t.Fatalf("an administrator's signer grant: %+v %v, want a request", req, err)
	}
	if _, _, err := e.svc.ApprovePower(ctx, e.m, second, req.ID); err != nil {
		t.Fatal(err)
	}
	c, err := e.db.Stores(nil).Accounts.Credentials(ctx, colleague.ID)
	if err != nil || !c.CredentialsResetAt.Equal(e.clock.Now()) || !slices.Contains(c.Roles, access.Signer) {
		t.Fatalf("a signer made by administrators: roles %v, hold from %v (%v), want %v", c.Roles, c.CredentialsResetAt, err, e.clock.Now())
	}
	var alerts int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'alert.role_grant' AND object_id = $1`,
		colleague.ID).Scan(&alerts); err != nil || alerts != 1 {
		t.Fatalf("%d alerts for the signer's role (%v), want 1", alerts, err)
	}
}

// admins makes two administrators of STP-HN, stepped up, as principals.
func (e *env) admins(t *testing.T) (first, second access.Principal) {
	t.Helper()
	a, _ := e.create(t, "admin1", "STP-HN", access.Admin)
	b, _ := e.create(t, "admin2", "STP-HN", access.Admin)
	as := func(id, name string) access.Principal {
		return access.Principal{Kind: access.Staff, ID: id, Name: name, Agency: "STP-HN", Roles: []access.Role{access.Admin}, SteppedUp: e.clock.Now()}
	}
	return as(a.ID, "admin1"), as(b.ID, "admin2")
}

// The two-person rule, as an administrator who wants to sign in a
// signer's name would try it: every step alone is a request, nothing
// changes until another administrator approves, the requester never sees
// the one-time password, and neither the requester nor the account
// concerned can approve (nor can the application's database role).
func TestTwoPersonRule(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, second := e.admins(t)
	signer, _ := e.create(t, "signer1", "STP-HN", access.Signer)
	before, _ := e.db.Stores(nil).Accounts.Credentials(ctx, signer.ID)

	pw, req, err := e.svc.ResetPassword(ctx, e.m, admin, signer.ID)
	if err != nil || req == nil || pw != "" || req.Status != credential.RequestPending {
		t.Fatalf("an administrator's reset of a signer: %q %+v %v, want a pending request and no password", pw, req, err)
	}
	if after, _ := e.db.Stores(nil).Accounts.Credentials(ctx, signer.ID); after.PasswordHash != before.PasswordHash || !after.CredentialsResetAt.IsZero() {
		t.Fatal("the request changed the signer's password")
	}
	_, _, err = e.svc.ResetPassword(ctx, e.m, admin, signer.ID)
	wantCode(t, err, apperr.Conflict) // one pending request for the same change
	_, _, err = e.svc.ApprovePower(ctx, e.m, admin, req.ID)
	wantCode(t, err, apperr.Forbidden) // not by its requester
	asSigner := access.Principal{Kind: access.Staff, ID: signer.ID, Agency: "STP-HN", Roles: []access.Role{access.Signer}, SteppedUp: e.clock.Now()}
	_, _, err = e.svc.ApprovePower(ctx, e.m, asSigner, req.ID)
	wantCode(t, err, apperr.Forbidden) // not by a non-administrator
	foreign, _ := e.create(t, "admin-other", "UBND-BD", access.Admin)
	_, _, err = e.svc.ApprovePower(ctx, e.m, access.Principal{Kind: access.Staff, ID: foreign.ID, Agency: "UBND-BD",
		Roles: []access.Role{access.Admin}, SteppedUp: e.clock.Now()}, req.ID)
	wantCode(t, err, apperr.NotFound) // another agency's request: as a missing one
	_, _, err = e.svc.ApprovePower(ctx, e.m, second, "00000000-0000-0000-0000-000000000000")
	wantCode(t, err, apperr.NotFound)
	// The database refuses an approval by the requester whatever the application does.
	if _, err := e.db.Pool.Exec(ctx, `UPDATE power_requests SET status = 'approved', decided_by = requested_by, decided_at = now() WHERE id = $1`,
		req.ID); err == nil {
		t.Fatal("the database let the requester approve")
	}

	q, pw, err := e.svc.ApprovePower(ctx, e.m, second, req.ID)
	if err != nil || pw == "" || q.Status != credential.RequestApproved || q.DecidedBy != second.ID {
		t.Fatalf("the second administrator's approval: %+v %q %v", q, pw, err)
	}
	if after, _ := e.db.Stores(nil).Accounts.Credentials(ctx, signer.ID); after.PasswordHash == before.PasswordHash ||
		!after.MustChangePassword || !after.CredentialsResetAt.Equal(e.clock.Now()) {
		t.Fatal("the approved reset did not change the password, or no hold began")
	}
	_, _, err = e.svc.ApprovePower(ctx, e.m, second, req.ID)
	wantCode(t, err, apperr.Conflict) // once
	var events int
	if err := e.db.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'account.password_reset' AND object_id = $1
		AND details->>'request' = $2 AND details->>'requested_by' = $3 AND actor = $4`, signer.ID, req.ID, admin.ID, "account:"+second.ID).Scan(&events); err != nil || events != 1 {
		t.Fatalf("%d reset events naming the request, its requester and the approver (%v)", events, err)
	}

}

// A two-person request closes without its change when refused, withdrawn
// or expired; the account concerned cannot approve it; and the rule asks
// no second person for an official's reset, an operator's change or a
// role that gives no power (an administrator cannot create a powerful
// account outright).
func TestTwoPersonRequestsClose(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, second := e.admins(t)
	signer, _ := e.create(t, "signer1", "STP-HN", access.Signer)
	official, _ := e.create(t, "official1", "STP-HN", access.Official)
	mfa, err := e.svc.ResetMFA(ctx, e.m, admin, second.ID)
	if err != nil || mfa == nil {
		t.Fatalf("an administrator's MFA reset: %+v %v, want a request", mfa, err)
	}
	_, _, err = e.svc.ApprovePower(ctx, e.m, second, mfa.ID)
	wantCode(t, err, apperr.Forbidden)
	if err := e.svc.RefusePower(ctx, e.m, admin, mfa.ID); err != nil {
		t.Fatal(err)
	}
	// A role refused is not granted, and a refused request cannot be approved after.
	grant, err := e.svc.AddRole(ctx, e.m, admin, official.ID, access.Signer)
	if err != nil || grant == nil {
		t.Fatalf("a signer's role: %+v %v, want a request", grant, err)
	}
	if err := e.svc.RefusePower(ctx, e.m, second, grant.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.ApprovePower(ctx, e.m, second, grant.ID)
	wantCode(t, err, apperr.Conflict)
	// A request expires after PowerRequestTTL.
	late, err := e.svc.AddRole(ctx, e.m, admin, official.ID, access.Admin)
	if err != nil || late == nil {
		t.Fatalf("an administrator's role: %+v %v, want a request", late, err)
	}
	e.clock.Add(identity.PowerRequestTTL + time.Second)
	admin.SteppedUp, second.SteppedUp = e.clock.Now(), e.clock.Now()
	_, _, err = e.svc.ApprovePower(ctx, e.m, second, late.ID)
	wantCode(t, err, apperr.Conflict)
	if c, _ := e.db.Stores(nil).Accounts.Credentials(ctx, official.ID); len(c.Roles) != 1 {
		t.Fatalf("the official's roles %v: no request was approved", c.Roles)
	}
	// No second person for an official's reset, for operators, or for roles that give no power.
	if pw, req, err := e.svc.ResetPassword(ctx, e.m, admin, official.ID); err != nil || req != nil || pw == "" {
		t.Fatalf("an official's reset: %q %+v %v", pw, req, err)
	}
	if pw, req, err := e.svc.ResetPassword(ctx, e.m, e.op, signer.ID); err != nil || req != nil || pw == "" {
		t.Fatalf("an operator's reset: %q %+v %v", pw, req, err)
	}
	if req, err := e.svc.AddRole(ctx, e.m, admin, official.ID, access.Reviewer); err != nil || req != nil {
		t.Fatalf("a reviewer's role: %+v %v", req, err)
	}
	_, _, err = e.svc.CreateAccount(ctx, e.m, admin, identity.NewAccount{Username: "signer9", DisplayName: "Người ký", Agency: "STP-HN",
		Roles: []access.Role{access.Official, access.Signer}})
	wantCode(t, err, apperr.Forbidden) // the creator would know its one-time password
	list, err := e.svc.PowerRequests(ctx, e.m, second)
	if err != nil || len(list) != 3 {
		t.Fatalf("%d requests listed (%v), want 3", len(list), err)
	}
}
