package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/deadline"
	"pakn/internal/msg"
	"pakn/internal/petition"
	"pakn/internal/petitions"
	"pakn/internal/quota"
	"pakn/internal/reply"
	"pakn/internal/spool"
)

// UploadLimit bounds a petition submission: five 10 MB files and the form.
const UploadLimit = petition.MaxAttachments*petition.MaxAttachmentSize + 1<<20

// petitionJSONLimit bounds a petition sent as JSON, or as the form's
// petition part.
const petitionJSONLimit = 1 << 20

// errDailyAttachments refuses attachments past a client's daily volume.
func (s *Server) errDailyAttachments() error {
	mb := s.limits.DailyAttachmentBytes >> 20
	return &apperr.Error{Code: apperr.RateLimited, RetryAfter: s.attachments.UntilTomorrow(),
		Key: msg.DailyAttachmentsExceeded, Args: []any{mb}}
}

var errSubmitBusy = &apperr.Error{Code: apperr.RateLimited, RetryAfter: busyClientRetry,
	Key: msg.TooManySubmissionsAtOnce}

// dailyCounter counts the bytes read through it against a client's daily
// attachment volume, failing once it is spent.
type dailyCounter struct {
	r     io.Reader
	daily *quota.Daily
	key   string
	over  error
}

func (c *dailyCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 && !c.daily.Add(c.key, int64(n)) {
		return n, c.over
	}
	return n, err
}

// readSubmission reads a submission as JSON, or as multipart/form-data with
// a "petition" part (JSON) and up to five "attachments" parts, each part
// streamed through its own limit into the spool (never held whole in
// memory). When daily is not nil, attachment bytes count against the
// client's daily volume. The caller closes the files' contents.
func (s *Server) readSubmission(r *http.Request, daily *dailyCounter) (petition.Submission, []petitions.FileIn, error) {
	var sub petition.Submission
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return sub, nil, apperr.New(apperr.UnsupportedMedia, msg.SubmitMediaType)
	}
	switch mt {
	case "application/json":
		// A petition without files is small, whatever the route allows for uploads.
		r.Body = http.MaxBytesReader(nil, r.Body, petitionJSONLimit)
		return sub, nil, decodeJSON(r, &sub)
	case "multipart/form-data":
	default:
		return sub, nil, apperr.New(apperr.UnsupportedMedia, msg.SubmitMediaType)
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return sub, nil, apperr.Wrap(err, apperr.Invalid, "multipart", msg.FormMalformed)
	}
	f := &submissionForm{}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err == nil {
			switch part.FormName() {
			case "petition":
				err = f.petition(part)
			case "attachments":
				err = s.attachment(f, part, daily)
			default:
				err = apperr.New(apperr.Invalid, msg.UnknownFormPart, part.FormName())
			}
		}
		if err != nil {
			closeFiles(f.files)
			return sub, nil, readError(err, "multipart", msg.FormMalformed)
		}
	}
	if !f.gotPetition {
		closeFiles(f.files)
		return sub, nil, apperr.New(apperr.Invalid, msg.PetitionPartMissing)
	}
	return f.sub, f.files, nil
}

// submissionForm is a multipart submission being read.
type submissionForm struct {
	sub         petition.Submission
	gotPetition bool
	files       []petitions.FileIn
}

// readError is err as it is answered: as it is when it is already an
// *apperr.Error or a body over its limit, else Invalid with message k.
func readError(err error, op string, k msg.Key) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || apperr.As(err) != nil { // too large, or refused by a bound while reading
		return err
	}
	return apperr.Wrap(err, apperr.Invalid, op, k)
}

