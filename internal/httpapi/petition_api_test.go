package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/textproto"
	"sort"
	"strings"
	"testing"

	"pakn/internal/access"
)

func TestOpenAPIDocumentMatchesRouter(t *testing.T) {
	s := newStack(t, DefaultLimits)
	resp, body := s.do(request{method: "GET", path: "/api/v1/openapi.json"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("openapi.json: %d", resp.StatusCode)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi version %q", doc.OpenAPI)
	}
	inDoc := map[string]bool{}
	for path, ops := range doc.Paths {
		if isPage(path) {
			continue
		}
		for method, raw := range ops {
			inDoc[strings.ToUpper(method)+" "+path] = true
			var o struct {
				Responses map[string]json.RawMessage `json:"responses"`
			}
			if err := json.Unmarshal(raw, &o); err != nil || len(o.Responses) == 0 {
				t.Errorf("%s %s has no responses", method, path)
			}
		}
	}
	inRouter := map[string]bool{}
	for _, r := range s.api.Routes() {
		if isPage(r[1]) {
			continue // the website's pages are for people, not part of the API
		}
		inRouter[r[0]+" "+r[1]] = true
	}
	var missing, extra []string
	for k := range inRouter {
		if !inDoc[k] {
			missing = append(missing, k)
		}
	}
	for k := range inDoc {
		if !inRouter[k] {
			extra = append(extra, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Fatalf("routes missing from the OpenAPI document: %v\ndocumented routes the router lacks: %v", missing, extra)
	}
}

const petitionJSON = `{"petitioner":{"kind":"individual","name":"Nguyễn Thị Hồng Nhung","email":"nhung@example.vn","phone":"0912345678",
"address":"phường Điện Biên, quận Ba Đình"},"title":"Thủ tục cấp giấy phép xây dựng kéo dài",
"body":"Hồ sơ xin cấp giấy phép xây dựng nộp từ tháng trước nhưng chưa có phản hồi, đề nghị xem xét.","category":"official_conduct"}`

func multipartBody(t *testing.T, petitionPart string, files map[string][]byte) (string, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="petition"`)
	h.Set("Content-Type", "application/json")
	pw, _ := w.CreatePart(h)
	_, _ = pw.Write([]byte(petitionPart))
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fw, _ := w.CreateFormFile("attachments", n)
		_, _ = fw.Write(files[n])
	}
	_ = w.Close()
	return b.String(), w.FormDataContentType()
}

// Submissions over their limits, of the wrong type, with invalid fields or
// a spoofed attachment are refused with the field named.
func TestSubmissionRefusalsOverHTTP(t *testing.T) {
	s := newStack(t, DefaultLimits)

	// Body limits: 1 MiB on ordinary routes (this stack), more only for submissions.
	big := `{"username":"` + strings.Repeat("a", 2<<20) + `"}`
	if resp, _ := s.do(request{method: "POST", path: "/api/v1/auth/login", body: big}); resp.StatusCode != 413 {
		t.Fatalf("2 MiB login body: %d, want 413", resp.StatusCode)
	}
	if resp, _ := s.do(request{method: "POST", path: "/api/v1/petitions/lookup", body: big}); resp.StatusCode != 413 {
		t.Fatalf("2 MiB lookup body: %d, want 413", resp.StatusCode)
	}
	mpBig, ctBig := multipartBody(t, petitionJSON, map[string][]byte{"scan.pdf": append([]byte("%PDF-1.4\n"), make([]byte, 10<<20)...)})
	if resp, body := s.do(request{method: "POST", path: "/api/v1/petitions", body: mpBig, contentType: ctBig}); resp.StatusCode != 413 || !strings.Contains(body, "attachments[0]") {
		t.Fatalf("a 10 MiB + 9 B attachment: %d %s, want 413 naming the field", resp.StatusCode, body)
	}

	// Refusals: wrong type, invalid fields, a spoofed attachment.
	if resp, _ := s.do(request{method: "POST", path: "/api/v1/petitions", body: "title=x", contentType: "text/plain"}); resp.StatusCode != 415 {
		t.Fatalf("text/plain: %d", resp.StatusCode)
	}
	resp, body := s.do(request{method: "POST", path: "/api/v1/petitions", body: `{"petitioner":{"kind":"individual"},"title":"","body":"","category":"x"}`})
	var p Problem
	_ = json.Unmarshal([]byte(body), &p)
	if resp.StatusCode != 422 || len(p.Errors) < 4 || p.Errors[0].VI == "" || p.Errors[0].EN == "" {
		t.Fatalf("invalid fields: %d %s", resp.StatusCode, body)
	}
	mp, ct := multipartBody(t, petitionJSON, map[string][]byte{"hoa-don.pdf": append([]byte("MZ\x90\x00"), make([]byte, 300)...)})
	resp, body = s.do(request{method: "POST", path: "/api/v1/petitions", body: mp, contentType: ct})
	if resp.StatusCode != 415 || !strings.Contains(body, "attachments[0]") {
		t.Fatalf("executable named .pdf: %d %s", resp.StatusCode, body)
	}
}

// staffWorkOnPetition has an official of the City People's Committee find
// the petition submitted without diacritics, read it and its attachment,
// and move it (409 for a transition its state does not allow); another
// agency's official gets 404.
func (s *stack) staffWorkOnPetition(t *testing.T) {
	t.Helper()
	official := s.account("official-hn", "UBND-HN", access.Official)
	cookie := s.session(official)
	resp, body := s.do(request{method: "GET", path: "/api/v1/petitions?q=giay+phep+xay+dung&state=received", cookie: cookie})
	if resp.StatusCode != 200 || !strings.Contains(body, `"total":1`) {
		t.Fatalf("search: %d %s", resp.StatusCode, body)
	}
	var list struct {
		Petitions []struct{ ID string } `json:"petitions"`
	}
	_ = json.Unmarshal([]byte(body), &list)
	id := list.Petitions[0].ID
	resp, body = s.do(request{method: "GET", path: "/api/v1/petitions/" + id, cookie: cookie})
	if resp.StatusCode != 200 || !strings.Contains(body, "nhung@example.vn") || !strings.Contains(body, `"allowed_transitions":["accept","reject"]`) {
		t.Fatalf("detail: %d %s", resp.StatusCode, body)
	}
	var det struct {
		Attachments []struct{ ID, Name, MediaType string } `json:"attachments"`
	}
	_ = json.Unmarshal([]byte(body), &det)
	if len(det.Attachments) != 2 {
		t.Fatalf("attachments %+v", det.Attachments)
	}
	pdfID := det.Attachments[0].ID
	if det.Attachments[1].Name == "đơn.pdf" {
		pdfID = det.Attachments[1].ID
	}
	resp, body = s.do(request{method: "GET", path: "/api/v1/petitions/" + id + "/attachments/" + pdfID, cookie: cookie})
	if resp.StatusCode != 200 || body != "%PDF-1.7 đơn kiến nghị" || resp.Header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	resp, body = s.do(request{method: "POST", path: "/api/v1/petitions/" + id + "/transitions", body: `{"transition":"publish"}`, cookie: cookie})
	if resp.StatusCode != 409 || !strings.Contains(body, `"state":"received"`) || !strings.Contains(body, `"allowed_transitions":["accept","reject"]`) {
		t.Fatalf("invalid transition: %d %s", resp.StatusCode, body)
	}
	if resp, body := s.do(request{method: "POST", path: "/api/v1/petitions/" + id + "/transitions", body: `{"transition":"accept"}`, cookie: cookie}); resp.StatusCode != 204 {
		t.Fatalf("accept: %d %s", resp.StatusCode, body)
	}
	// Another agency's official gets 404 on the same id.
	other := s.session(s.byRole[access.Official]) // STP-HN
	if resp, _ := s.do(request{method: "GET", path: "/api/v1/petitions/" + id, cookie: other}); resp.StatusCode != 404 {
		t.Fatalf("another agency read the petition: %d", resp.StatusCode)
	}

}

func TestPetitionOverHTTP(t *testing.T) {
	s := newStack(t, DefaultLimits)

	// A real submission with attachments, retried with the same key.
	mp, ct := multipartBody(t, petitionJSON, map[string][]byte{"đơn.pdf": []byte("%PDF-1.7 đơn kiến nghị"), "ảnh.jpg": {0xFF, 0xD8, 0xFF, 0xE0, 1, 2}})
	key := map[string]string{"Idempotency-Key": "form-42"}
	resp, body := s.do(request{method: "POST", path: "/api/v1/petitions", body: mp, contentType: ct, header: key})
	if resp.StatusCode != 201 {
		t.Fatalf("submit: %d %s", resp.StatusCode, body)
	}
	var receipt struct {
		TrackingCode string `json:"tracking_code"`
		LookupSecret string `json:"lookup_secret"`
		Agency       string `json:"agency"`
	}
	if err := json.Unmarshal([]byte(body), &receipt); err != nil {
		t.Fatal(err)
	}
	resp2, body2 := s.do(request{method: "POST", path: "/api/v1/petitions", body: mp, contentType: ct, header: key})
	if resp2.StatusCode != 201 || resp2.Header.Get("Idempotent-Replayed") != "true" || body2 != body {
		t.Fatalf("retry: %d %s", resp2.StatusCode, body2)
	}
	if receipt.Agency != "UBND-HN" {
		t.Fatalf("official conduct routed to %s, want the City People's Committee", receipt.Agency)
	}

	// The petitioner follows it; no personal data in the answer.
	resp, body = s.do(request{method: "POST", path: "/api/v1/petitions/lookup",
		body: `{"tracking_code":"` + strings.ToLower(receipt.TrackingCode) + `","lookup_secret":"` + receipt.LookupSecret + `"}`})
	if resp.StatusCode != 200 || !strings.Contains(body, `"state":"received"`) {
		t.Fatalf("lookup: %d %s", resp.StatusCode, body)
	}
	for _, pii := range []string{"Nhung", "nhung@example.vn", "0912345678", "Điện Biên"} {
		if strings.Contains(body, pii) {
			t.Fatalf("the public lookup shows %q", pii)
		}
	}

	s.staffWorkOnPetition(t)

	// Nothing personal reached the logs (at every level), nor the client's
	// address (127.0.0.1 here) the logs or the audit rows, which hold it
	// only as a keyed hash.
	for _, pii := range []string{"Nhung", "nhung@example.vn", "0912345678", receipt.LookupSecret, receipt.TrackingCode, "127.0.0.1"} {
		if strings.Contains(s.logs.String(), pii) {
			t.Fatalf("the logs contain %q", pii)
		}
	}
	var rows, withAddr int
	if err := s.db.Pool.QueryRow(context.Background(), `SELECT count(*), count(*) FILTER (WHERE e::text LIKE '%127.0.0.1%')
		FROM audit_events e`).Scan(&rows, &withAddr); err != nil || rows == 0 || withAddr != 0 {
		t.Fatalf("%d of %d audit rows hold the client's raw address (%v)", withAddr, rows, err)
	}
	resp, body = s.do(request{method: "GET", path: "/api/v1/calendar/holidays?year=2026"})
	if resp.StatusCode != 200 || !strings.Contains(body, `"2026-02-17"`) || !strings.Contains(body, "Tết Nguyên đán") {
		t.Fatalf("holidays: %d %s", resp.StatusCode, body)
	}
	if resp, body := s.do(request{method: "GET", path: "/api/v1/petitions/reject-reasons"}); resp.StatusCode != 200 || !strings.Contains(body, "insufficient_information") {
		t.Fatalf("reject reasons: %d %s", resp.StatusCode, body)
	}
}
