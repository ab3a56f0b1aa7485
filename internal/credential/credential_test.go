package credential

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/text/unicode/norm"
)

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		pw, user string
		ok       bool
	}{
		{"đường Điện Biên Phủ số 9", "nhung", true},
		{"correct horse battery staple", "nhung", true},
		{"abcdefghijk", "nhung", false},                  // 11 characters
		{"ữữữữữữữữữữữ", "nhung", false},                  // 11 runes, 33 bytes: counted in characters
		{"Ủy ban nhân dân", "nhung", true},               // 15 characters, spaces welcome
		{strings.Repeat("x", 127) + "y", "nhung", true},  // 128
		{strings.Repeat("x", 128) + "y", "nhung", false}, // 129
		{"password1234", "nhung", false},                 // common
		{"PASSWORD1234", "nhung", false},                 // common, any case
		{"qwertyuiop123", "nhung", false},                // common (Vietnamese office list)
		{"matkhau@123", "nhung", false},                  // 11 and common
		{"aaaaaaaaaaaaaaaa", "nhung", false},             // repetition
		{"abcabcabcabcabc", "nhung", false},              // repetition
		{"nhung.nth-secret-2026", "nhung.nth", false},    // contains username
		{"\xff\xfe invalid utf8 here", "nhung", false},   // not text
	}
	for _, tt := range tests {
		err := CheckPassword(tt.pw, tt.user)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%q) = %v, want ok=%v", tt.pw, err, tt.ok)
		}
		var p *PasswordProblem
		if err != nil && (!errors.As(err, &p) || p.VI == "" || !errors.Is(err, ErrWeakPassword)) {
			t.Errorf("CheckPassword(%q) error lacks a bilingual problem: %v", tt.pw, err)
		}
	}
	if len(common) < 30000 {
		t.Fatalf("only %d common passwords loaded", len(common))
	}
}

// A password checked for a name no account has costs a real hash (against
// the dummy one), so the answer takes as long as for a real account: with
// the hasher's one place taken, the check waits for it.
func TestUnknownAccountsCostAHash(t *testing.T) {
	h := NewPasswordHasher(DefaultArgon2, 1)
	h.slots <- struct{}{} // the only place, taken
	done := make(chan bool, 1)
	go func() {
		ok, _ := h.Verify("", "Hồ Hoàn Kiếm 2026")
		done <- ok
	}()
	select {
	case <-done:
		t.Fatal("an unknown account's password was answered without hashing")
	case <-time.After(200 * time.Millisecond):
	}
	<-h.slots
	if <-done {
		t.Fatal("an unknown account's password matched")
	}
}

// paknd hashes at most four passwords at once (SECURITY.md: ≈ 76 MiB):
// with four places taken, a fifth hash waits.
func TestFourHashesAtOnce(t *testing.T) {
	if ConcurrentHashes != 4 {
		t.Fatalf("paknd hashes %d passwords at once, SECURITY.md says 4", ConcurrentHashes)
	}
	h := NewPasswordHasher(DefaultArgon2, ConcurrentHashes)
	for range 4 {
		h.slots <- struct{}{}
	}
	done := make(chan struct{})
	go func() {
		_, _ = h.Hash("Hồ Hoàn Kiếm 2026")
		close(done)
	}()
	select {
	case <-done:
		t.Fatal("a fifth hash ran beside four")
	case <-time.After(200 * time.Millisecond):
	}
	<-h.slots
	<-done
}

func TestPasswordHashing(t *testing.T) {
	h := NewPasswordHasher(DefaultArgon2, 2)
	enc, err := h.Hash("Điện Biên Phủ 1954")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not record OWASP's argon2id parameters", enc)
	}
	parts := strings.Split(enc, "$")
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) != 16 || len(key) != 32 {
		t.Fatalf("hash %q: a %d-byte salt and a %d-byte key, want 16 and 32", enc, len(salt), len(key))
	}
	enc2, _ := h.Hash("Điện Biên Phủ 1954")
	if enc == enc2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	tests := []struct {
		pw string
		ok bool
	}{
		{"Điện Biên Phủ 1954", true},
		{norm.NFD.String("Điện Biên Phủ 1954"), true}, // typed on another keyboard
		{"Điện Biên Phủ 1955", false},
		{"", false},
	}
	for _, tt := range tests {
		ok, err := h.Verify(enc, tt.pw)
		if err != nil || ok != tt.ok {
			t.Errorf("Verify(%q) = %v, %v; want %v", tt.pw, ok, err, tt.ok)
		}
	}
	for _, bad := range []string{"$argon2i$v=19$m=1,t=1,p=1$AA$AA", "$argon2id$v=19$m=99999999,t=2,p=1$AAAA$AAAA", "plain", "$argon2id$v=18$m=1,t=1,p=1$AA$AA"} {
		if ok, err := h.Verify(bad, "x"); ok || err == nil {
			t.Errorf("Verify accepted malformed hash %q", bad)
		}
	}
	if ok, err := h.Verify("", "anything"); ok || err != nil {
		t.Error("unknown account must verify as false without error")
	}
}

