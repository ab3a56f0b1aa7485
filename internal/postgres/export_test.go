package postgres

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
	s.head.mu.Lock()
	defer s.head.mu.Unlock()
	return s.head.seq, s.head.hash, s.head.known
}

// SetChainHead makes s believe the chain's head is (seq, hash).
func SetChainHead(s *AuditStore, seq int64, hash []byte) {
	s.head.mu.Lock()
	defer s.head.mu.Unlock()
	s.head.known, s.head.seq, s.head.hash = true, seq, hash
}
