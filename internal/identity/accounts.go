package identity

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/guard"
	"pakn/internal/msg"
	"pakn/internal/reply"
	"pakn/internal/store"
)

// NewAccount is what an administrator gives to create an account.
type NewAccount struct {
	Username    string
	DisplayName string
	Agency      string
	Roles       []access.Role
}

func (n *NewAccount) validate() error {
	n.Username = strings.ToLower(strings.TrimSpace(n.Username))
	n.DisplayName = norm.NFC.String(strings.TrimSpace(n.DisplayName))
	if !credential.ValidUsername(n.Username) {
		return apperr.New(apperr.Invalid, msg.UsernameFormat)
	}
	if l := utf8.RuneCountInString(n.DisplayName); l < 1 || l > 200 {
		return apperr.New(apperr.Invalid, msg.DisplayNameLength)
	}
	if len(n.Roles) == 0 {
		return apperr.New(apperr.Invalid, msg.RoleNeeded)
	}
	for _, r := range n.Roles {
		if !access.ValidRole(r) {
			return apperr.New(apperr.Invalid, msg.UnknownRoleOf, r)
		}
	}
	return nil
}

// CreateAccount creates an account in the principal's agency (operators:
// any agency) with a random one-time password, which it returns once. The
// owner must change it at first sign-in.
func (s *Service) CreateAccount(ctx context.Context, m audit.Meta, p access.Principal, n NewAccount) (*credential.Account, string, error) {
	// Authorize first: an unauthorised caller learns nothing from validation.
	if err := s.guard.Authorize(ctx, m, p, access.AccountManage, guard.Target{Type: "account", Agency: n.Agency}); err != nil {
		return nil, "", err
	}
	if err := n.validate(); err != nil {
		return nil, "", err
	}
	if p.Kind == access.Staff && access.MFARequired(n.Roles) {
		// The creator sees the one-time password: a signer's, auditor's or
		// administrator's role is granted afterwards, by the two-person rule.
		return nil, "", apperr.New(apperr.Forbidden, msg.PowerRoleAtCreation)
	}
	pw, err := credential.NewPassword()
	if err != nil {
		return nil, "", err
	}
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return nil, "", err
	}
	a := credential.Account{Username: n.Username, DisplayName: n.DisplayName, Agency: n.Agency, Roles: n.Roles, MustChangePassword: true}
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		id, created, err := s.store.CreateAccount(ctx, a, hash)
		if errors.Is(err, store.ErrConflict) {
			return apperr.New(apperr.Conflict, msg.UsernameTaken)
		}
		if errors.Is(err, store.ErrNotFound) {
			return apperr.New(apperr.Invalid, msg.NoAgencyCode, n.Agency)
		}
		if err != nil {
			return err
		}
		a.ID, a.CreatedAt = id, created
		if err := s.audit.Append(ctx, audit.EventOf(m, p, "account.create", "account", id, audit.Success,
			details("username", a.Username, "agency", a.Agency, "roles", joinRoles(a.Roles)))); err != nil {
			return err
		}
		return s.powerGranted(ctx, m, p, &credential.Credentials{Account: a}, a.Roles)
	})
	if err != nil {
		return nil, "", err
	}
	return &a, pw, nil
}

