package web

// The staff desk: the pages under /desk/ on which officials, reviewers,
// signers and administrators work. They sign in with the API's session
// (the same cookie, throttling and lock-out, through identity) and act
// through the same services as the API; the policy (internal/access)
// decides which buttons a page offers, and the services decide again when
// one is pressed.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"pakn/internal/access"
	"pakn/internal/apperr"
	"pakn/internal/credential"
	"pakn/internal/identity"
	"pakn/internal/msg"
	"pakn/internal/petition"
)

// staffBar is who is signed in, shown at the top of every desk page.
type staffBar struct {
	Name, Username, Agency string
	Roles                  []string
	Admin, AdminLabel      string // the first administration page the viewer may read, if any, and its name
}

// deskView starts a desk page for the signed-in a.
func (s *Site) deskView(w http.ResponseWriter, r *http.Request, a *identity.Authn, title msg.Key, data any) *view {
	v := s.view(w, r, title, data)
	v.Desk = true
	if a != nil && a.Account != nil {
		bar := &staffBar{Name: a.Account.DisplayName, Username: a.Account.Username, Agency: s.agencyName(r, a.Account.Agency, v)}
		for _, role := range a.Account.Roles {
			bar.Roles = append(bar.Roles, v.L(roleLabels[role]))
		}
		if bar.Admin = s.adminHome(a.Principal); bar.Admin == "/desk/admin/report" {
			bar.AdminLabel = v.L(msg.AdminReportTitle) // the only one of its pages the viewer may read
		} else {
			bar.AdminLabel = v.L(msg.AdminTitle)
		}
		v.Staff = bar
		if a.Session != nil {
			v.SessionEnds = a.Session.EndsAt().UnixMilli()
		}
	}
	return v
}

// roleLabels name the staff roles.
var roleLabels = map[access.Role]msg.Key{
	access.Official: msg.RoleOfficial, access.Reviewer: msg.RoleReviewer, access.Signer: msg.RoleSigner,
	access.Admin: msg.RoleAdmin, access.Auditor: msg.RoleAuditor,
}

// signInData is what the sign-in pages show and send again.
type signInData struct {
	Username string
	Next     string // the desk page to go to after signing in
	Ticket   string // the second step's sealed first step (see ticket)
}

// ticketTTL is how long the code step of a sign-in may wait.
const ticketTTL = 5 * time.Minute

// ticketContent is what a sign-in ticket seals: the first step's name and
// password, so the second step can sign in with the code (identity checks
// them all together, as the API does) without the password in the page.
type ticketContent struct {
	Username string    `json:"u"`
	Password string    `json:"p"`
	Expires  time.Time `json:"e"`
	nonce    string    // the ticket's own, which spend remembers
}

