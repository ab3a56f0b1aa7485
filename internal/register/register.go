// Package register is the public register of issued replies: the entry
// anyone may read for a signed reply (what its QR code leads to), the
// verification of a document someone holds against it, and time-stamps
// for other agencies, each audited before it is answered.
package register

import (
	"context"
	"errors"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/deadline"
	"pakn/internal/msg"
	"pakn/internal/reply"
	"pakn/internal/store"
	"pakn/internal/tsa"
	"pakn/internal/verify"
)

// Service is the public register.
type Service struct {
	audit    store.Audit
	replies  store.Replies
	verifier *verify.Verifier
	tsa      *tsa.Authority
	lists    listCache
}

// Config holds the Service's dependencies.
type Config struct {
	Stores   store.Set        // Audit and Replies are used
	Verifier *verify.Verifier // nil: verification answers 503 (wire its FindIssued with Finder)
	// TSA is pakn's time-stamping authority under the policy it serves
	// others (tsa.Service), at POST /api/v1/tsa; nil: not served (404).
	TSA *tsa.Authority
}

// New returns the register. Stores.Audit and Stores.Replies are required.
func New(c Config) (*Service, error) {
	if err := store.Missing("register", c.Stores.Given("Audit", "Replies")); err != nil {
		return nil, err
	}
	return &Service{audit: c.Stores.Audit, replies: c.Stores.Replies, verifier: c.Verifier, tsa: c.TSA, lists: listCache{now: time.Now}}, nil
}

// Finder is the verifier's view of the register of issued replies kept by
// replies: a document found by what its signature binds, current or
// superseded.
func Finder(replies store.Replies) verify.FindIssued {
	return func(ctx context.Context, binding, sum string) (*verify.Match, error) {
		e, err := replies.IssuedByBinding(ctx, binding, sum)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		r := &verify.Match{Found: true, Kind: e.Kind, ReplyID: e.ReplyID, TrackingCode: e.TrackingCode, Number: e.Number, Agency: e.Agency,
			AgencyName: e.AgencyName, SignedAt: e.SignedAt, SignerName: e.SignerName, Status: "current", SupersededBy: e.SupersededBy}
		if e.SupersededBy != "" {
			r.Status = "superseded"
		}
		return r, nil
	}
}

// Verify checks a PDF someone holds and records the verification in the
// audit log (time, client address as a keyed hash, the document's SHA-256
// and size, the indication, the matched reply) before answering: if the
// event cannot be written, the answer is 503 and no report is given.
// checked, when not nil, is called once the document has been checked and
// before the event is written: the caller frees there what it holds for
// the checking (a place among the verifications running at once), so the
// wait for the audit log's flush holds none.
func (s *Service) Verify(ctx context.Context, m audit.Meta, p access.Principal, doc []byte, checked func()) (*verify.Report, error) {
	if s.verifier == nil {
		return nil, apperr.New(apperr.Unavailable, msg.VerificationNotConfigured)
	}
	rep := s.verifier.Verify(ctx, doc)
	if checked != nil {
		checked()
	}
	det := map[string]any{"sha256": rep.SHA256, "size": rep.Size, "indication": rep.Indication, "sub_indication": rep.SubIndication}
	if rep.Register != nil && rep.Register.Found {
		det["reply"] = rep.Register.ReplyID
	}
	err := s.audit.Record(ctx, audit.EventOf(m, p, "verification.check", "document", rep.SHA256, audit.Success, audit.Details(det)))
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "audit verification", msg.VerificationNotRecorded)
	}
	return rep, nil
}

// Entry is the public register's entry for one issued reply.
type Entry struct {
	Kind         string `json:"kind"`     // "reply", or "receipt" (a petition's signed receipt)
	ReplyID      string `json:"reply_id"` // the document's id
	ShortCode    string `json:"short_code"`
	TrackingCode string `json:"tracking_code"`
	Number       string `json:"number"`
	Agency       string `json:"agency"`
	AgencyName   string `json:"agency_name"`
	SignedAt     string `json:"signed_at"`
	SignerName   string `json:"signer_name"`
	SignerTitle  string `json:"signer_title"`
	SHA256       string `json:"sha256"`
	PublicSHA256 string `json:"public_sha256,omitempty"` // the public version's (no addressee), what the public register serves
	Size         int    `json:"size"`
	Status       string `json:"status"` // current, superseded or revoked
	SupersededBy string `json:"superseded_by,omitempty"`
	Published    bool   `json:"published"`
}

