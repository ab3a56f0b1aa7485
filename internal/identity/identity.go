// Package identity is pakn's staff identity service: login with password and
// TOTP, sessions, MFA enrolment and step-up, account administration and
// integration tokens. Every action commits together with its audit event;
// every refusal by the access policy goes through internal/guard.
package identity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/guard"
	"pakn/internal/msg"
	"pakn/internal/store"
)

// Service is the identity service.
type Service struct {
	tx      store.Tx
	store   store.Accounts
	signers store.Replies // nil: the agency's signers are not listed
	audit   store.Audit
	guard   *guard.Guard
	hasher  Hasher
	box     store.Sealer
	now     func() time.Time
	issuer  string
	keyOf   func(string) string
}

// Hasher hashes and checks passwords. Verify with an empty encoded hash
// (an unknown or disabled account) must cost as much as with a real one.
type Hasher interface {
	Hash(pw string) (string, error)
	Verify(encoded, pw string) (bool, error)
}

// Config holds the Service's dependencies.
type Config struct {
	Stores store.Set        // Tx, Accounts and Audit are used; Replies, when set, lists signers
	Hasher Hasher           // credential.PasswordHasher in paknd
	Box    store.Sealer     // TOTP secrets (internal/vault.TransitBox); may be nil for operators who never touch them
	Now    func() time.Time // time.Now when nil
	Issuer string           // shown in authenticator apps; "pakn" when empty
	Guard  *guard.Guard     // enforces the access policy (required)
	// KeyHash is a keyed hash (paknd uses the audit log's client hasher)
	// under which sign-in names are throttled, so the throttle table holds
	// no name a person typed (it may be a mistyped password). SHA-256 when nil.
	KeyHash func(string) string
}

// New returns the identity service.
func New(c Config) (*Service, error) {
	need := c.Stores.Given("Tx", "Audit", "Accounts")
	need["Guard"], need["Hasher"] = c.Guard != nil, c.Hasher != nil
	if err := store.Missing("identity", need); err != nil {
		return nil, err
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Issuer == "" {
		c.Issuer = "pakn"
	}
	if c.KeyHash == nil {
		c.KeyHash = func(v string) string { sum := sha256.Sum256([]byte(v)); return hex.EncodeToString(sum[:]) }
	}
	return &Service{tx: c.Stores.Tx, store: c.Stores.Accounts, signers: c.Stores.Replies, audit: c.Stores.Audit, guard: c.Guard,
		hasher: c.Hasher, box: c.Box, now: c.Now, issuer: c.Issuer, keyOf: c.KeyHash}, nil
}

// Authn is an authenticated request: who, and through which session.
type Authn struct {
	Principal access.Principal
	Account   *credential.Account // nil for tokens
	Session   *credential.Session // nil for tokens
}

var (
	errBadLogin = apperr.New(apperr.Unauthenticated, msg.WrongLogin)
	errBadCode  = apperr.New(apperr.Unauthenticated, msg.WrongCode)
	// errWrongCode answers a wrong code inside a valid session (step-up,
	// enrolment): the session stays, so the answer is not 401.
	errWrongCode = apperr.New(apperr.Invalid, msg.WrongCode)
	errNoAuth    = apperr.New(apperr.Unauthenticated, msg.SessionInvalid)
	// errSecondFactor rolls back a success transaction whose code was wrong.
	errSecondFactor = errors.New("second factor refused")
)

func rateLimited(wait time.Duration) error {
	return &apperr.Error{Code: apperr.RateLimited, RetryAfter: wait,
		Key: msg.TooManyFailedAttempts}
}

func details(kv ...string) []byte {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	b, _ := json.Marshal(m)
	return b
}

// staff turns a loaded account into its principal.
func staff(a *credential.Account, mfaAt time.Time) access.Principal {
	p := access.Principal{Kind: access.Staff, ID: a.ID, Name: a.Username, Agency: a.Agency, Roles: a.Roles, SteppedUp: mfaAt}
	switch {
	case a.MustChangePassword:
		p.Restricted = "password_change"
	case access.MFARequired(a.Roles) && !a.MFAEnabled:
		p.Restricted = "mfa_enrolment"
	}
	return p
}

// LoginInput is what a person types to sign in.
type LoginInput struct {
	Username     string
	Password     string
	TOTP         string // six digits, when the account has MFA
	RecoveryCode string // instead of TOTP
}

// LoginResult is a new session.
type LoginResult struct {
	Token     string // the session secret: goes into the cookie, never stored
	ExpiresAt time.Time
	Authn     *Authn
}

// Login checks credentials and opens a new session (always a new token, so a
// token planted before login is worthless). Each attempt is counted before
// it is checked (see claim), per sign-in name and client, and per client
// address. A name is slowed by progressive delays for the client guessing
// at it, never locked, so nobody can lock a signer out by guessing at
// their name, and a throttled answer does not tell whether the name
// exists; an address is locked for a while after many failures, which
// stops the guesser.
func (s *Service) Login(ctx context.Context, m audit.Meta, in LoginInput) (*LoginResult, error) {
	now := s.now()
	username := strings.ToLower(strings.TrimSpace(in.Username))
	if len(username) > 64 || len(in.Password) > 4*credential.MaxPasswordLen || len(in.TOTP) > 16 || len(in.RecoveryCode) > 32 {
		return nil, errBadLogin
	}
	cred, err := s.store.CredentialsByName(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	a := &attempt{m: m, in: in, cred: cred, name: s.nameKey(username, m.ClientHash)}
	if cred != nil {
		a.objID = cred.ID
	}
	keys := []throttled{{a.name, credential.AccountThrottle}}
	if m.ClientHash != "" {
		keys = append(keys, throttled{m.ClientHash, credential.AddressThrottle})
	}
	// A second factor typed at sign-in counts for the account too, from
	// wherever it comes: a stolen password gets a few codes per account,
	// not a few per address.
	if cred != nil && cred.MFAEnabled && (in.TOTP != "" || in.RecoveryCode != "") {
		a.codeKey = accountKey(cred.ID)
		keys = append(keys, throttled{a.codeKey, credential.AccountThrottle})
	}
	var refused error
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		wait, c, err := s.claim(ctx, keys, now)
		if err != nil || wait == 0 {
			a.claim = c
			return err
		}
		refused, err = s.denied(ctx, m, anonymous, "auth.login", a.objID, "throttled", wait)
		return err
	})
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	if err := s.checkPassword(ctx, a); err != nil {
		return nil, err
	}
	return s.openSession(ctx, a, now)
}

