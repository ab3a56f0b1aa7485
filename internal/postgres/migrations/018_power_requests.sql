-- The two-person rule: an administrator's reset of a signer's, auditor's
-- or administrator's password or MFA, and a grant of the signer's or
-- administrator's role, is a request another administrator of the agency
-- approves or refuses (the requester may withdraw it). Neither the
-- requester nor the account concerned may approve it: the database itself
-- refuses that.
CREATE TABLE power_requests (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    agency_code  text NOT NULL REFERENCES agencies (code),
    account_id   uuid NOT NULL REFERENCES accounts (id),
    kind         text NOT NULL CHECK (kind IN ('password_reset', 'mfa_reset', 'role_add')),
    role         text NOT NULL DEFAULT '' CHECK ((kind = 'role_add') = (role <> '')),
    requested_by uuid NOT NULL REFERENCES accounts (id),
    requested_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL CHECK (expires_at > requested_at),
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'refused', 'withdrawn')),
    decided_by   uuid REFERENCES accounts (id),
    decided_at   timestamptz,
    CHECK (requested_by <> account_id),
    CHECK (status <> 'approved' OR (decided_by <> requested_by AND decided_by <> account_id)),
    CHECK (status <> 'withdrawn' OR decided_by = requested_by),
    CHECK ((status = 'pending') = (decided_at IS NULL) AND (status = 'pending') = (decided_by IS NULL))
);
-- One pending request for the same change at a time.
CREATE UNIQUE INDEX power_requests_one_pending ON power_requests (account_id, kind, role) WHERE status = 'pending';
CREATE INDEX power_requests_agency ON power_requests (agency_code, requested_at DESC);

GRANT SELECT, INSERT, UPDATE (status, decided_by, decided_at) ON power_requests TO {{.app_role}};
