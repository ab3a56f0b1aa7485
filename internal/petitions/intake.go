package petitions

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/deadline"
	"pakn/internal/msg"
	"pakn/internal/petition"
	"pakn/internal/store"
)

// Submissions without attachments are written by group commit: concurrent
// submissions are combined into one transaction, so the audit chain's
// serialisation and the commit's flush are paid once per group, not once
// per petition. Each submitter seals its own petition (words, personal data,
// receipt) before it queues, on its own goroutine, so the writers only
// write. A few writers run at once: each copies its group's petitions in
// first, in parallel with the others, and takes the chain lock only to
// append the audit events and commit. Every petition still commits together with its
// own audit event, and no caller is answered before the commit. If a
// combined transaction fails, each submission is retried in its own; one
// already stored under its id (the group committed, its answer lost) is
// answered as written.
//
// Submissions with attachments are written one per transaction by at most
// maxFileWriters at once, their files streamed from the spool into
// PostgreSQL chunk by chunk: a large upload neither waits in nor slows a
// group of small ones, and is never held whole in memory.
//
// The work admitted and not yet written is bounded in bytes (QueueBytes):
// past it a submission is refused at once with 503 and Retry-After, before
// anything is written. A job whose client went away before its turn is
// dropped, not written.

// maxGroup bounds how many submissions share one transaction.
const maxGroup = 128

// maxWriters bounds the groups written at once.
const maxWriters = 2

// maxFileWriters bounds the submissions with attachments written at once.
const maxFileWriters = 2

// groupTimeout bounds the work of one group, whoever's request started it.
const groupTimeout = 30 * time.Second

// DefaultQueueBytes bounds the submissions admitted and not yet written,
// in bytes of content and attachments, unless configured otherwise.
const DefaultQueueBytes = 256 << 20

// queueRetryAfter is what a submission refused by a full queue is told.
const queueRetryAfter = 30 * time.Second

// jobOverhead is counted for every job besides its content: the records,
// the sealed data and the receipt.
const jobOverhead = 4 << 10

// job is one submission on its way to the database.
type job struct {
	ctx      context.Context // the submitter's: once it is done, the job is dropped unwritten
	size     int64           // bytes counted against the queue's bound
	m        audit.Meta
	p        access.Principal
	key      string
	hash     []byte
	personal []byte
	atts     []*petition.Attachment
	rec      *petition.Stored
	receipt  *Receipt

	// set by the writer
	sealedReceipt string
	replay        bool // the key was used before: the caller reads the first answer
	err           error
	done          chan struct{}
}

// draw gives the job a fresh tracking code and lookup secret.
func (j *job) draw() error {
	code, err := petition.NewTrackingCode(deadline.DateOf(j.rec.ReceivedAt).Year)
	if err != nil {
		return err
	}
	secret, hash, err := petition.NewLookupSecret()
	if err != nil {
		return err
	}
	j.rec.TrackingCode, j.rec.LookupHash = code, hash
	j.receipt = &Receipt{TrackingCode: code, LookupSecret: secret, ReceivedAt: j.rec.ReceivedAt, Agency: j.rec.Agency, NextUpdateDue: j.rec.NextUpdateDue}
	return nil
}

func (j *job) auditEvent() *audit.Event {
	details, _ := json.Marshal(submitDetails{Agency: j.rec.Agency, Attachments: len(j.atts), Category: j.rec.Category,
		Channel: j.rec.Channel, TrackingCode: j.rec.TrackingCode}) // cannot fail: strings and a number
	return audit.EventOf(j.m, j.p, "petition.submit", "petition", j.rec.ID, audit.Success, details)
}

// submitDetails are a submission's audit details: a struct rather than a
// map, which JSON encodes without reflection over keys and sorting, its
// fields in the order a map's keys were written before (the same bytes).
type submitDetails struct {
	Agency       string            `json:"agency"`
	Attachments  int               `json:"attachments"`
	Category     petition.Category `json:"category"`
	Channel      petition.Channel  `json:"channel"`
	TrackingCode string            `json:"tracking_code"`
}

// intake queues jobs and runs writers while there is work.
type intake struct {
	maxBytes int64 // bound of admitted bytes; DefaultQueueBytes when zero

	mu      sync.Mutex
	queue   []*job
	writers int
	bytes   int64         // admitted and not yet finished
	files   chan struct{} // places of the writers of submissions with attachments
}

var errQueueFull = &apperr.Error{Code: apperr.Unavailable, RetryAfter: queueRetryAfter,
	Key: msg.IntakeQueueFull}

// admit counts j against the bound, or refuses it when the bound is reached.
func (in *intake) admit(j *job) error {
	in.mu.Lock()
	defer in.mu.Unlock()
	max := in.maxBytes
	if max <= 0 {
		max = DefaultQueueBytes
	}
	if in.bytes+j.size > max {
		return errQueueFull
	}
	in.bytes += j.size
	return nil
}

// finish releases what admit counted for j and its caller.
func (in *intake) finish(j *job) {
	in.mu.Lock()
	in.bytes -= j.size
	in.mu.Unlock()
	close(j.done)
}

// Queued is how many bytes of submissions are admitted and not yet written.
func (s *Service) Queued() int64 {
	s.intake.mu.Lock()
	defer s.intake.mu.Unlock()
	return s.intake.bytes
}

