package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/deadline"
	"pakn/internal/identity"
	"pakn/internal/msg"
	"pakn/internal/petition"
	"pakn/internal/petitions"
)

// queuePageSize is how many petitions a page of the queue lists.
const queuePageSize = 25

// queueData is the queue page's: the counts by deadline, the filters and
// one page of petitions, made ready to print.
type queueData struct {
	Query                    url.Values
	Overdue, DueSoon, OnTime string // counted up to queueCountCap ("1000+" beyond)
	Due                      string // "", "overdue" or "soon": the group shown
	Rows                     []queueRow
	Total, Page, Last        int
	More                     bool // more than queueCountCap petitions: Total is a lower bound
	States, Categories       []option
	Mine                     bool // only those the viewer handles
	NotForRoles              bool // the viewer's roles handle no petitions (an administrator, an auditor)
}

// queueFields are the queue's filters, in its links and forms.
var queueFields = []string{"q", "state", "category", "due", "received_from", "received_to", "mine"}

// receivedPeriod reads the filter of the day of receipt: received_from and
// received_to, as a date field sends them (YYYY-MM-DD) or as typed
// (day/month/year); either may be empty.
func receivedPeriod(u url.Values) (from, to *deadline.Date, err error) {
	day := func(name string) (*deadline.Date, error) {
		s := strings.TrimSpace(u.Get(name))
		if s == "" {
			return nil, nil
		}
		d, err := deadline.ParseDate(s)
		if err != nil { // typed by hand where a browser has no date field
			t, err2 := time.ParseInLocation("2/1/2006", s, deadline.ICT)
			if err2 != nil {
				return nil, petition.Invalid(petition.Problem(name, msg.DeskDateInvalid))
			}
			d = deadline.DateOf(t)
		}
		return &d, nil
	}
	if from, err = day("received_from"); err == nil {
		to, err = day("received_to")
	}
	return from, to, err
}

// queueCountCap is how far the queue counts: a large agency's petitions
// are not counted one by one for every page (see petition.Filter.CountCap).
const queueCountCap = 1000

// countText writes a count made with queueCountCap.
func countText(n int) string {
	if n > queueCountCap {
		return strconv.Itoa(queueCountCap) + "+"
	}
	return strconv.Itoa(n)
}

// queueRow is one petition of the queue.
type queueRow struct {
	ID, Code, Title, State, Category, Received, Due, Status string
	Class                                                   string // overdue, soon or ok
	DaysLeft                                                int
}

// Queue lists the agency's petitions: counts by deadline status, filters,
// search and paging.
func (s *Site) Queue(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	u := r.URL.Query()
	if r.Method == http.MethodPost { // a search: its words may be personal, so they travel in the body, never the URL
		u = url.Values{}
		for _, k := range append(queueFields, "page") {
			if v := r.PostFormValue(k); v != "" {
				u.Set(k, v)
			}
		}
	}
	d := &queueData{Query: u, Due: u.Get("due"), Page: 1}
	v := s.deskView(w, r, a, msg.DeskQueueTitle, d)
	if !s.petitions.May(a.Principal, access.PetitionRead, a.Principal.Agency) {
		d.NotForRoles = true // said plainly, rather than refused (and logged as a denial) at every sign-in
		s.render(w, r, http.StatusOK, "desk_queue", v)
		return
	}
	if p, err := strconv.Atoi(u.Get("page")); err == nil && p > 1 && p <= 4000 {
		d.Page = p
	}
	q := petitions.ListQuery{State: petition.State(u.Get("state")), Category: petition.Category(u.Get("category")),
		Query: strings.TrimSpace(u.Get("q")), Limit: queuePageSize, Offset: (d.Page - 1) * queuePageSize, CountCap: queueCountCap,
		Mine: u.Get("mine") == "1"}
	d.States = stateOptions(v, q.State)
	d.Categories = categoryOptions(v, q.Category)
	d.Mine = q.Mine
	ctx, m := r.Context(), s.edge.Meta(r)
	var err error
	if q.ReceivedFrom, q.ReceivedTo, err = receivedPeriod(u); err != nil {
		v.Errors = problems(err, v.Lang)
		s.render(w, r, s.fault(r, err), "desk_queue", v)
		return
	}
	counts, err := s.petitions.QueueCounts(ctx, m, a.Principal, queueCountCap)
	var list []petitions.Summary
	if err == nil {
		switch d.Due {
		case "overdue":
			q.Overdue = true
		case "soon":
			q.DueSoon = true
		default:
			d.Due = ""
		}
		list, d.Total, err = s.petitions.List(ctx, m, a.Principal, q)
	}
	if err != nil {
		if s.edge.Status(err) >= http.StatusInternalServerError {
			s.Error(w, r, err)
			return
		}
		v.Errors = problems(err, v.Lang)
		s.render(w, r, s.fault(r, err), "desk_queue", v)
		return
	}
	d.counted(v, list, counts)
	s.render(w, r, http.StatusOK, "desk_queue", v)
}

