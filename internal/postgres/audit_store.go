package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"pakn/internal/apperr"
	"pakn/internal/audit"
)

// auditLockKey is the transaction-level advisory lock that serialises audit
// appends across every connection and every paknd process on the database,
// so the chain never forks. ("pakn-aud" in ASCII.)
const auditLockKey int64 = 0x70616b6e2d617564

// AuditStore appends audit events and reads the chain back.
type AuditStore struct {
	Now func() time.Time // clock; time.Now when nil
}

// Append adds e to the chain inside tx: it takes the append lock (held until
// tx ends), reads the head, seals e to it and inserts it. The caller commits
// tx together with the action e records; if Append fails the caller must roll
// back, so an action never happens without its event.
func (s *AuditStore) Append(ctx context.Context, tx pgx.Tx, e *audit.Event) error {
	now := time.Now
	if s != nil && s.Now != nil {
		now = s.Now
	}
	if err := e.Normalize(now()); err != nil {
		return apperr.Wrap(err, apperr.Internal, "audit append", "")
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", auditLockKey); err != nil {
		return unavailable("audit lock", err)
	}
	var headSeq int64
	var headHash []byte
	err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&headSeq, &headHash)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return unavailable("audit head", err)
	}
	e.Seal(headSeq, headHash)
	_, err = tx.Exec(ctx, `INSERT INTO audit_events
		(seq, occurred_at, actor, role, action, object_type, object_id, outcome, request_id, client_hash, details, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::json, $12, $13)`,
		e.Seq, e.Time, e.Actor, e.Role, e.Action, e.ObjectType, e.ObjectID, string(e.Outcome),
		e.RequestID, e.ClientHash, string(e.Details), e.PrevHash, e.Hash)
	if err != nil {
		return unavailable("audit insert", err)
	}
	return nil
}

// AuditHead returns the last sequence number (0 when the log is empty).
func (s *AuditStore) AuditHead(ctx context.Context, db Querier) (int64, error) {
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
func (s *AuditStore) Walk(ctx context.Context, db Querier, after int64, fn func(*audit.Event) error) error {
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
func (s *AuditStore) Verify(ctx context.Context, db Querier, anchor *audit.Anchor, progress func(done int64)) (*audit.Verifier, *audit.Break, error) {
	v := audit.NewVerifier(anchor)
	var brk *audit.Break
	err := s.Walk(ctx, db, 0, func(e *audit.Event) error {
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
