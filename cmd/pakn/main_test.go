package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"pakn/internal/auditlog"
	"pakn/internal/pgtest"
	"pakn/internal/vaulttest"

	"github.com/jackc/pgx/v5"
)

// cli runs the pakn command in-process with the given environment.
func cli(t *testing.T, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	e := env{stdout: &out, stderr: &errb, getenv: func(k string) string { return vars[k] }, progressEvery: time.Hour}
	if vars["TEST_PROGRESS"] != "" {
		e.progressEvery = time.Nanosecond
	}
	code = run(context.Background(), args, e)
	return code, out.String(), errb.String()
}

func TestAuditVerifyCommand(t *testing.T) {
	tests := []struct {
		name       string
		tamper     string
		wantCode   int
		wantOutput string
	}{
		{"intact", "", 0, "OK: 16 events verified"}, // 7 agencies, the routing, 5 accounts, 3 alerts (signer, auditor, admin)
		{"edited row", "UPDATE audit_events SET object_id = 'X' WHERE seq = 3", 1, "BROKEN at seq 3 (edited)"},
		{"deleted row", "DELETE FROM audit_events WHERE seq = 5", 1, "BROKEN at seq 5 (deleted)"},
		{"edited details", `UPDATE audit_events SET details = '{"kind":"department","parent":"VPCP"}' WHERE seq = 4`, 1, "BROKEN at seq 4 (edited)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := pgtest.New(t)
			vars := map[string]string{"PAKN_DATABASE_URL": db.AppURL}
			if code, out, errs := cli(t, vars, "seed", "-demo"); code != 0 || !strings.Contains(out, "7 demo agencies added") || !strings.Contains(out, "demo-signer") {
				t.Fatalf("seed: %d %s %s", code, out, errs)
			}
			if tt.tamper != "" {
				db.Superuser(t, "ALTER TABLE audit_events DISABLE TRIGGER USER", tt.tamper, "ALTER TABLE audit_events ENABLE TRIGGER USER")
			}
			code, out, errs := cli(t, vars, "audit", "verify")
			if code != tt.wantCode || !strings.Contains(out, tt.wantOutput) {
				t.Fatalf("audit verify: exit %d, output %q %q; want exit %d and %q", code, out, errs, tt.wantCode, tt.wantOutput)
			}
		})
	}
}

func TestAuditVerifyAnchorCatchesTruncation(t *testing.T) {
	db := pgtest.New(t)
	vars := map[string]string{"PAKN_DATABASE_URL": db.AppURL, "TEST_PROGRESS": "1"}
	cli(t, vars, "seed", "-demo")
	code, out, errs := cli(t, vars, "audit", "verify")
	if code != 0 {
		t.Fatalf("verify: %d %s", code, out)
	}
	if !strings.Contains(errs, "verified 1 of 16 events") {
		t.Errorf("no progress shown: %q", errs)
	}
	var anchor string
	for _, l := range strings.Split(out, "\n") {
		if a, ok := strings.CutPrefix(l, "head: "); ok {
			anchor = a
		}
	}
	if !strings.HasPrefix(anchor, "16:") {
		t.Fatalf("no head printed: %q", out)
	}
	db.Superuser(t, "ALTER TABLE audit_events DISABLE TRIGGER USER", "DELETE FROM audit_events WHERE seq >= 15", "ALTER TABLE audit_events ENABLE TRIGGER USER")
	if code, out, _ := cli(t, vars, "audit", "verify"); code != 0 {
		t.Fatalf("without an anchor a clean tail cut is invisible to the chain alone, got %d %s", code, out)
	}
	code, out, _ = cli(t, vars, "audit", "verify", "-anchor", anchor)
	if code != 1 || !strings.Contains(out, "BROKEN at seq 15 (truncated)") {
		t.Fatalf("verify with anchor: %d %q", code, out)
	}
	if code, _, errs := cli(t, vars, "audit", "verify", "-anchor", "7:zz"); code != 2 || !strings.Contains(errs, "anchor") {
		t.Fatalf("bad anchor: %d %q", code, errs)
	}
}

