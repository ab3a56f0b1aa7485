package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pakn/internal/audit"
	"pakn/internal/pgtest"
	"pakn/internal/postgres"
)

// holdChain takes the chain's append lock in a transaction of its own and
// returns its release: Record's writer waits behind it, so the events
// recorded meanwhile queue up.
func holdChain(t *testing.T, db *pgtest.DB) (release func()) {
	t.Helper()
	ctx := context.Background()
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", postgres.AuditLockKey); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() { once.Do(func() { _ = tx.Commit(ctx) }) }
	t.Cleanup(release)
	return release
}

// stallWriter holds the chain and records an event "first" with s, whose
// writer then waits for the chain: the events recorded next queue behind
// it. It returns the chain's release and the first Record's result.
func stallWriter(t *testing.T, db *pgtest.DB, s *postgres.AuditStore) (release func(), first <-chan error) {
	t.Helper()
	release = holdChain(t, db)
	done := make(chan error, 1)
	go func() {
		done <- s.Record(context.Background(), &audit.Event{Actor: "citizen", Action: "test.record", ObjectID: "first", Outcome: audit.Success})
	}()
	waitUntil(t, "the writer to wait for the chain", func() bool { return chainWaiters(t, db) == 1 })
	return release, done
}

// waitUntil polls cond every 10 ms for up to 30 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
	}
}

// chainWaiters is how many sessions wait for the chain's advisory lock.
func chainWaiters(t *testing.T, db *pgtest.DB) int {
	t.Helper()
	var n int
	if err := db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM pg_locks
		WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// recorded lists the object ids of the test's events in the chain, in order.
func recorded(t *testing.T, db *pgtest.DB) []string {
	t.Helper()
	rows, err := db.Pool.Query(context.Background(), `SELECT object_id FROM audit_events WHERE action = 'test.record' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// recordAll records events concurrently and returns each one's error.
func recordAll(ctxs []context.Context, s *postgres.AuditStore, events []*audit.Event) []error {
	errs := make([]error, len(events))
	var wg sync.WaitGroup
	for i, e := range events {
		wg.Go(func() { errs[i] = s.Record(ctxs[i], e) })
	}
	wg.Wait()
	return errs
}

// The events recorded while a group is being written are written together,
// in one transaction; each Record returns only once its event is committed,
// and the chain stays whole.
func TestRecordWritesConcurrentEventsInOneTransaction(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	s := &postgres.AuditStore{DB: db.PG}
	release, first := stallWriter(t, db, s)

	const n = 50
	events, ctxs := make([]*audit.Event, n), make([]context.Context, n)
	for i := range events {
		events[i] = &audit.Event{Actor: "citizen", Action: "test.record", ObjectID: fmt.Sprint(i), Outcome: audit.Success}
		ctxs[i] = ctx
	}
	done := make(chan []error, 1)
	go func() { done <- recordAll(ctxs, s, events) }()
	waitUntil(t, "the events to queue", func() bool { return postgres.QueuedRecords(s) == n })
	select {
	case <-first:
		t.Fatal("Record returned before its event could be committed")
	default:
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, err := range <-done {
		if err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	var events2, txs int
	if err := db.Pool.QueryRow(ctx, `SELECT count(*), count(DISTINCT xmin::text) FROM audit_events WHERE action = 'test.record'`).Scan(&events2, &txs); err != nil {
		t.Fatal(err)
	}
	if events2 != n+1 || txs != 2 {
		t.Fatalf("%d events in %d transactions, want %d in 2 (the first alone, then the %d queued behind it together)", events2, txs, n+1, n)
	}
	if v, brk := verifyChain(t, db.PG, nil); brk != nil || v.Count() != n+1 {
		t.Fatalf("chain: %d events, break %v", v.Count(), brk)
	}
}

// A group the database refuses is written again event by event: only the
// event it refuses fails, and the others are in the chain.
func TestRecordWritesAFailedGroupEventByEvent(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	// The database refuses one event (as a constraint would), not the others.
	db.Superuser(t, `CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.object_id = 'poison' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$`,
		`CREATE TRIGGER refuse_poison BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_poison()`)
	s := &postgres.AuditStore{DB: db.PG}
	release, first := stallWriter(t, db, s)
	ids := []string{"a", "poison", "b", "c"}
	events, ctxs := make([]*audit.Event, len(ids)), make([]context.Context, len(ids))
	for i, id := range ids {
		events[i], ctxs[i] = &audit.Event{Actor: "citizen", Action: "test.record", ObjectID: id, Outcome: audit.Success}, ctx
	}
	done := make(chan []error, 1)
	go func() { done <- recordAll(ctxs, s, events) }()
	waitUntil(t, "the events to queue", func() bool { return postgres.QueuedRecords(s) == len(ids) })
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	for i, err := range <-done {
		if (err != nil) != (ids[i] == "poison") {
			t.Fatalf("event %s: %v", ids[i], err)
		}
	}
	got := recorded(t, db)
	slices.Sort(got[1:]) // the three were recorded at once, in any order
	if fmt.Sprint(got) != "[first a b c]" {
		t.Fatalf("written %v, want [first a b c]", got)
	}
	if _, brk := verifyChain(t, db.PG, nil); brk != nil {
		t.Fatalf("chain broke: %v", brk)
	}
}

// An event whose caller has gone before its group is written is not
// written, and its Record says so; an invalid event fails at once, alone.
func TestRecordDropsEventsOfCallersWhoLeft(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	s := &postgres.AuditStore{DB: db.PG}
	if err := s.Record(ctx, &audit.Event{Action: "test.record", Outcome: audit.Success}); err == nil {
		t.Fatal("an event without an actor was recorded")
	}
	release, first := stallWriter(t, db, s)
	gone, cancel := context.WithCancel(ctx)
	left := make(chan error, 1)
	go func() {
		left <- s.Record(gone, &audit.Event{Actor: "citizen", Action: "test.record", ObjectID: "left", Outcome: audit.Success})
	}()
	waitUntil(t, "the event to queue", func() bool { return postgres.QueuedRecords(s) == 1 })
	cancel()
	if err := <-left; !errors.Is(err, context.Canceled) {
		t.Fatalf("Record of a caller who left: %v, want context.Canceled", err)
	}
	release()
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, &audit.Event{Actor: "citizen", Action: "test.record", ObjectID: "after", Outcome: audit.Success}); err != nil {
		t.Fatal(err)
	}
	got := recorded(t, db)
	if fmt.Sprint(got) != "[first after]" {
		t.Fatalf("written %v, want [first after]", got)
	}
}
