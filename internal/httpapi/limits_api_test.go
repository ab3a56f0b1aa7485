package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pakn/internal/access"
	"pakn/internal/msg"
	"pakn/internal/quota"
	"pakn/internal/verify"
	"pakn/internal/verifytest"
)

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (any of 127.0.0.0/8 works on Linux), so tests can play
// several clients against one test server.
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, DisableKeepAlives: true, ExpectContinueTimeout: 5 * time.Second},
		Timeout: 2 * time.Minute}
}

func TestKeyOf(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"not an address", "not an address"},
	} {
		if got := keyOf(tt.in); got != tt.want {
			t.Errorf("keyOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// stalled is an upload that sends its first bytes and then nothing until
// it is let go; its answer arrives on answers.
type stalled struct {
	pw *io.PipeWriter
}

// stalledAnswer is what a stalled upload was answered.
type stalledAnswer struct {
	code  int
	retry string
	err   error
}

// stall starts a POST of ct to url from c, declaring length bytes, sending
// first and then stalling.
func stall(c *http.Client, url, ct string, length int64, first string, answers chan<- stalledAnswer) *stalled {
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", url, pr)
	req.Header.Set("Content-Type", ct)
	req.ContentLength = length
	go func() {
		resp, err := c.Do(req)
		if err != nil {
			answers <- stalledAnswer{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		answers <- stalledAnswer{code: resp.StatusCode, retry: resp.Header.Get("Retry-After")}
	}()
	go func() { _, _ = pw.Write([]byte(first)) }()
	return &stalled{pw: pw}
}

// release ends the upload with an error, as a client that gives up.
func (u *stalled) release() { u.pw.CloseWithError(io.ErrUnexpectedEOF) }

// An IPv6 client rotating its address inside one /64 is limited as one
// client; another /64 is not.
func TestIPv6ClientRotatingInsideA64IsOneClient(t *testing.T) {
	s := newStack(t, Limits{Login: 3, Public: 1000}, netip.MustParsePrefix("127.0.0.0/8"))
	login := func(i int, xff string) int {
		resp, _ := s.do(request{method: "POST", path: "/api/v1/auth/login", body: fmt.Sprintf(`{"username":"guess%d","password":"y"}`, i),
			header: map[string]string{"X-Forwarded-For": xff}})
		return resp.StatusCode
	}
	for i := range 3 {
		if code := login(i, fmt.Sprintf("2001:db8:aa:bb:%x::%x", i*977, i+1)); code == 429 {
			t.Fatalf("request %d limited too early", i)
		}
	}
	resp, _ := s.do(request{method: "POST", path: "/api/v1/auth/login", body: `{"username":"guess9","password":"y"}`,
		header: map[string]string{"X-Forwarded-For": "2001:db8:aa:bb:dead:beef:1:2"}})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("a fresh address in the same /64: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if code := login(10, "2001:db8:aa:cc::1"); code == 429 {
		t.Fatal("another /64 was limited with the first")
	}
}

// Sixteen slow uploads from one address: two are admitted (and hold no
// verification slot while they upload), fourteen are refused at once with
// 429 and Retry-After, and a citizen at another address is answered while
// the two still upload.
func TestSlowUploadsDoNotHoldVerifications(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	_, signedID, _ := s.seedReplies()
	genuine := s.signedPDF(signedID)

	attacker := clientFrom("127.0.0.3")
	var uploads []*stalled
	answers := make(chan stalledAnswer, 16)
	for range 16 {
		uploads = append(uploads, stall(attacker, s.srv.URL+"/api/v1/verifications", "application/pdf", verify.MaxSize, "%PDF-1.7\n", answers))
	}
	for i := range 14 {
		select {
		case a := <-answers:
			if a.err != nil || a.code != 429 || a.retry == "" {
				t.Fatalf("slow upload %d: %+v", i, a)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of 14 excess uploads were refused", i)
		}
	}
	resp, err := clientFrom("127.0.0.4").Post(s.srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(genuine))
	if err != nil {
		t.Fatal(err)
	}
	var rep verify.Report
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if resp.StatusCode != 200 || rep.Indication != verify.TotalPassed {
		t.Fatalf("the citizen's verification: %d %s", resp.StatusCode, rep.Indication)
	}
	select {
	case a := <-answers:
		t.Fatalf("a slow upload finished before its client did: %+v", a)
	default:
	}
	// The two slow uploads end; the attacker's address may verify again.
	for _, u := range uploads {
		u.release()
	}
	for range 2 {
		<-answers
	}
	waitFor(t, func() bool { return s.api.verifying.Running("127.0.0.3") == 0 })
	resp, err = attacker.Post(s.srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(genuine))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("after its uploads ended, the address got %d", resp.StatusCode)
	}
}

// Crafted 20 MB inputs over HTTP get definite verdicts, and the server does
// no more work for them once it has answered.
func TestCraftedInputsOverHTTP(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	for _, name := range []string{"one object repeating /ByteRange", "thousands of signature dictionaries", "obj words before each /ByteRange"} {
		doc := verifytest.Crafted(verify.MaxSize - 1024)[name]()
		resp, rep := s.verify(doc)
		if resp.StatusCode != 422 || rep.SubIndication != verify.FormatFailure {
			t.Fatalf("%s: %d %s / %s", name, resp.StatusCode, rep.Indication, rep.SubIndication)
		}
	}
	// Cut by a 1 ms limit, the work stops with the answer.
	s.verifier.Timeout = time.Millisecond
	for _, name := range []string{"obj words before each /ByteRange", "huge /Contents hex string"} {
		doc := verifytest.Crafted(verify.MaxSize - 1024)[name]()
		resp, rep := s.verify(doc)
		if resp.StatusCode != 200 || rep.SubIndication != verify.TimeLimitExceeded {
			t.Fatalf("%s with a 1 ms limit: %d %s / %s", name, resp.StatusCode, rep.Indication, rep.SubIndication)
		}
	}
	start := verifytest.CPUTime(t)
	time.Sleep(500 * time.Millisecond)
	if used := verifytest.CPUTime(t) - start; used > 200*time.Millisecond {
		t.Fatalf("the process used %s of CPU in the half second after its answers", used)
	}
}

// Anonymous submissions: ten a minute per client, two at once, and a daily
// attachment volume; each refusal is 429 with Retry-After. Staff are not
// held to the anonymous bounds.
func TestSubmissionBounds(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Submit: 4, DailyAttachmentBytes: 3 << 20})
	submit := func(c *http.Client, body, ct string) (int, string) {
		resp, err := c.Post(s.srv.URL+"/api/v1/petitions", ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode == 429 && resp.Header.Get("Retry-After") == "" {
			t.Fatalf("429 without Retry-After: %s", b)
		}
		return resp.StatusCode, string(b)
	}
	// A flood from one address: four a minute here, the fifth refused.
	flood := clientFrom("127.0.0.5")
	for i := range 4 {
		if code, b := submit(flood, petitionJSON, "application/json"); code != 201 {
			t.Fatalf("submission %d: %d %s", i, code, b)
		}
	}
	if code, _ := submit(flood, petitionJSON, "application/json"); code != 429 {
		t.Fatalf("fifth submission in a minute: %d", code)
	}

	// The daily attachment volume (3 MB here): two 1.2 MB scans pass, the third is refused, mid-upload.
	scan := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 1200<<10)...)
	day := clientFrom("127.0.0.6")
	for i, want := range []int{201, 201, 429} {
		body, ct := multipartBody(t, petitionJSON, map[string][]byte{"scan.pdf": scan})
		code, b := submit(day, body, ct)
		if code != want {
			t.Fatalf("submission %d with a scan: %d %s", i, code, b)
		}
		if want == 429 && !strings.Contains(b, "hôm nay") {
			t.Fatalf("the refusal does not say why: %s", b)
		}
	}
	// Without attachments the same client may still submit.
	if code, b := submit(day, petitionJSON, "application/json"); code != 201 {
		t.Fatalf("submission without attachments after the volume is spent: %d %s", code, b)
	}
	var stored int
	if err := s.db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM petitions").Scan(&stored); err != nil || stored != 4+2+1 {
		t.Fatalf("%d petitions stored, want 7 (%v)", stored, err)
	}

	// Two at once per client: a third concurrent upload is refused at once.
	slow := clientFrom("127.0.0.7")
	var uploads []*stalled
	answers := make(chan stalledAnswer, 3)
	for range 3 {
		uploads = append(uploads, stall(slow, s.srv.URL+"/api/v1/petitions", "multipart/form-data; boundary=x", 20<<20, "--x\r\n", answers))
	}
	select {
	case a := <-answers:
		if a.code != 429 || a.retry == "" {
			t.Fatalf("third concurrent upload: %+v", a)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the third concurrent upload was not refused")
	}
	// The other two are still being received: a bound of one would have refused a second.
	select {
	case a := <-answers:
		t.Fatalf("a second concurrent upload was answered before it ended: %+v", a)
	case <-time.After(300 * time.Millisecond):
	}
	for _, u := range uploads {
		u.release()
	}
	<-answers
	<-answers
}

// The upload budget reserves each upload's declared length before a byte
// is read: an upload that does not fit is refused at once, the admitted
// ones can finish, and an upload that stalls is cut (and its reservation
// freed) after a few seconds, so a stalled client holds nothing for long.
func TestUploadBudgetReservesAndCutsStalledUploads(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000, UploadBytes: 30 << 20})
	_, signedID, _ := s.seedReplies()
	genuine := s.signedPDF(signedID)
	answers := make(chan stalledAnswer, 2)
	first := stall(clientFrom("127.0.3.10"), s.srv.URL+"/api/v1/verifications", "application/pdf", verify.MaxSize, "%PDF-1.7\n", answers)
	defer first.release()
	waitFor(t, func() bool { return s.api.uploads.Used() == verify.MaxSize })
	// A second 20 MB upload does not fit beside it: refused before its body is read.
	second := stall(clientFrom("127.0.3.11"), s.srv.URL+"/api/v1/verifications", "application/pdf", verify.MaxSize, "%PDF-1.7\n", answers)
	defer second.release()
	if a := <-answers; a.code != 503 || a.retry == "" {
		t.Fatalf("an upload beyond the budget: %+v", a)
	}
	// A citizen's reply fits in what is left.
	resp, err := clientFrom("127.0.3.99").Post(s.srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(genuine))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a citizen's verification beside a stalled upload: %d", resp.StatusCode)
	}
	// The stalled upload is cut, with a word on why, and its reservation freed.
	select {
	case a := <-answers:
		if a.code != 503 || a.retry == "" {
			t.Fatalf("the stalled upload: %+v", a)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("a stalled upload was not cut")
	}
	waitFor(t, func() bool { return s.api.uploads.Used() == 0 })
}

