// Package replies is the answer to a petition, from draft to signed PDF:
// an official drafts it, a reviewer approves it or sends it back, a signer
// signs it through Vault (a Decree 30 document, numbered, with a QR code
// leading to the public register), and the petitioner and the public fetch
// it. Each step moves the petition (internal/petitions) in the same
// transaction as the reply and its audit event.
package replies

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/deadline"
	"pakn/internal/msg"
	"pakn/internal/pdfrender"
	"pakn/internal/petition"
	"pakn/internal/petitions"
	"pakn/internal/reply"
	"pakn/internal/store"
	"pakn/internal/verify"
)

// KeyRing gives the crypto.Signer of one version of a signer's key, whose
// certificate is cert (in production a Vault Transit key: see
// internal/vault.Client.SignerKey).
type KeyRing interface {
	SignerKey(key string, version int, cert *x509.Certificate) (crypto.Signer, error)
}

// PDFSigner adds a signature to a rendered reply (in production
// internal/signing.SignPDF).
type PDFSigner func(doc []byte, r reply.SignRequest) ([]byte, error)

// Documents configures the signed replies.
type Documents struct {
	PublicURL string // the public site, e.g. https://pakn.hanoi.gov.vn; the QR code leads to PublicURL/verify/{reply id}
	Place     string // where documents are issued, e.g. "Hà Nội"
	// Stamp is the time-stamping authority (internal/tsa in process, or
	// signing.TSAClient for an external one): every document carries a
	// signature time-stamp. Nil only where untimed documents are wanted
	// (tests of older forms).
	Stamp reply.Stamper
	// CRLs gives the CAs' current revocation lists (DER), embedded with
	// the chain and a document time-stamp (PAdES B-LTA); nil: B-T only.
	CRLs func(ctx context.Context) ([][]byte, error)
}

// Service takes replies from draft to signed PDF.
type Service struct {
	petitions     *petitions.Service
	tx            store.Tx
	audit         store.Audit
	agency        store.Agencies
	replies       store.Replies
	receipts      store.Receipts
	petitionStore store.Petitions
	accounts      store.Accounts // nil: no signing hold after a credential reset is checked
	hold          time.Duration
	keys          KeyRing
	signPDF       PDFSigner
	archive       Archiver
	docs          Documents
	now           func() time.Time
}

// Config holds the Service's dependencies.
type Config struct {
	Petitions *petitions.Service // the petitions the replies answer (required)
	Stores    store.Set          // Tx, Audit, Agencies, Petitions, Replies and Receipts are used
	Keys      KeyRing            // signers' keys; nil disables signing (503)
	SignPDF   PDFSigner          // required with Keys (signing.SignPDF)
	Archive   Archiver           // archive time-stamps (signing.Archive); nil: ArchiveTimestamps answers 503
	Docs      Documents          // signed replies
	Now       func() time.Time   // time.Now when nil
	// HoldAfterReset is how long a signer may not sign after someone else
	// reset their password or MFA (DefaultHoldAfterReset when zero); read
	// from Stores.Accounts, when given.
	HoldAfterReset time.Duration
}

// DefaultHoldAfterReset is the signing hold after a signer's credentials
// were reset: whoever reset them may be the one signing in.
const DefaultHoldAfterReset = 24 * time.Hour

