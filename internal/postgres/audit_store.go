package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/msg"
)

// auditLockKey is the transaction-level advisory lock that serialises audit
// appends across every connection and every paknd process on the database,
// so the chain never forks. ("pakn-aud" in ASCII.)
const auditLockKey int64 = 0x70616b6e2d617564

// AuditStore appends audit events and reads the chain back.
type AuditStore struct {
	DB  *DB
	Now func() time.Time // clock; time.Now when nil

	records recorder  // Record's group commit
	head    chainHead // the head as this process last committed it
}

// Append adds e to the chain inside the transaction ctx carries (see
// DB.InTx): it takes the append lock (held until the transaction ends),
// reads the head, seals e to it and inserts it. The caller commits the
// transaction together with the action e records; if Append fails the
// caller must roll back, so an action never happens without its event.
func (s *AuditStore) Append(ctx context.Context, e *audit.Event) error {
	if !inTx(ctx) {
		return errNoTx
	}
	tx := s.DB.conn(ctx)
	seq, head, err := s.LockHead(ctx)
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	if _, _, err := s.queueAppends(b, []*audit.Event{e}, seq, head); err != nil {
		return err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return unavailable("audit insert", err)
	}
	return nil
}

// Record appends e in a transaction of its own (see store.Audit), by group
// commit: the events recorded at the same time (readings, refusals,
// verifications: every tracking lookup and every verification records
// one) are written one group after another by one writer, each group in
// one transaction that takes the chain's lock once and is flushed once,
// so many citizens at once do not queue one commit each on the chain.
// Record returns when e is committed (or failed): the caller still acts
// only once its event is in the log. A group that fails is written again
// event by event, so one bad event fails alone. An event whose caller has
// gone before its group is written is dropped, not written.
func (s *AuditStore) Record(ctx context.Context, e *audit.Event) error {
	if err := e.Normalize(s.now()); err != nil {
		return apperr.Wrap(err, apperr.Internal, "audit append", msg.InternalError)
	}
	r := &recording{ctx: ctx, e: e, done: make(chan struct{})}
	if s.records.add(r) {
		go s.writeRecordings()
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return unavailable("audit record", ctx.Err())
	}
}

// recordGroup bounds how many events one of Record's transactions writes.
const recordGroup = 256

// recordTimeout bounds the writing of one group of Record's events.
const recordTimeout = 30 * time.Second

// recorder is the queue of Record's events waiting for the writer.
type recorder struct {
	mu      sync.Mutex
	queue   []*recording
	writing bool // a writer is running: it takes what is queued
}

// recording is one event on its way to the chain.
type recording struct {
	ctx  context.Context // the caller's: once done, the event is dropped if not yet written
	e    *audit.Event
	err  error
	done chan struct{}
}

// add queues r and reports whether the caller must start the writer.
func (q *recorder) add(r *recording) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.queue = append(q.queue, r)
	start := !q.writing
	q.writing = true
	return start
}

// next takes the next group to write, or none (and the writer stops).
func (q *recorder) next() []*recording {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := min(len(q.queue), recordGroup)
	if n == 0 {
		q.writing = false
		q.queue = nil
		return nil
	}
	group := q.queue[:n:n]
	q.queue = q.queue[n:]
	return group
}

// writeRecordings writes the queued events group by group until none is left.
func (s *AuditStore) writeRecordings() {
	for group := s.records.next(); group != nil; group = s.records.next() {
		live := group[:0:0]
		for _, r := range group {
			if err := r.ctx.Err(); err != nil {
				r.err = unavailable("audit record", err)
				close(r.done)
				continue
			}
			live = append(live, r)
		}
		err := s.writeGroup(live)
		if err != nil && len(live) > 1 {
			for _, r := range live {
				r.err = s.writeGroup([]*recording{r})
				close(r.done)
			}
			continue
		}
		for _, r := range live {
			r.err = err
			close(r.done)
		}
	}
}