// A petition sent as JSON is at most 1 MiB, whatever the route allows for
// files.
func TestJSONPetitionIsSmall(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000})
	body := `{"title":"` + strings.Repeat("x", 2<<20) + `"}`
	resp, _ := s.do(request{method: "POST", path: "/api/v1/petitions", body: body})
	if resp.StatusCode != 413 {
		t.Fatalf("a 2 MiB JSON petition: %d", resp.StatusCode)
	}
}

// waitFor polls cond for up to 30 s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached in 30 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Uploads hold no verification place while they arrive: with more stalled
// uploads (from as many addresses) than there are places, a citizen's
// verification is still answered at once.
func TestUploadsHoldNoVerificationPlace(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	_, signedID, _ := s.seedReplies()
	genuine := s.signedPDF(signedID)
	n := MaxConcurrentVerifications + 2
	var uploads []*stalled
	answers := make(chan stalledAnswer, n)
	for i := range n {
		uploads = append(uploads, stall(clientFrom(fmt.Sprintf("127.0.5.%d", 10+i)), s.srv.URL+"/api/v1/verifications", "application/pdf", 100<<10, "%PDF-1.7\n", answers))
	}
	waitFor(t, func() bool { return s.api.uploads.Used() >= int64(n*9) })
	resp, err := clientFrom("127.0.5.200").Post(s.srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(genuine))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("a citizen's verification beside %d stalled uploads: %d", n, resp.StatusCode)
	}
	for _, u := range uploads {
		u.release()
	}
	for range uploads {
		<-answers
	}
}

