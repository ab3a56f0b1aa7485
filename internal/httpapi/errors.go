package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"

	"pakn/internal/apperr"
	"pakn/internal/msg"
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
	case apperr.Forbidden, apperr.StepUpRequired, apperr.Restricted, apperr.CrossOrigin:
		return http.StatusForbidden
	case apperr.RateLimited:
		return http.StatusTooManyRequests
	case apperr.TooLarge:
		return http.StatusRequestEntityTooLarge
	case apperr.UnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case apperr.Unavailable:
		return http.StatusServiceUnavailable
	case apperr.MethodNotAllowed:
		return http.StatusMethodNotAllowed
	default:
		return http.StatusInternalServerError
	}
}

// errNoSuchResource answers a path no route serves.
var errNoSuchResource = apperr.New(apperr.NotFound, msg.NoSuchResource)

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`  // in Vietnamese and English, "VI / EN"
	Message   string         `json:"message,omitempty"` // the same in the language of Content-Language
	Code      string         `json:"code"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []apperr.Field `json:"errors,omitempty"` // field by field, in Vietnamese and English
	Extra     map[string]any `json:"-"`                // further members, merged into the body
}

// MarshalJSON merges Extra into the problem's members.
func (p Problem) MarshalJSON() ([]byte, error) {
	type plain Problem
	b, err := json.Marshal(plain(p))
	if err != nil || len(p.Extra) == 0 {
		return b, err
	}
	m := map[string]any{}
	for k, v := range p.Extra {
		m[k] = v
	}
	var base map[string]json.RawMessage
	if err := json.Unmarshal(b, &base); err != nil {
		return nil, err
	}
	for k, v := range base {
		m[k] = v
	}
	return json.Marshal(m)
}

// writeError answers err as application/problem+json (see answerError),
// logging server-side failures: internal errors with their cause, refusals
// by a bound as warnings.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	err = asTooLarge(err, msg.BodyTooLarge)
	code := apperr.CodeOf(err)
	switch status := statusOf(code); {
	case status >= 500 && apperr.RetryAfterOf(err) > 0:
		// A bound refused the request (a full queue or budget): expected under load, not a fault.
		log.WarnContext(r.Context(), "request refused by a bound", "code", string(code), "request_id", RequestID(r.Context()))
	case status >= 500:
		log.ErrorContext(r.Context(), "request failed", "err", err, "code", string(code), "request_id", RequestID(r.Context()))
	}
	answerError(w, r, err)
}

// asTooLarge makes a body read past its limit a TooLarge error with
// message k.
func asTooLarge(err error, k msg.Key) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.Wrap(err, apperr.TooLarge, "read body", k)
	}
	return err
}

// answerError answers err (a body over its limit already made TooLarge,
// see writeError) as application/problem+json, its status from statusOf,
// the one mapping; the client sees only the message of the catalogue (a
// fixed one for internal errors), never the cause.
func answerError(w http.ResponseWriter, r *http.Request, err error) {
	code := apperr.CodeOf(err)
	status := statusOf(code)
	if site := pageSite(r.Context()); site != nil {
		site.ErrorStatus(w, r, status, err) // a person's page: shown as a page
		return
	}
	if ra := apperr.RetryAfterOf(err); ra > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
	}
	k, args := apperr.KeyOf(err)
	p := Problem{Code: string(code), Detail: k.Both(args...), Message: k.In(lang(r.Context()), args...)}
	if e := apperr.As(err); e != nil && status < 500 {
		p.Errors, p.Extra = e.Fields, e.Extra
	}
	sendProblem(w, r, status, p)
}

func sendProblem(w http.ResponseWriter, r *http.Request, status int, p Problem) {
	p.Type, p.Title, p.Status, p.RequestID = "about:blank", http.StatusText(status), status, RequestID(r.Context())
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
