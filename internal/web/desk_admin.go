package web

// The desk's administration (/desk/admin/): an agency administrator's
// accounts, integration tokens, the agency's signers (read only: keys are
// an operator's command) and the deadline report. Every action goes
// through identity (or petitions for the report), which authorises it and
// audits it as the API's. A change needs a fresh step-up: while the last
// one has lapsed, a page offers the code's form (/desk/step-up) instead of
// its own forms.

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/credential"
	"pakn/internal/deadline"
	"pakn/internal/identity"
	"pakn/internal/msg"
	"pakn/internal/petition"
	"pakn/internal/reply"
)

// adminTab is one page of the administration's navigation.
type adminTab struct {
	Path    string
	Label   string
	Current bool
}

// adminFrame is what every administration page shows: its tabs, and
// whether the viewer may change things here and must type a code first.
type adminFrame struct {
	Here      string // the page's own address, where a step-up returns
	Tabs      []adminTab
	CanManage bool
	NeedCode  bool
	Done      string // what the last action did
	DoneName  string
}

// adminTabs are the administration's pages, in the order shown, each
// offered to those who may read it.
var adminTabs = []struct {
	path  string
	label msg.Key
	read  access.Action
}{
	{"/desk/admin/", msg.AdminAccountsTitle, access.AccountRead},
	{"/desk/admin/tokens", msg.AdminTokensTitle, access.AccountRead},
	{"/desk/admin/signers", msg.AdminSignersTitle, access.AccountRead},
	{"/desk/admin/report", msg.AdminReportTitle, access.ReportRead},
}

// adminHome is the first administration page p may read ("" when none).
func (s *Site) adminHome(p access.Principal) string {
	for _, t := range adminTabs {
		if s.identity.May(p, t.read) {
			return t.path
		}
	}
	return ""
}

// adminDone says what the last action did.
var adminDone = map[string]msg.Key{
	"roles": msg.AdminRolesSaved, "disabled": msg.AdminDisabledDone, "mfa_reset": msg.AdminMFAResetDone, "revoked": msg.AdminTokenRevokedDone,
	"requested": msg.AdminRequestedDone, "approved": msg.AdminApprovedDone, "refused": msg.AdminRefusedDone,
}

// frame fills the administration's frame for the page at here, where
// manage is the action that changes things (or "" when none does).
func (s *Site) frame(r *http.Request, v *view, a *identity.Authn, here string, manage access.Action) adminFrame {
	f := adminFrame{Here: here}
	for _, t := range adminTabs {
		if s.identity.May(a.Principal, t.read) {
			f.Tabs = append(f.Tabs, adminTab{Path: t.path, Label: v.L(t.label), Current: t.path == here})
		}
	}
	if manage != "" {
		f.CanManage = s.identity.May(a.Principal, manage)
		f.NeedCode = f.CanManage && s.identity.StepUpFirst(a.Principal, manage)
	}
	if k, ok := adminDone[r.URL.Query().Get("done")]; ok {
		f.Done, f.DoneName = v.L(k), r.URL.Query().Get("done")
	}
	return f
}

// steppedUp checks the step-up code typed in a form, if any, before the
// action it comes with (the session's step-up, as the API's), and returns
// the session as it is then (a itself when no code was typed). It answers
// and returns nil when the code is refused: a wrong code is shown by
// refused as the field's problem; the fifth wrong one ends the session
// (sign in again, then back to back).
func (s *Site) steppedUp(w http.ResponseWriter, r *http.Request, a *identity.Authn, back string, refused func(error)) *identity.Authn {
	code := strings.TrimSpace(r.PostFormValue("code"))
	if code == "" {
		return a
	}
	in, recovery := code, ""
	if len(code) > 8 {
		in, recovery = "", code
	}
	up, err := s.identity.SteppedUp(r.Context(), s.edge.Meta(r), a, in, recovery)
	switch {
	case err == nil:
		return up
	case s.sessionEnded(w, r, err, back):
	case apperr.CodeOf(err) == apperr.Invalid:
		refused(petition.Invalid(petition.Problem("code", msg.WrongCode)))
	default:
		refused(err)
	}
	return nil
}

// accountRow is one account in the list.
type accountRow struct {
	ID, Name, Username, Roles, Status string
	Disabled                          bool
}

// accountsData is the accounts page's: the list, and the form to create one.
type accountsData struct {
	adminFrame
	Rows                  []accountRow
	Requests              []requestRow // the two-person rule's requests: open ones first
	Roles                 []option
	Username, DisplayName string        // typed in the form, kept after a problem
	ticked                []access.Role // the roles ticked in it
}

