package web

import (
	"math"
	"net/http"
	"strconv"
	"strings"

	"pakn/internal/apperr"
	"pakn/internal/msg"
)

// Home is the home page: what a petition is, what happens to it, what one
// can do here, and the privacy notice.
func (s *Site) Home(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home", s.view(w, r, msg.HomeTitle, nil))
}

// errorData is the error page's.
type errorData struct {
	Message    string
	RetryAfter int  // seconds, when the refusal says when to come back
	Forbidden  bool // a desk page the person's roles do not allow
}

// Error shows err on a page of its own with the status the server's
// mapping gives it; an internal cause is logged, never shown.
func (s *Site) Error(w http.ResponseWriter, r *http.Request, err error) {
	s.ErrorStatus(w, r, s.fault(r, err), err)
}

// fault logs err when it is the service's fault (a 5xx that is not a
// bound's refusal) and returns its status.
func (s *Site) fault(r *http.Request, err error) int {
	status := s.edge.Status(err)
	if status >= http.StatusInternalServerError && apperr.RetryAfterOf(err) == 0 {
		s.log.ErrorContext(r.Context(), "page failed", "err", err, "request_id", s.edge.Meta(r).RequestID)
	}
	return status
}

// ErrorStatus shows err on a page of its own with status (the caller has
// logged what needs logging): for refusals made before a page's handler
// runs (rate limits, body limits, cross-origin requests), so a person never
// meets a raw error.
func (s *Site) ErrorStatus(w http.ResponseWriter, r *http.Request, status int, err error) {
	v := s.view(w, r, msg.PageErrorTitle, nil)
	if strings.HasPrefix(r.URL.Path, "/desk/") { // a desk page's error is shown in the desk, with who is signed in
		v = s.deskView(w, r, s.edge.Session(r), msg.PageErrorTitle, nil)
	}
	v.RequestID = s.edge.Meta(r).RequestID
	k, args := apperr.KeyOf(err)
	d := &errorData{Message: k.In(v.Lang, args...), Forbidden: v.Desk && status == http.StatusForbidden}
	if ra := apperr.RetryAfterOf(err); ra > 0 {
		d.RetryAfter = int(math.Ceil(ra.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(d.RetryAfter))
	}
	v.Data = d
	s.render(w, r, status, "error", v)
}

// NotFound shows the page that says there is no such page.
func (s *Site) NotFound(w http.ResponseWriter, r *http.Request) {
	s.ErrorStatus(w, r, http.StatusNotFound, apperr.New(apperr.NotFound, msg.PageNotFound))
}