// A verification holds its place while the document is checked, not while
// its audit event waits for the log's flush: with the audit log stalled and
// more verifications waiting for it than there are places, every one of
// them has been checked, every place is free, and each is answered once the
// log takes its event (and not before).
func TestVerificationsWaitingForTheAuditLogHoldNoPlace(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	_, signedID, _ := s.seedReplies()
	genuine := s.signedPDF(signedID)
	var checked atomic.Int64
	find := s.verifier.FindIssued
	s.verifier.FindIssued = func(ctx context.Context, binding, sum string) (*verify.Match, error) {
		checked.Add(1) // the register's look-up: the document is being checked, in a place
		return find(ctx, binding, sum)
	}
	ctx := context.Background()
	tx := s.ownerTx(t)
	if _, err := tx.Exec(ctx, "LOCK TABLE audit_events IN EXCLUSIVE MODE"); err != nil { // no event is written until it ends
		t.Fatal(err)
	}
	n := MaxConcurrentVerifications + 2
	codes := make(chan int, n)
	for i := range n {
		go func() {
			resp, err := clientFrom(fmt.Sprintf("127.0.7.%d", 10+i)).Post(s.srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(genuine))
			if err != nil {
				t.Error(err)
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	waitFor(t, func() bool { return checked.Load() == int64(n) }) // every one has had a place: none takes one again
	waitFor(t, func() bool { // each frees its place as its check ends (never, if the wait for the log held it)
		if !s.api.verifySlots.TryAcquire(MaxConcurrentVerifications) {
			return false
		}
		s.api.verifySlots.Release(MaxConcurrentVerifications)
		return true
	})
	select {
	case c := <-codes:
		t.Fatalf("a verification was answered (%d) before its event was written", c)
	case <-time.After(200 * time.Millisecond):
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for range n {
		if c := <-codes; c != 200 {
			t.Errorf("verification answered %d once the log took its event, want 200", c)
		}
	}
	var events int
	if err := s.db.Pool.QueryRow(ctx, "SELECT count(*) FROM audit_events WHERE action = 'verification.check'").Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != n {
		t.Errorf("%d verification events, want %d", events, n)
	}
}

// The verification rate weighs a document by its size, one unit per
// started MiB, and the API and the page share one count.
func TestVerificationRateWeighsSize(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 5})
	three := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 3<<20-100)...) // three started MiB
	post := func(c *http.Client, body []byte) int {
		req, _ := http.NewRequest("POST", s.srv.URL+"/api/v1/verifications", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/pdf")
		req.Header.Set("Expect", "100-continue") // a refused body is then never sent, so the answer is read, not a reset
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	a := clientFrom("127.0.6.1")
	for i, want := range []int{422, 429} { // 3 units, then 3 more would make 6 of 5
		if code := post(a, three); code != want {
			t.Fatalf("3 MiB document %d: %d, want %d", i, code, want)
		}
	}
	for i, want := range []int{422, 422, 429} { // small ones still pass: 3 + 1 + 1, then 6
		if code := post(a, []byte("%PDF-1.7 small")); code != want {
			t.Fatalf("small document %d: %d, want %d", i, code, want)
		}
	}
	// One count for the API and the page.
	shared := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 2})
	_, signedID, _ := shared.seedReplies()
	b := clientFrom("127.0.6.2")
	do := func(path string) int {
		body, ct := fileForm(t, "file", []byte("%PDF-1.7 small"))
		resp, err := b.Post(shared.srv.URL+path, ct, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for i, tt := range []struct {
		path string
		want int
	}{{"/api/v1/verifications", 422}, {"/verify/" + signedID, 422}, {"/api/v1/verifications", 429}} {
		if code := do(tt.path); code != tt.want {
			t.Fatalf("request %d to %s: %d, want %d", i, tt.path, code, tt.want)
		}
	}
}

// Staff entering petitions are identified and accountable: the anonymous
// submission rate does not apply to them.
func TestStaffAreNotHeldToAnonymousBounds(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Submit: 1})
	c := clientFrom("127.0.6.3")
	for i, want := range []int{201, 429} {
		resp, err := c.Post(s.srv.URL+"/api/v1/petitions", "application/json", strings.NewReader(petitionJSON))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("anonymous submission %d: %d, want %d", i, resp.StatusCode, want)
		}
	}
	staffJSON := strings.Replace(petitionJSON, `"category":"official_conduct"`, `"category":"official_conduct","channel":"in_person"`, 1)
	cookie := s.session(s.byRole[access.Official])
	for i := range 3 {
		if resp, b := s.do(request{method: "POST", path: "/api/v1/petitions", body: staffJSON, cookie: cookie}); resp.StatusCode != 201 {
			t.Fatalf("staff submission %d: %d %s", i, resp.StatusCode, b)
		}
	}
}

