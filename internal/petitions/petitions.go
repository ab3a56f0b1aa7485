// Package petitions is the petitions service, from receipt to closing: it
// receives petitions (idempotently, with attachments, personal data sealed
// by Vault), lets the petitioner follow and reopen them with tracking code
// and secret, and lets staff list, search, read and move them through
// their lifecycle on the working-day calendar. Each action commits with its
// audit event; each staff action passes the access policy. A petition's
// reply is internal/replies', which moves the petition through Advance.
package petitions

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"pakn/internal/access"
	"pakn/internal/agency"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/deadline"
	"pakn/internal/guard"
	"pakn/internal/msg"
	"pakn/internal/petition"
	"pakn/internal/reply"
	"pakn/internal/store"
)

// Service is the petitions service.
type Service struct {
	tx       store.Tx
	store    store.Petitions
	audit    store.Audit
	agency   store.Agencies
	guard    *guard.Guard
	box      store.Sealer
	cal      *deadline.Calendar
	routing  petition.Routing
	now      func() time.Time
	intake   intake
	agencies agencyCache
}

// agencyCache keeps the agency codes and the routing (from the
// directory, pakn agency import); they change rarely, and a submission
// should not wait for them.
type agencyCache struct {
	mu      sync.Mutex
	known   map[string]bool
	routing petition.Routing
	fetched time.Time
}

// agencyCacheTTL is how long the cached directory is used.
const agencyCacheTTL = time.Minute

// directory returns the known agency codes and the routing: the
// configured routing when there is one, else the directory's.
func (c *agencyCache) directory(ctx context.Context, s *Service) (map[string]bool, petition.Routing, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known != nil && time.Since(c.fetched) < agencyCacheTTL {
		return c.known, c.routing, nil
	}
	all, err := s.agency.List(ctx)
	if err != nil {
		return nil, petition.Routing{}, apperr.Wrap(err, apperr.Unavailable, "agencies", msg.DatabaseUnavailable)
	}
	routing := s.routing
	if routing.Default == "" {
		m, err := s.agency.Routing(ctx)
		if err != nil {
			return nil, petition.Routing{}, apperr.Wrap(err, apperr.Unavailable, "routing", msg.DatabaseUnavailable)
		}
		routing = petition.Routing{Default: m[agency.DefaultCategory], ByCategory: map[petition.Category]string{}}
		for cat, code := range m {
			if cat != agency.DefaultCategory {
				routing.ByCategory[petition.Category(cat)] = code
			}
		}
	}
	if routing.Default == "" {
		return nil, petition.Routing{}, apperr.Wrap(errors.New("no routing: run pakn agency import"), apperr.Unavailable, "routing", msg.NoRouting)
	}
	c.known = map[string]bool{}
	for _, a := range all {
		c.known[a.Code] = true
	}
	c.routing, c.fetched = routing, time.Now()
	return c.known, c.routing, nil
}

// Config holds the Service's dependencies.
type Config struct {
	Stores   store.Set    // Tx, Audit, Agencies and Petitions are used
	Box      store.Sealer // personal data (internal/vault.EnvelopeBox: data keys under the Transit key pakn-pii)
	Calendar *deadline.Calendar
	Routing  petition.Routing // fixed routing; when not set, the directory's
	Now      func() time.Time
	Guard    *guard.Guard
	// QueueBytes bounds the submissions admitted and not yet written, in
	// bytes of content and attachments (DefaultQueueBytes when zero).
	QueueBytes int64
}

