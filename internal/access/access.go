// Package access is pakn's one authorization policy: it decides whether a
// principal (a staff session, an integration token, or nobody) may take an
// action, and on which agency's objects. Handlers and services ask; they
// never decide on their own.
package access

import (
	"slices"
	"time"
)

// Role is a staff role.
type Role string

// The staff roles.
const (
	Official Role = "official" // receives, classifies and drafts answers to petitions
	Reviewer Role = "reviewer" // approves or sends back drafted replies
	Signer   Role = "signer"   // signs approved replies with their key in Vault
	Auditor  Role = "auditor"  // reads and exports the audit log
	Admin    Role = "admin"    // manages accounts, roles, tokens and keys of their agency
)

// AllRoles lists the roles in a stable order.
var AllRoles = []Role{Official, Reviewer, Signer, Auditor, Admin}

// ValidRole reports whether r is a known role.
func ValidRole(r Role) bool { return slices.Contains(AllRoles, r) }

// MFARequired reports whether holding any of roles requires TOTP.
func MFARequired(roles []Role) bool {
	for _, r := range roles {
		if r == Signer || r == Auditor || r == Admin {
			return true
		}
	}
	return false
}

// Action is something a principal may be allowed to do.
type Action string

// The actions. Self-service actions on one's own session are not listed:
// any authenticated staff session may take them.
const (
	AgencyRead    Action = "agency.read"    // list the agency directory (public)
	AccountRead   Action = "account.read"   // read accounts of the agency
	AccountManage Action = "account.manage" // create, disable accounts; change roles; reset MFA
	TokenManage   Action = "token.manage"   // issue, list and revoke integration tokens
	AuditRead     Action = "audit.read"     // verify the audit log's chain
	AuditEvents   Action = "audit.events"   // read the audit log's events (an auditor's session, with MFA; never a token)
	AuditExport   Action = "audit.export"   // export the audit log

	PetitionRead   Action = "petition.read"   // list, search and read the agency's petitions, with personal data
	PetitionEnter  Action = "petition.enter"  // enter a petition for someone who came in, phoned or wrote
	PetitionHandle Action = "petition.handle" // accept, reject, start, transfer, draft, publish, close, post updates
	PetitionReview Action = "petition.review" // approve a drafted reply or send it back
	PetitionSign   Action = "petition.sign"   // sign an approved reply
	ReportRead     Action = "report.read"     // deadline reports of the agency and the agencies below it
)

// rule says who may take an action.
type rule struct {
	roles       []Role
	public      bool // anyone, signed in or not
	global      bool // not bound to the principal's agency (the audit log is one for all)
	stepUp      bool // needs a TOTP code from the last StepUpWindow
	tokenScoped bool // integration tokens may hold it as a scope
}

var rules = map[Action]rule{
	AgencyRead:    {public: true, tokenScoped: true},
	AccountRead:   {roles: []Role{Admin}},
	AccountManage: {roles: []Role{Admin}, stepUp: true},
	TokenManage:   {roles: []Role{Admin}, stepUp: true},
	AuditRead:     {roles: []Role{Auditor}, global: true, tokenScoped: true},
	AuditEvents:   {roles: []Role{Auditor}, global: true},
	AuditExport:   {roles: []Role{Auditor}, global: true, stepUp: true},

	PetitionRead:   {roles: []Role{Official, Reviewer, Signer}},
	PetitionEnter:  {roles: []Role{Official}},
	PetitionHandle: {roles: []Role{Official}},
	PetitionReview: {roles: []Role{Reviewer}},
	PetitionSign:   {roles: []Role{Signer}, stepUp: true},
	ReportRead:     {roles: []Role{Official, Reviewer, Signer, Admin}},
}

// TokenScopes lists the actions an integration token may be granted.
func TokenScopes() []Action {
	var out []Action
	for a, r := range rules {
		if r.tokenScoped {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// Kind is the kind of principal.
type Kind int

// The kinds of principal.
const (
	Anonymous Kind = iota
	Staff          // a signed-in account
	Token          // an integration token
	Operator       // the pakn CLI, run by an operator holding the database credentials
)

// Principal is who asks.
type Principal struct {
	Kind      Kind
	ID        string   // account id or token id
	Name      string   // username or token name, for audit
	Agency    string   // the agency the principal belongs to
	Roles     []Role   // staff roles
	Scopes    []Action // token scopes
	SteppedUp time.Time
	// Restricted, when not "", says what a staff session must do before
	// anything else: "password_change" or "mfa_enrolment".
	Restricted string
}

// RolesHold reports whether roles hold action a themselves (a public
// action is everyone's): what a member of staff may delegate to a token,
// and what a token's creator must go on holding for it to live.
func RolesHold(roles []Role, a Action) bool {
	r, ok := rules[a]
	return ok && (r.public || slices.ContainsFunc(r.roles, func(x Role) bool { return slices.Contains(roles, x) }))
}

// Has reports whether p holds role r.
func (p Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) }

// Object is what an action is taken on. Agency "" means the action is not
// about one agency's object.
type Object struct {
	Agency string
}

// Outcome of a decision.
type Outcome int

// The outcomes.
const (
	Allow           Outcome = iota
	Unauthenticated         // sign in first
	Forbidden               // the principal may never take this action
	NotVisible              // the object belongs to another agency: answer as if it did not exist
	NeedStepUp              // allowed after a fresh TOTP code
	Restricted              // the session must change its password or enrol MFA first
)

// Decision is the policy's answer with a reason for the audit log.
type Decision struct {
	Outcome Outcome
	Reason  string
}

// Decide decides whether p may take action a on obj at now.
func Decide(p Principal, a Action, obj Object, now time.Time) Decision {
	r, ok := rules[a]
	if !ok {
		return Decision{Forbidden, "unknown action"}
	}
	if r.public {
		return Decision{Allow, "public"}
	}
	switch p.Kind {
	case Operator:
		return Decision{Allow, "operator"}
	case Anonymous:
		return Decision{Unauthenticated, "not signed in"}
	case Token:
		if !r.tokenScoped || !slices.Contains(p.Scopes, a) {
			return Decision{Forbidden, "token lacks scope " + string(a)}
		}
	case Staff:
		if p.Restricted != "" {
			return Decision{Restricted, "session restricted: " + p.Restricted}
		}
		if !slices.ContainsFunc(r.roles, p.Has) {
			return Decision{Forbidden, "role not allowed"}
		}
	}
	if !r.global && obj.Agency != "" && obj.Agency != p.Agency {
		return Decision{NotVisible, "object of another agency"}
	}
	if r.stepUp && (p.Kind != Staff || now.Sub(p.SteppedUp) > StepUpWindow || p.SteppedUp.After(now)) {
		return Decision{NeedStepUp, "step-up required"}
	}
	return Decision{Allow, "allowed"}
}

// StepUpWindow is how recent a TOTP code must be for step-up actions.
const StepUpWindow = 5 * time.Minute
