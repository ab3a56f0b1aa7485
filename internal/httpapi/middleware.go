package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"time"

	"pakn/internal/apperr"
	"pakn/internal/msg"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"golang.org/x/text/language"
)

// ctxKey types the values this package keeps in a request's context.
type ctxKey int

const (
	requestIDKey  ctxKey = iota // see RequestID
	clientAddrKey               // see clientAddr
	authnKey                    // see authnOf
	langKey                     // see lang
)

// withLanguage picks the language of the answer from Accept-Language
// (Vietnamese by default, see msg.Lang) and says so in Content-Language.
func withLanguage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := msg.Lang(r.Header.Get("Accept-Language"))
		w.Header().Set("Content-Language", t.String())
		w.Header().Add("Vary", "Accept-Language")
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey, t)))
	})
}

// lang is the language withLanguage chose for the request of ctx
// (Vietnamese outside it).
func lang(ctx context.Context) language.Tag {
	if t, ok := ctx.Value(langKey).(language.Tag); ok {
		return t
	}
	return msg.Vietnamese
}

// RequestID returns the id of the request carried by ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// withRequestID gives every request a fresh random id, returned in the
// X-Request-Id header. An id sent by the client is not trusted (it would let
// anyone write into our logs).
func withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [12]byte
		_, _ = rand.Read(b[:])
		id := hex.EncodeToString(b[:])
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// routePattern is the chi pattern that served r ("unmatched" for 404s), so
// logs and metrics never carry ids or query strings.
func routePattern(r *http.Request) string {
	if rc := chi.RouteContext(r.Context()); rc != nil {
		if p := rc.RoutePattern(); p != "" {
			return p
		}
	}
	return "unmatched"
}

// observe logs one JSON line per request and records its metrics. It logs the
// route pattern, never the raw path or query, so no secret or personal data
// in a URL reaches the logs.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		defer func() {
			route := routePattern(r)
			status := ww.Status()
			if status == 0 {
				status = http.StatusOK
			}
			d := time.Since(start)
			s.metrics.observe(r.Method, route, status, d)
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
				slog.String("request_id", RequestID(r.Context())),
				slog.String("method", r.Method),
				slog.String("route", route),
				slog.Int("status", status),
				slog.Int("bytes", ww.BytesWritten()),
				slog.String("duration", strconv.FormatFloat(d.Seconds()*1000, 'f', 2, 64)+"ms"),
			)
		}()
		next.ServeHTTP(ww, r)
	})
}

// recoverPanics turns a panic in a handler into a 500 problem and a log line
// with the stack, and keeps the process alive.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic", "request_id", RequestID(r.Context()),
					"panic", slog.AnyValue(p).String(), "stack", string(debug.Stack()))
				answerError(w, r, apperr.New(apperr.Internal, msg.InternalError)) // logged above, with the stack
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// limitBody caps every request body at n bytes: one that declares more is
// refused at once with message k (413); reading past n fails with
// *http.MaxBytesError, which writeError answers with 413 too.
func (s *Server) limitBody(n int64, k msg.Key) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > n {
				writeError(w, r, s.log, apperr.New(apperr.TooLarge, k))
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
		})
	}
}

// securityHeaders sets the headers every answer carries: no sniffing, no
// referrer, a Content-Security-Policy that allows no script at all (pages
// that need one must send a nonce) and no framing, and HSTS over TLS.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		next.ServeHTTP(w, r)
	})
}