// New returns the petitions service. Stores, Box and Guard are required:
// it builds none of its collaborators. Now and Calendar default to the
// clock and the built-in calendar; Routing, when not set, is the
// directory's (pakn agency import).
func New(c Config) (*Service, error) {
	st := c.Stores
	need := st.Given("Tx", "Audit", "Agencies", "Petitions")
	need["Box"], need["Guard"] = c.Box != nil, c.Guard != nil
	if err := store.Missing("petitions", need); err != nil {
		return nil, err
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Calendar == nil {
		c.Calendar = deadline.NewCalendar(deadline.DefaultCalendarFile())
	}
	s := &Service{tx: st.Tx, store: st.Petitions, audit: st.Audit, agency: st.Agencies, guard: c.Guard, box: c.Box,
		cal: c.Calendar, routing: c.Routing, now: c.Now,
		intake: intake{maxBytes: c.QueueBytes, files: make(chan struct{}, maxFileWriters)}}
	return s, nil
}

// Calendar returns the working-day calendar in use.
func (s *Service) Calendar() *deadline.Calendar { return s.cal }

var errNotFound = apperr.New(apperr.NotFound, msg.NoSuchPetition)

// FileIn is an uploaded file: its name as sent and its content, read where
// it lies (a spooled upload, or memory).
type FileIn struct {
	Name    string
	Content petition.Content
}

// Receipt is what a petitioner gets back: keep both the code and the secret.
type Receipt struct {
	TrackingCode  string        `json:"tracking_code"`
	LookupSecret  string        `json:"lookup_secret"`
	ReceivedAt    time.Time     `json:"received_at"`
	Agency        string        `json:"agency"`
	NextUpdateDue deadline.Date `json:"next_update_due"`
	Replayed      bool          `json:"-"` // the answer to an earlier request with the same Idempotency-Key
}

// MaxIdempotencyKey bounds the Idempotency-Key header.
const MaxIdempotencyKey = 200

// Submit receives a petition. The petitioner submits it online (anonymous);
// an official enters one for someone who came in, phoned or wrote (with the
// channel, and recorded as the one who entered it). With an idempotency
// key, a retried request returns the first answer and never creates a
// second petition; the same key with a different request is refused.
func (s *Service) Submit(ctx context.Context, m audit.Meta, p access.Principal, key string, sub petition.Submission, files []FileIn) (*Receipt, error) {
	if err := s.mayEnter(ctx, m, p, sub.Channel); err != nil {
		return nil, err
	}
	if len(key) > MaxIdempotencyKey {
		return nil, apperr.New(apperr.Invalid, msg.IdempotencyKeyTooLong)
	}
	if key != "" {
		key = callersKey(m, p, key)
	}
	fes := sub.Normalize()
	if len(files) > petition.MaxAttachments {
		fes = append(fes, petition.Problem("attachments", msg.AtMostFiveAttachments))
	}
	if len(fes) > 0 {
		return nil, petition.Invalid(fes...)
	}
	atts, err := attachments(files)
	if err != nil {
		return nil, err
	}
	var hash []byte
	if key != "" {
		hash = requestHash(&sub, atts)
	}
	j, err := s.newJob(ctx, m, p, sub, atts)
	if err != nil {
		return nil, err
	}
	j.key, j.hash = key, hash
	if err := s.intake.submit(s, j); err != nil {
		return nil, err
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		if len(files) > 0 {
			// Its writer stops with ctx; the caller frees the files once nothing reads them.
			<-j.done
		}
		return nil, apperr.Wrap(ctx.Err(), apperr.Unavailable, "submit", msg.SubmitTimedOut)
	}
	if j.err != nil && ctx.Err() != nil {
		// The job was dropped because the client went away, and the select
		// saw it done first: the same answer as above, not an internal error.
		return nil, apperr.Wrap(ctx.Err(), apperr.Unavailable, "submit", msg.SubmitTimedOut)
	}
	if j.err != nil {
		return nil, j.err
	}
	if j.replay {
		prev, err := s.store.ReadKey(ctx, key)
		if err != nil {
			return nil, err
		}
		return s.replay(ctx, key, hash, prev)
	}
	return j.receipt, nil
}

// callersKey is an idempotency key as stored: the caller's own (a member of
// staff's account, or an anonymous caller's client address), so another
// caller reusing it never replays the first answer and its lookup secret.
// A citizen who retries from another network submits anew.
func callersKey(m audit.Meta, p access.Principal, key string) string {
	who := "client:" + m.ClientHash
	if p.Kind == access.Staff {
		who = "account:" + p.ID
	}
	sum := sha256.Sum256([]byte("pakn idempotency key\x00" + who + "\x00" + key))
	return hex.EncodeToString(sum[:])
}

// mayEnter checks who may submit through which channel: staff enter
// petitions received in person, by phone or by post; petitioners submit
// online.
func (s *Service) mayEnter(ctx context.Context, m audit.Meta, p access.Principal, ch petition.Channel) error {
	switch p.Kind {
	case access.Staff:
		if err := s.guard.Authorize(ctx, m, p, access.PetitionEnter, guard.Target{Type: "petition", Agency: p.Agency}); err != nil {
			return err
		}
		if ch == "" || ch == petition.Online {
			return petition.Invalid(petition.Problem("channel", msg.StaffEntryNeedsChannel))
		}
	case access.Anonymous:
		if ch != "" && ch != petition.Online {
			return petition.Invalid(petition.Problem("channel", msg.PetitionersSubmitOnline))
		}
	default:
		return apperr.New(apperr.Forbidden, msg.SubmitNotAllowed)
	}
	return nil
}

// attachments recognises each file by its content and hashes it; the
// first file refused gives the answer (413 too large, 422 empty, 415 of
// a type not accepted).
func attachments(files []FileIn) ([]*petition.Attachment, error) {
	var atts []*petition.Attachment
	for i, f := range files {
		a, fe := petition.NewAttachment(fmt.Sprintf("attachments[%d]", i), f.Name, f.Content)
		if fe != nil {
			code := apperr.UnsupportedMedia
			if f.Content.Size() > petition.MaxAttachmentSize {
				code = apperr.TooLarge
			} else if f.Content.Size() == 0 {
				code = apperr.Invalid
			}
			return nil, petition.FieldsError(code, fe.Key, []petition.FieldError{*fe}, fe.Args...)
		}
		atts = append(atts, a)
	}
	return atts, nil
}

// newJob builds the record of a valid submission, routed, with its
// deadline and a fresh tracking code, as a job for the writers.
func (s *Service) newJob(ctx context.Context, m audit.Meta, p access.Principal, sub petition.Submission, atts []*petition.Attachment) (*job, error) {
	known, routing, err := s.agencies.directory(ctx, s)
	if err != nil {
		return nil, err
	}
	agency := routing.Route(&sub, func(code string) bool { return known[code] })
	now := s.now()
	id, err := petition.NewID(now)
	if err != nil {
		return nil, err
	}
	personal, _ := json.Marshal(sub.Petitioner)
	enteredBy := ""
	if p.Kind == access.Staff {
		enteredBy = p.ID
	}
	size := int64(jobOverhead + len(personal) + len(sub.Title) + len(sub.Body) + len(sub.ProcedureRef) + len(sub.LegalRef))
	for _, a := range atts {
		size += a.Size
	}
	j := &job{ctx: ctx, size: size, m: m, p: p, personal: personal, atts: atts, done: make(chan struct{}),
		rec: &petition.Stored{Petition: petition.Petition{
			ID: id, State: petition.Received, Agency: agency, Category: sub.Category, PetitionerKind: sub.Petitioner.Kind,
			Title: sub.Title, Body: sub.Body, ProcedureRef: sub.ProcedureRef, LegalRef: sub.LegalRef, Channel: sub.Channel,
			EnteredBy: enteredBy, ReceivedAt: now, LastPublicUpdate: now, NextUpdateDue: s.cal.NextPublicUpdate(now), UpdatedAt: now,
		}}}
	if err := j.draw(); err != nil {
		return nil, err
	}
	return j, nil
}

func (s *Service) replay(ctx context.Context, key string, hash []byte, prev *petition.IdempotencyRecord) (*Receipt, error) {
	if !bytes.Equal(prev.RequestHash, hash) {
		return nil, apperr.New(apperr.Conflict, msg.IdempotencyKeyReused)
	}
	if prev.ResponseEnc == "" {
		return nil, apperr.New(apperr.Conflict, msg.IdempotencyKeyPending)
	}
	b, err := s.box.Open(ctx, "idempotency:"+key, prev.ResponseEnc)
	if err != nil {
		return nil, err
	}
	var r Receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, err
	}
	r.Replayed = true
	return &r, nil
}

