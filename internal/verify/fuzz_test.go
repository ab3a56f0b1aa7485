package verify

import (
	"bytes"
	"context"
	"pakn/internal/verifytest"
	"testing"
	"time"
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
		switch r.Indication {
		case TotalPassed, TotalFailed, Indeterminate:
		default:
			t.Fatalf("indication %q", r.Indication)
		}
		if r.SummaryVI == "" || r.SummaryEN == "" {
			t.Fatal("no summary")
		}
		if r.Indication == TotalPassed {
			if len(doc) != len(genuine) || !bytes.Equal(doc[:br[1]], genuine[:br[1]]) || !bytes.Equal(doc[br[2]:], genuine[br[2]:]) {
				t.Fatalf("a document with other signed bytes passed:\n%s", r.Text())
			}
		}
	})
}
