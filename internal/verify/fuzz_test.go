package verify

import (
	"bytes"
	"context"
	"testing"
	"time"

	"pakn/internal/signing"
	"pakn/internal/verifytest"
)

// FuzzVerify feeds the verifier mutations of a genuine reply (and of the
// hostile corpus). It must never panic or hang, must always give one of the
// three indications with its summaries, and may pass a document only if
// every signed byte is the genuine reply's (the /Contents value is, by
// design, outside the signature).
func FuzzVerify(f *testing.F) {
	p := verifytest.NewPKI(f, "pakn")
	c := p.Corpus(f)
	genuine := c.Genuine
	f.Add(genuine)
	for _, doc := range verifytest.Hostile(f, c) {
		if len(doc) < 1<<20 { // the bomb would make every mutation slow
			f.Add(doc)
		}
	}
	br := verifytest.ByteRange(f, genuine)
	v := verifier(p)
	v.Timeout = 5 * time.Second
	f.Fuzz(func(t *testing.T, doc []byte) {
		r := v.Verify(context.Background(), doc)
		requireVerdict(t, r)
		if r.Indication == TotalPassed {
			if len(doc) != len(genuine) || !bytes.Equal(doc[:br[1]], genuine[:br[1]]) || !bytes.Equal(doc[br[2]:], genuine[br[2]:]) {
				t.Fatalf("a document with other signed bytes passed:\n%s", r.Text())
			}
		}
	})
}

// FuzzVerifyLTA feeds the verifier mutations of a reply as pakn issues it
// (PAdES B-LTA: the signature's revision, then validation data under a
// document time-stamp), and the same reply with an edit slipped in before
// its time-stamp. It may pass a document only if every byte either
// time-stamp or signature covers is the genuine reply's.
func FuzzVerifyLTA(f *testing.F) {
	p := verifytest.NewPKI(f, "pakn")
	cert, key := p.Signer(f, "Lê Hoàng Cường", nil)
	auth := p.Authority(f, nil)
	genuine := p.SignLTA(f, verifytest.Reply(f, ""), auth, key, cert)
	f.Add(genuine)
	signed := verifytest.SignStamped(f, verifytest.Reply(f, ""), auth.Respond, key, cert, p.Issuing, p.Root)
	if edited, err := signing.Archive(verifytest.AppendUpdate(f, signed, "", false), auth.Respond, nil, [][]byte{p.CRL.Raw}); err == nil {
		f.Add(edited)
	}
	v := verifier(p)
	v.Timeout = 5 * time.Second
	f.Fuzz(func(t *testing.T, doc []byte) {
		r := v.Verify(context.Background(), doc)
		requireVerdict(t, r)
		if r.Indication != TotalPassed {
			return
		}
		// Every byte outside the /Contents values must be the genuine reply's.
		if len(doc) != len(genuine) {
			t.Fatalf("a document of another length passed:\n%s", r.Text())
		}
		for _, s := range r.Signatures {
			br := s.ByteRange
			if !bytes.Equal(doc[:br[1]], genuine[:br[1]]) || !bytes.Equal(doc[br[2]:br[2]+br[3]], genuine[br[2]:br[2]+br[3]]) {
				t.Fatalf("a document with other signed bytes passed:\n%s", r.Text())
			}
		}
	})
}

// requireVerdict fails unless r gives one of the three indications, with
// its summaries.
func requireVerdict(t *testing.T, r *Report) {
	t.Helper()
	switch r.Indication {
	case TotalPassed, TotalFailed, Indeterminate:
	default:
		t.Fatalf("indication %q", r.Indication)
	}
	if r.SummaryVI == "" || r.SummaryEN == "" {
		t.Fatal("no summary")
	}
}