// requestHash identifies a submission's content for idempotency checks.
func requestHash(sub *petition.Submission, atts []*petition.Attachment) []byte {
	h := sha256.New()
	b, _ := json.Marshal(sub)
	h.Write(b)
	for _, a := range atts {
		fmt.Fprintf(h, "\x00%s\x00%s", a.Name, a.SHA256)
	}
	return h.Sum(nil)
}

// PublicEvent is a timeline entry the petitioner sees.
type PublicEvent struct {
	At      time.Time `json:"at"`
	Kind    string    `json:"kind"`
	State   string    `json:"state,omitempty"`
	Agency  string    `json:"agency,omitempty"`
	Message string    `json:"message,omitempty"`
}

// PublicView is what the petitioner sees with code and secret: no personal data.
type PublicView struct {
	TrackingCode   string            `json:"tracking_code"`
	State          petition.State    `json:"state"`
	Agency         string            `json:"agency"`
	Category       petition.Category `json:"category"`
	Title          string            `json:"title"`
	ReceivedAt     time.Time         `json:"received_at"`
	NextUpdateDue  deadline.Date     `json:"next_update_due"`
	DeadlineStatus deadline.Status   `json:"deadline_status"`
	CanReopen      bool              `json:"can_reopen"`
	Timeline       []PublicEvent     `json:"timeline"`
	Reply          *IssuedReply      `json:"reply,omitempty"` // the current signed reply, once there is one
}

