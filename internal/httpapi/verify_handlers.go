package httpapi

import (
	"errors"
	"io"
	"mime"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"pakn/internal/apperr"
	"pakn/internal/msg"
	"pakn/internal/quota"
	"pakn/internal/spool"
	"pakn/internal/tsa"
	"pakn/internal/verify"
)

// VerifyUploadLimit bounds a verification request: the 20 MB document and,
// for a form, its multipart framing.
const VerifyUploadLimit = verify.MaxSize + 64<<10

// errTooLargeDocument answers a document over verify.MaxSize.
var errTooLargeDocument = apperr.New(apperr.TooLarge, msg.PDFTooLarge)

// readDocument reads the PDF to verify into the spool: the body itself
// (application/pdf) or the multipart field "file", through a limit of
// verify.MaxSize.
func (s *Server) readDocument(r *http.Request) (*spool.File, error) {
	read := func(rd io.Reader) (*spool.File, error) {
		f, err := s.spool.TakeSized(rd, verify.MaxSize, r.ContentLength)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) || errors.Is(err, spool.ErrTooLarge) {
			return nil, errTooLargeDocument
		}
		if apperr.As(err) != nil { // refused by a bound while it arrived
			return nil, err
		}
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Invalid, "read document", msg.FileUnreadable)
		}
		return f, nil
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		mt = ""
	}
	switch mt {
	case "application/pdf":
		return read(r.Body)
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, apperr.Wrap(err, apperr.Invalid, "multipart", msg.FormMalformed)
		}
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return nil, apperr.New(apperr.Invalid, msg.NoFileField)
			}
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, errTooLargeDocument
			}
			if apperr.As(err) != nil { // refused by a bound while it arrived
				return nil, err
			}
			if err != nil {
				return nil, apperr.Wrap(err, apperr.Invalid, "multipart", msg.FormMalformed)
			}
			if part.FormName() == "file" {
				return read(part)
			}
			if _, err := io.Copy(io.Discard, io.LimitReader(part, 1<<10)); err != nil {
				return nil, apperr.Wrap(err, apperr.Invalid, "multipart", msg.FormMalformed)
			}
		}
	}
	return nil, apperr.New(apperr.UnsupportedMedia, msg.VerifyMediaType)
}

// verifyStatus is the HTTP status of a report: a file that is not a
// well-formed signed PDF is unprocessable; every other verdict is a
// successful verification.
func verifyStatus(rep *verify.Report) int {
	if rep.SubIndication == verify.FormatFailure {
		return http.StatusUnprocessableEntity
	}
	return http.StatusOK
}

// Retry-After values of refusals by the bounds.
const (
	busyClientRetry = 5 * time.Second  // this client already has its share running
	fullRetry       = 30 * time.Second // the service holds as much as it may
)

var (
	errVerifyBusy = &apperr.Error{Code: apperr.RateLimited, RetryAfter: busyClientRetry,
		Key: msg.TooManyVerificationsAtOnce}
	errUploadsFull = &apperr.Error{Code: apperr.Unavailable, RetryAfter: fullRetry,
		Key: msg.UploadBudgetFull}
)

// An upload reserves its declared length (the route's limit when it
// declares none) of the budget of bytes being received
// (Limits.UploadBytes) before a byte is read, so the uploads admitted can
// all finish and the others are refused at once (counting bytes as they
// arrived instead let a flood of large uploads each take a share and all
// fail). So that a client cannot hold a reservation while sending little,
// an upload must keep pace: no read may wait more than uploadStall, and
// after uploadGrace it must have sent at least half of what the pace that
// fits its declared length in the server's read timeout would have brought.
const (
	uploadStall = 5 * time.Second
	uploadGrace = 3 * time.Second
)

var errUploadTooSlow = &apperr.Error{Code: apperr.Unavailable, RetryAfter: busyClientRetry,
	Key: msg.UploadTooSlow}

// budgetedBody is a request body holding a reservation of the upload
// budget, read at a pace it must keep.
type budgetedBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	budget   *quota.Budget
	reserved int64
	window   time.Duration // the server's read timeout
	start    time.Time
	read     int64
	once     sync.Once
}

