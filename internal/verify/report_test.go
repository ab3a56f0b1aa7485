package verify

import (
	"strings"
	"testing"
)

// A report printed for a terminal carries no control or formatting
// character from the document: a signer's name with an escape sequence,
// a carriage return or a bidi override is printed escaped.
func TestTextIsTerminalSafe(t *testing.T) {
	r := &Report{Indication: TotalPassed, Signatures: []Signature{{Index: 1, Indication: TotalPassed,
		Signer: &Certificate{CommonName: "Lê\x1b[2J\x1b[32mTOTAL_PASSED\r", Organization: "Sở\u202eTư", Issuer: "CA\u200b", Serial: "01"}}}}
	out := r.Text()
	for _, bad := range []string{"\x1b", "\r", "\u202e", "\u200b"} {
		if strings.Contains(out, bad) {
			t.Fatalf("the report prints %q raw:\n%s", bad, out)
		}
	}
	if !strings.Contains(out, `Lê\u001b[2J\u001b[32mTOTAL_PASSED\u000d`) || !strings.Contains(out, `Sở\u202eTư`) {
		t.Fatalf("the names are not shown escaped:\n%s", out)
	}
}
