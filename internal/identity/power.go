package identity

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/guard"
	"pakn/internal/msg"
	"pakn/internal/store"
)

// PowerRequestTTL is how long a two-person request waits for its second
// administrator.
const PowerRequestTTL = 72 * time.Hour

// power says what an account change is for the two-person rule: a reset
// (kind PowerPasswordReset or PowerMFAReset) of an account that holds a
// signer's, auditor's or administrator's role, or a grant (PowerRoleAdd) of
// such a role, made by an administrator, is a request another
// administrator approves; approving carries it out (approving set).
// Operators, with their own credentials, change directly.
type power struct {
	kind      string
	role      access.Role
	approving *credential.PowerRequest
	check     func(c *credential.Credentials) error // refuses the change (or its request) before anything is done
}

// needsSecond reports whether p's change of c must wait for a second
// administrator.
func (r power) needsSecond(p access.Principal, c *credential.Credentials) bool {
	if p.Kind != access.Staff || r.kind == "" || r.approving != nil {
		return false
	}
	if r.kind == credential.PowerRoleAdd {
		return access.MFARequired([]access.Role{r.role})
	}
	return access.MFARequired(c.Roles)
}

// request records p's request for the change r of c, and its audit event,
// in the change's transaction.
func (s *Service) request(ctx context.Context, m audit.Meta, p access.Principal, c *credential.Credentials, r power, now time.Time) (*credential.PowerRequest, error) {
	q := credential.PowerRequest{Agency: c.Agency, AccountID: c.ID, Username: c.Username, Kind: r.kind, Role: r.role,
		RequestedBy: p.ID, RequestedByName: p.Name, RequestedAt: now, ExpiresAt: now.Add(PowerRequestTTL), Status: credential.RequestPending}
	id, err := s.store.CreatePowerRequest(ctx, q)
	if errors.Is(err, store.ErrConflict) {
		return nil, apperr.New(apperr.Conflict, msg.PowerRequestPending)
	}
	if err != nil {
		return nil, err
	}
	q.ID = id
	err = s.audit.Append(ctx, audit.EventOf(m, p, "account.power_request", "account", c.ID, audit.Success,
		details("request", id, "kind", r.kind, "role", string(r.role))))
	return &q, err
}

// approve marks q approved by p, in the transaction that carries it out:
// neither its requester nor the account it concerns may approve it, and
// it must still be pending and unexpired.
func (s *Service) approve(ctx context.Context, p access.Principal, q *credential.PowerRequest, now time.Time) error {
	if p.ID == q.RequestedBy {
		return apperr.New(apperr.Forbidden, msg.PowerRequestNotYours)
	}
	if p.ID == q.AccountID {
		return apperr.New(apperr.Forbidden, msg.PowerRequestOwnAccount)
	}
	ok, err := s.store.DecidePowerRequest(ctx, q.ID, credential.RequestApproved, p.ID, now)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.New(apperr.Conflict, msg.PowerRequestClosed)
	}
	return nil
}

// powerRequest loads a request for an action of p on it: a missing request
// and another agency's answer alike.
func (s *Service) powerRequest(ctx context.Context, m audit.Meta, p access.Principal, a access.Action, id string) (*credential.PowerRequest, error) {
	if p.Kind == access.Operator {
		return nil, apperr.New(apperr.Forbidden, msg.PowerRequestOperator)
	}
	return guarded(ctx, s, m, p, a, "power_request", id, s.store.PowerRequest,
		func(q *credential.PowerRequest) (string, string) { return q.ID, q.Agency })
}

// PowerRequests lists the requests of the principal's agency made in the
// last 30 days, newest first.
func (s *Service) PowerRequests(ctx context.Context, m audit.Meta, p access.Principal) ([]credential.PowerRequest, error) {
	if err := s.guard.Authorize(ctx, m, p, access.AccountRead, guard.Target{Type: "power_request", Agency: p.Agency}); err != nil {
		return nil, err
	}
	return s.store.PowerRequests(ctx, p.Agency, s.now().Add(-30*24*time.Hour))
}

// ApprovePower carries out a request as its second administrator p: the
// change is made, and the request marked approved, in one audited
// transaction. For a password reset it returns the one-time password,
// which only the approver sees, once.
func (s *Service) ApprovePower(ctx context.Context, m audit.Meta, p access.Principal, id string) (*credential.PowerRequest, string, error) {
	q, err := s.powerRequest(ctx, m, p, access.AccountManage, id)
	if err != nil {
		return nil, "", err
	}
	r := power{kind: q.Kind, role: q.Role, approving: q}
	var pw string
	switch q.Kind {
	case credential.PowerPasswordReset:
		pw, _, err = s.resetPassword(ctx, m, p, q.AccountID, r)
	case credential.PowerMFAReset:
		_, err = s.resetMFA(ctx, m, p, q.AccountID, r)
	case credential.PowerRoleAdd:
		_, err = s.addRole(ctx, m, p, q.AccountID, r)
	default:
		err = apperr.New(apperr.Conflict, msg.PowerRequestClosed)
	}
	if err != nil {
		return nil, "", err
	}
	q.Status, q.DecidedBy, q.DecidedAt = credential.RequestApproved, p.ID, s.now()
	return q, pw, nil
}

// RefusePower closes a pending request without the change: refused by
// another administrator, or withdrawn by its requester.
func (s *Service) RefusePower(ctx context.Context, m audit.Meta, p access.Principal, id string) error {
	q, err := s.powerRequest(ctx, m, p, access.AccountManage, id)
	if err != nil {
		return err
	}
	status, action := credential.RequestRefused, "account.power_refuse"
	if p.Kind == access.Staff && p.ID == q.RequestedBy {
		status, action = credential.RequestWithdrawn, "account.power_withdraw"
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		ok, err := s.store.DecidePowerRequest(ctx, q.ID, status, p.ID, s.now())
		if err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.Conflict, msg.PowerRequestClosed)
		}
		return s.audit.Append(ctx, audit.EventOf(m, p, action, "account", q.AccountID, audit.Success,
			details("request", q.ID, "kind", q.Kind, "role", string(q.Role))))
	})
}

// withRequest adds the approved request's id and requester to an event's
// details.
func withRequest(det []byte, q *credential.PowerRequest) []byte {
	m := map[string]string{}
	if len(det) > 0 {
		_ = json.Unmarshal(det, &m)
	}
	m["request"], m["requested_by"] = q.ID, q.RequestedBy
	b, _ := json.Marshal(m)
	return b
}
