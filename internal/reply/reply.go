// Package reply is the structured answer to a petition: its content
// (summary, answer, legal basis, outcome), its review status, the text of
// the document it becomes, and the document number.
package reply

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"pakn/internal/deadline"
	"pakn/internal/msg"
	"pakn/internal/petition"
)

// Outcome is the result a reply announces.
type Outcome string

// The outcomes.
const (
	Explained   Outcome = "explained"    // the regulation is explained; nothing changes
	WillAmend   Outcome = "will_amend"   // the regulation will be amended
	WillAbolish Outcome = "will_abolish" // the regulation will be abolished
	Accepted    Outcome = "accepted"     // the proposal is accepted
	NotAccepted Outcome = "not_accepted" // the proposal is not accepted
	Transferred Outcome = "transferred"  // transferred to the competent authority
)

// Outcomes lists the outcomes with their Vietnamese and English text.
var Outcomes = map[Outcome][2]string{
	Explained:   {"Giải thích, hướng dẫn quy định hiện hành", "The current regulation is explained"},
	WillAmend:   {"Quy định sẽ được sửa đổi, bổ sung", "The regulation will be amended"},
	WillAbolish: {"Quy định sẽ được bãi bỏ", "The regulation will be abolished"},
	Accepted:    {"Tiếp thu kiến nghị", "The proposal is accepted"},
	NotAccepted: {"Không tiếp thu kiến nghị", "The proposal is not accepted"},
	Transferred: {"Chuyển cơ quan có thẩm quyền giải quyết", "Transferred to the competent authority"},
}

// LegalRef is one legal document cited, with the articles concerned.
type LegalRef struct {
	Document string `json:"document"`           // "Nghị định số 23/2015/NĐ-CP"
	Articles string `json:"articles,omitempty"` // "Điều 20, Điều 21"
}

// Content is what an official drafts.
type Content struct {
	Summary     string     `json:"summary"`      // the petition, in the agency's words
	Answer      string     `json:"answer"`       // the answer; blank lines separate paragraphs
	LegalBasis  []LegalRef `json:"legal_basis"`  // at least one
	Outcome     Outcome    `json:"outcome"`      //
	OutcomeNote string     `json:"outcome_note"` // explanation; the competent authority when transferred
}

// Limits of a reply's content.
const (
	MaxSummary   = 4000
	MaxAnswer    = 20000
	MaxLegalRefs = 20
	MaxRefText   = 300
	MaxNote      = 2000
	MaxComment   = 2000
	minSummary   = 10
	minAnswer    = 20
)

// Normalize cleans the content and returns its problems, field by field.
func (c *Content) Normalize() []petition.FieldError {
	var errs []petition.FieldError
	bad := func(field string, k msg.Key) { errs = append(errs, petition.Problem(field, k)) }
	c.Summary = petition.Clean(c.Summary, true)
	c.Answer = petition.Clean(c.Answer, true)
	c.OutcomeNote = petition.Clean(c.OutcomeNote, true)
	if n := utf8.RuneCountInString(c.Summary); n < minSummary || n > MaxSummary {
		bad("summary", msg.SummaryLength)
	}
	if n := utf8.RuneCountInString(c.Answer); n < minAnswer || n > MaxAnswer {
		bad("answer", msg.AnswerLength)
	}
	if len(c.LegalBasis) == 0 || len(c.LegalBasis) > MaxLegalRefs {
		bad("legal_basis", msg.LegalBasisCount)
	}
	for i := range c.LegalBasis {
		r := &c.LegalBasis[i]
		r.Document, r.Articles = petition.Clean(r.Document, false), petition.Clean(r.Articles, false)
		if n := utf8.RuneCountInString(r.Document); n < 3 || n > MaxRefText || utf8.RuneCountInString(r.Articles) > MaxRefText {
			bad(fmt.Sprintf("legal_basis[%d]", i), msg.LegalBasisItem)
		}
	}
	if _, ok := Outcomes[c.Outcome]; !ok {
		bad("outcome", msg.ChooseOutcome)
	}
	if utf8.RuneCountInString(c.OutcomeNote) > MaxNote {
		bad("outcome_note", msg.OutcomeNoteTooLong)
	}
	if c.Outcome == Transferred && c.OutcomeNote == "" {
		bad("outcome_note", msg.NameCompetentAuthority)
	}
	return errs
}

// Status is where a reply is in review.
type Status string

// The statuses.
const (
	Draft    Status = "draft"
	SentBack Status = "sent_back"
	Approved Status = "approved"
	Signed   Status = "signed"
)