// New returns the replies service. It builds none of its collaborators.
func New(c Config) (*Service, error) {
	st := c.Stores
	need := st.Given("Tx", "Audit", "Agencies", "Petitions", "Replies", "Receipts")
	need["Petitions"] = c.Petitions != nil
	if c.Keys != nil {
		need["SignPDF (with Keys)"] = c.SignPDF != nil
	}
	if err := store.Missing("replies", need); err != nil {
		return nil, err
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HoldAfterReset <= 0 {
		c.HoldAfterReset = DefaultHoldAfterReset
	}
	return &Service{petitions: c.Petitions, tx: st.Tx, audit: st.Audit, agency: st.Agencies, replies: st.Replies, receipts: st.Receipts,
		petitionStore: st.Petitions, accounts: st.Accounts, keys: c.Keys, signPDF: c.SignPDF, archive: c.Archive, docs: c.Docs, now: c.Now, hold: c.HoldAfterReset}, nil
}

// Transition moves a petition by transition t: the reply's steps
// (draft_reply, approve_reply, send_back, sign_reply) here, every other
// transition through internal/petitions. It is the one entry for all of a
// petition's transitions.
func (s *Service) Transition(ctx context.Context, m audit.Meta, p access.Principal, id string, t petition.Transition, in petitions.TransitionInput) error {
	if !petition.ReplyStep(t) {
		return s.petitions.Transition(ctx, m, p, id, t, in)
	}
	a, _ := petitions.ActionFor(t)
	if _, err := s.petitions.ForStaff(ctx, m, p, a, id); err != nil {
		return err
	}
	switch t {
	case petition.DraftReply:
		rec, err := s.petitionStore.Petition(ctx, id)
		if err != nil {
			return err
		}
		if _, ok := petition.Next(rec.State, t); !ok { // corrections go through DraftReply itself
			return petitions.StateConflict(rec.State, t)
		}
		if in.Reply == nil {
			return petition.Invalid(petition.Problem("reply", msg.ReplyContentRequired))
		}
		_, err = s.DraftReply(ctx, m, p, id, *in.Reply, "")
		return err
	}
	want := reply.Draft
	if t == petition.SignReply {
		want = reply.Approved
	}
	r, err := s.replies.OpenReplyOf(ctx, id, want)
	if errors.Is(err, store.ErrNotFound) {
		rec, err := s.petitionStore.Petition(ctx, id)
		if err != nil {
			return err
		}
		return petitions.StateConflict(rec.State, t)
	}
	if err != nil {
		return err
	}
	if t == petition.SignReply {
		_, err = s.SignReply(ctx, m, p, r.ID)
	} else {
		_, err = s.ReviewReply(ctx, m, p, r.ID, t == petition.ApproveReply, in.Note)
	}
	return err
}

var errReplyNotFound = apperr.New(apperr.NotFound, msg.NoSuchReply)

// staffReply loads a reply and its petition for an action of p; another
// agency's reply is answered as missing and the attempt audited.
func (s *Service) staffReply(ctx context.Context, m audit.Meta, p access.Principal, a access.Action, id string) (*reply.Reply, *petition.Stored, error) {
	if !reply.LooksLikeID(id) {
		return nil, nil, s.petitions.Missing(ctx, m, p, a, "reply", id, errReplyNotFound)
	}
	r, err := s.replies.Reply(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, s.petitions.Missing(ctx, m, p, a, "reply", id, errReplyNotFound)
	}
	if err != nil {
		return nil, nil, err
	}
	rec, err := s.petitions.ForStaff(ctx, m, p, a, r.PetitionID)
	if err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return nil, nil, errReplyNotFound
		}
		return nil, nil, err
	}
	return r, rec, nil
}

// notHeld refuses a signature by p while the hold after someone else reset
// p's password or MFA runs (an administrator who reset a signer and signs
// in as them cannot sign at once; the audit log's alert says so meanwhile).
func (s *Service) notHeld(ctx context.Context, p access.Principal) error {
	if s.accounts == nil || p.Kind != access.Staff {
		return nil
	}
	c, err := s.accounts.Credentials(ctx, p.ID)
	if err != nil {
		return err
	}
	if until := c.CredentialsResetAt.Add(s.hold); !c.CredentialsResetAt.IsZero() && s.now().Before(until) {
		return apperr.New(apperr.Conflict, msg.SigningHeldAfterReset, until.In(deadline.ICT).Format("02/01/2006 15:04"))
	}
	return nil
}

func replyConflict(r *reply.Reply, what string) error {
	e := apperr.New(apperr.Conflict, msg.ReplyCannotInStatus, r.Status, what)
	e.Extra = map[string]any{"reply_status": r.Status}
	return e
}

