-- The register finds an issued document by its binding: the SHA-256 of
-- what its signature binds (the digest of the signed byte ranges and the
-- decoded signature value, see verify.Binding), which bytes outside the
-- signature's cover cannot change. Documents issued before this column
-- existed have none and are found by their whole file's SHA-256.
ALTER TABLE signed_replies ADD COLUMN binding text UNIQUE CHECK (binding ~ '^[0-9a-f]{64}$');
ALTER TABLE public_replies ADD COLUMN binding text UNIQUE CHECK (binding ~ '^[0-9a-f]{64}$');
ALTER TABLE signed_receipts ADD COLUMN binding text UNIQUE CHECK (binding ~ '^[0-9a-f]{64}$');
