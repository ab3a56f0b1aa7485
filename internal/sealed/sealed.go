// Package sealed keeps citizens' words encrypted at rest. It wraps the
// stores: a petition's title and body, its files (chunk by chunk) and
// their names, its timeline's notes, its signed receipt, a reply's content
// and the personal version of a signed reply are sealed before they are
// written (the envelope scheme of personal data, each ciphertext bound to
// its row and field, so it opens for no other) and opened as they are
// read; the words of the queue's and the register's searches go through a
// blind index (petition.SearchTokens under the search key), which is what
// the database holds instead of the words. The services above see plain
// words; a copy of the database without Vault and the search key shows
// none of them.
package sealed

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"pakn/internal/petition"
	"pakn/internal/reply"
	"pakn/internal/store"
)

// SearchKey derives the blind index's key from the service's audit key
// (PAKN_AUDIT_KEY_FILE), for this use only.
func SearchKey(auditKey []byte) []byte {
	mac := hmac.New(sha256.New, auditKey)
	mac.Write([]byte("pakn search index v1"))
	return mac.Sum(nil)
}

// Box seals words as text and files as bytes (internal/vault's
// EnvelopeBox).
type Box interface {
	store.Sealer
	store.BytesSealer
}

// Stores returns set with its Petitions, Replies and Receipts sealed (see
// Petitions, Replies and Receipts).
func Stores(set store.Set, box Box, searchKey []byte) store.Set {
	set.Petitions = Petitions(set.Petitions, box, searchKey)
	set.Replies = Replies(set.Replies, box, searchKey)
	set.Receipts = Receipts(set.Receipts, box)
	return set
}

// Petitions wraps inner so that titles, bodies and attachments are sealed
// by box at rest, and titles and bodies indexed for search under
// searchKey.
func Petitions(inner store.Petitions, box Box, searchKey []byte) store.Petitions {
	return &petitions{Petitions: inner, box: box, key: searchKey}
}

type petitions struct {
	store.Petitions
	box Box
	key []byte
}

// owner binds a sealed field to its petition.
func owner(id, field string) string { return "petition:" + id + "#" + field }

// seal returns a copy of p to store: its words sealed and indexed.
func (s *petitions) seal(ctx context.Context, p *petition.Stored) (*petition.Stored, error) {
	c := *p
	c.SearchTokens = petition.SearchTokens(s.key, p.Title+" "+p.Body)
	var err error
	if c.Title, err = s.box.Seal(ctx, owner(p.ID, "title"), []byte(p.Title)); err != nil {
		return nil, fmt.Errorf("seal the title: %w", err)
	}
	if c.Body, err = s.box.Seal(ctx, owner(p.ID, "body"), []byte(p.Body)); err != nil {
		return nil, fmt.Errorf("seal the body: %w", err)
	}
	c.WordsSealed = true
	return &c, nil
}

// open opens p's words in place (rows from before sealing are in clear).
func (s *petitions) open(ctx context.Context, p *petition.Petition) error {
	if !p.WordsSealed {
		return nil
	}
	t, err := openText(ctx, s.box, owner(p.ID, "title"), p.Title)
	if err != nil {
		return err
	}
	b, err := openText(ctx, s.box, owner(p.ID, "body"), p.Body)
	if err != nil {
		return err
	}
	p.Title, p.Body, p.WordsSealed = t, b, false
	return nil
}

func (s *petitions) opened(ctx context.Context, p *petition.Stored, err error) (*petition.Stored, error) {
	if err != nil {
		return nil, err
	}
	if err := s.open(ctx, &p.Petition); err != nil {
		return nil, err
	}
	return p, nil
}

// Prepare returns a copy of p to store, its words sealed and indexed (p
// itself when they are already).
func (s *petitions) Prepare(ctx context.Context, p *petition.Stored) (*petition.Stored, error) {
	if p.WordsSealed {
		return p, nil
	}
	return s.seal(ctx, p)
}

// WriteGroup seals the words of each submission not prepared yet, then
// writes the group.
func (s *petitions) WriteGroup(ctx context.Context, subs []store.Submission) error {
	out := make([]store.Submission, len(subs))
	for i, sub := range subs {
		p, err := s.Prepare(ctx, sub.Petition)
		if err != nil {
			return err
		}
		sub.Petition = p
		out[i] = sub
	}
	return s.Petitions.WriteGroup(ctx, out)
}

