package replies

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/msg"
	"pakn/internal/reply"
	"pakn/internal/store"
	"pakn/internal/verify"
)

// Archiver adds an archive time-stamp to a signed PDF: a document
// time-stamp from stamp over an update that adds certs and crls to its
// security store (in production internal/signing.Archive).
type Archiver func(doc []byte, stamp reply.Stamper, certs, crls [][]byte) ([]byte, error)

// ArchiveReport says what ArchiveTimestamps did.
type ArchiveReport struct {
	Checked  int // documents read
	Renewed  int // documents given an archive time-stamp
	Conflict int // documents renewed meanwhile by another run
}

// ArchiveTimestamps renews the proof of existence of signed documents
// (both versions of replies, and receipts) whose newest time-stamp's
// certificate ends within `within`: each gets a new version, its newest
// one with a document time-stamp from the configured authority over the
// current CRLs, the signed revisions untouched (its binding, by which the
// register finds it, stays the same; every version is kept). Documents
// last time-stamped less than minLife ago are not read: a time-stamp
// certificate has at least that much life left when it is used (pakn
// bootstrap renews it before). At most limit documents are read; each new
// version and its audit event (document.archive_timestamp) commit
// together. p is the operator running it.
func (s *Service) ArchiveTimestamps(ctx context.Context, m audit.Meta, p access.Principal, within, minLife time.Duration, limit int) (ArchiveReport, error) {
	var rep ArchiveReport
	if s.archive == nil || s.docs.Stamp == nil {
		return rep, apperr.New(apperr.Unavailable, msg.SigningNotConfigured)
	}
	now := s.now()
	due, err := s.replies.ArchiveDue(ctx, now.Add(within-minLife), limit)
	if err != nil {
		return rep, err
	}
	for _, a := range due {
		renewed, err := s.archiveOne(ctx, m, p, a, now.Add(within))
		switch {
		case errors.Is(err, store.ErrConflict):
			rep.Conflict++
		case err != nil:
			return rep, fmt.Errorf("%s %s: %w", a.Kind, a.ID, err)
		case renewed:
			rep.Renewed++
		}
		rep.Checked++
	}
	return rep, nil
}

// archiveOne renews one document when its newest time-stamp's
// certificate ends before deadline.
func (s *Service) archiveOne(ctx context.Context, m audit.Meta, p access.Principal, a reply.Archived, deadline time.Time) (bool, error) {
	doc, err := s.versionPDF(ctx, a)
	if err != nil {
		return false, err
	}
	until, err := verify.StampedUntil(doc)
	if err != nil {
		return false, err
	}
	if until.After(deadline) {
		return false, nil
	}
	crls, err := s.validationCRLs(ctx)
	if err != nil {
		return false, err
	}
	renewed, err := s.archive(doc, s.docs.Stamp, nil, crls)
	if err != nil {
		return false, err
	}
	// The signed revisions are untouched: the same signature, the same binding.
	was, err1 := verify.Binding(doc)
	is, err2 := verify.Binding(renewed)
	if err1 != nil || err2 != nil || was != is {
		return false, fmt.Errorf("the renewed document's binding changed (%v, %v)", err1, err2)
	}
	sum := sha256.Sum256(renewed)
	v := &reply.DocumentVersion{Of: a, PDF: renewed, SHA256: hex.EncodeToString(sum[:]), Size: len(renewed), StampedAt: s.now()}
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.replies.AddVersion(ctx, v); err != nil {
			return err
		}
		return s.audit.Append(ctx, audit.EventOf(m, p, "document.archive_timestamp", a.Kind, a.ID, audit.Success, audit.Details(map[string]any{
			"version": a.Version + 1, "sha256": v.SHA256, "size": v.Size, "previous_stamp_until": until.UTC()})))
	})
	return err == nil, err
}

// versionPDF reads the newest version of a document.
func (s *Service) versionPDF(ctx context.Context, a reply.Archived) ([]byte, error) {
	switch a.Kind {
	case reply.KindReply:
		return s.replies.PDF(ctx, a.ID)
	case reply.KindPublicReply:
		return s.replies.PublicPDF(ctx, a.ID)
	case reply.KindReceipt:
		r, err := s.receipts.Receipt(ctx, a.ID)
		if err != nil {
			return nil, err
		}
		return r.PDF, nil
	}
	return nil, fmt.Errorf("unknown kind of document %q", a.Kind)
}