// petition reads the form's one petition part, JSON.
func (f *submissionForm) petition(part io.Reader) error {
	if f.gotPetition {
		return apperr.New(apperr.Invalid, msg.OnePetitionPart)
	}
	f.gotPetition = true
	dec := json.NewDecoder(io.LimitReader(part, petitionJSONLimit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f.sub); err != nil {
		if apperr.As(err) != nil {
			return err
		}
		return apperr.Wrap(err, apperr.Invalid, "decode petition", msg.PetitionPartNotJSON, jsonProblem(err))
	}
	return nil
}

// attachment spools one attachment part, counting it against the client's
// daily volume when daily is not nil.
func (s *Server) attachment(f *submissionForm, part *multipart.Part, daily *dailyCounter) error {
	if len(f.files) == petition.MaxAttachments {
		e := apperr.New(apperr.Invalid, msg.AtMostFiveAttachments)
		e.Fields = []apperr.Field{apperr.FieldOf("attachments", msg.AtMostFiveAttachments)}
		return e
	}
	var in io.Reader = part
	if daily != nil {
		if daily.daily.Left(daily.key) == 0 {
			return daily.over
		}
		daily.r, in = part, daily
	}
	c, err := s.spool.Take(in, petition.MaxAttachmentSize)
	switch {
	case errors.Is(err, spool.ErrTooLarge):
		e := apperr.New(apperr.TooLarge, msg.AttachmentTooLarge)
		e.Fields = []apperr.Field{apperr.FieldOf(fmt.Sprintf("attachments[%d]", len(f.files)), msg.AttachmentTooLarge)}
		return e
	case daily != nil && errors.Is(err, daily.over):
		return err
	case err != nil:
		return readError(err, "read attachment", msg.FileUnreadable)
	}
	f.files = append(f.files, petitions.FileIn{Name: part.FileName(), Content: c})
	return nil
}

// closeFiles frees the spooled files of a submission.
func closeFiles(files []petitions.FileIn) {
	for _, f := range files {
		if c, ok := f.Content.(io.Closer); ok {
			c.Close()
		}
	}
}

// admitSubmission takes an anonymous submitter's place (at most
// UploadsPerClient per client at once, else 429) and returns the counter of
// its daily attachment volume; staff and exempt clients are not bound.
// The caller calls release when the submission is done.
func (s *Server) admitSubmission(r *http.Request, anonymous bool) (daily *dailyCounter, release func(), err error) {
	if !anonymous || clientExempt(r.Context()) {
		return nil, func() {}, nil
	}
	key := clientKey(r.Context())
	release, ok := s.submitting.Acquire(key)
	if !ok {
		return nil, nil, errSubmitBusy
	}
	return &dailyCounter{daily: &s.attachments, key: key, over: s.errDailyAttachments()}, release, nil
}

// submitPetition receives a petition. An anonymous client may send at most
// UploadsPerClient at once (429) and DailyAttachmentBytes of attachments a
// day (429 once spent); every submission's declared length must fit the
// budget of bytes being received (503). Attachments are spooled, not held
// in memory, and the submission is refused or stored whole.
func (s *Server) submitPetition(w http.ResponseWriter, r *http.Request) {
	daily, release, err := s.admitSubmission(r, authnOf(r.Context()).Principal.Kind == access.Anonymous)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	defer release()
	limit := int64(UploadLimit)
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		limit = petitionJSONLimit
	}
	body, err := s.budgeted(w, r, limit)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	defer body.release()
	sub, files, err := s.readSubmission(r, daily)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	defer closeFiles(files) // after Submit: the service is done with them when it returns
	rc, err := s.petitions.Submit(r.Context(), s.meta(r), authnOf(r.Context()).Principal, r.Header.Get("Idempotency-Key"), sub, files)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	if rc.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusCreated, rc)
}

type petitionerRequest struct {
	TrackingCode string `json:"tracking_code"`
	LookupSecret string `json:"lookup_secret"`
	Reason       string `json:"reason,omitempty"`
}

// lookupPetition takes the code and secret in a POST body, so they never
// appear in URLs, logs or browser history.
func (s *Server) lookupPetition(w http.ResponseWriter, r *http.Request) {
	var in petitionerRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	v, err := s.petitions.Lookup(r.Context(), s.meta(r), in.TrackingCode, in.LookupSecret)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) reopenPetition(w http.ResponseWriter, r *http.Request) {
	var in petitionerRequest
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.noContent(w, r, s.petitions.Reopen(r.Context(), s.meta(r), in.TrackingCode, in.LookupSecret, in.Reason))
}