// lockReply locks the reply's petition, then the reply itself, in tx.
func (s *Service) lockReply(ctx context.Context, p access.Principal, r *reply.Reply) (*petition.Stored, *reply.Reply, error) {
	pet, err := s.petitions.Lock(ctx, p, r.PetitionID)
	if err != nil {
		return nil, nil, err
	}
	cur, err := s.replies.LockReply(ctx, r.ID)
	if err != nil {
		return nil, nil, err
	}
	return pet, cur, nil
}

// DraftReply stores an official's structured reply. On a petition being
// handled it moves the petition to reply_drafted (and, after a reopening,
// supersedes the earlier signed reply). On a petition whose reply is
// signed, published or closed, it is a correction and must name the
// current signed reply in supersedes.
func (s *Service) DraftReply(ctx context.Context, m audit.Meta, p access.Principal, petitionID string, c reply.Content, supersedes string) (*reply.Reply, error) {
	if _, err := s.petitions.ForStaff(ctx, m, p, access.PetitionHandle, petitionID); err != nil {
		return nil, err
	}
	if fes := c.Normalize(); len(fes) > 0 {
		return nil, petition.Invalid(fes...)
	}
	now := s.now()
	id, err := petition.NewID(now)
	if err != nil {
		return nil, err
	}
	var out *reply.Reply
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		pet, err := s.petitions.Lock(ctx, p, petitionID)
		if err != nil {
			return err
		}
		cur, err := s.replies.CurrentSigned(ctx, pet.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		r := &reply.Reply{ID: id, PetitionID: pet.ID, Agency: pet.Agency, Status: reply.Draft, Content: c, DraftedBy: p.ID, DraftedAt: now}
		correction := false
		switch pet.State {
		case petition.InProgress:
			if supersedes != "" && (cur == nil || cur.ID != supersedes) {
				return apperr.New(apperr.Conflict, msg.OnlyCurrentSuperseded)
			}
			if cur != nil {
				r.Supersedes = cur.ID
			}
			if err := s.petitions.Advance(ctx, p, pet, petition.DraftReply, petitions.TransitionInput{}, now); err != nil {
				return err
			}
		case petition.ReplySigned, petition.Published, petition.Closed:
			if cur == nil || supersedes != cur.ID {
				return apperr.New(apperr.Conflict, msg.CorrectionNamesCurrent)
			}
			r.Supersedes, correction = cur.ID, true
			if err := s.petitionStore.AddEvent(ctx, pet.ID, petition.Event{At: now, Kind: "correction_drafted", FromState: pet.State, ToState: pet.State,
				FromAgency: pet.Agency, ToAgency: pet.Agency, Actor: audit.ActorOf(p)}); err != nil {
				return err
			}
		default:
			return petitions.StateConflict(pet.State, petition.DraftReply)
		}
		if err := s.replies.InsertReply(ctx, r); errors.Is(err, store.ErrConflict) {
			return apperr.New(apperr.Conflict, msg.AnotherReplyOpen)
		} else if err != nil {
			return err
		}
		out = r
		return s.audit.Append(ctx, audit.EventOf(m, p, "petition.draft_reply", "reply", r.ID, audit.Success,
			audit.Details(map[string]any{"petition": pet.ID, "supersedes": r.Supersedes, "correction": correction, "outcome": c.Outcome})))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReviewReply approves a draft or sends it back with a comment. Whoever
// drafted a reply cannot review it.
func (s *Service) ReviewReply(ctx context.Context, m audit.Meta, p access.Principal, replyID string, approve bool, comment string) (*reply.Reply, error) {
	r, _, err := s.staffReply(ctx, m, p, access.PetitionReview, replyID)
	if err != nil {
		return nil, err
	}
	comment = petition.Clean(comment, true)
	if utf8.RuneCountInString(comment) > reply.MaxComment || (!approve && comment == "") {
		return nil, petition.Invalid(petition.Problem("note", msg.SayWhySentBackBounded))
	}
	t, st := petition.ApproveReply, reply.Approved
	if !approve {
		t, st = petition.SendBack, reply.SentBack
	}
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		pet, cur, err := s.lockReply(ctx, p, r)
		if err != nil {
			return err
		}
		if cur.Status != reply.Draft {
			return replyConflict(cur, "review")
		}
		if cur.DraftedBy == p.ID {
			return apperr.New(apperr.Forbidden, msg.DrafterCannotReview)
		}
		now := s.now()
		if err := s.replies.SetReview(ctx, cur.ID, st, p.ID, comment, now); err != nil {
			return err
		}
		correction := pet.State != petition.ReplyDrafted
		if !correction {
			if err := s.petitions.Advance(ctx, p, pet, t, petitions.TransitionInput{Note: comment}, now); err != nil {
				return err
			}
		} else if err := s.petitionStore.AddEvent(ctx, pet.ID, petition.Event{At: now, Kind: "correction_" + string(st), FromState: pet.State,
			ToState: pet.State, FromAgency: pet.Agency, ToAgency: pet.Agency, Actor: audit.ActorOf(p), Note: comment}); err != nil {
			return err
		}
		return s.audit.Append(ctx, audit.EventOf(m, p, "petition."+string(t), "reply", cur.ID, audit.Success, audit.Details(map[string]any{"petition": pet.ID, "correction": correction})))
	})
	if err != nil {
		return nil, err
	}
	return s.replies.Reply(ctx, r.ID)
}