// attempt is one sign-in on its way: what was typed, the account it names
// (nil when none), and the throttle keys it claimed.
type attempt struct {
	m       audit.Meta
	in      LoginInput
	cred    *credential.Credentials
	objID   string
	name    string // the throttle key of the name typed (see nameKey)
	codeKey string // the account's second-factor key, when a code was typed
	claim   *claimed
}

var anonymous = access.Principal{Kind: access.Anonymous}

// checkPassword checks the attempt's password (against a dummy hash when
// the account is missing or disabled, so timing tells nothing) and, when it
// is right but a second factor is needed and none was typed, answers
// MFARequired without counting a failure.
func (s *Service) checkPassword(ctx context.Context, a *attempt) error {
	hash := ""
	if a.cred != nil && !a.cred.Disabled {
		hash = a.cred.PasswordHash
	}
	ok, err := s.hasher.Verify(hash, a.in.Password)
	if err != nil {
		return apperr.Wrap(err, apperr.Internal, "verify password", msg.InternalError)
	}
	if !ok {
		reason := "wrong password"
		switch {
		case a.cred == nil:
			reason = "unknown username" // the attempted name is not recorded: it may be a mistyped password
		case a.cred.Disabled:
			reason = "account disabled"
		}
		if a.codeKey != "" { // the code was not tried
			ctx := context.WithoutCancel(ctx)
			if err := s.tx.InTx(ctx, func(ctx context.Context) error { return s.settle(ctx, nil, []string{a.codeKey}) }); err != nil {
				return err
			}
		}
		return s.failed(ctx, a.m, anonymous, a.claim, failure{action: "auth.login", reason: reason, object: a.objID}, errBadLogin)
	}
	if a.cred.MFAEnabled && a.in.TOTP == "" && a.in.RecoveryCode == "" {
		// The password was right: this step is not a failure.
		if err := s.tx.InTx(ctx, func(ctx context.Context) error {
			return s.settle(ctx, []string{a.name}, []string{a.m.ClientHash, a.codeKey})
		}); err != nil {
			return err
		}
		return apperr.New(apperr.MFARequired, msg.MFACodeNeeded)
	}
	return nil
}

