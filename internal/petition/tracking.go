package petition

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"
)

// Tracking codes look like PAKN-2026-7K3M-Q9XW: the year, seven random
// characters of Crockford's base32 (35 bits: not guessable or enumerable at
// the lookup rate limit, and useless without the lookup secret) and a check
// character of the same alphabet (Luhn mod 32), which catches every single
// mistyped character and most swaps of neighbours. The alphabet has no I, L,
// O or U, so a code reads well over the phone and in an SMS.

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// checkChar is the Luhn mod N check character of s over crockford.
func checkChar(s string) byte {
	const n = len(crockford)
	factor, sum := 2, 0
	for i := len(s) - 1; i >= 0; i-- {
		addend := factor * strings.IndexByte(crockford, s[i])
		if factor == 2 {
			factor = 1
		} else {
			factor = 2
		}
		sum += addend/n + addend%n
	}
	return crockford[(n-sum%n)%n]
}

// NewTrackingCode returns a fresh tracking code for year.
func NewTrackingCode(year int) (string, error) {
	b := make([]byte, 7)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	var body [7]byte
	for i := range b {
		body[i] = crockford[b[i]&31]
	}
	s := string(body[:])
	return fmt.Sprintf("PAKN-%04d-%s-%s%c", year, s[:4], s[4:], checkChar(s)), nil
}

// NormalizeTrackingCode reads a tracking code as typed (any case, spaces,
// O for 0, I/L for 1) and checks its form and check character.
func NormalizeTrackingCode(s string) (string, bool) {
	s = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))
	if len(s) != 19 || !strings.HasPrefix(s, "PAKN-") || s[9] != '-' || s[14] != '-' {
		return "", false
	}
	for _, c := range s[5:9] {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	body := []byte(s[10:14] + s[15:19])
	for i, c := range body {
		switch c {
		case 'O':
			c = '0'
		case 'I', 'L':
			c = '1'
		}
		body[i] = c
		if strings.IndexByte(crockford, c) < 0 {
			return "", false
		}
	}
	if checkChar(string(body[:7])) != body[7] {
		return "", false
	}
	return s[:10] + string(body[:4]) + "-" + string(body[4:]), true
}

// NewLookupSecret returns a 128-bit secret for the petitioner (shown once)
// and its hash for storage.
func NewLookupSecret() (string, []byte, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	s := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	return s, HashLookupSecret(s), nil
}

// HashLookupSecret is the stored form of a lookup secret (case-insensitive).
func HashLookupSecret(s string) []byte {
	h := sha256.Sum256([]byte("pakn-lookup:" + strings.ToUpper(strings.TrimSpace(s))))
	return h[:]
}
