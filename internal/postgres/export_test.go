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
