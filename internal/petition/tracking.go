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
// character (Crockford's mod-37 check symbol) that catches typing mistakes.

const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// checkSymbols are Crockford's 37 check symbols.
const checkSymbols = crockford + "*~$=U"

func checkChar(s string) byte {
	n := 0
	for i := 0; i < len(s); i++ {
		n = (n*32 + strings.IndexByte(crockford, s[i])) % 37
	}
	return checkSymbols[n]
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
		if i < 7 && strings.IndexByte(crockford, c) < 0 {
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
