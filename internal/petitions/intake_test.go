package petitions_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"pakn/internal/apperr"
	"pakn/internal/audit"
	"pakn/internal/petitions"
	"pakn/internal/postgres"
	"pakn/internal/servicetest"
	"pakn/internal/store"
)

// gate is attachment content whose third pass waits until it is opened:
// the type and the hash are read at submission (two passes from the
// start), the store's reads wait, holding the submission in its writer.
type gate struct {
	*bytes.Reader
	open   chan struct{}
	once   sync.Once
	mu     sync.Mutex
	starts int
}

func newGate(data []byte) *gate {
	return &gate{Reader: bytes.NewReader(data), open: make(chan struct{})}
}

func (g *gate) ReadAt(p []byte, off int64) (int, error) {
	g.mu.Lock()
	if off == 0 {
		g.starts++
	}
	wait := g.starts > 2
	g.mu.Unlock()
	if wait {
		<-g.open
	}
	return g.Reader.ReadAt(p, off)
}

func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// holdScans submits n scans of 1 MB whose storing waits on their gates:
// the file writers are then busy. It returns when they are admitted; wait
// on wg after releasing the gates.
func holdScans(t *testing.T, e *servicetest.Env, n int) ([]*gate, *sync.WaitGroup) {
	t.Helper()
	var gates []*gate
	wg := &sync.WaitGroup{}
	t.Cleanup(func() { // a test failing while they are held must not hang on them
		for _, g := range gates {
			g.release()
		}
	})
	for range n {
		g := newGate(append([]byte("%PDF-1.7 "), make([]byte, 1<<20)...))
		gates = append(gates, g)
		wg.Go(func() {
			if _, err := e.Petitions.Submit(context.Background(), e.M, servicetest.Anon, "", servicetest.Submission(), []petitions.FileIn{{Name: "scan.pdf", Content: g}}); err != nil {
				t.Errorf("held submission: %v", err)
			}
		})
	}
	waitQueued(t, e, int64(n)<<20)
	return gates, wg
}

