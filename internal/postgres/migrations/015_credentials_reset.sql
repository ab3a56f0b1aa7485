-- When an administrator (or an operator) last reset an account's password
-- or MFA: a signer cannot sign for a while after (whoever reset it may be
-- the one signing in).
ALTER TABLE accounts ADD COLUMN credentials_reset_at timestamptz;
