package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pakn/internal/access"
	"pakn/internal/credential"
	"pakn/internal/store"
)

// IdentityStore keeps accounts, roles, MFA material, sessions, integration
// tokens and login throttles. Every method that writes takes the caller's
// transaction, so the write commits with its audit event.
type IdentityStore struct {
	DB *DB
}

const credentialsColumns = `a.id, a.username, a.display_name, a.agency_code, a.must_change_password,
	a.totp_enabled_at IS NOT NULL, a.disabled_at IS NOT NULL, a.created_at,
	coalesce(array(SELECT role FROM account_roles r WHERE r.account_id = a.id ORDER BY role), '{}'),
	a.password_hash, coalesce(a.totp_secret_enc, ''), a.totp_last_step, a.credentials_reset_at`

func scanCredentials(row pgx.Row) (*credential.Credentials, error) {
	var c credential.Credentials
	var roles []string
	var reset *time.Time
	err := row.Scan(&c.ID, &c.Username, &c.DisplayName, &c.Agency, &c.MustChangePassword, &c.MFAEnabled,
		&c.Disabled, &c.CreatedAt, &roles, &c.PasswordHash, &c.TOTPSecretEnc, &c.TOTPLastStep, &reset)
	if reset != nil {
		c.CredentialsResetAt = *reset
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		c.Roles = append(c.Roles, access.Role(r))
	}
	return &c, nil
}

// Credentials loads an account by username or id; with lock it also locks
// the account row until the transaction ends (for login and MFA updates).
func (s *IdentityStore) Credentials(ctx context.Context, id string) (*credential.Credentials, error) {
	u, ok := uuidOf(id)
	if !ok {
		return nil, store.ErrNotFound
	}
	return s.credentials(ctx, "a.id = $1", u)
}

// CredentialsByName finds an account by its (lower-case) user name.
func (s *IdentityStore) CredentialsByName(ctx context.Context, username string) (*credential.Credentials, error) {
	return s.credentials(ctx, "a.username = $1", username)
}

// LockCredentials finds an account by id and locks its row until the
// transaction ctx carries ends.
func (s *IdentityStore) LockCredentials(ctx context.Context, id string) (*credential.Credentials, error) {
	u, ok := uuidOf(id)
	if !ok {
		return nil, store.ErrNotFound
	}
	return s.credentials(ctx, "a.id = $1 FOR UPDATE OF a", u)
}

// credentials loads the account matching where.
func (s *IdentityStore) credentials(ctx context.Context, where string, value any) (*credential.Credentials, error) {
	q := s.DB.conn(ctx)
	c, err := scanCredentials(q.QueryRow(ctx, "SELECT "+credentialsColumns+" FROM accounts a WHERE "+where, value))
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("load account: %w", err)
	}
	return c, err
}

// Accounts lists the accounts of an agency by username.
func (s *IdentityStore) Accounts(ctx context.Context, agency string) ([]credential.Account, error) {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, "SELECT "+credentialsColumns+" FROM accounts a WHERE a.agency_code = $1 ORDER BY a.username", agency)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []credential.Account
	for rows.Next() {
		c, err := scanCredentials(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c.Account)
	}
	return out, rows.Err()
}

// CreateAccount inserts an account with its roles and returns its id and
// creation time.
func (s *IdentityStore) CreateAccount(ctx context.Context, a credential.Account, passwordHash string) (string, time.Time, error) {
	tx := s.DB.conn(ctx)
	var id string
	var created time.Time
	err := tx.QueryRow(ctx, `INSERT INTO accounts (username, display_name, agency_code, password_hash, must_change_password)
		VALUES ($1, $2, $3, $4, true) RETURNING id, created_at`, a.Username, a.DisplayName, a.Agency, passwordHash).Scan(&id, &created)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return "", created, store.ErrConflict
	}
	if errors.As(err, &pgErr) && pgErr.Code == "23503" {
		return "", created, fmt.Errorf("agency %s: %w", a.Agency, store.ErrNotFound)
	}
	if err != nil {
		return "", created, fmt.Errorf("insert account: %w", err)
	}
	for _, r := range a.Roles {
		if err := s.AddRole(ctx, id, r); err != nil {
			return "", created, err
		}
	}
	return id, created, nil
}

// AddRole grants a role; granting a held role changes nothing.
func (s *IdentityStore) AddRole(ctx context.Context, accountID string, r access.Role) error {
	tx := s.DB.conn(ctx)
	_, err := tx.Exec(ctx, "INSERT INTO account_roles (account_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING", accountID, string(r))
	if err != nil {
		return fmt.Errorf("add role: %w", err)
	}
	return nil
}

