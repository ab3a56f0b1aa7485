package credential

import (
	"testing"
	"time"
)

// RFC 6238 appendix B, SHA-1: the seed "12345678901234567890" (in base32
// below) gives these 8-digit codes; a 6-digit code is the same value's last
// six digits (RFC 4226 section 5.3). The codes come from the RFC, not from
// this package, so a change of algorithm, period or truncation fails here.
func TestTOTPRFC6238Vectors(t *testing.T) {
	const seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	for _, v := range []struct {
		unix  int64
		eight string
	}{
		{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"},
		{1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"},
	} {
		at := time.Unix(v.unix, 0)
		step, ok := CheckTOTP(seed, v.eight[2:], at, 0)
		if !ok || step != v.unix/30 {
			t.Errorf("at %d: code %s refused (step %d, ok %v)", v.unix, v.eight[2:], step, ok)
		}
		if _, ok := CheckTOTP(seed, v.eight[2:], at.Add(2*time.Minute), 0); ok {
			t.Errorf("at %d: the code was still accepted two minutes later", v.unix)
		}
	}
}
