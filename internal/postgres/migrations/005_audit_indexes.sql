-- Audit events are appended in time order, so a BRIN index answers time-range
-- queries as well as a B-tree did, at almost no cost per append.
DROP INDEX audit_events_occurred_at;
CREATE INDEX audit_events_occurred_at ON audit_events USING brin (occurred_at);
-- No query reads the log by object yet; every append paid for this index.
-- It comes back with the first feature that needs it.
DROP INDEX audit_events_object;
-- The chain itself guarantees what the unique index on hash did: seq is the
-- primary key (no forks), and `pakn audit verify` reports any row whose hash
-- does not follow from its predecessor (a duplicate included). The index
-- cost a random B-tree write per append.
ALTER TABLE audit_events DROP CONSTRAINT audit_events_hash_key;