// AdminAccounts lists the agency's accounts, with the form to create one.
func (s *Site) AdminAccounts(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	s.showAccounts(w, r, a, &accountsData{}, nil)
}

func (s *Site) showAccounts(w http.ResponseWriter, r *http.Request, a *identity.Authn, d *accountsData, problem error) {
	list, err := s.identity.Accounts(r.Context(), s.edge.Meta(r), a.Principal)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := s.deskView(w, r, a, msg.AdminAccountsTitle, d)
	d.adminFrame = s.frame(r, v, a, "/desk/admin/", access.AccountManage)
	if d.Requests, err = s.requestRows(r, v, a); err != nil {
		s.Error(w, r, err)
		return
	}
	for _, acc := range list {
		d.Rows = append(d.Rows, accountRow{ID: acc.ID, Name: acc.DisplayName, Username: acc.Username, Roles: v.roleList(acc.Roles),
			Status: v.accountStatus(&acc), Disabled: acc.Disabled})
	}
	// An administrator creates accounts with the roles that need no second person.
	d.Roles = slices.DeleteFunc(v.roleOptions(d.ticked), func(o option) bool { return access.MFARequired([]access.Role{access.Role(o.Value)}) })
	s.renderWith(w, r, "desk_admin_accounts", v, problem)
}

// roleList names roles, comma-separated.
func (v *view) roleList(roles []access.Role) string {
	names := make([]string, len(roles))
	for i, role := range roles {
		names[i] = v.L(roleLabels[role])
	}
	return strings.Join(names, ", ")
}

// roleOptions are the roles as checkboxes, those in have checked.
func (v *view) roleOptions(have []access.Role) []option {
	out := make([]option, len(access.AllRoles))
	for i, role := range access.AllRoles {
		out[i] = option{Value: string(role), Label: v.L(roleLabels[role]), Selected: slices.Contains(have, role)}
	}
	return out
}

// accountStatus says in a few words what an account may do now.
func (v *view) accountStatus(acc *credential.Account) string {
	switch {
	case acc.Disabled:
		return v.L(msg.AdminStatusDisabled)
	case acc.MustChangePassword:
		return v.L(msg.AdminStatusFirstSignIn)
	case !acc.MFAEnabled && access.MFARequired(acc.Roles):
		return v.L(msg.AdminStatusNoMFA)
	}
	return v.L(msg.AdminStatusActive)
}

// formList is the values of a form's field that may be given several
// times (ticked boxes).
func formList(r *http.Request, name string) []string {
	_ = r.ParseForm() // a body too large is refused before the handler; an unreadable one ticks nothing
	return r.PostForm[name]
}

// formRoles are the roles ticked in the form.
func formRoles(r *http.Request) []access.Role {
	var roles []access.Role
	for _, v := range formList(r, "role") {
		roles = append(roles, access.Role(v))
	}
	return roles
}

// secretData is the page showing a one-time password or a token's secret,
// once.
type secretData struct {
	Heading, Lead, Secret, Back, BackLabel string
}

// CreateAccount creates an account in the administrator's agency and
// shows its one-time password, once.
func (s *Site) CreateAccount(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	n := identity.NewAccount{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"),
		Agency: a.Account.Agency, Roles: formRoles(r)}
	acc, pw, err := s.identity.CreateAccount(r.Context(), s.edge.Meta(r), a.Principal, n)
	if err != nil {
		s.refusal(w, r, err, func(p error) {
			s.showAccounts(w, r, a, &accountsData{Username: n.Username, DisplayName: n.DisplayName, ticked: n.Roles}, p)
		})
		return
	}
	v := s.deskView(w, r, a, msg.AdminCreatedTitle, nil)
	v.Data = &secretData{Heading: v.L(msg.AdminCreatedTitle), Lead: v.L(msg.AdminCreatedLead, acc.DisplayName, acc.Username), Secret: pw,
		Back: "/desk/admin/accounts/" + acc.ID, BackLabel: v.L(msg.AdminToAccount)}
	s.render(w, r, http.StatusOK, "desk_admin_secret", v)
}

// accountData is one account's page.
type accountData struct {
	adminFrame
	Account *credential.Account
	Roles   []option
	Names   string // the account's roles, named
	Status  string
	Own     bool // the viewer's own account: it cannot disable itself
	Created string
}

// AdminAccount shows one account of the agency and what may be done to it.
func (s *Site) AdminAccount(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	s.showAccount(w, r, a, nil)
}

