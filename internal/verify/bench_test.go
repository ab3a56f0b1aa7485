package verify

import (
	"context"
	"testing"

	"pakn/internal/verifytest"
)

// BenchmarkVerify verifies a genuine reply in-process.
func BenchmarkVerify(b *testing.B) {
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
