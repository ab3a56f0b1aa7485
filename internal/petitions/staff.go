package petitions

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/deadline"
	"pakn/internal/guard"
	"pakn/internal/msg"
	"pakn/internal/petition"
	"pakn/internal/reply"
	"pakn/internal/store"
)

// Summary is a petition in a staff list.
type Summary struct {
	ID              string            `json:"id"`
	TrackingCode    string            `json:"tracking_code"`
	State           petition.State    `json:"state"`
	Agency          string            `json:"agency"`
	Category        petition.Category `json:"category"`
	Channel         petition.Channel  `json:"channel"`
	Title           string            `json:"title"`
	ReceivedAt      time.Time         `json:"received_at"`
	NextUpdateDue   deadline.Date     `json:"next_update_due"`
	DeadlineStatus  deadline.Status   `json:"deadline_status,omitempty"`
	WorkingDaysLeft int               `json:"working_days_left"`
	Handler         string            `json:"handler,omitempty"`      // the account handling it
	HandlerName     string            `json:"handler_name,omitempty"` // its name
}

func (s *Service) summary(p *petition.Petition, now time.Time) Summary {
	sm := Summary{ID: p.ID, TrackingCode: p.TrackingCode, State: p.State, Agency: p.Agency, Category: p.Category,
		Channel: p.Channel, Title: p.Title, ReceivedAt: p.ReceivedAt, NextUpdateDue: p.NextUpdateDue, Handler: p.Handler, HandlerName: p.HandlerName}
	if p.State != petition.Rejected && p.State != petition.Closed {
		sm.DeadlineStatus, sm.WorkingDaysLeft = s.cal.StatusAt(p.NextUpdateDue, now)
	}
	return sm
}

// ListQuery filters a staff list.
type ListQuery struct {
	State    petition.State
	Category petition.Category
	DueBy    *deadline.Date // next update due on or before
	Overdue  bool
	DueSoon  bool // due within three working days, not yet overdue
	Open     bool // only petitions whose deadline runs (not rejected or closed)
	Mine     bool // only those the principal handles (accepted or started)
	// ReceivedFrom and ReceivedTo bound the day of receipt (both included).
	ReceivedFrom, ReceivedTo *deadline.Date
	CountCap                 int // count at most this many (0: all), see petition.Filter
	Query                    string
	Limit                    int
	Offset                   int
}

// MaxListLimit is the largest page of a staff list.
const MaxListLimit = 200

// List returns the petitions of the principal's agency matching q.
func (s *Service) List(ctx context.Context, m audit.Meta, p access.Principal, q ListQuery) ([]Summary, int, error) {
	if err := s.guard.Authorize(ctx, m, p, access.PetitionRead, guard.Target{Type: "petition", Agency: p.Agency}); err != nil {
		return nil, 0, err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > MaxListLimit || q.Offset < 0 || q.Offset > 100000 || utf8.RuneCountInString(q.Query) > 200 {
		return nil, 0, apperr.New(apperr.Invalid, msg.InvalidListParameters)
	}
	now := s.now()
	today := deadline.DateOf(now)
	f := petition.Filter{Agency: p.Agency, Category: q.Category, DueBefore: q.DueBy, Query: q.Query, Limit: q.Limit, Offset: q.Offset,
		Open: q.Open, CountCap: q.CountCap, ReceivedFrom: q.ReceivedFrom, ReceivedTo: q.ReceivedTo}
	if q.Mine {
		f.Handler = p.ID
		if f.Handler == "" { // a token handles nothing
			return []Summary{}, 0, nil
		}
	}
	if q.ReceivedFrom != nil && q.ReceivedTo != nil && q.ReceivedTo.Before(*q.ReceivedFrom) {
		return nil, 0, petition.Invalid(petition.Problem("received_to", msg.ReceivedPeriodReversed))
	}
	if q.State != "" {
		f.States = []petition.State{q.State}
	}
	if q.Overdue {
		f.Overdue = &today
	}
	if q.DueSoon {
		soon := s.cal.AddWorkingDays(today, deadline.DueSoonDays)
		if f.DueBefore == nil || soon.Before(*f.DueBefore) {
			f.DueBefore = &soon
		}
		f.DueFrom = &today
		f.Open = true
	}
	list, total, err := s.store.List(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	out := []Summary{}
	for i := range list {
		out = append(out, s.summary(&list[i], now))
	}
	return out, total, nil
}

// Detail is everything staff see of a petition, personal data included.
type Detail struct {
	Summary
	Body         string                    `json:"body"`
	ProcedureRef string                    `json:"procedure_ref,omitempty"`
	LegalRef     string                    `json:"legal_ref,omitempty"`
	Petitioner   petition.Petitioner       `json:"petitioner"`
	EnteredBy    string                    `json:"entered_by,omitempty"`
	RejectReason petition.RejectReason     `json:"reject_reason,omitempty"`
	DuplicateOf  string                    `json:"duplicate_of,omitempty"`
	Allowed      []petition.Transition     `json:"allowed_transitions"`
	Timeline     []petition.Event          `json:"timeline"`
	Attachments  []petition.AttachmentInfo `json:"attachments"`
}

// Missing is the answer to p's action a on an object (of kind, id) that
// does not exist: the refusal p's roles get whether it exists or not, else
// notFound, so existence is never told to a role that may not act (a lapsed
// step-up is "not found" too, as another agency's object would be).
func (s *Service) Missing(ctx context.Context, m audit.Meta, p access.Principal, a access.Action, kind, id string, notFound error) error {
	if err := s.guard.RefuseMissing(ctx, m, p, a, guard.Target{Type: kind, ID: id, Agency: p.Agency}); err != nil {
		return err
	}
	return notFound
}

// ForStaff loads a petition for an action of p; another agency's
// petition is answered exactly as a missing one (the attempt audited), and
// a role that may not take the action is refused whether it exists or not.
func (s *Service) ForStaff(ctx context.Context, m audit.Meta, p access.Principal, a access.Action, id string) (*petition.Stored, error) {
	rec, err := s.store.Petition(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, s.Missing(ctx, m, p, a, "petition", id, errNotFound)
	}
	if err != nil {
		return nil, err
	}
	if err := s.guard.Authorize(ctx, m, p, a, guard.Target{Type: "petition", ID: rec.ID, Agency: rec.Agency}); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return nil, errNotFound
		}
		return nil, err
	}
	return rec, nil
}