// SignReply renders an approved reply to PDF, signs it with the signer's
// key in Vault and stores it with its audit event, in one transaction:
// if Vault is sealed, unreachable or slow the answer is 503, nothing is
// stored, and the reply stays approved for a retry. Signing a reply that
// is already signed returns it unchanged: one approved reply, one document.
func (s *Service) SignReply(ctx context.Context, m audit.Meta, p access.Principal, replyID string) (*reply.Reply, error) {
	r, rec, err := s.staffReply(ctx, m, p, access.PetitionSign, replyID)
	if err != nil {
		return nil, err
	}
	if r.Status == reply.Signed {
		return r, nil
	}
	if r.Status != reply.Approved {
		return nil, replyConflict(r, "sign")
	}
	if s.keys == nil {
		return nil, apperr.New(apperr.Unavailable, msg.SigningNotConfigured)
	}
	if err := s.notHeld(ctx, p); err != nil {
		return nil, err
	}
	signer, err := s.replies.ActiveSigner(ctx, p.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.Conflict, msg.NoSigningKey)
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.keys.SignerKey(signer.KeyName, signer.KeyVersion, signer.Certificate); err != nil {
		return nil, err // the key version and its certificate are proven to match before anything is locked
	}
	who, err := s.petitions.Petitioner(ctx, rec)
	if err != nil {
		return nil, err
	}
	var out *reply.Reply
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		pet, cur, err := s.lockReply(ctx, p, r)
		if err != nil {
			return err
		}
		if cur.Status == reply.Signed { // signed meanwhile by a concurrent request
			out = cur
			return nil
		}
		if cur.Status != reply.Approved {
			return replyConflict(cur, "sign")
		}
		now := s.now()
		doc, err := s.issue(ctx, pet, cur, *who, signer, now)
		if err != nil {
			return err
		}
		doc.SignedBy = p.ID
		if err := s.replies.InsertSigned(ctx, doc); err != nil {
			return err
		}
		if pet.State == petition.ReplyApproved {
			if err := s.petitions.Advance(ctx, p, pet, petition.SignReply, petitions.TransitionInput{Note: doc.Number}, now); err != nil {
				return err
			}
		} else if err := s.petitionStore.AddEvent(ctx, pet.ID, petition.Event{At: now, Kind: "correction_signed", FromState: pet.State, ToState: pet.State,
			FromAgency: pet.Agency, ToAgency: pet.Agency, Actor: audit.ActorOf(p), Note: doc.Number}); err != nil {
			return err
		}
		if err := s.audit.Append(ctx, audit.EventOf(m, p, "petition.sign_reply", "reply", cur.ID, audit.Success, audit.Details(map[string]any{
			"petition": pet.ID, "number": doc.Number, "sha256": doc.SHA256, "size": len(doc.PDF), "signer": signer.ID,
			"key": signer.KeyName, "key_version": signer.KeyVersion, "supersedes": cur.Supersedes, "timestamped": doc.Timestamped}))); err != nil {
			return err
		}
		out, err = s.replies.Reply(ctx, cur.ID)
		return err
	})
	if err != nil {
		if apperr.CodeOf(err) == apperr.Unavailable {
			// Record the failed attempt (best effort: the database may be what failed).
			_ = s.audit.Record(ctx, audit.EventOf(m, p, "petition.sign_reply", "reply", r.ID, audit.Failure,
				audit.Details(map[string]any{"reason": "signing service unavailable"})))
		}
		return nil, err
	}
	return out, nil
}

