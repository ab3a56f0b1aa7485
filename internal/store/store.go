// Package store declares what pakn's services need from storage and
// nothing of how it is kept: the unit of work, carried in the context; the
// errors every store returns; one interface per kind of record. The
// postgres package implements them; the services see only these.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"pakn/internal/access"
	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/deadline"
	"pakn/internal/petition"
	"pakn/internal/reply"
)

// The errors a store returns (wrapped or not): test them with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	// ErrKeyUsed rolls back a group of submissions in which an idempotency
	// key was used before (each is then written on its own).
	ErrKeyUsed = errors.New("idempotency key used before")
)

// Tx is the unit of work. InTx runs fn in one transaction, carried by the
// context fn receives: every store call made with that context joins it,
// and it commits when fn returns nil and rolls back otherwise. This is how
// an action and its audit event commit together or not at all.
type Tx interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Sealer encrypts data bound to an owner before it is stored, and opens
// it: a ciphertext opens only for the owner it was sealed for (in
// production internal/vault's TransitBox and EnvelopeBox).
type Sealer interface {
	Seal(ctx context.Context, owner string, plaintext []byte) (string, error)
	Open(ctx context.Context, owner, ciphertext string) ([]byte, error)
}

// BytesSealer seals bytes as bytes (files: no text encoding), bound to an
// owner as Sealer's ciphertexts are (in production internal/vault's
// EnvelopeBox).
type BytesSealer interface {
	SealBytes(ctx context.Context, owner string, plaintext []byte) ([]byte, error)
	OpenBytes(ctx context.Context, owner string, sealed []byte) ([]byte, error)
}

// SealedBytesPrefix starts whatever a BytesSealer seals: no file pakn
// accepts starts so (PDF, JPEG, PNG and Office files have their own
// magic), so a stored file's first chunk says whether it is sealed.
const SealedBytesPrefix = "PKE1"

// SealedTextPrefix starts whatever a Sealer of internal/vault seals as
// text (an envelope).
const SealedTextPrefix = "pakn:env1:"

// Audit is the tamper-evident audit chain.
type Audit interface {
	// Append seals e to the chain's head inside the transaction ctx
	// carries (it fails outside one).
	Append(ctx context.Context, e *audit.Event) error
	// Record appends e in a transaction of its own, for an event that is
	// itself the action: a reading, a refusal, a verification.
	Record(ctx context.Context, e *audit.Event) error
	// Walk calls fn for every event after sequence number after, in order.
	Walk(ctx context.Context, after int64, fn func(*audit.Event) error) error
	// Verify walks the whole chain and returns the first break, if any.
	Verify(ctx context.Context, anchor *audit.Anchor, progress func(done int64)) (*audit.Verifier, *audit.Break, error)
}

// Agencies is the directory of agencies.
type Agencies interface {
	List(ctx context.Context) ([]agency.Agency, error)
	Exists(ctx context.Context, code string) (bool, error)
	// Subtree lists root and every agency below it.
	Subtree(ctx context.Context, root string) ([]string, error)
	// Heading returns an agency's Vietnamese name and its parent's ("" at
	// the root), as a document's heading prints them.
	Heading(ctx context.Context, code string) (name, parent string, err error)
	// Import writes a directory in one transaction, each change audited
	// as actor's: new agencies, renamed ones, the routing when it differs.
	Import(ctx context.Context, d *agency.Directory, actor audit.Event) (created, renamed int, rerouted bool, err error)
	// Routing maps each category (agency.DefaultCategory: the others) to
	// the agency receiving its petitions; empty when none is set.
	Routing(ctx context.Context) (map[string]string, error)
}

// Submission is one petition written by a group commit, with its receipt
// (sealed) under its idempotency key, if any, and its audit event.
type Submission struct {
	Petition *petition.Stored
	Key      string
	KeyHash  []byte
	Receipt  string
	Event    *audit.Event
}

