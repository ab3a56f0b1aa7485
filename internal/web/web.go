// Package web is pakn's web pages: the public website, on which citizens
// send a petition, follow it, download its reply and check a document, and
// the staff desk (/desk/), on which officials, reviewers, signers and
// administrators do their work. A page is another adapter over the same services as the JSON
// API (petitions, replies, register): it holds no rule of its own beyond
// what a form needs (field names, consent). The HTTP server in front
// (httpapi) owns the router, the bounds on uploads, rate limits, CSRF
// protection and the one mapping of errors to statuses, and gives them to
// the pages through Edge.
//
// Pages are Vietnamese by default and English by choice (?lang=en,
// remembered in a cookie); every text comes from the message catalogue
// (internal/msg). Templates and assets are embedded; every page works
// without JavaScript.
package web

import (
	"context"
	"crypto/cipher"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"time"

	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/identity"
	"pakn/internal/petitions"
	"pakn/internal/register"
	"pakn/internal/replies"
	"pakn/internal/verify"
)

// Edge is what the HTTP server in front of the pages gives them.
type Edge interface {
	// Meta is what the request contributes to audit events.
	Meta(r *http.Request) audit.Meta
	// ReadForm reads a multipart form within the bounds of a petition
	// submission (per client, per day, the upload budget), its "attachments"
	// parts spooled; the caller closes the form when done with it. Before
	// the first attachment is read, check sees the text fields read so far:
	// its error stops the reading, so a form refused for its words costs
	// no attachment bytes. With an error it may return the text fields read
	// until then.
	ReadForm(w http.ResponseWriter, r *http.Request, check func(url.Values) error) (*Form, error)
	// VerifyUpload verifies the PDF of the form's "file" part within the
	// bounds of the verification API, and audits it.
	VerifyUpload(w http.ResponseWriter, r *http.Request) (*verify.Report, error)
	// Status is the HTTP status of err, the API's mapping.
	Status(err error) int
	// Session is the request's signed-in session (the API's cookie), or nil.
	Session(r *http.Request) *identity.Authn
	// StartSession gives the browser the new session's cookie.
	StartSession(w http.ResponseWriter, res *identity.LoginResult)
	// EndSession removes the session's cookie from the browser.
	EndSession(w http.ResponseWriter)
}

// Form is a multipart form read by Edge.ReadForm.
type Form struct {
	Values url.Values
	Files  []petitions.FileIn
	Close  func() // frees the spooled files and what the upload held
}

// Operator is who runs the service and controls the personal data it keeps,
// as the personal-data notice names them (Decree 13/2023).
type Operator struct {
	Name    string // the agency, e.g. "Văn phòng UBND thành phố Hà Nội"
	Contact string // an email address, a phone number or a postal address
}

// Deps is what the website needs.
type Deps struct {
	Edge      Edge
	Petitions *petitions.Service
	Replies   *replies.Service
	Register  *register.Service
	Agencies  func(context.Context) ([]agency.Agency, error)
	Log       *slog.Logger
	Operator  Operator // optional: the notice then names the agency handling the petition only
	// Identity signs staff in to the desk (/desk/); without it the desk's
	// pages are not served.
	Identity *identity.Service
}

// Site serves the public pages.
type Site struct {
	edge      Edge
	petitions *petitions.Service
	replies   *replies.Service
	register  *register.Service
	agencies  func(context.Context) ([]agency.Agency, error)
	log       *slog.Logger
	pages     map[string]*template.Template
	operator  Operator
	identity  *identity.Service
	tickets   cipher.AEAD // seals the desk's sign-in tickets (see ticketContent)

	spentMu sync.Mutex           // guards spent
	spent   map[string]time.Time // tickets that signed someone in or are in an attempt, until they expire

	dirMu sync.Mutex // guards dir and dirAt
	dir   []agency.Agency
	dirAt time.Time
}

// directoryTTL is how long the pages reuse the agency directory they read:
// it changes when an operator adds an agency, rarely.
const directoryTTL = 30 * time.Second

// directory returns the agency directory, read at most every directoryTTL.
func (s *Site) directory(ctx context.Context) ([]agency.Agency, error) {
	s.dirMu.Lock()
	defer s.dirMu.Unlock()
	if s.dir != nil && time.Since(s.dirAt) < directoryTTL {
		return s.dir, nil
	}
	ags, err := s.agencies(ctx)
	if err != nil {
		return nil, err
	}
	s.dir, s.dirAt = ags, time.Now()
	return ags, nil
}

// New builds the website; every dependency is required.
func New(d Deps) (*Site, error) {
	if d.Edge == nil || d.Petitions == nil || d.Replies == nil || d.Register == nil || d.Agencies == nil || d.Log == nil {
		return nil, errors.New("web: Edge, Petitions, Replies, Register, Agencies and Log are required")
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	tickets, err := newTicketAEAD()
	if err != nil {
		return nil, err
	}
	return &Site{edge: d.Edge, petitions: d.Petitions, replies: d.Replies, register: d.Register,
		agencies: d.Agencies, log: d.Log, pages: pages, operator: d.Operator, identity: d.Identity, tickets: tickets,
		spent: map[string]time.Time{}}, nil
}
