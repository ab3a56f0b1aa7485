package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-chi/chi/v5"

	"pakn/internal/access"
	"pakn/internal/identity"
	"pakn/internal/msg"
	"pakn/internal/reply"
)

// legalRows is how many legal documents the drafting form offers at once
// (the API takes up to reply.MaxLegalRefs).
const legalRows = 4

// draftData is the drafting form's: the petition, and the content typed
// (or the last reply's, to start from after it was sent back).
type draftData struct {
	PetitionID, Code, Title string
	Content                 reply.Content
	Legal                   []reply.LegalRef // legalRows rows, the empty ones last
	Outcomes                []option
	Supersedes              string // a correction of this signed reply
}

// DraftForm shows the form to draft a reply to the petition, filled with
// the last reply's words when there is one not signed (sent back, say).
func (s *Site) DraftForm(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	id := chi.URLParam(r, "id")
	// Only who may draft gets the form (a refusal is audited, as the API's).
	rec, err := s.petitions.ForStaff(r.Context(), s.edge.Meta(r), a.Principal, access.PetitionHandle, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d := &draftData{PetitionID: rec.ID, Code: rec.TrackingCode, Title: rec.Title}
	if list, err := s.replies.Replies(r.Context(), s.edge.Meta(r), a.Principal, id); err == nil && len(list) > 0 {
		last := list[len(list)-1]
		d.Content = last.Content
		if last.Status == reply.Signed {
			d.Supersedes = last.ID
		}
	}
	s.showDraft(w, r, a, d, nil)
}

// showDraft renders the drafting form with problem above it.
func (s *Site) showDraft(w http.ResponseWriter, r *http.Request, a *identity.Authn, d *draftData, problem error) {
	v := s.deskView(w, r, a, msg.DeskDraftTitle, d)
	d.Legal = append(append([]reply.LegalRef(nil), d.Content.LegalBasis...), make([]reply.LegalRef, legalRows)...)[:max(legalRows, len(d.Content.LegalBasis))]
	d.Outcomes = outcomeOptions(v, d.Content.Outcome)
	s.renderWith(w, r, "desk_draft", v, problem)
}

// Draft saves a drafted reply (to be reviewed) and shows it.
func (s *Site) Draft(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	id := chi.URLParam(r, "id")
	c := reply.Content{Summary: r.PostFormValue("summary"), Answer: r.PostFormValue("answer"),
		Outcome: reply.Outcome(r.PostFormValue("outcome")), OutcomeNote: r.PostFormValue("outcome_note")}
	for i := range legalRows {
		ref := reply.LegalRef{Document: strings.TrimSpace(r.PostFormValue(fmt.Sprintf("legal_basis[%d].document", i))),
			Articles: strings.TrimSpace(r.PostFormValue(fmt.Sprintf("legal_basis[%d].articles", i)))}
		if ref.Document != "" || ref.Articles != "" {
			c.LegalBasis = append(c.LegalBasis, ref)
		}
	}
	supersedes := r.PostFormValue("supersedes")
	rep, err := s.replies.DraftReply(r.Context(), s.edge.Meta(r), a.Principal, id, c, supersedes)
	if err != nil {
		s.refusal(w, r, err, func(p error) {
			s.showDraft(w, r, a, &draftData{PetitionID: id, Code: r.PostFormValue("code"), Title: r.PostFormValue("title"), Content: c,
				Supersedes: supersedes}, p)
		})
		return
	}
	http.Redirect(w, r, "/desk/replies/"+url.PathEscape(rep.ID)+"?done=drafted", http.StatusSeeOther)
}

// replyData is a reply's desk page.
type replyData struct {
	Reply          *reply.Reply
	Status         string
	Outcome        string
	Paragraphs     []string
	CanReview      bool
	CanSign        bool
	NeedCode       bool   // signing needs a code: the step-up has lapsed
	Done           string // what the last action did
	DoneName       string
	VerifyPath     string
	SignedAt       string
	PetitionPath   string
	ReviewComment  string
	ReviewNeedsFix bool // sent back: the comment says what to change
}

// replyStatusLabels name a reply's statuses.
var replyStatusLabels = map[reply.Status]msg.Key{
	reply.Draft: msg.DeskReplyDraft, reply.SentBack: msg.DeskReplySentBack, reply.Approved: msg.DeskReplyApproved, reply.Signed: msg.DeskReplySigned,
}

// replyDone says what the last action on a reply did.
var replyDone = map[string]msg.Key{
	"drafted": msg.DeskReplyDrafted, "approved": msg.DeskReplyApprovedDone, "sent_back": msg.DeskReplySentBackDone, "signed": msg.DeskReplySignedDone,
}

// Reply shows one reply: its words, its review, a preview of its PDF
// before it is signed, and what the viewer's roles may do with it now.
func (s *Site) Reply(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	s.showReply(w, r, a, nil)
}

func (s *Site) showReply(w http.ResponseWriter, r *http.Request, a *identity.Authn, problem error) {
	rep, err := s.replies.Reply(r.Context(), s.edge.Meta(r), a.Principal, chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d := &replyData{Reply: rep, Paragraphs: rep.Content.AnswerParagraphs(), PetitionPath: "/desk/petitions/" + rep.PetitionID,
		ReviewComment: rep.ReviewComment, ReviewNeedsFix: rep.Status == reply.SentBack}
	v := s.deskView(w, r, a, msg.DeskReplyTitle, d)
	d.Status, d.Outcome = v.L(replyStatusLabels[rep.Status]), v.OutcomeLabel(rep.Content.Outcome)
	if k, ok := replyDone[r.URL.Query().Get("done")]; ok {
		d.Done, d.DoneName = v.L(k), r.URL.Query().Get("done")
	}
	d.CanReview = rep.Status == reply.Draft && s.petitions.May(a.Principal, access.PetitionReview, rep.Agency)
	d.CanSign = rep.Status == reply.Approved && s.petitions.May(a.Principal, access.PetitionSign, rep.Agency)
	d.NeedCode = d.CanSign && s.petitions.StepUpFirst(a.Principal, access.PetitionSign, rep.Agency)
	if rep.Document != nil {
		d.VerifyPath, d.SignedAt = "/verify/"+rep.ID, v.Time(rep.Document.SignedAt)
	}
	s.renderWith(w, r, "desk_reply", v, problem)
}

// Review approves the reply or sends it back with a comment.
func (s *Site) Review(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	id := chi.URLParam(r, "id")
	approve := r.PostFormValue("decision") == "approve"
	_, err := s.replies.ReviewReply(r.Context(), s.edge.Meta(r), a.Principal, id, approve, strings.TrimSpace(r.PostFormValue("comment")))
	if err != nil {
		s.replyRefused(w, r, a, err)
		return
	}
	done := "sent_back"
	if approve {
		done = "approved"
	}
	http.Redirect(w, r, "/desk/replies/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
}

// Sign signs the approved reply, after the code from the authenticator
// app when the step-up has lapsed (the session's, as the API's).
func (s *Site) Sign(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	id := chi.URLParam(r, "id")
	refused := func(err error) { s.replyRefused(w, r, a, err) }
	if a = s.steppedUp(w, r, a, "/desk/replies/"+id, refused); a == nil {
		return
	}
	if _, err := s.replies.SignReply(r.Context(), s.edge.Meta(r), a.Principal, id); err != nil {
		s.replyRefused(w, r, a, err)
		return
	}
	http.Redirect(w, r, "/desk/replies/"+url.PathEscape(id)+"?done=signed", http.StatusSeeOther)
}

// replyRefused shows the reply's page with err above it, or the error's
// own page when the reply is not the viewer's to see.
func (s *Site) replyRefused(w http.ResponseWriter, r *http.Request, a *identity.Authn, err error) {
	if status := s.edge.Status(err); status == http.StatusNotFound {
		s.Error(w, r, err)
		return
	}
	s.showReply(w, r, a, err)
}

// ReplyPreview shows the reply's PDF as it will look, marked as a preview
// (in the browser's viewer).
func (s *Site) ReplyPreview(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	pdf, err := s.replies.PreviewPDF(r.Context(), s.edge.Meta(r), a.Principal, chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", `inline; filename="xem-truoc.pdf"`)
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write(pdf)
}

// ReplyPDF downloads the signed reply.
func (s *Site) ReplyPDF(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	rep, pdf, err := s.replies.ReplyPDF(r.Context(), s.edge.Meta(r), a.Principal, chi.URLParam(r, "id"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	sendPDF(w, "tra-loi-"+strings.NewReplacer("/", "-").Replace(rep.Document.Number)+".pdf", pdf)
}
