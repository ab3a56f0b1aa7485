package verify

import (
	"context"
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"time"

	"pakn/internal/verifytest"
)

// Inputs built to make a naive scanner or parser quadratic, at the largest
// size accepted: each gets a definite verdict (none passes, none is cut by
// the time limit), a report of bounded size, and leaves no work behind.
func TestCraftedInputsGetDefiniteVerdicts(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	v := verifier(p)
	makers := verifytest.Crafted(MaxSize - 1024)
	for _, name := range makers.Names() {
		t.Run(name, func(t *testing.T) {
			doc := makers[name]()
			if len(doc) > MaxSize {
				t.Fatalf("crafted %d bytes, more than accepted", len(doc))
			}
			r := v.Verify(context.Background(), doc)
			if r.Indication == TotalPassed || r.SubIndication == TimeLimitExceeded || r.SubIndication == "" {
				t.Fatalf("%s / %s:\n%s", r.Indication, r.SubIndication, r.Text())
			}
			if len(r.Signatures) > MaxSignatures {
				t.Fatalf("%d signatures examined", len(r.Signatures))
			}
			js, err := json.Marshal(r)
			if err != nil {
				t.Fatal(err)
			}
			if len(js) > 64<<10 {
				t.Fatalf("report of %d bytes for a crafted input", len(js))
			}
			if name == "thousands of signature dictionaries" && !strings.Contains(r.Text(), "too many signatures") {
				t.Errorf("want the plain reason \"too many signatures\":\n%s", r.Text())
			}
		})
	}
}

// The time limit stops the work itself: Verify returns the time-limit
// verdict, no goroutine of the verification survives it, and the process
// does no more work for the document afterwards.
func TestTimeLimitStopsTheWork(t *testing.T) {
	p := verifytest.NewPKI(t, "pakn")
	v := verifier(p)
	v.Timeout = time.Millisecond
	before := runtime.NumGoroutine()
	for name, mk := range verifytest.Crafted(MaxSize - 1024) {
		doc := mk()
		r := v.Verify(context.Background(), doc)
		if r.Indication == TotalPassed {
			t.Fatalf("%s passed", name)
		}
		if r.SubIndication == TimeLimitExceeded && (!strings.Contains(r.SummaryEN, "took too long") || !strings.Contains(r.SummaryVI, "quá nhiều thời gian")) {
			t.Fatalf("%s: summary %q / %q", name, r.SummaryVI, r.SummaryEN)
		}
	}
	// The genuine reply's hash alone takes longer than a nanosecond's limit.
	v.Timeout = time.Nanosecond
	if r := v.Verify(context.Background(), p.Genuine(t)); r.SubIndication != TimeLimitExceeded {
		t.Fatalf("a nanosecond's limit: %s", r.Text())
	}
	runtime.GC()
	if after := runtime.NumGoroutine(); after > before {
		t.Fatalf("%d goroutines before, %d after", before, after)
	}
	start := verifytest.CPUTime(t)
	time.Sleep(500 * time.Millisecond)
	if used := verifytest.CPUTime(t) - start; used > 150*time.Millisecond {
		t.Fatalf("the process used %s of CPU in the half second after the answers", used)
	}
}
