// Package credential holds the rules of staff authentication, free of storage and
// transport: password hashing and policy, TOTP with replay refusal, recovery
// codes, session and API token secrets, and login throttling.
package credential

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"pakn/internal/msg"

	"github.com/trustelem/zxcvbn/frequency"
	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Password length bounds, in characters (NIST SP 800-63B: at least 8, we
// require 12; accept at least 64, we accept 128).
const (
	MinPasswordLen = 12
	MaxPasswordLen = 128
)

// Argon2Params are the argon2id cost parameters.
type Argon2Params struct {
	MemoryKiB uint32
	Time      uint32
	Threads   uint8
}

// DefaultArgon2 is OWASP's recommended minimum for argon2id: 19 MiB, two
// passes, one lane.
var DefaultArgon2 = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1}

// ErrWeakPassword is wrapped by PasswordProblem errors.
var ErrWeakPassword = errors.New("password refused")

// PasswordProblem says why a new password is refused, in Vietnamese and English.
type PasswordProblem struct {
	VI, EN string
	Key    msg.Key // the message of the catalogue VI and EN come from
	Args   []any
}

// Error implements error.
func (p *PasswordProblem) Error() string { return p.EN }

// passwordProblem is the PasswordProblem of message k.
func passwordProblem(k msg.Key, args ...any) *PasswordProblem {
	return &PasswordProblem{VI: k.VI(args...), EN: k.EN(args...), Key: k, Args: args}
}

// Unwrap makes errors.Is(err, ErrWeakPassword) true.
func (p *PasswordProblem) Unwrap() error { return ErrWeakPassword }

var common = func() map[string]struct{} {
	list := frequency.FrequencyLists["passwords"]
	m := make(map[string]struct{}, len(list)+16)
	for _, p := range list {
		m[p] = struct{}{}
	}
	// Words a Vietnamese office would reach for first.
	for _, p := range []string{"matkhau", "matkhau123", "matkhau@123", "123456789012", "1234567890123",
		"admin@123456", "qwertyuiop123", "abc@12345678", "password@123", "ubnd@123456", "vietnam@1234"} {
		m[p] = struct{}{}
	}
	return m
}()

// CheckPassword applies the password policy: 12 to 128 characters, valid
// text, not a common password, not built on the username. No composition
// rules: any characters, spaces and Vietnamese letters are welcome.
func CheckPassword(pw, username string) error {
	if !utf8.ValidString(pw) {
		return passwordProblem(msg.PasswordInvalidText)
	}
	n := utf8.RuneCountInString(norm.NFC.String(pw))
	if n < MinPasswordLen {
		return passwordProblem(msg.PasswordTooShort, MinPasswordLen)
	}
	if n > MaxPasswordLen {
		return passwordProblem(msg.PasswordTooLong, MaxPasswordLen)
	}
	lower := strings.ToLower(pw)
	if _, ok := common[lower]; ok || isRepetition(lower) {
		return passwordProblem(msg.PasswordTooCommon)
	}
	if u := strings.ToLower(username); len(u) >= 4 && strings.Contains(lower, u) {
		return passwordProblem(msg.PasswordHasUsername)
	}
	return nil
}

// isRepetition reports a password made of one short block repeated
// ("aaaaaaaaaaaa", "abcabcabcabc").
func isRepetition(s string) bool {
	for size := 1; size <= 4 && size < len(s); size++ {
		if len(s)%size == 0 && strings.Repeat(s[:size], len(s)/size) == s {
			return true
		}
	}
	return false
}

// PasswordHasher hashes and verifies passwords with argon2id, limiting how
// many hashes run at once so that a burst of logins cannot exhaust memory.
type PasswordHasher struct {
	params Argon2Params
	slots  chan struct{}
	dummy  string
}

// ConcurrentHashes is how many password hashes paknd runs at once: each
// holds DefaultArgon2's 19 MiB, so a login flood holds at most about 76 MiB.
const ConcurrentHashes = 4

// NewPasswordHasher returns a hasher with the given parameters and at most
// concurrent hashes in flight.
func NewPasswordHasher(p Argon2Params, concurrent int) *PasswordHasher {
	if concurrent < 1 {
		concurrent = 1
	}
	h := &PasswordHasher{params: p, slots: make(chan struct{}, concurrent)}
	h.dummy, _ = h.Hash("pakn-dummy-password-for-unknown-users")
	return h
}

// Hash returns the PHC string of an argon2id hash of pw with a fresh salt.
func (h *PasswordHasher) Hash(pw string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := h.derive(pw, salt, h.params)
	enc := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.MemoryKiB, h.params.Time, h.params.Threads, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

func (h *PasswordHasher) derive(pw string, salt []byte, p Argon2Params) []byte {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	return argon2.IDKey([]byte(norm.NFC.String(pw)), salt, p.Time, p.MemoryKiB, p.Threads, 32)
}

// Verify reports whether pw matches the PHC string encoded. An empty encoded
// (an unknown account) is verified against a dummy hash, so that the answer
// takes as long as for a real account.
func (h *PasswordHasher) Verify(encoded, pw string) (bool, error) {
	if encoded == "" {
		_, _ = h.Verify(h.dummy, pw)
		return false, nil
	}
	var v int
	var p Argon2Params
	var saltB64, keyB64 string
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("unknown password hash format")
	}
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false, errors.New("unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return false, errors.New("malformed argon2 parameters")
	}
	if p.MemoryKiB > 1<<20 || p.Time > 16 || p.Threads == 0 {
		return false, errors.New("argon2 parameters out of range")
	}
	saltB64, keyB64 = parts[4], parts[5]
	salt, err1 := base64.RawStdEncoding.DecodeString(saltB64)
	key, err2 := base64.RawStdEncoding.DecodeString(keyB64)
	if err1 != nil || err2 != nil || len(key) == 0 {
		return false, errors.New("malformed argon2 hash")
	}
	got := h.derive(pw, salt, p)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}