func TestAuditExportCommand(t *testing.T) {
	db := pgtest.New(t)
	vars := map[string]string{"PAKN_DATABASE_URL": db.AppURL}
	cli(t, vars, "seed", "-demo")
	code, out, errs := cli(t, vars, "audit", "export", "-after", "2")
	if code != 0 {
		t.Fatalf("export: %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 15 { // 14 events after seq 2, and the export's own event
		t.Fatalf("%d lines, want 15", len(lines))
	}
	var last auditlog.Event
	if err := json.Unmarshal([]byte(lines[14]), &last); err != nil || last.Action != "audit.export" || !strings.HasPrefix(last.Actor, "operator:") {
		t.Fatalf("the export did not audit itself first: %s", lines[14])
	}
	var ev auditlog.Event
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Seq != 3 || ev.Action != "agency.create" || ev.ObjectType != "agency" || len(ev.Hash) != 64 || len(ev.PrevHash) != 64 {
		t.Fatalf("first exported event %+v", ev)
	}
}

func TestMigrateAndUsageErrors(t *testing.T) {
	db := pgtest.New(t)
	code, out, errs := cli(t, map[string]string{"PAKN_DATABASE_OWNER_URL": db.OwnerURL}, "migrate")
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{nil, "usage"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"audit"}, "verify or export"},
		{[]string{"audit", "erase"}, "unknown audit subcommand"},
		{[]string{"migrate"}, "PAKN_DATABASE_OWNER_URL is not set"},
		{[]string{"seed", "-demo"}, "PAKN_DATABASE_URL is not set"},
		{[]string{"audit", "verify"}, "PAKN_DATABASE_URL is not set"},
		{[]string{"bootstrap"}, "-creds-dir is required"},
		{[]string{"bootstrap", "-creds-dir", "x"}, "VAULT_ADDR is not set"},
	} {
		code, _, errs := cli(t, map[string]string{}, tt.args...)
		if code != 2 || !strings.Contains(errs, tt.want) {
			t.Errorf("pakn %v: exit %d, stderr %q; want 2 and %q", tt.args, code, errs, tt.want)
		}
	}
}

func TestBootstrapCommand(t *testing.T) {
	v := vaulttest.Start(t)
	dir := t.TempDir()
	vars := map[string]string{"VAULT_ADDR": v.Addr, "VAULT_TOKEN": v.RootToken}
	args := []string{"bootstrap", "-certs-dir", filepath.Join(dir, "certs"), "-creds-dir", filepath.Join(dir, "creds")}
	// Vault without an audit device: bootstrap does not finish.
	if code, _, errs := cli(t, vars, args...); code != 2 || !strings.Contains(errs, "no audit device") {
		t.Fatalf("bootstrap without an audit device: %d %s", code, errs)
	}
	args = append(args, "-vault-audit-log", filepath.Join(dir, "vault-audit.log"))
	code, out, errs := cli(t, vars, args...)
	if code != 0 || !strings.Contains(out, "generated the root CA") || !strings.Contains(out, "audit device") {
		t.Fatalf("bootstrap: %d %s %s", code, out, errs)
	}
	if strings.Contains(out+errs, v.RootToken) {
		t.Fatal("bootstrap printed the token")
	}
	code, out, _ = cli(t, vars, args...)
	if code != 0 || !strings.Contains(out, "nothing changed") {
		t.Fatalf("second bootstrap: %d %s", code, out)
	}
	vars["VAULT_TOKEN"] = "not-a-token"
	if code, _, errs := cli(t, vars, args...); code != 2 || !strings.Contains(errs, "403") {
		t.Fatalf("bootstrap with a bad token: %d %s", code, errs)
	}
}

