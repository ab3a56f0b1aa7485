package guard_test

import (
	"context"
	"testing"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/guard"
	"pakn/internal/pgtest"
)

func TestAuthorize(t *testing.T) {
	db := pgtest.New(t)
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	st := db.Stores(nil)
	g := &guard.Guard{Audit: st.Audit, Now: func() time.Time { return now }}
	official := access.Principal{Kind: access.Staff, ID: "a1", Name: "official", Agency: "STP-HN", Roles: []access.Role{access.Official}}
	signer := access.Principal{Kind: access.Staff, ID: "a2", Name: "signer", Agency: "STP-HN", Roles: []access.Role{access.Signer}}
	steppedUp := signer
	steppedUp.SteppedUp = now.Add(-time.Minute)
	restricted := official
	restricted.Restricted = "password_change"
	own := guard.Target{Type: "petition", ID: "p1", Agency: "STP-HN"}
	other := guard.Target{Type: "petition", ID: "p2", Agency: "UBND-BD"}
	tests := []struct {
		name    string
		p       access.Principal
		a       access.Action
		t       guard.Target
		want    apperr.Code // "" allowed
		audited bool        // an access.denied event is written
	}{
		{"own agency's petition", official, access.PetitionHandle, own, "", false},
		{"another agency's petition looks missing", official, access.PetitionHandle, other, apperr.NotFound, true},
		{"a role the principal lacks", official, access.PetitionSign, own, apperr.Forbidden, true},
		{"signing without a fresh TOTP code", signer, access.PetitionSign, own, apperr.StepUpRequired, false},
		{"signing after step-up", steppedUp, access.PetitionSign, own, "", false},
		{"a restricted session", restricted, access.PetitionHandle, own, apperr.Restricted, false},
		{"anonymous on a staff action", access.Principal{Kind: access.Anonymous}, access.PetitionRead, own, apperr.Unauthenticated, false},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before int
			_ = db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'access.denied'").Scan(&before)
			err := g.Authorize(ctx, audit.Meta{RequestID: "r", ClientHash: "c"}, tt.p, tt.a, tt.t)
			if apperr.CodeOf(err) != tt.want {
				t.Fatalf("%v (%s), want %q", err, apperr.CodeOf(err), tt.want)
			}
			var after int
			_ = db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'access.denied'").Scan(&after)
			if (after == before+1) != tt.audited || after > before+1 {
				t.Fatalf("%d denied events written, audited=%v", after-before, tt.audited)
			}
		})
	}
	// The denial records who, what, and whose object, never more.
	var actor, role, details string
	if err := db.Pool.QueryRow(ctx, `SELECT actor, role, details::text FROM audit_events WHERE action = 'access.denied' AND object_id = 'p2'`).
		Scan(&actor, &role, &details); err != nil {
		t.Fatal(err)
	}
	if actor != "account:a1" || role != "official" || details != `{"attempted":"petition.handle","object_agency":"UBND-BD","reason":"object of another agency"}` {
		t.Errorf("denied event: %s %s %s", actor, role, details)
	}
	// Audit before act: when the refusal cannot be recorded, the caller gets that error, not a plain refusal.
	db.Superuser(t, "REVOKE INSERT ON audit_events FROM pakn_app")
	if err := g.Authorize(ctx, audit.Meta{}, official, access.PetitionHandle, other); err == nil || apperr.CodeOf(err) == apperr.NotFound {
		t.Fatalf("unrecorded denial answered %v", err)
	}
}

func TestActorAndRoleNames(t *testing.T) {
	for _, tt := range []struct {
		p           access.Principal
		actor, role string
	}{
		{access.Principal{Kind: access.Staff, ID: "u1", Roles: []access.Role{access.Official, access.Reviewer}}, "account:u1", "official+reviewer"},
		{access.Principal{Kind: access.Token, ID: "t1"}, "token:t1", "integration"},
		{access.Principal{Kind: access.Operator, Name: "ops"}, "operator:ops", "operator"},
		{access.Principal{Kind: access.Anonymous}, "anonymous", "anonymous"},
	} {
		if a, r := audit.ActorOf(tt.p), audit.RoleOf(tt.p); a != tt.actor || r != tt.role {
			t.Errorf("%+v: %s %s, want %s %s", tt.p, a, r, tt.actor, tt.role)
		}
	}
}

// Allows answers what a page may offer: allowed, or allowed after a
// step-up; never another agency's object, a role the principal lacks, a
// restricted session or an anonymous caller; and it audits nothing.
func TestAllows(t *testing.T) {
	db := pgtest.New(t)
	now := time.Date(2026, 6, 1, 3, 0, 0, 0, time.UTC)
	g := &guard.Guard{Audit: db.Stores(nil).Audit, Now: func() time.Time { return now }}
	official := access.Principal{Kind: access.Staff, ID: "a1", Name: "official", Agency: "STP-HN", Roles: []access.Role{access.Official}}
	signer := access.Principal{Kind: access.Staff, ID: "a2", Name: "signer", Agency: "STP-HN", Roles: []access.Role{access.Signer}}
	restricted := official
	restricted.Restricted = "mfa_enrolment"
	own := guard.Target{Type: "petition", ID: "p1", Agency: "STP-HN"}
	other := guard.Target{Type: "petition", ID: "p2", Agency: "UBND-BD"}
	for _, tt := range []struct {
		name string
		p    access.Principal
		a    access.Action
		t    guard.Target
		want bool
	}{
		{"own agency's petition", official, access.PetitionHandle, own, true},
		{"another agency's petition", official, access.PetitionHandle, other, false},
		{"a role the principal lacks", official, access.PetitionSign, own, false},
		{"signing, a step-up still to come", signer, access.PetitionSign, own, true},
		{"a restricted session", restricted, access.PetitionHandle, own, false},
		{"anonymous", access.Principal{Kind: access.Anonymous}, access.PetitionHandle, own, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := g.Allows(tt.p, tt.a, tt.t); got != tt.want {
				t.Fatalf("Allows = %v, want %v", got, tt.want)
			}
		})
	}
	var events int
	if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM audit_events").Scan(&events); err != nil || events != 0 {
		t.Fatalf("%d audit events (%v), want none", events, err)
	}
}
