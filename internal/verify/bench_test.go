package verify

import (
	"context"
	"testing"

	"pakn/internal/gc"
	"pakn/internal/verifytest"
)

// BenchmarkVerify verifies a genuine reply in-process.
func BenchmarkVerify(b *testing.B) {
	defer gc.Tune(gc.Default)() // as paknd serves
	p := verifytest.NewPKI(b, "pakn")
	doc := p.Genuine(b)
	v := verifier(p)
	for b.Loop() {
		if r := v.Verify(context.Background(), doc); r.Indication != TotalPassed {
			b.Fatal(r.Text())
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "verifications/s")
}

// BenchmarkVerifyPerMB measures the verifier's time per megabyte on a
// genuine reply and on each crafted input of 20 MB (verifytest.Crafted):
// `make bench` prints the worst crafted input's time per MB beside the
// genuine reply's (target: at most twice), and the slowest crafted input's
// time (target: under 2 s). Each verification is the first of its
// document: the verifier keeps what it proved of the chains and the CRLs,
// as a running server has for its signers, but forgets the signatures it
// verified and what it read of documents (a repeated input, genuine or
// crafted, would cost only its hashing, which is not what the target
// compares).
func BenchmarkVerifyPerMB(b *testing.B) {
	defer gc.Tune(gc.Default)() // as paknd serves
	p := verifytest.NewPKI(b, "pakn")
	v := verifier(p)
	run := func(b *testing.B, doc []byte) {
		for b.Loop() {
			v.cache.mu.Lock()
			v.cache.cms, v.cache.tokens, v.cache.read, v.cache.docs = nil, nil, nil, nil
			v.cache.mu.Unlock()
			if r := v.Verify(context.Background(), doc); r.Indication == TotalPassed && len(doc) > 1<<20 || r.SubIndication == TimeLimitExceeded {
				b.Fatal(r.Text())
			}
		}
		mb := float64(len(doc)) / (1 << 20)
		perOp := b.Elapsed().Seconds() / float64(b.N)
		b.ReportMetric(perOp*1000/mb, "ms/MB")
		b.ReportMetric(perOp*1000, "ms/op")
	}
	b.Run("genuine", func(b *testing.B) { run(b, p.Genuine(b)) })
	makers := verifytest.Crafted(MaxSize - 1024)
	for _, name := range makers.Names() {
		doc := makers[name]()
		b.Run("crafted/"+name, func(b *testing.B) { run(b, doc) })
	}
}