// openSession checks the second factor, if the account has one, and opens
// a session, with their audit events, in one transaction.
func (s *Service) openSession(ctx context.Context, a *attempt, now time.Time) (*LoginResult, error) {
	secret, token, err := newSessionToken()
	if err != nil {
		return nil, err
	}
	ss := credential.Session{TokenHash: token, AccountID: a.cred.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(credential.AbsoluteTimeout)}
	var acct *credential.Account
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.LockCredentials(ctx, a.cred.ID)
		if err != nil {
			return err
		}
		p := staff(&c.Account, time.Time{})
		how := ""
		if c.MFAEnabled {
			if how, err = s.secondFactor(ctx, c, a.in.TOTP, a.in.RecoveryCode, now); err != nil {
				return err
			}
			ss.MFAAt = now
			p.SteppedUp = now
		}
		// The throttle rows are taken before the audit chain's lock, the
		// order every attempt takes them in (claim, then denied): taken
		// after it, a racing attempt holding a throttle row and waiting
		// for the chain would deadlock with this one.
		if err := s.settle(ctx, []string{a.name, a.codeKey}, []string{a.m.ClientHash}); err != nil {
			return err
		}
		if c.MFAEnabled {
			if err := s.audit.Append(ctx, audit.EventOf(a.m, p, "auth.mfa", "account", c.ID, audit.Success, details("method", how))); err != nil {
				return err
			}
		}
		if err := s.store.CreateSession(ctx, ss); err != nil {
			return err
		}
		acct = &c.Account
		return s.audit.Append(ctx, audit.EventOf(a.m, p, "auth.login", "account", c.ID, audit.Success, details("mfa", boolWord(c.MFAEnabled))))
	})
	if errors.Is(err, errSecondFactor) {
		return nil, s.failed(ctx, a.m, anonymous, a.claim, failure{action: "auth.mfa", reason: "wrong or reused code", object: a.objID}, errBadCode)
	}
	if err != nil {
		return nil, errors.Join(err, s.refund(ctx, a.claim))
	}
	return &LoginResult{Token: secret, ExpiresAt: ss.ExpiresAt,
		Authn: &Authn{Principal: staff(acct, ss.MFAAt), Account: acct, Session: &ss}}, nil
}

func boolWord(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newSessionToken() (string, []byte, error) {
	secret, hash, err := credential.NewSecret()
	if err != nil {
		return "", nil, apperr.Wrap(err, apperr.Internal, "session token", msg.InternalError)
	}
	return secret, hash, nil
}

// secondFactor checks a TOTP code (each step once) or a recovery code (each
// once) for c inside tx, records its use, and says which was used.
func (s *Service) secondFactor(ctx context.Context, c *credential.Credentials, code, recovery string, now time.Time) (string, error) {
	if recovery != "" {
		ok, err := s.store.UseRecoveryCode(ctx, c.ID, credential.HashRecoveryCode(recovery), now)
		if err != nil {
			return "", err
		}
		if !ok {
			return "", errSecondFactor
		}
		return "recovery_code", nil
	}
	if s.box == nil || c.TOTPSecretEnc == "" {
		return "", errSecondFactor
	}
	secret, err := s.box.Open(ctx, c.ID, c.TOTPSecretEnc)
	if err != nil {
		return "", err
	}
	step, ok := credential.CheckTOTP(string(secret), code, now, c.TOTPLastStep)
	if !ok {
		return "", errSecondFactor
	}
	if err := s.store.SetTOTP(ctx, c.ID, c.TOTPSecretEnc, now, step); err != nil {
		return "", err
	}
	return "totp", nil
}

// Authenticate resolves a session token. Ended, idle (30 min) and old (12 h)
// sessions are refused; a disabled account's sessions end.
func (s *Service) Authenticate(ctx context.Context, token string) (*Authn, error) {
	if !credential.ValidSecretShape(token, "") {
		return nil, errNoAuth
	}
	now := s.now()
	hash := credential.HashSecret(token)
	ss, err := s.store.Session(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoAuth
	}
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "load session", msg.DatabaseUnavailable)
	}
	if live, reason := ss.Live(now); !live {
		if !ss.Ended {
			_ = s.store.EndSession(ctx, hash, reason, now)
		}
		return nil, errNoAuth
	}
	c, err := s.store.Credentials(ctx, ss.AccountID)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "load account", msg.DatabaseUnavailable)
	}
	if c.Disabled {
		_ = s.store.EndSession(ctx, hash, "account disabled", now)
		return nil, errNoAuth
	}
	if now.Sub(ss.LastSeenAt) >= touchEvery {
		if err := s.store.TouchSession(ctx, hash, now); err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "touch session", msg.DatabaseUnavailable)
		}
		ss.LastSeenAt = now
	}
	return &Authn{Principal: staff(&c.Account, ss.MFAAt), Account: &c.Account, Session: ss}, nil
}

