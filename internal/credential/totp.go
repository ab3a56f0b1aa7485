package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP parameters (RFC 6238 defaults, which every authenticator app supports).
const (
	TOTPPeriod = 30 // seconds per step
	TOTPDigits = otp.DigitsSix
	TOTPSkew   = 1 // steps accepted before and after the current one
)

// Enrolment is a new TOTP secret ready to show to its owner.
type Enrolment struct {
	Secret string // base32, to type into an app
	URL    string // otpauth:// URL, to scan as a QR code
	QRPNG  []byte // the URL as a QR code image
}

// NewEnrolment generates a TOTP secret for account (shown as issuer: account).
func NewEnrolment(issuer, account string) (*Enrolment, error) {
	return enrolment(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: TOTPPeriod, Digits: TOTPDigits,
		Algorithm: otp.AlgorithmSHA1, SecretSize: 20})
}

// EnrolmentOf is the enrolment of an existing secret (base32, as Enrolment
// gives it), to show it again.
func EnrolmentOf(issuer, account, secret string) (*Enrolment, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(secret, "="))
	if err != nil {
		return nil, err
	}
	return enrolment(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: TOTPPeriod, Digits: TOTPDigits,
		Algorithm: otp.AlgorithmSHA1, Secret: raw})
}

func enrolment(opts totp.GenerateOpts) (*Enrolment, error) {
	key, err := totp.Generate(opts)
	if err != nil {
		return nil, err
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return nil, err
	}
	png, err := encodePNG(img)
	if err != nil {
		return nil, err
	}
	return &Enrolment{Secret: key.Secret(), URL: key.URL(), QRPNG: png}, nil
}

// CheckTOTP verifies code against secret at now. It accepts the current step
// and one step either side, but only a step later than lastStep, so that each
// code works once. It returns the step that matched.
func CheckTOTP(secret, code string, now time.Time, lastStep int64) (int64, bool) {
	code = strings.TrimSpace(code)
	if len(code) != TOTPDigits.Length() {
		return 0, false
	}
	cur := now.Unix() / TOTPPeriod
	matched, ok := int64(0), false
	for s := cur - TOTPSkew; s <= cur+TOTPSkew; s++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*TOTPPeriod, 0), totp.ValidateOpts{
			Period: TOTPPeriod, Digits: TOTPDigits, Algorithm: otp.AlgorithmSHA1,
		})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && s > lastStep && !ok {
			matched, ok = s, true
		}
	}
	return matched, ok
}

// RecoveryCodeCount is how many recovery codes an enrolment gets.
const RecoveryCodeCount = 10

var codeEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewRecoveryCodes returns RecoveryCodeCount one-time codes (80 bits each,
// shown as XXXX-XXXX-XXXX-XXXX) and their hashes for storage.
func NewRecoveryCodes() (codes []string, hashes [][]byte, err error) {
	for i := 0; i < RecoveryCodeCount; i++ {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			return nil, nil, err
		}
		s := codeEncoding.EncodeToString(b)
		code := s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
		codes = append(codes, code)
		hashes = append(hashes, HashRecoveryCode(code))
	}
	return codes, hashes, nil
}

// HashRecoveryCode hashes a recovery code as typed: case, spaces and dashes
// do not matter. The codes carry 80 random bits, so a fast hash is enough.
func HashRecoveryCode(code string) []byte {
	c := strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(code))
	h := sha256.Sum256([]byte("pakn-recovery:" + c))
	return h[:]
}
