// Package auditlog serves the audit log to security staff: reading pages of
// events, verifying the chain, and exporting it. Every call passes the
// access policy; an export is itself audited before any byte is sent.
package auditlog

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/guard"
	"pakn/internal/msg"
	"pakn/internal/store"
)

// Service reads the audit log for authorised principals.
type Service struct {
	Audit store.Audit
	Guard *guard.Guard
}

// Event is the JSON form of an audit event.
type Event struct {
	Seq        int64           `json:"seq"`
	Time       time.Time       `json:"time"`
	Actor      string          `json:"actor"`
	Role       string          `json:"role"`
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type"`
	ObjectID   string          `json:"object_id"`
	Outcome    string          `json:"outcome"`
	RequestID  string          `json:"request_id"`
	ClientHash string          `json:"client_hash"`
	Details    json.RawMessage `json:"details"`
	PrevHash   string          `json:"prev_hash"`
	Hash       string          `json:"hash"`
}

// FromEvent converts an audit event to its JSON form.
func FromEvent(e *audit.Event) Event {
	return Event{Seq: e.Seq, Time: e.Time, Actor: e.Actor, Role: e.Role, Action: e.Action,
		ObjectType: e.ObjectType, ObjectID: e.ObjectID, Outcome: string(e.Outcome), RequestID: e.RequestID,
		ClientHash: e.ClientHash, Details: e.Details, PrevHash: hex.EncodeToString(e.PrevHash), Hash: hex.EncodeToString(e.Hash)}
}

var logTarget = guard.Target{Type: "audit_log", ID: "audit_events"}

// MaxPage is the most events one page returns.
const MaxPage = 500

// Events returns up to limit events after sequence number after, to an
// auditor; the reading is itself audited (committed before the answer).
func (s *Service) Events(ctx context.Context, m audit.Meta, p access.Principal, after int64, limit int) ([]Event, error) {
	if err := s.Guard.Authorize(ctx, m, p, access.AuditEvents, logTarget); err != nil {
		return nil, err
	}
	if after < 0 || limit < 1 || limit > MaxPage {
		return nil, apperr.New(apperr.Invalid, msg.AuditPageBounds, MaxPage)
	}
	out := []Event{}
	err := s.Audit.Walk(ctx, after, func(e *audit.Event) error {
		out = append(out, FromEvent(e))
		if len(out) == limit {
			return errPageFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return nil, err
	}
	det, _ := json.Marshal(map[string]int64{"after": after, "limit": int64(limit), "count": int64(len(out))})
	if err := s.Audit.Record(ctx, audit.EventOf(m, p, "audit.read", logTarget.Type, logTarget.ID, audit.Success, det)); err != nil {
		return nil, err
	}
	return out, nil
}

var errPageFull = errors.New("page full")

// Verification is the result of a chain check.
type Verification struct {
	OK       bool   `json:"ok"`
	Count    int64  `json:"count"`
	Head     string `json:"head,omitempty"` // SEQ:HASH of the last verified event
	BrokenAt int64  `json:"broken_at,omitempty"`
	Kind     string `json:"kind,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Verify checks the whole chain, against an earlier head when anchor is not "".
func (s *Service) Verify(ctx context.Context, m audit.Meta, p access.Principal, anchor string) (*Verification, error) {
	if err := s.Guard.Authorize(ctx, m, p, access.AuditRead, logTarget); err != nil {
		return nil, err
	}
	var a *audit.Anchor
	if anchor != "" {
		parsed, err := audit.ParseAnchor(anchor)
		if err != nil {
			return nil, apperr.New(apperr.Invalid, msg.AuditAnchorInvalid, err.Error())
		}
		a = &parsed
	}
	v, brk, err := s.Audit.Verify(ctx, a, nil)
	if err != nil {
		return nil, err
	}
	res := &Verification{OK: brk == nil, Count: v.Count()}
	if brk != nil {
		res.BrokenAt, res.Kind, res.Reason = brk.Seq, string(brk.Kind), brk.Reason
	} else {
		res.Head = v.Head().String()
	}
	det, _ := json.Marshal(map[string]any{"ok": res.OK, "count": res.Count, "anchored": a != nil})
	if err := s.Audit.Record(ctx, audit.EventOf(m, p, "audit.verify", logTarget.Type, logTarget.ID, audit.Success, det)); err != nil {
		return nil, err
	}
	return res, nil
}

// Export writes every event after after as JSON lines to w. The export is
// audited (and committed) before the first line is written.
func (s *Service) Export(ctx context.Context, m audit.Meta, p access.Principal, after int64, w io.Writer) error {
	if err := s.Guard.Authorize(ctx, m, p, access.AuditExport, logTarget); err != nil {
		return err
	}
	if after < 0 {
		return apperr.New(apperr.Invalid, msg.AuditAfterNegative)
	}
	if err := s.Audit.Record(ctx, audit.EventOf(m, p, "audit.export", logTarget.Type, logTarget.ID, audit.Success,
		[]byte(`{"after":`+strconv.FormatInt(after, 10)+`}`))); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	return s.Audit.Walk(ctx, after, func(e *audit.Event) error { return enc.Encode(FromEvent(e)) })
}
