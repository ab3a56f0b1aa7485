package access

import (
	"testing"
	"time"
)

func TestDecide(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	staff := func(agency string, roles ...Role) Principal {
		return Principal{Kind: Staff, ID: "a", Agency: agency, Roles: roles, SteppedUp: now.Add(-time.Minute)}
	}
	stale := staff("A", Admin)
	stale.SteppedUp = now.Add(-6 * time.Minute)
	// SECURITY.md: a TOTP code within 5 minutes.
	edge, past := staff("A", Admin), staff("A", Admin)
	edge.SteppedUp, past.SteppedUp = now.Add(-5*time.Minute), now.Add(-5*time.Minute-time.Second)
	restricted := staff("A", Admin)
	restricted.Restricted = "mfa_enrolment"
	tests := []struct {
		name string
		p    Principal
		a    Action
		obj  Object
		want Outcome
	}{
		{"anyone lists agencies", Principal{}, AgencyRead, Object{}, Allow},
		{"anonymous reads accounts", Principal{}, AccountRead, Object{Agency: "A"}, Unauthenticated},
		{"admin reads own agency", staff("A", Admin), AccountRead, Object{Agency: "A"}, Allow},
		{"admin reads other agency", staff("A", Admin), AccountRead, Object{Agency: "B"}, NotVisible},
		{"official reads accounts", staff("A", Official), AccountRead, Object{Agency: "A"}, Forbidden},
		{"admin manages with step-up", staff("A", Admin), AccountManage, Object{Agency: "A"}, Allow},
		{"admin manages, step-up stale", stale, AccountManage, Object{Agency: "A"}, NeedStepUp},
		{"admin manages, code 5 minutes old", edge, AccountManage, Object{Agency: "A"}, Allow},
		{"admin manages, code 5 minutes 1 second old", past, AccountManage, Object{Agency: "A"}, NeedStepUp},
		{"admin manages other agency", staff("A", Admin), AccountManage, Object{Agency: "B"}, NotVisible},
		{"restricted session", restricted, AccountRead, Object{Agency: "A"}, Restricted},
		{"auditor reads log (global)", staff("A", Auditor), AuditRead, Object{}, Allow},
		{"admin reads log", staff("A", Admin), AuditRead, Object{}, Forbidden},
		{"auditor exports", staff("A", Auditor), AuditExport, Object{}, Allow},
		{"several roles", staff("A", Official, Auditor), AuditRead, Object{}, Allow},
		{"token with scope", Principal{Kind: Token, Agency: "A", Scopes: []Action{AuditRead}}, AuditRead, Object{}, Allow},
		{"token without scope", Principal{Kind: Token, Agency: "A", Scopes: []Action{AgencyRead}}, AuditRead, Object{}, Forbidden},
		{"token never manages", Principal{Kind: Token, Agency: "A", Scopes: []Action{AccountManage}}, AccountManage, Object{Agency: "A"}, Forbidden},
		{"token never exports", Principal{Kind: Token, Agency: "A", Scopes: []Action{AuditExport}}, AuditExport, Object{}, Forbidden},
		{"operator", Principal{Kind: Operator}, AccountManage, Object{Agency: "B"}, Allow},
		{"unknown action", staff("A", Admin), Action("petition.burn"), Object{}, Forbidden},
	}
	for _, tt := range tests {
		if got := Decide(tt.p, tt.a, tt.obj, now); got.Outcome != tt.want {
			t.Errorf("%s: %v (%s), want %v", tt.name, got.Outcome, got.Reason, tt.want)
		}
	}
}

func TestMFARequiredAndScopes(t *testing.T) {
	for _, tt := range []struct {
		roles []Role
		want  bool
	}{{[]Role{Official}, false}, {[]Role{Official, Reviewer}, false}, {[]Role{Signer}, true}, {[]Role{Auditor}, true}, {[]Role{Official, Admin}, true}} {
		if MFARequired(tt.roles) != tt.want {
			t.Errorf("MFARequired(%v) != %v", tt.roles, tt.want)
		}
	}
	for _, sc := range TokenScopes() {
		if rules[sc].stepUp {
			t.Errorf("token scope %s needs step-up, which tokens cannot do", sc)
		}
	}
}