// touchEvery is how often a session's use is written down: its idle time
// is counted to that, and a busy member of staff does not cost a write (and
// a flush) per request.
const touchEvery = time.Minute

// AuthenticateToken resolves an integration token.
func (s *Service) AuthenticateToken(ctx context.Context, bearer string) (*Authn, error) {
	if !credential.ValidSecretShape(bearer, credential.TokenPrefix) {
		return nil, errNoAuth
	}
	t, err := s.store.TokenByHash(ctx, credential.HashSecret(bearer))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoAuth
	}
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "load token", msg.DatabaseUnavailable)
	}
	now := s.now()
	if t.Revoked || !now.Before(t.ExpiresAt) {
		return nil, errNoAuth
	}
	if t.CreatedBy != "" { // a token lives while its creator may still issue it
		c, err := s.store.Credentials(ctx, t.CreatedBy)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, apperr.Wrap(err, apperr.Unavailable, "load token creator", msg.DatabaseUnavailable)
		}
		if err != nil || !creatorHolds(&c.Account, t) {
			return nil, errNoAuth
		}
	}
	_ = s.store.TouchToken(ctx, t.ID, now)
	return &Authn{Principal: access.Principal{Kind: access.Token, ID: t.ID, Name: t.Name, Agency: t.Agency, Scopes: t.Scopes}}, nil
}

// creatorHolds reports whether the creator c of token t may still issue
// it: active, in its agency, an administrator, holding every scope.
func creatorHolds(c *credential.Account, t *credential.APIToken) bool {
	if c.Disabled || c.Agency != t.Agency || !access.RolesHold(c.Roles, access.TokenManage) {
		return false
	}
	for _, sc := range t.Scopes {
		if !access.RolesHold(c.Roles, sc) {
			return false
		}
	}
	return true
}

// Logout ends the session on the server.
func (s *Service) Logout(ctx context.Context, m audit.Meta, a *Authn) error {
	if a.Session == nil {
		return apperr.New(apperr.Invalid, msg.SessionOnlyLogout)
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.EndSession(ctx, a.Session.TokenHash, "logout", s.now()); err != nil {
			return err
		}
		return s.audit.Append(ctx, audit.EventOf(m, a.Principal, "auth.logout", "account", a.Principal.ID, audit.Success, nil))
	})
}

// ChangePassword sets a new password after checking the current one, and
// ends every session of the account (this one too): the person signs in again.
func (s *Service) ChangePassword(ctx context.Context, m audit.Meta, a *Authn, current, next string) error {
	if a.Account == nil {
		return apperr.New(apperr.Forbidden, msg.TokenHasNoPassword)
	}
	if err := checkNewPassword(next, a.Account.Username); err != nil {
		return err
	}
	if current == next {
		return apperr.New(apperr.Invalid, msg.NewPasswordSame)
	}
	hash, err := s.hasher.Hash(next)
	if err != nil {
		return err
	}
	return s.sessionAttempt(ctx, m, a, "auth.password_change", "wrong current password",
		apperr.New(apperr.Invalid, msg.CurrentPasswordWrong), func(ctx context.Context) (*audit.Event, error) {
			c, err := s.store.LockCredentials(ctx, a.Account.ID)
			if err != nil {
				return nil, err
			}
			ok, err := s.hasher.Verify(c.PasswordHash, current)
			if err != nil {
				return nil, apperr.Wrap(err, apperr.Internal, "verify password", msg.InternalError)
			}
			if !ok {
				return nil, errWrongAnswer
			}
			now := s.now()
			if err := s.store.SetPassword(ctx, c.ID, hash, false, now); err != nil {
				return nil, err
			}
			if _, err := s.store.EndSessions(ctx, c.ID, "password changed", now); err != nil {
				return nil, err
			}
			return audit.EventOf(m, a.Principal, "auth.password_change", "account", c.ID, audit.Success, nil), nil
		})
}