// Insert seals p's words unless it is prepared, then stores it.
func (s *petitions) Insert(ctx context.Context, p *petition.Stored) error {
	c, err := s.Prepare(ctx, p)
	if err != nil {
		return err
	}
	return s.Petitions.Insert(ctx, c)
}

// Petition loads a petition, its words opened.
func (s *petitions) Petition(ctx context.Context, id string) (*petition.Stored, error) {
	p, err := s.Petitions.Petition(ctx, id)
	return s.opened(ctx, p, err)
}

// LockPetition loads and locks a petition, its words opened.
func (s *petitions) LockPetition(ctx context.Context, id string) (*petition.Stored, error) {
	p, err := s.Petitions.LockPetition(ctx, id)
	return s.opened(ctx, p, err)
}

// PetitionByCode loads a petition by tracking code, its words opened.
func (s *petitions) PetitionByCode(ctx context.Context, code string) (*petition.Stored, error) {
	p, err := s.Petitions.PetitionByCode(ctx, code)
	return s.opened(ctx, p, err)
}

// Tracked reads what a look-up shows, the petition's words opened.
func (s *petitions) Tracked(ctx context.Context, code string) (*store.Tracked, error) {
	t, err := s.Petitions.Tracked(ctx, code)
	if err != nil {
		return nil, err
	}
	if err := s.open(ctx, &t.Petition.Petition); err != nil {
		return nil, err
	}
	return t, s.openNotes(ctx, t.Petition.ID, t.Events)
}

// List lists petitions, searching by the blind index of f.Query's words
// (at most petition.MaxSearchWords of them), their titles opened; a list
// carries no body (a queue shows titles: the body is opened where a
// petition is read whole).
func (s *petitions) List(ctx context.Context, f petition.Filter) ([]petition.Petition, int, error) {
	if f.Query != "" {
		f.QueryTokens = firstTokens(petition.SearchTokens(s.key, f.Query))
		f.Query = ""
	}
	list, n, err := s.Petitions.List(ctx, f)
	if err != nil {
		return nil, 0, err
	}
	for i := range list {
		p := &list[i]
		if p.WordsSealed {
			if p.Title, err = openText(ctx, s.box, owner(p.ID, "title"), p.Title); err != nil {
				return nil, 0, err
			}
			p.WordsSealed = false
		}
		p.Body = ""
	}
	return list, n, nil
}

// Unsealed is a store's access to petitions whose words are in clear
// (internal/postgres.PetitionStore).
type Unsealed interface {
	UnsealedPetitions(ctx context.Context, n int) ([]*petition.Stored, error)
	SealWords(ctx context.Context, p *petition.Stored) (bool, error)
}

// Reseal seals and indexes the words of every petition written before
// sealing existed, a hundred at a time, and returns how many it sealed.
func Reseal(ctx context.Context, st Unsealed, box Box, searchKey []byte) (int, error) {
	s := &petitions{box: box, key: searchKey}
	n := 0
	for {
		batch, err := st.UnsealedPetitions(ctx, 100)
		if err != nil || len(batch) == 0 {
			return n, err
		}
		for _, p := range batch {
			c, err := s.seal(ctx, p)
			if err != nil {
				return n, err
			}
			ok, err := st.SealWords(ctx, c)
			if err != nil {
				return n, err
			}
			if ok {
				n++
			}
		}
	}
}

// chunkOwner binds a sealed chunk to its attachment and place.
func chunkOwner(attachment string, seq int) string {
	return "attachment:" + attachment + "#" + strconv.Itoa(seq)
}

// AddAttachment stores an attachment with each chunk sealed, bound to the
// attachment (its id chosen here) and the chunk's place.
func (s *petitions) AddAttachment(ctx context.Context, petitionID string, pos int, a *petition.Attachment) error {
	c := *a
	if c.ID == "" {
		id, err := petition.NewID(time.Now())
		if err != nil {
			return err
		}
		c.ID = id
	}
	c.SealChunk = func(seq int, chunk []byte) ([]byte, error) { return s.box.SealBytes(ctx, chunkOwner(c.ID, seq), chunk) }
	var err error
	if c.Name, err = s.box.Seal(ctx, nameOwner(c.ID), []byte(a.Name)); err != nil {
		return fmt.Errorf("seal the file name: %w", err)
	}
	return s.Petitions.AddAttachment(ctx, petitionID, pos, &c)
}

