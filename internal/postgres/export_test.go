package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"pakn/internal/audit"
)

// QueuedRecords is how many events recorded with s.Record wait for its
// writer to take them (for the tests of Record's group commit).
func QueuedRecords(s *AuditStore) int {
	s.records.mu.Lock()
	defer s.records.mu.Unlock()
	return len(s.records.queue)
}

// AuditLockKey is the advisory lock that serialises the chain's appends.
const AuditLockKey = auditLockKey

// ChainHead is the chain's head as s last committed it, and whether s
// knows one.
func ChainHead(s *AuditStore) (seq int64, hash []byte, known bool) {
	_ = s.head.take(context.Background())
	defer s.head.give()
	return s.head.seq, s.head.hash, s.head.known
}

// SetChainHead makes s believe the chain's head is (seq, hash).
func SetChainHead(s *AuditStore, seq int64, hash []byte) {
	_ = s.head.take(context.Background())
	defer s.head.give()
	s.head.known, s.head.seq, s.head.hash = true, seq, hash
}

// HoldChainTurn takes s's turn to append, as a group writer does, and
// returns what gives it back.
func HoldChainTurn(s *AuditStore) (give func()) {
	_ = s.head.take(context.Background())
	return s.head.give
}

// AppendGroup appends events as a group commit with no statements of its own.
func AppendGroup(ctx context.Context, s *AuditStore, events []*audit.Event) error {
	return s.appendGroup(ctx, events, func(*txPipe) (*pgx.Batch, error) { return &pgx.Batch{}, nil })
}