// A trusted proxy's own address stands for clients whose forwarded address
// was unreadable: it is never exempt, whatever Limits.Exempt says.
func TestTrustedProxyIsNeverExempt(t *testing.T) {
	s := newStack(t, Limits{Login: 2, Public: 1000, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}, netip.MustParsePrefix("127.0.0.0/8"))
	for i, want := range []int{401, 401, 429} {
		resp, _ := s.do(request{method: "POST", path: "/api/v1/auth/login", body: fmt.Sprintf(`{"username":"z%d","password":"y"}`, i),
			header: map[string]string{"X-Forwarded-For": "unknown"}})
		if resp.StatusCode != want {
			t.Fatalf("request %d through the proxy with an unreadable forwarded address: %d, want %d", i, resp.StatusCode, want)
		}
	}
}

// Sign-in failures from addresses rotating inside one /64 are counted for
// one client: the address lock-out and the audit log see one client.
func TestIPv6SignInFailuresCountForThe64(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000}, netip.MustParsePrefix("127.0.0.0/8"))
	codes := map[int]int{}
	for i := range 12 {
		resp, _ := s.do(request{method: "POST", path: "/api/v1/auth/login", body: fmt.Sprintf(`{"username":"guess%d","password":"y"}`, i),
			header: map[string]string{"X-Forwarded-For": fmt.Sprintf("2001:db8:77:1:%x::%x", i*131, i+1)}})
		codes[resp.StatusCode]++
	}
	// The 10th failure starts the address's delay: the next attempts are refused by identity's throttle.
	if codes[401] != 10 || codes[429] != 2 {
		t.Fatalf("answers %v, want 10 failures then 2 refusals", codes)
	}
	var hashes int
	if err := s.db.Pool.QueryRow(context.Background(), `SELECT count(DISTINCT client_hash) FROM audit_events WHERE action = 'auth.login'`).Scan(&hashes); err != nil || hashes != 1 {
		t.Fatalf("%d client hashes in the audit log for one /64 (%v)", hashes, err)
	}
}

