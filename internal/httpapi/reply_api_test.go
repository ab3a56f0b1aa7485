package httpapi

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"pakn/internal/access"
	"pakn/internal/pdftest"
	"pakn/internal/vault"
	"pakn/internal/verify"
)

// caCert reads one of the bootstrapped CA certificates from certs/.
func (s *stack) caCert(file string) *x509.Certificate {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.certs, file))
	if err != nil {
		s.t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		s.t.Fatal(err)
	}
	return c
}

func (s *stack) rootCA() *x509.Certificate { return s.caCert(vault.RootCAFile) }

func TestReplyOverHTTP(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000})
	draftID, signedID, rc := s.seedReplies()
	official, reviewer, signer := s.session(s.byRole[access.Official]), s.session(s.byRole[access.Reviewer]), s.session(s.byRole[access.Signer])

	// Review and sign the draft over HTTP; signing twice gives one document.
	resp, body := s.do(request{method: "POST", path: "/api/v1/replies/" + draftID + "/approve", body: "{}", cookie: reviewer})
	if resp.StatusCode != 200 || !strings.Contains(body, `"status":"approved"`) {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	var first, second struct {
		Document struct {
			SHA256 string `json:"sha256"`
			Number string `json:"number"`
		} `json:"document"`
	}
	resp, body = s.do(request{method: "POST", path: "/api/v1/replies/" + draftID + "/sign", body: "{}", cookie: signer})
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &first) != nil || first.Document.Number != "2/STP-HN-PAKN" {
		t.Fatalf("sign: %d %s", resp.StatusCode, body)
	}
	_, body = s.do(request{method: "POST", path: "/api/v1/replies/" + draftID + "/sign", body: "{}", cookie: signer})
	if json.Unmarshal([]byte(body), &second) != nil || second.Document.SHA256 != first.Document.SHA256 {
		t.Fatalf("second signing gave another document: %s", body)
	}
	resp, pdf := s.do(request{method: "GET", path: "/api/v1/replies/" + draftID + "/pdf", cookie: official})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || resp.Header.Get("X-Content-SHA256") != first.Document.SHA256 {
		t.Fatalf("download: %d %v", resp.StatusCode, resp.Header)
	}
	pdftest.RequireValid(t, []byte(pdf), s.rootCA())
	text := pdftest.Text(t, []byte(pdf))
	if !strings.Contains(text, "Nguyễn Thị Hồng Nhung, phường Điện Biên, quận Ba Đình") {
		t.Fatalf("Vietnamese text lost: %s", text)
	}
	// A reply becomes public: the petitioner's name and address as the letter
	// is addressed, never their email, phone or identity number.
	for _, private := range []string{"nhung@example.vn", "0912345678", "001190012345"} {
		if strings.Contains(strings.ReplaceAll(text, " ", ""), private) {
			t.Fatalf("the reply prints %q", private)
		}
	}

	// The petitioner with code and secret; the public register once published.
	resp, got := s.do(request{method: "POST", path: "/api/v1/petitions/reply",
		body: `{"tracking_code":"` + rc.TrackingCode + `","lookup_secret":"` + rc.LookupSecret + `"}`})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("petitioner download: %d %s", resp.StatusCode, got[:min(len(got), 300)])
	}
	pdftest.RequireValid(t, []byte(got), s.rootCA())
	resp, _ = s.do(request{method: "POST", path: "/api/v1/petitions/reply", body: `{"tracking_code":"` + rc.TrackingCode + `","lookup_secret":"X"}`})
	if resp.StatusCode != 404 {
		t.Fatalf("wrong secret: %d", resp.StatusCode)
	}
	// The public register serves the public version: signed too, addressed to
	// "Người phản ánh", naming nobody; it verifies as the same reply.
	resp, pub := s.do(request{method: "GET", path: "/api/v1/register/replies/" + signedID + "/pdf"})
	if resp.StatusCode != 200 || pub == got || resp.Header.Get("X-Content-SHA256") == "" {
		t.Fatalf("public register: %d (the personal version: %v)", resp.StatusCode, pub == got)
	}
	pdftest.RequireValid(t, []byte(pub), s.rootCA())
	if text := pdftest.Text(t, []byte(pub)); !strings.Contains(text, "Người phản ánh") || strings.Contains(text, "Nguyễn Thị Hồng Nhung") ||
		strings.Contains(text, "Điện Biên") {
		t.Fatalf("the public version names the petitioner: %s", text)
	}
	if vresp, rep := s.verify([]byte(pub)); vresp.StatusCode != 200 || rep.Indication != verify.TotalPassed || rep.Register == nil ||
		rep.Register.ReplyID != signedID {
		t.Fatalf("the public version verifies as %d %s %+v", vresp.StatusCode, rep.Indication, rep.Register)
	}
	resp, _ = s.do(request{method: "GET", path: "/api/v1/register/replies/" + draftID + "/pdf"})
	if resp.StatusCode != 404 {
		t.Fatalf("an unpublished reply is public: %d", resp.StatusCode)
	}
	// Its register entry says it was issued, and no more: no number, signer or petition.
	resp, entry := s.do(request{method: "GET", path: "/api/v1/register/replies/" + draftID})
	if resp.StatusCode != 200 || !strings.Contains(entry, `"published":false`) || strings.Contains(entry, first.Document.Number) ||
		!strings.Contains(entry, `"number":""`) || !strings.Contains(entry, `"signer_name":""`) || !strings.Contains(entry, `"tracking_code":""`) ||
		!strings.Contains(entry, first.Document.SHA256) {
		t.Fatalf("an unpublished reply's entry: %d %s", resp.StatusCode, entry)
	}
}

func TestSignWithVaultSealedAnswers503(t *testing.T) {
	s := newStack(t, Limits{Login: 1000, Public: 1000})
	draftID, _, _ := s.seedReplies()
	resp, body := s.do(request{method: "POST", path: "/api/v1/replies/" + draftID + "/approve", body: "{}", cookie: s.session(s.byRole[access.Reviewer])})
	if resp.StatusCode != 200 {
		t.Fatalf("approve: %d %s", resp.StatusCode, body)
	}
	if err := s.vault.Root().Sys().Seal(); err != nil {
		t.Fatal(err)
	}
	resp, body = s.do(request{method: "POST", path: "/api/v1/replies/" + draftID + "/sign", body: "{}", cookie: s.session(s.byRole[access.Signer])})
	if resp.StatusCode != 503 || resp.Header.Get("Content-Type") != "application/problem+json" || !strings.Contains(body, "try again") {
		t.Fatalf("sign with Vault sealed: %d %s", resp.StatusCode, body)
	}
	s.vault.Restart()
	resp, body = s.do(request{method: "POST", path: "/api/v1/replies/" + draftID + "/sign", body: "{}", cookie: s.session(s.byRole[access.Signer])})
	if resp.StatusCode != 200 || !strings.Contains(body, `"status":"signed"`) {
		t.Fatalf("retry after unsealing: %d %s", resp.StatusCode, body)
	}
}
