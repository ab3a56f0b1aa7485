package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"pakn/internal/audit"
	"pakn/internal/pgtest"
	"pakn/internal/postgres"
)

func appendN(t testing.TB, db *postgres.DB, n int) {
	t.Helper()
	ctx := context.Background()
	s := &postgres.AuditStore{DB: db}
	for i := 0; i < n; i++ {
		err := db.InTx(ctx, func(ctx context.Context) error {
			return s.Append(ctx, &audit.Event{Actor: "tester", Role: "test", Action: "test.append",
				ObjectType: "n", ObjectID: fmt.Sprint(i), Outcome: audit.Success,
				Details: []byte(fmt.Sprintf(`{"i": %d, "text": "Ủy ban nhân dân"}`, i))})
		})
		if err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

// verifyChain walks the chain of db and returns the verifier and first break.
func verifyChain(t testing.TB, db *postgres.DB, anchor *audit.Anchor) (*audit.Verifier, *audit.Break) {
	t.Helper()
	v, brk, err := (&postgres.AuditStore{DB: db}).Verify(context.Background(), anchor, nil)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return v, brk
}

func TestAuditAppendAndVerify(t *testing.T) {
	db := pgtest.New(t)
	appendN(t, db.PG, 25)
	v, brk := verifyChain(t, db.PG, nil)
	if brk != nil {
		t.Fatalf("intact chain reported broken: %v", brk)
	}
	if v.Count() != 25 {
		t.Fatalf("verified %d events, want 25", v.Count())
	}
	// Every field survives the round trip exactly (the hash proves it).
	var details string
	if err := db.Pool.QueryRow(context.Background(), "SELECT details::text FROM audit_events WHERE seq = 1").Scan(&details); err != nil {
		t.Fatal(err)
	}
	if details != `{"i":0,"text":"Ủy ban nhân dân"}` {
		t.Fatalf("details stored as %q", details)
	}
}

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func TestAuditEventsAreAppendOnly(t *testing.T) {
	db := pgtest.New(t)
	appendN(t, db.PG, 3)
	ctx := context.Background()
	conns := map[string]string{"app": db.AppURL, "owner": db.OwnerURL, "superuser": db.SuperURL}
	for _, who := range []string{"app", "owner", "superuser"} {
		for _, stmt := range []string{
			"UPDATE audit_events SET actor = 'mallory' WHERE seq = 2",
			"DELETE FROM audit_events WHERE seq = 2",
			"TRUNCATE audit_events",
		} {
			t.Run(who+"/"+strings.Fields(stmt)[0], func(t *testing.T) {
				c, err := pgx.Connect(ctx, conns[who])
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close(ctx)
				_, err = c.Exec(ctx, stmt)
				if err == nil {
					t.Fatalf("%s as %s succeeded", stmt, who)
				}
				if got := sqlState(err); got != "42501" {
					t.Fatalf("%s as %s: %v (SQLSTATE %s), want insufficient_privilege 42501", stmt, who, err, got)
				}
				if who != "app" && !strings.Contains(err.Error(), "append-only") {
					t.Fatalf("%s as %s refused by %v, want the append-only trigger", stmt, who, err)
				}
			})
		}
	}
	if v, brk := verifyChain(t, db.PG, nil); brk != nil || v.Count() != 3 {
		t.Fatalf("chain changed: count %d, break %v", v.Count(), brk)
	}
}

// tamper runs statements as the superuser with the triggers disabled.
func tamper(t *testing.T, db *pgtest.DB, stmts ...string) {
	t.Helper()
	all := append([]string{"ALTER TABLE audit_events DISABLE TRIGGER USER"}, stmts...)
	db.Superuser(t, append(all, "ALTER TABLE audit_events ENABLE TRIGGER USER")...)
}

func TestAuditTamperingIsDetected(t *testing.T) {
	tests := []struct {
		name     string
		stmts    []string
		anchorAt int64 // record the head at this seq before tampering
		wantSeq  int64
		wantKind audit.BreakKind
	}{
		{"update a field", []string{"UPDATE audit_events SET actor = 'mallory' WHERE seq = 4"}, 0, 4, audit.Edited},
		{"update details", []string{`UPDATE audit_events SET details = '{"i":99}' WHERE seq = 7`}, 0, 7, audit.Edited},
		{"update time", []string{"UPDATE audit_events SET occurred_at = occurred_at - interval '1 day' WHERE seq = 2"}, 0, 2, audit.Edited},
		{"delete a row", []string{"DELETE FROM audit_events WHERE seq = 5"}, 0, 5, audit.Deleted},
		{"delete the first row", []string{"DELETE FROM audit_events WHERE seq = 1"}, 0, 1, audit.Deleted},
		{"delete several rows", []string{"DELETE FROM audit_events WHERE seq BETWEEN 3 AND 6"}, 0, 3, audit.Deleted},
		{"swap two rows", []string{
			"UPDATE audit_events SET seq = seq + 1000 WHERE seq IN (3, 4)",
			"UPDATE audit_events SET seq = 4 WHERE seq = 1003",
			"UPDATE audit_events SET seq = 3 WHERE seq = 1004",
		}, 0, 3, audit.Edited},
		{"insert a row copied from another", []string{
			"UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 5",
			"UPDATE audit_events SET seq = seq - 999 WHERE seq > 1000",
			`INSERT INTO audit_events SELECT 5, occurred_at, actor, role, action, object_type, object_id, outcome,
			  request_id, client_hash, details, prev_hash, sha256(hash) FROM audit_events WHERE seq = 4`,
		}, 0, 5, audit.Edited},
		{"delete the tail (caught by the anchor)", []string{"DELETE FROM audit_events WHERE seq > 8"}, 10, 9, audit.Truncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := pgtest.New(t)
			appendN(t, db.PG, 10)
			var anchor *audit.Anchor
			if tt.anchorAt > 0 {
				v, brk := verifyChain(t, db.PG, nil)
				if brk != nil {
					t.Fatal(brk)
				}
				h := v.Head()
				anchor = &h
			}
			tamper(t, db, tt.stmts...)
			_, brk := verifyChain(t, db.PG, anchor)
			if brk == nil {
				t.Fatal("tampering not detected")
			}
			if brk.Seq != tt.wantSeq || brk.Kind != tt.wantKind {
				t.Fatalf("break at %d (%s), want %d (%s): %s", brk.Seq, brk.Kind, tt.wantSeq, tt.wantKind, brk.Reason)
			}
		})
	}
}

// TestAuditConcurrentAppendsNeverFork appends from two independent pools
// (as two paknd processes would) at once; the chain must stay one line.
func TestAuditConcurrentAppendsNeverFork(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	second, err := postgres.Open(ctx, db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for _, pool := range []*postgres.DB{db.PG, {Pool: second}} {
		for w := 0; w < workers; w++ {
			wg.Go(func() {
				s := &postgres.AuditStore{DB: pool}
				for i := 0; i < each; i++ {
					err := pool.InTx(ctx, func(ctx context.Context) error {
						return s.Append(ctx, &audit.Event{Actor: "w", Action: "concurrent", Outcome: audit.Success})
					})
					if err != nil {
						errs <- err
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent append: %v", err)
	}
	v, brk := verifyChain(t, db.PG, nil)
	if brk != nil {
		t.Fatalf("chain forked or broke: %v", brk)
	}
	if want := int64(2 * workers * each); v.Count() != want {
		t.Fatalf("verified %d events, want %d", v.Count(), want)
	}
}

func TestAuditAppendRefusesInvalidEvent(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	err := db.PG.InTx(ctx, func(ctx context.Context) error {
		return (&postgres.AuditStore{DB: db.PG}).Append(ctx, &audit.Event{Actor: strings.Repeat("x", 300), Action: "a", Outcome: audit.Success})
	})
	if err == nil {
		t.Fatal("an oversized event was appended")
	}
}

func TestAuditAppendUsesInjectedClock(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	at := time.Date(2026, 1, 2, 3, 4, 5, 678912345, time.UTC)
	s := &postgres.AuditStore{DB: db.PG, Now: func() time.Time { return at }}
	if err := db.PG.InTx(ctx, func(ctx context.Context) error {
		return s.Append(ctx, &audit.Event{Actor: "a", Action: "b", Outcome: audit.Success})
	}); err != nil {
		t.Fatal(err)
	}
	var got time.Time
	if err := db.Pool.QueryRow(ctx, "SELECT occurred_at FROM audit_events WHERE seq = 1").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(at.Truncate(time.Microsecond)) {
		t.Fatalf("stored time %v, want %v", got, at.Truncate(time.Microsecond))
	}
}