// counted fills the queue's counts (made with queueCountCap), its paging
// and its rows.
func (d *queueData) counted(v *view, list []petitions.Summary, c petition.QueueCounts) {
	d.Overdue, d.DueSoon = countText(c.Overdue), countText(c.DueSoon)
	if d.OnTime = countText(max(0, c.Open-c.Overdue-c.DueSoon)); c.Open > queueCountCap {
		d.OnTime = countText(c.Open) // at least this many: the others are a lower bound too
	}
	if d.Total > queueCountCap {
		d.Total, d.More = queueCountCap, true
	}
	d.Last = max(1, (d.Total+queuePageSize-1)/queuePageSize)
	if d.More {
		d.Last = max(d.Page+1, d.Last) // beyond the count, pages go on one at a time
		if len(list) < queuePageSize {
			d.Last = d.Page
		}
	}
	for _, p := range list {
		d.Rows = append(d.Rows, v.queueRow(p))
	}
}

// queueRow prints a petition of the queue.
func (v *view) queueRow(p petitions.Summary) queueRow {
	row := queueRow{ID: p.ID, Code: p.TrackingCode, Title: p.Title, State: v.StateLabel(p.State), Category: v.CategoryLabel(p.Category),
		Received: v.Date(p.ReceivedAt), DaysLeft: p.WorkingDaysLeft}
	if row.Class, row.Status = v.deadlineText(p); row.Class != "" {
		row.Due = v.Day(p.NextUpdateDue)
	}
	return row
}

// deadlineText is how a petition's next update stands, for staff: its
// class (overdue, soon or ok; "" when none is due) and the working days left.
func (v *view) deadlineText(p petitions.Summary) (class, status string) {
	switch p.DeadlineStatus {
	case deadline.Overdue:
		return "overdue", v.L(msg.DeskOverdueBy)
	case deadline.DueSoon:
		return "soon", v.L(msg.DeskDaysLeft, p.WorkingDaysLeft)
	case deadline.OnTime:
		return "ok", v.L(msg.DeskDaysLeft, p.WorkingDaysLeft)
	}
	return "", ""
}

// stateOptions are the state filter's choices.
func stateOptions(v *view, chosen petition.State) []option {
	var out []option
	for _, st := range stateOrder {
		out = append(out, option{Value: string(st), Label: v.StateLabel(st), Selected: st == chosen})
	}
	return out
}

// stateOrder lists the states in lifecycle order, for the state filter.
var stateOrder = []petition.State{petition.Received, petition.Accepted, petition.InProgress, petition.ReplyDrafted,
	petition.ReplyApproved, petition.ReplySigned, petition.Published, petition.Closed, petition.Rejected}

// rejectReasons are the reasons the desk offers to reject a petition (a
// duplicate is rejected through the API, which takes the other code).
var rejectReasons = []petition.RejectReason{petition.OutOfScope, petition.InsufficientInfo, petition.Abusive}

// categoryOptions are the category filter's (or field's) choices.
func categoryOptions(v *view, chosen petition.Category) []option {
	out := make([]option, len(categoryChoices))
	for i, c := range categoryChoices {
		out[i] = option{Value: string(c.Value), Label: v.L(c.Label), Selected: c.Value == chosen}
	}
	return out
}

// Searching says whether the queue shows a search: its pages are then
// asked for by POST (the words stay out of URLs), not by links.
func (d *queueData) Searching() bool { return strings.TrimSpace(d.Query.Get("q")) != "" }

// PageURL is the queue at page n with the same filters.
func (d *queueData) PageURL(n int) string {
	u := url.Values{}
	for k, vs := range d.Query {
		if k != "page" && k != "lang" {
			u[k] = vs
		}
	}
	u.Set("page", strconv.Itoa(n))
	return "/desk/?" + u.Encode()
}

