// Package petition is the domain of petitions ("phản ánh, kiến nghị") about
// regulations and administrative procedures, after Decree 20/2008/NĐ-CP as
// amended by Decree 92/2017/NĐ-CP: what a petition holds, how it is checked,
// the lifecycle state machine, tracking codes, and attachment types. It knows
// nothing of storage, HTTP or Vault.
package petition

import (
	"crypto/rand"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"pakn/internal/apperr"
	"pakn/internal/msg"

	"golang.org/x/text/unicode/norm"
)

// PetitionerKind says who petitions.
type PetitionerKind string

// The kinds of petitioner.
const (
	Individual   PetitionerKind = "individual"
	Organisation PetitionerKind = "organisation" // a business or other organisation, with a tax code
)

// Category classifies the content (Decree 20/2008, Article 3 as amended).
type Category string

// The categories.
const (
	// CatConduct: conduct of officials in handling administrative procedures
	// (delay, harassment, non-performance, wrong performance).
	CatConduct Category = "official_conduct"
	// CatRegulation: regulations, policies or procedures that are impractical,
	// inconsistent, unlawful or contrary to treaties Vietnam has joined.
	CatRegulation Category = "regulation"
	// CatProposal: proposals and initiatives for new regulations.
	CatProposal Category = "proposal"
	// CatOther: anything else.
	CatOther Category = "other"
)

// Categories lists the categories in their legal order.
var Categories = []Category{CatConduct, CatRegulation, CatProposal, CatOther}

// Channel says how the petition arrived.
type Channel string

// The channels.
const (
	Online   Channel = "online"    // by the petitioner
	InPerson Channel = "in_person" // entered by staff for someone who came in
	Phone    Channel = "phone"     // entered by staff from a call
	Post     Channel = "post"      // entered by staff from a letter
)

// Petitioner is who sends the petition: personal data, encrypted at rest,
// never shown publicly, never logged.
type Petitioner struct {
	Kind           PetitionerKind `json:"kind"`
	Name           string         `json:"name"`                      // full name, or business name
	TaxCode        string         `json:"tax_code,omitempty"`        // organisations
	Email          string         `json:"email,omitempty"`           // email and/or phone
	Phone          string         `json:"phone,omitempty"`           //
	Address        string         `json:"address,omitempty"`         // postal address
	IdentityNumber string         `json:"identity_number,omitempty"` // optional: CCCD / passport
}

// Submission is a new petition as received.
type Submission struct {
	Petitioner   Petitioner `json:"petitioner"`
	Title        string     `json:"title"`
	Body         string     `json:"body"`
	Category     Category   `json:"category"`
	ProcedureRef string     `json:"procedure_ref,omitempty"` // the administrative procedure concerned
	LegalRef     string     `json:"legal_ref,omitempty"`     // the legal document and article concerned
	TargetAgency string     `json:"target_agency,omitempty"` // optional agency code
	Channel      Channel    `json:"channel,omitempty"`
}

// FieldError is a problem with one field, in Vietnamese and English.
type FieldError struct {
	Field string  `json:"field"`
	VI    string  `json:"vi"`
	EN    string  `json:"en"`
	Key   msg.Key `json:"-"` // the message of the catalogue VI and EN come from
	Args  []any   `json:"-"`
}

// Problem is the FieldError of field with message k of the catalogue.
func Problem(field string, k msg.Key, args ...any) FieldError {
	return FieldError{Field: field, VI: k.VI(args...), EN: k.EN(args...), Key: k, Args: args}
}

// Field limits, in characters.
const (
	MaxName    = 200
	MaxTitle   = 300
	MinBody    = 20
	MaxBody    = 20000
	MaxAddress = 500
	MaxRef     = 500
)

var (
	phonePattern    = regexp.MustCompile(`^\+?[0-9][0-9 .-]{7,18}[0-9]$`)
	taxCodePattern  = regexp.MustCompile(`^[0-9]{10}([-]?[0-9]{3})?$`)
	identityPattern = regexp.MustCompile(`^[0-9A-Z]{8,12}$`)
	agencyPattern   = regexp.MustCompile(`^[A-Z0-9][A-Z0-9-]{1,31}$`)
)