// Reply is a reply with its review and, once signed, its document.
type Reply struct {
	ID            string    `json:"id"`
	PetitionID    string    `json:"petition_id"`
	Agency        string    `json:"agency"`
	Status        Status    `json:"status"`
	Content       Content   `json:"content"`
	Supersedes    string    `json:"supersedes,omitempty"`
	DraftedBy     string    `json:"drafted_by"`
	DraftedAt     time.Time `json:"drafted_at"`
	ReviewedBy    string    `json:"reviewed_by,omitempty"`
	ReviewedAt    time.Time `json:"reviewed_at,omitzero"`
	ReviewComment string    `json:"review_comment,omitempty"`
	Document      *Document `json:"document,omitempty"`
	// SealedContent is Content as the store holds it when sealed
	// (internal/sealed seals and opens it); "" for content in clear.
	SealedContent string `json:"-"`
}

// Document describes a signed reply as issued (its bytes are stored apart).
type Document struct {
	Number       string    `json:"number"`
	SHA256       string    `json:"sha256"`
	Size         int       `json:"size"`
	SignerName   string    `json:"signer_name"`
	SignerTitle  string    `json:"signer_title"`
	KeyName      string    `json:"key_name"`
	KeyVersion   int       `json:"key_version"`
	CertSerial   string    `json:"certificate_serial"`
	SignedAt     time.Time `json:"signed_at"`
	Timestamped  bool      `json:"timestamped"`
	SupersededBy string    `json:"superseded_by,omitempty"` // the reply that corrects this one
}

// Number formats a document number and symbol: "15/STP-HN-PAKN" (the
// sequence in the agency's yearly register, the agency's code, and PAKN for
// the petition desk that drafted it).
func Number(seq int, agency string) string {
	return fmt.Sprintf("%d/%s-PAKN", seq, agency)
}

// Letter is the context the body of a reply is written in.
type Letter struct {
	AgencyName   string // "Sở Tư pháp"
	Petitioner   petition.Petitioner
	TrackingCode string
	ReceivedAt   time.Time
	Replaces     string // number and date of the document a correction replaces
}

// Salutation names the petitioner as a letter addresses them.
func Salutation(p petition.Petitioner) string {
	switch {
	case p.Name == "":
		return Anonymised // a public version: nobody is named
	case p.Kind == petition.Organisation:
		return p.Name
	}
	return "Ông/Bà " + p.Name
}

// Anonymised names the petitioner in the public version of a reply.
const Anonymised = "Người phản ánh"

// inSentence writes a salutation as it reads inside a sentence.
func inSentence(s string) string {
	if s == Anonymised {
		return "người phản ánh"
	}
	return s
}

// AnswerParagraphs are the answer's paragraphs: its non-empty lines.
func (c *Content) AnswerParagraphs() []string {
	var out []string
	for _, p := range strings.Split(c.Answer, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Paragraphs writes the body of the document.
func (c *Content) Paragraphs(l Letter) []string {
	out := []string{fmt.Sprintf("Ngày %s, %s nhận được phản ánh, kiến nghị của %s (mã tra cứu %s) với nội dung: %s",
		l.ReceivedAt.In(deadline.ICT).Format("02/01/2006"), l.AgencyName, inSentence(Salutation(l.Petitioner)), l.TrackingCode, strings.TrimSuffix(c.Summary, ".")) + "."}
	out = append(out, fmt.Sprintf("Về nội dung này, %s trả lời như sau:", l.AgencyName))
	out = append(out, c.AnswerParagraphs()...)
	refs := make([]string, 0, len(c.LegalBasis))
	for _, r := range c.LegalBasis {
		s := r.Document
		if r.Articles != "" {
			s += ", " + r.Articles
		}
		refs = append(refs, s)
	}
	out = append(out, "Căn cứ pháp lý: "+strings.Join(refs, "; ")+".")
	res := "Kết quả xử lý: " + Outcomes[c.Outcome][0]
	if c.OutcomeNote != "" {
		res += ". " + strings.TrimSuffix(c.OutcomeNote, ".")
	}
	out = append(out, res+".")
	if l.Replaces != "" {
		out = append(out, "Văn bản này thay thế "+l.Replaces+".")
	}
	out = append(out, fmt.Sprintf("%s trân trọng thông báo để %s được biết./.", l.AgencyName, inSentence(Salutation(l.Petitioner))))
	return out
}

// ShortCode is the verification code printed on a reply: the last 12 hex
// digits of its id (random bits), grouped as XXXX-XXXX-XXXX.
func ShortCode(replyID string) string {
	if len(replyID) < 12 {
		return ""
	}
	t := strings.ToUpper(replyID[len(replyID)-12:])
	return t[0:4] + "-" + t[4:8] + "-" + t[8:12]
}

// ParseShortCode reads a short code as typed (case and dashes ignored) and
// returns the id's last 12 hex digits, or ok=false.
func ParseShortCode(s string) (string, bool) {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "-", ""))
	if len(s) != 12 {
		return "", false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdef", c) {
			return "", false
		}
	}
	return s, true
}

// LooksLikeID reports whether s has the form of a reply id (a UUID in
// lower case), as opposed to a short code.
func LooksLikeID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !strings.ContainsRune("0123456789abcdef", c) {
			return false
		}
	}
	return true
}
