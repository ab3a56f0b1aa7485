package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/pgtest"
	"pakn/internal/postgres"
)

// An import is idempotent and audited, change by change: agencies added,
// renamed, the routing replaced; an agency is never moved, and a refused
// import writes nothing.
func TestAgencyImportIsIdempotentAndAudited(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	s := db.Stores(nil).Agencies
	actor := audit.Event{Actor: "operator:ops", Role: "operator"}
	demo := &agency.Directory{Agencies: agency.DemoDirectory(), Routing: agency.DemoRouting()}
	for round := 0; round < 2; round++ {
		created, renamed, rerouted, err := s.Import(ctx, demo, actor)
		if err != nil || created != len(demo.Agencies)*(1-round) || renamed != 0 || rerouted != (round == 0) {
			t.Fatalf("round %d: %d created, %d renamed, rerouted %v (%v)", round, created, renamed, rerouted, err)
		}
	}
	got, err := s.List(ctx)
	if err != nil || len(got) != len(agency.DemoDirectory()) {
		t.Fatalf("%d agencies (%v), want %d", len(got), err, len(agency.DemoDirectory()))
	}
	byCode := map[string]agency.Agency{}
	for _, a := range got {
		byCode[a.Code] = a
	}
	if a := byCode["STP-HN"]; a.NameVI != "Sở Tư pháp thành phố Hà Nội" || a.ParentCode != "UBND-HN" {
		t.Fatalf("Department of Justice stored as %+v", a)
	}
	if r, err := s.Routing(ctx); err != nil || r["*"] != "UBND-HN" || r["regulation"] != "STP-HN" || len(r) != 2 {
		t.Fatalf("routing %v (%v)", r, err)
	}
	// A rename, a new district and another routing, in one import.
	next := &agency.Directory{Agencies: append(agency.DemoDirectory(),
		agency.Agency{Code: "UBND-TH", ParentCode: "UBND-HN", Kind: agency.DistrictCommittee, NameVI: "Ủy ban nhân dân quận Tây Hồ", NameEN: "Tay Ho"}),
		Routing: map[string]string{"*": "UBND-HN", "regulation": "STP-HN", "proposal": "UBND-TH"}}
	next.Agencies[2].NameEN = "Hanoi Department of Justice"
	if c, r, rr, err := s.Import(ctx, next, actor); err != nil || c != 1 || r != 1 || !rr {
		t.Fatalf("second import: %d created, %d renamed, rerouted %v (%v)", c, r, rr, err)
	}
	// Moving an agency is refused, and nothing of that import is written.
	moved := &agency.Directory{Agencies: []agency.Agency{
		{Code: "UBND-LB", ParentCode: "UBND-HN", Kind: agency.DistrictCommittee, NameVI: "Ủy ban nhân dân quận Long Biên", NameEN: "Long Bien"},
		{Code: "UBND-BD", ParentCode: "STP-HN", Kind: agency.DistrictCommittee, NameVI: "Ủy ban nhân dân quận Ba Đình", NameEN: "Ba Dinh"}},
		Routing: map[string]string{"*": "UBND-LB"}}
	if _, _, _, err := s.Import(ctx, moved, actor); err == nil || !strings.Contains(err.Error(), "does not move") {
		t.Fatalf("moving an agency: %v", err)
	}
	if ok, _ := s.Exists(ctx, "UBND-LB"); ok {
		t.Fatal("a refused import still added an agency")
	}
	for action, want := range map[string]int{"agency.create": len(agency.DemoDirectory()) + 1, "agency.update": 1, "agency.routing": 2} {
		var n int
		if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = $1 AND actor = 'operator:ops'", action).Scan(&n); err != nil || n != want {
			t.Fatalf("%d %s events (%v), want %d", n, action, err, want)
		}
	}
}