// Get returns a petition with the petitioner's personal data, decrypted;
// the reading is audited.
func (s *Service) Get(ctx context.Context, m audit.Meta, p access.Principal, id string) (*Detail, error) {
	return s.detail(ctx, m, p, id, true)
}

// View returns a petition without the petitioner's personal data (not
// decrypted; Detail.Petitioner is empty): what the desk shows until
// someone asks for the petitioner's details. The reading is audited, and
// says the personal data was not read.
func (s *Service) View(ctx context.Context, m audit.Meta, p access.Principal, id string) (*Detail, error) {
	return s.detail(ctx, m, p, id, false)
}

func (s *Service) detail(ctx context.Context, m audit.Meta, p access.Principal, id string, personal bool) (*Detail, error) {
	rec, err := s.ForStaff(ctx, m, p, access.PetitionRead, id)
	if err != nil {
		return nil, err
	}
	who := &petition.Petitioner{}
	if personal {
		if who, err = s.Petitioner(ctx, rec); err != nil {
			return nil, err
		}
	}
	events, err := s.timeline(ctx, &rec.Petition, false)
	if err != nil {
		return nil, err
	}
	atts, err := s.store.Attachments(ctx, rec.ID)
	if err != nil {
		return nil, err
	}
	d := &Detail{Summary: s.summary(&rec.Petition, s.now()), Body: rec.Body, ProcedureRef: rec.ProcedureRef, LegalRef: rec.LegalRef,
		Petitioner: *who, EnteredBy: rec.EnteredBy, RejectReason: rec.RejectReason, DuplicateOf: rec.DuplicateOf,
		Allowed: petition.Allowed(rec.State), Timeline: events, Attachments: atts}
	if d.Allowed == nil {
		d.Allowed = []petition.Transition{}
	}
	if d.Attachments == nil {
		d.Attachments = []petition.AttachmentInfo{}
	}
	var det []byte
	if !personal {
		det = audit.Details(map[string]any{"personal_data": false})
	}
	if err := s.audit.Record(ctx, audit.EventOf(m, p, "petition.view", "petition", rec.ID, audit.Success, det)); err != nil {
		return nil, err
	}
	return d, nil
}

// Permitted lists the transitions of d's petition that p may take: those
// its state allows and p's roles may take (a step-up may still be asked
// for). Nothing is audited: it says which buttons to offer; pressing one
// goes through Transition.
func (s *Service) Permitted(p access.Principal, d *Detail) []petition.Transition {
	var out []petition.Transition
	for _, t := range d.Allowed {
		if a, ok := ActionFor(t); ok && s.guard.Allows(p, a, guard.Target{Type: "petition", ID: d.ID, Agency: d.Agency}) {
			out = append(out, t)
		}
	}
	return out
}

