package identity

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/auth"
	"pakn/internal/guard"
	"pakn/internal/postgres"
)

// Failure counts live in one table, by key: a client address's keyed hash
// (as the audit log records it), "name:" and the keyed hash of a sign-in
// name with the client that typed it, "account:" and an account id (codes
// and passwords typed in its sessions), "session:" and a session token's
// hash.
//
// An attempt is counted before it is checked: claim refuses it while any
// of its keys must wait, and otherwise charges each key a failure in the
// same transaction, under row locks, so concurrent attempts cannot all pass
// one check; a right answer then clears the keys (forgive). So however
// many requests race, each attempt is one failure until proven right.

// nameKey is the throttle key of a sign-in name typed by a client: the
// delays of guessing at a name fall on the guesser, never on the account's
// owner signing in from elsewhere, and say nothing of whether the name
// exists.
func (s *Service) nameKey(username, clientHash string) string {
	return "name:" + s.keyOf(username+"\x00"+clientHash)
}

// accountKey is the throttle key of the codes and passwords typed in an
// account's sessions.
func accountKey(id string) string { return "account:" + id }

// sessionKey is the throttle key of a session's codes.
func sessionKey(a *Authn) string { return "session:" + hex.EncodeToString(a.Session.TokenHash) }

// throttled is one key of an attempt and its policy.
type throttled struct {
	key    string
	policy auth.ThrottlePolicy
}

// claimed is an attempt that claim let through, with what it charged.
type claimed struct {
	keys     []throttled
	counts   map[string]auth.Throttle // each key's record after the charge
	lockedBy string                   // the key whose lock-out this attempt started, if any
}

// claim lets an attempt through, or returns how long it must wait. Keys
// are locked in a fixed order (no deadlock between attempts that share
// some), each one's wait is read, and, when none must wait, each is
// charged a failure.
func (s *Service) claim(ctx context.Context, tx pgx.Tx, keys []throttled, now time.Time) (time.Duration, *claimed, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b throttled) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	records := make([]auth.Throttle, len(keys))
	var wait time.Duration
	for i, k := range keys {
		t, err := s.store.KeyThrottle(ctx, tx, k.key)
		if err != nil {
			return 0, nil, err
		}
		records[i] = t
		if w, _ := k.policy.Wait(t, now); w > wait {
			wait = w
		}
	}
	if wait > 0 {
		return wait, nil, nil
	}
	c := &claimed{keys: keys, counts: map[string]auth.Throttle{}}
	for i, k := range keys {
		t, locked := k.policy.Fail(records[i], now)
		if err := s.store.SetKeyThrottle(ctx, tx, k.key, t); err != nil {
			return 0, nil, err
		}
		c.counts[k.key] = t
		if locked {
			c.lockedBy = k.key
		}
	}
	return 0, c, nil
}

// forgive clears the keys of an attempt that proved right, where the right
// answer proves the same person made the earlier attempts (the sign-in
// name from one client, the account, the session).
func (s *Service) forgive(ctx context.Context, tx pgx.Tx, keys ...string) error {
	for _, k := range keys {
		if k == "" {
			continue
		}
		if err := s.store.SetKeyThrottle(ctx, tx, k, auth.Throttle{}); err != nil {
			return err
		}
	}
	return nil
}

// refund takes back the failure that claim charged for an attempt that
// ended without an answer being judged (Vault unreachable, say).
func (s *Service) refund(ctx context.Context, c *claimed) error {
	if c == nil {
		return nil
	}
	keys := make([]string, len(c.keys))
	for i, k := range c.keys {
		keys[i] = k.key
	}
	return postgres.InTx(context.WithoutCancel(ctx), s.db, func(tx pgx.Tx) error { return s.uncount(ctx, tx, keys...) })
}

// uncount takes one failure back from each key: what a right answer does
// for the client address it came from (a success there must not wipe the
// failures of other attempts from the same address).
func (s *Service) uncount(ctx context.Context, tx pgx.Tx, keys ...string) error {
	for _, k := range keys {
		if k == "" {
			continue
		}
		t, err := s.store.KeyThrottle(ctx, tx, k)
		if err != nil {
			return err
		}
		if t.Failures = max(0, t.Failures-1); t.Failures == 0 && !t.LockedUntil.After(s.now()) {
			t = auth.Throttle{}
		}
		if err := s.store.SetKeyThrottle(ctx, tx, k, t); err != nil {
			return err
		}
	}
	return nil
}

// errSessionEndedByCodes answers the wrong code that ended a session.
var errSessionEndedByCodes = apperr.New(apperr.Unauthenticated,
	"Nhập sai mã quá nhiều lần: phiên đăng nhập đã kết thúc; hãy đăng nhập lại. / Too many wrong codes: the session has ended; sign in again.")