// TestActionFailsWhenAuditCannotBeWritten: audit before act. When the event
// cannot be written, the action it records must not happen either.
func TestActionFailsWhenAuditCannotBeWritten(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	owner, err := pgx.Connect(ctx, db.OwnerURL)
	if err != nil {
		t.Fatal(err)
	}
	defer owner.Close(ctx)
	if _, err := owner.Exec(ctx, "REVOKE INSERT ON audit_events FROM pakn_app"); err != nil {
		t.Fatal(err)
	}
	s := db.Stores(nil).Agencies
	d := &agency.Directory{Agencies: agency.DemoDirectory()[:1], Routing: map[string]string{"*": "VPCP"}}
	if _, _, _, err := s.Import(ctx, d, audit.Event{Actor: "system", Role: "seed"}); err == nil {
		t.Fatal("agency created although its audit event could not be written")
	}
	var n int
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM agencies").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d agencies exist after a failed audit append; the action must roll back", n)
	}
}

func TestMigrateIsIdempotentAndCurrent(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	from, to, err := postgres.Migrate(ctx, db.OwnerURL, "pakn_app")
	if err != nil {
		t.Fatal(err)
	}
	latest, err := postgres.LatestVersion()
	if err != nil {
		t.Fatal(err)
	}
	if from != latest || to != latest {
		t.Fatalf("re-migrate went %d -> %d, want both %d", from, to, latest)
	}
	v, err := postgres.SchemaVersion(ctx, db.Pool)
	if err != nil || v != latest {
		t.Fatalf("app role sees schema version %d (%v), want %d", v, err, latest)
	}
	if _, _, err := postgres.Migrate(ctx, db.OwnerURL, "pakn_app; DROP TABLE x"); err == nil {
		t.Fatal("an application role that is not a plain identifier must be refused")
	}
}

func TestAppRoleHasOnlyItsGrants(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	for _, stmt := range []string{
		"CREATE TABLE intruder (x int)",
		"DROP TABLE agencies",
		"ALTER TABLE audit_events DISABLE TRIGGER USER",
		"DELETE FROM agencies",
		"UPDATE schema_version SET version = 0",
		"UPDATE signed_receipts SET size = 0",
		"DELETE FROM signed_receipts",
		"DELETE FROM agency_keys",
		"UPDATE public_replies SET size = 0",
	} {
		if _, err := db.Pool.Exec(ctx, stmt); err == nil {
			t.Errorf("application role may run %q", stmt)
		} else if got := sqlState(err); got != "42501" && got != "42P01" {
			t.Errorf("%q: %v, want a privilege error", stmt, err)
		}
	}
}

// A revoked signer stays revoked, even for the application's role (the
// trigger holds for every role): its key version never signs again.
func TestRevokedSignerStaysRevoked(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	st := db.Stores(nil)
	if _, _, _, err := st.Agencies.Import(ctx, &agency.Directory{Agencies: agency.DemoDirectory()[:1]}, audit.Event{Actor: "test", Role: "seed"}); err != nil {
		t.Fatal(err)
	}
	var account, signer string
	if err := db.Pool.QueryRow(ctx, `INSERT INTO accounts (username, display_name, agency_code, password_hash, must_change_password)
		VALUES ('signer-x', 'Lê Hoàng Cường', $1, 'x', false) RETURNING id`, agency.DemoDirectory()[0].Code).Scan(&account); err != nil {
		t.Fatal(err)
	}
	if err := db.Pool.QueryRow(ctx, `INSERT INTO signers (account_id, full_name, title, key_name, key_version, key_type, certificate,
		chain_pem, serial, not_after, status, created_at) VALUES ($1, 'Lê Hoàng Cường', 'Phó Giám đốc', 'pakn-signer-signer-x', 1, 'ecdsa-p256',
		'\x00', 'x', '01', now() + interval '1 year', 'revoked', now()) RETURNING id`, account).Scan(&signer); err != nil {
		t.Fatal(err)
	}
	for _, change := range []string{"status = 'active'", "status = 'retired'", "key_version = 2", "revoked_at = now()"} {
		_, err := db.Pool.Exec(ctx, `UPDATE signers SET `+change+` WHERE id = $1`, signer)
		if got := sqlState(err); got != "23000" {
			t.Errorf("a revoked signer's %s: %v (%s), want refused", change, err, got)
		}
	}
}
