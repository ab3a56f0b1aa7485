package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pakn/internal/access"
	"pakn/internal/gc"
	"pakn/internal/petition"
	"pakn/internal/reply"
	"pakn/internal/servicetest"
)

// registerEntries is how many published replies the register benchmark's
// register holds.
const registerEntries = 100_000

// BenchmarkPages measures the server time of the website's pages under 50
// concurrent clients (p50 and p99, and of the time to the whole answer) and
// their weight: the home page, the register (first page, and a search)
// with 100,000 published replies, and the tracking page of a petition; and
// the desk's queue (first page, and a search) of the agency holding those
// 100,000 petitions, under 20 concurrent members of staff.
func BenchmarkPages(b *testing.B) {
	defer gc.Tune(gc.Default)() // as paknd serves
	// The benchmark's clients (loopback) are exempt from the per-client limits by configuration.
	s := newStack(b, Limits{Login: 1000, Public: 1000, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	_, _, rc := s.seedReplies()
	s.fillRegister(b, registerEntries)
	track := url.Values{"tracking_code": {rc.TrackingCode}, "lookup_secret": {rc.LookupSecret}}.Encode()
	// The pages are requested from a server of their own over the same
	// handler, which times each request from the handler's start to its
	// end: the server time, besides the time of the whole answer.
	timer := &serverTimer{h: s.api}
	srv := httptest.NewServer(timer)
	defer srv.Close()
	// The desk's queue, for an official of the agency holding the 100,000 petitions.
	official := s.session(s.byRole[access.Official])
	for _, p := range []struct {
		name, method, path, body, cookie string
		clients                          int
	}{
		{"home", "GET", "/", "", "", 50},
		{"register", "GET", "/register", "", "", 50},
		{"register-search", "GET", "/register?q=phi+trong+giu+xe+so+4242", "", "", 50},
		{"track", "POST", "/track", track, "", 50},
		{"desk-queue", "GET", "/desk/", "", official, 20},
		{"desk-queue-search", "GET", "/desk/?q=phi+trong+giu+xe", "", official, 20},
	} {
		b.Run(p.name, func(b *testing.B) { pageLoad(b, srv.URL, timer, p.clients, p.method, p.path, p.body, p.cookie) })
	}
}

// serverTimer serves h and keeps the time each request took in it.
type serverTimer struct {
	h     http.Handler
	mu    sync.Mutex
	times []time.Duration
}

func (t *serverTimer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	t.h.ServeHTTP(w, r)
	d := time.Since(start)
	t.mu.Lock()
	t.times = append(t.times, d)
	t.mu.Unlock()
}

// take returns the times kept since the last take.
func (t *serverTimer) take() []time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	times := t.times
	t.times = nil
	return times
}

// quantile is the q quantile of times (sorted) in milliseconds.
func quantile(times []time.Duration, q float64) float64 {
	return float64(times[int(q*float64(len(times)-1))]) / float64(time.Millisecond)
}

// pageLoad requests one page b.N times from clients concurrent clients
// (with the session cookie, when given) and reports the p50 and p99 of the
// server's time (timer) and of the whole answer as the clients saw it, and
// the page's size.
func pageLoad(b *testing.B, base string, timer *serverTimer, clients int, method, path, body, cookie string) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients}
	c := &http.Client{Transport: tr, Timeout: time.Minute}
	defer tr.CloseIdleConnections()
	var next atomic.Int64
	var mu sync.Mutex
	var times []time.Duration
	var size atomic.Int64
	var wg sync.WaitGroup
	// A round of requests from every client first: the measurement is of
	// the steady state (connections open, in the client's and the
	// database's pools, the register's list read once and reused for a few
	// seconds), not of a server starting.
	newRequest := func() *http.Request {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: SessionCookie, Value: cookie})
		}
		return req
	}
	warm := func() {
		if resp, err := c.Do(newRequest()); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	warm()
	for range clients {
		wg.Go(warm)
	}
	wg.Wait()
	timer.take()
	b.ResetTimer()
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for next.Add(1) <= int64(b.N) {
				req := newRequest()
				start := time.Now()
				resp, err := c.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				n, _ := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mine = append(mine, time.Since(start))
				if resp.StatusCode != http.StatusOK {
					b.Errorf("%s %s: %d", method, path, resp.StatusCode)
					return
				}
				size.Store(n)
			}
			mu.Lock()
			times = append(times, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	b.StopTimer()
	if len(times) == 0 {
		return
	}
	server := timer.take()
	slices.Sort(times)
	slices.Sort(server)
	b.ReportMetric(quantile(server, 0.5), "server-p50-ms")
	b.ReportMetric(quantile(server, 0.99), "server-p99-ms")
	b.ReportMetric(quantile(times, 0.5), "p50-ms")
	b.ReportMetric(quantile(times, 0.99), "p99-ms")
	b.ReportMetric(float64(size.Load())/1024, "KB")
	b.ReportMetric(float64(len(times))/b.Elapsed().Seconds(), "pages/s")
}

// fillRegister adds n published replies (with public versions and search
// words) to the register, written directly in the database as signing
// would leave them (as the owner; words sealed as paknd seals them),
// without signing each: for measuring the register's pages, not signing.
func (s *stack) fillRegister(b *testing.B, n int) {
	ctx := context.Background()
	// As the owner: the application's role writes signed replies only through sign_reply, which checks each.
	tx := s.ownerTx(b)
	ids, err := s.sealedFill(n)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE bench_ids (g int, pid uuid, rid uuid, title text, body text, content text) ON COMMIT DROP`); err != nil {
		b.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO bench_ids SELECT g, pid::uuid, rid::uuid, title, body, content
		FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) WITH ORDINALITY AS v(pid, rid, title, body, content, g)`,
		ids.pids, ids.rids, ids.titles, ids.bodies, ids.contents); err != nil {
		b.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO petitions (id, tracking_code, lookup_hash, state, agency_code, category, petitioner_kind, petitioner_enc, title, body,
			channel, received_at, last_public_update, next_update_due, words_sealed, search_tokens, updated_at)
			SELECT pid, 'PAKN-2025-' || lpad((g / 10000)::text, 4, '0') || '-' || lpad((g % 10000)::text, 4, '0'),
				decode(md5(g::text) || md5(g::text), 'hex'), 'published', 'STP-HN', 'regulation', 'individual', 'pakn:env1:bench',
				title, body, 'online', now() - g * interval '1 minute', now(), current_date + 20, true, '` + ids.tokens + `'::bigint[], now()
			FROM bench_ids`,
		`INSERT INTO replies (id, petition_id, agency_code, status, content_enc, outcome, drafted_by, drafted_at, updated_at)
			SELECT rid, pid, 'STP-HN', 'signed', content, 'explained', (SELECT id FROM accounts WHERE username = 'demo-official'), now(), now()
			FROM bench_ids`,
		`INSERT INTO signed_replies (reply_id, petition_id, agency_code, number, year, seq, pdf, sha256, size, signer_id, signed_by,
			key_name, key_version, certificate, signed_at, timestamped)
			SELECT rid, pid, 'STP-HN', (g + 1000) || '/STP-HN-PAKN', 2025, g + 1000, '\x00', encode(sha256(rid::text::bytea), 'hex'), 1,
				sg.id, sg.account_id, sg.key_name, sg.key_version, sg.certificate, now() - g * interval '1 minute', false
			FROM bench_ids, (SELECT * FROM signers LIMIT 1) sg`,
		`INSERT INTO public_replies (reply_id, pdf, sha256, size)
			SELECT rid, '\x00', encode(sha256(('public ' || rid::text)::bytea), 'hex'), 1 FROM bench_ids`,
	} {
		if _, err := tx.Exec(ctx, q); err != nil {
			b.Fatalf("fill the register: %v\n%s", err, q)
		}
	}
	// The register's search words, as the sealed store indexes them (its blind index, one JSON array a row).
	words := make([]string, n)
	for g := 1; g <= n; g++ {
		t, _ := json.Marshal(petition.SearchTokens(servicetest.SearchKey, fmt.Sprintf("%d/stp-hn-pakn phi trong giu xe so %d", g+1000, g)))
		words[g-1] = string(t)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO register_search (reply_id, search_tokens)
		SELECT rid, ARRAY(SELECT jsonb_array_elements_text(($1::text[])[g]::jsonb)::bigint) FROM bench_ids`, words); err != nil {
		b.Fatalf("fill the register's search: %v", err)
	}
	if err := tx.Commit(ctx); err != nil {
		b.Fatal(err)
	}
	// As autovacuum would after such a load: the planner needs the numbers.
	s.db.Superuser(b, "ANALYZE")
}