// issue numbers a reply, and renders and signs its two versions: the
// personal one, addressed to the petitioner, and the public one, addressed
// to "Người phản ánh" without an address (what the public register serves).
// Each is one Transit signature.
func (s *Service) issue(ctx context.Context, pet *petition.Stored, r *reply.Reply, who petition.Petitioner,
	signer *reply.Signer, now time.Time) (*reply.SignedDocument, error) {
	year := now.In(deadline.ICT).Year()
	seq, err := s.replies.NextNumber(ctx, pet.Agency, year)
	if err != nil {
		return nil, err
	}
	number := reply.Number(seq, pet.Agency)
	d, letter, err := s.document(ctx, pet, r, who, number, now)
	if err != nil {
		return nil, err
	}
	name := d.Agency
	d.OnBehalf, d.SignerTitle, d.SignerName = signer.OnBehalf, signer.Title, signer.FullName
	personal, err := s.signReply(ctx, d, signer, pet, number, now)
	if err != nil {
		return nil, err
	}
	letter.Petitioner = petition.Petitioner{} // the public version names nobody
	d.Subject, d.Recipient, d.RecipientAddr = "V/v trả lời phản ánh, kiến nghị mã "+pet.TrackingCode, reply.Salutation(letter.Petitioner), ""
	d.Paragraphs = r.Content.Paragraphs(letter)
	public, err := s.signReply(ctx, d, signer, pet, number, now)
	if err != nil {
		return nil, err
	}
	sum, psum := sha256.Sum256(personal), sha256.Sum256(public)
	binding, err := verify.Binding(personal)
	if err != nil {
		return nil, fmt.Errorf("sign reply: %w", err)
	}
	pbinding, err := verify.Binding(public)
	if err != nil {
		return nil, fmt.Errorf("sign public reply: %w", err)
	}
	words := []string{number, name, r.Content.Summary, r.Content.Answer}
	for _, l := range r.Content.LegalBasis {
		words = append(words, l.Document, l.Articles)
	}
	return &reply.SignedDocument{ReplyID: r.ID, PetitionID: pet.ID, Agency: pet.Agency, Number: number, Year: year, Seq: seq,
		PDF: personal, SHA256: hex.EncodeToString(sum[:]), Binding: binding,
		PublicPDF: public, PublicSHA256: hex.EncodeToString(psum[:]), PublicBinding: pbinding,
		Search:   petition.Fold(strings.Join(words, " ")),
		SignerID: signer.ID, KeyName: signer.KeyName, KeyVersion: signer.KeyVersion,
		Certificate: signer.Certificate.Raw, SignedAt: now, Timestamped: s.docs.Stamp != nil}, nil
}

