package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"pakn/internal/access"
	"pakn/internal/agency"
	"pakn/internal/msg"
	"pakn/internal/petition"
	"pakn/internal/petitions"
)

// submitData is what the petition form shows: the values sent (after an
// error), the agencies to choose from and the form's idempotency key.
type submitData struct {
	Agencies   []agency.Agency
	Key        string // a fresh one per form shown, so a resent form gives the same receipt
	Categories []categoryChoice
	HadFiles   bool // files were chosen: say they must be chosen again
}

type categoryChoice struct {
	Value petition.Category
	Label msg.Key
}

var categoryChoices = []categoryChoice{
	{petition.CatRegulation, msg.CategoryRegulation},
	{petition.CatProposal, msg.CategoryProposal},
	{petition.CatConduct, msg.CategoryConduct},
	{petition.CatOther, msg.CategoryOther},
}

// SubmitForm shows the petition form.
func (s *Site) SubmitForm(w http.ResponseWriter, r *http.Request) {
	s.showForm(w, r, http.StatusOK, url.Values{"petitioner.kind": {string(petition.Individual)}}, nil, false)
}

// Submit receives the petition form: on success the receipt, else the form
// again with its values (files excepted) and every problem beside its
// field. The form's idempotency key makes a resent form (a reload, a
// double click) give the same receipt, never a second petition.
func (s *Site) Submit(w http.ResponseWriter, r *http.Request) {
	form, err := s.edge.ReadForm(w, r, checkWords)
	if err != nil {
		values := url.Values{"petitioner.kind": {string(petition.Individual)}}
		if form != nil && len(form.Values) > 0 {
			values = form.Values // what was read before the refusal
		}
		s.showForm(w, r, s.fault(r, err), values, err, true)
		return
	}
	defer form.Close()
	v := form.Values
	if err := checkWords(v); err != nil { // a form without files: checked here
		s.showForm(w, r, http.StatusUnprocessableEntity, v, err, len(form.Files) > 0)
		return
	}
	sub := submissionOf(v)
	rc, err := s.petitions.Submit(r.Context(), s.edge.Meta(r), access.Principal{Kind: access.Anonymous}, v.Get("idempotency_key"), sub, form.Files)
	if err != nil {
		s.showForm(w, r, s.fault(r, err), v, err, len(form.Files) > 0)
		return
	}
	s.receipt(w, r, rc)
}

// checkWords checks the form's words and consent as the service would,
// before any attachment is read (the page puts the files last).
func checkWords(v url.Values) error {
	sub := submissionOf(v)
	fes := sub.Normalize()
	if v.Get("consent") != "yes" {
		fes = append(fes, petition.Problem("consent", msg.ConsentRequired))
	}
	if len(fes) > 0 {
		return petition.Invalid(fes...)
	}
	return nil
}

// submissionOf reads the form's fields into a submission.
func submissionOf(v url.Values) petition.Submission {
	return petition.Submission{
		Petitioner: petition.Petitioner{Kind: petition.PetitionerKind(v.Get("petitioner.kind")), Name: v.Get("petitioner.name"),
			TaxCode: v.Get("petitioner.tax_code"), Email: v.Get("petitioner.email"), Phone: v.Get("petitioner.phone"),
			Address: v.Get("petitioner.address"), IdentityNumber: v.Get("petitioner.identity_number")},
		Title: v.Get("title"), Body: v.Get("body"), Category: petition.Category(v.Get("category")),
		TargetAgency: v.Get("target_agency"), ProcedureRef: v.Get("procedure_ref"), LegalRef: v.Get("legal_ref"),
	}
}

// showForm shows the petition form with values and err's problems.
func (s *Site) showForm(w http.ResponseWriter, r *http.Request, status int, values url.Values, err error, hadFiles bool) {
	ags, aerr := s.directory(r.Context())
	if aerr != nil {
		s.Error(w, r, aerr)
		return
	}
	d := &submitData{Agencies: ags, Key: newKey(), Categories: categoryChoices, HadFiles: hadFiles}
	v := s.view(w, r, msg.SubmitTitle, d)
	v.Values = values
	if err != nil {
		v.Errors = problems(err, v.Lang)
	}
	s.render(w, r, status, "submit", v)
}

// newKey is a fresh idempotency key for a form.
func newKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return "form-" + base64.RawURLEncoding.EncodeToString(b)
}

// receiptData is the receipt page's.
type receiptData struct {
	Receipt  *petitions.Receipt
	Agency   string // the receiving agency's name
	Calendar string // the holiday calendar's version
}

// receipt shows a new petition's receipt: its codes, in large type. The
// language switch sends the codes again (to ReceiptAgain): a link would lose
// them.
func (s *Site) receipt(w http.ResponseWriter, r *http.Request, rc *petitions.Receipt) {
	s.showReceipt(w, r, http.StatusCreated, rc)
}

// showReceipt renders the receipt page of rc with status.
func (s *Site) showReceipt(w http.ResponseWriter, r *http.Request, status int, rc *petitions.Receipt) {
	v := s.view(w, r, msg.ReceiptTitle, nil)
	v.Repost = &repost{Action: "/submit/receipt", Fields: [][2]string{{"tracking_code", rc.TrackingCode}, {"lookup_secret", rc.LookupSecret}}}
	v.Data = &receiptData{Receipt: rc, Agency: s.agencyName(r, rc.Agency, v), Calendar: s.petitions.Calendar().Version()}
	s.render(w, r, status, "receipt", v)
}

// ReceiptAgain shows the receipt page again to whoever posts its code and
// secret: what the receipt page's language switch sends. A wrong code or
// secret is answered as on the tracking page.
func (s *Site) ReceiptAgain(w http.ResponseWriter, r *http.Request) {
	d := codesOf(r)
	rc, err := s.petitions.ReceiptAgain(r.Context(), s.edge.Meta(r), d.Code, d.Secret)
	if err != nil {
		s.refused(w, r, d, err)
		return
	}
	s.showReceipt(w, r, http.StatusOK, rc)
}

// agencyName is the name of the agency code in the page's language, or
// the code when it is not in the directory.
func (s *Site) agencyName(r *http.Request, code string, v *view) string {
	ags, err := s.directory(r.Context())
	if err != nil {
		return code
	}
	for _, a := range ags {
		if a.Code == code {
			return v.AgencyLabel(a)
		}
	}
	return code
}

// AgencyLabel names agency a in the page's language.
func (v *view) AgencyLabel(a agency.Agency) string {
	if v.Lang == msg.English && strings.TrimSpace(a.NameEN) != "" {
		return a.NameEN
	}
	return a.NameVI
}