// OtherAdmins counts the agency's active administrators but except, under
// a transaction-scoped advisory lock of the agency's administrators.
func (s *IdentityStore) OtherAdmins(ctx context.Context, agency, except string) (int, error) {
	tx := s.DB.conn(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('pakn agency administrators ' || $1, 0))", agency); err != nil {
		return 0, fmt.Errorf("lock administrators: %w", err)
	}
	var n int
	err := tx.QueryRow(ctx, `SELECT count(*) FROM accounts a JOIN account_roles r ON r.account_id = a.id AND r.role = 'admin'
		WHERE a.agency_code = $1 AND a.disabled_at IS NULL AND a.id::text <> $2`, agency, except).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count administrators: %w", err)
	}
	return n, nil
}

// RemoveRole withdraws a role.
func (s *IdentityStore) RemoveRole(ctx context.Context, accountID string, r access.Role) error {
	tx := s.DB.conn(ctx)
	_, err := tx.Exec(ctx, "DELETE FROM account_roles WHERE account_id = $1 AND role = $2", accountID, string(r))
	if err != nil {
		return fmt.Errorf("remove role: %w", err)
	}
	return nil
}

// SetPassword stores a new password hash.
func (s *IdentityStore) SetPassword(ctx context.Context, accountID, hash string, mustChange bool, now time.Time) error {
	tx := s.DB.conn(ctx)
	_, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = $2, must_change_password = $3, password_changed_at = $4
		WHERE id = $1`, accountID, hash, mustChange, now)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	return nil
}

// MarkCredentialsReset records that someone else reset the account's
// password or MFA at now.
func (s *IdentityStore) MarkCredentialsReset(ctx context.Context, accountID string, now time.Time) error {
	if _, err := s.DB.conn(ctx).Exec(ctx, `UPDATE accounts SET credentials_reset_at = $2 WHERE id = $1`, accountID, now); err != nil {
		return fmt.Errorf("mark credentials reset: %w", err)
	}
	return nil
}

// SetTOTP stores MFA state: the encrypted secret ("" clears it), whether it
// is confirmed (enabledAt non-zero), and the last used step.
func (s *IdentityStore) SetTOTP(ctx context.Context, accountID, secretEnc string, enabledAt time.Time, lastStep int64) error {
	tx := s.DB.conn(ctx)
	var enc any
	if secretEnc != "" {
		enc = secretEnc
	}
	_, err := tx.Exec(ctx, `UPDATE accounts SET totp_secret_enc = $2, totp_enabled_at = $3, totp_last_step = $4 WHERE id = $1`,
		accountID, enc, nullTime(enabledAt), lastStep)
	if err != nil {
		return fmt.Errorf("set totp: %w", err)
	}
	return nil
}

// ReplaceRecoveryCodes deletes an account's recovery codes and stores new ones.
func (s *IdentityStore) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte) error {
	tx := s.DB.conn(ctx)
	if _, err := tx.Exec(ctx, "DELETE FROM recovery_codes WHERE account_id = $1", accountID); err != nil {
		return fmt.Errorf("delete recovery codes: %w", err)
	}
	for _, h := range hashes {
		if _, err := tx.Exec(ctx, "INSERT INTO recovery_codes (account_id, code_hash) VALUES ($1, $2)", accountID, h); err != nil {
			return fmt.Errorf("insert recovery code: %w", err)
		}
	}
	return nil
}

// UseRecoveryCode marks an unused code as used and reports whether there was one.
func (s *IdentityStore) UseRecoveryCode(ctx context.Context, accountID string, hash []byte, now time.Time) (bool, error) {
	tx := s.DB.conn(ctx)
	tag, err := tx.Exec(ctx, "UPDATE recovery_codes SET used_at = $3 WHERE account_id = $1 AND code_hash = $2 AND used_at IS NULL",
		accountID, hash, now)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// Disable disables an account.
func (s *IdentityStore) Disable(ctx context.Context, accountID string, now time.Time) error {
	tx := s.DB.conn(ctx)
	_, err := tx.Exec(ctx, "UPDATE accounts SET disabled_at = coalesce(disabled_at, $2) WHERE id = $1", accountID, now)
	if err != nil {
		return fmt.Errorf("disable account: %w", err)
	}
	return nil
}

// CreateSession stores a new session.
func (s *IdentityStore) CreateSession(ctx context.Context, ss credential.Session) error {
	tx := s.DB.conn(ctx)
	_, err := tx.Exec(ctx, `INSERT INTO sessions (token_hash, account_id, created_at, last_seen_at, expires_at, mfa_at)
		VALUES ($1, $2, $3, $3, $4, $5)`, ss.TokenHash, ss.AccountID, ss.CreatedAt, ss.ExpiresAt, nullTime(ss.MFAAt))
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session loads a session by its token hash.
func (s *IdentityStore) Session(ctx context.Context, tokenHash []byte) (*credential.Session, error) {
	q := s.DB.conn(ctx)
	var ss credential.Session
	err := q.QueryRow(ctx, `SELECT token_hash, account_id, created_at, last_seen_at, expires_at, coalesce(mfa_at, 'epoch'),
		ended_at IS NOT NULL FROM sessions WHERE token_hash = $1`, tokenHash).Scan(&ss.TokenHash, &ss.AccountID,
		&ss.CreatedAt, &ss.LastSeenAt, &ss.ExpiresAt, &ss.MFAAt, &ss.Ended)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	if ss.MFAAt.Equal(time.Unix(0, 0)) {
		ss.MFAAt = time.Time{}
	}
	return &ss, nil
}

// LockSession loads a session and locks its row until the transaction
// ends: attempts to answer in one session then take their turns.
func (s *IdentityStore) LockSession(ctx context.Context, tokenHash []byte) (*credential.Session, error) {
	tx := s.DB.conn(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM sessions WHERE token_hash = $1 FOR UPDATE", tokenHash); err != nil {
		return nil, fmt.Errorf("lock session: %w", err)
	}
	return s.Session(ctx, tokenHash)
}

// TouchSession records use of a live session.
func (s *IdentityStore) TouchSession(ctx context.Context, tokenHash []byte, now time.Time) error {
	q := s.DB.conn(ctx)
	_, err := q.Exec(ctx, "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1 AND ended_at IS NULL AND last_seen_at < $2", tokenHash, now)
	return err
}

// SetSessionMFA records a fresh TOTP or recovery code in the session.
func (s *IdentityStore) SetSessionMFA(ctx context.Context, tokenHash []byte, at time.Time) error {
	tx := s.DB.conn(ctx)
	tag, err := tx.Exec(ctx, "UPDATE sessions SET mfa_at = $2 WHERE token_hash = $1 AND ended_at IS NULL", tokenHash, at)
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound // ended meanwhile (by its fifth wrong code, say)
	}
	return nil
}

// EndSession ends one session.
func (s *IdentityStore) EndSession(ctx context.Context, tokenHash []byte, reason string, now time.Time) error {
	q := s.DB.conn(ctx)
	_, err := q.Exec(ctx, "UPDATE sessions SET ended_at = $3, end_reason = $2 WHERE token_hash = $1 AND ended_at IS NULL", tokenHash, reason, now)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// EndSessions ends every live session of an account and returns how many.
func (s *IdentityStore) EndSessions(ctx context.Context, accountID, reason string, now time.Time) (int64, error) {
	tx := s.DB.conn(ctx)
	tag, err := tx.Exec(ctx, "UPDATE sessions SET ended_at = $3, end_reason = $2 WHERE account_id = $1 AND ended_at IS NULL", accountID, reason, now)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	return tag.RowsAffected(), nil
}

// CreateToken stores an integration token and returns its id.
func (s *IdentityStore) CreateToken(ctx context.Context, t credential.APIToken, hash []byte) (string, error) {
	tx := s.DB.conn(ctx)
	scopes := make([]string, len(t.Scopes))
	for i, a := range t.Scopes {
		scopes[i] = string(a)
	}
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO api_tokens (token_hash, name, agency_code, scopes, created_by, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, hash, t.Name, t.Agency, scopes, nullString(t.CreatedBy),
		t.CreatedAt, t.ExpiresAt).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("create token: %w", err)
	}
	return id, nil
}

const tokenColumns = `id, name, agency_code, scopes, coalesce(created_by::text, ''), created_at, expires_at, revoked_at IS NOT NULL`

func scanToken(row pgx.Row) (*credential.APIToken, error) {
	var t credential.APIToken
	var scopes []string
	err := row.Scan(&t.ID, &t.Name, &t.Agency, &scopes, &t.CreatedBy, &t.CreatedAt, &t.ExpiresAt, &t.Revoked)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, store.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load token: %w", err)
	}
	for _, sc := range scopes {
		t.Scopes = append(t.Scopes, access.Action(sc))
	}
	return &t, nil
}

// TokenByHash loads a token by the hash of its secret.
func (s *IdentityStore) TokenByHash(ctx context.Context, hash []byte) (*credential.APIToken, error) {
	q := s.DB.conn(ctx)
	return scanToken(q.QueryRow(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE token_hash = $1", hash))
}

// Token loads a token by id.
func (s *IdentityStore) Token(ctx context.Context, id string) (*credential.APIToken, error) {
	u, ok := uuidOf(id)
	if !ok {
		return nil, store.ErrNotFound
	}
	return scanToken(s.DB.conn(ctx).QueryRow(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE id = $1", u))
}

// Tokens lists an agency's tokens, newest first.
func (s *IdentityStore) Tokens(ctx context.Context, agency string) ([]credential.APIToken, error) {
	q := s.DB.conn(ctx)
	rows, err := q.Query(ctx, "SELECT "+tokenColumns+" FROM api_tokens WHERE agency_code = $1 ORDER BY created_at DESC", agency)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []credential.APIToken
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *t)
	}
	return out, rows.Err()
}

// RevokeToken revokes a token.
func (s *IdentityStore) RevokeToken(ctx context.Context, id string, now time.Time) error {
	u, ok := uuidOf(id)
	if !ok {
		return nil // no such token
	}
	_, err := s.DB.conn(ctx).Exec(ctx, "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, $2) WHERE id = $1", u, now)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// TouchToken records use of a token.
func (s *IdentityStore) TouchToken(ctx context.Context, id string, now time.Time) error {
	q := s.DB.conn(ctx)
	_, err := q.Exec(ctx, "UPDATE api_tokens SET last_used_at = $2 WHERE id = $1", id, now)
	return err
}

// KeyThrottle loads and locks the failure record kept under key (a client
// address's keyed hash, or "name:", "account:" or "session:" and an id or
// keyed hash); a zero record when there is none. The row is made first if
// need be, so that concurrent attempts under one key wait for each other
// rather than each reading "no failures".
func (s *IdentityStore) KeyThrottle(ctx context.Context, key string) (credential.Throttle, error) {
	tx := s.DB.conn(ctx)
	var t credential.Throttle
	if _, err := tx.Exec(ctx, `INSERT INTO login_throttle (client_hash, failures, last_failure) VALUES ($1, 0, 'epoch')
		ON CONFLICT (client_hash) DO NOTHING`, key); err != nil {
		return t, fmt.Errorf("load throttle: %w", err)
	}
	err := tx.QueryRow(ctx, `SELECT failures, last_failure, coalesce(next_attempt, 'epoch'), coalesce(locked_until, 'epoch')
		FROM login_throttle WHERE client_hash = $1 FOR UPDATE`, key).Scan(&t.Failures, &t.LastFailure, &t.NextAttempt, &t.LockedUntil)
	if errors.Is(err, pgx.ErrNoRows) {
		return credential.Throttle{}, nil
	}
	if err != nil {
		return t, fmt.Errorf("load throttle: %w", err)
	}
	return unEpoch(t), nil
}

// SetKeyThrottle stores (or, for a zero record, deletes) the record kept
// under key (see KeyThrottle).
func (s *IdentityStore) SetKeyThrottle(ctx context.Context, key string, t credential.Throttle) error {
	tx := s.DB.conn(ctx)
	var err error
	if t == (credential.Throttle{}) {
		_, err = tx.Exec(ctx, "DELETE FROM login_throttle WHERE client_hash = $1", key)
	} else {
		_, err = tx.Exec(ctx, `INSERT INTO login_throttle (client_hash, failures, last_failure, next_attempt, locked_until)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_hash) DO UPDATE SET failures = $2, last_failure = $3,
			next_attempt = $4, locked_until = $5`, key, t.Failures, t.LastFailure, nullTime(t.NextAttempt), nullTime(t.LockedUntil))
	}
	if err != nil {
		return fmt.Errorf("set throttle: %w", err)
	}
	return nil
}

// unEpoch turns the 'epoch' placeholders of NULL times back into zero times.
func unEpoch(t credential.Throttle) credential.Throttle {
	for _, p := range []*time.Time{&t.LastFailure, &t.NextAttempt, &t.LockedUntil} {
		if p.Equal(time.Unix(0, 0)) {
			*p = time.Time{}
		}
	}
	return t
}

func nullTime(t time.Time) any {
	if t.IsZero() || t.Equal(time.Unix(0, 0)) {
		return nil
	}
	return t
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
