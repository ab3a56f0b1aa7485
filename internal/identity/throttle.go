package identity

import (
	"context"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/msg"
	"pakn/internal/store"
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
	policy credential.ThrottlePolicy
}

// claimed is an attempt that claim let through, with what it charged.
type claimed struct {
	keys     []throttled
	counts   map[string]credential.Throttle // each key's record after the charge
	lockedBy string                         // the key whose lock-out this attempt started, if any
}

// claim lets an attempt through, or returns how long it must wait. Keys
// are locked in a fixed order (no deadlock between attempts that share
// some), each one's wait is read, and, when none must wait, each is
// charged a failure.
func (s *Service) claim(ctx context.Context, keys []throttled, now time.Time) (time.Duration, *claimed, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b throttled) int { return strings.Compare(a.key, b.key) })
	records := make([]credential.Throttle, len(keys))
	var wait time.Duration
	for i, k := range keys {
		t, err := s.store.KeyThrottle(ctx, k.key)
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
	c := &claimed{keys: keys, counts: map[string]credential.Throttle{}}
	for i, k := range keys {
		t, locked := k.policy.Fail(records[i], now)
		if err := s.store.SetKeyThrottle(ctx, k.key, t); err != nil {
			return 0, nil, err
		}
		c.counts[k.key] = t
		if locked {
			c.lockedBy = k.key
		}
	}
	return 0, c, nil
}

// settle ends an attempt that proved right: the forgiven keys are cleared
// (the right answer proves the same person made the earlier attempts: the
// sign-in name from one client, the account, the session) and one failure
// is taken back from the others (the client address: a success there must
// not wipe the failures of other attempts from it). Keys are taken in the
// same order as claim takes them, so that attempts never wait for each
// other in a cycle.
func (s *Service) settle(ctx context.Context, forgiven, uncounted []string) error {
	type step struct {
		key     string
		forgive bool
	}
	var steps []step
	for _, k := range forgiven {
		if k != "" {
			steps = append(steps, step{k, true})
		}
	}
	for _, k := range uncounted {
		if k != "" {
			steps = append(steps, step{k, false})
		}
	}
	slices.SortFunc(steps, func(a, b step) int { return strings.Compare(a.key, b.key) })
	for _, st := range steps {
		if st.forgive {
			if err := s.store.SetKeyThrottle(ctx, st.key, credential.Throttle{}); err != nil {
				return err
			}
			continue
		}
		if err := s.uncount(ctx, st.key); err != nil {
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
	ctx = context.WithoutCancel(ctx) // the client may be gone: the refund is still due
	return s.tx.InTx(ctx, func(ctx context.Context) error { return s.settle(ctx, nil, keys) })
}

// uncount takes one failure back from key.
func (s *Service) uncount(ctx context.Context, key string) error {
	t, err := s.store.KeyThrottle(ctx, key)
	if err != nil {
		return err
	}
	if t.Failures = max(0, t.Failures-1); t.Failures == 0 && !t.LockedUntil.After(s.now()) {
		t = credential.Throttle{}
	}
	return s.store.SetKeyThrottle(ctx, key, t)
}

// errSessionEndedByCodes answers the wrong code that ended a session.
var errSessionEndedByCodes = apperr.New(apperr.Unauthenticated,
	msg.SessionEndedByCodes)

// failure is a wrong answer to a claimed attempt.
type failure struct {
	action, reason string
	object         string // the account, when known, for the audit event
	session        *Authn // the session whose codes count it (nil for none)
}

// failed records a wrong answer, already counted by claim: its audit
// event, the lock-out event when the attempt started one, and, when the
// session has had credential.MaxSessionCodeFailures wrong codes, the end of the
// session (audited as auth.session_end), all in one transaction. It
// returns answer, the session-ended answer, or the storage error.
func (s *Service) failed(ctx context.Context, m audit.Meta, actor access.Principal, c *claimed, f failure, answer error) error {
	now := s.now()
	ctx = context.WithoutCancel(ctx) // a client that hangs up does not escape its failure's record
	ends := f.session != nil && c.counts[sessionKey(f.session)].Failures >= credential.MaxSessionCodeFailures
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		// The session's rows first: the audit chain is the last lock taken.
		if ends {
			if err := s.endSessionRows(ctx, f.session, now); err != nil {
				return err
			}
		}
		if c.lockedBy != "" && c.lockedBy == m.ClientHash {
			t := c.counts[c.lockedBy]
			if err := s.audit.Append(ctx, audit.EventOf(m, actor, "auth.lockout", "client", m.ClientHash, audit.Success,
				details("until", t.LockedUntil.UTC().Format(time.RFC3339)))); err != nil {
				return err
			}
		}
		if err := s.audit.Append(ctx, audit.EventOf(m, actor, f.action, "account", f.object, audit.Failure, details("reason", f.reason))); err != nil {
			return err
		}
		if !ends {
			return nil
		}
		return s.audit.Append(ctx, sessionEndEvent(m, actor, f.object))
	})
	if ends && err == nil {
		answer = errSessionEndedByCodes
	}
	if err != nil {
		return err
	}
	return answer
}