// document is the personal version of reply r to petition pet, addressed
// to who, numbered number and dated now, without its signer, and the
// letter its words are written from.
func (s *Service) document(ctx context.Context, pet *petition.Stored, r *reply.Reply, who petition.Petitioner, number string,
	now time.Time) (pdfrender.Document, reply.Letter, error) {
	name, parent, err := s.agency.Heading(ctx, pet.Agency)
	if err != nil {
		return pdfrender.Document{}, reply.Letter{}, err
	}
	replaces := ""
	if r.Supersedes != "" {
		old, err := s.replies.Reply(ctx, r.Supersedes)
		if err != nil {
			return pdfrender.Document{}, reply.Letter{}, err
		}
		if old.Document != nil {
			replaces = fmt.Sprintf("Văn bản số %s ngày %s", old.Document.Number, old.Document.SignedAt.In(deadline.ICT).Format("02/01/2006"))
		}
	}
	letter := reply.Letter{AgencyName: name, Petitioner: who, TrackingCode: pet.TrackingCode, ReceivedAt: pet.ReceivedAt, Replaces: replaces}
	d := pdfrender.Document{
		ParentAgency: parent, Agency: name, Number: number, Place: s.docs.Place, Date: now,
		Subject:   "V/v trả lời phản ánh, kiến nghị của " + reply.Salutation(who),
		Recipient: reply.Salutation(who), RecipientAddr: who.Address, Paragraphs: r.Content.Paragraphs(letter),
		CC:        []string{"Như trên;", "Cổng tiếp nhận phản ánh, kiến nghị;", "Lưu: VT, " + pet.Agency + "."},
		VerifyURL: strings.TrimRight(s.docs.PublicURL, "/") + "/verify/" + r.ID, ShortCode: reply.ShortCode(r.ID),
		TrackingCode: pet.TrackingCode, ReplyID: r.ID,
	}
	if utf8.RuneCountInString(d.Subject) > 160 {
		d.Subject = "V/v trả lời phản ánh, kiến nghị mã " + pet.TrackingCode
	}
	return d, letter, nil
}

// PreviewPDF renders a reply not yet signed as the personal version will
// look, for staff to read before anyone signs: marked as a preview across
// every page, not numbered, not signed, without a QR code. The petitioner's
// address is printed, so the reading is audited (reply.preview).
func (s *Service) PreviewPDF(ctx context.Context, m audit.Meta, p access.Principal, replyID string) ([]byte, error) {
	r, rec, err := s.staffReply(ctx, m, p, access.PetitionRead, replyID)
	if err != nil {
		return nil, err
	}
	if r.Status == reply.Signed {
		return nil, replyConflict(r, "preview")
	}
	who, err := s.petitions.Petitioner(ctx, rec)
	if err != nil {
		return nil, err
	}
	d, _, err := s.document(ctx, rec, r, *who, "…/"+rec.Agency+"-PAKN", s.now())
	if err != nil {
		return nil, err
	}
	d.SignerTitle, d.SignerName, d.VerifyURL, d.ShortCode = "NGƯỜI KÝ", "(chưa ký)", "", ""
	d.Preview = "BẢN XEM TRƯỚC – CHƯA KÝ SỐ, CHƯA CÓ SỐ VĂN BẢN, KHÔNG CÓ GIÁ TRỊ PHÁP LÝ"
	pdf, err := pdfrender.Render(d)
	if err != nil {
		return nil, err
	}
	if err := s.audit.Record(ctx, audit.EventOf(m, p, "reply.preview", "reply", r.ID, audit.Success, nil)); err != nil {
		return nil, err
	}
	return pdf, nil
}

// signReply renders d and signs it with signer's key (one Transit call).
func (s *Service) signReply(ctx context.Context, d pdfrender.Document, signer *reply.Signer, pet *petition.Stored, number string, now time.Time) ([]byte, error) {
	unsigned, err := pdfrender.Render(d)
	if err != nil {
		return nil, err
	}
	return s.sign(ctx, unsigned, signer.KeyName, signer.KeyVersion, signer.Certificate, signer.Chain, signer.FullName,
		"Tra loi phan anh, kien nghi "+pet.TrackingCode+" ("+number+")", now)
}

// sign signs an unsigned PDF with version version of the Transit key
// keyName, whose certificate is cert (one Transit call), at the place the
// documents are issued, time-stamped by the configured authority and with
// the CAs' current revocation lists embedded: the one way replies and
// receipts are signed. It fails closed: a revocation list or a time-stamp
// that cannot be had is apperr.Unavailable, and nothing is signed.
func (s *Service) sign(ctx context.Context, unsigned []byte, keyName string, version int, cert *x509.Certificate, chain []*x509.Certificate,
	name, reason string, now time.Time) ([]byte, error) {
	crls, err := s.validationCRLs(ctx)
	if err != nil {
		return nil, err
	}
	key, err := s.keys.SignerKey(keyName, version, cert)
	if err != nil {
		return nil, err
	}
	return s.signPDF(unsigned, reply.SignRequest{Signer: key, Chain: chain, Name: name, Reason: reason,
		Location: s.docs.Place + ", Viet Nam", Time: now, Stamp: s.docs.Stamp, CRLs: crls})
}

