package web

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"pakn/internal/msg"
	"pakn/internal/register"
	"pakn/internal/verify"
)

// verifyData is what the verification pages show: the register's entry of
// the reply a QR code leads to (on /verify/{id}), and the verdict on an
// uploaded file.
type verifyData struct {
	Entry   *register.Entry
	Report  *verify.Report
	Verdict *verdict
	Matches bool // the uploaded file is the entry's reply
}

// verdict is a report said in one sentence a person understands, with its
// colour: "ok" (green), "warn" (amber) or "bad" (red).
type verdict struct {
	Class, Sentence, Why string
}

// verdictOf says rep in the page's language.
func (v *view) verdictOf(rep *verify.Report) *verdict {
	why := rep.SummaryVI
	if v.Lang == msg.English {
		why = rep.SummaryEN
	}
	switch rep.Indication {
	case verify.TotalPassed:
		m := rep.Register
		switch {
		case m == nil || !m.Found: // a pass always has its register entry
			return &verdict{Class: "warn", Sentence: v.L(msg.VerdictUndecided), Why: why}
		case m.Kind == "receipt":
			return &verdict{Class: "ok", Sentence: v.L(msg.VerdictReceipt, m.TrackingCode, m.AgencyName, v.Date(m.SignedAt))}
		case m.Status == "superseded":
			return &verdict{Class: "warn", Sentence: v.L(msg.VerdictSuperseded, m.Number, m.AgencyName, v.Date(m.SignedAt)), Why: why}
		}
		return &verdict{Class: "ok", Sentence: v.L(msg.VerdictGenuine, m.Number, m.AgencyName, v.Date(m.SignedAt))}
	case verify.TotalFailed:
		if rep.SubIndication == verify.NotInRegister {
			return &verdict{Class: "bad", Sentence: v.L(msg.VerdictUnregistered), Why: why}
		}
		return &verdict{Class: "bad", Sentence: v.L(msg.VerdictAltered), Why: why}
	}
	if rep.RegisterUnavailable() {
		return &verdict{Class: "warn", Sentence: v.L(msg.VerdictNoRegister), Why: why}
	}
	return &verdict{Class: "warn", Sentence: v.L(msg.VerdictUndecided), Why: why}
}

// VerifyForm shows the form to check a PDF.
func (s *Site) VerifyForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "verify", s.view(w, r, msg.VerifyTitle, &verifyData{}))
}

// Verify checks an uploaded PDF (audited, bounded as the API's
// verifications) and shows the verdict.
func (s *Site) Verify(w http.ResponseWriter, r *http.Request) {
	s.verified(w, r, nil)
}

// ReplyPage is where a reply's QR code leads: what the register knows of
// the reply, and the form to check the file one holds.
func (s *Site) ReplyPage(w http.ResponseWriter, r *http.Request) {
	e, err := s.register.Entry(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "verify", s.view(w, r, msg.VerifyTitle, &verifyData{Entry: e}))
}

// ReplyVerify checks the PDF uploaded on a reply's page, and says whether
// it is that reply.
func (s *Site) ReplyVerify(w http.ResponseWriter, r *http.Request) {
	e, err := s.register.Entry(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.verified(w, r, e)
}

// verified verifies the upload and shows the verdict (with the entry of
// the page's reply, when there is one).
func (s *Site) verified(w http.ResponseWriter, r *http.Request, e *register.Entry) {
	d := &verifyData{Entry: e}
	v := s.view(w, r, msg.VerifyTitle, d)
	rep, err := s.edge.VerifyUpload(w, r)
	if err != nil {
		v.Errors = problems(err, v.Lang)
		s.render(w, r, s.fault(r, err), "verify", v)
		return
	}
	d.Report, d.Verdict = rep, v.verdictOf(rep)
	// The file is the page's document when the register found it by what its signature binds.
	d.Matches = e != nil && rep.Register != nil && rep.Register.Found && rep.Register.ReplyID == e.ReplyID
	status := http.StatusOK
	if rep.SubIndication == verify.FormatFailure {
		status = http.StatusUnprocessableEntity
	}
	s.render(w, r, status, "verify", v)
}