// May reports whether p may take action a on a petition (or reply) of
// agency, now or after a step-up; StepUpFirst whether a code must come
// first. Nothing is audited: they say what a page offers.
func (s *Service) May(p access.Principal, a access.Action, agency string) bool {
	return s.guard.Allows(p, a, guard.Target{Type: "petition", Agency: agency})
}

// StepUpFirst reports whether p must enter a fresh code before taking
// action a on a petition (or reply) of agency.
func (s *Service) StepUpFirst(p access.Principal, a access.Action, agency string) bool {
	return s.guard.NeedsStepUp(p, a, guard.Target{Type: "petition", Agency: agency})
}

// MayPostUpdate reports whether p may post a public update on d's
// petition: its deadline runs and p may handle it.
func (s *Service) MayPostUpdate(p access.Principal, d *Detail) bool {
	return d.DeadlineStatus != "" && s.guard.Allows(p, access.PetitionHandle, guard.Target{Type: "petition", ID: d.ID, Agency: d.Agency})
}

// Petitioner opens a petition's sealed personal data.
func (s *Service) Petitioner(ctx context.Context, rec *petition.Stored) (*petition.Petitioner, error) {
	plain, err := s.box.Open(ctx, rec.ID, rec.PetitionerEnc)
	if err != nil {
		return nil, err
	}
	var who petition.Petitioner
	if err := json.Unmarshal(plain, &who); err != nil {
		return nil, err
	}
	return &who, nil
}

// Attachment returns one attachment's description and a function that
// writes its content, chunk by chunk as it is read from the database; the
// reading is audited before anything is returned.
func (s *Service) Attachment(ctx context.Context, m audit.Meta, p access.Principal, id, attID string) (*petition.AttachmentInfo, func(io.Writer) error, error) {
	rec, err := s.ForStaff(ctx, m, p, access.PetitionRead, id)
	if err != nil {
		return nil, nil, err
	}
	info, err := s.store.Attachment(ctx, rec.ID, attID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, apperr.New(apperr.NotFound, msg.NoSuchAttachment)
	}
	if err != nil {
		return nil, nil, err
	}
	err = s.audit.Record(ctx, audit.EventOf(m, p, "petition.attachment_read", "petition", rec.ID, audit.Success,
		audit.Details(map[string]any{"attachment": info.ID, "sha256": info.SHA256})))
	if err != nil {
		return nil, nil, err
	}
	return info, func(w io.Writer) error { return s.store.CopyAttachment(ctx, info.ID, w) }, nil
}

// TransitionInput carries what a transition needs.
type TransitionInput struct {
	Agency      string                // accept (reassign), transfer (required)
	Category    petition.Category     // accept (reclassify)
	Reason      petition.RejectReason // reject
	DuplicateOf string                // reject as duplicate
	Note        string                // comment, transfer reason, public message
	Reply       *reply.Content        // draft_reply
}

// ActionFor says which permission a transition needs.
func ActionFor(t petition.Transition) (access.Action, bool) {
	switch t {
	case petition.Accept, petition.Reject, petition.Start, petition.Transfer, petition.DraftReply, petition.Publish, petition.Close:
		return access.PetitionHandle, true
	case petition.ApproveReply, petition.SendBack:
		return access.PetitionReview, true
	case petition.SignReply:
		return access.PetitionSign, true
	}
	return "", false
}

// Transition moves a petition. An impossible transition answers 409 with
// the current state and the transitions allowed from it.
func (s *Service) Transition(ctx context.Context, m audit.Meta, p access.Principal, id string, t petition.Transition, in TransitionInput) error {
	a, known := ActionFor(t)
	if !known {
		a = access.PetitionHandle // authorise first: an outsider learns nothing from validation
	}
	if _, err := s.ForStaff(ctx, m, p, a, id); err != nil {
		return err
	}
	// The reply's steps are internal/replies': a petition alone does not know them.
	if !known || petition.ReplyStep(t) {
		return petition.FieldsError(apperr.Invalid, msg.UnknownTransition, []petition.FieldError{petition.Problem("transition", msg.UnknownTransition)})
	}
	return s.move(ctx, m, p, id, t, in)
}

const maxNote = 2000