// validationCRLs are the CAs' current lists to embed (none when no source
// is configured); a source that cannot give them is apperr.Unavailable.
func (s *Service) validationCRLs(ctx context.Context) ([][]byte, error) {
	if s.docs.CRLs == nil {
		return nil, nil
	}
	crls, err := s.docs.CRLs(ctx)
	if err != nil {
		return nil, apperr.Wrap(err, apperr.Unavailable, "revocation lists", msg.SigningKeyUnavailable)
	}
	return crls, nil
}

// Replies lists a petition's replies for staff.
func (s *Service) Replies(ctx context.Context, m audit.Meta, p access.Principal, petitionID string) ([]reply.Reply, error) {
	if _, err := s.petitions.ForStaff(ctx, m, p, access.PetitionRead, petitionID); err != nil {
		return nil, err
	}
	return s.replies.Replies(ctx, petitionID)
}

// Reply returns one reply for staff.
func (s *Service) Reply(ctx context.Context, m audit.Meta, p access.Principal, replyID string) (*reply.Reply, error) {
	r, _, err := s.staffReply(ctx, m, p, access.PetitionRead, replyID)
	return r, err
}

// ReplyPDF returns a signed reply's PDF to staff; the download is audited.
func (s *Service) ReplyPDF(ctx context.Context, m audit.Meta, p access.Principal, replyID string) (*reply.Reply, []byte, error) {
	r, _, err := s.staffReply(ctx, m, p, access.PetitionRead, replyID)
	if err != nil {
		return nil, nil, err
	}
	return s.download(ctx, m, p, r)
}

func (s *Service) download(ctx context.Context, m audit.Meta, p access.Principal, r *reply.Reply) (*reply.Reply, []byte, error) {
	if r.Document == nil {
		return nil, nil, apperr.New(apperr.NotFound, msg.ReplyNotSigned)
	}
	b, err := s.replies.PDF(ctx, r.ID)
	if err != nil {
		return nil, nil, err
	}
	err = s.audit.Record(ctx, audit.EventOf(m, p, "reply.download", "reply", r.ID, audit.Success,
		audit.Details(map[string]any{"sha256": r.Document.SHA256})))
	return r, b, err
}

// PetitionerReplyPDF gives the petitioner, with tracking code and secret,
// the current signed reply to their petition.
func (s *Service) PetitionerReplyPDF(ctx context.Context, m audit.Meta, code, secret string) (*reply.Reply, []byte, error) {
	rec, err := s.petitions.ByPetitioner(ctx, m, code, secret, "reply.download")
	if err != nil {
		return nil, nil, err
	}
	r, err := s.replies.CurrentSigned(ctx, rec.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, apperr.New(apperr.NotFound, msg.NoSignedReply)
	}
	if err != nil {
		return nil, nil, err
	}
	return s.download(ctx, m, access.Principal{Kind: access.Anonymous, Name: "petitioner"}, r)
}

// PublishedReply returns the public version of a signed reply from the
// public register (addressed to "Người phản ánh", without an address): only
// once its petition's answer is published (published or closed since).
func (s *Service) PublishedReply(ctx context.Context, replyID string) (*reply.Reply, []byte, error) {
	if !reply.LooksLikeID(replyID) {
		return nil, nil, errReplyNotFound
	}
	r, err := s.replies.Reply(ctx, replyID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && r.Document == nil) {
		return nil, nil, errReplyNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	pet, err := s.petitionStore.Petition(ctx, r.PetitionID)
	if err != nil {
		return nil, nil, err
	}
	if pet.State != petition.Published && pet.State != petition.Closed {
		return nil, nil, errReplyNotFound
	}
	// The public version only: no petitioner's name or address is published
	// (a reply signed before public versions existed is not served).
	b, err := s.replies.PublicPDF(ctx, r.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, errReplyNotFound
	}
	if err != nil {
		return nil, nil, err
	}
	return r, b, nil
}