// submit writes j: by group commit when it has no attachments, else in its
// own transaction once a file writer's place is free. It returns when j is
// written, refused or dropped (j.done closed, j.err set).
func (in *intake) submit(s *Service, j *job) error {
	if err := in.admit(j); err != nil {
		return err
	}
	if len(j.atts) == 0 {
		// Sealed here, by the submitter, so the writers only write.
		if err := s.prepare(j.ctx, j); err != nil {
			in.finish(j)
			return err
		}
		in.enqueue(s, j)
		return nil
	}
	go func() {
		defer in.finish(j)
		select {
		case in.files <- struct{}{}:
			defer func() { <-in.files }()
		case <-j.ctx.Done():
			j.err = j.ctx.Err()
			return
		}
		ctx, cancel := context.WithTimeout(j.ctx, groupTimeout)
		defer cancel()
		if j.err = s.sealOne(ctx, j); j.err == nil {
			j.err = s.writeOne(ctx, j)
		}
	}()
	return nil
}

// enqueue hands j to the writers, starting one if fewer than maxWriters run.
func (in *intake) enqueue(s *Service, j *job) {
	in.mu.Lock()
	in.queue = append(in.queue, j)
	if in.writers < maxWriters {
		in.writers++
		go in.drain(s)
	}
	in.mu.Unlock()
}

// drain writes queued jobs group by group until the queue is empty. Jobs
// whose submitter went away are dropped, unwritten.
func (in *intake) drain(s *Service) {
	for {
		in.mu.Lock()
		n := min(len(in.queue), maxGroup)
		if n == 0 {
			in.writers--
			in.mu.Unlock()
			return
		}
		taken := in.queue[:n:n]
		in.queue = in.queue[n:]
		in.mu.Unlock()
		group := taken[:0:0]
		for _, j := range taken {
			if err := j.ctx.Err(); err != nil {
				j.err = err
				in.finish(j)
				continue
			}
			group = append(group, j)
		}
		if len(group) > 0 {
			s.writeGroup(group)
		}
	}
}

// prepare seals j's words and personal data, and its receipt when it is
// keyed, as they are stored.
func (s *Service) prepare(ctx context.Context, j *job) error {
	rec, err := s.store.Prepare(ctx, j.rec)
	if err != nil {
		return err
	}
	j.rec = rec
	return s.sealOne(ctx, j)
}

// sealOne encrypts j's personal data, and its receipt when it is keyed.
func (s *Service) sealOne(ctx context.Context, j *job) error {
	var err error
	if j.rec.PetitionerEnc, err = s.box.Seal(ctx, j.rec.ID, j.personal); err != nil {
		return err
	}
	return s.sealReceipt(ctx, j)
}

// sealReceipt encrypts the receipt of a keyed job (it holds the lookup
// secret) for replays of its idempotency key.
func (s *Service) sealReceipt(ctx context.Context, j *job) error {
	if j.key == "" {
		return nil
	}
	b, _ := json.Marshal(j.receipt)
	var err error
	j.sealedReceipt, err = s.box.Seal(ctx, "idempotency:"+j.key, b)
	return err
}

// writeGroup writes a group in one transaction, or, when that fails, each
// job in its own; then it releases every caller.
func (s *Service) writeGroup(group []*job) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	defer func() {
		for _, j := range group {
			s.intake.finish(j)
		}
	}()
	err := s.writeTogether(ctx, group)
	if err == nil {
		return
	}
	// The group failed as a whole (a tracking code taken, an idempotency key
	// used before, say): write each job alone, so one bad apple spoils
	// nothing else and replays are answered.
	for _, j := range group {
		j.replay = false
		j.err = s.writeOne(ctx, j)
	}
}

// writeTogether writes a group of submissions without attachments in one
// transaction (see store.Petitions.WriteGroup).
func (s *Service) writeTogether(ctx context.Context, group []*job) error {
	subs := make([]store.Submission, len(group))
	for i, j := range group {
		subs[i] = store.Submission{Petition: j.rec, Key: j.key, KeyHash: j.hash, Receipt: j.sealedReceipt, Event: j.auditEvent()}
	}
	return s.store.WriteGroup(ctx, subs)
}

// writeOne writes one job in its own transaction, drawing a new tracking
// code when the drawn one is taken.
func (s *Service) writeOne(ctx context.Context, j *job) error {
	for attempt := 0; ; attempt++ {
		err := s.tx.InTx(ctx, func(ctx context.Context) error {
			if j.key != "" {
				prev, err := s.store.ClaimKey(ctx, j.key, j.hash, j.rec.ReceivedAt)
				if err != nil {
					return err
				}
				if prev != nil {
					j.replay = true
					return nil
				}
			}
			if err := s.store.Insert(ctx, j.rec); err != nil {
				return err
			}
			for i, a := range j.atts {
				if err := s.store.AddAttachment(ctx, j.rec.ID, i, a); err != nil {
					return err
				}
			}
			if j.key != "" {
				if err := s.store.SaveKeyResult(ctx, j.key, j.rec.ID, j.sealedReceipt); err != nil {
					return err
				}
			}
			return s.audit.Append(ctx, j.auditEvent())
		})
		if !errors.Is(err, store.ErrConflict) || attempt >= 5 {
			return err
		}
		if attempt == 0 {
			// The group this job was in may have committed with its answer
			// lost (the connection dropped after COMMIT was sent): then the
			// petition is stored under its id, with its event, as drawn.
			if _, err := s.store.Petition(ctx, j.rec.ID); err == nil {
				return nil
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		if err := j.draw(); err != nil {
			return err
		}
		if err := s.sealReceipt(ctx, j); err != nil {
			return err
		}
	}
}