// waitQueued waits until at least n bytes are admitted to the intake.
func waitQueued(t *testing.T, e *servicetest.Env, n int64) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); e.Petitions.Queued() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("%d bytes admitted after 30 s, want %d", e.Petitions.Queued(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countPetitions(t *testing.T, e *servicetest.Env) int {
	t.Helper()
	var n int
	if err := e.DB.Pool.QueryRow(context.Background(), "SELECT count(*) FROM petitions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The intake holds at most QueueBytes of submissions not yet written: past
// it a submission is refused at once with 503 and Retry-After, and nothing
// of it is stored; once the queue drains, submissions are taken again.
func TestIntakeQueueIsBoundedInBytes(t *testing.T) {
	const bound = 3 << 20
	e := servicetest.New(t, func(c *petitions.Config) { c.QueueBytes = bound })
	ctx := context.Background()
	scan := func() []byte { return append([]byte("%PDF-1.7 "), make([]byte, 1<<20)...) }

	// Two 1 MB scans held in the writers fill two thirds of the bound.
	gates, wg := holdScans(t, e, 2)
	// A third scan does not fit: refused at once, nothing stored (were it
	// admitted instead, it would wait behind the held ones: the timeout
	// turns that into a failure rather than a hang).
	third, cancelThird := context.WithTimeout(ctx, 20*time.Second)
	defer cancelThird()
	_, err := e.Petitions.Submit(third, e.M, servicetest.Anon, "", servicetest.Submission(), []petitions.FileIn{{Name: "scan.pdf", Content: bytes.NewReader(scan())}})
	ae := servicetest.WantCode(t, err, apperr.Unavailable)
	if ae.RetryAfter <= 0 {
		t.Fatal("no Retry-After")
	}
	// A small one still fits.
	if _, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", servicetest.Submission(), nil); err != nil {
		t.Fatalf("small submission beside a full queue of files: %v", err)
	}
	for _, g := range gates {
		g.release()
	}
	wg.Wait()
	if n := countPetitions(t, e); n != 3 {
		t.Fatalf("%d petitions stored, want 3 (two scans, one small; the refused one not)", n)
	}
	if q := e.Petitions.Queued(); q != 0 {
		t.Fatalf("%d bytes still counted after every submission ended", q)
	}
	if _, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", servicetest.Submission(), []petitions.FileIn{{Name: "scan.pdf", Content: bytes.NewReader(scan())}}); err != nil {
		t.Fatalf("after the queue drained: %v", err)
	}
}

// A submission whose submitter went away before its turn is dropped, not
// written, in the group commit and among the file writers alike.
func TestIntakeDropsJobsWhoseClientWentAway(t *testing.T) {
	e := servicetest.New(t)
	bg := context.Background()
	// One submission first: the desk's caches are warm, so the ones below reach the intake.
	if _, err := e.Petitions.Submit(bg, e.M, servicetest.Anon, "", servicetest.Submission(), nil); err != nil {
		t.Fatal(err)
	}
	// Group commit: the client is gone before its job's turn.
	gone, cancel := context.WithCancel(bg)
	cancel()
	_, err := e.Petitions.Submit(gone, e.M, servicetest.Anon, "", servicetest.Submission(), nil)
	servicetest.WantCode(t, err, apperr.Unavailable)

	// Files: both writers busy with held scans; a third job's client leaves while it waits.
	gates, wg := holdScans(t, e, 2)
	leaving, leave := context.WithCancel(bg)
	done := make(chan error, 1)
	go func() {
		_, err := e.Petitions.Submit(leaving, e.M, servicetest.Anon, "", servicetest.Submission(), []petitions.FileIn{{Name: "a.pdf", Content: bytes.NewReader([]byte("%PDF-1.7 a"))}})
		done <- err
	}()
	waitQueued(t, e, 2<<20+1) // the third job is admitted and waits
	leave()
	servicetest.WantCode(t, <-done, apperr.Unavailable)
	for _, g := range gates {
		g.release()
	}
	wg.Wait()
	for deadline := time.Now().Add(30 * time.Second); e.Petitions.Queued() > 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if q := e.Petitions.Queued(); q != 0 {
		t.Fatalf("%d bytes still queued", q)
	}
	// The first submission and the two held scans; neither job whose client left.
	if n := countPetitions(t, e); n != 3 {
		t.Fatalf("%d petitions, want 3: a job whose client went away was written", n)
	}
	var events int
	if err := e.DB.Pool.QueryRow(bg, "SELECT count(*) FROM audit_events WHERE action = 'petition.submit'").Scan(&events); err != nil || events != 3 {
		t.Fatalf("%d submit events (%v), want 3", events, err)
	}
}

// TestSubmitEventDetails pins the submission's audit details, byte for
// byte: the chain's hashes cover them, and readers of the log parse them.
func TestSubmitEventDetails(t *testing.T) {
	e := servicetest.New(t)
	bg := context.Background()
	plain, err := e.Petitions.Submit(bg, e.M, servicetest.Anon, "", servicetest.Submission(), nil)
	if err != nil {
		t.Fatal(err)
	}
	withFile, err := e.Petitions.Submit(bg, e.M, servicetest.Anon, "", servicetest.Submission(),
		[]petitions.FileIn{{Name: "a.pdf", Content: bytes.NewReader([]byte("%PDF-1.7 a"))}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		r     *petitions.Receipt
		files int
	}{{plain, 0}, {withFile, 1}} {
		var got string
		if err := e.DB.Pool.QueryRow(bg, `SELECT a.details::text FROM audit_events a JOIN petitions p ON a.object_id = p.id::text
			WHERE a.action = 'petition.submit' AND p.tracking_code = $1`, tc.r.TrackingCode).Scan(&got); err != nil {
			t.Fatal(err)
		}
		want := `{"agency":"` + tc.r.Agency + `","attachments":` + strconv.Itoa(tc.files) +
			`,"category":"regulation","channel":"online","tracking_code":"` + tc.r.TrackingCode + `"}`
		if got != want {
			t.Errorf("details %s, want %s", got, want)
		}
	}
}

// lostAnswer writes groups in PostgreSQL and then reports a failure, as
// when the connection drops after the server committed and before its
// answer arrived: the outcome is unknown to the caller.
type lostAnswer struct {
	store.Petitions
}

func (l lostAnswer) WriteGroup(ctx context.Context, subs []store.Submission) error {
	if err := l.Petitions.WriteGroup(ctx, subs); err != nil {
		return err
	}
	return errors.New("connection lost after COMMIT was sent")
}

// TestCommittedGroupWhoseAnswerWasLostIsASuccess: when a group's commit
// outcome is unknown and the group did commit, each submission is answered
// with the receipt as written, not refused after new tracking codes were
// drawn for a petition that is already stored.
func TestCommittedGroupWhoseAnswerWasLostIsASuccess(t *testing.T) {
	e := servicetest.New(t, func(c *petitions.Config) { c.Stores.Petitions = lostAnswer{c.Stores.Petitions} })
	bg := context.Background()
	r, err := e.Petitions.Submit(bg, e.M, servicetest.Anon, "", servicetest.Submission(), nil)
	if err != nil {
		t.Fatalf("the petition was committed, but its submitter was told: %v", err)
	}
	if n := countPetitions(t, e); n != 1 {
		t.Fatalf("%d petitions, want 1", n)
	}
	var code string
	var events int
	if err := e.DB.Pool.QueryRow(bg, `SELECT p.tracking_code, (SELECT count(*) FROM audit_events WHERE action = 'petition.submit')
		FROM petitions p`).Scan(&code, &events); err != nil {
		t.Fatal(err)
	}
	if code != r.TrackingCode || events != 1 {
		t.Fatalf("stored %s with %d submit events; the receipt says %s (want it, with 1 event)", code, events, r.TrackingCode)
	}
	// The receipt's secret opens the petition as stored.
	if _, err := e.Petitions.Lookup(bg, e.M, r.TrackingCode, r.LookupSecret); err != nil {
		t.Fatalf("the receipt does not open the stored petition: %v", err)
	}
}

// A group commit seals its events to the chain's head its writer last
// committed; when another writer has appended since, the group is written
// again after the actual head: its idempotency keys, claimed in the
// transaction rolled back, are claimed again, and every petition and event
// is stored once, the chain whole.
func TestGroupAfterTheChainMovedElsewhere(t *testing.T) {
	e := servicetest.New(t)
	bg := context.Background()
	submit := func(key string) *petitions.Receipt {
		t.Helper()
		r, err := e.Petitions.Submit(bg, e.M, servicetest.Anon, key, servicetest.Submission(), nil)
		if err != nil {
			t.Fatalf("submit with key %q: %v", key, err)
		}
		return r
	}
	first := submit("")
	other := e.DB.Stores(nil).Audit // another store: another writer, as another process would be
	if err := other.Record(bg, &audit.Event{Actor: "citizen", Action: "test.elsewhere", ObjectID: "x", Outcome: audit.Success}); err != nil {
		t.Fatal(err)
	}
	second := submit("0123456789abcdef0123456789abcdef")
	for _, r := range []*petitions.Receipt{first, second} {
		var rows, events int
		if err := e.DB.Pool.QueryRow(bg, `SELECT count(DISTINCT p.id), count(a.seq) FROM petitions p
			JOIN audit_events a ON a.object_id = p.id::text AND a.action = 'petition.submit' WHERE p.tracking_code = $1`, r.TrackingCode).Scan(&rows, &events); err != nil {
			t.Fatal(err)
		}
		if rows != 1 || events != 1 {
			t.Errorf("%s: %d petitions and %d events, want one each", r.TrackingCode, rows, events)
		}
	}
	if again := submit("0123456789abcdef0123456789abcdef"); again.TrackingCode != second.TrackingCode {
		t.Errorf("the key answered %s, want the receipt it was claimed for, %s", again.TrackingCode, second.TrackingCode)
	}
	v, brk, err := (&postgres.AuditStore{DB: e.DB.PG}).Verify(bg, nil, nil)
	if err != nil || brk != nil {
		t.Fatalf("chain of %d events: break %v, %v", v.Count(), brk, err)
	}
}
