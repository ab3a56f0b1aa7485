package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"pakn/internal/access"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/identity"
	"pakn/internal/servicetest"
)

// An administrator's day at the desk, through the pages only: the
// agency's accounts; a new official's account, whose one-time password is
// shown once and works; its roles changed (the signer's role becomes a
// request for a second administrator), its password reset, then the
// account disabled; once the step-up has lapsed, the page asks for a code
// first (a wrong one is refused on the page); an integration token issued
// (its secret shown once) and revoked; the agency's signers with their
// certificates; the deadline report with an overdue petition. Every
// change is in the audit log; every page passes axe-core, in both
// languages for the accounts. An official is offered only the report, and
// the accounts page is "not allowed" to them; when their session expires,
// the page asked for leads to signing in and back.
func TestAnAdministratorsDay(t *testing.T) {
	w := newWebsite(t)
	const pw = "mật khẩu quản trị đủ dài"
	secret := w.readyAccount("dk-admin", pw, "", access.Admin)
	w.deskSignIn("dk-admin", pw, totpCode(t, secret, time.Now()))
	w.do("administration", chromedp.Click(chromedp.CSS(`nav a[href="/desk/admin/"]`)), chromedp.WaitVisible(chromedp.ID("create-account")))
	if l := w.text("table.queue"); !strings.Contains(l, "dk-admin") || !strings.Contains(l, "web-official") {
		t.Fatalf("the agency's accounts: %s", l)
	}
	w.accessible("accounts")
	w.shot("desk-admin-accounts")

	// A new official: the one-time password, shown once, signs in.
	w.do("create an account", chromedp.SendKeys(chromedp.ID("f-username"), "dk-new"),
		chromedp.SendKeys(chromedp.ID("f-display-name"), "Phạm Thu Hà"), chromedp.Click(chromedp.ID("role-official")),
		chromedp.Click(chromedp.ID("role-reviewer")), chromedp.Click(chromedp.ID("create-account")), chromedp.WaitVisible(chromedp.ID("one-time-secret")))
	oneTime := w.text("#one-time-secret")
	w.accessible("one-time password")
	w.oneTimePasswordWorks("dk-new", oneTime)
	w.do("to the account", chromedp.Click(chromedp.ID("secret-done")), chromedp.WaitVisible(chromedp.ID("save-roles")))
	if s := w.text("#account-status"); !strings.Contains(s, "Chờ đăng nhập lần đầu") {
		t.Fatalf("a new account's status: %q", s)
	}
	// The reviewer's role withdrawn at once; the signer's requested (the two-person rule).
	w.do("change its roles", chromedp.Click(chromedp.ID("role-reviewer")), chromedp.Click(chromedp.ID("role-signer")),
		chromedp.Click(chromedp.ID("save-roles")), chromedp.WaitVisible(chromedp.ID("done-requested")))
	if r := w.text("#account-roles"); !strings.Contains(r, "chuyên viên") || strings.Contains(r, "người ký") || strings.Contains(r, "người duyệt") {
		t.Fatalf("the roles after the change: %q", r)
	}
	w.accessible("account")
	w.shot("desk-admin-account")
	w.do("reset its password", chromedp.Click(chromedp.ID("password-reset")), chromedp.WaitVisible(chromedp.ID("one-time-secret")))
	if again := w.text("#one-time-secret"); again == oneTime || len(again) < 12 {
		t.Fatalf("the reset password: %q (the first was %q)", again, oneTime)
	}
	w.do("back to the account", chromedp.Click(chromedp.ID("secret-done")), chromedp.WaitVisible(chromedp.ID("disable")))
	// Disabling is final: it asks to be confirmed first.
	w.do("disable it unconfirmed", chromedp.Click(chromedp.ID("disable")), chromedp.WaitVisible(chromedp.ID("f-confirm-error")))
	w.accessible("account, disabling unconfirmed")
	w.do("disable it", chromedp.Click(chromedp.ID("f-confirm")), chromedp.Click(chromedp.ID("disable")), chromedp.WaitVisible(chromedp.ID("done-disabled")))
	if s := w.text("#account-status"); s != "Đã khóa" || eval[bool](w, `!!document.getElementById("save-roles")`) {
		t.Fatalf("a disabled account: %q, still offering changes", s)
	}
	w.do("the accounts in English", chromedp.Navigate(w.base+"/desk/admin/?lang=en"), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #create-account`)))
	w.accessible("accounts (en)")
	w.do("back to Vietnamese", chromedp.Navigate(w.base+"/desk/admin/?lang=vi"), chromedp.WaitVisible(chromedp.CSS(`html[lang="vi"] #create-account`)))

	w.stepUpLapses("dk-admin", secret)
	w.tokens()
	w.signersAndReport()
	w.auditedChanges()
	w.officialSeesOnlyTheReport()
}

// oneTimePasswordWorks checks that a shown one-time password signs in (to
// a session that must change it first).
func (w *website) oneTimePasswordWorks(username, password string) {
	t := w.t
	t.Helper()
	res, err := w.ids().Login(context.Background(), audit.Meta{RequestID: "test"}, identity.LoginInput{Username: username, Password: password})
	if err != nil || res.Authn.Principal.Restricted != "password_change" {
		t.Fatalf("signing in with the one-time password: %+v %v", res, err)
	}
}

// stepUpLapses makes the administrator's step-up six minutes old: the
// tokens page asks for a code instead of showing its forms; a wrong code
// is refused on the page, the next one works and leads back.
func (w *website) stepUpLapses(username, secret string) {
	t := w.t
	t.Helper()
	if _, err := w.s.db.Pool.Exec(context.Background(), `UPDATE sessions SET mfa_at = now() - interval '6 minutes'
		WHERE account_id = (SELECT id FROM accounts WHERE username = $1) AND ended_at IS NULL`, username); err != nil {
		t.Fatal(err)
	}
	w.do("the tokens, the step-up lapsed", chromedp.Navigate(w.base+"/desk/admin/tokens"), chromedp.WaitVisible(chromedp.ID("stepup-form")))
	if eval[bool](w, `!!document.getElementById("issue-token")`) {
		t.Fatal("a lapsed step-up still shows the form to issue a token")
	}
	w.accessible("tokens, asking for a code")
	w.do("a wrong code", chromedp.SendKeys(chromedp.ID("f-code"), "000000"), chromedp.Click(chromedp.ID("stepup")),
		chromedp.WaitVisible(chromedp.ID("f-code-error")))
	if e := w.text(".error-summary"); !strings.Contains(e, "Mã xác thực không đúng") {
		t.Fatalf("a wrong code: %q", e)
	}
	w.accessible("step-up with a wrong code")
	w.shot("desk-stepup")
	// The next step's code (accepted one step ahead): later than the one the sign-in used.
	w.do("the right code", chromedp.SendKeys(chromedp.ID("f-code"), totpCode(t, secret, time.Now().Add(30*time.Second))),
		chromedp.Click(chromedp.ID("stepup")), chromedp.WaitVisible(chromedp.ID("issue-token")))
	if p := eval[string](w, "location.pathname"); p != "/desk/admin/tokens" {
		t.Fatalf("after the step-up: %s", p)
	}
}

// tokens issues an integration token (its secret shown once) and revokes it.
func (w *website) tokens() {
	t := w.t
	t.Helper()
	w.do("issue a token", chromedp.SendKeys(chromedp.ID("f-name"), "Cổng dịch vụ công"),
		chromedp.Click(chromedp.ID("f-scope-agency-read")), chromedp.SetValue(chromedp.ID("f-days"), "30"),
		chromedp.Click(chromedp.ID("issue-token")), chromedp.WaitVisible(chromedp.ID("one-time-secret")))
	if s := w.text("#one-time-secret"); !strings.HasPrefix(s, credential.TokenPrefix) {
		t.Fatalf("the token's secret: %q", s)
	}
	w.accessible("token issued")
	w.do("the tokens", chromedp.Click(chromedp.ID("secret-done")), chromedp.WaitVisible(chromedp.CSS("table.queue")))
	if l := w.text("table.queue"); !strings.Contains(l, "Cổng dịch vụ công") || !strings.Contains(l, "Còn hiệu lực") ||
		!strings.Contains(l, string(access.AgencyRead)) {
		t.Fatalf("the tokens: %s", l)
	}
	w.accessible("tokens")
	w.shot("desk-admin-tokens")
	w.do("revoke it", chromedp.Click(chromedp.CSS(`form[action$="/revoke"] button`)), chromedp.WaitVisible(chromedp.ID("done-revoked")))
	if l := w.text("table.queue"); !strings.Contains(l, "Đã thu hồi") {
		t.Fatalf("the revoked token: %s", l)
	}
}

// signersAndReport shows the agency's signer and the deadline report,
// with a petition made overdue.
func (w *website) signersAndReport() {
	t := w.t
	t.Helper()
	w.do("the signers", chromedp.Click(chromedp.CSS(`.admin-tabs a[href="/desk/admin/signers"]`)), chromedp.WaitVisible(chromedp.CSS(".signers")))
	if l := w.text(".signers"); !strings.Contains(l, "Lê Hoàng Cường") || !strings.Contains(l, "pakn-signer-web-signer v1") ||
		!strings.Contains(l, "Còn hiệu lực") || !strings.Contains(l, "Đang dùng") {
		t.Fatalf("the signers: %s", l)
	}
	w.accessible("signers")
	w.shot("desk-admin-signers")
	late := w.submit(servicetest.Submission())
	w.submit(servicetest.Submission())
	if _, err := w.s.db.Pool.Exec(context.Background(), `UPDATE petitions SET next_update_due = current_date - 1 WHERE id = $1`, late); err != nil {
		t.Fatal(err)
	}
	w.do("the report", chromedp.Click(chromedp.CSS(`.admin-tabs a[href="/desk/admin/report"]`)), chromedp.WaitVisible(chromedp.ID("total-overdue")))
	if o, r := w.text("#total-overdue"), w.text("table.queue tbody"); o != "1" || !strings.Contains(r, "Sở Tư pháp") {
		t.Fatalf("the report: %s overdue; %s", o, r)
	}
	w.accessible("deadline report")
}

// auditedChanges checks that every change made at the administration's
// pages is in the audit log, as the API's are.
func (w *website) auditedChanges() {
	t := w.t
	t.Helper()
	for _, action := range []string{"account.create", "account.power_request", "account.role_remove", "account.password_reset", "account.disable",
		"token.issue", "token.revoke", "auth.step_up"} {
		var n int
		err := w.s.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM audit_events WHERE action = $1 AND outcome = 'success'
			AND actor = 'account:' || (SELECT id FROM accounts WHERE username = 'dk-admin')`, action).Scan(&n)
		if err != nil || n == 0 {
			t.Errorf("no %s by the administrator in the audit log (%v)", action, err)
		}
	}
}

// officialSeesOnlyTheReport signs in an official: the staff bar offers the
// deadline report, and the accounts page is not allowed; after the session
// expired, the report leads to signing in and back.
func (w *website) officialSeesOnlyTheReport() {
	t := w.t
	t.Helper()
	w.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/desk/signout"] button`)), chromedp.WaitVisible(chromedp.ID("f-password")))
	const pw = "mật khẩu của chuyên viên"
	w.readyAccount("dk-clerk", pw, "", access.Official)
	w.deskSignIn("dk-clerk", pw, "")
	if href := eval[string](w, `(document.querySelector('nav a[href^="/desk/admin"]') || {}).pathname || ""`); href != "/desk/admin/report" {
		t.Fatalf("an official's administration link: %q", href)
	}
	w.do("the accounts, as an official", chromedp.Navigate(w.base+"/desk/admin/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if p := w.text("main"); !strings.Contains(p, "không có quyền") || strings.Contains(p, "dk-admin") {
		t.Fatalf("the accounts page for an official: %s", p)
	}
	w.do("the report, as an official", chromedp.Navigate(w.base+"/desk/admin/report"), chromedp.WaitVisible(chromedp.ID("total-overdue")))
	if tabs := w.text(".admin-tabs"); strings.Contains(tabs, "Tài khoản") {
		t.Fatalf("an official's tabs: %q", tabs)
	}
	// The session ends for lack of activity: the next page asked for leads to
	// signing in, and back to it after.
	if _, err := w.s.db.Pool.Exec(context.Background(), `UPDATE sessions SET last_seen_at = now() - interval '1 day'
		WHERE account_id = (SELECT id FROM accounts WHERE username = 'dk-clerk') AND ended_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	w.do("the report, the session expired", chromedp.Navigate(w.base+"/desk/admin/report?lang=vi"), chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), "dk-clerk"), chromedp.SendKeys(chromedp.ID("f-password"), pw),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("total-overdue")))
	if p := eval[string](w, "location.pathname"); p != "/desk/admin/report" {
		t.Fatalf("after signing in again: %s", p)
	}
}

// Two administrators, through the pages: the first asks for a signer's
// role for an official (a request: nothing changes, and they cannot
// approve it, only withdraw it); the second approves it and the official
// is a signer. The second then asks for the new signer's password to be
// reset (no password shown to them); the first approves and is shown the
// one-time password, which works.
func TestTwoAdministratorsForOnePower(t *testing.T) {
	w := newWebsite(t)
	const pw = "mật khẩu quản trị đủ dài"
	first := w.readyAccount("dk-first", pw, "", access.Admin)
	second := w.readyAccount("dk-second", pw, "", access.Admin)
	w.readyAccount("dk-clerk2", "mật khẩu của chuyên viên", "", access.Official)
	clerk, err := w.ids().FindAccount(context.Background(), "dk-clerk2")
	if err != nil {
		t.Fatal(err)
	}
	page := w.base + "/desk/admin/accounts/" + clerk.ID
	w.deskSignIn("dk-first", pw, totpCode(t, first, time.Now()))
	w.do("ask for the signer's role", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("save-roles")),
		chromedp.Click(chromedp.ID("role-signer")), chromedp.Click(chromedp.ID("save-roles")), chromedp.WaitVisible(chromedp.ID("done-requested")))
	if r := w.text("#account-roles"); strings.Contains(r, "người ký") {
		t.Fatalf("a request changed the roles: %q", r)
	}
	w.accessible("account, request sent")
	w.do("the requests", chromedp.Navigate(w.base+"/desk/admin/"), chromedp.WaitVisible(chromedp.ID("requests")))
	if l := w.text("#requests"); !strings.Contains(l, "dk-clerk2") || !strings.Contains(l, "Cấp vai trò: người ký") || !strings.Contains(l, "Rút lại") ||
		eval[bool](w, `!!document.querySelector('#requests form[action$="/approve"]')`) {
		t.Fatalf("the requester's view of the request: %s", l)
	}
	w.accessible("accounts with a request")
	w.shot("desk-admin-requests")
	// The sign-in page's password field (the accounts page has a username field too).
	w.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/desk/signout"] button`)), chromedp.WaitVisible(chromedp.ID("f-password")))

	w.deskSignIn("dk-second", pw, totpCode(t, second, time.Now()))
	w.do("approve it", chromedp.Navigate(w.base+"/desk/admin/"), chromedp.WaitVisible(chromedp.ID("requests")),
		chromedp.Click(chromedp.CSS(`#requests form[action$="/approve"] button`)), chromedp.WaitVisible(chromedp.ID("done-approved")))
	if l := w.text("#requests"); !strings.Contains(l, "Đã phê duyệt") {
		t.Fatalf("the approved request: %s", l)
	}
	w.do("ask for a new password", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("password-reset")),
		chromedp.Click(chromedp.ID("password-reset")), chromedp.WaitVisible(chromedp.ID("done-requested")))
	if r := w.text("#account-roles"); !strings.Contains(r, "người ký") || eval[bool](w, `!!document.getElementById("one-time-secret")`) {
		t.Fatalf("after the approval: roles %q; the requester must not see a password", r)
	}
	w.do("sign out", chromedp.Click(chromedp.CSS(`form[action="/desk/signout"] button`)), chromedp.WaitVisible(chromedp.ID("f-password")))

	// The next step's code (accepted one step ahead): later than the first sign-in's.
	w.deskSignIn("dk-first", pw, totpCode(t, first, time.Now().Add(30*time.Second)))
	w.do("approve the new password", chromedp.Navigate(w.base+"/desk/admin/"), chromedp.WaitVisible(chromedp.ID("requests")),
		chromedp.Click(chromedp.CSS(`#requests form[action$="/approve"] button`)), chromedp.WaitVisible(chromedp.ID("one-time-secret")))
	w.accessible("one-time password, to the approver")
	w.oneTimePasswordWorks("dk-clerk2", w.text("#one-time-secret"))
}
