package identity

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/jackc/pgx/v5"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/auth"
	"pakn/internal/guard"
	"pakn/internal/postgres"
)

// Throttle records live in one table, by key: a client address's keyed
// hash (as the audit log records it), "name:" and a sign-in name's keyed
// hash, or "session:" and a session token's hash.

// nameKey is the throttle key of a sign-in name.
func (s *Service) nameKey(username string) string { return "name:" + s.keyOf(username) }

// sessionKey is the throttle key of a session's codes.
func sessionKey(a *Authn) string { return "session:" + hex.EncodeToString(a.Session.TokenHash) }

// errSessionEndedByCodes answers the wrong code that ended a session.
var errSessionEndedByCodes = apperr.New(apperr.Unauthenticated,
	"Nhập sai mã quá nhiều lần: phiên đăng nhập đã kết thúc; hãy đăng nhập lại. / Too many wrong codes: the session has ended; sign in again.")

// failure is one failed attempt and what counts it.
type failure struct {
	action, reason string
	object         string // the account, when known, for the audit event
	name           string // the sign-in name's throttle key ("" for none)
	account        string // the account whose own throttle counts it ("" for none)
	session        *Authn // the session whose codes count it (nil for none)
}

// codeFailure is a wrong code typed in a staff session: it counts for the
// account and for the session.
func (s *Service) codeFailure(a *Authn, action string) failure {
	return failure{action: action, reason: "wrong or reused code", object: a.Account.ID, account: a.Account.ID, session: a}
}

// failed records a failed authentication, in one transaction with its
// audit events: the failure counts of what f names and of the client
// address, a lock-out event when the address's starts, and, when the
// session has had auth.MaxSessionCodeFailures wrong codes, the end of the
// session (audited as auth.session_end). It returns answer, the
// session-ended answer, or the storage error.
func (s *Service) failed(ctx context.Context, m audit.Meta, actor access.Principal, f failure, answer error) error {
	now := s.now()
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		if f.account != "" {
			c, err := s.store.Credentials(ctx, tx, "id", f.account, true)
			if err != nil {
				return err
			}
			t, _ := auth.AccountThrottle.Fail(c.Throttle, now)
			if err := s.store.SetThrottle(ctx, tx, c.ID, t); err != nil {
				return err
			}
		}
		if f.name != "" {
			if err := s.count(ctx, tx, f.name, auth.AccountThrottle, now); err != nil {
				return err
			}
		}
		if m.ClientHash != "" {
			t, err := s.store.KeyThrottle(ctx, tx, m.ClientHash)
			if err != nil {
				return err
			}
			t, locked := auth.AddressThrottle.Fail(t, now)
			if err := s.store.SetKeyThrottle(ctx, tx, m.ClientHash, t); err != nil {
				return err
			}
			if locked {
				if err := s.audit.Append(ctx, tx, guard.Event(m, actor, "auth.lockout", "client", m.ClientHash, audit.Success,
					details("until", t.LockedUntil.UTC().Format(time.RFC3339)))); err != nil {
					return err
				}
			}
		}
		if err := s.audit.Append(ctx, tx, guard.Event(m, actor, f.action, "account", f.object, audit.Failure, details("reason", f.reason))); err != nil {
			return err
		}
		if f.session == nil {
			return nil
		}
		key := sessionKey(f.session)
		t, err := s.store.KeyThrottle(ctx, tx, key)
		if err != nil {
			return err
		}
		t, _ = auth.SessionCodeThrottle.Fail(t, now)
		if t.Failures < auth.MaxSessionCodeFailures {
			return s.store.SetKeyThrottle(ctx, tx, key, t)
		}
		if err := s.store.SetKeyThrottle(ctx, tx, key, auth.Throttle{}); err != nil {
			return err
		}
		if err := s.store.EndSession(ctx, tx, f.session.Session.TokenHash, "too many wrong codes", now); err != nil {
			return err
		}
		answer = errSessionEndedByCodes
		return s.audit.Append(ctx, tx, guard.Event(m, actor, "auth.session_end", "account", f.object, audit.Success,
			details("reason", "too many wrong codes")))
	})
	if err != nil {
		return err
	}
	return answer
}

// count records one failure under key.
func (s *Service) count(ctx context.Context, tx pgx.Tx, key string, p auth.ThrottlePolicy, now time.Time) error {
	t, err := s.store.KeyThrottle(ctx, tx, key)
	if err != nil {
		return err
	}
	t, _ = p.Fail(t, now)
	return s.store.SetKeyThrottle(ctx, tx, key, t)
}

// mayTry refuses (429, with the wait, audited) a code or password typed in
// a staff session while the account or the session is being slowed down
// by earlier wrong ones.
func (s *Service) mayTry(ctx context.Context, m audit.Meta, a *Authn, action string) error {
	if a.Account == nil || a.Session == nil {
		return nil // the caller refuses these
	}
	now := s.now()
	var wait time.Duration
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		c, err := s.store.Credentials(ctx, tx, "id", a.Account.ID, false)
		if err != nil {
			return err
		}
		wait, _ = auth.AccountThrottle.Wait(c.Throttle, now)
		t, err := s.store.KeyThrottle(ctx, tx, sessionKey(a))
		if err != nil {
			return err
		}
		if w, _ := auth.SessionCodeThrottle.Wait(t, now); w > wait {
			wait = w
		}
		if wait == 0 {
			return nil
		}
		return s.audit.Append(ctx, tx, guard.Event(m, a.Principal, action, "account", a.Account.ID, audit.Denied, details("reason", "too many wrong codes; slowed down")))
	})
	if err != nil {
		return err
	}
	if wait > 0 {
		return rateLimited(wait)
	}
	return nil
}

// codesAccepted forgets a session's and its account's wrong codes once a
// right one is typed.
func (s *Service) codesAccepted(ctx context.Context, tx pgx.Tx, a *Authn) error {
	if err := s.store.SetThrottle(ctx, tx, a.Account.ID, auth.Throttle{}); err != nil {
		return err
	}
	return s.store.SetKeyThrottle(ctx, tx, sessionKey(a), auth.Throttle{})
}
