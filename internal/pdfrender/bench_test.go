package pdfrender

import (
	"testing"

	"pakn/internal/gc"
)

// BenchmarkRender renders the sample reply.
func BenchmarkRender(b *testing.B) {
	defer gc.Tune(gc.Default)() // as paknd serves
	d := sample()
	for b.Loop() {
		if _, err := Render(d); err != nil {
			b.Fatal(err)
		}
	}
}