// Petitions keeps petitions, their timelines, their attachments and the
// idempotency keys of submissions.
type Petitions interface {
	// Prepare returns p as Insert and WriteGroup store it (internal/sealed
	// seals and indexes its words); they store a prepared petition as it
	// is. It needs no transaction, so submitters prepare their own
	// petitions before a writer takes them.
	Prepare(ctx context.Context, p *petition.Stored) (*petition.Stored, error)
	// WriteGroup writes submissions without attachments in one
	// transaction, events included; on any error (ErrKeyUsed when a key
	// was used before, the database's error when a tracking code is taken)
	// nothing is written, and the caller writes each on its own.
	WriteGroup(ctx context.Context, subs []Submission) error
	// Insert stores a new petition; a taken tracking code is ErrConflict.
	Insert(ctx context.Context, p *petition.Stored) error
	// Exists reports whether a tracking code is taken.
	Exists(ctx context.Context, code string) (bool, error)
	Petition(ctx context.Context, id string) (*petition.Stored, error)
	// LockPetition loads a petition and locks it until the transaction ends.
	LockPetition(ctx context.Context, id string) (*petition.Stored, error)
	PetitionByCode(ctx context.Context, code string) (*petition.Stored, error)
	// Tracked reads, in one round trip, what a petitioner's look-up shows
	// of the petition with a tracking code; ErrNotFound when none has it.
	Tracked(ctx context.Context, code string) (*Tracked, error)
	Update(ctx context.Context, p *petition.Petition) error
	AddEvent(ctx context.Context, petitionID string, e petition.Event) error
	Events(ctx context.Context, petitionID string, publicOnly bool) ([]petition.Event, error)
	AddAttachment(ctx context.Context, petitionID string, pos int, a *petition.Attachment) error
	Attachments(ctx context.Context, petitionID string) ([]petition.AttachmentInfo, error)
	Attachment(ctx context.Context, petitionID, id string) (*petition.AttachmentInfo, error)
	// CopyAttachment writes an attachment's stored content to w, one Write
	// per stored chunk, in order (internal/sealed opens chunk by chunk).
	CopyAttachment(ctx context.Context, id string, w io.Writer) error
	// List returns the petitions matching f, most recent first, and how
	// many match in all (internal/sealed's lists carry no body).
	List(ctx context.Context, f petition.Filter) ([]petition.Petition, int, error)
	DueCounts(ctx context.Context, agencies []string, today, soonUntil deadline.Date) ([]petition.DueCount, error)
	// QueueCounts counts an agency's open petitions overdue, due soon and
	// in all, each up to upTo+1, in one round trip.
	QueueCounts(ctx context.Context, agency string, today, soonUntil deadline.Date, upTo int) (petition.QueueCounts, error)
	// ClaimKey claims an idempotency key: nil when new (store the answer
	// with SaveKeyResult before the transaction commits), else what the key
	// remembers.
	ClaimKey(ctx context.Context, key string, hash []byte, now time.Time) (*petition.IdempotencyRecord, error)
	ReadKey(ctx context.Context, key string) (*petition.IdempotencyRecord, error)
	SaveKeyResult(ctx context.Context, key, petitionID, responseEnc string) error
}

// Tracked is a petition as its petitioner's look-up reads it.
type Tracked struct {
	Petition *petition.Stored
	Events   []petition.Event // its public events, oldest first
	Reply    *TrackedReply    // its current signed reply; nil before one
}

// TrackedReply names a tracked petition's current signed reply.
type TrackedReply struct {
	ID, Number string
	SignedAt   time.Time
}

