// Package httpapi is pakn's HTTP layer: the chi router, middleware, and the
// handlers that translate between HTTP and the domain. Errors become
// application/problem+json in one place (errors.go).
package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
)

// Checker reports whether a dependency can serve; nil means ready.
type Checker func(ctx context.Context) error

// Deps is what the HTTP layer needs from the rest of paknd.
type Deps struct {
	Log          *slog.Logger
	MaxBodyBytes int64
	// Ready lists the dependencies /readyz checks, by name.
	Ready map[string]Checker
}

// Server is pakn's HTTP API.
type Server struct {
	log     *slog.Logger
	ready   map[string]Checker
	metrics *metrics
	router  chi.Router
}

// New builds the HTTP API.
func New(d Deps) *Server {
	s := &Server{log: d.Log, ready: d.Ready, metrics: newMetrics()}
	r := chi.NewRouter()
	r.Use(withRequestID, s.observe, s.recoverPanics, baseHeaders, limitBody(d.MaxBodyBytes))
	r.NotFound(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusNotFound, "not_found", "no such resource")
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, r, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this resource")
	})
	r.Get("/", s.index)
	r.Get("/healthz", s.healthz)
	r.Get("/readyz", s.readyz)
	r.Method(http.MethodGet, "/metrics", s.metrics.handler())
	s.router = r
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

// readyTimeout bounds each dependency check of /readyz.
const readyTimeout = 3 * time.Second
