package auditlog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"pakn/internal/access"
	"pakn/internal/agency"
	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/auditlog"
	"pakn/internal/guard"
	"pakn/internal/pgtest"
)

func TestAuditorReadsVerifiesAndExports(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	st := db.Stores(nil)
	ags := st.Agencies
	// Seven events: the demo agencies, without routing.
	if _, _, _, err := ags.Import(ctx, &agency.Directory{Agencies: agency.DemoDirectory()}, audit.Event{Actor: "test", Role: "seed"}); err != nil {
		t.Fatal(err)
	}
	svc := &auditlog.Service{Audit: st.Audit, Guard: &guard.Guard{Audit: st.Audit, Now: time.Now}}
	m := audit.Meta{RequestID: "req"}
	auditor := access.Principal{Kind: access.Staff, ID: "00000000-0000-4000-8000-000000000001", Agency: "STP-HN",
		Roles: []access.Role{access.Auditor}, SteppedUp: time.Now()}

	page, err := svc.Events(ctx, m, auditor, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 3 || page[0].Seq != 3 || page[2].Seq != 5 || len(page[0].Hash) != 64 || page[0].Action != "agency.create" {
		t.Fatalf("page %+v", page)
	}
	for _, bad := range [][2]int{{-1, 10}, {0, 0}, {0, auditlog.MaxPage + 1}} {
		_, err := svc.Events(ctx, m, auditor, int64(bad[0]), bad[1])
		if apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("Events(after %d, limit %d) = %v, want invalid", bad[0], bad[1], err)
		}
	}

	// The reading is itself in the log (seq 8), before the chain is checked.
	v, err := svc.Verify(ctx, m, auditor, "")
	if err != nil || !v.OK || v.Count != 8 || !strings.HasPrefix(v.Head, "8:") {
		t.Fatalf("verify: %+v %v", v, err)
	}
	head := v.Head
	db.Superuser(t, "ALTER TABLE audit_events DISABLE TRIGGER USER",
		"UPDATE audit_events SET actor = 'mallory' WHERE seq = 4", "ALTER TABLE audit_events ENABLE TRIGGER USER")
	v, err = svc.Verify(ctx, m, auditor, head)
	if err != nil || v.OK || v.BrokenAt != 4 || v.Kind != string(audit.Edited) {
		t.Fatalf("verify after tampering: %+v %v", v, err)
	}
	if _, err := svc.Verify(ctx, m, auditor, "not-an-anchor"); apperr.CodeOf(err) != apperr.Invalid {
		t.Fatalf("bad anchor: %v", err)
	}

	var out bytes.Buffer
	if err := svc.Export(ctx, m, auditor, 5, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var last auditlog.Event
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	// Events 6 and 7; the page read (8) and the two chain checks (9, 10),
	// each audited; then the export's own event, written before the first line.
	if len(lines) != 6 || last.Action != "audit.export" || last.Actor != "account:"+auditor.ID || last.RequestID != "req" {
		t.Fatalf("export of %d lines ending %+v", len(lines), last)
	}
	for i, want := range []string{"audit.read", "audit.verify", "audit.verify"} {
		var e auditlog.Event
		if err := json.Unmarshal([]byte(lines[2+i]), &e); err != nil || e.Action != want || e.Actor != "account:"+auditor.ID {
			t.Fatalf("line %d: %+v %v, want %s by the auditor", 2+i, e, err, want)
		}
	}
}

// Reading the log's events takes an auditor's session: a token verifies
// the chain but reads no event, an export needs a fresh step-up, and
// anyone else is refused and audited.
func TestAuditLogRefusals(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	st := db.Stores(nil)
	svc := &auditlog.Service{Audit: st.Audit, Guard: &guard.Guard{Audit: st.Audit, Now: time.Now}}
	m := audit.Meta{RequestID: "req"}
	token := access.Principal{Kind: access.Token, ID: "t1", Agency: "STP-HN", Scopes: []access.Action{access.AuditRead}}
	if _, err := svc.Events(ctx, m, token, 0, 10); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a token read the log's events: %v", err)
	}
	if _, err := svc.Verify(ctx, m, token, ""); err != nil {
		t.Fatalf("a token's chain check: %v", err)
	}
	stale := access.Principal{Kind: access.Staff, ID: "00000000-0000-4000-8000-000000000001", Agency: "STP-HN",
		Roles: []access.Role{access.Auditor}, SteppedUp: time.Now().Add(-time.Hour)}
	var out bytes.Buffer
	if err := svc.Export(ctx, m, stale, 0, &out); apperr.CodeOf(err) != apperr.StepUpRequired {
		t.Fatalf("export without step-up: %v", err)
	}
	admin := access.Principal{Kind: access.Staff, ID: "00000000-0000-4000-8000-000000000002", Agency: "STP-HN", Roles: []access.Role{access.Admin}}
	if _, err := svc.Events(ctx, m, admin, 0, 10); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("an admin read the log: %v", err)
	}
	var denied int
	_ = db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'access.denied' AND actor = $1", "account:"+admin.ID).Scan(&denied)
	if denied != 1 {
		t.Fatalf("%d denied events for the admin, want 1", denied)
	}
}