// Replies keeps replies, signed documents, signers and the register of
// issued replies.
type Replies interface {
	InsertReply(ctx context.Context, r *reply.Reply) error
	Reply(ctx context.Context, id string) (*reply.Reply, error)
	// LockReply loads a reply and locks it until the transaction ends.
	LockReply(ctx context.Context, id string) (*reply.Reply, error)
	// OpenReplyOf returns the petition's reply in status st (draft or
	// approved: there is at most one).
	OpenReplyOf(ctx context.Context, petitionID string, st reply.Status) (*reply.Reply, error)
	Replies(ctx context.Context, petitionID string) ([]reply.Reply, error)
	// CurrentSigned returns the petition's signed reply that no other
	// reply supersedes.
	CurrentSigned(ctx context.Context, petitionID string) (*reply.Reply, error)
	SetReview(ctx context.Context, id string, st reply.Status, reviewer, comment string, at time.Time) error
	// NextNumber allocates the next document number of an agency's year.
	NextNumber(ctx context.Context, agency string, year int) (int, error)
	// InsertSigned stores a signed document and marks its reply signed.
	InsertSigned(ctx context.Context, d *reply.SignedDocument) error
	PDF(ctx context.Context, replyID string) ([]byte, error)
	// PublicPDF returns a signed reply's public version (no addressee).
	// PDF, PublicPDF and Receipts.Receipt return a document's newest
	// version (see AddVersion).
	PublicPDF(ctx context.Context, replyID string) ([]byte, error)
	// ArchiveDue lists the signed documents (both versions of replies, and
	// receipts) whose newest version was time-stamped before before, the
	// longest ago first, at most limit: the candidates for an archive
	// time-stamp.
	ArchiveDue(ctx context.Context, before time.Time, limit int) ([]reply.Archived, error)
	// AddVersion stores v as the version after v.Of's (v.Of.Version+1) of
	// its document: its newest version, with an archive time-stamp; every
	// version is kept. ErrConflict when that version exists.
	AddVersion(ctx context.Context, v *reply.DocumentVersion) error
	// PublicRegister lists the published replies with a public version
	// that q selects, newest first, with their total.
	PublicRegister(ctx context.Context, q reply.RegisterQuery) ([]reply.Listed, int, error)
	ActiveSigner(ctx context.Context, accountID string) (*reply.Signer, error)
	ActiveSigners(ctx context.Context) ([]reply.Signer, error)
	Signers(ctx context.Context, accountID string) ([]reply.Signer, error)
	// AgencySigners lists the signer rows of an agency's accounts, by name,
	// newest key version first.
	AgencySigners(ctx context.Context, agency string) ([]reply.Signer, error)
	// AddSigner retires the account's active signer, if any, and stores g
	// as the active one.
	AddSigner(ctx context.Context, g *reply.Signer, now time.Time) error
	RevokeSigner(ctx context.Context, id string, now time.Time) error
	// IssuedByID, IssuedByShortCode and IssuedByBinding find a reply in the
	// register of issued replies by its id, its short code or what its
	// signature binds (verify.Binding; the file's SHA-256 for documents
	// issued before bindings were recorded).
	IssuedByID(ctx context.Context, id string) (*reply.Issued, error)
	IssuedByShortCode(ctx context.Context, code string) (*reply.Issued, error)
	IssuedByBinding(ctx context.Context, binding, sum string) (*reply.Issued, error)
}