func joinRoles(rs []access.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// target loads an account for an action of p on it. A missing account and
// an account p may not see give the same answer.
func (s *Service) target(ctx context.Context, m audit.Meta, p access.Principal, a access.Action, id string) (*credential.Credentials, error) {
	return guarded(ctx, s, m, p, a, "account", id, s.store.Credentials, func(c *credential.Credentials) (string, string) { return c.ID, c.Agency })
}

// guarded loads the object of type typ and id with load, for action a of
// p: a missing object and one p may not act on answer alike (the guard
// refuses both, or the object is not found), so existence is not told;
// where gives a loaded object's id and agency.
func guarded[T any](ctx context.Context, s *Service, m audit.Meta, p access.Principal, a access.Action, typ, id string,
	load func(context.Context, string) (T, error), where func(T) (string, string)) (T, error) {
	var none T
	v, err := load(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		if err := s.guard.RefuseMissing(ctx, m, p, a, guard.Target{Type: typ, ID: id, Agency: p.Agency}); err != nil {
			return none, err
		}
		return none, apperr.New(apperr.NotFound, msg.NotFound)
	}
	if err != nil {
		return none, err
	}
	oid, agency := where(v)
	if err := s.guard.Authorize(ctx, m, p, a, guard.Target{Type: typ, ID: oid, Agency: agency}); err != nil {
		return none, err
	}
	return v, nil
}

// FindAccount loads an account by username, for operators.
func (s *Service) FindAccount(ctx context.Context, username string) (*credential.Account, error) {
	c, err := s.store.CredentialsByName(ctx, strings.ToLower(username))
	if errors.Is(err, store.ErrNotFound) {
		return nil, apperr.New(apperr.NotFound, msg.NoAccountNamed, username)
	}
	if err != nil {
		return nil, err
	}
	return &c.Account, nil
}

// Account returns one account: one's own, or one of one's agency for admins.
func (s *Service) Account(ctx context.Context, m audit.Meta, p access.Principal, id string) (*credential.Account, error) {
	if p.Kind == access.Staff && p.ID == id {
		c, err := s.store.Credentials(ctx, id)
		if err != nil {
			return nil, err
		}
		return &c.Account, nil
	}
	c, err := s.target(ctx, m, p, access.AccountRead, id)
	if err != nil {
		return nil, err
	}
	return &c.Account, nil
}

// ManagedAccount returns an account of the principal's agency to its
// administrator (one's own included: unlike Account, it is always the
// administration's read, refused and audited for anyone else).
func (s *Service) ManagedAccount(ctx context.Context, m audit.Meta, p access.Principal, id string) (*credential.Account, error) {
	c, err := s.target(ctx, m, p, access.AccountRead, id)
	if err != nil {
		return nil, err
	}
	return &c.Account, nil
}

// May reports whether p may take action a in p's agency now, or after a
// step-up: a page's question to offer a button (nothing audited).
func (s *Service) May(p access.Principal, a access.Action) bool {
	return s.guard.Allows(p, a, guard.Target{Agency: p.Agency})
}

// StepUpFirst reports whether p must enter a fresh code before action a in
// p's agency.
func (s *Service) StepUpFirst(p access.Principal, a access.Action) bool {
	return s.guard.NeedsStepUp(p, a, guard.Target{Agency: p.Agency})
}

// Accounts lists the accounts of the principal's agency.
func (s *Service) Accounts(ctx context.Context, m audit.Meta, p access.Principal) ([]credential.Account, error) {
	if err := s.guard.Authorize(ctx, m, p, access.AccountRead, guard.Target{Type: "account", Agency: p.Agency}); err != nil {
		return nil, err
	}
	return s.store.Accounts(ctx, p.Agency)
}

// change runs an account change as one audited transaction. A change the
// two-person rule covers, made by an administrator, is recorded as a
// request instead (returned; nothing changes) until another administrator
// approves it (rule.approving: the request is marked approved in the
// change's transaction).
func (s *Service) change(ctx context.Context, m audit.Meta, p access.Principal, id, action string, det []byte, rule power,
	do func(ctx context.Context, c *credential.Credentials, now time.Time) error) (*credential.PowerRequest, error) {
	c, err := s.target(ctx, m, p, access.AccountManage, id)
	if err != nil {
		return nil, err
	}
	var req *credential.PowerRequest
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		// Decided on the account as it is now, locked until the change commits.
		locked, err := s.store.LockCredentials(ctx, c.ID)
		if err != nil {
			return err
		}
		now := s.now()
		if rule.check != nil {
			if err := rule.check(locked); err != nil {
				return err
			}
		}
		if rule.needsSecond(p, locked) {
			req, err = s.request(ctx, m, p, locked, rule, now)
			return err
		}
		if rule.approving != nil {
			if err := s.approve(ctx, p, rule.approving, now); err != nil {
				return err
			}
			det = withRequest(det, rule.approving)
		}
		if err := do(ctx, locked, now); err != nil {
			return err
		}
		return s.audit.Append(ctx, audit.EventOf(m, p, action, "account", locked.ID, audit.Success, det))
	})
	return req, err
}

// AddRole grants a role. Signer, auditor and admin then require MFA at the
// account's next request. An administrator's grant of the signer's or
// administrator's role is a request another administrator approves
// (returned; the role is not granted yet); the auditor's role is granted
// only by operators.
func (s *Service) AddRole(ctx context.Context, m audit.Meta, p access.Principal, id string, r access.Role) (*credential.PowerRequest, error) {
	return s.addRole(ctx, m, p, id, power{kind: credential.PowerRoleAdd, role: r})
}