// endSession ends a session that has had too many wrong answers, audited.
func (s *Service) endSession(ctx context.Context, m audit.Meta, actor access.Principal, a *Authn, object string, now time.Time) error {
	if err := s.endSessionRows(ctx, a, now); err != nil {
		return err
	}
	return s.audit.Append(ctx, sessionEndEvent(m, actor, object))
}

// endSessionRows ends a session that has had too many wrong answers and
// clears its count: the sessions row first, then its throttle row, the
// order the transactions that check answers take them in, and both before
// the audit chain, which every transaction takes last.
func (s *Service) endSessionRows(ctx context.Context, a *Authn, now time.Time) error {
	if err := s.store.EndSession(ctx, a.Session.TokenHash, "too many wrong codes", now); err != nil {
		return err
	}
	return s.store.SetKeyThrottle(ctx, sessionKey(a), credential.Throttle{})
}

// sessionEndEvent is the audit event of a session ended by wrong answers.
func sessionEndEvent(m audit.Meta, actor access.Principal, object string) *audit.Event {
	return audit.EventOf(m, actor, "auth.session_end", "account", object, audit.Success, details("reason", "too many wrong codes"))
}

// denied records an attempt refused because one of its keys must wait, and
// returns the 429 with that wait.
func (s *Service) denied(ctx context.Context, m audit.Meta, actor access.Principal, action, object, reason string, wait time.Duration) (error, error) {
	if err := s.audit.Append(ctx, audit.EventOf(m, actor, action, "account", object, audit.Denied, details("reason", reason))); err != nil {
		return nil, err
	}
	return rateLimited(wait), nil
}

// sessionKeys are the keys a code or password typed in a staff session
// is counted under: its account, the session, and the client address.
func sessionKeys(m audit.Meta, a *Authn) []throttled {
	keys := []throttled{{accountKey(a.Account.ID), credential.AccountThrottle}, {sessionKey(a), credential.SessionCodeThrottle}}
	if m.ClientHash != "" {
		keys = append(keys, throttled{m.ClientHash, credential.AddressThrottle})
	}
	return keys
}

// errWrongAnswer marks, inside an attempt's transaction, that the code or
// password was wrong: the transaction rolls back, the charge stays.
var errWrongAnswer = errors.New("wrong answer")

// sessionAttempt runs one code or password attempt typed in a staff
// session: it claims the attempt (429 while slowed down, audited), then
// runs check in its own transaction; check returns errWrongAnswer for a
// wrong answer, which is then recorded by failed with wrong as the answer,
// or the audit event of the right answer's action. A right answer clears
// the account's and the session's counts, and its event is appended after
// that: the audit chain is the last lock every transaction takes, so
// attempts racing each other cannot wait for each other in a cycle.
func (s *Service) sessionAttempt(ctx context.Context, m audit.Meta, a *Authn, action, reason string, wrong error, check func(ctx context.Context) (*audit.Event, error)) error {
	if a.Account == nil || a.Session == nil {
		return apperr.New(apperr.Forbidden, msg.StaffSessionOnly)
	}
	var answer error
	var c *claimed
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		ss, err := s.store.LockSession(ctx, a.Session.TokenHash)
		if errors.Is(err, store.ErrNotFound) || (err == nil && ss.Ended) {
			answer = errNoAuth
			return nil
		}
		if err != nil {
			return err
		}
		now := s.now()
		wait, cl, err := s.claim(ctx, sessionKeys(m, a), now)
		if err != nil {
			return err
		}
		if wait > 0 {
			answer, err = s.denied(ctx, m, a.Principal, action, a.Account.ID, "too many wrong answers; slowed down", wait)
			return err
		}
		if cl.counts[sessionKey(a)].Failures > credential.MaxSessionCodeFailures {
			// Earlier wrong answers whose records were lost (a crash between the
			// check and its record): the count itself ends the session.
			answer = errSessionEndedByCodes
			return s.endSession(ctx, m, a.Principal, a, a.Account.ID, now)
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
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		done, err := check(ctx)
		if err != nil {
			return err
		}
		if err := s.settle(ctx, []string{accountKey(a.Account.ID), sessionKey(a)}, []string{m.ClientHash}); err != nil {
			return err
		}
		return s.audit.Append(ctx, done)
	})
	switch {
	case errors.Is(err, errWrongAnswer):
		return s.failed(ctx, m, a.Principal, c, failure{action: action, reason: reason, object: a.Account.ID, session: a}, wrong)
	case errors.Is(err, store.ErrNotFound):
		return errNoAuth // the session ended while the answer was checked
	case err != nil:
		return errors.Join(err, s.refund(ctx, c))
	}
	return nil
}