// Accounts keeps staff accounts, their sessions, integration tokens and
// sign-in throttles.
type Accounts interface {
	Credentials(ctx context.Context, id string) (*credential.Credentials, error)
	CredentialsByName(ctx context.Context, username string) (*credential.Credentials, error)
	// LockCredentials loads an account and locks it until the transaction ends.
	LockCredentials(ctx context.Context, id string) (*credential.Credentials, error)
	Accounts(ctx context.Context, agency string) ([]credential.Account, error)
	CreateAccount(ctx context.Context, a credential.Account, passwordHash string) (string, time.Time, error)
	// OtherAdmins counts the agency's active administrators but except,
	// holding the agency's administrators' lock until the transaction ends
	// (two removals at once cannot leave it with none).
	OtherAdmins(ctx context.Context, agency, except string) (int, error)
	AddRole(ctx context.Context, accountID string, r access.Role) error
	RemoveRole(ctx context.Context, accountID string, r access.Role) error
	SetPassword(ctx context.Context, accountID, hash string, mustChange bool, now time.Time) error
	SetTOTP(ctx context.Context, accountID, secretEnc string, enabledAt time.Time, lastStep int64) error
	// MarkCredentialsReset records that someone else reset the account's
	// password or MFA at now.
	MarkCredentialsReset(ctx context.Context, accountID string, now time.Time) error
	ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte) error
	UseRecoveryCode(ctx context.Context, accountID string, hash []byte, now time.Time) (bool, error)
	Disable(ctx context.Context, accountID string, now time.Time) error
	CreateSession(ctx context.Context, ss credential.Session) error
	Session(ctx context.Context, tokenHash []byte) (*credential.Session, error)
	// LockSession loads a session and locks it until the transaction ends.
	LockSession(ctx context.Context, tokenHash []byte) (*credential.Session, error)
	TouchSession(ctx context.Context, tokenHash []byte, now time.Time) error
	SetSessionMFA(ctx context.Context, tokenHash []byte, at time.Time) error
	EndSession(ctx context.Context, tokenHash []byte, reason string, now time.Time) error
	EndSessions(ctx context.Context, accountID, reason string, now time.Time) (int64, error)
	CreateToken(ctx context.Context, t credential.APIToken, hash []byte) (string, error)
	TokenByHash(ctx context.Context, hash []byte) (*credential.APIToken, error)
	Token(ctx context.Context, id string) (*credential.APIToken, error)
	Tokens(ctx context.Context, agency string) ([]credential.APIToken, error)
	RevokeToken(ctx context.Context, id string, now time.Time) error
	TouchToken(ctx context.Context, id string, now time.Time) error
	KeyThrottle(ctx context.Context, key string) (credential.Throttle, error)
	SetKeyThrottle(ctx context.Context, key string, t credential.Throttle) error
	// CreatePowerRequest stores a pending two-person request (ErrConflict:
	// the same change is pending already).
	CreatePowerRequest(ctx context.Context, r credential.PowerRequest) (string, error)
	PowerRequest(ctx context.Context, id string) (*credential.PowerRequest, error)
	// PowerRequests lists the agency's requests made since since.
	PowerRequests(ctx context.Context, agency string, since time.Time) ([]credential.PowerRequest, error)
	// DecidePowerRequest moves a pending, unexpired request to status
	// (false when it is no longer pending or has expired).
	DecidePowerRequest(ctx context.Context, id, status, by string, now time.Time) (bool, error)
}

// Set is every store over one database; each joins the transactions its Tx
// Receipts keeps agencies' service keys and petitions' signed receipts
// (found in the register through Replies' Issued* methods).
type Receipts interface {
	// ActiveAgencyKey returns the agency's active service key.
	ActiveAgencyKey(ctx context.Context, agency string) (*agency.Key, error)
	// AddAgencyKey retires the agency's active key, if any, and stores k
	// as the active one.
	AddAgencyKey(ctx context.Context, k *agency.Key, now time.Time) error
	Receipt(ctx context.Context, petitionID string) (*petition.SignedReceipt, error)
	// InsertReceipt stores a receipt unless the petition has one (false).
	InsertReceipt(ctx context.Context, r *petition.SignedReceipt) (bool, error)
}

// runs.
type Set struct {
	Tx        Tx
	Audit     Audit
	Agencies  Agencies
	Petitions Petitions
	Replies   Replies
	Receipts  Receipts
	Accounts  Accounts
}

// Given reports, for each named store of s ("Tx", "Audit", "Agencies",
// "Petitions", "Replies", "Accounts"), whether it is set, under the name
// "Stores.<name>", for Missing.
func (s Set) Given(names ...string) map[string]bool {
	has := map[string]bool{"Tx": s.Tx != nil, "Audit": s.Audit != nil, "Agencies": s.Agencies != nil,
		"Petitions": s.Petitions != nil, "Replies": s.Replies != nil, "Receipts": s.Receipts != nil, "Accounts": s.Accounts != nil}
	out := map[string]bool{}
	for _, n := range names {
		out["Stores."+n] = has[n]
	}
	return out
}

// Missing is the error of a service built without some of its
// collaborators (false in given), naming them in order; nil when none is
// missing. Services build none of their collaborators themselves.
func Missing(service string, given map[string]bool) error {
	var missing []string
	for name, ok := range given {
		if !ok {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("%s: %s required", service, strings.Join(missing, ", "))
}
