package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"pakn/internal/apperr"
	"pakn/internal/msg"
)

func queryInt(r *http.Request, name string, def int64) (int64, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, apperr.New(apperr.Invalid, msg.NotInteger, name)
	}
	return n, nil
}

func (s *Server) auditEvents(w http.ResponseWriter, r *http.Request) {
	after, err1 := queryInt(r, "after", 0)
	limit, err2 := queryInt(r, "limit", 100)
	if err := firstErr(err1, err2); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	evs, err := s.auditlog.Events(r.Context(), s.meta(r), authnOf(r.Context()).Principal, after, int(limit))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request) {
	res, err := s.auditlog.Verify(r.Context(), s.meta(r), authnOf(r.Context()).Principal, r.URL.Query().Get("anchor"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) auditExport(w http.ResponseWriter, r *http.Request) {
	after, err := queryInt(r, "after", 0)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	// The header is sent only when the first line is written, so a refusal
	// still gets its own status.
	// An export of the whole log may take longer than the server's write
	// timeout: each line written moves the deadline on (a stalled reader is
	// still cut off after exportStall without progress).
	lw := &lazyHeader{w: w, contentType: "application/x-ndjson", rc: http.NewResponseController(w)}
	if err := s.auditlog.Export(r.Context(), s.meta(r), authnOf(r.Context()).Principal, after, lw); err != nil {
		if !lw.started {
			writeError(w, r, s.log, err)
			return
		}
		s.log.ErrorContext(r.Context(), "audit export interrupted", "err", err, "request_id", RequestID(r.Context()))
	}
	if !lw.started {
		lw.start()
	}
}

// lazyHeader sets the content type and status on the first write.
type lazyHeader struct {
	w           http.ResponseWriter
	contentType string
	started     bool
	rc          *http.ResponseController // when set, each write moves the write deadline on
	moved       time.Time
}

// exportStall is how long a streamed export may wait for its reader.
const exportStall = time.Minute

func (l *lazyHeader) start() {
	l.started = true
	l.w.Header().Set("Content-Type", l.contentType)
	l.w.Header().Set("Cache-Control", "no-store")
	l.w.WriteHeader(http.StatusOK)
}

func (l *lazyHeader) Write(p []byte) (int, error) {
	if !l.started {
		l.start()
	}
	if now := time.Now(); l.rc != nil && now.Sub(l.moved) > time.Second {
		l.moved = now
		_ = l.rc.SetWriteDeadline(now.Add(exportStall)) // a writer without deadlines keeps the server's
	}
	return l.w.Write(p)
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
