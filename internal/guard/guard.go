// Package guard enforces the access policy: it asks internal/access for a
// decision, audits every refusal (in its own transaction, before answering),
// and turns the decision into pakn's error codes. Services call it before
// acting; handlers never decide on their own.
package guard

import (
	"context"
	"encoding/json"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/msg"
	"pakn/internal/store"
)

// Guard enforces the access policy.
type Guard struct {
	Audit store.Audit
	Now   func() time.Time
}

// Target names the object of an action, for the audit log.
type Target struct {
	Type, ID string
	Agency   string
}

// Authorize allows or refuses p taking action a on t. Refusals for lack of
// role or for another agency's object are audited as denied; another
// agency's object is answered as not found, so ids cannot be probed.
func (g *Guard) Authorize(ctx context.Context, m audit.Meta, p access.Principal, a access.Action, t Target) error {
	d := access.Decide(p, a, access.Object{Agency: t.Agency}, g.Now())
	switch d.Outcome {
	case access.Allow:
		return nil
	case access.Unauthenticated:
		return apperr.New(apperr.Unauthenticated, msg.SignInRequired)
	case access.NeedStepUp:
		return apperr.New(apperr.StepUpRequired, msg.StepUpNeeded)
	case access.Restricted:
		return apperr.New(apperr.Restricted, msg.RestrictedSession)
	}
	if err := g.Denied(ctx, m, p, a, t, d.Reason); err != nil {
		return err
	}
	if d.Outcome == access.NotVisible {
		return apperr.New(apperr.NotFound, msg.NotFound)
	}
	return apperr.New(apperr.Forbidden, msg.NotAllowed)
}

// RefuseMissing is the refusal, if any, of p's action a on t, an object
// that does not exist: what p's roles get whether it exists or not (so
// existence is never told to a role that may not act), or nil, when the
// caller answers "not found" (a lapsed step-up too, as another agency's
// object would be answered before any step-up). t.Agency should be p's.
func (g *Guard) RefuseMissing(ctx context.Context, m audit.Meta, p access.Principal, a access.Action, t Target) error {
	if err := g.Authorize(ctx, m, p, a, t); err != nil && apperr.CodeOf(err) != apperr.StepUpRequired {
		return err
	}
	return nil
}

// Allows reports whether p may take action a on t now, or after a step-up:
// a question a page asks to offer a button, not an attempt, so nothing is
// audited (the attempt, when made, goes through Authorize).
func (g *Guard) Allows(p access.Principal, a access.Action, t Target) bool {
	o := access.Decide(p, a, access.Object{Agency: t.Agency}, g.Now()).Outcome
	return o == access.Allow || o == access.NeedStepUp
}

// NeedsStepUp reports whether p may take action a on t only after a fresh
// TOTP code (nothing audited, as Allows).
func (g *Guard) NeedsStepUp(p access.Principal, a access.Action, t Target) bool {
	return access.Decide(p, a, access.Object{Agency: t.Agency}, g.Now()).Outcome == access.NeedStepUp
}

// Denied appends an "access.denied" event for p's attempt at a on t.
func (g *Guard) Denied(ctx context.Context, m audit.Meta, p access.Principal, a access.Action, t Target, reason string) error {
	details, _ := json.Marshal(map[string]string{"attempted": string(a), "reason": reason, "object_agency": t.Agency})
	e := audit.EventOf(m, p, "access.denied", t.Type, t.ID, audit.Denied, details)
	return g.Audit.Record(ctx, e)
}
