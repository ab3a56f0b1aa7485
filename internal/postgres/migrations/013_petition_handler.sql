-- The official handling a petition: who accepted it or started work on it
-- (the desk's "assigned to me"); cleared when it moves to another agency.
ALTER TABLE petitions ADD COLUMN handler_id uuid REFERENCES accounts (id);
CREATE INDEX petitions_agency_handler ON petitions (agency_code, handler_id, received_at DESC) WHERE handler_id IS NOT NULL;
