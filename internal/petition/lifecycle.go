package petition

import (
	"slices"
	"time"
)

// State is where a petition is in its lifecycle.
type State string

// The states.
const (
	Received      State = "received"
	Accepted      State = "accepted"
	Rejected      State = "rejected"
	InProgress    State = "in_progress"
	ReplyDrafted  State = "reply_drafted"
	ReplyApproved State = "reply_approved"
	ReplySigned   State = "reply_signed"
	Published     State = "published"
	Closed        State = "closed"
)

// Transition is an action that moves a petition.
type Transition string

// The transitions.
const (
	Accept       Transition = "accept"      // classify and assign to a competent agency
	Reject       Transition = "reject"      // with a reason from the published list
	Start        Transition = "start"       // begin handling
	Transfer     Transition = "transfer"    // to another agency; the deadline is not reset
	DraftReply   Transition = "draft_reply" //
	ApproveReply Transition = "approve_reply"
	SendBack     Transition = "send_back" // the reviewer returns the draft with a comment
	SignReply    Transition = "sign_reply"
	Publish      Transition = "publish"
	Close        Transition = "close"
	Reopen       Transition = "reopen" // by the petitioner, once, within 30 days of closing
)

type edge struct {
	from []State
	to   State // "" keeps the state
}

var machine = map[Transition]edge{
	Accept:       {[]State{Received}, Accepted},
	Reject:       {[]State{Received}, Rejected},
	Start:        {[]State{Accepted}, InProgress},
	Transfer:     {[]State{Accepted, InProgress}, Accepted},
	DraftReply:   {[]State{InProgress}, ReplyDrafted},
	ApproveReply: {[]State{ReplyDrafted}, ReplyApproved},
	SendBack:     {[]State{ReplyDrafted}, InProgress},
	SignReply:    {[]State{ReplyApproved}, ReplySigned},
	Publish:      {[]State{ReplySigned}, Published},
	Close:        {[]State{Published}, Closed},
	Reopen:       {[]State{Closed}, InProgress},
}

// AllTransitions lists the transitions in lifecycle order.
var AllTransitions = []Transition{Accept, Reject, Start, Transfer, DraftReply, ApproveReply, SendBack, SignReply, Publish, Close, Reopen}

// Allowed lists the transitions possible from s, in lifecycle order.
func Allowed(s State) []Transition {
	var out []Transition
	for _, t := range AllTransitions {
		if slices.Contains(machine[t].from, s) {
			out = append(out, t)
		}
	}
	return out
}

// Next returns the state t leads to from s, or ok=false when t is not
// possible from s.
func Next(s State, t Transition) (State, bool) {
	e, known := machine[t]
	if !known || !slices.Contains(e.from, s) {
		return s, false
	}
	return e.to, true
}

// ReplyStep reports whether t is one of the reply's steps (drafting,
// review and signing), which internal/replies takes.
func ReplyStep(t Transition) bool {
	switch t {
	case DraftReply, ApproveReply, SendBack, SignReply:
		return true
	}
	return false
}

// PublicUpdate reports whether t is a public status update (which restarts
// the 20-working-day clock). A transfer is not: it must not reset the deadline.
func PublicUpdate(t Transition) bool {
	switch t {
	case Accept, Reject, Start, Publish, Close, Reopen:
		return true
	}
	return false
}

// RejectReason is a published reason for rejecting a petition.
type RejectReason string

// The published reasons.
const (
	OutOfScope       RejectReason = "out_of_scope"
	Duplicate        RejectReason = "duplicate" // of another tracking code
	InsufficientInfo RejectReason = "insufficient_information"
	Abusive          RejectReason = "abusive_content"
)

// RejectReasons lists the reasons with their Vietnamese and English text.
var RejectReasons = map[RejectReason][2]string{
	OutOfScope:       {"Không thuộc phạm vi tiếp nhận phản ánh, kiến nghị", "Out of scope"},
	Duplicate:        {"Trùng với phản ánh, kiến nghị đã tiếp nhận", "Duplicate of another petition"},
	InsufficientInfo: {"Không đủ thông tin để xử lý", "Insufficient information"},
	Abusive:          {"Nội dung không phù hợp (xúc phạm, vu khống)", "Abusive content"},
}

// CanReopen reports whether a petition closed at closedAt, reopened
// reopens times, may be reopened at now.
func CanReopen(closedAt time.Time, reopens int, now time.Time) bool {
	return reopens == 0 && !closedAt.IsZero() && now.Sub(closedAt) <= ReopenWindow
}
