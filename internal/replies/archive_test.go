package replies_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"testing"
	"time"

	"pakn/internal/access"
	"pakn/internal/pdftest"
	"pakn/internal/register"
	"pakn/internal/servicetest"
	"pakn/internal/tsa"
	"pakn/internal/verify"
)

// pakn archive-timestamp: a signed reply (both versions) and a receipt
// whose newest time-stamp's certificate ends within the window get a new
// version, the old one as its prefix, with a document time-stamp over it;
// both versions verify and the register finds the new one by the same
// binding; a second run within a shorter window renews nothing.
func TestArchiveTimestamps(t *testing.T) {
	e := servicetest.New(t)
	ctx := context.Background()
	_, r, receipt := e.Approved(t)
	if _, err := e.Replies.SignReply(ctx, e.M, e.Signer(), r.ID); err != nil {
		t.Fatal(err)
	}
	signedReceipt, err := e.Replies.ReceiptPDF(ctx, e.M, receipt.TrackingCode, receipt.LookupSecret)
	if err != nil {
		t.Fatal(err)
	}
	staff := servicetest.Staff("STP-HN", access.Official)
	var before []byte
	_, before, err = e.Replies.ReplyPDF(ctx, e.M, staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	operator := access.Principal{Kind: access.Operator, ID: "ops", Name: "ops"}
	// Every time-stamp certificate (two years) ends within three years: everything is renewed.
	rep, err := e.Replies.ArchiveTimestamps(ctx, e.M, operator, 3*365*24*time.Hour, 0, 100)
	if err != nil || rep.Renewed != 3 || rep.Checked != 3 {
		t.Fatalf("archive: %+v, %v (want the reply's two versions and the receipt)", rep, err)
	}
	_, after, err := e.Replies.ReplyPDF(ctx, e.M, staff, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(after, before) || len(after) <= len(before) {
		t.Fatal("the new version is not an incremental update of the one before")
	}
	roots := x509.NewCertPool()
	roots.AddCert(e.Root)
	v := &verify.Verifier{Roots: roots, CRL: e.VC.IssuerCRLs(0), FindIssued: register.Finder(e.DB.Stores(nil).Replies), IssuancePolicy: tsa.Issuance(nil)}
	for name, doc := range map[string][]byte{"the version before": before, "the archived version": after} {
		if rep := v.Verify(ctx, doc); rep.Indication != verify.TotalPassed || rep.Register == nil || rep.Register.ReplyID != r.ID {
			t.Fatalf("%s: %s", name, rep.Text())
		}
	}
	if rep := v.Verify(ctx, after); len(rep.Signatures) != 3 || rep.Signatures[2].SubFilter != verify.SubFilterDocTimeStamp {
		t.Fatalf("the archived version: %d signatures", len(rep.Signatures))
	}
	pdftest.QPDFCheck(t, after)
	var events, versions int
	if err := e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_events WHERE action = 'document.archive_timestamp'`).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if err := e.DB.Pool.QueryRow(ctx, `SELECT count(*) FROM document_versions`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if events != 3 || versions != 3 {
		t.Fatalf("%d audit events, %d versions stored; want 3 of each", events, versions)
	}
	renewedReceipt, err := e.Replies.ReceiptPDF(ctx, e.M, receipt.TrackingCode, receipt.LookupSecret)
	if err != nil || !bytes.HasPrefix(renewedReceipt.PDF, signedReceipt.PDF) || len(renewedReceipt.PDF) == len(signedReceipt.PDF) {
		t.Fatalf("the receipt served is not its archived version: %v", err)
	}
	if rep := v.Verify(ctx, renewedReceipt.PDF); rep.Indication != verify.TotalPassed || rep.Register == nil || rep.Register.Kind != "receipt" {
		t.Fatalf("the archived receipt: %s", rep.Text())
	}
	// The new time-stamp's certificate ends in two years: nothing is due within six months.
	if rep, err := e.Replies.ArchiveTimestamps(ctx, e.M, operator, 180*24*time.Hour, 0, 100); err != nil || rep.Renewed != 0 {
		t.Fatalf("second run: %+v, %v", rep, err)
	}
}
