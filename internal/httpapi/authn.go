package httpapi

import (
	"context"
	"net/http"
	"strings"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/identity"
	"pakn/internal/msg"
)

// SessionCookie is the name of the session cookie. The __Host- prefix makes
// browsers insist on Secure, Path=/ and no Domain.
const SessionCookie = "__Host-pakn_session"

// authnOf returns the request's authentication, or an anonymous one.
func authnOf(ctx context.Context) *identity.Authn {
	if a, ok := ctx.Value(authnKey).(*identity.Authn); ok {
		return a
	}
	return &identity.Authn{Principal: access.Principal{Kind: access.Anonymous}}
}

// meta is what the request contributes to audit events.
func (s *Server) meta(r *http.Request) audit.Meta {
	m := audit.Meta{RequestID: RequestID(r.Context())}
	if s.clients != nil {
		m.ClientHash = s.clients.Hash(clientKey(r.Context()))
	}
	return m
}

// authenticate resolves the session cookie or the bearer token. A request
// with neither is anonymous; one with an invalid credential is anonymous too
// (a stale cookie is cleared), so public routes keep working and protected
// ones answer 401 through the policy.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var a *identity.Authn
		var err error
		if h := r.Header.Get("Authorization"); h != "" {
			bearer, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				writeError(w, r, s.log, apperr.New(apperr.Unauthenticated, msg.BearerOnly))
				return
			}
			if a, err = s.identity.AuthenticateToken(r.Context(), strings.TrimSpace(bearer)); err != nil {
				writeError(w, r, s.log, err)
				return
			}
		} else if c, cerr := r.Cookie(SessionCookie); cerr == nil {
			a, err = s.identity.Authenticate(r.Context(), c.Value)
			if apperr.CodeOf(err) == apperr.Unavailable || apperr.CodeOf(err) == apperr.Internal {
				writeError(w, r, s.log, err)
				return
			}
			if err != nil {
				clearSessionCookie(w)
				a = nil
			}
		}
		if a != nil {
			r = r.WithContext(context.WithValue(r.Context(), authnKey, a))
		}
		next.ServeHTTP(w, r)
	})
}

func setSessionCookie(w http.ResponseWriter, token string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: token, Path: "/", Expires: expires, MaxAge: int(time.Until(expires).Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

func clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: SessionCookie, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// session returns the request's staff session or answers 401.
func session(w http.ResponseWriter, r *http.Request, s *Server) (*identity.Authn, bool) {
	a := authnOf(r.Context())
	if a.Session == nil {
		writeError(w, r, s.log, apperr.New(apperr.Unauthenticated, msg.SignInRequired))
		return nil, false
	}
	return a, true
}