func (s *Service) addRole(ctx context.Context, m audit.Meta, p access.Principal, id string, rule power) (*credential.PowerRequest, error) {
	r := rule.role
	rule.check = func(c *credential.Credentials) error {
		switch {
		case !access.ValidRole(r):
			return apperr.New(apperr.Invalid, msg.UnknownRoleName)
		case p.Kind == access.Staff && p.ID == c.ID:
			return apperr.New(apperr.Forbidden, msg.NoSelfGrant)
		case p.Kind == access.Staff && r == access.Auditor:
			return apperr.New(apperr.Forbidden, msg.AuditorByOperator)
		}
		return nil
	}
	return s.change(ctx, m, p, id, "account.role_add", details("role", string(r)), rule, func(ctx context.Context, c *credential.Credentials, _ time.Time) error {
		if err := s.powerGranted(ctx, m, p, c, []access.Role{r}); err != nil {
			return err
		}
		return s.store.AddRole(ctx, c.ID, r)
	})
}

// RemoveRole withdraws a role.
func (s *Service) RemoveRole(ctx context.Context, m audit.Meta, p access.Principal, id string, r access.Role) error {
	_, err := s.change(ctx, m, p, id, "account.role_remove", details("role", string(r)), power{}, func(ctx context.Context, c *credential.Credentials, _ time.Time) error {
		if !access.ValidRole(r) {
			return apperr.New(apperr.Invalid, msg.UnknownRoleName)
		}
		if r == access.Admin && slices.Contains(c.Roles, access.Admin) {
			if err := s.keepAnAdmin(ctx, c); err != nil {
				return err
			}
		}
		left := c.Account
		left.Roles = slices.DeleteFunc(slices.Clone(c.Roles), func(x access.Role) bool { return x == r })
		if err := s.revokeTokensOf(ctx, m, p, &left, "the creator lost the role "+string(r)); err != nil {
			return err
		}
		return s.store.RemoveRole(ctx, c.ID, r)
	})
	return err
}

// powerGranted records a grant of roles to c: a signer's, auditor's or
// administrator's role is an alert in the audit log; a signer made by an
// administrator may not sign for the hold after a credential reset (as if
// their credentials had just been reset: an administrator may have known
// the one-time password). An operator's grant, made with the operator's own
// credentials, starts no hold.
func (s *Service) powerGranted(ctx context.Context, m audit.Meta, p access.Principal, c *credential.Credentials, roles []access.Role) error {
	if !access.MFARequired(roles) {
		return nil
	}
	if slices.Contains(roles, access.Signer) && p.Kind == access.Staff {
		if err := s.store.MarkCredentialsReset(ctx, c.ID, s.now()); err != nil {
			return err
		}
	}
	return s.audit.Append(ctx, audit.EventOf(m, p, "alert.role_grant", "account", c.ID, audit.Success, details("roles", joinRoles(roles))))
}

// revokeTokensOf revokes the tokens creator (as it is after the change)
// may no longer issue, each with its event: they would not authenticate
// anyway (AuthenticateToken asks the same), and giving the role back must
// not bring them back.
func (s *Service) revokeTokensOf(ctx context.Context, m audit.Meta, p access.Principal, creator *credential.Account, why string) error {
	tokens, err := s.store.Tokens(ctx, creator.Agency)
	if err != nil {
		return err
	}
	for i := range tokens {
		t := &tokens[i]
		if t.CreatedBy != creator.ID || t.Revoked || creatorHolds(creator, t) {
			continue
		}
		if err := s.store.RevokeToken(ctx, t.ID, s.now()); err != nil {
			return err
		}
		if err := s.audit.Append(ctx, audit.EventOf(m, p, "token.revoke", "token", t.ID, audit.Success, details("reason", why))); err != nil {
			return err
		}
	}
	return nil
}

// keepAnAdmin refuses a change that would leave c's agency without an
// active administrator (in the change's transaction, under the lock
// OtherAdmins takes).
func (s *Service) keepAnAdmin(ctx context.Context, c *credential.Credentials) error {
	n, err := s.store.OtherAdmins(ctx, c.Agency, c.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.Conflict, msg.LastAdministrator)
	}
	return nil
}

