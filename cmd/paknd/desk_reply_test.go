package main

import (
	"context"
	"crypto/x509/pkix"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"pakn/internal/access"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/guard"
	"pakn/internal/identity"
	"pakn/internal/pdftest"
	"pakn/internal/postgres"
	"pakn/internal/reply"
	"pakn/internal/servicetest"
	"pakn/internal/vault"
)

// The whole day of a reply, through the desk's pages only: an official
// starts on the petition and drafts a reply, after a look at its preview;
// a reviewer sends it back once, with a comment, and approves the
// corrected draft; the signer, whose step-up has lapsed, signs with a code
// from the authenticator; the citizen downloads the signed reply on
// /track and /verify says it is genuine. An official is offered no review
// or signature, and a direct POST to sign is refused.
func TestTheWholeDayOfAReply(t *testing.T) {
	w := newWebsite(t)
	const pw = "mật khẩu đủ dài của cán bộ"
	w.readyAccount("dk-official", pw, "", access.Official)
	w.readyAccount("dk-reviewer", pw, "", access.Reviewer)
	secret := w.readyAccount("dk-signer", pw, "Lê Hoàng Cường", access.Signer)
	id, code, lookup := w.submitWithCodes(servicetest.Submission())

	w.deskSignIn("dk-official", pw, "")
	w.do("start handling", chromedp.Navigate(w.base+"/desk/petitions/"+id), chromedp.WaitVisible(chromedp.ID("action-accept")),
		chromedp.Click(chromedp.ID("action-accept")), chromedp.WaitVisible(chromedp.ID("done-accept")),
		chromedp.Click(chromedp.ID("action-start")), chromedp.WaitVisible(chromedp.ID("done-start")))
	w.do("draft", chromedp.Click(chromedp.ID("draft-reply")), chromedp.WaitVisible(chromedp.ID("f-summary")))
	w.accessible("draft form")
	w.do("an empty draft", chromedp.Click(chromedp.ID("save-draft")), chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	w.accessible("draft form with errors")
	w.do("a draft", chromedp.SendKeys(chromedp.ID("f-summary"), "Đề nghị rút ngắn thời hạn đăng ký hộ kinh doanh"),
		chromedp.SendKeys(chromedp.ID("f-answer"), "Hồ sơ của bà đã được giải quyết ngày 05/10.\nSở đã nhắc nhở bộ phận một cửa về thời hạn."),
		chromedp.SendKeys(chromedp.ID("f-legal-basis-0"), "Nghị định số 01/2021/NĐ-CP"),
		chromedp.SendKeys(chromedp.ID("f-legal-basis-0-articles"), "Điều 88"),
		chromedp.SetValue(chromedp.ID("f-outcome"), string(reply.Explained)),
		chromedp.Click(chromedp.ID("save-draft")), chromedp.WaitVisible(chromedp.ID("done-drafted")))
	replyPath := eval[string](w, "location.pathname")
	if eval[bool](w, `!!document.getElementById("approve") || !!document.getElementById("sign")`) {
		t.Fatal("an official is offered to approve or sign")
	}
	w.accessible("reply (drafted)")
	w.shot("desk-reply-drafted")
	preview := w.get(replyPath + "/preview")
	if !strings.HasPrefix(string(preview), "%PDF-") || !strings.Contains(pdftest.Text(t, preview), "BẢN XEM TRƯỚC") {
		t.Fatalf("the preview: %.60q", preview)
	}
	w.do("sign out", chromedp.Click(chromedp.CSS(".staff-bar button")), chromedp.WaitVisible(chromedp.ID("f-username")))

	// The reviewer sends it back; the official corrects it; the reviewer approves.
	w.deskSignIn("dk-reviewer", pw, "")
	w.do("send back", chromedp.Navigate(w.base+replyPath), chromedp.WaitVisible(chromedp.ID("send-back")),
		chromedp.SendKeys(chromedp.ID("f-comment"), "Bổ sung khoản của Điều 88."),
		chromedp.Click(chromedp.ID("send-back")), chromedp.WaitVisible(chromedp.ID("done-sent_back")))
	w.do("sign out", chromedp.Click(chromedp.CSS(".staff-bar button")), chromedp.WaitVisible(chromedp.ID("f-username")))
	w.deskSignIn("dk-official", pw, "")
	w.do("redraft", chromedp.Navigate(w.base+"/desk/petitions/"+id+"/reply"), chromedp.WaitVisible(chromedp.ID("f-legal-basis-0-articles")))
	eval[bool](w, `document.getElementById("f-legal-basis-0-articles").value = "Khoản 2 Điều 88"; true`)
	w.do("save the corrected draft", chromedp.Click(chromedp.ID("save-draft")), chromedp.WaitVisible(chromedp.ID("done-drafted")))
	replyPath = eval[string](w, "location.pathname")
	w.do("sign out", chromedp.Click(chromedp.CSS(".staff-bar button")), chromedp.WaitVisible(chromedp.ID("f-username")))
	w.deskSignIn("dk-reviewer", pw, "")
	w.do("approve", chromedp.Navigate(w.base+replyPath), chromedp.WaitVisible(chromedp.ID("approve")),
		chromedp.Click(chromedp.ID("approve")), chromedp.WaitVisible(chromedp.ID("done-approved")))
	w.do("sign out", chromedp.Click(chromedp.CSS(".staff-bar button")), chromedp.WaitVisible(chromedp.ID("f-username")))

	w.signerSigns(replyPath, secret, pw)
	w.citizenChecks(code, lookup)
}

// signerSigns signs the approved reply at replyPath as dk-signer, whose
// step-up has lapsed: a code is asked for and given.
func (w *website) signerSigns(replyPath, secret, pw string) {
	t := w.t
	t.Helper()
	w.deskSignIn("dk-signer", pw, totpCode(t, secret, time.Now()))
	// The step-up the sign-in gave is six minutes old: a code is needed again.
	if _, err := w.s.db.Pool.Exec(context.Background(), `UPDATE sessions SET mfa_at = now() - interval '6 minutes'
		WHERE account_id = (SELECT id FROM accounts WHERE username = 'dk-signer') AND ended_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	w.do("the reply to sign", chromedp.Navigate(w.base+replyPath), chromedp.WaitVisible(chromedp.ID("f-code")))
	w.accessible("reply (to sign)")
	w.shot("desk-reply-sign")
	// The next step's code (accepted one step ahead): later than the one the sign-in used.
	w.do("sign with a code", chromedp.SendKeys(chromedp.ID("f-code"), totpCode(t, secret, time.Now().Add(30*time.Second))),
		chromedp.Click(chromedp.ID("sign")), chromedp.WaitVisible(chromedp.ID("done-signed")))
	if n := w.text("#reply-number"); n != "1/STP-HN-PAKN" {
		t.Fatalf("the signed reply's number: %q", n)
	}
	w.accessible("reply (signed)")
	w.shot("desk-reply-signed")
}

// citizenChecks has the citizen download the signed reply on /track and
// check it on /verify.
func (w *website) citizenChecks(code, lookup string) {
	t := w.t
	t.Helper()
	dir := t.TempDir()
	w.track(code, lookup)
	pdf := w.download(`form[action="/track/reply"] button`, dir)
	file := filepath.Join(dir, "tra-loi.pdf")
	if err := os.WriteFile(file, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	w.verifyFile(file)
	if v := w.text(".verdict"); !strings.Contains(v, "Văn bản thật và còn nguyên vẹn") || !strings.Contains(v, "1/STP-HN-PAKN") {
		t.Fatalf("verdict on the reply signed at the desk: %s", v)
	}
}

// get fetches path with the browser's session, as the browser's PDF viewer
// would (the page's policy lets no script fetch it).
func (w *website) get(path string) []byte {
	t := w.t
	t.Helper()
	ctx, cancel := context.WithTimeout(w.tab, time.Minute)
	defer cancel()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{w.base + path}})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, w.base+path, nil)
	for _, c := range res.Cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %.200s", path, resp.StatusCode, b)
	}
	return b
}

// deskSignIn signs username in at the desk, with code when the account
// has MFA, and waits for the first page.
func (w *website) deskSignIn(username, password, code string) {
	w.t.Helper()
	w.do("sign in as "+username, chromedp.Navigate(w.base+"/desk/signin"), chromedp.WaitVisible(chromedp.ID("f-username")),
		chromedp.SendKeys(chromedp.ID("f-username"), username), chromedp.SendKeys(chromedp.ID("f-password"), password),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".staff-bar, #f-code")))
	if code != "" {
		w.do("the code of "+username, chromedp.SendKeys(chromedp.ID("f-code"), code),
			chromedp.Click(chromedp.CSS(`main button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".staff-bar")))
	}
}

