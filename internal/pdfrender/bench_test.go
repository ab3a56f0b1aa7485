package pdfrender

import "testing"

// BenchmarkRender renders the sample reply.
func BenchmarkRender(b *testing.B) {
	d := sample()
	for b.Loop() {
		if _, err := Render(d); err != nil {
			b.Fatal(err)
		}
	}
}