// Disable disables an account and ends its sessions.
func (s *Service) Disable(ctx context.Context, m audit.Meta, p access.Principal, id string) error {
	_, err := s.change(ctx, m, p, id, "account.disable", nil, power{}, func(ctx context.Context, c *credential.Credentials, now time.Time) error {
		if p.Kind == access.Staff && p.ID == c.ID {
			return apperr.New(apperr.Conflict, msg.CannotDisableOwnAccount)
		}
		if slices.Contains(c.Roles, access.Admin) && !c.Disabled {
			if err := s.keepAnAdmin(ctx, c); err != nil {
				return err
			}
		}
		if err := s.store.Disable(ctx, c.ID, now); err != nil {
			return err
		}
		gone := c.Account
		gone.Disabled = true
		if err := s.revokeTokensOf(ctx, m, p, &gone, "the creator was disabled"); err != nil {
			return err
		}
		_, err := s.store.EndSessions(ctx, c.ID, "account disabled", now)
		return err
	})
	return err
}

// ResetMFA removes an account's TOTP secret and recovery codes and ends its
// sessions; it must enrol again at next sign-in. An administrator's reset
// of a signer's, auditor's or administrator's MFA is a request another
// administrator approves (returned; nothing is reset yet).
func (s *Service) ResetMFA(ctx context.Context, m audit.Meta, p access.Principal, id string) (*credential.PowerRequest, error) {
	return s.resetMFA(ctx, m, p, id, power{kind: credential.PowerMFAReset})
}

func (s *Service) resetMFA(ctx context.Context, m audit.Meta, p access.Principal, id string, rule power) (*credential.PowerRequest, error) {
	return s.change(ctx, m, p, id, "account.mfa_reset", nil, rule, func(ctx context.Context, c *credential.Credentials, now time.Time) error {
		if err := s.store.SetTOTP(ctx, c.ID, "", time.Time{}, 0); err != nil {
			return err
		}
		if err := s.resetBySomeoneElse(ctx, m, p, c, "mfa", now); err != nil {
			return err
		}
		if err := s.store.ReplaceRecoveryCodes(ctx, c.ID, nil); err != nil {
			return err
		}
		_, err := s.store.EndSessions(ctx, c.ID, "mfa reset", now)
		return err
	})
}

// ResetPassword gives an account a new one-time password (returned once)
// and ends its sessions. An administrator's reset of a signer's, auditor's
// or administrator's password is a request another administrator approves
// (returned, with no password: the approver receives it).
func (s *Service) ResetPassword(ctx context.Context, m audit.Meta, p access.Principal, id string) (string, *credential.PowerRequest, error) {
	return s.resetPassword(ctx, m, p, id, power{kind: credential.PowerPasswordReset})
}

func (s *Service) resetPassword(ctx context.Context, m audit.Meta, p access.Principal, id string, rule power) (string, *credential.PowerRequest, error) {
	pw, err := credential.NewPassword()
	if err != nil {
		return "", nil, err
	}
	hash, err := s.hasher.Hash(pw)
	if err != nil {
		return "", nil, err
	}
	req, err := s.change(ctx, m, p, id, "account.password_reset", nil, rule, func(ctx context.Context, c *credential.Credentials, now time.Time) error {
		if err := s.store.SetPassword(ctx, c.ID, hash, true, now); err != nil {
			return err
		}
		if err := s.resetBySomeoneElse(ctx, m, p, c, "password", now); err != nil {
			return err
		}
		_, err := s.store.EndSessions(ctx, c.ID, "password reset", now)
		return err
	})
	if err != nil || req != nil {
		return "", req, err
	}
	return pw, nil, nil
}

// resetBySomeoneElse records that p reset what of c's credentials: a
// signer's account may not sign for a while after (internal/replies), and
// resetting a signer's, an auditor's or an administrator's credentials is
// an alert in the audit log, for the security staff who read it.
func (s *Service) resetBySomeoneElse(ctx context.Context, m audit.Meta, p access.Principal, c *credential.Credentials, what string, now time.Time) error {
	if err := s.store.MarkCredentialsReset(ctx, c.ID, now); err != nil {
		return err
	}
	if !access.MFARequired(c.Roles) {
		return nil
	}
	return s.audit.Append(ctx, audit.EventOf(m, p, "alert.credentials_reset", "account", c.ID, audit.Success,
		details("reset", what, "roles", joinRoles(c.Roles))))
}