// An upload that trickles too slowly to finish its declared length within
// the server's read timeout is stopped once its grace has passed.
func TestUploadsMustKeepPace(t *testing.T) {
	for _, tt := range []struct {
		name    string
		read    int64 // bytes already read
		elapsed time.Duration
		slow    bool
	}{
		{"within the grace", 0, uploadGrace / 2, false},
		{"keeping pace", 6 << 20, 10 * time.Second, false}, // 10 MB in 30 s wants 1.7 MB by 10 s at half pace
		{"trickling", 1 << 10, 10 * time.Second, true},
	} {
		b := &budgetedBody{ReadCloser: io.NopCloser(strings.NewReader("x")), rc: http.NewResponseController(httptest.NewRecorder()),
			budget: &quota.Budget{}, reserved: 10 << 20, window: 30 * time.Second, start: time.Now().Add(-tt.elapsed), read: tt.read}
		_, err := b.Read(make([]byte, 1))
		if (err == errUploadTooSlow) != tt.slow {
			t.Errorf("%s: %v", tt.name, err)
		}
	}
}

// The default per-client rates of SECURITY.md, each from a client of its
// own: lookups (and everything taking a password, a code or a secret) 20 a
// minute, other public requests 300, verifications 60 (small documents,
// one unit each), anonymous submissions 10; the next request is 429 with
// Retry-After.
func TestDefaultRatesPerMinute(t *testing.T) {
	s := newStack(t, DefaultLimits)
	submission := `{"petitioner":{"kind":"individual","name":"Phạm Thu Hà","email":"ha@example.vn"},
		"title":"Giờ làm việc của bộ phận một cửa","body":"Đề nghị mở cửa bộ phận một cửa vào sáng thứ Bảy.","category":"proposal"}`
	for i, tt := range []struct {
		name, method, path, body, contentType string
		perMinute, status                     int
	}{
		{"lookup", "POST", "/api/v1/petitions/lookup", `{"tracking_code":"PAKN-2026-000000","lookup_secret":"wrong"}`, "application/json", 20, 404},
		{"public", "GET", "/api/v1/agencies", "", "", 300, 200},
		{"verification", "POST", "/api/v1/verifications", "%PDF-1.7 small", "application/pdf", 60, 422},
		{"submission", "POST", "/api/v1/petitions", submission, "application/json", 10, 201},
	} {
		t.Run(tt.name, func(t *testing.T) {
			// httprate counts in windows aligned to the minute: a round that
			// crosses into the next one is run again, from a fresh client.
			for round := range 3 {
				window := time.Now().Truncate(time.Minute)
				c := clientFrom(fmt.Sprintf("127.0.7.%d", 10*i+round+1))
				do := func() *http.Response {
					req, _ := http.NewRequest(tt.method, s.srv.URL+tt.path, strings.NewReader(tt.body))
					if tt.contentType != "" {
						req.Header.Set("Content-Type", tt.contentType)
					}
					resp, err := c.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					return resp
				}
				statuses := make([]int, 0, tt.perMinute+1)
				var last *http.Response
				for range tt.perMinute + 1 {
					last = do()
					statuses = append(statuses, last.StatusCode)
				}
				if !time.Now().Truncate(time.Minute).Equal(window) {
					continue // the round crossed a minute: not a fair count
				}
				for n, code := range statuses[:tt.perMinute] {
					if code != tt.status {
						t.Fatalf("request %d of %d: %d, want %d", n+1, tt.perMinute, code, tt.status)
					}
				}
				if last.StatusCode != 429 || last.Header.Get("Retry-After") == "" {
					t.Fatalf("request %d: %d (Retry-After %q), want 429 with Retry-After", tt.perMinute+1, last.StatusCode, last.Header.Get("Retry-After"))
				}
				return
			}
			t.Fatal("three rounds each crossed a minute")
		})
	}
}