func (s *Site) showAccount(w http.ResponseWriter, r *http.Request, a *identity.Authn, problem error) {
	id := chi.URLParam(r, "id")
	acc, err := s.identity.ManagedAccount(r.Context(), s.edge.Meta(r), a.Principal, id)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d := &accountData{Account: acc, Own: acc.ID == a.Account.ID}
	v := s.deskView(w, r, a, msg.AdminAccountTitle, d)
	d.adminFrame = s.frame(r, v, a, "/desk/admin/accounts/"+url.PathEscape(acc.ID), access.AccountManage)
	d.Roles, d.Names, d.Status, d.Created = v.roleOptions(acc.Roles), v.roleList(acc.Roles), v.accountStatus(acc), v.Time(acc.CreatedAt)
	s.renderWith(w, r, "desk_admin_account", v, problem)
}

// accountAction runs an action on the account of the page's URL, then
// shows the account with what done says it did.
func (s *Site) accountAction(w http.ResponseWriter, r *http.Request, done func() string,
	act func(a *identity.Authn, id string) error) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	id := chi.URLParam(r, "id")
	if err := act(a, id); err != nil {
		s.accountRefused(w, r, a, err)
		return
	}
	http.Redirect(w, r, "/desk/admin/accounts/"+url.PathEscape(id)+"?done="+done(), http.StatusSeeOther)
}

// said is a done that always says the same.
func said(done string) func() string { return func() string { return done } }

// accountRefused shows the account's page with err above it, or the
// error's own page when the account is not the viewer's to manage.
func (s *Site) accountRefused(w http.ResponseWriter, r *http.Request, a *identity.Authn, err error) {
	s.refusal(w, r, err, func(p error) { s.showAccount(w, r, a, p) })
}

// AccountRoles gives the account the roles ticked in the form: each role
// added or withdrawn is its own audited change, as through the API.
// A signer's or administrator's role ticked by an administrator becomes a
// request another administrator approves (the page says so).
func (s *Site) AccountRoles(w http.ResponseWriter, r *http.Request) {
	requested := false
	s.accountAction(w, r, func() string { return cond(requested, "requested", "roles") }, func(a *identity.Authn, id string) error {
		m := s.edge.Meta(r)
		acc, err := s.identity.ManagedAccount(r.Context(), m, a.Principal, id)
		if err != nil {
			return err
		}
		want := formRoles(r)
		for _, role := range access.AllRoles {
			has, wanted := slices.Contains(acc.Roles, role), slices.Contains(want, role)
			var req *credential.PowerRequest
			switch {
			case wanted && !has:
				req, err = s.identity.AddRole(r.Context(), m, a.Principal, id, role)
			case has && !wanted:
				err = s.identity.RemoveRole(r.Context(), m, a.Principal, id, role)
			}
			if err != nil {
				return err
			}
			requested = requested || req != nil
		}
		return nil
	})
}

// cond is a if c, else b.
func cond(c bool, a, b string) string {
	if c {
		return a
	}
	return b
}

// AccountDisable disables the account and ends its sessions, once the
// form's box says the administrator knows it is final.
func (s *Site) AccountDisable(w http.ResponseWriter, r *http.Request) {
	s.accountAction(w, r, said("disabled"), func(a *identity.Authn, id string) error {
		if r.PostFormValue("confirm") != "yes" { // the form's own check: disabling is final
			return petition.Invalid(petition.Problem("confirm", msg.AdminDisableUnconfirmed))
		}
		return s.identity.Disable(r.Context(), s.edge.Meta(r), a.Principal, id)
	})
}

// AccountMFAReset removes the account's authenticator and recovery codes:
// it enrols again at its next sign-in.
func (s *Site) AccountMFAReset(w http.ResponseWriter, r *http.Request) {
	var req *credential.PowerRequest
	s.accountAction(w, r, func() string { return cond(req != nil, "requested", "mfa_reset") }, func(a *identity.Authn, id string) (err error) {
		req, err = s.identity.ResetMFA(r.Context(), s.edge.Meta(r), a.Principal, id)
		return err
	})
}

// AccountPasswordReset gives the account a new one-time password and shows
// it, once.
func (s *Site) AccountPasswordReset(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	id := chi.URLParam(r, "id")
	pw, req, err := s.identity.ResetPassword(r.Context(), s.edge.Meta(r), a.Principal, id)
	if err != nil {
		s.accountRefused(w, r, a, err)
		return
	}
	if req != nil { // the approver receives the password
		http.Redirect(w, r, "/desk/admin/accounts/"+url.PathEscape(id)+"?done=requested", http.StatusSeeOther)
		return
	}
	v := s.deskView(w, r, a, msg.AdminPasswordResetTitle, nil)
	v.Data = &secretData{Heading: v.L(msg.AdminPasswordResetTitle), Lead: v.L(msg.AdminPasswordResetLead), Secret: pw,
		Back: "/desk/admin/accounts/" + url.PathEscape(id), BackLabel: v.L(msg.AdminToAccount)}
	s.render(w, r, http.StatusOK, "desk_admin_secret", v)
}

