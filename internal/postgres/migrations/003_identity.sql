-- Staff accounts, their roles, MFA, sessions, integration tokens and login
-- throttling. Secrets are stored only as hashes (passwords: argon2id;
-- session and API tokens, recovery codes: SHA-256 of high-entropy values);
-- TOTP secrets only encrypted by Vault Transit.
CREATE TABLE accounts (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username             text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    display_name         text NOT NULL CHECK (char_length(display_name) BETWEEN 1 AND 200),
    agency_code          text NOT NULL REFERENCES agencies (code),
    password_hash        text NOT NULL,
    must_change_password boolean NOT NULL DEFAULT true,
    password_changed_at  timestamptz NOT NULL DEFAULT now(),
    totp_secret_enc      text,            -- Vault Transit ciphertext; NULL until enrolment starts
    totp_enabled_at      timestamptz,     -- NULL until the first code confirms enrolment
    totp_last_step       bigint NOT NULL DEFAULT 0, -- highest TOTP step used: each code works once
    failed_logins        integer NOT NULL DEFAULT 0,
    last_failed_login    timestamptz,
    next_login_at        timestamptz,
    locked_until         timestamptz,
    disabled_at          timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE account_roles (
    account_id uuid NOT NULL REFERENCES accounts (id),
    role       text NOT NULL CHECK (role IN ('official', 'reviewer', 'signer', 'auditor', 'admin')),
    PRIMARY KEY (account_id, role)
);

CREATE TABLE recovery_codes (
    account_id uuid  NOT NULL REFERENCES accounts (id),
    code_hash  bytea NOT NULL CHECK (octet_length(code_hash) = 32),
    used_at    timestamptz,
    PRIMARY KEY (account_id, code_hash)
);

CREATE TABLE sessions (
    token_hash     bytea PRIMARY KEY CHECK (octet_length(token_hash) = 32),
    account_id     uuid NOT NULL REFERENCES accounts (id),
    created_at     timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,  -- absolute end
    mfa_at         timestamptz,           -- last TOTP or recovery code in this session (step-up)
    ended_at       timestamptz,
    end_reason     text
);
CREATE INDEX sessions_account ON sessions (account_id) WHERE ended_at IS NULL;

CREATE TABLE api_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    name        text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
    agency_code text NOT NULL REFERENCES agencies (code),
    scopes      text[] NOT NULL,
    created_by  uuid REFERENCES accounts (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    last_used_at timestamptz
);

-- Login failures per client address (keyed HMAC), shared by every paknd.
CREATE TABLE login_throttle (
    client_hash   text PRIMARY KEY,
    failures      integer NOT NULL,
    last_failure  timestamptz NOT NULL,
    next_attempt  timestamptz,
    locked_until  timestamptz
);

REVOKE ALL ON accounts, account_roles, recovery_codes, sessions, api_tokens, login_throttle FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON accounts, sessions, api_tokens, recovery_codes TO {{.app_role}};
GRANT SELECT, INSERT, DELETE ON account_roles TO {{.app_role}};
GRANT DELETE ON recovery_codes TO {{.app_role}};
GRANT SELECT, INSERT, UPDATE, DELETE ON login_throttle TO {{.app_role}};