// ticketKey makes the AEAD sealing sign-in tickets: a key drawn when the
// process starts, so a ticket is worthless to another process or after a
// restart (the person signs in again).
func newTicketAEAD() (cipher.AEAD, error) {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// ticketCookie binds a ticket to the browser it was given to: a random
// value in a cookie of its own, sealed into the ticket's additional data,
// so a ticket copied out of a page is worthless elsewhere.
const ticketCookie = "__Host-pakn_signin"

// seal makes the ticket of a first step, bound to a new browser cookie.
func (s *Site) seal(w http.ResponseWriter, username, password string) (string, error) {
	plain, err := json.Marshal(ticketContent{Username: username, Password: password, Expires: time.Now().Add(ticketTTL)})
	if err != nil {
		return "", err
	}
	bind, nonce := make([]byte, 16), make([]byte, s.tickets.NonceSize())
	if _, err := rand.Read(bind); err != nil {
		return "", err
	}
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	b := base64.RawURLEncoding.EncodeToString(bind)
	setTicketCookie(w, b, int(ticketTTL.Seconds()))
	return base64.RawURLEncoding.EncodeToString(s.tickets.Seal(nonce, nonce, plain, []byte("pakn desk sign-in "+b))), nil
}

// setTicketCookie gives the browser the ticket's binding value for maxAge
// seconds (a negative maxAge removes it).
func setTicketCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: ticketCookie, Value: value, Path: "/", MaxAge: maxAge,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

var errTicket = apperr.New(apperr.Unauthenticated, msg.SignInAgain)

// open reads a ticket back in the browser it was given to; a forged,
// altered, expired or elsewhere-used one is refused.
func (s *Site) open(r *http.Request, ticket string) (*ticketContent, error) {
	c, err := r.Cookie(ticketCookie)
	if err != nil {
		return nil, errTicket
	}
	raw, err := base64.RawURLEncoding.DecodeString(ticket)
	n := s.tickets.NonceSize()
	if err != nil || len(ticket) > 4096 || len(raw) < n {
		return nil, errTicket
	}
	plain, err := s.tickets.Open(nil, raw[:n], raw[n:], []byte("pakn desk sign-in "+c.Value))
	if err != nil {
		return nil, errTicket
	}
	var t ticketContent
	if err := json.Unmarshal(plain, &t); err != nil || time.Now().After(t.Expires) {
		return nil, errTicket
	}
	t.nonce = string(raw[:n])
	if !s.reserve(&t) {
		return nil, errTicket
	}
	return &t, nil
}

// reserve takes ticket t for one sign-in attempt: false when it signed
// someone in already or another attempt holds it. The attempt's end keeps
// it spent (a success) or releases it (a wrong code: the next try may use it).
func (s *Site) reserve(t *ticketContent) bool {
	now := time.Now()
	s.spentMu.Lock()
	defer s.spentMu.Unlock()
	for k, exp := range s.spent {
		if now.After(exp) {
			delete(s.spent, k)
		}
	}
	if _, held := s.spent[t.nonce]; held {
		return false
	}
	s.spent[t.nonce] = t.Expires // until it expires, when it would be refused anyway
	return true
}

// release gives back a ticket whose attempt did not sign in.
func (s *Site) release(t *ticketContent) {
	s.spentMu.Lock()
	defer s.spentMu.Unlock()
	delete(s.spent, t.nonce)
}

// localNext is the desk page to return to after signing in: a path under
// /desk/ on this site, else the queues.
func localNext(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.RawPath != "" || path.Clean(u.Path) != u.Path && u.Path != "/desk/" ||
		!strings.HasPrefix(u.Path, "/desk/") || strings.Contains(next, "//") || strings.Contains(next, "\\") || strings.HasPrefix(u.Path, "/desk/signin") {
		return "/desk/"
	}
	return u.RequestURI()
}

// SignInForm shows the desk's sign-in form.
func (s *Site) SignInForm(w http.ResponseWriter, r *http.Request) {
	if s.edge.Session(r) != nil {
		http.Redirect(w, r, localNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	s.render(w, r, http.StatusOK, "desk_signin", s.deskView(w, r, nil, msg.DeskSignInTitle, &signInData{Next: localNext(r.URL.Query().Get("next"))}))
}

// SignIn checks the name and password: with MFA, it asks for the code on
// a second page; else the session starts.
func (s *Site) SignIn(w http.ResponseWriter, r *http.Request) {
	d := &signInData{Username: strings.TrimSpace(r.PostFormValue("username")), Next: localNext(r.PostFormValue("next"))}
	password := r.PostFormValue("password")
	res, err := s.identity.Login(r.Context(), s.edge.Meta(r), identity.LoginInput{Username: d.Username, Password: password})
	if apperr.CodeOf(err) == apperr.MFARequired {
		if d.Ticket, err = s.seal(w, d.Username, password); err == nil {
			s.render(w, r, http.StatusOK, "desk_code", s.deskView(w, r, nil, msg.DeskCodeTitle, d))
			return
		}
	}
	s.signedIn(w, r, d, res, err, "desk_signin")
}

// SignInCode finishes a sign-in with the code from the authenticator app
// or a recovery code.
func (s *Site) SignInCode(w http.ResponseWriter, r *http.Request) {
	d := &signInData{Next: localNext(r.PostFormValue("next")), Ticket: r.PostFormValue("ticket")}
	t, err := s.open(r, d.Ticket)
	if err != nil {
		s.signedIn(w, r, &signInData{Next: d.Next}, nil, err, "desk_signin")
		return
	}
	d.Username = t.Username
	in := identity.LoginInput{Username: t.Username, Password: t.Password}
	if code := strings.TrimSpace(r.PostFormValue("code")); len(code) > 8 {
		in.RecoveryCode = code
	} else {
		in.TOTP = code
	}
	res, err := s.identity.Login(r.Context(), s.edge.Meta(r), in)
	if err != nil {
		s.release(t)
	}
	s.signedIn(w, r, d, res, err, "desk_code")
}

// signedIn starts the session of res, or shows page again with err.
func (s *Site) signedIn(w http.ResponseWriter, r *http.Request, d *signInData, res *identity.LoginResult, err error, page string) {
	if err != nil {
		title := msg.DeskSignInTitle
		if page == "desk_code" {
			title = msg.DeskCodeTitle
		}
		if errors.Is(err, errTicket) || apperr.CodeOf(err) == apperr.RateLimited {
			page, title, d.Ticket = "desk_signin", msg.DeskSignInTitle, ""
		}
		v := s.deskView(w, r, nil, title, d)
		v.Errors = problems(err, v.Lang)
		s.render(w, r, s.fault(r, err), page, v)
		return
	}
	if old := s.edge.Session(r); old != nil { // signing in again, as someone else perhaps: the old session ends
		if err := s.identity.Logout(r.Context(), s.edge.Meta(r), old); err != nil {
			// The new session starts anyway; the old one ends at its idle time.
			s.log.ErrorContext(r.Context(), "end the session signed in over", "err", err, "request_id", s.edge.Meta(r).RequestID)
		}
	}
	s.edge.StartSession(w, res)
	setTicketCookie(w, "", -1) // the ticket is spent
	http.Redirect(w, r, s.firstStep(res.Authn, d.Next), http.StatusSeeOther)
}

// firstStep is where a new session goes: a restricted one must change its
// password or enrol MFA first.
func (s *Site) firstStep(a *identity.Authn, next string) string {
	switch a.Principal.Restricted {
	case "password_change":
		return "/desk/password"
	case "mfa_enrolment":
		return "/desk/mfa"
	}
	return next
}

// SignOut ends the session and returns to the sign-in page.
func (s *Site) SignOut(w http.ResponseWriter, r *http.Request) {
	if a := s.edge.Session(r); a != nil {
		if err := s.identity.Logout(r.Context(), s.edge.Meta(r), a); err != nil {
			s.Error(w, r, err)
			return
		}
	}
	s.edge.EndSession(w)
	http.Redirect(w, r, "/desk/signin", http.StatusSeeOther)
}

// staff returns the request's signed-in staff session, or sends the
// person to sign in (and back here after) and returns nil. A session that
// must change its password or enrol MFA is sent there first (that page and
// those below it, such as /desk/mfa/start, are its to use).
func (s *Site) staff(w http.ResponseWriter, r *http.Request) *identity.Authn {
	a := s.edge.Session(r)
	if a == nil || a.Account == nil {
		next := "/desk/"
		if r.Method == http.MethodGet {
			u := *r.URL
			q := u.Query()
			q.Del("q") // words searched for may be personal: not carried along
			u.RawQuery = q.Encode()
			next = u.RequestURI()
		}
		http.Redirect(w, r, "/desk/signin?next="+url.QueryEscape(localNext(next)), http.StatusSeeOther)
		return nil
	}
	if step := s.firstStep(a, ""); step != "" && r.URL.Path != step && !strings.HasPrefix(r.URL.Path, step+"/") {
		http.Redirect(w, r, step, http.StatusSeeOther)
		return nil
	}
	return a
}

// passwordData is the password change form's.
type passwordData struct {
	First bool // the first sign-in: the one-time password must be replaced
	Min   int
}

// PasswordForm shows the password change form.
func (s *Site) PasswordForm(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	s.render(w, r, http.StatusOK, "desk_password", s.deskView(w, r, a, msg.DeskPasswordTitle, s.passwordData(a)))
}

func (s *Site) passwordData(a *identity.Authn) *passwordData {
	return &passwordData{First: a.Principal.Restricted == "password_change", Min: credential.MinPasswordLen}
}

// ChangePassword changes the password; every session of the account ends,
// and this one starts again with the new password.
func (s *Site) ChangePassword(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	current, next := r.PostFormValue("current_password"), r.PostFormValue("new_password")
	var err error
	if next != r.PostFormValue("new_password_again") { // the form's own check: the two fields typed alike
		err = petition.Invalid(petition.Problem("new_password_again", msg.PasswordsDiffer))
	} else {
		err = s.identity.ChangePassword(r.Context(), s.edge.Meta(r), a, current, next)
	}
	if err != nil {
		v := s.deskView(w, r, a, msg.DeskPasswordTitle, s.passwordData(a))
		v.Errors = problems(err, v.Lang)
		s.render(w, r, s.fault(r, err), "desk_password", v)
		return
	}
	s.edge.EndSession(w)
	res, err := s.identity.Login(r.Context(), s.edge.Meta(r), identity.LoginInput{Username: a.Account.Username, Password: next})
	if err != nil { // MFA on: sign in again with a code
		http.Redirect(w, r, "/desk/signin?changed=1", http.StatusSeeOther)
		return
	}
	s.edge.StartSession(w, res)
	if res.Authn.Principal.Restricted == "mfa_enrolment" {
		// The next page shows the enrolment: started here, on a POST (if this
		// fails, that page offers to start it).
		_, _ = s.identity.Enrolment(r.Context(), s.edge.Meta(r), res.Authn, "")
	}
	http.Redirect(w, r, s.firstStep(res.Authn, "/desk/"), http.StatusSeeOther)
}

// mfaData is the enrolment page's: the secret as text and QR code, then the
// recovery codes.
type mfaData struct {
	NeedPassword bool // a session that need not enrol starts with the current password
	Secret       string
	QR           template.URL // a data: URL of the QR code image, made here (html/template would refuse a data: URL in a string)
	Recovery     []string
}

// MFAForm shows the enrolment started (its secret as a QR code and as
// text), or a button to start one: a GET changes nothing.
func (s *Site) MFAForm(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	s.showEnrolment(w, r, a, nil)
}

// StartMFA starts an enrolment (a new secret, or the one started and not
// yet confirmed) and shows it.
func (s *Site) StartMFA(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	e, err := s.identity.Enrolment(r.Context(), s.edge.Meta(r), a, r.PostFormValue("current_password"))
	switch {
	case s.sessionEnded(w, r, err, "/desk/mfa"):
	case apperr.CodeOf(err) == apperr.Invalid:
		s.showEnrolment(w, r, a, petition.Invalid(petition.Problem("current_password", msg.CurrentPasswordWrong))) // on its field
	case err != nil:
		s.Error(w, r, err)
	case a.Principal.Restricted == "mfa_enrolment":
		http.Redirect(w, r, "/desk/mfa", http.StatusSeeOther) // that page shows it again
	default:
		s.enrolmentPage(w, r, a, e, nil) // shown once: only a session that must enrol is shown it again
	}
}

// sessionEnded answers err when it ended the session (the fifth wrong
// password or code): the person signs in again, and comes back to back.
func (s *Site) sessionEnded(w http.ResponseWriter, r *http.Request, err error, back string) bool {
	if apperr.CodeOf(err) != apperr.Unauthenticated {
		return false
	}
	s.edge.EndSession(w)
	http.Redirect(w, r, "/desk/signin?next="+url.QueryEscape(back), http.StatusSeeOther)
	return true
}

func (s *Site) showEnrolment(w http.ResponseWriter, r *http.Request, a *identity.Authn, problem error) {
	e, err := s.identity.PendingEnrolment(r.Context(), a)
	if err == nil && e == nil && a.Account.MFAEnabled {
		err = apperr.New(apperr.Conflict, msg.MFAAlreadyOn)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.enrolmentPage(w, r, a, e, problem)
}

// enrolmentPage shows enrolment e (its secret as QR code and text), or the
// form that starts one when e is nil.
func (s *Site) enrolmentPage(w http.ResponseWriter, r *http.Request, a *identity.Authn, e *credential.Enrolment, problem error) {
	d := &mfaData{NeedPassword: a.Principal.Restricted != "mfa_enrolment"}
	if e != nil {
		d.Secret, d.QR = inGroups(e.Secret, 4), template.URL("data:image/png;base64,"+base64.StdEncoding.EncodeToString(e.QRPNG))
	}
	v := s.deskView(w, r, a, msg.DeskMFATitle, d)
	v.DataImages = true
	s.renderWith(w, r, "desk_mfa", v, problem)
}

// inGroups writes s in groups of n characters, to be read and typed.
func inGroups(s string, n int) string {
	var b strings.Builder
	for i, r := range s {
		if i > 0 && i%n == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ConfirmMFA turns MFA on with a first code and shows the ten recovery
// codes, once.
func (s *Site) ConfirmMFA(w http.ResponseWriter, r *http.Request) {
	a := s.staff(w, r)
	if a == nil {
		return
	}
	codes, err := s.identity.ConfirmEnrolment(r.Context(), s.edge.Meta(r), a, strings.TrimSpace(r.PostFormValue("code")))
	switch {
	case s.sessionEnded(w, r, err, "/desk/mfa"):
		return
	case apperr.CodeOf(err) == apperr.Invalid && a.Principal.Restricted != "mfa_enrolment":
		// A key shown once (see StartMFA): a wrong first code starts again, with the password.
		s.showEnrolment(w, r, a, petition.Invalid(petition.Problem("current_password", msg.DeskMFAWrongCodeRestart)))
		return
	case err != nil:
		s.showEnrolment(w, r, a, err)
		return
	}
	s.render(w, r, http.StatusOK, "desk_recovery", s.deskView(w, r, a, msg.DeskRecoveryTitle, &mfaData{Recovery: codes}))
}
