package petition

import (
	"crypto/sha256"
	"encoding/hex"
	"time"
)

// SignedReceipt is a petition's signed receipt, as issued: the agency's
// statement that it received the petition's words and files at a time.
type SignedReceipt struct {
	ID          string // the receipt's own id (its verification page is /verify/{id})
	PetitionID  string
	Agency      string // the receiving agency, whose key signed it
	PDF         []byte
	SealedPDF   []byte // what is stored of PDF when internal/sealed seals it (nil: PDF itself)
	SHA256      string
	Binding     string // what its signature binds (verify.Binding): the register finds it by this
	AgencyKeyID string
	Certificate []byte // the agency key's certificate (DER)
	SignedAt    time.Time
}

// ContentSHA256 is the SHA-256, in hex, a receipt states for a petition's
// words: of its title, a blank line and its body, in UTF-8 as stored (NFC,
// cleaned as Normalize cleans them).
func ContentSHA256(title, body string) string {
	sum := sha256.Sum256([]byte(title + "\n\n" + body))
	return hex.EncodeToString(sum[:])
}
