-- A petition's title and body are stored sealed (internal/sealed: the
-- envelope scheme of personal data, bound to the petition and the field),
-- and its words are indexed by keyed hashes (a blind index) instead of a
-- tsvector, which held them in clear. Rows written before hold their words
-- in clear (words_sealed false) until pakn reseal seals them; their
-- tsvector goes now, so their words are found again once resealed.
ALTER TABLE petitions ADD COLUMN words_sealed boolean NOT NULL DEFAULT false;
ALTER TABLE petitions ADD COLUMN search_tokens bigint[] NOT NULL DEFAULT '{}';
CREATE INDEX petitions_search_tokens ON petitions USING gin (search_tokens);
DROP INDEX petitions_search;
ALTER TABLE petitions DROP COLUMN search_tsv;