// IssuedReply is what the petitioner's view says of the current signed
// reply: enough to download it and to check it in the register.
type IssuedReply struct {
	ID        string    `json:"id"`
	Number    string    `json:"number"`
	ShortCode string    `json:"short_code"`
	SignedAt  time.Time `json:"signed_at"`
}

// timeline returns a petition's timeline: its receipt, which the petition
// row itself records (time, first agency, who entered it), then the stored
// events.
func (s *Service) timeline(ctx context.Context, p *petition.Petition, publicOnly bool) ([]petition.Event, error) {
	events, err := s.store.Events(ctx, p.ID, publicOnly)
	if err != nil {
		return nil, err
	}
	return withReceipt(p, events), nil
}

// withReceipt is p's stored events after the event of its receipt.
func withReceipt(p *petition.Petition, events []petition.Event) []petition.Event {
	first := firstAgency(events, p.Agency)
	actor := "anonymous"
	if p.EnteredBy != "" {
		actor = "account:" + p.EnteredBy
	}
	received := petition.Event{At: p.ReceivedAt, Kind: "received", ToState: petition.Received, ToAgency: first, Actor: actor, Public: true}
	return append([]petition.Event{received}, events...)
}

// ByPetitioner finds a petition by code and lookup secret. Any
// mismatch, of form, code or secret, gives the same answer, and is audited.
func (s *Service) ByPetitioner(ctx context.Context, m audit.Meta, code, secret, action string) (*petition.Stored, error) {
	var rec *petition.Stored
	if norm, ok := lookupCode(code, secret); ok {
		r, err := s.store.PetitionByCode(ctx, norm)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		rec = r
	}
	return rec, s.proven(ctx, m, rec, secret, action)
}

// lookupCode is code normalised, and whether code and secret are of a
// form worth looking up.
func lookupCode(code, secret string) (string, bool) {
	norm, ok := petition.NormalizeTrackingCode(code)
	return norm, ok && len(secret) <= 64
}

// proven checks that secret is rec's lookup secret (rec nil: no petition
// has the code given), and audits the refusal when it is not.
func (s *Service) proven(ctx context.Context, m audit.Meta, rec *petition.Stored, secret, action string) error {
	given := petition.HashLookupSecret(secret)
	if rec != nil && subtle.ConstantTimeCompare(rec.LookupHash, given) == 1 {
		return nil
	}
	objID := ""
	if rec != nil {
		objID = rec.ID
	}
	err := s.audit.Record(ctx, audit.EventOf(m, access.Principal{Kind: access.Anonymous}, action, "petition", objID, audit.Denied,
		audit.Details(map[string]any{"reason": "unknown code or wrong secret"})))
	if err != nil {
		return err
	}
	return apperr.New(apperr.NotFound, msg.WrongTrackingCodeOrSecret)
}

// firstAgency is the agency that received a petition now at agency, given
// its stored timeline: the agency of its first move, or agency when it
// never moved.
func firstAgency(events []petition.Event, agency string) string {
	for _, e := range events {
		if e.FromAgency != "" {
			return e.FromAgency
		}
	}
	return agency
}