// benchRows are the fill's rows: ids, and words sealed as internal/sealed
// seals them (each bound to its row), with the petitions' blind index.
type benchRows struct {
	pids, rids, titles, bodies, contents []string
	tokens                               string // one bigint[] literal: every petition says the same
}

// sealedFill makes n rows of sealed words.
func (s *stack) sealedFill(n int) (*benchRows, error) {
	ctx := context.Background()
	r := &benchRows{}
	const title, body = "Phí trông giữ xe", "Đề nghị xem xét lại mức phí trông giữ xe đạp điện."
	for g := 1; g <= n; g++ {
		pid, err := petition.NewID(time.Now())
		if err != nil {
			return nil, err
		}
		rid, err := petition.NewID(time.Now())
		if err != nil {
			return nil, err
		}
		content, _ := json.Marshal(reply.Content{Summary: fmt.Sprintf("Phí trông giữ xe đạp điện số %d", g),
			Answer: "Mức phí được quy định tại Nghị quyết của Hội đồng nhân dân thành phố.", Outcome: reply.Explained,
			LegalBasis: []reply.LegalRef{{Document: "Nghị quyết số 44/2025/NQ-HĐND"}}})
		t, err1 := s.words.Seal(ctx, "petition:"+pid+"#title", []byte(title))
		bd, err2 := s.words.Seal(ctx, "petition:"+pid+"#body", []byte(body))
		c, err3 := s.words.Seal(ctx, "reply:"+rid+"#content", content)
		if err := errors.Join(err1, err2, err3); err != nil {
			return nil, err
		}
		r.pids, r.rids, r.titles, r.bodies, r.contents = append(r.pids, pid), append(r.rids, rid), append(r.titles, t), append(r.bodies, bd), append(r.contents, c)
	}
	r.tokens = "{" + strings.ReplaceAll(strings.Trim(fmt.Sprint(petition.SearchTokens(servicetest.SearchKey, title+" "+body)), "[]"), " ", ",") + "}"
	return r, nil
}
