package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"pakn/internal/apperr"
)

// statusOf is the one place where error codes become HTTP statuses.
func statusOf(code apperr.Code) int {
	switch code {
	case apperr.Invalid:
		return http.StatusUnprocessableEntity
	case apperr.NotFound:
		return http.StatusNotFound
	case apperr.Conflict:
		return http.StatusConflict
	case apperr.Unauthenticated, apperr.MFARequired:
		return http.StatusUnauthorized
	case apperr.Forbidden, apperr.StepUpRequired, apperr.Restricted:
		return http.StatusForbidden
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.UnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail,omitempty"`
	Code      string `json:"code"`
	RequestID string `json:"request_id,omitempty"`
}

// writeError answers err as application/problem+json. Internal errors are
// logged with their cause; the client sees only a fixed message.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := apperr.CodeOf(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		code = apperr.TooLarge
		err = apperr.Wrap(err, apperr.TooLarge, "read body", "the request body is too large")
	}
	status := statusOf(code)
	if ra := apperr.RetryAfterOf(err); ra > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
	}
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "err", err, "code", string(code), "request_id", RequestID(r.Context()))
	}
	writeProblem(w, r, status, string(code), apperr.MessageOf(err))
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(Problem{
		Type:      "about:blank",
		Title:     http.StatusText(status),
		Status:    status,
		Detail:    detail,
		Code:      code,
		RequestID: RequestID(r.Context()),
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