// Documents of up to 1 MiB are verified at most 16 at once (SECURITY.md):
// with sixteen verifications held inside the verifier, eight more wait for
// a place; released, all 24 are answered.
func TestSixteenSmallVerificationsAtOnce(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	_, signedID, _ := s.seedReplies()
	doc := s.signedPDF(signedID)
	if len(doc) > 1<<20 {
		t.Fatalf("the reply is %d bytes: not a small document", len(doc))
	}
	var inside atomic.Int32
	release := make(chan struct{})
	find := s.verifier.FindIssued
	s.verifier.FindIssued = func(ctx context.Context, binding, sum string) (*verify.Match, error) {
		inside.Add(1)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return find(ctx, binding, sum)
	}
	// Requests are counted as they arrive, so the sample is taken once all
	// of them are in.
	var arrived atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		s.api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	const n = 24
	statuses := make(chan int, n)
	for range n {
		go func() {
			resp, err := http.Post(srv.URL+"/api/v1/verifications", "application/pdf", bytes.NewReader(doc))
			if err != nil {
				statuses <- 0
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); inside.Load() < 16 || arrived.Load() < n; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			close(release)
			t.Fatalf("only %d verifications started, %d requests arrived", inside.Load(), arrived.Load())
		}
	}
	time.Sleep(300 * time.Millisecond) // time for the last arrivals' small bodies to be read, and the requests held back
	held := inside.Load()
	close(release)
	if held != 16 {
		t.Fatalf("%d verifications ran at once, want 16", held)
	}
	for range n {
		if code := <-statuses; code != 200 {
			t.Fatalf("a verification answered %d, want 200", code)
		}
	}
	if got := inside.Load(); got != n {
		t.Fatalf("%d verifications ran, want %d", got, n)
	}
}