// CopyAttachment writes an attachment's content to w, opening it chunk by
// chunk (an attachment stored before sealing is written as it is).
func (s *petitions) CopyAttachment(ctx context.Context, id string, w io.Writer) error {
	return s.Petitions.CopyAttachment(ctx, id, &opener{ctx: ctx, box: s.box, id: id, w: w})
}

// opener opens the sealed chunks written to it, one per Write.
type opener struct {
	ctx    context.Context
	box    Box
	id     string
	w      io.Writer
	seq    int
	sealed bool
}

func (o *opener) Write(p []byte) (int, error) {
	if o.seq == 0 {
		o.sealed = bytes.HasPrefix(p, []byte(store.SealedBytesPrefix))
	}
	out := p
	if o.sealed {
		var err error
		if out, err = o.box.OpenBytes(o.ctx, chunkOwner(o.id, o.seq), p); err != nil {
			return 0, fmt.Errorf("open chunk %d of attachment %s: %w", o.seq, o.id, err)
		}
	}
	o.seq++
	if _, err := o.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Replies wraps inner so that a reply's content (drafts and signed) and
// the personal version of each signed reply (addressed to the petitioner
// by name and address) are sealed at rest, bound to their reply, and the
// public register's search words are indexed under searchKey; the public
// version stays as it is, public.
func Replies(inner store.Replies, box Box, searchKey []byte) store.Replies {
	return &replies{replyStore: inner, box: box, key: searchKey}
}

// replyStore names the embedded store: store.Replies has a method Replies.
type replyStore = store.Replies

type replies struct {
	replyStore
	box Box
	key []byte
}

// contentOwner binds a reply's sealed content to the reply.
func contentOwner(replyID string) string { return "reply:" + replyID + "#content" }

// InsertReply seals the reply's content, then stores the reply.
func (s *replies) InsertReply(ctx context.Context, r *reply.Reply) error {
	b, err := json.Marshal(r.Content)
	if err != nil {
		return err
	}
	c := *r
	if c.SealedContent, err = s.box.Seal(ctx, contentOwner(r.ID), b); err != nil {
		return fmt.Errorf("seal the reply: %w", err)
	}
	return s.replyStore.InsertReply(ctx, &c)
}

// openContent opens a reply's sealed content into its Content.
func (s *replies) openContent(ctx context.Context, r *reply.Reply) error {
	if r.SealedContent == "" {
		return nil
	}
	b, err := s.box.Open(ctx, contentOwner(r.ID), r.SealedContent)
	if err != nil {
		return fmt.Errorf("open the content of reply %s: %w", r.ID, err)
	}
	if err := json.Unmarshal(b, &r.Content); err != nil {
		return fmt.Errorf("reply %s content: %w", r.ID, err)
	}
	r.SealedContent = ""
	return nil
}

func (s *replies) opened(ctx context.Context, r *reply.Reply, err error) (*reply.Reply, error) {
	if err != nil {
		return nil, err
	}
	if err := s.openContent(ctx, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Reply loads a reply, its content opened.
func (s *replies) Reply(ctx context.Context, id string) (*reply.Reply, error) {
	r, err := s.replyStore.Reply(ctx, id)
	return s.opened(ctx, r, err)
}

// LockReply loads and locks a reply, its content opened.
func (s *replies) LockReply(ctx context.Context, id string) (*reply.Reply, error) {
	r, err := s.replyStore.LockReply(ctx, id)
	return s.opened(ctx, r, err)
}

// OpenReplyOf returns a petition's open reply, its content opened.
func (s *replies) OpenReplyOf(ctx context.Context, petitionID string, st reply.Status) (*reply.Reply, error) {
	r, err := s.replyStore.OpenReplyOf(ctx, petitionID, st)
	return s.opened(ctx, r, err)
}

// CurrentSigned returns a petition's current signed reply, its content opened.
func (s *replies) CurrentSigned(ctx context.Context, petitionID string) (*reply.Reply, error) {
	r, err := s.replyStore.CurrentSigned(ctx, petitionID)
	return s.opened(ctx, r, err)
}

// Replies lists a petition's replies, their content opened.
func (s *replies) Replies(ctx context.Context, petitionID string) ([]reply.Reply, error) {
	list, err := s.replyStore.Replies(ctx, petitionID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if err := s.openContent(ctx, &list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// PublicRegister lists the register, searching by the blind index of the
// query's words, each entry's summary opened from its sealed content.
func (s *replies) PublicRegister(ctx context.Context, q reply.RegisterQuery) ([]reply.Listed, int, error) {
	if q.Query != "" {
		q.QueryTokens = firstTokens(petition.SearchTokens(s.key, q.Query))
		q.Query = ""
	}
	list, n, err := s.replyStore.PublicRegister(ctx, q)
	if err != nil {
		return nil, 0, err
	}
	for i := range list {
		l := &list[i]
		if l.SealedContent == "" {
			continue
		}
		r := reply.Reply{ID: l.ReplyID, SealedContent: l.SealedContent}
		if err := s.openContent(ctx, &r); err != nil {
			return nil, 0, err
		}
		l.Summary, l.SealedContent = r.Content.Summary, ""
	}
	return list, n, nil
}

// firstTokens bounds a query's words to petition.MaxSearchWords.
func firstTokens(t []int64) []int64 {
	if len(t) > petition.MaxSearchWords {
		return t[:petition.MaxSearchWords]
	}
	return t
}

// publicOwner binds a sealed public version to its reply.
func publicOwner(replyID string) string { return "reply:" + replyID + "#public-pdf" }

// PublicPDF returns a signed reply's public version, opened (the register
// serves it only once the agency has published the answer; one stored
// before sealing, which starts %PDF, as it is).
func (s *replies) PublicPDF(ctx context.Context, replyID string) ([]byte, error) {
	b, err := s.replyStore.PublicPDF(ctx, replyID)
	if err != nil {
		return nil, err
	}
	return openFile(ctx, s.box, publicOwner(replyID), b)
}

// pdfOwner binds a sealed personal version to its reply.
func pdfOwner(replyID string) string { return "reply:" + replyID + "#pdf" }

// InsertSigned seals the personal version, then stores the document.
func (s *replies) InsertSigned(ctx context.Context, d *reply.SignedDocument) error {
	c := *d
	var err error
	if c.SealedPDF, err = s.box.SealBytes(ctx, pdfOwner(d.ReplyID), d.PDF); err != nil {
		return fmt.Errorf("seal the signed reply: %w", err)
	}
	if d.PublicPDF != nil {
		if c.SealedPublicPDF, err = s.box.SealBytes(ctx, publicOwner(d.ReplyID), d.PublicPDF); err != nil {
			return fmt.Errorf("seal the public version: %w", err)
		}
	}
	c.SearchTokens, c.Search = petition.SearchTokens(s.key, d.Search), ""
	return s.replyStore.InsertSigned(ctx, &c)
}

// PDF returns a signed reply's personal version, opened (one stored
// before sealing, which starts %PDF, as it is).
func (s *replies) PDF(ctx context.Context, replyID string) ([]byte, error) {
	b, err := s.replyStore.PDF(ctx, replyID)
	if err != nil {
		return nil, err
	}
	return openFile(ctx, s.box, pdfOwner(replyID), b)
}

// eventOwner binds a timeline entry's sealed note to its petition, time
// and kind (times as the database keeps them, to the microsecond).
func eventOwner(petitionID string, e *petition.Event) string {
	return "petition:" + petitionID + "#event:" + strconv.FormatInt(e.At.UnixMicro(), 10) + ":" + e.Kind
}

// AddEvent seals the entry's note (a petitioner's reason to reopen, an
// official's message), then appends it.
func (s *petitions) AddEvent(ctx context.Context, petitionID string, e petition.Event) error {
	e.At = e.At.Truncate(time.Microsecond) // as the database keeps it (it would round): the note's owner must match when read
	if e.Note != "" {
		var err error
		if e.Note, err = s.box.Seal(ctx, eventOwner(petitionID, &e), []byte(e.Note)); err != nil {
			return fmt.Errorf("seal the note: %w", err)
		}
	}
	return s.Petitions.AddEvent(ctx, petitionID, e)
}

// openNotes opens the sealed notes of a timeline in place (notes written
// before sealing are in clear).
func (s *petitions) openNotes(ctx context.Context, petitionID string, events []petition.Event) error {
	for i := range events {
		e := &events[i]
		var err error
		if e.Note, err = openText(ctx, s.box, eventOwner(petitionID, e), e.Note); err != nil {
			return err
		}
	}
	return nil
}

// Events returns a petition's timeline, its notes opened.
func (s *petitions) Events(ctx context.Context, petitionID string, publicOnly bool) ([]petition.Event, error) {
	events, err := s.Petitions.Events(ctx, petitionID, publicOnly)
	if err != nil {
		return nil, err
	}
	return events, s.openNotes(ctx, petitionID, events)
}

// nameOwner binds a sealed file name to its attachment.
func nameOwner(attachment string) string { return "attachment:" + attachment + "#name" }

// openName opens a sealed file name in place (names written before
// sealing are in clear).
func (s *petitions) openName(ctx context.Context, a *petition.AttachmentInfo) (err error) {
	a.Name, err = openText(ctx, s.box, nameOwner(a.ID), a.Name)
	return err
}

// Attachments lists a petition's attachments, their names opened.
func (s *petitions) Attachments(ctx context.Context, petitionID string) ([]petition.AttachmentInfo, error) {
	list, err := s.Petitions.Attachments(ctx, petitionID)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if err := s.openName(ctx, &list[i]); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// Attachment describes an attachment, its name opened.
func (s *petitions) Attachment(ctx context.Context, petitionID, id string) (*petition.AttachmentInfo, error) {
	a, err := s.Petitions.Attachment(ctx, petitionID, id)
	if err != nil {
		return nil, err
	}
	return a, s.openName(ctx, a)
}

// Receipts wraps inner so that each signed receipt (which lists the
// petition's file names) is stored sealed, bound to its petition.
func Receipts(inner store.Receipts, box Box) store.Receipts {
	return &receipts{Receipts: inner, box: box}
}

type receipts struct {
	store.Receipts
	box Box
}

// receiptOwner binds a sealed receipt to its petition.
func receiptOwner(petitionID string) string { return "petition:" + petitionID + "#receipt" }

// InsertReceipt seals the receipt, then stores it.
func (s *receipts) InsertReceipt(ctx context.Context, r *petition.SignedReceipt) (bool, error) {
	c := *r
	var err error
	if c.SealedPDF, err = s.box.SealBytes(ctx, receiptOwner(r.PetitionID), r.PDF); err != nil {
		return false, fmt.Errorf("seal the receipt: %w", err)
	}
	return s.Receipts.InsertReceipt(ctx, &c)
}

// Receipt returns a petition's receipt, opened.
func (s *receipts) Receipt(ctx context.Context, petitionID string) (*petition.SignedReceipt, error) {
	r, err := s.Receipts.Receipt(ctx, petitionID)
	if err != nil {
		return nil, err
	}
	if r.PDF, err = openFile(ctx, s.box, receiptOwner(petitionID), r.PDF); err != nil {
		return nil, err
	}
	return r, nil
}

// openText opens v, sealed as text for owner; text written before sealing
// (which does not start as an envelope does) is returned as it is.
func openText(ctx context.Context, box Box, owner, v string) (string, error) {
	if !strings.HasPrefix(v, store.SealedTextPrefix) {
		return v, nil
	}
	b, err := box.Open(ctx, owner, v)
	if err != nil {
		return "", fmt.Errorf("open %s: %w", owner, err)
	}
	return string(b), nil
}

// openFile opens b, a file sealed as bytes for owner; a file stored before
// sealing (no accepted type starts as sealed bytes do) is returned as it is.
func openFile(ctx context.Context, box Box, owner string, b []byte) ([]byte, error) {
	if !bytes.HasPrefix(b, []byte(store.SealedBytesPrefix)) {
		return b, nil
	}
	out, err := box.OpenBytes(ctx, owner, b)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", owner, err)
	}
	return out, nil
}

// AddVersion seals a new version of a signed document as the document it
// renews is sealed (bound to the same owner), then stores it.
func (s *replies) AddVersion(ctx context.Context, v *reply.DocumentVersion) error {
	var owner string
	switch v.Of.Kind {
	case reply.KindReply:
		owner = pdfOwner(v.Of.ID)
	case reply.KindPublicReply:
		owner = publicOwner(v.Of.ID)
	case reply.KindReceipt:
		owner = receiptOwner(v.Of.ID)
	default:
		return fmt.Errorf("add version: unknown kind of document %q", v.Of.Kind)
	}
	c := *v
	var err error
	if c.PDF, err = s.box.SealBytes(ctx, owner, v.PDF); err != nil {
		return fmt.Errorf("seal the new version: %w", err)
	}
	return s.replyStore.AddVersion(ctx, &c)
}