func TestUserCommands(t *testing.T) {
	db := pgtest.New(t)
	vars := map[string]string{"PAKN_DATABASE_URL": db.AppURL, "USER": "ops-tester"}
	code, out, errs := cli(t, vars, "seed", "-demo")
	if code != 0 {
		t.Fatalf("seed: %s", errs)
	}
	// Without -demo, agencies only: no account anyone could sign in with.
	bare := pgtest.New(t)
	if code, out, _ := cli(t, map[string]string{"PAKN_DATABASE_URL": bare.AppURL, "USER": "ops-tester"}, "seed"); code != 0 ||
		strings.Contains(out, "demo-admin") || !strings.Contains(out, "demo agencies added") {
		t.Fatalf("seed without -demo: %d %s", code, out)
	}
	for _, r := range []string{"demo-official", "demo-reviewer", "demo-signer", "demo-auditor", "demo-admin"} {
		if !strings.Contains(out, r) {
			t.Errorf("seed output lacks %s:\n%s", r, out)
		}
	}
	if code, out, _ := cli(t, vars, "seed", "-demo"); code != 0 || !strings.Contains(out, "demo accounts already present") {
		t.Fatalf("second seed: %d %s", code, out)
	}
	steps := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"user", "create", "-username", "nhung.nth", "-name", "Nguyễn Thị Hồng Nhung", "-agency", "UBND-BD", "-roles", "official,signer"}, 0, "one-time password: "},
		{[]string{"user", "create", "-username", "nhung.nth", "-name", "X", "-agency", "UBND-BD", "-roles", "official"}, 2, "taken"},
		{[]string{"user", "create", "-username", "xyz1", "-name", "X", "-agency", "NOPE", "-roles", "official"}, 2, "No agency"},
		{[]string{"user", "create", "-username", "xyz2", "-name", "X", "-agency", "UBND-BD", "-roles", "king"}, 2, "Unknown role"},
		{[]string{"user", "add-role", "-username", "nhung.nth", "-role", "reviewer"}, 0, "done"},
		{[]string{"user", "remove-role", "-username", "nhung.nth", "-role", "signer"}, 0, "done"},
		{[]string{"user", "reset-password", "-username", "nhung.nth"}, 0, "one-time password for nhung.nth"},
		{[]string{"user", "reset-mfa", "-username", "nhung.nth"}, 0, "done"},
		{[]string{"user", "disable", "-username", "nhung.nth"}, 0, "done"},
		{[]string{"user", "disable", "-username", "nobody"}, 2, `No account "nobody"`},
		{[]string{"user", "frobnicate", "-username", "nhung.nth"}, 2, "unknown user subcommand"},
		{[]string{"user"}, 2, "usage"},
	}
	for _, st := range steps {
		code, out, errs := cli(t, vars, st.args...)
		if code != st.code || !strings.Contains(out+errs, st.want) {
			t.Fatalf("pakn %v: exit %d, %q %q; want %d and %q", st.args, code, out, errs, st.code, st.want)
		}
	}
	// (Granting the signer's role is also an alert.role_grant, checked in internal/identity.)
	rows, err := db.Pool.Query(context.Background(), "SELECT action || ':' || actor FROM audit_events WHERE object_type = 'account' AND action NOT LIKE 'alert.%' ORDER BY seq")
	if err != nil {
		t.Fatal(err)
	}
	actions, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(actions[len(actions)-6:], " ")
	want := "account.create:operator:ops-tester account.role_add:operator:ops-tester account.role_remove:operator:ops-tester " +
		"account.password_reset:operator:ops-tester account.mfa_reset:operator:ops-tester account.disable:operator:ops-tester"
	if got != want {
		t.Fatalf("audit trail\n got %s\nwant %s", got, want)
	}
}

// pakn agency import: the example directory (the demo city) and its
// routing; a second run changes nothing; a file with mistakes says each
// one and writes nothing.
func TestAgencyImportCommand(t *testing.T) {
	db := pgtest.New(t)
	vars := map[string]string{"PAKN_DATABASE_URL": db.AppURL, "USER": "ops-tester"}
	example := filepath.Join("..", "..", "docs", "agencies.example.json")
	code, out, errs := cli(t, vars, "agency", "import", example)
	if code != 0 || !strings.Contains(out, "7 agencies added, 0 renamed, 0 unchanged; routing replaced") {
		t.Fatalf("import: %d %s %s", code, out, errs)
	}
	if code, out, _ = cli(t, vars, "agency", "import", example); code != 0 || !strings.Contains(out, "0 agencies added, 0 renamed, 7 unchanged; routing unchanged") {
		t.Fatalf("second import: %d %s", code, out)
	}
	r, err := db.Stores(nil).Agencies.Routing(context.Background())
	if err != nil || r["*"] != "UBND-HN" || r["regulation"] != "STP-HN" {
		t.Fatalf("routing %v (%v)", r, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"agencies": [
		{"code": "UBND-TH", "parent": "UBND-XX", "kind": "district_committee", "name_vi": "Ủy ban nhân dân quận Tây Hồ", "name_en": "Tay Ho"},
		{"code": "stp", "parent": "UBND-HN", "kind": "department", "name_vi": "x", "name_en": "x"}],
		"routing": {"default": "UBND-TH", "by_category": {"complaint": "STP-HN", "proposal": "NOWHERE"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errs = cli(t, vars, "agency", "import", bad)
	for _, want := range []string{"UBND-TH: its parent UBND-XX", `agency code "stp"`, `"complaint" is not a petition category`, `agency "NOWHERE"`} {
		if code != 2 || !strings.Contains(errs, want) {
			t.Errorf("a file with mistakes: %d, %q lacks %q", code, errs, want)
		}
	}
	var n int
	if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM agencies").Scan(&n); err != nil || n != 7 {
		t.Fatalf("%d agencies after a refused import (%v)", n, err)
	}
}
