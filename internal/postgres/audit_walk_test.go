package postgres_test

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"pakn/internal/audit"
	"pakn/internal/gc"
	"pakn/internal/pgtest"
)

// copyChain writes n chained events with COPY, as fast as the server takes
// them, for tests and benchmarks of long chains.
func copyChain(t testing.TB, db *pgtest.DB, n int) {
	t.Helper()
	ctx := context.Background()
	var head []byte
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		e := audit.Event{Time: base.Add(time.Duration(i) * time.Millisecond), Actor: "bulk", Role: "test",
			Action: "bulk.append", ObjectType: "n", ObjectID: fmt.Sprint(i), Outcome: audit.Success,
			RequestID: "r", ClientHash: "c", Details: []byte(`{"bulk":true}`)}
		e.Seal(int64(i), head)
		head = e.Hash
		i++
		return []any{e.Seq, e.Time, e.Actor, e.Role, e.Action, e.ObjectType, e.ObjectID, string(e.Outcome),
			e.RequestID, e.ClientHash, string(e.Details), e.PrevHash, e.Hash}, nil
	})
	c, err := pgx.Connect(ctx, db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	cols := []string{"seq", "occurred_at", "actor", "role", "action", "object_type", "object_id", "outcome",
		"request_id", "client_hash", "details", "prev_hash", "hash"}
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"audit_events"}, cols, src); err != nil {
		t.Fatalf("copy %d events: %v", n, err)
	}
}

// TestVerifyMillionEvents checks a chain of a million events; the walk reads
// it in batches, never all at once: the heap grows by less than 32 MiB
// while the whole chain is about 300 MB as Go values.
func TestVerifyMillionEvents(t *testing.T) {
	db := pgtest.New(t)
	const n = 1_000_000
	copyChain(t, db, n)
	var v *audit.Verifier
	var brk *audit.Break
	grew := heapGrowth(func() { v, brk = verifyChain(t, db.PG, nil) })
	if brk != nil {
		t.Fatalf("intact chain of %d reported broken: %v", n, brk)
	}
	if v.Count() != n {
		t.Fatalf("verified %d, want %d", v.Count(), n)
	}
	if grew >= 32<<20 {
		t.Fatalf("verifying %d events grew the heap by %d MiB, want < 32 MiB", n, grew>>20)
	}
	tamper(t, db, "UPDATE audit_events SET outcome = 'failure' WHERE seq = 987654")
	_, brk = verifyChain(t, db.PG, nil)
	if brk == nil || brk.Seq != 987654 || brk.Kind != audit.Edited {
		t.Fatalf("edit at 987654 reported as %v", brk)
	}
}

// heapGrowth runs fn and returns the most the heap in use grew above its
// level before fn, sampled every 10 ms.
func heapGrowth(fn func()) uint64 {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	stop := make(chan struct{})
	sampled := make(chan uint64)
	go func() {
		var top uint64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			top = max(top, m.HeapInuse)
			select {
			case <-stop:
				sampled <- top
				return
			case <-tick.C:
			}
		}
	}()
	fn()
	close(stop)
	if top := <-sampled; top > before.HeapInuse {
		return top - before.HeapInuse
	}
	return 0
}

// BenchmarkVerifyChain reports the time and the peak heap growth of
// verifying a chain of 200,000 events from PostgreSQL.
func BenchmarkVerifyChain(b *testing.B) {
	defer gc.Tune(gc.Default)() // as paknd serves
	db := pgtest.New(b)
	const n = 200_000
	copyChain(b, db, n)
	b.ResetTimer()
	var peak uint64
	for i := 0; i < b.N; i++ {
		peak = max(peak, heapGrowth(func() {
			if _, brk := verifyChain(b, db.PG, nil); brk != nil {
				b.Fatal(brk)
			}
		}))
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
