package httpapi

import (
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"

	"pakn/internal/access"
	"pakn/internal/credential"
	"pakn/internal/identity"
)

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	list, err := s.identity.Accounts(r.Context(), s.meta(r), authnOf(r.Context()).Principal)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := []accountView{}
	for i := range list {
		out = append(out, viewAccount(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"accounts": out})
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	a, err := s.identity.Account(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, viewAccount(a))
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username    string   `json:"username"`
		DisplayName string   `json:"display_name"`
		Roles       []string `json:"roles"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	p := authnOf(r.Context()).Principal
	n := identity.NewAccount{Username: in.Username, DisplayName: in.DisplayName, Agency: p.Agency}
	for _, role := range in.Roles {
		n.Roles = append(n.Roles, access.Role(role))
	}
	a, pw, err := s.identity.CreateAccount(r.Context(), s.meta(r), p, n)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"account": viewAccount(a), "one_time_password": pw})
}

func (s *Server) addRole(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Role string `json:"role"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	req, err := s.identity.AddRole(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"), access.Role(in.Role))
	s.doneOrRequested(w, r, req, err)
}

func (s *Server) removeRole(w http.ResponseWriter, r *http.Request) {
	s.noContent(w, r, s.identity.RemoveRole(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"), access.Role(chi.URLParam(r, "role"))))
}

func (s *Server) disableAccount(w http.ResponseWriter, r *http.Request) {
	s.noContent(w, r, s.identity.Disable(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id")))
}

func (s *Server) resetMFA(w http.ResponseWriter, r *http.Request) {
	req, err := s.identity.ResetMFA(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"))
	s.doneOrRequested(w, r, req, err)
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	pw, req, err := s.identity.ResetPassword(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"))
	if err != nil || req != nil {
		s.doneOrRequested(w, r, req, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"one_time_password": pw})
}

// doneOrRequested answers an account change: 204 when it was made, 202
// with the request when it waits for a second administrator.
func (s *Server) doneOrRequested(w http.ResponseWriter, r *http.Request, req *credential.PowerRequest, err error) {
	if err != nil || req == nil {
		s.noContent(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]any{"request": viewRequest(req)})
}

// requestView is a two-person request as the API shows it.
type requestView struct {
	ID          string    `json:"id"`
	Account     string    `json:"account"`
	Username    string    `json:"username"`
	Kind        string    `json:"kind"`
	Role        string    `json:"role,omitempty"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	Status      string    `json:"status"` // pending, approved, refused, withdrawn (a pending one past expires_at is expired)
	DecidedBy   string    `json:"decided_by,omitempty"`
	DecidedAt   time.Time `json:"decided_at,omitzero"`
}

func viewRequest(q *credential.PowerRequest) requestView {
	return requestView{ID: q.ID, Account: q.AccountID, Username: q.Username, Kind: q.Kind, Role: string(q.Role), RequestedBy: q.RequestedBy,
		RequestedAt: q.RequestedAt, ExpiresAt: q.ExpiresAt, Status: q.Status, DecidedBy: q.DecidedBy, DecidedAt: q.DecidedAt}
}

func (s *Server) listPowerRequests(w http.ResponseWriter, r *http.Request) {
	list, err := s.identity.PowerRequests(r.Context(), s.meta(r), authnOf(r.Context()).Principal)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := make([]requestView, 0, len(list))
	for i := range list {
		out = append(out, viewRequest(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"requests": out})
}

func (s *Server) approvePowerRequest(w http.ResponseWriter, r *http.Request) {
	q, pw, err := s.identity.ApprovePower(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := map[string]any{"request": viewRequest(q)}
	if pw != "" {
		out["one_time_password"] = pw
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) refusePowerRequest(w http.ResponseWriter, r *http.Request) {
	s.noContent(w, r, s.identity.RefusePower(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id")))
}

func (s *Server) noContent(w http.ResponseWriter, r *http.Request, err error) {
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type tokenView struct {
	ID        string   `json:"id"`
	Name      string   `json:"name"`
	Agency    string   `json:"agency"`
	Scopes    []string `json:"scopes"`
	CreatedAt string   `json:"created_at"`
	ExpiresAt string   `json:"expires_at"`
	Revoked   bool     `json:"revoked"`
}

func viewToken(t *credential.APIToken) tokenView {
	v := tokenView{ID: t.ID, Name: t.Name, Agency: t.Agency, Scopes: []string{}, Revoked: t.Revoked,
		CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339), ExpiresAt: t.ExpiresAt.UTC().Format(time.RFC3339)}
	for _, sc := range t.Scopes {
		v.Scopes = append(v.Scopes, string(sc))
	}
	return v
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) {
	list, err := s.identity.Tokens(r.Context(), s.meta(r), authnOf(r.Context()).Principal)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := []tokenView{}
	for i := range list {
		out = append(out, viewToken(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name    string   `json:"name"`
		Scopes  []string `json:"scopes"`
		TTLDays int      `json:"ttl_days"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	scopes := make([]access.Action, len(in.Scopes))
	for i, sc := range in.Scopes {
		scopes[i] = access.Action(sc)
	}
	t, secret, err := s.identity.IssueToken(r.Context(), s.meta(r), authnOf(r.Context()).Principal, in.Name, scopes,
		time.Duration(in.TTLDays)*24*time.Hour)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"token": viewToken(t), "secret": secret})
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) {
	s.noContent(w, r, s.identity.RevokeToken(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id")))
}
