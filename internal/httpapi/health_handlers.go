package httpapi

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"
)

// index names the service and its public endpoints.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"service":     "pakn",
		"description": "Hệ thống tiếp nhận, xử lý phản ánh, kiến nghị — petitions about regulations and administrative procedures",
		"endpoints":   map[string]string{"health": "/healthz", "readiness": "/readyz", "api": "/api/v1/openapi.json"},
	})
}

// healthz answers 200 while the process is alive.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
}

// DefaultReadyCache is how long /readyz reuses its dependency checks: a
// flood of probes costs the database and Vault at most one check each per
// period.
const DefaultReadyCache = time.Second

// readiness runs the dependency checks of /readyz, at most once per ttl.
type readiness struct {
	checks map[string]Checker
	ttl    time.Duration

	mu      sync.Mutex // held while checking: concurrent probes wait for one result
	at      time.Time
	results map[string]string
}

// check returns each dependency's state ("ok" or "unavailable"), from the
// last check when it is fresher than ttl.
func (rd *readiness) check(ctx context.Context, log *slog.Logger) map[string]string {
	ttl := rd.ttl
	if ttl <= 0 {
		ttl = DefaultReadyCache
	}
	rd.mu.Lock()
	defer rd.mu.Unlock()
	if rd.results != nil && time.Since(rd.at) < ttl {
		return rd.results
	}
	names := make([]string, 0, len(rd.checks))
	for n := range rd.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	results := make(map[string]string, len(names))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			// Not the probe's own context: one impatient probe must not make the shared result "unavailable".
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), readyTimeout)
			defer cancel()
			res := "ok"
			if err := rd.checks[n](cctx); err != nil {
				res = "unavailable"
				log.WarnContext(ctx, "not ready", "dependency", n, "err", err)
			}
			mu.Lock()
			results[n] = res
			mu.Unlock()
		})
	}
	wg.Wait()
	rd.at, rd.results = time.Now(), results
	return results
}

// readyz answers 200 when every dependency is ready, else 503 naming the ones
// that are not. Causes are logged, not shown. Checks are reused for
// DefaultReadyCache (or the configured period).
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	checks := s.ready.check(r.Context(), s.log)
	status, code := "ready", http.StatusOK
	for _, res := range checks {
		if res != "ok" {
			status, code = "not_ready", http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}

// MetricsHandler serves the Prometheus metrics of s, for a listener of
// their own (PAKN_METRICS_ADDR): the main listener serves them only with
// the configured bearer token.
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metrics.handler())
	return mux
}

// bearerOnly lets through only requests bearing token (compared in
// constant time); others get 404, as if the route did not exist.
func (s *Server) bearerOnly(token string) func(http.Handler) http.Handler {
	want := sha256.Sum256([]byte("Bearer " + token))
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got := sha256.Sum256([]byte(r.Header.Get("Authorization")))
			if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
				writeError(w, r, s.log, errNoSuchResource)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
