package credential

import (
	"regexp"
	"time"

	"pakn/internal/access"
)

// Account is a staff account as the rest of pakn sees it (no secrets).
type Account struct {
	ID                 string
	Username           string
	DisplayName        string
	Agency             string
	Roles              []access.Role
	MustChangePassword bool
	MFAEnabled         bool
	Disabled           bool
	CreatedAt          time.Time
	CredentialsResetAt time.Time // when someone else last reset its password or MFA (zero: never)
}

// Credentials is an account with what login needs to check it.
type Credentials struct {
	Account
	PasswordHash  string
	TOTPSecretEnc string // Vault ciphertext, "" when never enrolled
	TOTPLastStep  int64
}

// Session is a signed-in staff session (its token is never stored).
type Session struct {
	TokenHash  []byte
	AccountID  string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
	MFAAt      time.Time // last TOTP or recovery code in this session; zero if none
	Ended      bool
}

// EndsAt is when the session ends unless it is used before: idle for
// IdleTimeout, or its absolute end, whichever comes first.
func (s Session) EndsAt() time.Time {
	if idle := s.LastSeenAt.Add(IdleTimeout); idle.Before(s.ExpiresAt) {
		return idle
	}
	return s.ExpiresAt
}

// Live reports whether the session may still be used at now, and if not why.
func (s Session) Live(now time.Time) (bool, string) {
	switch {
	case s.Ended:
		return false, "ended"
	case !now.Before(s.ExpiresAt):
		return false, "absolute timeout"
	case now.Sub(s.LastSeenAt) >= IdleTimeout:
		return false, "idle timeout"
	}
	return true, ""
}

// APIToken is an integration token (its secret is never stored).
type APIToken struct {
	ID        string
	Name      string
	Agency    string
	Scopes    []access.Action
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	Revoked   bool
}

var usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{2,63}$`)

// ValidUsername reports whether u is a valid username: 3 to 64 lower-case
// letters, digits, dots, dashes or underscores.
func ValidUsername(u string) bool { return usernamePattern.MatchString(u) }

// The changes the two-person rule covers, as a PowerRequest's Kind.
const (
	PowerPasswordReset = "password_reset"
	PowerMFAReset      = "mfa_reset"
	PowerRoleAdd       = "role_add"
)

// The states of a PowerRequest.
const (
	RequestPending   = "pending"
	RequestApproved  = "approved"
	RequestRefused   = "refused"
	RequestWithdrawn = "withdrawn"
)

// PowerRequest is one administrator's request for a change the two-person
// rule covers (resetting a signer's, auditor's or administrator's password
// or MFA; granting the signer's or administrator's role), which another
// administrator of the agency approves or refuses.
type PowerRequest struct {
	ID              string
	Agency          string
	AccountID       string
	Username        string // the account's, for display
	Kind            string // PowerPasswordReset, PowerMFAReset or PowerRoleAdd
	Role            access.Role
	RequestedBy     string
	RequestedByName string
	RequestedAt     time.Time
	ExpiresAt       time.Time
	Status          string
	DecidedBy       string
	DecidedAt       time.Time
}

// Open reports whether the request may still be approved at now.
func (r *PowerRequest) Open(now time.Time) bool {
	return r.Status == RequestPending && now.Before(r.ExpiresAt)
}
