package httpapi

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/identity"
	"pakn/internal/msg"
	"pakn/internal/verify"
	"pakn/internal/web"
)

// The server is the website's edge: the pages get the request's audit
// context, the bounded upload pipelines and the error mapping from here.
var _ web.Edge = (*Server)(nil)

// Meta implements web.Edge.
func (s *Server) Meta(r *http.Request) audit.Meta { return s.meta(r) }

// Status implements web.Edge: the one mapping of errors to statuses.
func (s *Server) Status(err error) int {
	return statusOf(apperr.CodeOf(asTooLarge(err, msg.BodyTooLarge)))
}

// Session implements web.Edge: the session the request's cookie names.
func (s *Server) Session(r *http.Request) *identity.Authn {
	a := authnOf(r.Context())
	if a.Session == nil {
		return nil
	}
	return a
}

// StartSession implements web.Edge: the API's session cookie.
func (s *Server) StartSession(w http.ResponseWriter, res *identity.LoginResult) {
	setSessionCookie(w, res.Token, res.ExpiresAt)
}

// EndSession implements web.Edge.
func (s *Server) EndSession(w http.ResponseWriter) { clearSessionCookie(w) }

// VerifyUpload implements web.Edge with the API's verification pipeline.
func (s *Server) VerifyUpload(w http.ResponseWriter, r *http.Request) (*verify.Report, error) {
	rep, err := s.verifyUpload(w, r)
	return rep, asTooLarge(err, msg.PDFTooLarge)
}

// Form bounds: a field's value, all the text fields together (as a JSON
// petition), and how many fields a form may have.
const (
	formFieldLimit = 64 << 10
	formTextLimit  = petitionJSONLimit
	formFields     = 64
)

// ReadForm implements web.Edge: the petition page's form, read within the
// bounds of an anonymous submission (the page is the citizen's): places
// per client, the daily attachment volume, the upload budget; text fields
// of at most 64 KiB, attachments spooled.
//
// check sees the text fields before the first attachment is read (the page
// puts its files last), so a form refused for its words spends none of the
// client's daily volume. When the form is refused part way (its words, a
// file too large, too many files, the day's volume spent), the text fields
// read until then come back with the error, so the page can show them
// again.
func (s *Server) ReadForm(w http.ResponseWriter, r *http.Request, check func(url.Values) error) (*web.Form, error) {
	daily, release, err := s.admitSubmission(r, true)
	if err != nil {
		return nil, err
	}
	body, err := s.budgeted(w, r, UploadLimit)
	if err != nil {
		release()
		return nil, err
	}
	values, f, err := s.readForm(r, daily, check)
	if err != nil {
		body.release()
		release()
		return &web.Form{Values: values, Close: func() {}}, asTooLarge(err, msg.SubmissionTooLarge)
	}
	return &web.Form{Values: values, Files: f.files, Close: func() {
		closeFiles(f.files)
		body.release()
		release()
	}}, nil
}

// readForm reads a multipart form: text fields into values, "attachments"
// parts into the spool (a file input left empty sends an unnamed, empty
// part, which is skipped); check sees the text fields before the first
// attachment part, and its error stops the reading.
func (s *Server) readForm(r *http.Request, daily *dailyCounter, check func(url.Values) error) (url.Values, *submissionForm, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, apperr.Wrap(err, apperr.UnsupportedMedia, "multipart", msg.FormMalformed)
	}
	values, f := url.Values{}, &submissionForm{}
	text := 0
	for n := 0; ; n++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return values, f, nil
		}
		if err == nil && n >= formFields {
			err = apperr.New(apperr.Invalid, msg.FormMalformed)
		}
		if err == nil && part.FormName() == "attachments" && len(f.files) == 0 && check != nil {
			err = check(values) // the words first: a refused form spends no attachment bytes
		}
		if err == nil {
			err = s.formPart(part, values, f, daily, &text)
		}
		if err != nil {
			closeFiles(f.files)
			return values, nil, readError(err, "multipart", msg.FormMalformed)
		}
	}
}

// formPart reads one part of a form, adding a text field's length to
// *text (bounded by formTextLimit).
func (s *Server) formPart(part *multipart.Part, values url.Values, f *submissionForm, daily *dailyCounter, text *int) error {
	if part.FormName() != "attachments" {
		b, err := io.ReadAll(io.LimitReader(part, formFieldLimit+1))
		if err != nil {
			return err
		}
		if *text += len(b); len(b) > formFieldLimit || *text > formTextLimit {
			return apperr.New(apperr.TooLarge, msg.BodyTooLarge)
		}
		values.Add(part.FormName(), strings.ToValidUTF8(string(b), "\uFFFD"))
		return nil
	}
	if part.FileName() == "" {
		n, err := io.Copy(io.Discard, io.LimitReader(part, 1))
		if err == nil && n > 0 {
			err = apperr.New(apperr.Invalid, msg.FormMalformed)
		}
		return err
	}
	return s.attachment(f, part, daily)
}

// pageKey marks a request for a page: its refusals are shown as pages.
type pageKey struct{}

// withPages marks requests for the website's pages (everything but the API,
// the probes and the metrics), so that a refusal made before a page's
// handler runs (a rate limit, a body limit, a cross-origin form) is shown to
// a person as a page, never as a raw JSON problem.
func (s *Server) withPages(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		if s.site != nil && !strings.HasPrefix(p, "/api/") && p != "/healthz" && p != "/readyz" && p != "/metrics" {
			r = r.WithContext(context.WithValue(r.Context(), pageKey{}, s.site))
		}
		next.ServeHTTP(w, r)
	})
}

// pageSite is the website when r is a page's request.
func pageSite(ctx context.Context) *web.Site {
	site, _ := ctx.Value(pageKey{}).(*web.Site)
	return site
}