// tokenRow is one integration token in the list.
type tokenRow struct {
	ID, Name, Scopes, Created, Expires, Status string
	Active                                     bool
}

// tokensData is the tokens page's: the list, and the form to issue one.
type tokensData struct {
	adminFrame
	Rows   []tokenRow
	Scopes []option
	Days   []option
	Name   string
}

// tokenDays are the lifetimes the form offers, in days (the first is the
// default, identity.DefaultTokenTTL).
var tokenDays = []int{90, 30, 180, 365}

// AdminTokens lists the agency's integration tokens, with the form to
// issue one.
func (s *Site) AdminTokens(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	s.showTokens(w, r, a, &tokensData{}, nil, 0)
}

func (s *Site) showTokens(w http.ResponseWriter, r *http.Request, a *identity.Authn, d *tokensData, problem error, days int) {
	list, err := s.identity.Tokens(r.Context(), s.edge.Meta(r), a.Principal)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	v := s.deskView(w, r, a, msg.AdminTokensTitle, d)
	d.adminFrame = s.frame(r, v, a, "/desk/admin/tokens", access.TokenManage)
	now := time.Now()
	for _, t := range list {
		row := tokenRow{ID: t.ID, Name: t.Name, Scopes: joinScopes(t.Scopes), Created: v.Date(t.CreatedAt), Expires: v.Date(t.ExpiresAt)}
		switch {
		case t.Revoked:
			row.Status = v.L(msg.AdminTokenRevoked)
		case now.After(t.ExpiresAt):
			row.Status = v.L(msg.AdminTokenExpired)
		default:
			row.Status, row.Active = v.L(msg.AdminTokenActive), true
		}
		d.Rows = append(d.Rows, row)
	}
	if d.Scopes == nil {
		d.Scopes = scopeOptions(a.Principal.Roles, nil)
	}
	for _, n := range tokenDays {
		d.Days = append(d.Days, option{Value: strconv.Itoa(n), Label: v.L(msg.AdminDays, n), Selected: n == days})
	}
	s.renderWith(w, r, "desk_admin_tokens", v, problem)
}

func joinScopes(scopes []access.Action) string {
	names := make([]string, len(scopes))
	for i, a := range scopes {
		names[i] = string(a)
	}
	return strings.Join(names, ", ")
}

// scopeOptions are the scopes a token may be given by a member of staff
// with roles (only what they hold themselves), those in have ticked.
func scopeOptions(roles []access.Role, have []access.Action) []option {
	var out []option
	for _, a := range access.TokenScopes() {
		if access.RolesHold(roles, a) {
			out = append(out, option{Value: string(a), Label: string(a), Selected: slices.Contains(have, a)})
		}
	}
	return out
}

// IssueToken issues an integration token and shows its secret, once.
func (s *Site) IssueToken(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	name := r.PostFormValue("name")
	var scopes []access.Action
	for _, v := range formList(r, "scope") {
		scopes = append(scopes, access.Action(v))
	}
	days, _ := strconv.Atoi(r.PostFormValue("days"))
	if !slices.Contains(tokenDays, days) {
		days = tokenDays[0]
	}
	t, secret, err := s.identity.IssueToken(r.Context(), s.edge.Meta(r), a.Principal, name, scopes, time.Duration(days)*24*time.Hour)
	if err != nil {
		s.refusal(w, r, err, func(p error) {
			s.showTokens(w, r, a, &tokensData{Name: name, Scopes: scopeOptions(a.Principal.Roles, scopes)}, p, days)
		})
		return
	}
	v := s.deskView(w, r, a, msg.AdminTokenIssuedTitle, nil)
	v.Data = &secretData{Heading: v.L(msg.AdminTokenIssuedTitle), Lead: v.L(msg.AdminTokenIssuedLead, t.Name, v.Date(t.ExpiresAt)), Secret: secret,
		Back: "/desk/admin/tokens", BackLabel: v.L(msg.AdminToTokens)}
	s.render(w, r, http.StatusOK, "desk_admin_secret", v)
}

