package desk

import (
	"context"
	"errors"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/msg"
	"pakn/internal/reply"
	"pakn/internal/store"
	"pakn/internal/verify"
)

// RegisterLookup is the verifier's view of the register of issued replies
// kept by replies: a reply found by the SHA-256 of its PDF, current or
// superseded.
func RegisterLookup(replies store.Replies) verify.RegisterLookup {
	return func(ctx context.Context, sum string) (*verify.Register, error) {
		e, err := replies.Register(ctx, "sha256", sum)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		r := &verify.Register{Found: true, ReplyID: e.ReplyID, TrackingCode: e.TrackingCode, Number: e.Number, Agency: e.Agency,
			AgencyName: e.AgencyName, SignedAt: e.SignedAt, SignerName: e.SignerName, Status: "current", SupersededBy: e.SupersededBy}
		if e.SupersededBy != "" {
			r.Status = "superseded"
		}
		return r, nil
	}
}

// VerifyDocument checks a PDF someone holds and records the verification in
// the audit log (time, client address as a keyed hash, the document's
// SHA-256 and size, the indication, the matched reply) before answering: if
// the event cannot be written, the answer is 503 and no report is given.
func (s *Service) VerifyDocument(ctx context.Context, m audit.Meta, p access.Principal, doc []byte) (*verify.Report, error) {
	if s.verifier == nil {
		return nil, apperr.New(apperr.Unavailable, msg.VerificationNotConfigured)
	}
	rep := s.verifier.Verify(ctx, doc)
	det := map[string]any{"sha256": rep.SHA256, "size": rep.Size, "indication": rep.Indication, "sub_indication": rep.SubIndication}
	if rep.Register != nil && rep.Register.Found {
		det["reply"] = rep.Register.ReplyID
	}
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		return s.audit.Append(ctx, audit.EventOf(m, p, "verification.check", "document", rep.SHA256, audit.Success, details(det)))
	})
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "audit verification",
			msg.VerificationNotRecorded)
	}
	return rep, nil
}

// RegisterEntry is the public register's entry for one issued reply.
type RegisterEntry struct {
	ReplyID      string `json:"reply_id"`
	ShortCode    string `json:"short_code"`
	TrackingCode string `json:"tracking_code"`
	Number       string `json:"number"`
	Agency       string `json:"agency"`
	AgencyName   string `json:"agency_name"`
	SignedAt     string `json:"signed_at"`
	SignerName   string `json:"signer_name"`
	SignerTitle  string `json:"signer_title"`
	SHA256       string `json:"sha256"`
	Size         int    `json:"size"`
	Status       string `json:"status"` // current, superseded or revoked
	SupersededBy string `json:"superseded_by,omitempty"`
	Published    bool   `json:"published"`
}

// Register returns the register's entry for a signed reply, by id or by the
// short code printed on it (what the QR code of a reply leads to): agency, date, signer, SHA-256 and whether it is
// current, superseded, or signed with a since-revoked key. Drafts and
// unknown ids are not found.
func (s *Service) Register(ctx context.Context, idOrCode string) (*RegisterEntry, error) {
	by, value := "id", idOrCode
	if !uuidLike(idOrCode) {
		code, ok := reply.ParseShortCode(idOrCode)
		if !ok {
			return nil, errReplyNotFound
		}
		by, value = "short", code
	}
	e, err := s.replies.Register(ctx, by, value)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errReplyNotFound
	}
	if err != nil {
		return nil, err
	}
	out := &RegisterEntry{ReplyID: e.ReplyID, ShortCode: reply.ShortCode(e.ReplyID), TrackingCode: e.TrackingCode, Number: e.Number, Agency: e.Agency, AgencyName: e.AgencyName,
		SignedAt: e.SignedAt.In(vnZone).Format("02/01/2006 15:04 (UTC+7)"), SignerName: e.SignerName, SignerTitle: e.SignerTitle,
		SHA256: e.SHA256, Size: e.Size, Status: "current", SupersededBy: e.SupersededBy, Published: e.Published}
	switch {
	case e.SignerStatus == "revoked":
		out.Status = "revoked"
	case e.SupersededBy != "":
		out.Status = "superseded"
	}
	return out, nil
}
