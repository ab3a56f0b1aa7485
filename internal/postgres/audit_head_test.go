package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"pakn/internal/audit"
	"pakn/internal/pgtest"
	"pakn/internal/postgres"
)

// lastEvent is the chain's head as the database has it.
func lastEvent(t *testing.T, db *pgtest.DB) (int64, []byte) {
	t.Helper()
	var seq int64
	var hash []byte
	if err := db.Pool.QueryRow(context.Background(), "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").Scan(&seq, &hash); err != nil {
		t.Fatal(err)
	}
	return seq, hash
}

// audit_head_is passes only for the chain's actual head (0 and NULL for an
// empty log), else aborts with pakn's own SQLSTATE.
func TestAuditHeadIsChecksTheHead(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	check := func(seq int64, hash []byte) string {
		_, err := db.Pool.Exec(ctx, "SELECT audit_head_is($1, $2)", seq, hash)
		return sqlState(err)
	}
	if got := check(0, nil); got != "" {
		t.Errorf("empty log, expected empty: %q, want it to pass", got)
	}
	if got := check(1, bytes.Repeat([]byte{1}, 32)); got != "PKN01" {
		t.Errorf("empty log, expected an event: %q, want PKN01", got)
	}
	appendN(t, db.PG, 3)
	seq, hash := lastEvent(t, db)
	var prev []byte
	if err := db.Pool.QueryRow(ctx, "SELECT hash FROM audit_events WHERE seq = 2").Scan(&prev); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		seq  int64
		hash []byte
		want string
	}{
		{"the head", seq, hash, ""},
		{"an older event", 2, prev, "PKN01"},
		{"the head's seq with another hash", seq, prev, "PKN01"},
		{"beyond the head", seq + 1, hash, "PKN01"},
		{"nothing", 0, nil, "PKN01"},
	} {
		if got := check(tt.seq, tt.hash); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// Record seals its events to the head its store committed last; when
// another writer has appended since (another store, another process), or
// the head it believes in is not the log's at all, the check under the
// lock fails, the transaction is rolled back and the events are written
// after the actual head: the chain stays whole, nothing is lost or
// written twice.
func TestRecordAfterTheHeadMovedElsewhere(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	s := &postgres.AuditStore{DB: db.PG}
	record := func(id string) {
		t.Helper()
		if err := s.Record(ctx, &audit.Event{Actor: "citizen", Action: "test.record", ObjectID: id, Outcome: audit.Success}); err != nil {
			t.Fatalf("record %s: %v", id, err)
		}
	}
	knows := func(when string) {
		t.Helper()
		seq, hash := lastEvent(t, db)
		if s, h, ok := postgres.ChainHead(s); !ok || s != seq || !bytes.Equal(h, hash) {
			t.Errorf("%s: the store knows the head as %d (known %v), the log's is %d", when, s, ok, seq)
		}
	}

	record("a") // no head known yet: read under the lock
	knows("after its first group")
	record("b") // sealed to the head it committed
	knows("after a group sealed to its own head")

	appendN(t, db.PG, 2) // another writer moves the head
	record("c")
	knows("after the head moved elsewhere")

	postgres.SetChainHead(s, 40, bytes.Repeat([]byte{7}, 32)) // a head the log never had
	record("d")
	knows("after believing in a head the log never had")

	postgres.SetChainHead(s, 1, nil) // an older event's seq, no hash
	record("e")

	if got := fmt.Sprint(recorded(t, db)); got != "[a b c d e]" {
		t.Errorf("recorded %s, want [a b c d e], each once", got)
	}
	if v, brk := verifyChain(t, db.PG, nil); brk != nil || v.Count() != 7 {
		t.Fatalf("chain: %d events, break %v", v.Count(), brk)
	}
}

// A group writer waiting for its turn to append gives up when its context
// ends, holding nothing and writing nothing; once the turn is free, the
// same group is written.
func TestGroupWriterWaitsForItsTurnOnlyAsLongAsItsContext(t *testing.T) {
	db := pgtest.New(t)
	s := &postgres.AuditStore{DB: db.PG}
	event := func() []*audit.Event {
		return []*audit.Event{{Actor: "citizen", Action: "test.record", ObjectID: "turn", Outcome: audit.Success}}
	}
	give := postgres.HoldChainTurn(s)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- postgres.AppendGroup(ctx, s, event()) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("appended while another writer held the turn")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the writer kept waiting for the turn after its context ended")
	}
	give()
	if got := recorded(t, db); len(got) != 0 {
		t.Fatalf("the writer that gave up wrote %v", got)
	}
	if err := postgres.AppendGroup(context.Background(), s, event()); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(recorded(t, db)); got != "[turn]" {
		t.Errorf("recorded %s, want [turn]", got)
	}
}