func (s *Server) listPetitions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	lq := petitions.ListQuery{State: petition.State(q.Get("state")), Category: petition.Category(q.Get("category")), Query: q.Get("q")}
	var errs []error
	boolean := func(name string) bool {
		v := q.Get(name)
		if v == "" {
			return false
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, apperr.New(apperr.Invalid, msg.NotBoolean, name))
		}
		return b
	}
	lq.Overdue, lq.DueSoon, lq.Mine = boolean("overdue"), boolean("due_soon"), boolean("mine")
	limit, err1 := queryInt(r, "limit", 50)
	offset, err2 := queryInt(r, "offset", 0)
	errs = append(errs, err1, err2)
	lq.Limit, lq.Offset = int(limit), int(offset)
	date := func(name string) *deadline.Date {
		v := q.Get(name)
		if v == "" {
			return nil
		}
		d, err := deadline.ParseDate(v)
		if err != nil {
			errs = append(errs, apperr.New(apperr.Invalid, msg.ParamDateFormat, name))
		}
		return &d
	}
	lq.DueBy, lq.ReceivedFrom, lq.ReceivedTo = date("due_by"), date("received_from"), date("received_to")
	if err := firstErr(errs...); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	list, total, err := s.petitions.List(r.Context(), s.meta(r), authnOf(r.Context()).Principal, lq)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"petitions": list, "total": total, "limit": lq.Limit, "offset": lq.Offset})
}

func (s *Server) getPetition(w http.ResponseWriter, r *http.Request) {
	d, err := s.petitions.Get(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) getAttachment(w http.ResponseWriter, r *http.Request) {
	info, content, err := s.petitions.Attachment(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"), chi.URLParam(r, "attachment"))
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", info.MediaType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": info.Name}))
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-SHA256", info.SHA256)
	if err := content(w); err != nil {
		// The status is sent: the client sees a body shorter than Content-Length.
		s.log.ErrorContext(r.Context(), "send attachment", "err", err, "request_id", RequestID(r.Context()))
	}
}

func (s *Server) transitionPetition(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Transition  string         `json:"transition"`
		Agency      string         `json:"agency"`
		Category    string         `json:"category"`
		Reason      string         `json:"reason"`
		DuplicateOf string         `json:"duplicate_of"`
		Note        string         `json:"note"`
		Reply       *reply.Content `json:"reply"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	t := petition.Transition(in.Transition)
	if t == petition.Reopen {
		writeError(w, r, s.log, apperr.New(apperr.Invalid, msg.OnlyPetitionerReopens))
		return
	}
	s.noContent(w, r, s.replies.Transition(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"), t,
		petitions.TransitionInput{Agency: in.Agency, Category: petition.Category(in.Category), Reason: petition.RejectReason(in.Reason),
			DuplicateOf: in.DuplicateOf, Note: in.Note, Reply: in.Reply}))
}

func (s *Server) postUpdate(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Message string `json:"message"`
	}
	if err := decodeJSON(r, &in); err != nil {
		writeError(w, r, s.log, err)
		return
	}
	s.noContent(w, r, s.petitions.PostUpdate(r.Context(), s.meta(r), authnOf(r.Context()).Principal, chi.URLParam(r, "id"), in.Message))
}

func (s *Server) deadlineReport(w http.ResponseWriter, r *http.Request) {
	rep, err := s.petitions.DueReport(r.Context(), s.meta(r), authnOf(r.Context()).Principal)
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	out := []map[string]any{}
	for _, c := range rep {
		out = append(out, map[string]any{"agency": c.Agency, "overdue": c.Overdue, "due_soon": c.DueSoon})
	}
	writeJSON(w, http.StatusOK, map[string]any{"agencies": out})
}

// rejectReasons publishes the list of reasons a petition may be rejected for.
func (s *Server) rejectReasons(w http.ResponseWriter, r *http.Request) {
	out := []map[string]string{}
	for _, reason := range []petition.RejectReason{petition.OutOfScope, petition.Duplicate, petition.InsufficientInfo, petition.Abusive} {
		t := petition.RejectReasons[reason]
		out = append(out, map[string]string{"code": string(reason), "vi": t[0], "en": t[1]})
	}
	writeJSON(w, http.StatusOK, map[string]any{"reasons": out})
}

// holidays lists a year's days off on the calendar in use.
func (s *Server) holidays(w http.ResponseWriter, r *http.Request) {
	y, err := queryInt(r, "year", int64(deadline.DateOf(s.now()).Year))
	if err == nil && (y < 1976 || y > 2199) {
		err = apperr.New(apperr.Invalid, msg.YearRange)
	}
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	cal := s.petitions.Calendar()
	writeJSON(w, http.StatusOK, map[string]any{"year": y, "calendar_version": cal.Version(), "days_off": cal.Holidays(int(y))})
}