// The petition page's form is read within bounds: a text field of at most
// 64 KiB, 1 MiB of text in all, 64 fields; each refusal is a page.
func TestPetitionFormIsBounded(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Submit: 1000, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	form := func(fields map[string]string, extra int) (string, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for k, v := range fields {
			_ = w.WriteField(k, v)
		}
		for i := range extra {
			_ = w.WriteField(fmt.Sprintf("x%d", i), "y")
		}
		_ = w.Close()
		return b.String(), w.FormDataContentType()
	}
	many := map[string]string{}
	for i := range 20 {
		many[fmt.Sprintf("f%d", i)] = strings.Repeat("a", 60<<10)
	}
	for _, tt := range []struct {
		name   string
		fields map[string]string
		extra  int
		want   int
	}{
		{"a field over 64 KiB", map[string]string{"body": strings.Repeat("a", 65<<10)}, 0, 413},
		{"over 1 MiB of text", many, 0, 413},
		{"65 fields", nil, 65, 422},
	} {
		body, ct := form(tt.fields, tt.extra)
		resp, page := s.do(request{method: "POST", path: "/submit", body: body, contentType: ct})
		if resp.StatusCode != tt.want || !strings.Contains(page, "<!doctype html>") {
			t.Errorf("%s: %d %.200s", tt.name, resp.StatusCode, page)
		}
	}
}

// A petition form refused for its words or a missing consent is refused
// before its attachments are read, so it spends none of the client's daily
// volume: two refused forms with 8 MiB each, then the same form made right,
// fit a day of 10 MiB.
func TestRefusedFormSpendsNoAttachmentBytes(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Submit: 1000, DailyAttachmentBytes: 10 << 20})
	scan := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), 8<<20)...)
	send := func(consent bool) (int, string) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		for _, kv := range [][2]string{{"petitioner.kind", "individual"}, {"petitioner.name", "Phạm Thu Hà"}, {"petitioner.email", "ha@example.vn"},
			{"title", "Bản vẽ thiết kế"}, {"body", "Bản vẽ thiết kế kèm theo cho thấy lối đi chung bị lấn chiếm."}, {"category", "other"}} {
			_ = w.WriteField(kv[0], kv[1])
		}
		if consent {
			_ = w.WriteField("consent", "yes")
		}
		f, _ := w.CreateFormFile("attachments", "ban-ve.pdf")
		_, _ = f.Write(scan)
		_ = w.Close()
		resp, page := s.do(request{method: "POST", path: "/submit", body: b.String(), contentType: w.FormDataContentType()})
		return resp.StatusCode, page
	}
	for i := range 2 {
		if code, page := send(false); code != 422 || !strings.Contains(page, html.EscapeString(msg.ConsentRequired.VI())) {
			t.Fatalf("refused form %d: %d", i, code)
		}
	}
	if code, page := send(true); code != 201 || !strings.Contains(page, "tracking-code") {
		t.Fatalf("the form made right, after two refusals: %d %.300s", code, page)
	}
}
