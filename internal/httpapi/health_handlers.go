package httpapi

import (
	"context"
	"net/http"
	"sort"
	"sync"
)

// index names the service and its public endpoints.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"service":     "pakn",
		"description": "Hệ thống tiếp nhận, xử lý phản ánh, kiến nghị — petitions about regulations and administrative procedures",
		"endpoints":   map[string]string{"health": "/healthz", "readiness": "/readyz", "metrics": "/metrics"},
	})
}

// healthz answers 200 while the process is alive.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "alive"})
}

// readyz answers 200 when every dependency is ready, else 503 naming the ones
// that are not. Causes are logged, not shown.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	names := make([]string, 0, len(s.ready))
	for n := range s.ready {
		names = append(names, n)
	}
	sort.Strings(names)
	checks := make(map[string]string, len(names))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range names {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
			defer cancel()
			res := "ok"
			if err := s.ready[n](ctx); err != nil {
				res = "unavailable"
				s.log.WarnContext(r.Context(), "not ready", "dependency", n, "err", err)
			}
			mu.Lock()
			checks[n] = res
			mu.Unlock()
		})
	}
	wg.Wait()
	status, code := "ready", http.StatusOK
	for _, res := range checks {
		if res != "ok" {
			status, code = "not_ready", http.StatusServiceUnavailable
		}
	}
	writeJSON(w, code, map[string]any{"status": status, "checks": checks})
}
