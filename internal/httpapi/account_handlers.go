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
	s.noContent(w, r, s.identity.AddRole(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"), access.Role(in.Role)))
}

func (s *Server) removeRole(w http.ResponseWriter, r *http.Request) {
	s.noContent(w, r, s.identity.RemoveRole(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"), access.Role(chi.URLParam(r, "role"))))
}

func (s *Server) disableAccount(w http.ResponseWriter, r *http.Request) {
	s.noContent(w, r, s.identity.Disable(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id")))
}

func (s *Server) resetMFA(w http.ResponseWriter, r *http.Request) {
	s.noContent(w, r, s.identity.ResetMFA(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id")))
}

func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) {
	pw, err := s.identity.ResetPassword(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"one_time_password": pw})
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