var errNoSuchReply = apperr.New(apperr.NotFound, msg.NoSuchReply)

// Entry returns the register's entry for a signed reply, by id or by the
// short code printed on it (what the QR code of a reply leads to): agency,
// date, signer, SHA-256 and whether it is current, superseded, or signed
// with a since-revoked key. Drafts and unknown ids are not found.
func (s *Service) Entry(ctx context.Context, idOrCode string) (*Entry, error) {
	var e *reply.Issued
	var err error
	if reply.LooksLikeID(idOrCode) {
		e, err = s.replies.IssuedByID(ctx, idOrCode)
	} else if code, ok := reply.ParseShortCode(idOrCode); ok {
		e, err = s.replies.IssuedByShortCode(ctx, code)
	} else {
		return nil, errNoSuchReply
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoSuchReply
	}
	if err != nil {
		return nil, err
	}
	out := &Entry{Kind: e.Kind, ReplyID: e.ReplyID, ShortCode: reply.ShortCode(e.ReplyID), TrackingCode: e.TrackingCode, Number: e.Number,
		Agency: e.Agency, AgencyName: e.AgencyName, SignedAt: e.SignedAt.In(deadline.ICT).Format("02/01/2006 15:04 (UTC+7)"),
		SignerName: e.SignerName, SignerTitle: e.SignerTitle, SHA256: e.SHA256, PublicSHA256: e.PublicSHA256, Size: e.Size, Status: "current",
		SupersededBy: e.SupersededBy, Published: e.Published}
	switch {
	case e.SignerStatus == "revoked":
		out.Status = "revoked"
	case e.SupersededBy != "":
		out.Status = "superseded"
	}
	if out.Kind == reply.KindReply && !out.Published {
		// Issued, not yet published: the public learns that much (and can
		// match a copy by its hash), not its number, signer or petition.
		out.Number, out.TrackingCode, out.SignerName, out.SignerTitle = "", "", "", ""
	}
	return out, nil
}

// MaxListed bounds one page of the register's list or feeds.
const MaxListed = 1000

// List returns the entries of the public register that q selects, newest
// first, with their total: published replies that have a public version,
// nothing in them personal. Limit is 1 to MaxListed (20 when zero). A list
// read in the last five seconds is reused (listCacheTTL).
func (s *Service) List(ctx context.Context, q reply.RegisterQuery) ([]reply.Listed, int, error) {
	if q.Limit == 0 {
		q.Limit = 20
	}
	if q.Limit < 1 || q.Limit > MaxListed || q.Offset < 0 {
		return nil, 0, apperr.New(apperr.Invalid, msg.RegisterPageBounds, MaxListed)
	}
	if len(q.Query) > 200 {
		return nil, 0, apperr.New(apperr.Invalid, msg.SearchTooLong)
	}
	return s.lists.get(q, func() ([]reply.Listed, int, error) { return s.replies.PublicRegister(ctx, q) })
}

// Published is a published reply as the public register shows it: its
// entry and what it says (the answer as the public version prints it).
type Published struct {
	Entry   *Entry
	Content reply.Content
}

// PublishedReply returns the register's page of a published reply with a
// public version; other documents are not found.
func (s *Service) PublishedReply(ctx context.Context, id string) (*Published, error) {
	e, err := s.Entry(ctx, id)
	if err != nil {
		return nil, err
	}
	if e.Kind != reply.KindReply || !e.Published || e.PublicSHA256 == "" {
		return nil, errNoSuchReply
	}
	r, err := s.replies.Reply(ctx, e.ReplyID)
	if err != nil {
		return nil, err
	}
	return &Published{Entry: e, Content: r.Content}, nil
}
