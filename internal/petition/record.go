package petition

import (
	"time"

	"pakn/internal/deadline"
)

// Petition is a received petition as staff see it (without the
// petitioner's personal data, which is kept encrypted apart).
type Petition struct {
	ID               string
	TrackingCode     string
	State            State
	Agency           string
	Category         Category
	PetitionerKind   PetitionerKind
	Title            string
	Body             string
	ProcedureRef     string
	LegalRef         string
	Channel          Channel
	EnteredBy        string // staff account that entered it for someone, if any
	ReceivedAt       time.Time
	LastPublicUpdate time.Time
	NextUpdateDue    deadline.Date
	ClosedAt         time.Time
	ReopenCount      int
	RejectReason     RejectReason
	DuplicateOf      string
	UpdatedAt        time.Time
	Handler          string // the official's account handling it ("" when none): who accepted or started it
	HandlerName      string // that account's display name (read, never written)
	// WordsSealed says that Title and Body, as the store holds them, are
	// sealed (internal/sealed opens them); rows written before sealing
	// existed hold them in clear.
	WordsSealed bool
}

// Event is one entry of a petition's timeline.
type Event struct {
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"` // a Transition, "received" or "public_update"
	FromState  State     `json:"from_state,omitempty"`
	ToState    State     `json:"to_state,omitempty"`
	FromAgency string    `json:"from_agency,omitempty"`
	ToAgency   string    `json:"to_agency,omitempty"`
	Actor      string    `json:"actor"`
	Public     bool      `json:"public"`         // shown to the petitioner
	Note       string    `json:"note,omitempty"` // the public message, or the reason given
}