// petitionData is a petition's desk page.
type petitionData struct {
	Detail     *petitions.Detail
	Personal   bool // the petitioner's details are shown (their reading audited)
	State      string
	Category   string
	Agency     string
	Due        string // the next due date and the working days left
	Actions    []action
	Agencies   []option // transfer targets
	Categories []option
	Reasons    []option // reasons to reject
	CanUpdate  bool     // may post a public update
	CanDraft   bool     // may draft a reply (or a correction)
	Replies    []replyRow
	Done       string // what the last action did
	DoneName   string // which action it was (the notice's id)
	Events     []eventRow
}

// action is one transition the viewer may take now, as a button.
type action struct {
	Name, Label string
	Agency      bool // asks for an agency (transfer)
	Note        bool // asks for a note: a reason or a message
	NoteNeeded  bool
	Category    bool // may reclassify (accept)
	Reason      bool // asks for a reason to reject
}

// replyRow is one of the petition's replies, listed on its page.
type replyRow struct {
	ID, Number, Status, At string
}

// eventRow is one line of the staff timeline.
type eventRow struct {
	At, What, Note string
	Public         bool
}

// deskActions are the transitions the desk offers as buttons, in the order
// it offers them (a reply is drafted, approved and signed on its own pages).
var deskActions = []petition.Transition{petition.Accept, petition.Start, petition.Transfer, petition.Reject, petition.Publish, petition.Close}

// Petition shows one petition of the agency: its words and attachments,
// the timeline, and the actions the state and the viewer's roles allow.
func (s *Site) Petition(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	s.showPetition(w, r, a, false, nil)
}

// PetitionPersonal shows the petition with the petitioner's details (the
// reading is audited as the API's).
func (s *Site) PetitionPersonal(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	s.showPetition(w, r, a, true, nil)
}