// failure is a wrong answer to a claimed attempt.
type failure struct {
	action, reason string
	object         string // the account, when known, for the audit event
	session        *Authn // the session whose codes count it (nil for none)
}

// failed records a wrong answer, already counted by claim: its audit
// event, the lock-out event when the attempt started one, and, when the
// session has had auth.MaxSessionCodeFailures wrong codes, the end of the
// session (audited as auth.session_end), all in one transaction. It
// returns answer, the session-ended answer, or the storage error.
func (s *Service) failed(ctx context.Context, m audit.Meta, actor access.Principal, c *claimed, f failure, answer error) error {
	now := s.now()
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		if c.lockedBy != "" && c.lockedBy == m.ClientHash {
			t := c.counts[c.lockedBy]
			if err := s.audit.Append(ctx, tx, guard.Event(m, actor, "auth.lockout", "client", m.ClientHash, audit.Success,
				details("until", t.LockedUntil.UTC().Format(time.RFC3339)))); err != nil {
				return err
			}
		}
		if err := s.audit.Append(ctx, tx, guard.Event(m, actor, f.action, "account", f.object, audit.Failure, details("reason", f.reason))); err != nil {
			return err
		}
		if f.session == nil || c.counts[sessionKey(f.session)].Failures < auth.MaxSessionCodeFailures {
			return nil
		}
		if err := s.forgive(ctx, tx, sessionKey(f.session)); err != nil {
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

// denied records an attempt refused because one of its keys must wait, and
// returns the 429 with that wait.
func (s *Service) denied(ctx context.Context, tx pgx.Tx, m audit.Meta, actor access.Principal, action, object, reason string, wait time.Duration) (error, error) {
	if err := s.audit.Append(ctx, tx, guard.Event(m, actor, action, "account", object, audit.Denied, details("reason", reason))); err != nil {
		return nil, err
	}
	return rateLimited(wait), nil
}

// sessionKeys are the keys a code or password typed in a staff session
// is counted under: its account, the session, and the client address.
func sessionKeys(m audit.Meta, a *Authn) []throttled {
	keys := []throttled{{accountKey(a.Account.ID), auth.AccountThrottle}, {sessionKey(a), auth.SessionCodeThrottle}}
	if m.ClientHash != "" {
		keys = append(keys, throttled{m.ClientHash, auth.AddressThrottle})
	}
	return keys
}

// errWrongAnswer marks, inside an attempt's transaction, that the code or
// password was wrong: the transaction rolls back, the charge stays.
var errWrongAnswer = errors.New("wrong answer")

// sessionAttempt runs one code or password attempt typed in a staff
// session: it claims the attempt (429 while slowed down, audited), then
// runs check in its own transaction; check returns errWrongAnswer for a
// wrong answer, which is then recorded by failed with wrong as the answer.
// A right answer clears the account's and the session's counts.
func (s *Service) sessionAttempt(ctx context.Context, m audit.Meta, a *Authn, action, reason string, wrong error, check func(tx pgx.Tx) error) error {
	if a.Account == nil || a.Session == nil {
		return apperr.New(apperr.Forbidden, "only a staff session can do this")
	}
	var answer error
	var c *claimed
	err := postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		ss, err := s.store.Session(ctx, tx, a.Session.TokenHash)
		if errors.Is(err, postgres.ErrNotFound) || (err == nil && ss.Ended) {
			answer = errNoAuth
			return nil
		}
		if err != nil {
			return err
		}
		wait, cl, err := s.claim(ctx, tx, sessionKeys(m, a), s.now())
		if err != nil {
			return err
		}
		if wait > 0 {
			answer, err = s.denied(ctx, tx, m, a.Principal, action, a.Account.ID, "too many wrong answers; slowed down", wait)
			return err
		}
		c = cl
		return nil
	})
	if err != nil {
		return err
	}
	if answer != nil {
		return answer
	}
	err = postgres.InTx(ctx, s.db, func(tx pgx.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		if err := s.forgive(ctx, tx, accountKey(a.Account.ID), sessionKey(a)); err != nil {
			return err
		}
		return s.uncount(ctx, tx, m.ClientHash)
	})
	switch {
	case errors.Is(err, errWrongAnswer):
		return s.failed(ctx, m, a.Principal, c, failure{action: action, reason: reason, object: a.Account.ID, session: a}, wrong)
	case errors.Is(err, postgres.ErrNotFound):
		return errNoAuth // the session ended while the answer was checked
	case err != nil:
		return errors.Join(err, s.refund(ctx, c))
	}
	return nil
}
