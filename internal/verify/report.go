package verify

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"pakn/internal/msg"
)

// summarize writes the one-sentence summaries in Vietnamese and English.
func (r *Report) summarize() {
	if r.Indication == "" {
		r.Indication, r.SubIndication = TotalFailed, FormatFailure
	}
	k, args := sentence(r.Indication, r.SubIndication), []any(nil)
	switch {
	case r.RegisterUnavailable():
		k = msg.VerifyRegisterDown
	case r.Indication == TotalPassed && r.Register != nil && r.Register.Found:
		switch {
		case r.Register.Status == "superseded":
			k, args = msg.VerifySuperseded, []any{r.Register.Number}
		case r.Register.Kind == "receipt":
			k, args = msg.VerifyReceipt, []any{r.Register.TrackingCode}
		default:
			k, args = msg.VerifyCurrent, []any{r.Register.Number}
		}
	}
	r.SummaryVI, r.SummaryEN = k.VI(args...), k.EN(args...)
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

// sentence gives the summary for an indication and sub-indication.
func sentence(ind, sub string) msg.Key {
	if ind == TotalPassed {
		return msg.VerifyPassed
	}
	switch sub {
	case HashFailure:
		return msg.VerifyAltered
	case SigConstraintsFailure:
		return msg.VerifyContentAdded
	case SigCryptoFailure:
		return msg.VerifyBadSignature
	case NoCertificateChain, NoSigningCertificate:
		return msg.VerifyUntrusted
	case Revoked:
		return msg.VerifyRevoked
	case ChainConstraintsFailure:
		return msg.VerifyNotForSigning
	case OutOfBoundsNoPOE, NotYetValid:
		return msg.VerifyNoProofOfTime
	case TryLater:
		return msg.VerifyTryLater
	case TimeLimitExceeded:
		return msg.VerifyTimeLimit
	case SignedDataNotFound:
		return msg.VerifyUnsigned
	case NotInRegister:
		return msg.VerifyNotRegistered
	case RegisterNotConsulted:
		return msg.VerifyRegisterNotConsulted
	case FormatFailure:
		return msg.VerifyMalformed
	}
	if ind == Indeterminate {
		return msg.VerifyIndeterminate
	}
	return msg.VerifyBadSignature
}

// Text renders the report for a terminal.
//
// Every line is terminal-safe: a certificate's names are the signer's to
// choose, and an escape sequence in one could repaint the verdict above it.
func (r *Report) Text() string {
	var b strings.Builder
	w := func(s ...string) { b.WriteString(terminalSafe(strings.Join(s, ""))); b.WriteByte('\n') }
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
		w("register  ", r.Register.Kind, " ", r.Register.ReplyID, ", ", r.Register.Number, ", ", r.Register.AgencyName, ", ", r.Register.Status)
	}
	return b.String()
}

// terminalSafe writes control and formatting characters (escape
// sequences, carriage returns, bidirectional overrides, zero-width
// characters) as \u escapes, so text from a document cannot move the
// terminal's cursor or reorder what is shown.
func terminalSafe(s string) string {
	if !strings.ContainsFunc(s, unsafeRune) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unsafeRune(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}
