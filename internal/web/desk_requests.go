package web

// The two-person rule at the desk: the requests of the agency's
// administrators (a signer's, auditor's or administrator's password or MFA
// reset; a signer's or administrator's role) on the accounts page, each
// approved or refused by another administrator; the requester may withdraw
// it. Approving a password reset shows its one-time password to the
// approver, once.

import (
	"net/http"
	"net/url"
	"time"

	"github.com/go-chi/chi/v5"

	"pakn/internal/credential"
	"pakn/internal/identity"
	"pakn/internal/msg"
)

// requestRow is one request on the accounts page.
type requestRow struct {
	ID, AccountID, Account, Change, RequestedBy, Requested, Expires, Status string
	Open, CanApprove, Mine                                                  bool
}

// requestRows says the agency's requests for the viewer a: the open ones
// first, then the decided and expired ones.
func (s *Site) requestRows(r *http.Request, v *view, a *identity.Authn) ([]requestRow, error) {
	list, err := s.identity.PowerRequests(r.Context(), s.edge.Meta(r), a.Principal)
	if err != nil {
		return nil, err
	}
	var open, closed []requestRow
	now := time.Now()
	for _, q := range list {
		row := requestRow{ID: q.ID, AccountID: q.AccountID, Account: q.Username, Change: v.requestChange(&q), RequestedBy: q.RequestedByName,
			Requested: v.Time(q.RequestedAt), Expires: v.L(msg.RequestExpires, v.Time(q.ExpiresAt)), Open: q.Open(now), Mine: q.RequestedBy == a.Account.ID}
		row.CanApprove = row.Open && !row.Mine && q.AccountID != a.Account.ID
		row.Status = v.requestStatus(&q, row.Open)
		if row.Open {
			open = append(open, row)
		} else {
			closed = append(closed, row)
		}
	}
	return append(open, closed...), nil
}

// requestChange says what a request asks for.
func (v *view) requestChange(q *credential.PowerRequest) string {
	switch q.Kind {
	case credential.PowerPasswordReset:
		return v.L(msg.RequestPasswordReset)
	case credential.PowerMFAReset:
		return v.L(msg.RequestMFAReset)
	}
	return v.L(msg.RequestRoleAdd, v.L(roleLabels[q.Role]))
}

// requestStatus says where a request stands.
func (v *view) requestStatus(q *credential.PowerRequest, open bool) string {
	switch {
	case open:
		return v.L(msg.RequestStatusPending)
	case q.Status == credential.RequestApproved:
		return v.L(msg.RequestStatusApproved)
	case q.Status == credential.RequestRefused:
		return v.L(msg.RequestStatusRefused)
	case q.Status == credential.RequestWithdrawn:
		return v.L(msg.RequestStatusWithdrawn)
	}
	return v.L(msg.RequestStatusExpired)
}

// ApproveRequest carries out a request as its second administrator; a
// password reset's one-time password is shown here, once.
func (s *Site) ApproveRequest(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	q, pw, err := s.identity.ApprovePower(r.Context(), s.edge.Meta(r), a.Principal, chi.URLParam(r, "id"))
	if err != nil {
		s.requestRefused(w, r, a, err)
		return
	}
	if pw == "" {
		http.Redirect(w, r, "/desk/admin/?done=approved", http.StatusSeeOther)
		return
	}
	v := s.deskView(w, r, a, msg.AdminPasswordResetTitle, nil)
	v.Data = &secretData{Heading: v.L(msg.AdminPasswordResetTitle), Lead: v.L(msg.AdminApprovedPasswordLead, q.Username), Secret: pw,
		Back: "/desk/admin/accounts/" + url.PathEscape(q.AccountID), BackLabel: v.L(msg.AdminToAccount)}
	s.render(w, r, http.StatusOK, "desk_admin_secret", v)
}

// RefuseRequest refuses a request (or withdraws one's own).
func (s *Site) RefuseRequest(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	if err := s.identity.RefusePower(r.Context(), s.edge.Meta(r), a.Principal, chi.URLParam(r, "id")); err != nil {
		s.requestRefused(w, r, a, err)
		return
	}
	http.Redirect(w, r, "/desk/admin/?done=refused", http.StatusSeeOther)
}

// requestRefused shows the accounts page with err above it, or the error's
// own page when the request is not the viewer's to see (see refusal).
func (s *Site) requestRefused(w http.ResponseWriter, r *http.Request, a *identity.Authn, err error) {
	s.refusal(w, r, err, func(p error) { s.showAccounts(w, r, a, &accountsData{}, p) })
}
