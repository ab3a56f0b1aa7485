package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// Session lifetimes.
const (
	IdleTimeout     = 30 * time.Minute // a session unused this long ends
	AbsoluteTimeout = 12 * time.Hour   // a session ends this long after login, used or not
)

// TokenPrefix starts every integration (bearer) token, so that leaked tokens
// are easy to recognise and scan for.
const TokenPrefix = "pakn_"

// NewSecret returns a random 256-bit secret (URL-safe base64) and its hash.
// Only the hash is stored; the secret is given to its holder once.
func NewSecret() (secret string, hash []byte, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	secret = base64.RawURLEncoding.EncodeToString(b)
	return secret, HashSecret(secret), nil
}

// HashSecret is the stored form of a session or API token secret.
func HashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// ValidSecretShape reports whether s could be a secret from NewSecret (with
// an optional prefix), so that garbage is refused before any lookup.
func ValidSecretShape(s, prefix string) bool {
	s, ok := strings.CutPrefix(s, prefix)
	if !ok || len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// NewPassword returns a random one-time password that passes CheckPassword:
// 20 characters from an alphabet without look-alikes.
func NewPassword() (string, error) {
	const alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789"
	// Rejection sampling keeps every character equally likely.
	limit := byte(256 - 256%len(alphabet))
	out := make([]byte, 0, 20)
	buf := make([]byte, 32)
	for len(out) < 20 {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, c := range buf {
			if c < limit && len(out) < 20 {
				out = append(out, alphabet[int(c)%len(alphabet)])
			}
		}
	}
	return string(out), nil
}