// writeGroup appends the group's events to the chain in one transaction.
func (s *AuditStore) writeGroup(group []*recording) error {
	if len(group) == 0 {
		return nil
	}
	events := make([]*audit.Event, len(group))
	for i, r := range group {
		events[i] = r.e
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	err := s.appendGroup(ctx, events, func(*txPipe) (*pgx.Batch, error) { return &pgx.Batch{}, nil })
	if err != nil {
		return unavailable("audit record", err)
	}
	return nil
}

// chainHead is the chain's head as this process last committed it, and
// the turn its group commits take to append: Record's writer and the
// petitions' group writers hold the turn from reading the head to their
// transaction's end, so none of them commits between another's reading of
// the head and its commit. Other writers (Append inside a caller's
// transaction, other processes) may still move the head: audit_head_is
// catches that.
type chainHead struct {
	once  sync.Once
	turn  chan struct{} // one token, taken by the writer appending
	known bool          // seq and hash are the head committed last (read and written with the turn)
	seq   int64
	hash  []byte
}

// take waits for the turn, or for ctx to end.
func (h *chainHead) take(ctx context.Context) error {
	h.once.Do(func() { h.turn = make(chan struct{}, 1) })
	select {
	case h.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// give hands the turn on.
func (h *chainHead) give() { <-h.turn }

// appendGroup runs one transaction of a group commit through inTxPipe:
// steps sends the group's own statements and returns a batch to send last;
// the chain's lock, the events sealed after the head, and COMMIT join it.
// When this process committed the head last, the events are sealed to it
// and the head is checked under the lock (audit_head_is) in that same
// round trip, the only one the chain's lock is held for; else, or when the
// check fails because another writer appended since, the lock and head are
// read first and the events sent in a second round trip (a failed check
// costs a transaction rolled back and steps run again).
func (s *AuditStore) appendGroup(ctx context.Context, events []*audit.Event, steps func(p *txPipe) (*pgx.Batch, error)) error {
	err := s.appendTx(ctx, events, steps, true)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == headMoved {
		err = s.appendTx(ctx, events, steps, false)
	}
	return err
}

// headMoved is the SQLSTATE audit_head_is raises (pakn's own code).
const headMoved = "PKN01"

// appendTx is one attempt of appendGroup, sealing the events to the head
// this process knows when trustHead and it knows one.
func (s *AuditStore) appendTx(ctx context.Context, events []*audit.Event, steps func(p *txPipe) (*pgx.Batch, error), trustHead bool) error {
	h := &s.head
	return s.DB.inTxPipe(ctx, func(p *txPipe) (*pgx.Batch, error) {
		b, err := steps(p)
		if err != nil {
			return nil, err
		}
		if err := h.take(ctx); err != nil {
			return nil, unavailable("wait for the audit chain", err)
		}
		var last int64
		var lastHash []byte
		p.onEnd(func(committed bool) { // once COMMIT is answered (the events were queued), or the transaction failed
			if committed {
				h.known, h.seq, h.hash = true, last, lastHash
			}
			h.give()
		})
		seq, hash := h.seq, h.hash
		if trustHead && h.known {
			b.Queue("SELECT pg_advisory_xact_lock($1)", auditLockKey)
			b.Queue("SELECT audit_head_is($1, $2)", seq, hash)
		} else if b, seq, hash, err = s.lockAndReadHead(ctx, p, b); err != nil {
			return nil, err
		}
		h.known = false // until this transaction's commit is known
		last, lastHash, err = s.queueAppends(b, events, seq, hash)
		if err != nil {
			return nil, err
		}
		return b, nil
	})
}

// now is the audit log's clock (time.Now for a nil store, as the
// petitions' group commit may seal events without one).
func (s *AuditStore) now() time.Time {
	if s != nil && s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// LockHead takes the append lock of the chain (held until tx ends, so the
// chain never forks, across processes too) and returns the head: the last
// sequence number and its hash (0 and nil for an empty chain).
func (s *AuditStore) LockHead(ctx context.Context) (int64, []byte, error) {
	if !inTx(ctx) {
		return 0, nil, errNoTx
	}
	tx := s.DB.conn(ctx)
	b := &pgx.Batch{}
	queueLockHead(b)
	res := tx.SendBatch(ctx, b)
	defer res.Close()
	return readLockHead(res)
}

// queueLockHead queues the two statements of LockHead on b: the lock, then
// the head. Under READ COMMITTED the second takes its snapshot after the
// first holds the lock, so it sees the head the previous holder committed.
func queueLockHead(b *pgx.Batch) {
	b.Queue("SELECT pg_advisory_xact_lock($1)", auditLockKey)
	b.Queue("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")
}

// readLockHead reads the results of queueLockHead's statements.
func readLockHead(res pgx.BatchResults) (int64, []byte, error) {
	if _, err := res.Exec(); err != nil {
		return 0, nil, unavailable("audit lock", err)
	}
	var headSeq int64
	var headHash []byte
	err := res.QueryRow().Scan(&headSeq, &headHash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, nil, unavailable("audit head", err)
	}
	return headSeq, headHash, nil
}

// lockAndReadHead sends b with the chain's lock and head through p, and
// returns a new batch to send next, with the head.
func (s *AuditStore) lockAndReadHead(ctx context.Context, p *txPipe, b *pgx.Batch) (*pgx.Batch, int64, []byte, error) {
	before := b.Len()
	queueLockHead(b)
	var seq int64
	var head []byte
	err := p.send(ctx, b, func(res pgx.BatchResults) error {
		for range before {
			if _, err := res.Exec(); err != nil {
				return err
			}
		}
		var err error
		seq, head, err = readLockHead(res)
		return err
	})
	if err != nil {
		return nil, 0, nil, err
	}
	return &pgx.Batch{}, seq, head, nil
}

// queueAppends normalises and seals events one after the other from the
// head (headSeq, headHash) read under the chain's lock in the same
// transaction, or checked under it before the events (appendTx), and
// queues one statement inserting them all on b. It returns the new head.
func (s *AuditStore) queueAppends(b *pgx.Batch, events []*audit.Event, headSeq int64, headHash []byte) (int64, []byte, error) {
	n := len(events)
	seqs, times := make([]int64, n), make([]time.Time, n)
	actor, role, action, otype, oid, outcome, rid, chash, det := make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	prev, hash := make([][]byte, n), make([][]byte, n)
	for i, e := range events {
		if err := e.Normalize(s.now()); err != nil {
			return 0, nil, apperr.Wrap(err, apperr.Internal, "audit append", msg.InternalError)
		}
		e.Seal(headSeq, headHash)
		headSeq, headHash = e.Seq, e.Hash
		seqs[i], times[i], actor[i], role[i], action[i], otype[i], oid[i] = e.Seq, e.Time, e.Actor, e.Role, e.Action, e.ObjectType, e.ObjectID
		outcome[i], rid[i], chash[i], det[i], prev[i], hash[i] = string(e.Outcome), e.RequestID, e.ClientHash, string(e.Details), e.PrevHash, e.Hash
	}
	if n > 0 {
		b.Queue(`INSERT INTO audit_events
			(seq, occurred_at, actor, role, action, object_type, object_id, outcome, request_id, client_hash, details, prev_hash, hash)
			SELECT s, t, a, r, ac, ot, oi, o, ri, ch, d::json, ph, h
			FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
				$9::text[], $10::text[], $11::text[], $12::bytea[], $13::bytea[]) AS v(s, t, a, r, ac, ot, oi, o, ri, ch, d, ph, h)
			ORDER BY s`, seqs, times, actor, role, action, otype, oid, outcome, rid, chash, det, prev, hash)
	}
	return headSeq, headHash, nil
}

// AuditHead returns the last sequence number (0 when the log is empty).
func (s *AuditStore) AuditHead(ctx context.Context) (int64, error) {
	db := s.DB.conn(ctx)
	var n int64
	if err := db.QueryRow(ctx, "SELECT coalesce(max(seq), 0) FROM audit_events").Scan(&n); err != nil {
		return 0, fmt.Errorf("audit head: %w", err)
	}
	return n, nil
}

// WalkBatch is how many events Walk reads per query.
const WalkBatch = 5000

// Walk calls fn for every event with seq > after, in sequence order, reading
// WalkBatch rows at a time (keyset pagination), so memory stays flat however
// long the chain is. It stops at the first error fn returns.
func (s *AuditStore) Walk(ctx context.Context, after int64, fn func(*audit.Event) error) error {
	db := s.DB.conn(ctx)
	for {
		rows, err := db.Query(ctx, `SELECT seq, occurred_at, actor, role, action, object_type, object_id,
			outcome, request_id, client_hash, details::text, prev_hash, hash
			FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2`, after, WalkBatch)
		if err != nil {
			return fmt.Errorf("audit walk: %w", err)
		}
		n := 0
		var e audit.Event
		var outcome, details string
		_, err = pgx.ForEachRow(rows, []any{&e.Seq, &e.Time, &e.Actor, &e.Role, &e.Action, &e.ObjectType,
			&e.ObjectID, &outcome, &e.RequestID, &e.ClientHash, &details, &e.PrevHash, &e.Hash}, func() error {
			n++
			e.Outcome = audit.Outcome(outcome)
			e.Details = []byte(details)
			e.Time = e.Time.UTC()
			after = e.Seq
			return fn(&e)
		})
		if err != nil {
			return err
		}
		if n < WalkBatch {
			return nil
		}
	}
}

// Verify walks the whole chain through an audit.Verifier and returns it with
// the first break (nil when intact). progress, when not nil, is called after
// each event with the count so far.
func (s *AuditStore) Verify(ctx context.Context, anchor *audit.Anchor, progress func(done int64)) (*audit.Verifier, *audit.Break, error) {
	v := audit.NewVerifier(anchor)
	var brk *audit.Break
	err := s.Walk(ctx, 0, func(e *audit.Event) error {
		if brk = v.Check(e); brk != nil {
			return errStopWalk
		}
		if progress != nil {
			progress(v.Count())
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStopWalk) {
		return v, nil, err
	}
	if brk == nil {
		brk = v.Finish()
	}
	return v, brk, nil
}

var errStopWalk = errors.New("stop walk")