// RevokeToken revokes an integration token of the agency.
func (s *Site) RevokeToken(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	if err := s.identity.RevokeToken(r.Context(), s.edge.Meta(r), a.Principal, chi.URLParam(r, "id")); err != nil {
		s.refusal(w, r, err, func(p error) { s.showTokens(w, r, a, &tokensData{}, p, 0) })
		return
	}
	http.Redirect(w, r, "/desk/admin/tokens?done=revoked", http.StatusSeeOther)
}

// signerRow is one signer key of the agency.
type signerRow struct {
	Name, Title, OnBehalf, Key, Serial, Until, Status, Certificate, CertClass string
}

// signersData is the signers page's.
type signersData struct {
	adminFrame
	Rows []signerRow
}

// signerStatusLabels name a signer row's statuses.
var signerStatusLabels = map[string]msg.Key{"active": msg.AdminSignerActive, "retired": msg.AdminSignerRetired, "revoked": msg.AdminSignerRevoked}

// certLabels name a signer certificate's states.
var certLabels = map[string]msg.Key{
	reply.CertValid: msg.AdminCertValid, reply.CertExpiringSoon: msg.AdminCertExpiring, reply.CertExpired: msg.AdminCertExpired,
	reply.CertNotYetValid: msg.AdminCertNotYet,
}

// AdminSigners lists the agency's signers and their certificates' state,
// read only: an operator provisions, rotates and revokes them.
func (s *Site) AdminSigners(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	list, err := s.identity.Signers(r.Context(), s.edge.Meta(r), a.Principal)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d := &signersData{}
	v := s.deskView(w, r, a, msg.AdminSignersTitle, d)
	d.adminFrame = s.frame(r, v, a, "/desk/admin/signers", "")
	now := time.Now()
	for i := range list {
		g := &list[i]
		state := g.CertificateState(now)
		d.Rows = append(d.Rows, signerRow{Name: g.FullName, Title: g.Title, OnBehalf: g.OnBehalf,
			Key: g.KeyName + " v" + strconv.Itoa(g.KeyVersion) + " (" + g.KeyType + ")", Serial: g.Serial(), Until: v.Date(g.Certificate.NotAfter),
			Status: v.L(signerStatusLabels[g.Status]), Certificate: v.L(certLabels[state]), CertClass: state})
	}
	s.render(w, r, http.StatusOK, "desk_admin_signers", v)
}

// reportRow is one agency in the deadline report.
type reportRow struct {
	Agency           string
	Overdue, DueSoon int
}

// reportData is the deadline report's page.
type reportData struct {
	adminFrame
	Rows                       []reportRow
	TotalOverdue, TotalDueSoon int
	SoonDays                   int // how many working days left count as due soon
	Today                      string
}

// AdminReport shows the deadline report: overdue and due-soon petitions of
// the agency and every agency below it.
func (s *Site) AdminReport(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	counts, err := s.petitions.DueReport(r.Context(), s.edge.Meta(r), a.Principal)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	d := &reportData{}
	v := s.deskView(w, r, a, msg.AdminReportTitle, d)
	d.adminFrame = s.frame(r, v, a, "/desk/admin/report", "")
	d.Today, d.SoonDays = v.Date(time.Now()), deadline.DueSoonDays
	for _, c := range counts {
		d.Rows = append(d.Rows, reportRow{Agency: s.agencyName(r, c.Agency, v), Overdue: c.Overdue, DueSoon: c.DueSoon})
		d.TotalOverdue += c.Overdue
		d.TotalDueSoon += c.DueSoon
	}
	s.render(w, r, http.StatusOK, "desk_admin_report", v)
}

// stepUpData is the step-up page's: where to go back to (Here, as an
// administration page's frame names itself, for the form's next page).
type stepUpData struct{ Here string }

// StepUpForm asks for a fresh code before sensitive actions (the pages
// that need one offer the same form).
func (s *Site) StepUpForm(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	s.showStepUp(w, r, a, localNext(r.URL.Query().Get("next")), nil)
}

func (s *Site) showStepUp(w http.ResponseWriter, r *http.Request, a *identity.Authn, next string, problem error) {
	s.renderWith(w, r, "desk_stepup", s.deskView(w, r, a, msg.AdminStepUpTitle, &stepUpData{Here: next}), problem)
}

// StepUp checks a fresh code from the authenticator app (or a recovery
// code) and returns to the page that needed it.
func (s *Site) StepUp(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	next := localNext(r.PostFormValue("next"))
	refused := func(err error) { s.showStepUp(w, r, a, next, err) }
	if strings.TrimSpace(r.PostFormValue("code")) == "" {
		refused(petition.Invalid(petition.Problem("code", msg.WrongCode)))
		return
	}
	if s.steppedUp(w, r, a, next, refused) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}