// move takes petition id through transition t in one transaction, with its
// audit event.
func (s *Service) move(ctx context.Context, m audit.Meta, p access.Principal, id string, t petition.Transition, in TransitionInput) error {
	in.Note = strings.TrimSpace(in.Note)
	if utf8.RuneCountInString(in.Note) > maxNote {
		return petition.Invalid(petition.Problem("note", msg.NoteTooLong))
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.Lock(ctx, p, id) // it may have moved to another agency meanwhile
		if err != nil {
			return err
		}
		from, fromAgency := rec.State, rec.Agency
		if err := s.Advance(ctx, p, rec, t, in, s.now()); err != nil {
			return err
		}
		det := map[string]any{"from": from, "to": rec.State}
		if rec.Agency != fromAgency {
			det["from_agency"], det["to_agency"] = fromAgency, rec.Agency
		}
		if in.Reason != "" {
			det["reason"] = in.Reason
		}
		return s.audit.Append(ctx, audit.EventOf(m, p, "petition."+string(t), "petition", rec.ID, audit.Success, audit.Details(det)))
	})
}

// Advance moves a locked petition by transition t inside the transaction
// ctx carries: it checks t is allowed from the petition's state, applies
// what t changes besides the state (changesOf), and records the step on
// the timeline. It is the one place a petition's state changes; move and
// the reply steps call it.
func (s *Service) Advance(ctx context.Context, p access.Principal, pet *petition.Stored, t petition.Transition, in TransitionInput, now time.Time) error {
	next, ok := petition.Next(pet.State, t)
	if !ok {
		return StateConflict(pet.State, t)
	}
	from, fromAgency := pet.State, pet.Agency
	if err := s.changesOf(ctx, &pet.Petition, t, in, now); err != nil {
		return err
	}
	pet.State, pet.UpdatedAt = next, now
	switch {
	case pet.Agency != fromAgency: // transferred, or accepted for another agency
		pet.Handler = "" // that agency's officials take it on
	case (t == petition.Accept || t == petition.Start) && p.Kind == access.Staff:
		pet.Handler = p.ID // who takes it on handles it
	}
	if petition.PublicUpdate(t) {
		pet.LastPublicUpdate = now
		pet.NextUpdateDue = s.cal.NextPublicUpdate(now)
	}
	if err := s.store.Update(ctx, &pet.Petition); err != nil {
		return err
	}
	note := in.Note
	if t == petition.Reject {
		note = petition.RejectReasons[in.Reason][0]
		if in.Note != "" {
			note += ": " + in.Note
		}
	}
	return s.store.AddEvent(ctx, pet.ID, petition.Event{At: now, Kind: string(t), FromState: from, ToState: next, FromAgency: fromAgency,
		ToAgency: pet.Agency, Actor: audit.ActorOf(p), Public: petition.PublicUpdate(t) || t == petition.Transfer, Note: note})
}

// changesOf checks and applies to pet what transition t changes besides
// its state.
func (s *Service) changesOf(ctx context.Context, pet *petition.Petition, t petition.Transition, in TransitionInput, now time.Time) error {
	bad := func(field string, k msg.Key) error { return petition.Invalid(petition.Problem(field, k)) }
	agencyOK := func(code string) (bool, error) { return s.agency.Exists(ctx, code) }
	switch t {
	case petition.Accept:
		if in.Category != "" {
			valid := false
			for _, c := range petition.Categories {
				valid = valid || c == in.Category
			}
			if !valid {
				return bad("category", msg.UnknownCategory)
			}
			pet.Category = in.Category
		}
		if in.Agency != "" && in.Agency != pet.Agency {
			ok, err := agencyOK(in.Agency)
			if err != nil {
				return err
			}
			if !ok {
				return bad("agency", msg.NoSuchAgency)
			}
			pet.Agency = in.Agency
		}
	case petition.Reject:
		if _, ok := petition.RejectReasons[in.Reason]; !ok {
			return bad("reason", msg.ChooseRejectReason)
		}
		pet.RejectReason = in.Reason
		if in.Reason == petition.Duplicate {
			code, ok := petition.NormalizeTrackingCode(in.DuplicateOf)
			exists := false
			if ok && code != pet.TrackingCode {
				var err error
				if exists, err = s.store.Exists(ctx, code); err != nil {
					return err
				}
			}
			if !exists {
				return bad("duplicate_of", msg.GiveDuplicateOf)
			}
			pet.DuplicateOf = code
		}
	case petition.Transfer:
		if in.Agency == "" || in.Agency == pet.Agency {
			return bad("agency", msg.ChooseTransferAgency)
		}
		ok, err := agencyOK(in.Agency)
		if err != nil {
			return err
		}
		if !ok {
			return bad("agency", msg.NoSuchAgency)
		}
		if in.Note == "" {
			return bad("note", msg.GiveTransferReason)
		}
		pet.Agency = in.Agency
	case petition.SendBack:
		if in.Note == "" {
			return bad("note", msg.SayWhySentBack)
		}
	case petition.Close:
		pet.ClosedAt = now
	case petition.Reopen:
		if !petition.CanReopen(pet.ClosedAt, pet.ReopenCount, now) {
			return apperr.New(apperr.Conflict, msg.ReopenOnceWithin30Days)
		}
		pet.ReopenCount++
	}
	return nil
}