// showPetition renders the petition's page, with problem (an action's
// refusal) above it.
func (s *Site) showPetition(w http.ResponseWriter, r *http.Request, a *identity.Authn, personal bool, problem error) {
	id := chi.URLParam(r, "id")
	get := s.petitions.View
	if personal {
		get = s.petitions.Get
	}
	det, err := get(r.Context(), s.edge.Meta(r), a.Principal, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d := &petitionData{Detail: det, Personal: personal}
	v := s.deskView(w, r, a, msg.DeskPetitionTitle, d)
	if d.Done = v.doneMessage(r.URL.Query().Get("done")); d.Done != "" {
		d.DoneName = r.URL.Query().Get("done")
	}
	d.State, d.Category, d.Agency = v.StateLabel(det.State), v.CategoryLabel(det.Category), s.agencyName(r, det.Agency, v)
	if _, status := v.deadlineText(det.Summary); status != "" {
		d.Due = v.Day(det.NextUpdateDue) + " · " + status
	}
	permitted := s.petitions.Permitted(a.Principal, det)
	for _, t := range deskActions {
		if !slices.Contains(permitted, t) {
			continue
		}
		d.Actions = append(d.Actions, action{Name: string(t), Label: v.L(transitionLabels[t]), Agency: t == petition.Transfer,
			Note: t == petition.Transfer || t == petition.Reject || t == petition.Close, NoteNeeded: t == petition.Transfer,
			Category: t == petition.Accept, Reason: t == petition.Reject})
	}
	d.CanUpdate = s.petitions.MayPostUpdate(a.Principal, det)
	d.CanDraft = slices.Contains(permitted, petition.DraftReply) ||
		(det.State == petition.Published || det.State == petition.ReplySigned) && s.petitions.May(a.Principal, access.PetitionHandle, det.Agency)
	if list, err := s.replies.Replies(r.Context(), s.edge.Meta(r), a.Principal, det.ID); err == nil {
		for _, rep := range list {
			row := replyRow{ID: rep.ID, Status: v.L(replyStatusLabels[rep.Status]), At: v.Time(rep.DraftedAt)}
			if rep.Document != nil {
				row.Number = rep.Document.Number
			}
			d.Replies = append(d.Replies, row)
		}
	}
	if ags, err := s.directory(r.Context()); err == nil {
		for _, ag := range ags {
			if ag.Code != det.Agency {
				d.Agencies = append(d.Agencies, option{Value: ag.Code, Label: v.AgencyLabel(ag)})
			}
		}
	}
	d.Categories = categoryOptions(v, det.Category)
	for _, reason := range rejectReasons {
		d.Reasons = append(d.Reasons, option{Value: string(reason), Label: v.inLanguage(petition.RejectReasons[reason])})
	}
	for _, e := range det.Timeline {
		d.Events = append(d.Events, eventRow{At: v.Time(e.At), What: v.EventLabel(petitions.PublicEvent{Kind: e.Kind, State: string(e.ToState),
			Agency: e.ToAgency}), Note: e.Note, Public: e.Public})
	}
	s.renderWith(w, r, "desk_petition", v, problem)
}

// renderWith renders a desk page with problem (an action's refusal) above
// it, in the status the problem maps to; a conflict adds that someone may
// have just changed what the page shows.
func (s *Site) renderWith(w http.ResponseWriter, r *http.Request, page string, v *view, problem error) {
	status := http.StatusOK
	if problem != nil {
		v.Errors = problems(problem, v.Lang)
		if apperr.CodeOf(problem) == apperr.Conflict {
			v.Errors = append(v.Errors, fieldProblem{Message: v.L(msg.DeskReloadConflict)})
		}
		status = s.fault(r, problem)
	}
	s.render(w, r, status, page, v)
}

// transitionLabels name the desk's buttons.
var transitionLabels = map[petition.Transition]msg.Key{
	petition.Accept: msg.DeskAccept, petition.Start: msg.DeskStart, petition.Transfer: msg.DeskTransfer,
	petition.Reject: msg.DeskReject, petition.Publish: msg.DeskPublish, petition.Close: msg.DeskClose,
}

// doneMessage says what the last action did (the page after it carries
// ?done= and the action's name, nothing personal).
func (v *view) doneMessage(done string) string {
	if done == "update" {
		return v.L(msg.DeskUpdatePosted)
	}
	if k, ok := transitionLabels[petition.Transition(done)]; ok {
		return v.L(msg.DeskDone, v.L(k))
	}
	return ""
}

// Transition takes one of the petition's actions from its page's buttons;
// afterwards the petition's page again (post, redirect, get).
func (s *Site) Transition(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	id := chi.URLParam(r, "id")
	t := petition.Transition(r.PostFormValue("transition"))
	if !slices.Contains(deskActions, t) {
		s.showPetition(w, r, a, false, apperr.New(apperr.Invalid, msg.DeskUnknownAction))
		return
	}
	in := petitions.TransitionInput{Agency: r.PostFormValue("agency"), Category: petition.Category(r.PostFormValue("category")),
		Reason: petition.RejectReason(r.PostFormValue("reason")), Note: strings.TrimSpace(r.PostFormValue("note"))}
	if err := s.replies.Transition(r.Context(), s.edge.Meta(r), a.Principal, id, t, in); err != nil {
		s.petitionRefused(w, r, a, err)
		return
	}
	http.Redirect(w, r, "/desk/petitions/"+url.PathEscape(id)+"?done="+url.QueryEscape(string(t)), http.StatusSeeOther)
}

// refusal answers an action's error: when it refuses the object itself
// (another agency's, or a role that may not touch it), the error's own
// page; otherwise show, the object's page with the problem above. A lapsed
// step-up is theirs: the page again asks for the code.
func (s *Site) refusal(w http.ResponseWriter, r *http.Request, err error, show func(problem error)) {
	status := s.edge.Status(err)
	if status == http.StatusNotFound || status == http.StatusForbidden && apperr.CodeOf(err) != apperr.StepUpRequired {
		s.Error(w, r, err)
		return
	}
	show(err)
}

// petitionRefused shows the petition's page with err above it, or the
// error's own page when the petition is not the viewer's (see refusal).
func (s *Site) petitionRefused(w http.ResponseWriter, r *http.Request, a *identity.Authn, err error) {
	s.refusal(w, r, err, func(p error) { s.showPetition(w, r, a, false, p) })
}

// PostUpdate posts a public update on the petition (its 20 working days
// start again).
func (s *Site) PostUpdate(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	id := chi.URLParam(r, "id")
	if err := s.petitions.PostUpdate(r.Context(), s.edge.Meta(r), a.Principal, id, strings.TrimSpace(r.PostFormValue("message"))); err != nil {
		s.petitionRefused(w, r, a, err)
		return
	}
	http.Redirect(w, r, "/desk/petitions/"+url.PathEscape(id)+"?done=update", http.StatusSeeOther)
}