func TestCheckTOTP(t *testing.T) {
	e, err := NewEnrolment("pakn", "signer1")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 10, 0, 5, 0, time.UTC)
	step := now.Unix() / 30
	gen := func(at time.Time) string {
		c, _ := totp.GenerateCodeCustom(e.Secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		return c
	}
	tests := []struct {
		name     string
		code     string
		lastStep int64
		wantStep int64
		ok       bool
	}{
		{"current", gen(now), 0, step, true},
		{"previous step (clock skew)", gen(now.Add(-30 * time.Second)), 0, step - 1, true},
		{"next step (clock skew)", gen(now.Add(30 * time.Second)), 0, step + 1, true},
		{"two steps old", gen(now.Add(-60 * time.Second)), 0, 0, false},
		{"already used", gen(now), step, 0, false},
		{"older than last used", gen(now.Add(-30 * time.Second)), step, 0, false},
		{"wrong", "000000", 0, 0, gen(now) == "000000"},
		{"too short", "12345", 0, 0, false},
		{"letters", "abcdef", 0, 0, false},
	}
	for _, tt := range tests {
		got, ok := CheckTOTP(e.Secret, tt.code, now, tt.lastStep)
		if ok != tt.ok || (ok && got != tt.wantStep) {
			t.Errorf("%s: CheckTOTP = %d, %v; want %d, %v", tt.name, got, ok, tt.wantStep, tt.ok)
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes, err := NewRecoveryCodes()
	if err != nil || len(codes) != 10 || len(hashes) != 10 {
		t.Fatalf("%d codes, %v", len(codes), err)
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if seen[c] || len(c) != 19 {
			t.Fatalf("code %q repeated or malformed", c)
		}
		seen[c] = true
		if string(HashRecoveryCode(strings.ToLower(strings.ReplaceAll(c, "-", " ")))) != string(hashes[i]) {
			t.Fatal("hash depends on case or separators")
		}
	}
}

func TestSecretsAndOneTimePasswords(t *testing.T) {
	s, h, err := NewSecret()
	if err != nil || len(h) != 32 || !ValidSecretShape(s, "") || ValidSecretShape(s, TokenPrefix) || !ValidSecretShape(TokenPrefix+s, TokenPrefix) {
		t.Fatalf("secret %q shape checks wrong", s)
	}
	for _, bad := range []string{"", "short", s + "A", strings.Repeat("!", 43)} {
		if ValidSecretShape(bad, "") {
			t.Errorf("ValidSecretShape(%q) = true", bad)
		}
	}
	for i := 0; i < 50; i++ {
		pw, err := NewPassword()
		if err != nil || CheckPassword(pw, "demo-admin") != nil {
			t.Fatalf("one-time password %q fails the policy: %v", pw, err)
		}
	}
}

func TestThrottlePolicy(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		p      ThrottlePolicy
		fails  int
		delays []time.Duration // the wait after each failure
		locks  bool            // the last failure locks
	}{
		// A sign-in name or an account is slowed, never locked, however many the failures.
		{"account", AccountThrottle, 12, []time.Duration{0, 0, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second,
			16 * time.Second, 32 * time.Second, time.Minute, time.Minute, time.Minute, time.Minute}, false},
		// An address is locked for 15 minutes at the 50th.
		{"address", AddressThrottle, 50, nil, true},
		// A session's codes: slowed from the 2nd, at most 30 s.
		{"session codes", SessionCodeThrottle, 7, []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second,
			8 * time.Second, 16 * time.Second, 30 * time.Second}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var th Throttle
			locked := false
			for i := 1; i <= tt.fails; i++ {
				if th, locked = tt.p.Fail(th, now); locked && i < tt.fails {
					t.Fatalf("locked at failure %d", i)
				}
				w, isLock := tt.p.Wait(th, now)
				if tt.delays != nil && (w != tt.delays[i-1] || isLock) {
					t.Fatalf("failure %d: wait %v (lock %v), want %v", i, w, isLock, tt.delays[i-1])
				}
			}
			if locked != tt.locks {
				t.Fatalf("locked %v, want %v", locked, tt.locks)
			}
		})
	}
	p := AddressThrottle
	var th Throttle
	for range p.LockAfter {
		th, _ = p.Fail(th, now)
	}
	if w, isLock := p.Wait(th, now.Add(14*time.Minute)); !isLock || w != time.Minute {
		t.Fatalf("during lock-out: %v %v", w, isLock)
	}
	if w, _ := p.Wait(th, now.Add(15*time.Minute)); w != 0 {
		t.Fatalf("after lock-out: wait %v", w)
	}
	// Failures long ago are forgotten.
	th = Throttle{Failures: 49, LastFailure: now}
	th, locked := p.Fail(th, now.Add(16*time.Minute))
	if locked || th.Failures != 1 {
		t.Fatalf("old failures not forgotten: %+v", th)
	}
}

func TestSessionLive(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	base := Session{CreatedAt: now.Add(-time.Hour), LastSeenAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour)}
	tests := []struct {
		name string
		mod  func(*Session)
		live bool
	}{
		{"fresh", func(*Session) {}, true},
		{"ended", func(s *Session) { s.Ended = true }, false},
		{"idle 29m", func(s *Session) { s.LastSeenAt = now.Add(-29 * time.Minute) }, true},
		{"idle 30m", func(s *Session) { s.LastSeenAt = now.Add(-30 * time.Minute) }, false},
		{"past absolute", func(s *Session) { s.ExpiresAt = now }, false},
	}
	for _, tt := range tests {
		s := base
		tt.mod(&s)
		if live, _ := s.Live(now); live != tt.live {
			t.Errorf("%s: live = %v", tt.name, live)
		}
		// EndsAt is the first moment Live says no, if nobody uses it.
		if ends := s.EndsAt(); !s.Ended && (ends.After(now) != tt.live) {
			t.Errorf("%s: ends at %v, live %v at %v", tt.name, ends, tt.live, now)
		}
		if live, _ := s.Live(s.EndsAt()); live {
			t.Errorf("%s: still live at its end %v", tt.name, s.EndsAt())
		}
		if live, _ := s.Live(s.EndsAt().Add(-time.Second)); !live && !s.Ended {
			t.Errorf("%s: not live a second before its end %v", tt.name, s.EndsAt())
		}
	}
}