func checkNewPassword(pw, username string) error {
	if err := credential.CheckPassword(pw, username); err != nil {
		var p *credential.PasswordProblem
		if errors.As(err, &p) {
			return apperr.New(apperr.Invalid, p.Key, p.Args...)
		}
		return err
	}
	return nil
}

// StartEnrolment creates a TOTP secret for the signed-in account (not yet
// active) and returns it to show as text and QR code. A session that must
// enrol (signed in with the password a moment ago, for that) starts it as
// it is; any other session gives the current password first, so a session
// left open on a desk cannot put its own authenticator on the account
// (a wrong password is counted as a wrong code is).
func (s *Service) StartEnrolment(ctx context.Context, m audit.Meta, a *Authn, password string) (*credential.Enrolment, error) {
	c, err := s.enrolling(ctx, a)
	if err != nil {
		return nil, err
	}
	if c.MFAEnabled {
		return nil, apperr.New(apperr.Conflict, msg.MFAAlreadyOn)
	}
	e, err := credential.NewEnrolment(s.issuer, c.Username)
	if err != nil {
		return nil, err
	}
	enc, err := s.box.Seal(ctx, c.ID, []byte(e.Secret))
	if err != nil {
		return nil, err
	}
	start := func(ctx context.Context) (*audit.Event, error) {
		if err := s.store.SetTOTP(ctx, c.ID, enc, time.Time{}, 0); err != nil {
			return nil, err
		}
		return audit.EventOf(m, a.Principal, "auth.mfa_enrol_start", "account", c.ID, audit.Success, nil), nil
	}
	if a.Principal.Restricted == "mfa_enrolment" {
		err = s.tx.InTx(ctx, func(ctx context.Context) error {
			ev, err := start(ctx)
			if err != nil {
				return err
			}
			return s.audit.Append(ctx, ev)
		})
	} else {
		err = s.sessionAttempt(ctx, m, a, "auth.mfa_enrol_start", "wrong current password",
			apperr.New(apperr.Invalid, msg.CurrentPasswordWrong), func(ctx context.Context) (*audit.Event, error) {
				ok, err := s.hasher.Verify(c.PasswordHash, password)
				if err != nil {
					return nil, apperr.Wrap(err, apperr.Internal, "verify password", msg.InternalError)
				}
				if !ok {
					return nil, errWrongAnswer
				}
				return start(ctx)
			})
	}
	if err != nil {
		return nil, err
	}
	return e, nil
}

// enrolling loads the credentials of a's account for an MFA enrolment: a
// staff account's, with the box that seals TOTP secrets configured.
func (s *Service) enrolling(ctx context.Context, a *Authn) (*credential.Credentials, error) {
	if a.Account == nil {
		return nil, apperr.New(apperr.Forbidden, msg.TokenHasNoMFA)
	}
	if a.Principal.Restricted == "password_change" { // that session changes the password, and nothing else
		return nil, apperr.New(apperr.Restricted, msg.RestrictedSession)
	}
	if s.box == nil {
		return nil, apperr.New(apperr.Unavailable, msg.MFANotConfigured)
	}
	return s.store.Credentials(ctx, a.Account.ID)
}

// Enrolment returns the signed-in account's enrolment started and not yet
// confirmed, to show it again (a page reloaded, a wrong first code: the
// secret already scanned stays valid), or starts one (StartEnrolment,
// with password).
func (s *Service) Enrolment(ctx context.Context, m audit.Meta, a *Authn, password string) (*credential.Enrolment, error) {
	e, err := s.PendingEnrolment(ctx, a)
	if err != nil || e != nil {
		return e, err
	}
	return s.StartEnrolment(ctx, m, a, password)
}

// PendingEnrolment returns the signed-in account's enrolment started and
// not yet confirmed, or nil when there is none; it changes nothing (a page
// may show it on a GET). Only a session that must enrol is shown one: any
// other starts again with the password (StartEnrolment).
func (s *Service) PendingEnrolment(ctx context.Context, a *Authn) (*credential.Enrolment, error) {
	c, err := s.enrolling(ctx, a)
	if err != nil {
		return nil, err
	}
	if c.MFAEnabled || c.TOTPSecretEnc == "" || a.Principal.Restricted != "mfa_enrolment" {
		return nil, nil
	}
	secret, err := s.box.Open(ctx, c.ID, c.TOTPSecretEnc)
	if err != nil {
		return nil, err
	}
	return credential.EnrolmentOf(s.issuer, c.Username, string(secret))
}

