-- Every failure count now lives in login_throttle under a key: a client
-- address's keyed hash, a sign-in name and client ("name:…"), an account's
-- codes ("account:…") or a session's ("session:…"). The accounts' own
-- columns are no longer used.
ALTER TABLE accounts DROP COLUMN failed_logins, DROP COLUMN last_failed_login,
    DROP COLUMN next_login_at, DROP COLUMN locked_until;
COMMENT ON COLUMN login_throttle.client_hash IS
    'the key: a client address''s keyed hash, or name:, account: or session: and an id or keyed hash';
