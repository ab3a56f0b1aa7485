package httpapi

import (
	"encoding/base64"
	"net/http"
	"time"

	"pakn/internal/credential"
	"pakn/internal/identity"
)

// accountView is the JSON form of an account.
type accountView struct {
	ID                 string   `json:"id"`
	Username           string   `json:"username"`
	DisplayName        string   `json:"display_name"`
	Agency             string   `json:"agency"`
	Roles              []string `json:"roles"`
	MFAEnabled         bool     `json:"mfa_enabled"`
	MustChangePassword bool     `json:"must_change_password"`
	Disabled           bool     `json:"disabled"`
	CreatedAt          string   `json:"created_at"`
}

func viewAccount(a *credential.Account) accountView {
	v := accountView{ID: a.ID, Username: a.Username, DisplayName: a.DisplayName, Agency: a.Agency, Roles: []string{},
		MFAEnabled: a.MFAEnabled, MustChangePassword: a.MustChangePassword, Disabled: a.Disabled}
	for _, r := range a.Roles {
		v.Roles = append(v.Roles, string(r))
	}
	if !a.CreatedAt.IsZero() {
		v.CreatedAt = a.CreatedAt.UTC().Format(time.RFC3339)
	}
	return v
}

// sessionView describes the caller's session.
type sessionView struct {
	Account     accountView `json:"account"`
	Restricted  string      `json:"restricted,omitempty"`
	ExpiresAt   string      `json:"expires_at"`
	SteppedUpAt string      `json:"stepped_up_at,omitempty"`
}

func viewSession(a *identity.Authn) sessionView {
	v := sessionView{Account: viewAccount(a.Account), Restricted: a.Principal.Restricted,
		ExpiresAt: a.Session.ExpiresAt.UTC().Format(time.RFC3339)}
	if !a.Session.MFAAt.IsZero() {
		v.SteppedUpAt = a.Session.MFAAt.UTC().Format(time.RFC3339)
	}
	return v
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username     string `json:"username"`
		Password     string `json:"password"`
		TOTP         string `json:"totp"`
		RecoveryCode string `json:"recovery_code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	res, err := s.identity.Login(r.Context(), s.meta(r), identity.LoginInput{
		Username: in.Username, Password: in.Password, TOTP: in.TOTP, RecoveryCode: in.RecoveryCode})
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	setSessionCookie(w, res.Token, res.ExpiresAt)
	writeJSON(w, http.StatusOK, viewSession(res.Authn))
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	a, ok := session(w, r, s)
	if !ok {
		return
	}
	if err := s.identity.Logout(r.Context(), s.meta(r), a); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) currentSession(w http.ResponseWriter, r *http.Request) {
	a, ok := session(w, r, s)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, viewSession(a))
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	a, ok := session(w, r, s)
	if !ok {
		return
	}
	var in struct {
		Current string `json:"current_password"`
		New     string `json:"new_password"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.identity.ChangePassword(r.Context(), s.meta(r), a, in.Current, in.New); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	clearSessionCookie(w)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) startMFA(w http.ResponseWriter, r *http.Request) {
	a, ok := session(w, r, s)
	if !ok {
		return
	}
	// The current password: needed unless the session must enrol (then
	// the body may be empty).
	var in struct {
		Current string `json:"current_password"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(r, &in); err != nil {
			writeError(w, r, s.log, err)
			return
		}
	}
	e, err := s.identity.StartEnrolment(r.Context(), s.meta(r), a, in.Current)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"secret":      e.Secret,
		"otpauth_url": e.URL,
		"qr_png":      "data:image/png;base64," + base64.StdEncoding.EncodeToString(e.QRPNG),
	})
}

func (s *Server) confirmMFA(w http.ResponseWriter, r *http.Request) {
	a, ok := session(w, r, s)
	if !ok {
		return
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	codes, err := s.identity.ConfirmEnrolment(r.Context(), s.meta(r), a, in.Code)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"recovery_codes": codes})
}

func (s *Server) stepUp(w http.ResponseWriter, r *http.Request) {
	a, ok := session(w, r, s)
	if !ok {
		return
	}
	var in struct {
		Code         string `json:"code"`
		RecoveryCode string `json:"recovery_code"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if err := s.identity.StepUp(r.Context(), s.meta(r), a, in.Code, in.RecoveryCode); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
