package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"pakn/internal/apperr"
	"pakn/internal/deadline"
	"pakn/internal/msg"
	"pakn/internal/petition"
	"pakn/internal/petitions"
)

// trackData is what the tracking page shows: the form's values, and the
// petition once found. The code and secret travel in POST bodies only,
// never in a URL.
type trackData struct {
	Code, Secret string
	View         *petitions.PublicView
	Agency       string // the agency's name
	DaysLeft     int    // working days to the next update after today
	DaysLate     int    // working days the next update is overdue by
	Reopened     bool
	Reason       string // the reopen request's reason, after an error
}

// TrackForm shows the tracking form.
func (s *Site) TrackForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "track", s.view(w, r, msg.TrackTitle, &trackData{}))
}

// Track looks a petition up with its code and secret (answered like an
// unknown code when either is wrong; the lookup is audited and
// rate-limited by the server in front).
func (s *Site) Track(w http.ResponseWriter, r *http.Request) {
	s.showTracked(w, r, codesOf(r), nil)
}

// codesOf reads the tracking code and secret a form posted.
func codesOf(r *http.Request) *trackData {
	return &trackData{Code: strings.TrimSpace(r.PostFormValue("tracking_code")), Secret: strings.TrimSpace(r.PostFormValue("lookup_secret"))}
}

// refused shows what an action on d's petition answered: with a wrong code
// or secret, the tracking form and the problem (the action's own attempt was
// already audited and counted: the petition is not looked up again); else
// the petition, with the problem above it.
func (s *Site) refused(w http.ResponseWriter, r *http.Request, d *trackData, err error) {
	if k, _ := apperr.KeyOf(err); k == msg.WrongTrackingCodeOrSecret {
		v := s.view(w, r, msg.TrackTitle, &trackData{Code: d.Code})
		v.Errors = problems(err, v.Lang)
		s.render(w, r, s.fault(r, err), "track", v)
		return
	}
	s.showTracked(w, r, d, err)
}

// sendPDF sends a PDF to download as name, never cached.
func sendPDF(w http.ResponseWriter, name string, pdf []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", name))
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(pdf)
}

// showTracked looks d's petition up and shows it, with problem (an earlier
// step's error, such as a refused reopen request) above it.
func (s *Site) showTracked(w http.ResponseWriter, r *http.Request, d *trackData, problem error) {
	v := s.view(w, r, msg.TrackTitle, d)
	pv, err := s.petitions.Lookup(r.Context(), s.edge.Meta(r), d.Code, d.Secret)
	if err != nil {
		v.Errors = problems(err, v.Lang)
		d.Secret = "" // a wrong secret is not shown back
		s.render(w, r, s.fault(r, err), "track", v)
		return
	}
	d.View = pv
	// The language switch sends the codes again: a link would lose the petition shown.
	v.Repost = &repost{Action: "/track", Fields: [][2]string{{"tracking_code", d.Code}, {"lookup_secret", d.Secret}}}
	d.Agency = s.agencyName(r, pv.Agency, v)
	if pv.DeadlineStatus != "" {
		cal, now := s.petitions.Calendar(), time.Now()
		_, d.DaysLeft = cal.StatusAt(pv.NextUpdateDue, now)
		if pv.DeadlineStatus == deadline.Overdue {
			d.DaysLate = cal.WorkingDaysBetween(pv.NextUpdateDue, deadline.DateOf(now))
		}
	}
	status := http.StatusOK
	if problem != nil {
		v.Errors = problems(problem, v.Lang)
		status = s.fault(r, problem)
	}
	s.render(w, r, status, "track", v)
}

// TrackReply downloads the petition's current signed reply.
func (s *Site) TrackReply(w http.ResponseWriter, r *http.Request) {
	d := codesOf(r)
	rep, pdf, err := s.replies.PetitionerReplyPDF(r.Context(), s.edge.Meta(r), d.Code, d.Secret)
	if err != nil {
		s.refused(w, r, d, err)
		return
	}
	name := "tra-loi.pdf"
	if rep.Document != nil {
		name = "tra-loi-" + strings.NewReplacer("/", "-").Replace(rep.Document.Number) + ".pdf"
	}
	sendPDF(w, name, pdf)
}

// TrackReceipt downloads the petition's signed receipt (signed the first
// time it is asked for).
func (s *Site) TrackReceipt(w http.ResponseWriter, r *http.Request) {
	d := codesOf(r)
	rc, err := s.replies.ReceiptPDF(r.Context(), s.edge.Meta(r), d.Code, d.Secret)
	if err != nil {
		s.refused(w, r, d, err)
		return
	}
	sendPDF(w, "bien-nhan-"+strings.ToLower(d.Code)+".pdf", rc.PDF)
}

// Reopen asks for a closed petition to be looked at again.
func (s *Site) Reopen(w http.ResponseWriter, r *http.Request) {
	d := codesOf(r)
	reason := r.PostFormValue("reason")
	if err := s.petitions.Reopen(r.Context(), s.edge.Meta(r), d.Code, d.Secret, reason); err != nil {
		d.Reason = reason
		s.refused(w, r, d, err)
		return
	}
	d.Reopened = true
	s.showTracked(w, r, d, nil)
}

// stateLabels name the states as a petitioner reads them.
var stateLabels = map[petition.State]msg.Key{
	petition.Received: msg.StateReceived, petition.Accepted: msg.StateAccepted, petition.Rejected: msg.StateRejected,
	petition.InProgress: msg.StateInProgress, petition.ReplyDrafted: msg.StateDrafted, petition.ReplyApproved: msg.StateApproved,
	petition.ReplySigned: msg.StateSigned, petition.Published: msg.StatePublished, petition.Closed: msg.StateClosed,
}

// StateLabel names state in the page's language.
func (v *view) StateLabel(state petition.State) string {
	if k, ok := stateLabels[state]; ok {
		return v.L(k)
	}
	return string(state)
}

// EventLabel names a timeline entry in the page's language: a receipt, a
// public update, a transfer or reopening, else the state it led to.
func (v *view) EventLabel(e petitions.PublicEvent) string {
	switch e.Kind {
	case "received":
		return v.L(msg.EventReceived)
	case "public_update":
		return v.L(msg.EventUpdate)
	case string(petition.Transfer):
		return v.L(msg.EventTransfer)
	case string(petition.Reopen):
		return v.L(msg.EventReopen)
	}
	return v.StateLabel(petition.State(e.State))
}

// DueLabel says how the next update stands: working days left, due soon,
// or overdue.
func (v *view) DueLabel(status deadline.Status, left, late int) string {
	switch {
	case status == deadline.Overdue && late == 0:
		return v.L(msg.DueOverdueNow) // past due over a weekend or a holiday
	case status == deadline.Overdue && late == 1:
		return v.L(msg.DueOverdueOne)
	case status == deadline.Overdue:
		return v.L(msg.DueOverdue, late)
	case left == 0:
		return v.L(msg.DueToday)
	case status == deadline.DueSoon && left == 1:
		return v.L(msg.DueSoonOne)
	case status == deadline.DueSoon:
		return v.L(msg.DueSoon, left)
	}
	return v.L(msg.DueOnTime, left)
}
