package reply

import (
	"crypto"
	"crypto/x509"
	"time"

	"pakn/internal/petition"
)

// SignedDocument is a signed reply's stored record.
type SignedDocument struct {
	ReplyID, PetitionID, Agency string
	Number                      string
	Year, Seq                   int
	PDF                         []byte
	SealedPDF                   []byte // what is stored of PDF when internal/sealed seals it (nil: PDF itself)
	SHA256                      string
	Binding                     string // what its signature binds (verify.Binding): the register finds it by this
	PublicPDF                   []byte // the public version: no addressee's name or address
	SealedPublicPDF             []byte // what is stored of PublicPDF when internal/sealed seals it (nil: PublicPDF itself)
	PublicSHA256                string
	PublicBinding               string
	Search                      string  // the words the public register's search finds it by, folded
	SearchTokens                []int64 // their blind index (petition.SearchTokens), what is stored when set
	SignerID, SignedBy          string
	KeyName                     string
	KeyVersion                  int
	Certificate                 []byte
	SignedAt                    time.Time
	Timestamped                 bool
}

// Signer is a signer's key version and certificate.
type Signer struct {
	ID, AccountID   string
	FullName, Title string
	OnBehalf        string
	KeyName         string
	KeyVersion      int
	KeyType         string
	Certificate     *x509.Certificate
	Chain           []*x509.Certificate // the certificate, then its issuers
	ChainPEM        string
	Status          string
	CreatedAt       time.Time
}

// Issued is what the register of issued replies records of one reply.
type Issued struct {
	Kind                              string // KindReply or KindReceipt
	ReplyID, PetitionID, TrackingCode string // ReplyID: the document's id (a receipt's own id for a receipt)
	Number, Agency, AgencyName        string
	SHA256                            string
	Size                              int
	SignedAt                          time.Time
	SignerName, SignerTitle           string
	SignerStatus                      string // active, retired or revoked
	CertSerial                        string
	SupersededBy                      string
	Published                         bool
	PublicSHA256                      string // the public version's, for a reply that has one
}

// The kinds of document in the register.
const (
	KindReply   = "reply"
	KindReceipt = "receipt" // a petition's signed receipt, signed with its agency's key
)

// Serial is the signer's certificate serial number as Vault writes it.
func (g *Signer) Serial() string { return SerialHex(g.Certificate) }

// ExpiresSoon is how long before its end a signer's certificate is shown
// as ending soon (a new one must be provisioned).
const ExpiresSoon = 30 * 24 * time.Hour

// Certificate states of a signer, as CertificateState gives them.
const (
	CertValid        = "valid"
	CertExpiringSoon = "expiring"
	CertExpired      = "expired"
	CertNotYetValid  = "not_yet_valid"
)

// CertificateState says whether g's certificate is valid at now, ending
// within ExpiresSoon, expired or not yet valid (whatever g's status).
func (g *Signer) CertificateState(now time.Time) string {
	c := g.Certificate
	switch {
	case now.Before(c.NotBefore):
		return CertNotYetValid
	case now.After(c.NotAfter):
		return CertExpired
	case c.NotAfter.Sub(now) < ExpiresSoon:
		return CertExpiringSoon
	}
	return CertValid
}

// SerialHex writes a certificate's serial number as Vault does: lower-case
// hex byte pairs separated by colons.
func SerialHex(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	out := make([]byte, 0, len(b)*3)
	for i, x := range b {
		if i > 0 {
			out = append(out, ':')
		}
		out = append(out, "0123456789abcdef"[x>>4], "0123456789abcdef"[x&15])
	}
	return string(out)
}

// SignRequest is what signing a rendered reply needs: the key, its chain,
// the texts of the signature dictionary, the time-stamping authority and
// the validation data to embed.
type SignRequest struct {
	Signer   crypto.Signer       // called exactly once
	Chain    []*x509.Certificate // the signer's certificate first, then its issuers
	Name     string              // signer's name; folded to ASCII in the signature dictionary
	Reason   string              // folded to ASCII
	Location string              // folded to ASCII
	Time     time.Time           // the claimed signing time, written in the dictionary's /M
	// Stamp answers an RFC 3161 time-stamp request (DER in, DER out): the
	// signature time-stamp (PAdES B-T) and, with CRLs, the document
	// time-stamp (B-LTA). Nil only in tests of untimed signatures (B-B).
	Stamp Stamper
	// CRLs are the current DER revocation lists of the chain's CAs,
	// embedded with the chain (B-LT); the signer's certificate must not be
	// on its issuer's.
	CRLs [][]byte
}

// Stamper answers a DER time-stamp request (RFC 3161) with a DER
// time-stamp response.
type Stamper func(request []byte) ([]byte, error)

// Listed is one entry of the public register's list: a published reply,
// as anyone may read it (nothing personal).
type Listed struct {
	ReplyID    string
	Number     string
	Agency     string
	AgencyName string
	SignedAt   time.Time
	Category   petition.Category
	Outcome    Outcome
	Summary    string
	Superseded bool // a correction replaced it
	// SealedContent is the reply's content as stored when sealed (its
	// Summary then comes from it: internal/sealed opens it).
	SealedContent string
}

// RegisterCountCap is how far the public register counts the entries a
// query selects: beyond it, a total says "more than RegisterCountCap"
// (counting every entry of a large register for each page would cost more
// than listing them).
const RegisterCountCap = 1000

// RegisterQuery selects entries of the public register: words (folded
// for a search with or without diacritics), an agency, a category, an
// outcome, a period of signing (From and To inclusive days, in Vietnam's
// time; zero: open), and a page.
type RegisterQuery struct {
	Query string
	// QueryTokens are the blind index of Query's words (internal/sealed
	// sets them): the replies whose search words hold all of them match.
	QueryTokens []int64
	Agency      string
	Category    petition.Category
	Outcome     Outcome
	From, To    time.Time
	Limit       int
	Offset      int
}

// KindPublicReply is, for an archive time-stamp, a signed reply's public
// version (KindReply is then its personal version; a KindReceipt's id is
// its petition's).
const KindPublicReply = "public_reply"

// Archived names the newest version of a signed document: its kind, its
// id (a reply's, or for a receipt its petition's), its version (1, the
// document as issued; each archive time-stamp adds one) and when that
// version was last time-stamped.
type Archived struct {
	Kind      string
	ID        string
	Version   int
	StampedAt time.Time
}

// DocumentVersion is a new version of a signed document: the version
// after Of's, with an archive time-stamp.
type DocumentVersion struct {
	Of        Archived
	PDF       []byte
	SHA256    string // of the PDF itself (not as stored sealed)
	Size      int
	StampedAt time.Time
}
