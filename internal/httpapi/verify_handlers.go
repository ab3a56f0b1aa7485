package httpapi

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/go-chi/chi/v5"

	"pakn/internal/apperr"
	"pakn/internal/msg"
	"pakn/internal/quota"
	"pakn/internal/register"
	"pakn/internal/spool"
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
		f, err := s.spool.Take(rd, verify.MaxSize)
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
// no place; then a place in
// the small documents' lane, or a large document's weight of the
// verification memory, waited for; the verification audited before the
// answer. When it returns, the work for the document has stopped.
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
	if f.Size() <= smallDocument {
		if err := s.verifySlots.Acquire(ctx, 1); err != nil {
			return nil, apperr.Wrap(err, apperr.Unavailable, "wait for a verification place", msg.TimedOut)
		}
		defer s.verifySlots.Release(1)
	} else {
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
	return s.register.Verify(ctx, s.meta(r), authnOf(ctx).Principal, doc)
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

// pageData is what the verification pages show.
type pageData struct {
	Nonce   string
	Entry   *register.Entry
	Report  *verify.Report
	Matches bool   // the uploaded file is this reply's
	Problem string // an error to show instead of a report
}

// page writes an HTML page with a CSP that allows its own style (by nonce)
// and posting its form to this site only.
func (s *Server) page(w http.ResponseWriter, status int, d pageData) {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	d.Nonce = base64.RawStdEncoding.EncodeToString(b)
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'nonce-"+d.Nonce+"'; img-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := verifyPage.Execute(w, d); err != nil {
		s.log.Error("render verification page", "err", err)
	}
}

// pageError shows err on the verification page, with the status the one
// error mapping (statusOf) gives it; internal causes are logged, not shown.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error, e *register.Entry) {
	status := statusOf(apperr.CodeOf(err))
	if ra := apperr.RetryAfterOf(err); ra > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(ra.Seconds()))))
	}
	if status >= http.StatusInternalServerError {
		s.log.Error("verification page", "err", err, "request_id", RequestID(r.Context()))
	}
	s.page(w, status, pageData{Entry: e, Problem: apperr.MessageOf(err)})
}

// verifyReplyPage is where a reply's QR code leads: what the register knows
// of the reply and a form to upload the PDF one holds.
func (s *Server) verifyReplyPage(w http.ResponseWriter, r *http.Request) {
	e, err := s.register.Entry(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.pageError(w, r, err, nil)
		return
	}
	s.page(w, http.StatusOK, pageData{Entry: e})
}

// verifyReplyUpload checks the PDF uploaded from a reply's page.
func (s *Server) verifyReplyUpload(w http.ResponseWriter, r *http.Request) {
	e, err := s.register.Entry(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.pageError(w, r, err, nil)
		return
	}
	rep, err := s.verifyUpload(w, r)
	if err != nil {
		s.pageError(w, r, err, e)
		return
	}
	s.page(w, verifyStatus(rep), pageData{Entry: e, Report: rep, Matches: rep.SHA256 == e.SHA256})
}

var verifyPage = template.Must(template.New("verify").Funcs(msg.TemplateFuncs).Parse(`<!doctype html>
<html lang="vi">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{both "VerifyPageTitle"}}</title>
<style nonce="{{.Nonce}}">
body { font-family: "Times New Roman", "Liberation Serif", serif; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.5; color: #111; }
h1 { font-size: 1.4rem; } dt { font-weight: bold; } dd { margin: 0 0 .5rem 0; word-break: break-all; }
.ok { color: #0a5d00; } .bad { color: #a00000; } .warn { color: #8a5a00; }
table { border-collapse: collapse; width: 100%; } td { border-top: 1px solid #ccc; padding: .2rem .4rem; vertical-align: top; }
</style>
</head>
<body>
<h1>{{vi "VerifyPageHeading"}}<br><small>{{en "VerifyPageHeading"}}</small></h1>
{{if .Problem}}<p class="bad">{{.Problem}}</p>{{end}}
{{with .Entry}}
<h2>{{both "RegisterHeading"}}</h2>
<dl>
<dt>{{both "RegisterNumber"}}</dt><dd>{{.Number}}</dd>
<dt>{{both "RegisterShortCode"}}</dt><dd>{{.ShortCode}}</dd>
<dt>{{both "RegisterIssuedBy"}}</dt><dd>{{.AgencyName}} ({{.Agency}})</dd>
<dt>{{both "RegisterSigned"}}</dt><dd>{{.SignedAt}}</dd>
<dt>{{both "RegisterSigner"}}</dt><dd>{{.SignerName}}, {{.SignerTitle}}</dd>
<dt>{{both "RegisterTrackingCode"}}</dt><dd>{{.TrackingCode}}</dd>
<dt>SHA-256</dt><dd>{{.SHA256}} ({{.Size}} bytes)</dd>
<dt>{{both "RegisterStatus"}}</dt><dd>{{if eq .Status "current"}}<span class="ok">{{both "StatusCurrent"}}</span>{{else if eq .Status "superseded"}}<span class="warn">{{both "StatusSuperseded"}}</span>{{else}}<span class="bad">{{both "StatusRevoked"}}</span>{{end}}</dd>
</dl>
{{end}}
{{with .Report}}
<h2>{{both "ResultHeading"}}</h2>
<p class="{{if eq .Indication "TOTAL_PASSED"}}ok{{else}}bad{{end}}"><strong>{{.Indication}}{{if .SubIndication}} / {{.SubIndication}}{{end}}</strong></p>
<p>{{.SummaryVI}}<br>{{.SummaryEN}}</p>
{{if $.Matches}}<p class="ok">{{both "FileMatchesPage"}}</p>{{else}}<p class="bad">{{both "FileOtherThanPage"}}</p>{{end}}
<p>SHA-256 {{.SHA256}}</p>
{{range .Signatures}}
<table>{{range .Checks}}<tr><td>{{.Result}}</td><td>{{.Name}}</td><td>{{.Detail}}</td></tr>{{end}}</table>
{{end}}
{{end}}
{{if .Entry}}
<h2>{{both "CheckYourFile"}}</h2>
<form method="post" enctype="multipart/form-data">
<input type="file" name="file" accept="application/pdf" required>
<button type="submit">{{both "VerifyButton"}}</button>
</form>
<p><small>{{both "VerifyUploadNote"}}</small></p>
{{end}}
</body>
</html>
`))