// ReceivingAgency is the agency that received rec (before any transfer).
func (s *Service) ReceivingAgency(ctx context.Context, rec *petition.Stored) (string, error) {
	events, err := s.store.Events(ctx, rec.ID, false)
	if err != nil {
		return "", err
	}
	return firstAgency(events, rec.Agency), nil
}

// FirstUpdateDue is the date by which rec's first public status or result
// was due, as its receipt states: 20 working days from its receipt.
func (s *Service) FirstUpdateDue(rec *petition.Stored) deadline.Date {
	return s.cal.NextPublicUpdate(rec.ReceivedAt)
}

// ReceiptAgain gives whoever holds a petition's code and secret its
// receipt as first shown (in another language, say): the codes, the time
// of receipt, the receiving agency and the first due date. It is a lookup,
// audited as "petition.receipt" (a wrong code or secret as any other).
func (s *Service) ReceiptAgain(ctx context.Context, m audit.Meta, code, secret string) (*Receipt, error) {
	rec, err := s.ByPetitioner(ctx, m, code, secret, "petition.receipt")
	if err != nil {
		return nil, err
	}
	receiving, err := s.ReceivingAgency(ctx, rec)
	if err != nil {
		return nil, err
	}
	err = s.audit.Record(ctx, audit.EventOf(m, access.Principal{Kind: access.Anonymous}, "petition.receipt", "petition", rec.ID, audit.Success, nil))
	if err != nil {
		return nil, err
	}
	return &Receipt{TrackingCode: rec.TrackingCode, LookupSecret: secret, ReceivedAt: rec.ReceivedAt, Agency: receiving,
		NextUpdateDue: s.FirstUpdateDue(rec)}, nil
}

// Lookup returns the public view of a petition, with its current signed
// reply once there is one, to whoever holds its code and secret. It is
// read in one round trip (store.Petitions.Tracked).
func (s *Service) Lookup(ctx context.Context, m audit.Meta, code, secret string) (*PublicView, error) {
	t := &store.Tracked{}
	if norm, ok := lookupCode(code, secret); ok {
		found, err := s.store.Tracked(ctx, norm)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if found != nil {
			t = found
		}
	}
	if err := s.proven(ctx, m, t.Petition, secret, "petition.lookup"); err != nil {
		return nil, err
	}
	rec := t.Petition
	now := s.now()
	v := &PublicView{TrackingCode: rec.TrackingCode, State: rec.State, Agency: rec.Agency, Category: rec.Category, Title: rec.Title,
		ReceivedAt: rec.ReceivedAt, NextUpdateDue: rec.NextUpdateDue, Timeline: []PublicEvent{},
		CanReopen: rec.State == petition.Closed && petition.CanReopen(rec.ClosedAt, rec.ReopenCount, now)}
	v.DeadlineStatus, _ = s.cal.StatusAt(rec.NextUpdateDue, now)
	if rec.State == petition.Rejected || rec.State == petition.Published || rec.State == petition.Closed {
		v.DeadlineStatus = "" // the answer is given: no update is due
	}
	for _, e := range withReceipt(&rec.Petition, t.Events) {
		v.Timeline = append(v.Timeline, PublicEvent{At: e.At, Kind: e.Kind, State: string(e.ToState), Agency: e.ToAgency, Message: e.Note})
	}
	if r := t.Reply; r != nil {
		v.Reply = &IssuedReply{ID: r.ID, Number: r.Number, ShortCode: reply.ShortCode(r.ID), SignedAt: r.SignedAt}
	}
	err := s.audit.Record(ctx, audit.EventOf(m, access.Principal{Kind: access.Anonymous}, "petition.lookup", "petition", rec.ID, audit.Success, nil))
	return v, err
}

// Reopen lets the petitioner reopen a closed petition once, within 30 days.
func (s *Service) Reopen(ctx context.Context, m audit.Meta, code, secret, reason string) error {
	rec, err := s.ByPetitioner(ctx, m, code, secret, "petition.reopen")
	if err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if n := len([]rune(reason)); n < 10 || n > 2000 {
		return petition.Invalid(petition.Problem("reason", msg.ReopenReasonLength))
	}
	return s.move(ctx, m, access.Principal{Kind: access.Anonymous, Name: "petitioner"}, rec.ID, petition.Reopen, TransitionInput{Note: reason})
}