// ConfirmEnrolment activates MFA with a first code and returns ten recovery
// codes, shown once. Wrong codes are counted like step-up's.
func (s *Service) ConfirmEnrolment(ctx context.Context, m audit.Meta, a *Authn, code string) ([]string, error) {
	if a.Account == nil || a.Session == nil {
		return nil, apperr.New(apperr.Forbidden, msg.StaffSessionOnly)
	}
	if a.Principal.Restricted == "password_change" { // that session changes the password, and nothing else
		return nil, apperr.New(apperr.Restricted, msg.RestrictedSession)
	}
	errNotStarted := apperr.New(apperr.Conflict, msg.EnrolmentNotStarted)
	if c, err := s.store.Credentials(ctx, a.Account.ID); err != nil {
		return nil, err
	} else if c.MFAEnabled || c.TOTPSecretEnc == "" {
		return nil, errNotStarted // nothing to guess at: not counted
	}
	codes, hashes, err := credential.NewRecoveryCodes()
	if err != nil {
		return nil, err
	}
	err = s.sessionAttempt(ctx, m, a, "auth.mfa_enrol", "wrong or reused code", errWrongCode, func(ctx context.Context) (*audit.Event, error) {
		now := s.now()
		c, err := s.store.LockCredentials(ctx, a.Account.ID)
		if err != nil {
			return nil, err
		}
		if c.MFAEnabled || c.TOTPSecretEnc == "" {
			return nil, errNotStarted
		}
		if _, err := s.secondFactor(ctx, c, code, "", now); errors.Is(err, errSecondFactor) {
			return nil, errWrongAnswer
		} else if err != nil {
			return nil, err
		}
		if err := s.store.ReplaceRecoveryCodes(ctx, c.ID, hashes); err != nil {
			return nil, err
		}
		if err := s.store.SetSessionMFA(ctx, a.Session.TokenHash, now); err != nil {
			return nil, err
		}
		return audit.EventOf(m, a.Principal, "auth.mfa_enrol", "account", c.ID, audit.Success, nil), nil
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// StepUp verifies a fresh TOTP (or recovery) code in the session, which then
// allows sensitive actions for five minutes. Wrong codes slow the account
// and the session down, and the fifth ends the session (see sessionAttempt).
func (s *Service) StepUp(ctx context.Context, m audit.Meta, a *Authn, code, recovery string) error {
	_, err := s.SteppedUp(ctx, m, a, code, recovery)
	return err
}

// SteppedUp is StepUp, returning the session's Authn as it is from then on
// (a copy of a, stepped up now), for a page that acts at once; a itself is
// left as it is (another request may be reading it).
func (s *Service) SteppedUp(ctx context.Context, m audit.Meta, a *Authn, code, recovery string) (*Authn, error) {
	if a.Account == nil || a.Session == nil {
		return nil, apperr.New(apperr.Forbidden, msg.StaffSessionOnly)
	}
	errNoMFA := apperr.New(apperr.Conflict, msg.EnrolMFAFirst)
	if c, err := s.store.Credentials(ctx, a.Account.ID); err != nil {
		return nil, err
	} else if !c.MFAEnabled {
		return nil, errNoMFA // nothing to guess at: not counted
	}
	var now time.Time
	err := s.sessionAttempt(ctx, m, a, "auth.step_up", "wrong or reused code", errWrongCode, func(ctx context.Context) (*audit.Event, error) {
		now = s.now()
		c, err := s.store.LockCredentials(ctx, a.Account.ID)
		if err != nil {
			return nil, err
		}
		if !c.MFAEnabled {
			return nil, errNoMFA
		}
		how, err := s.secondFactor(ctx, c, code, recovery, now)
		if errors.Is(err, errSecondFactor) {
			return nil, errWrongAnswer
		}
		if err != nil {
			return nil, err
		}
		if err := s.store.SetSessionMFA(ctx, a.Session.TokenHash, now); err != nil {
			return nil, err
		}
		return audit.EventOf(m, a.Principal, "auth.step_up", "account", c.ID, audit.Success, details("method", how)), nil
	})
	if err != nil {
		return nil, err
	}
	up := *a
	up.Principal.SteppedUp = now
	return &up, nil
}