// ids is the identity service over the test's database and Vault, as an
// operator's command would use it.
func (w *website) ids() *identity.Service {
	t := w.t
	t.Helper()
	st := postgres.Stores(w.s.db.Pool, nil)
	vc, err := vault.Connect(context.Background(), vault.Config{Addr: w.s.v.Addr, Token: w.s.v.RootToken}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := identity.New(identity.Config{Stores: st, Guard: &guard.Guard{Audit: st.Audit, Now: time.Now},
		Hasher: credential.NewPasswordHasher(credential.DefaultArgon2, 1), Box: vault.NewTransitBox(vc, vault.MFAKey)})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// readyAccount creates a member of staff of the Department of Justice who
// has signed in once: password set to pw; for a role that needs it, MFA on
// (its secret is returned; the code of the previous 30 s step was used);
// for a signer, a key in Vault under the name name.
func (w *website) readyAccount(username, pw, name string, role access.Role) string {
	t, ctx := w.t, context.Background()
	t.Helper()
	st := postgres.Stores(w.s.db.Pool, nil)
	ids := w.ids()
	m := audit.Meta{RequestID: "test"}
	acct, oneTime, err := ids.CreateAccount(ctx, m, access.Principal{Kind: access.Operator, Name: "test"},
		identity.NewAccount{Username: username, DisplayName: "Cán bộ " + username, Agency: "STP-HN", Roles: []access.Role{role}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ids.Login(ctx, m, identity.LoginInput{Username: username, Password: oneTime})
	if err == nil {
		err = ids.ChangePassword(ctx, m, res.Authn, oneTime, pw)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !access.MFARequired([]access.Role{role}) {
		return ""
	}
	if res, err = ids.Login(ctx, m, identity.LoginInput{Username: username, Password: pw}); err != nil {
		t.Fatal(err)
	}
	e, err := ids.StartEnrolment(ctx, m, res.Authn, "")
	if err == nil {
		_, err = ids.ConfirmEnrolment(ctx, m, res.Authn, totpCode(t, e.Secret, time.Now().Add(-30*time.Second)))
	}
	if err != nil {
		t.Fatal(err)
	}
	if role != access.Signer {
		return e.Secret
	}
	ps, err := vault.ProvisionSigner(ctx, w.s.v.Root(), username, "ecdsa-p256", pkix.Name{CommonName: name})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Tx.InTx(ctx, func(ctx context.Context) error {
		return st.Replies.AddSigner(ctx, &reply.Signer{AccountID: acct.ID, FullName: name, Title: "Phó Giám đốc",
			KeyName: ps.Key, KeyVersion: ps.Version, KeyType: "ecdsa-p256", Certificate: ps.Certificate, ChainPEM: ps.ChainPEM}, time.Now())
	})
	if err != nil {
		t.Fatal(err)
	}
	return e.Secret
}
