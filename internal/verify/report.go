package verify

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// summarize writes the one-sentence summaries in Vietnamese and English.
func (r *Report) summarize() {
	if r.Indication == "" {
		r.Indication, r.SubIndication = TotalFailed, FormatFailure
	}
	vi, en := sentences(r.Indication, r.SubIndication)
	if r.Indication == TotalPassed && r.Register != nil {
		switch {
		case !r.Register.Found:
			vi = "Chữ ký số hợp lệ, nhưng văn bản này không có trong sổ đăng ký văn bản trả lời đã phát hành."
			en = "The signature is valid, but this file is not among the replies the system issued."
		case r.Register.Status == "superseded":
			vi = "Văn bản " + r.Register.Number + " là bản gốc, chữ ký hợp lệ, nhưng đã được thay thế bằng văn bản đính chính."
			en = "Reply " + r.Register.Number + " is genuine and unaltered, but a correction has superseded it."
		default:
			vi = "Văn bản " + r.Register.Number + " là bản gốc, không bị sửa đổi, chữ ký số hợp lệ và là văn bản hiện hành."
			en = "Reply " + r.Register.Number + " is genuine, unaltered, validly signed and current."
		}
	}
	r.SummaryVI, r.SummaryEN = vi, en
}

// maxDetail bounds a check's detail, in bytes: a report's size must not
// grow with its input.
const maxDetail = 240

// bound cuts every check's detail to maxDetail bytes (at a character
// boundary). With at most MaxSignatures signatures of a fixed set of checks
// each, a report's size is bounded whatever the document.
func (r *Report) bound() {
	cut := func(cs []Check) {
		for i := range cs {
			cs[i].Detail = cutString(cs[i].Detail)
		}
	}
	cut(r.Checks)
	for i := range r.Signatures {
		cut(r.Signatures[i].Checks)
		if c := r.Signatures[i].Signer; c != nil {
			for _, f := range []*string{&c.Subject, &c.CommonName, &c.Organization, &c.Issuer} {
				*f = cutString(*f)
			}
		}
	}
}

// cutString cuts s to maxDetail bytes at a character boundary.
func cutString(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	n := maxDetail
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// sentences gives the summary for an indication and sub-indication.
func sentences(ind, sub string) (vi, en string) {
	switch ind {
	case TotalPassed:
		return "Văn bản không bị sửa đổi sau khi ký và chữ ký số hợp lệ.",
			"The document is unaltered since signing and the signature is valid."
	}
	switch sub {
	case HashFailure:
		return "Văn bản đã bị sửa đổi sau khi ký: nội dung không khớp với chữ ký.",
			"The document was altered after signing: its content does not match the signature."
	case SigConstraintsFailure:
		return "Văn bản đã bị thêm nội dung sau khi ký.", "Content was added to the document after signing."
	case SigCryptoFailure:
		return "Chữ ký số không hợp lệ.", "The signature is not valid."
	case NoCertificateChain, NoSigningCertificate:
		return "Chứng thư ký không do cơ quan chứng thực được tin cậy cấp.",
			"The signing certificate was not issued by a trusted authority."
	case Revoked:
		return "Chứng thư của người ký đã bị thu hồi trước thời điểm ký.",
			"The signer's certificate was revoked before the signing time."
	case ChainConstraintsFailure:
		return "Chứng thư của người ký không dùng để ký văn bản.",
			"The signer's certificate is not meant for signing documents."
	case OutOfBoundsNoPOE, NotYetValid:
		return "Chứng thư của người ký không còn hoặc chưa có hiệu lực, và không có dấu thời gian chứng minh thời điểm ký.",
			"The signer's certificate is not valid now and no time-stamp proves when it was signed."
	case TryLater:
		return "Chưa thể kết luận: không kiểm tra được tình trạng thu hồi; hãy thử lại sau.",
			"No conclusion yet: revocation could not be checked; try again later."
	case TimeLimitExceeded:
		return "Chưa thể kết luận: việc kiểm tra mất quá nhiều thời gian nên đã dừng lại; tệp chưa được đánh giá. Hãy thử lại sau.",
			"No conclusion: the verification took too long and was stopped, so the file was not judged either way. Try again later."
	case SignedDataNotFound:
		return "Tệp không có chữ ký số.", "The file carries no signature."
	case FormatFailure:
		return "Tệp không phải là văn bản PDF được ký hợp lệ hoặc đã bị hỏng.",
			"The file is not a well-formed signed PDF, or it is damaged."
	}
	if ind == Indeterminate {
		return "Chưa thể kết luận về chữ ký số.", "The signature could not be assessed."
	}
	return "Chữ ký số không hợp lệ.", "The signature is not valid."
}

// Text renders the report for a terminal.
func (r *Report) Text() string {
	var b strings.Builder
	w := func(s ...string) { b.WriteString(strings.Join(s, "")); b.WriteByte('\n') }
	ind := r.Indication
	if r.SubIndication != "" {
		ind += " / " + r.SubIndication
	}
	w(ind)
	w("  ", r.SummaryVI)
	w("  ", r.SummaryEN)
	w("document  sha256 ", r.SHA256)
	for _, s := range r.Signatures {
		si := s.Indication
		if s.SubIndication != "" {
			si += " / " + s.SubIndication
		}
		w("signature #", strconv.Itoa(s.Index), "  ", si)
		if s.Signer != nil {
			w("  signer      ", s.Signer.CommonName, " (", s.Signer.Organization, "), serial ", s.Signer.Serial)
			w("  issuer      ", s.Signer.Issuer)
			w("  valid       ", s.Signer.NotBefore.Format("2006-01-02"), " to ", s.Signer.NotAfter.Format("2006-01-02"))
		}
		w("  checked at  ", s.ValidationTime.Format("2006-01-02 15:04:05 UTC"))
		for _, c := range s.Checks {
			w("  [", c.Result, "] ", c.Name, ": ", c.Detail)
		}
	}
	for _, c := range r.Checks {
		w("[", c.Result, "] ", c.Name, ": ", c.Detail)
	}
	if r.Register != nil && r.Register.Found {
		w("register  reply ", r.Register.ReplyID, ", ", r.Register.Number, ", ", r.Register.AgencyName, ", ", r.Register.Status)
	}
	return b.String()
}
