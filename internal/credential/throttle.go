package credential

import "time"

// Throttle is the login failure record of one account or one client address.
type Throttle struct {
	Failures    int
	LastFailure time.Time
	NextAttempt time.Time // no attempt before this (progressive delay)
	LockedUntil time.Time // temporary lock-out
}

// ThrottlePolicy turns failures into delays and lock-outs.
type ThrottlePolicy struct {
	FreeFailures int           // failures before any delay
	LockAfter    int           // failures that lock; never when zero
	LockFor      time.Duration // how long a lock-out lasts; also how long failures are remembered
	MaxDelay     time.Duration // the longest progressive delay
}

// The policies pakn uses.
//
// A sign-in name (whether or not an account has it) and an account's codes
// are slowed, never locked: delays double from 1 s after the 3rd failure up
// to a minute, so nobody can lock a signer out by guessing at their name,
// and the guesser gets a guess a minute at best. The guesser's address
// (which may be a shared office gateway) is locked for 15 minutes after 50
// failures, with delays from the 10th. In one session, codes are slowed
// from the 2nd wrong one, and MaxSessionCodeFailures wrong codes end it.
var (
	AccountThrottle     = ThrottlePolicy{FreeFailures: 3, LockFor: 15 * time.Minute, MaxDelay: time.Minute}
	AddressThrottle     = ThrottlePolicy{FreeFailures: 10, LockAfter: 50, LockFor: 15 * time.Minute, MaxDelay: time.Minute}
	SessionCodeThrottle = ThrottlePolicy{FreeFailures: 2, LockFor: AbsoluteTimeout, MaxDelay: 30 * time.Second}
)

// MaxSessionCodeFailures is how many wrong codes (step-up, MFA
// confirmation) end a session: a stolen session cannot try codes until one
// works.
const MaxSessionCodeFailures = 5

// Wait returns how long the holder of t must wait before the next attempt
// (0 when it may try now) and whether that is because of a lock-out.
func (p ThrottlePolicy) Wait(t Throttle, now time.Time) (time.Duration, bool) {
	if now.Before(t.LockedUntil) {
		return t.LockedUntil.Sub(now), true
	}
	if now.Before(t.NextAttempt) {
		return t.NextAttempt.Sub(now), false
	}
	return 0, false
}

// Fail records a failed attempt and reports whether it started a lock-out.
func (p ThrottlePolicy) Fail(t Throttle, now time.Time) (Throttle, bool) {
	if !t.LastFailure.IsZero() && now.Sub(t.LastFailure) > p.LockFor && !now.Before(t.LockedUntil) {
		t = Throttle{} // old failures are forgotten
	}
	t.Failures++
	t.LastFailure = now
	if p.LockAfter > 0 && t.Failures >= p.LockAfter {
		t.LockedUntil = now.Add(p.LockFor)
		t.Failures = 0
		return t, true
	}
	if n := t.Failures - p.FreeFailures; n >= 0 {
		d := time.Second << min(n, 10)
		t.NextAttempt = now.Add(min(d, p.MaxDelay))
	}
	return t, false
}
