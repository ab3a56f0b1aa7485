-- Audit events are appended in time order, so a BRIN index answers time-range
-- queries as well as a B-tree did, at almost no cost per append.
DROP INDEX audit_events_occurred_at;
CREATE INDEX audit_events_occurred_at ON audit_events USING brin (occurred_at);
-- No query reads the log by object yet; every append paid for this index.
-- It comes back with the first feature that needs it.
DROP INDEX audit_events_object;