// Clean trims, NFC-normalises and drops control characters (except new
// lines and tabs in long text).
func Clean(s string, multiline bool) string {
	s = norm.NFC.String(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			if multiline {
				return r
			}
			return ' '
		}
		if r == '\r' || unicode.IsControl(r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
}

// Normalize cleans every field and returns the problems found, field by
// field; an empty list means the submission is valid.
func (s *Submission) Normalize() []FieldError {
	var errs []FieldError
	bad := func(field string, k msg.Key) { errs = append(errs, Problem(field, k)) }
	p := &s.Petitioner
	p.Name = Clean(p.Name, false)
	p.TaxCode = strings.ReplaceAll(Clean(p.TaxCode, false), " ", "")
	p.Email = strings.ToLower(Clean(p.Email, false))
	p.Phone = Clean(p.Phone, false)
	p.Address = Clean(p.Address, true)
	p.IdentityNumber = strings.ToUpper(strings.ReplaceAll(Clean(p.IdentityNumber, false), " ", ""))
	s.Title = Clean(s.Title, false)
	s.Body = Clean(s.Body, true)
	s.ProcedureRef = Clean(s.ProcedureRef, false)
	s.LegalRef = Clean(s.LegalRef, false)
	s.TargetAgency = strings.ToUpper(Clean(s.TargetAgency, false))
	if s.Channel == "" {
		s.Channel = Online
	}

	switch p.Kind {
	case Individual:
		if p.TaxCode != "" {
			bad("petitioner.tax_code", msg.IndividualTaxCode)
		}
	case Organisation:
		if !taxCodePattern.MatchString(p.TaxCode) {
			bad("petitioner.tax_code", msg.TaxCodeFormat)
		}
	default:
		bad("petitioner.kind", msg.ChoosePetitionerKind)
	}
	if n := utf8.RuneCountInString(p.Name); n < 2 || n > MaxName {
		bad("petitioner.name", msg.PetitionerNameLength)
	}
	if p.Email == "" && p.Phone == "" {
		bad("petitioner.contact", msg.ContactNeeded)
	}
	if p.Email != "" {
		if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email || len(p.Email) > 254 {
			bad("petitioner.email", msg.EmailInvalid)
		}
	}
	if p.Phone != "" && !phonePattern.MatchString(p.Phone) {
		bad("petitioner.phone", msg.PhoneInvalid)
	}
	if utf8.RuneCountInString(p.Address) > MaxAddress {
		bad("petitioner.address", msg.AddressTooLong)
	}
	if p.IdentityNumber != "" && !identityPattern.MatchString(p.IdentityNumber) {
		bad("petitioner.identity_number", msg.IdentityNumberFormat)
	}
	if n := utf8.RuneCountInString(s.Title); n < 5 || n > MaxTitle {
		bad("title", msg.TitleLength)
	}
	if n := utf8.RuneCountInString(s.Body); n < MinBody || n > MaxBody {
		bad("body", msg.BodyLength)
	}
	valid := false
	for _, c := range Categories {
		valid = valid || c == s.Category
	}
	if !valid {
		bad("category", msg.ChooseCategory)
	}
	if utf8.RuneCountInString(s.ProcedureRef) > MaxRef {
		bad("procedure_ref", msg.ProcedureRefTooLong)
	}
	if utf8.RuneCountInString(s.LegalRef) > MaxRef {
		bad("legal_ref", msg.LegalRefTooLong)
	}
	if s.TargetAgency != "" && !agencyPattern.MatchString(s.TargetAgency) {
		bad("target_agency", msg.AgencyCodeInvalid)
	}
	switch s.Channel {
	case Online, InPerson, Phone, Post:
	default:
		bad("channel", msg.UnknownChannel)
	}
	return errs
}

// Routing maps categories to the agency that handles them by default.
type Routing struct {
	Default    string              // agency for any category without its own
	ByCategory map[Category]string // e.g. regulation -> the Department of Justice
}

// Route returns the agency that should handle s: the one the petitioner
// named, when known, else the category's default.
func (r Routing) Route(s *Submission, known func(code string) bool) string {
	if s.TargetAgency != "" && known(s.TargetAgency) {
		return s.TargetAgency
	}
	if a, ok := r.ByCategory[s.Category]; ok {
		return a
	}
	return r.Default
}

// Fold turns Vietnamese text into a search form without diacritics, in lower
// case ("Thủ tục ĐĂNG KÝ" -> "thu tuc dang ky"), so a search finds text
// with or without its accents.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := true // no leading space; collapse runs
	for _, r := range s {
		if r < utf8.RuneSelf {
			switch {
			case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			case 'A' <= r && r <= 'Z':
				r += 'a' - 'A'
			default:
				r = ' '
			}
		} else if f, ok := foldTable[r]; ok {
			r = f
		} else if unicode.Is(unicode.Mn, r) {
			continue // a combining mark of decomposed text
		} else if unicode.IsLetter(r) || unicode.IsDigit(r) {
			r = unicode.ToLower(r)
		} else {
			r = ' '
		}
		if r == ' ' {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		b.WriteRune(r)
		space = false
	}
	return strings.TrimSuffix(b.String(), " ")
}

// foldTable maps each precomposed Latin letter (Vietnamese ones included)
// to its lower-case base letter, computed once from Unicode decompositions.
var foldTable = func() map[rune]rune {
	m := map[rune]rune{'đ': 'd', 'Đ': 'd'}
	for _, block := range [][2]rune{{0x00C0, 0x024F}, {0x1E00, 0x1EFF}} {
		for r := block[0]; r <= block[1]; r++ {
			if _, ok := m[r]; ok || !unicode.IsLetter(r) {
				continue
			}
			base := []rune(norm.NFD.String(string(r)))[0]
			if base < utf8.RuneSelf {
				m[r] = unicode.ToLower(base)
			}
		}
	}
	return m
}()

// ReopenWindow is how long after closing a petitioner may reopen, once.
const ReopenWindow = 30 * 24 * time.Hour

// Invalid is the Invalid error listing the field problems fes.
func Invalid(fes ...FieldError) error {
	return FieldsError(apperr.Invalid, msg.InvalidFields, fes)
}

// FieldsError is the error of code with message k listing the field
// problems fes.
func FieldsError(code apperr.Code, k msg.Key, fes []FieldError, args ...any) error {
	e := apperr.New(code, k, args...)
	for _, f := range fes {
		e.Fields = append(e.Fields, apperr.Field{Field: f.Field, VI: f.VI, EN: f.EN})
	}
	return e
}

// NewID returns a version 7 UUID (RFC 9562): 48 bits of Unix milliseconds
// then 74 random bits. Being time-ordered, new petitions are appended to the
// end of the primary-key index instead of written all over it. Petition ids
// are internal (the public sees tracking codes), so the time they carry
// reveals nothing the received_at column does not.
func NewID(now time.Time) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b[6:]); err != nil {
		return "", err
	}
	ms := uint64(now.UnixMilli())
	for i := 0; i < 6; i++ {
		b[i] = byte(ms >> (40 - 8*i))
	}
	b[6] = b[6]&0x0f | 0x70
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:]), nil
}
