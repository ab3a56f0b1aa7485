package httpapi

import (
	"crypto"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"pakn/internal/pdftest"
	"pakn/internal/tsa"
	"pakn/internal/verify"
)

// A reply signed now, checked three years later (the verifier's clock
// moved on; the signer's one-year certificate long expired): the API and
// the verification page both say genuine, the page naming the proven time
// and the document time-stamp.
func TestReplyVerifiesThreeYearsLater(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000, Verify: 100000})
	_, signedID, _ := s.seedReplies()
	doc := s.signedPDF(signedID)
	later := time.Now().AddDate(3, 0, 0)
	s.verifier.Now = func() time.Time { return later }
	resp, rep := s.verify(doc)
	if resp.StatusCode != 200 || rep.Indication != verify.TotalPassed || !rep.VerifiedAt.After(time.Now().AddDate(2, 11, 0)) ||
		rep.Signatures[0].Signer.NotAfter.After(later) || rep.Signatures[0].TimestampTime == nil {
		t.Fatalf("three years later over the API: %d %s", resp.StatusCode, rep.Text())
	}
	form, formType := fileForm(t, "file", doc)
	resp, page := s.do(request{method: "POST", path: "/verify", body: form, contentType: formType})
	if resp.StatusCode != 200 || !strings.Contains(page, `class="verdict ok"`) || !strings.Contains(page, "Thời điểm được chứng thực") ||
		!strings.Contains(page, "Dấu thời gian của văn bản, do") {
		t.Fatalf("three years later on the page: %d\n%s", resp.StatusCode, page)
	}
}

// POST /api/v1/tsa: pakn's authority for other agencies, RFC 3161 over
// HTTP; the token verifies with openssl against pakn's root, carries the
// service policy (never the issuance one), and is audited; a request the
// authority refuses gets a rejection, also audited; a body of another type
// is refused.
func TestTimeStampEndpoint(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000})
	sum := sha256.Sum256([]byte("a document of another agency"))
	q, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA256, HashedMessage: sum[:], Certificates: true}).Marshal()
	resp, body := s.do(request{method: "POST", path: "/api/v1/tsa", body: string(q), contentType: "application/timestamp-query"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/timestamp-reply" {
		t.Fatalf("time-stamp: %d %s", resp.StatusCode, body)
	}
	ts, err := timestamp.ParseResponse([]byte(body))
	if err != nil || !ts.Policy.Equal(tsa.Service(nil)) || time.Since(ts.Time) > time.Minute {
		t.Fatalf("token: %v, policy %v", err, ts.Policy)
	}
	pdftest.OpenSSLTSVerify(t, ts.RawToken, "-digest", hex.EncodeToString(sum[:]), s.rootCA())
	bad, _ := (&timestamp.Request{HashAlgorithm: crypto.SHA1, HashedMessage: sum[:20]}).Marshal()
	resp, body = s.do(request{method: "POST", path: "/api/v1/tsa", body: string(bad), contentType: "application/timestamp-query"})
	if _, err := timestamp.ParseResponse([]byte(body)); resp.StatusCode != 200 || err == nil || !strings.Contains(err.Error(), "rejected") {
		t.Fatalf("a SHA-1 request: %d, %v", resp.StatusCode, err)
	}
	if resp, _ := s.do(request{method: "POST", path: "/api/v1/tsa", body: string(q), contentType: "application/json"}); resp.StatusCode != 415 {
		t.Fatalf("another media type: %d", resp.StatusCode)
	}
	rows, err := s.db.Pool.Query(t.Context(), `SELECT outcome, details FROM audit_events WHERE action = 'tsa.stamp' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var outcome string
		var details json.RawMessage
		if err := rows.Scan(&outcome, &details); err != nil {
			t.Fatal(err)
		}
		got = append(got, outcome)
		if outcome == "success" && !strings.Contains(string(details), hex.EncodeToString(sum[:])) {
			t.Errorf("the audit event lacks the imprint: %s", details)
		}
	}
	if strings.Join(got, ",") != "success,failure" {
		t.Fatalf("audit events: %v", got)
	}
}
