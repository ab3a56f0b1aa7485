package replies_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/deadline"
	"pakn/internal/pdftest"
	"pakn/internal/petition"
	"pakn/internal/petitions"
	"pakn/internal/register"
	"pakn/internal/reply"
	"pakn/internal/servicetest"
	"pakn/internal/verify"
)

// A petition's receipt is signed once, with the receiving agency's own key,
// at the first request (two racing first requests give one receipt); it
// states the tracking code, the time of receipt, the due date and the
// SHA-256 of the words and of each file, holds no personal data, passes
// pdfsig, and the register knows it as a receipt.
func TestReceiptIsSignedOnceByTheReceivingAgency(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	sub := servicetest.Submission()
	file := []byte("%PDF-1.7 giấy tờ kèm theo")
	rc, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", sub, []petitions.FileIn{{Name: "giay-to.pdf", Content: bytes.NewReader(file)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.Replies.ReceiptPDF(ctx, e.M, rc.TrackingCode, "WRONGSECRETWRONGSECRETWRON")
	servicetest.WantCode(t, err, apperr.NotFound)

	var wg sync.WaitGroup
	got := make([]*petition.SignedReceipt, 2)
	for i := range got {
		wg.Go(func() {
			r, err := e.Replies.ReceiptPDF(ctx, e.M, rc.TrackingCode, rc.LookupSecret)
			if err != nil {
				t.Error(err)
			}
			got[i] = r
		})
	}
	wg.Wait()
	if t.Failed() || !bytes.Equal(got[0].PDF, got[1].PDF) || got[0].Agency != "STP-HN" {
		t.Fatal("two first requests gave two receipts, or none")
	}
	r := got[0]
	if n := e.Count(t, "SELECT count(*) FROM audit_events WHERE action = 'receipt.sign' AND object_id = $1", r.ID); n != 1 {
		t.Fatalf("%d receipt.sign events, want 1", n)
	}
	if n := e.Count(t, "SELECT count(*) FROM audit_events WHERE action = 'receipt.download' AND outcome = 'success'"); n != 2 {
		t.Fatalf("%d receipt.download events, want 2", n)
	}
	if out := os.Getenv("PAKN_KEEP_RECEIPT"); out != "" { // to look at it: pdftoppm -png $PAKN_KEEP_RECEIPT
		_ = os.WriteFile(out, r.PDF, 0o600)
	}
	pdftest.RequireValid(t, r.PDF, e.Root)
	text := strings.Join(strings.Fields(pdftest.Text(t, r.PDF)), " ")
	for _, want := range []string{rc.TrackingCode, grouped(petition.ContentSHA256(sub.Title, sub.Body)), "giay-to.pdf", grouped(sha256Hex(file)),
		"Sở Tư pháp thành phố Hà Nội", "CƠ QUAN TIẾP NHẬN"} {
		if !strings.Contains(text, want) {
			t.Errorf("the receipt lacks %q:\n%s", want, text)
		}
	}
	for _, private := range []string{sub.Petitioner.Name, sub.Petitioner.Email, sub.Petitioner.Phone, sub.Petitioner.IdentityNumber} {
		if strings.Contains(text, private) {
			t.Errorf("the receipt prints personal data %q", private)
		}
	}
	// The verifier, with the register, knows it as this petition's receipt.
	roots := x509.NewCertPool()
	roots.AddCert(e.Root)
	v := &verify.Verifier{Roots: roots, CRL: e.VC.IssuerCRLs(0),
		FindIssued: register.Finder(e.DB.Stores(nil).Replies)}
	rep := v.Verify(ctx, r.PDF)
	if rep.Indication != verify.TotalPassed || rep.Register == nil || rep.Register.Kind != reply.KindReceipt ||
		rep.Register.TrackingCode != rc.TrackingCode || !strings.Contains(rep.SummaryEN, "receipt of petition "+rc.TrackingCode) {
		t.Fatalf("verification of the receipt: %s %+v", rep.Text(), rep.Register)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// grouped is a hash as the receipt prints it: groups of eight digits.
func grouped(h string) string {
	var parts []string
	for i := 0; i < len(h); i += 8 {
		parts = append(parts, h[i:i+8])
	}
	return strings.Join(parts, " ")
}

// The public register lists published replies only, newest first, found by
// words typed with or without diacritics and by its filters, and shows
// nothing personal.
func TestPublicRegisterLists(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	official := servicetest.Staff("STP-HN", access.Official)
	var ids []string
	for i := range 2 {
		pid, r, _ := e.Approved(t)
		if _, err := e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID); err != nil {
			t.Fatal(err)
		}
		if i == 0 { // the second stays signed but unpublished
			if err := e.Replies.Transition(ctx, e.M, official, pid, petition.Publish, petitions.TransitionInput{}); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, r.ID)
	}
	reg, err := register.New(register.Config{Stores: e.Stores})
	if err != nil {
		t.Fatal(err)
	}
	day := e.Clock.Now().In(deadline.ICT)
	for _, tt := range []struct {
		name string
		q    reply.RegisterQuery
		want int
	}{
		{"everything", reply.RegisterQuery{}, 1},
		{"words without diacritics", reply.RegisterQuery{Query: "ho kinh doanh"}, 1},
		{"words with diacritics", reply.RegisterQuery{Query: "Hộ kinh doanh"}, 1},
		{"the number", reply.RegisterQuery{Query: "1/STP-HN-PAKN"}, 1},
		{"other words", reply.RegisterQuery{Query: "xây dựng cầu đường"}, 0},
		{"the agency", reply.RegisterQuery{Agency: "STP-HN"}, 1},
		{"another agency", reply.RegisterQuery{Agency: "UBND-BD"}, 0},
		{"the category", reply.RegisterQuery{Category: petition.CatRegulation}, 1},
		{"another outcome", reply.RegisterQuery{Outcome: reply.Accepted}, 0},
		{"the day it was signed", reply.RegisterQuery{From: day.Truncate(24 * time.Hour).Add(-7 * time.Hour), To: day.Add(24 * time.Hour)}, 1},
		{"later", reply.RegisterQuery{From: day.Add(48 * time.Hour)}, 0},
	} {
		list, total, err := reg.List(ctx, tt.q)
		if err != nil || total != tt.want || len(list) != tt.want {
			t.Errorf("%s: %d listed of %d (%v), want %d", tt.name, len(list), total, err, tt.want)
			continue
		}
		if tt.want == 1 && (list[0].ReplyID != ids[0] || list[0].Summary != servicetest.ReplyContent().Summary || list[0].AgencyName == "") {
			t.Errorf("%s: %+v", tt.name, list[0])
		}
	}
	if list, total, err := reg.List(ctx, reply.RegisterQuery{Limit: 1, Offset: 1}); err != nil || total != 1 || len(list) != 0 {
		t.Errorf("the second page: %d of %d (%v)", len(list), total, err)
	}
	_, _, err = reg.List(ctx, reply.RegisterQuery{Limit: register.MaxListed + 1})
	servicetest.WantCode(t, err, apperr.Invalid)
	p, err := reg.PublishedReply(ctx, ids[0])
	if err != nil || p.Content.Answer != servicetest.ReplyContent().Answer || p.Entry.PublicSHA256 == "" {
		t.Fatalf("the published reply's page: %+v %v", p, err)
	}
	_, err = reg.PublishedReply(ctx, ids[1])
	servicetest.WantCode(t, err, apperr.NotFound)
}