// Token lifetimes.
const (
	DefaultTokenTTL = 90 * 24 * time.Hour
	MaxTokenTTL     = 365 * 24 * time.Hour
)

// IssueToken creates an integration token for the principal's agency with
// the given scopes; its secret is returned once.
func (s *Service) IssueToken(ctx context.Context, m audit.Meta, p access.Principal, name string, scopes []access.Action, ttl time.Duration) (*credential.APIToken, string, error) {
	if err := s.guard.Authorize(ctx, m, p, access.TokenManage, guard.Target{Type: "token", Agency: p.Agency}); err != nil {
		return nil, "", err
	}
	name = strings.TrimSpace(name)
	if l := utf8.RuneCountInString(name); l < 1 || l > 100 {
		return nil, "", apperr.New(apperr.Invalid, msg.TokenNameLength)
	}
	allowed := access.TokenScopes()
	if len(scopes) == 0 {
		return nil, "", apperr.New(apperr.Invalid, msg.ScopeNeeded)
	}
	for _, sc := range scopes {
		if !slices.Contains(allowed, sc) {
			return nil, "", apperr.New(apperr.Invalid, msg.ScopeNotAllowed, sc)
		}
		// Only what one holds oneself: an administrator cannot mint an audit reader.
		if p.Kind == access.Staff && !access.RolesHold(p.Roles, sc) {
			return nil, "", apperr.New(apperr.Forbidden, msg.ScopeNotHeld, sc)
		}
	}
	if ttl == 0 {
		ttl = DefaultTokenTTL
	}
	if ttl < time.Hour || ttl > MaxTokenTTL {
		return nil, "", apperr.New(apperr.Invalid, msg.TokenLifetime)
	}
	secret, _, err := credential.NewSecret()
	if err != nil {
		return nil, "", err
	}
	secret = credential.TokenPrefix + secret
	hash := credential.HashSecret(secret)
	now := s.now()
	t := credential.APIToken{Name: name, Agency: p.Agency, Scopes: scopes, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if p.Kind == access.Staff {
		t.CreatedBy = p.ID
	}
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		id, err := s.store.CreateToken(ctx, t, hash)
		if err != nil {
			return err
		}
		t.ID = id
		sc := make([]string, len(scopes))
		for i, a := range scopes {
			sc[i] = string(a)
		}
		return s.audit.Append(ctx, audit.EventOf(m, p, "token.issue", "token", id, audit.Success,
			details("name", name, "scopes", strings.Join(sc, ","), "expires", t.ExpiresAt.UTC().Format(time.RFC3339))))
	})
	if err != nil {
		return nil, "", err
	}
	return &t, secret, nil
}

// Tokens lists the integration tokens of the principal's agency.
func (s *Service) Tokens(ctx context.Context, m audit.Meta, p access.Principal) ([]credential.APIToken, error) {
	if err := s.guard.Authorize(ctx, m, p, access.AccountRead, guard.Target{Type: "token", Agency: p.Agency}); err != nil {
		return nil, err
	}
	return s.store.Tokens(ctx, p.Agency)
}

// Signers lists the signers of the principal's agency: each account's
// keys, active, retired or revoked, with their certificates. Provisioning
// them stays an operator's command (pakn signer).
func (s *Service) Signers(ctx context.Context, m audit.Meta, p access.Principal) ([]reply.Signer, error) {
	if err := s.guard.Authorize(ctx, m, p, access.AccountRead, guard.Target{Type: "signer", Agency: p.Agency}); err != nil {
		return nil, err
	}
	if s.signers == nil {
		return nil, apperr.New(apperr.Unavailable, msg.DatabaseUnavailable)
	}
	return s.signers.AgencySigners(ctx, p.Agency)
}

// RevokeToken revokes an integration token of the principal's agency.
func (s *Service) RevokeToken(ctx context.Context, m audit.Meta, p access.Principal, id string) error {
	t, err := guarded(ctx, s, m, p, access.TokenManage, "token", id, s.store.Token, func(t *credential.APIToken) (string, string) { return t.ID, t.Agency })
	if err != nil {
		return err
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.RevokeToken(ctx, t.ID, s.now()); err != nil {
			return err
		}
		return s.audit.Append(ctx, audit.EventOf(m, p, "token.revoke", "token", t.ID, audit.Success, details("name", t.Name)))
	})
}