func (b *budgetedBody) Read(p []byte) (int, error) {
	_ = b.rc.SetReadDeadline(time.Now().Add(uploadStall))
	n, err := b.ReadCloser.Read(p)
	b.read += int64(n)
	if err == nil && b.window > 0 {
		if elapsed := time.Since(b.start); elapsed > uploadGrace && b.read < int64(float64(b.reserved)*elapsed.Seconds()/b.window.Seconds()/2) {
			return n, errUploadTooSlow
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return n, errUploadTooSlow
	}
	if err != nil {
		b.unpace()
	}
	return n, err
}

// unpace lifts the read deadline once the body is read: Go's server then
// reads the connection in the background, and a passed deadline there
// would cancel the request while it is still being worked on.
func (b *budgetedBody) unpace() { _ = b.rc.SetReadDeadline(time.Time{}) }

// release gives the reservation back. Call it once the request's spooled
// data is freed; more calls do nothing.
func (b *budgetedBody) release() {
	b.once.Do(func() {
		b.unpace()
		b.budget.Give(b.reserved)
	})
}

// budgeted reserves r's declared length (at most routeLimit) of the upload
// budget, or refuses with errUploadsFull; release the body when done.
func (s *Server) budgeted(w http.ResponseWriter, r *http.Request, routeLimit int64) (*budgetedBody, error) {
	n := r.ContentLength
	if n < 0 || n > routeLimit {
		n = routeLimit
	}
	if !s.uploads.Take(n) {
		return nil, errUploadsFull
	}
	b := &budgetedBody{ReadCloser: r.Body, rc: http.NewResponseController(w), budget: &s.uploads, reserved: n,
		window: s.readTimeout, start: time.Now()}
	r.Body = b
	return b, nil
}

// Verification lanes: documents of up to smallDocument have 16 places of
// their own, so they never wait behind large ones; a larger document takes
// its weight (verifyWeight) of Limits.VerifyMemory, waited for, before its
// verification starts.
const smallDocument = 1 << 20

// verifyWeight is what a large document's verification may hold in memory
// at most: the document, the signatures' decoded values and parsed
// certificates (together at most its size), and the dictionaries' tokens.
func verifyWeight(size int64) int64 { return 2*size + 2<<20 }

// verifyUpload runs one verification as the bounds require: at most
// VerifyPerClient per client (else 429); its declared length reserved of
// the upload budget (else 503) and the document received into the spool,
// at a pace it must keep, before any place is taken, so slow uploads hold
// no place; then a place in the small documents' lane (held while the
// document is checked, not while its audit event waits for the log's
// flush), or a large document's weight of the verification memory (held
// to the end), waited for; the verification audited before the answer.
// When it returns, the work for the document has stopped.
func (s *Server) verifyUpload(w http.ResponseWriter, r *http.Request) (*verify.Report, error) {
	if !clientExempt(r.Context()) {
		releaseClient, ok := s.verifying.Acquire(clientKey(r.Context()))
		if !ok {
			return nil, errVerifyBusy
		}
		defer releaseClient()
	}
	body, err := s.budgeted(w, r, VerifyUploadLimit)
	if err != nil {
		return nil, err
	}
	defer body.release()
	f, err := s.readDocument(r)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	ctx := r.Context()
	var checked func() // frees the small documents' place once the document is checked
	if f.Size() <= smallDocument {
		if err := s.verifySlots.Acquire(ctx, 1); err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "wait for a verification place", msg.TimedOut)
		}
		// A place bounds the checking at once, not the audit log's flush:
		// freed once the document is checked, or here if it never was.
		var once sync.Once
		checked = func() { once.Do(func() { s.verifySlots.Release(1) }) }
		defer checked()
	} else {
		// A large document's weight bounds its memory, mapped until f is
		// closed: it is held to the end.
		weight := min(verifyWeight(f.Size()), s.limits.VerifyMemory)
		if err := s.verifyBytes.Acquire(ctx, weight); err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "wait for verification memory", msg.TimedOut)
		}
		defer s.verifyBytes.Release(weight)
	}
	doc, err := f.Bytes() // valid until f is closed, when this returns
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Internal, "read spooled document", msg.InternalError)
	}
	return s.register.Verify(ctx, s.meta(r), authnOf(ctx).Principal, doc, checked)
}

// createVerification checks an uploaded PDF and answers the report (JSON).
func (s *Server) createVerification(w http.ResponseWriter, r *http.Request) {
	rep, err := s.verifyUpload(w, r)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, verifyStatus(rep), rep)
}

// registerEntry answers the register's entry for a reply as JSON.
func (s *Server) registerEntry(w http.ResponseWriter, r *http.Request) {
	e, err := s.register.Entry(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, e)
}

// timeStamp answers an RFC 3161 time-stamp request over HTTP (RFC 3161,
// 3.4): a DER request posted as application/timestamp-query, a DER answer
// as application/timestamp-reply; pakn's authority under the policy it
// serves others, audited before the answer.
func (s *Server) timeStamp(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/timestamp-query" {
		writeError(w, r, s.log, apperr.New(apperr.UnsupportedMedia, msg.TimeStampMediaType))
		return
	}
	req, err := io.ReadAll(io.LimitReader(r.Body, tsa.MaxRequest+1))
	if err != nil {
		writeError(w, r, s.log, apperr.Wrap(err, apperr.Invalid, "read time-stamp request", msg.TimeStampMediaType))
		return
	}
	if len(req) > tsa.MaxRequest {
		writeError(w, r, s.log, apperr.New(apperr.TooLarge, msg.TimeStampMediaType))
		return
	}
	resp, err := s.register.TimeStamp(r.Context(), s.meta(r), authnOf(r.Context()).Principal, req)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(resp)
}