// PostUpdate publishes a status message to the petitioner, which restarts
// the 20-working-day clock.
func (s *Service) PostUpdate(ctx context.Context, m audit.Meta, p access.Principal, id, message string) error {
	if _, err := s.ForStaff(ctx, m, p, access.PetitionHandle, id); err != nil {
		return err
	}
	message = strings.TrimSpace(message)
	if n := utf8.RuneCountInString(message); n < 5 || n > maxNote {
		return petition.Invalid(petition.Problem("message", msg.MessageLength))
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		rec, err := s.Lock(ctx, p, id)
		if err != nil {
			return err
		}
		if rec.State == petition.Rejected || rec.State == petition.Closed {
			return apperr.New(apperr.Conflict, msg.PetitionFinished)
		}
		now := s.now()
		pet := rec.Petition
		pet.LastPublicUpdate, pet.NextUpdateDue, pet.UpdatedAt = now, s.cal.NextPublicUpdate(now), now
		if err := s.store.Update(ctx, &pet); err != nil {
			return err
		}
		if err := s.store.AddEvent(ctx, pet.ID, petition.Event{At: now, Kind: "public_update", FromState: pet.State, ToState: pet.State,
			ToAgency: pet.Agency, Actor: audit.ActorOf(p), Public: true, Note: message}); err != nil {
			return err
		}
		return s.audit.Append(ctx, audit.EventOf(m, p, "petition.public_update", "petition", pet.ID, audit.Success,
			audit.Details(map[string]any{"next_update_due": pet.NextUpdateDue})))
	})
}

// QueueCounts counts the open petitions of the principal's agency:
// overdue, due soon and all, each up to upTo+1 (beyond upTo, "more than
// upTo": a large agency's petitions are not counted one by one).
func (s *Service) QueueCounts(ctx context.Context, m audit.Meta, p access.Principal, upTo int) (petition.QueueCounts, error) {
	if err := s.guard.Authorize(ctx, m, p, access.PetitionRead, guard.Target{Type: "petition", Agency: p.Agency}); err != nil {
		return petition.QueueCounts{}, err
	}
	today := deadline.DateOf(s.now())
	return s.store.QueueCounts(ctx, p.Agency, today, s.cal.AddWorkingDays(today, deadline.DueSoonDays), upTo)
}

// DueReport counts overdue and due-soon petitions of the principal's agency
// and of every agency below it.
func (s *Service) DueReport(ctx context.Context, m audit.Meta, p access.Principal) ([]petition.DueCount, error) {
	if err := s.guard.Authorize(ctx, m, p, access.ReportRead, guard.Target{Type: "report", Agency: p.Agency}); err != nil {
		return nil, err
	}
	agencies, err := s.agency.Subtree(ctx, p.Agency)
	if err != nil {
		return nil, err
	}
	today := deadline.DateOf(s.now())
	return s.store.DueCounts(ctx, agencies, today, s.cal.AddWorkingDays(today, deadline.DueSoonDays))
}

// StateConflict is the Conflict error of transition t refused in state
// state, with the state and the transitions it allows.
func StateConflict(state petition.State, t petition.Transition) error {
	allowed := petition.Allowed(state)
	if allowed == nil {
		allowed = []petition.Transition{}
	}
	e := apperr.New(apperr.Conflict, msg.CannotInState, t, state)
	e.Extra = map[string]any{"state": state, "allowed_transitions": allowed}
	return e
}

// Lock loads and locks the petition in tx, checking it is still
// the principal's agency's.
func (s *Service) Lock(ctx context.Context, p access.Principal, id string) (*petition.Stored, error) {
	pet, err := s.store.LockPetition(ctx, id)
	if err != nil {
		return nil, err
	}
	if p.Kind == access.Staff && pet.Agency != p.Agency {
		return nil, errNotFound
	}
	return pet, nil
}
