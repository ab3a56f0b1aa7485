package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"pakn/internal/access"
	"pakn/internal/audit"
	"pakn/internal/credential"
	"pakn/internal/deadline"
	"pakn/internal/identity"
	"pakn/internal/petition"
	"pakn/internal/servicetest"
)

// An official's first day at the desk, in a real browser and through the
// pages only: the first sign-in with the one-time password (a new
// password, then MFA enrolment: the key from the page, a code from it,
// the recovery codes shown once), the queue with the day's petition, the
// petition without the petitioner's details until asked for (the reading
// audited), classifying it and posting a public update; another agency's
// petition is not found; after signing out, a page asked for leads to
// signing in, where a replayed code is refused and a recovery code works,
// and back to the page. Every desk page passes axe-core in both languages.
func TestOfficialsFirstDayAtTheDesk(t *testing.T) {
	w := newWebsite(t)
	// An official who also signs: the signer's role needs MFA, so the first sign-in enrols it.
	oneTime := w.newAccount("desk-official", "Trần Thị Minh", access.Official, access.Signer)
	mine := w.submit(servicetest.Submission())
	other := servicetest.Submission()
	other.TargetAgency, other.Title = "UBND-BD", "Phản ánh gửi quận Ba Đình"
	theirs := w.submit(other)

	const newPassword = "ba con mèo trèo cây cau"
	code, recovery := w.firstSignIn(mine, oneTime, newPassword)
	// The queue: the agency's petition, not the other agency's.
	if q := w.text("main"); !strings.Contains(q, "Thủ tục đăng ký hộ kinh doanh kéo dài") || strings.Contains(q, "quận Ba Đình") ||
		!strings.Contains(q, "còn 20 ngày làm việc") {
		t.Fatalf("the queue: %s", q)
	}
	if bar := w.text(".staff-bar"); !strings.Contains(bar, "Trần Thị Minh") || !strings.Contains(bar, "Sở Tư pháp") || !strings.Contains(bar, "chuyên viên") {
		t.Fatalf("who is signed in: %q", bar)
	}
	w.accessible("queue")
	w.shot("desk-queue")
	// Two minutes before the session ends for lack of activity, the page says
	// so; "keep working" uses the session (the page again) and the warning goes.
	eval[bool](w, `document.body.setAttribute("data-session-ends", String(Date.now() + 60000)); true`)
	w.do("the session's end is near", chromedp.WaitVisible(chromedp.ID("session-note")))
	if n := w.text("#session-note"); !strings.Contains(n, "sắp hết hạn") {
		t.Fatalf("the warning before the session ends: %q", n)
	}
	w.accessible("queue with the session warning")
	w.shot("desk-session-warning")
	// The page again, without the warning (its session end is half an hour away).
	w.do("keep working", chromedp.Click(chromedp.ID("session-continue")), chromedp.WaitNotPresent(chromedp.ID("session-note")),
		chromedp.WaitVisible(chromedp.CSS("table.queue")))
	// A search, without diacritics: its words travel in the form's body, never the URL.
	w.do("search the queue", chromedp.SendKeys(chromedp.ID("f-q"), "ho kinh doanh"),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`#f-q[value="ho kinh doanh"]`)))
	if q, where := w.text("#results"), eval[string](w, "location.href"); q != "1 phản ánh" || strings.Contains(where, "kinh") {
		t.Fatalf("a search of the queue: %q at %s", q, where)
	}

	w.workOnPetition(mine)
	// Another agency's petition is not found, as in the API.
	w.do("another agency's petition", chromedp.Navigate(w.base+"/desk/petitions/"+theirs), chromedp.WaitVisible(chromedp.CSS("h1")))
	if p := w.text("main"); strings.Contains(p, "quận Ba Đình") || !strings.Contains(p, "Không tìm thấy") {
		t.Fatalf("another agency's petition: %s", p)
	}

	// Sign out; a petition's page leads to signing in, where the code used
	// at enrolment is refused and a recovery code works, and back to the page.
	w.do("sign out", chromedp.Click(chromedp.CSS(".staff-bar button")), chromedp.WaitVisible(chromedp.ID("f-username")))
	w.do("the petition, signed out", chromedp.Navigate(w.base+"/desk/petitions/"+mine), chromedp.WaitVisible(chromedp.ID("f-username")))
	w.do("sign in again", chromedp.SendKeys(chromedp.ID("f-username"), "desk-official"), chromedp.SendKeys(chromedp.ID("f-password"), newPassword),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("f-code")))
	w.accessible("code")
	w.do("the code used before", chromedp.SendKeys(chromedp.ID("f-code"), code), chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	if e := w.text(".error-summary"); !strings.Contains(e, "đã được dùng") {
		t.Fatalf("a replayed code: %q", e)
	}
	w.do("a recovery code", chromedp.SendKeys(chromedp.ID("f-code"), recovery[0]), chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("show-petitioner")))
	if where := eval[string](w, "location.pathname"); where != "/desk/petitions/"+mine {
		t.Fatalf("after signing in: %s, want the petition's page asked for", where)
	}
}

// firstSignIn signs desk-official in for the first time, asking for the
// petition mine's page signed out: the one-time password replaced by
// newPassword, MFA enrolled; it returns the code used and the recovery
// codes, and leaves the browser on the queue.
func (w *website) firstSignIn(mine, oneTime, newPassword string) (code string, recovery []string) {
	t := w.t
	t.Helper()
	// A page of the desk without a session leads to the sign-in page, and back after.
	w.do("a petition's page, signed out", chromedp.Navigate(w.base+"/desk/petitions/"+mine), chromedp.WaitVisible(chromedp.ID("f-username")))
	w.accessible("sign-in")
	w.shot("desk-signin")
	w.do("sign in with the one-time password", chromedp.SendKeys(chromedp.ID("f-username"), "desk-official"),
		chromedp.SendKeys(chromedp.ID("f-password"), oneTime), chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("f-new-password")))
	if notice := w.text(".notice.warn"); !strings.Contains(notice, "lần đăng nhập đầu tiên") {
		t.Fatalf("the first sign-in does not say the password must change: %q", notice)
	}
	w.accessible("first password")
	w.do("two different new passwords", chromedp.SendKeys(chromedp.ID("f-current-password"), oneTime),
		chromedp.SendKeys(chromedp.ID("f-new-password"), newPassword), chromedp.SendKeys(chromedp.ID("f-new-password-again"), newPassword+"!"),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	if e := w.text(".error-summary"); !strings.Contains(e, "không giống nhau") {
		t.Fatalf("two different new passwords: %q", e)
	}
	w.do("change the password", chromedp.SendKeys(chromedp.ID("f-current-password"), oneTime),
		chromedp.SendKeys(chromedp.ID("f-new-password"), newPassword), chromedp.SendKeys(chromedp.ID("f-new-password-again"), newPassword),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("mfa-secret")))

	// MFA enrolment: the key from the page, a code computed from it.
	if eval[int](w, `document.querySelector("img.qr").naturalWidth`) == 0 {
		t.Fatal("the QR code to scan is not shown")
	}
	w.accessible("MFA enrolment")
	w.shot("desk-mfa")
	secret := strings.ReplaceAll(w.text("#mfa-secret"), " ", "")
	code = totpCode(t, secret, time.Now())
	w.do("confirm MFA", chromedp.SendKeys(chromedp.ID("f-code"), code), chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	recovery = strings.Fields(w.text("#recovery-codes"))
	if len(recovery) != 10 {
		t.Fatalf("recovery codes %q, want ten", recovery)
	}
	w.accessible("recovery codes")
	w.do("on to the desk", chromedp.Click(chromedp.CSS(`a[href="/desk/"].button`)), chromedp.WaitVisible(chromedp.CSS("table.queue")))

	return code, recovery
}

// workOnPetition opens the petition mine from the queue, shows the
// petitioner's details (audited), classifies and accepts it and posts a
// public update, checking the page in both languages.
func (w *website) workOnPetition(mine string) {
	t := w.t
	t.Helper()
	// The petition: no personal data until asked for.
	w.do("open the petition", chromedp.Click(chromedp.CSS(`table.queue a`)), chromedp.WaitVisible(chromedp.ID("show-petitioner")))
	if p := w.text("main"); strings.Contains(p, "Nguyễn Thị Hồng Nhung") || strings.Contains(p, "nhung@example.vn") {
		t.Fatalf("the petitioner's details are shown before they are asked for: %s", p)
	}
	views := func(personal bool) int {
		var n int
		q := `SELECT count(*) FROM audit_events WHERE action = 'petition.view' AND object_id = $1 AND actor LIKE 'account:%' AND (details::jsonb ? 'personal_data') = $2`
		if err := w.s.db.Pool.QueryRow(context.Background(), q, mine, !personal).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if views(false) != 1 || views(true) != 0 {
		t.Fatalf("readings audited: %d without, %d with the personal data; want 1 and 0", views(false), views(true))
	}
	w.accessible("petition")
	w.do("show the petitioner's details", chromedp.Click(chromedp.ID("show-petitioner")), chromedp.WaitVisible(chromedp.ID("petitioner")))
	if p := w.text("#petitioner"); !strings.Contains(p, "Nguyễn Thị Hồng Nhung") || !strings.Contains(p, "nhung@example.vn") {
		t.Fatalf("the petitioner's details: %s", p)
	}
	if views(true) != 1 {
		t.Fatalf("the reading of the personal data is not audited")
	}

	// Classify and accept it, then post a public update.
	w.do("accept", chromedp.Navigate(w.base+"/desk/petitions/"+mine), chromedp.WaitVisible(chromedp.ID("action-accept")),
		chromedp.SetValue(chromedp.ID("f-category-accept"), string(petition.CatProposal)),
		chromedp.Click(chromedp.ID("action-accept")), chromedp.WaitVisible(chromedp.ID("done-accept")))
	if p := w.text("main"); !strings.Contains(p, "Đã thực hiện: Phân loại và tiếp nhận xử lý.") || !strings.Contains(p, "Đã phân loại, giao cơ quan xử lý") ||
		!strings.Contains(p, "Đề xuất sửa đổi") {
		t.Fatalf("after accepting: %s", p)
	}
	if eval[bool](w, `!!document.getElementById("action-accept")`) {
		t.Fatal("an accepted petition still offers to accept it")
	}
	w.do("post an update", chromedp.SendKeys(chromedp.ID("f-message"), "Sở đang lấy ý kiến các phòng chuyên môn."),
		chromedp.Click(chromedp.ID("action-update")), chromedp.WaitVisible(chromedp.ID("done-update")))
	if p := w.text(".timeline"); !strings.Contains(p, "Sở đang lấy ý kiến các phòng chuyên môn.") {
		t.Fatalf("the update is not in the history: %s", p)
	}
	w.accessible("petition after actions")
	w.shot("desk-petition")
	w.do("the petition in English", chromedp.Navigate(w.base+"/desk/petitions/"+mine+"?lang=en"), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #action-update`)))
	w.accessible("petition (en)")
	w.do("the queue in English", chromedp.Navigate(w.base+"/desk/"), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] table.queue`)))
	w.accessible("queue (en)")
	w.do("back to Vietnamese", chromedp.Navigate(w.base+"/desk/?lang=vi"), chromedp.WaitVisible(chromedp.CSS(`html[lang="vi"] table.queue`)))
	w.myPetitions(mine)
}

// myPetitions filters the queue: the petitions the official handles (the
// one accepted), received today; a period that ends before it starts is
// refused on the page.
func (w *website) myPetitions(mine string) {
	t := w.t
	t.Helper()
	w.submit(servicetest.Submission()) // received, nobody's yet
	today := time.Now().In(deadline.ICT).Format("2006-01-02")
	w.do("the petition's handler", chromedp.Navigate(w.base+"/desk/petitions/"+mine), chromedp.WaitVisible(chromedp.ID("handler")))
	if h := w.text("#handler"); h != "Trần Thị Minh" {
		t.Fatalf("the handler of the petition accepted: %q", h)
	}
	w.do("only mine, received today", chromedp.Navigate(w.base+"/desk/"), chromedp.WaitVisible(chromedp.ID("f-mine")),
		chromedp.Click(chromedp.ID("f-mine")), chromedp.SetValue(chromedp.ID("f-received-from"), today),
		// The attribute only the answer's page carries (a typed value is a property).
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`#f-received-from[value="`+today+`"]`)))
	if q := w.text("#results"); q != "1 phản ánh" || !eval[bool](w, `!!document.querySelector('table.queue a[href="/desk/petitions/`+mine+`"]')`) {
		t.Fatalf("only mine: %q", q)
	}
	w.accessible("queue, only mine")
	w.do("a period backwards", chromedp.SetValue(chromedp.ID("f-received-to"), time.Now().AddDate(0, 0, -2).In(deadline.ICT).Format("2006-01-02")),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)), chromedp.WaitVisible(chromedp.ID("f-received-to-error")))
	w.accessible("queue, a period backwards")
}

// newAccount creates a member of staff of the Department of Justice as an
// administrator would, and returns the one-time password.
func (w *website) newAccount(username, name string, roles ...access.Role) string {
	w.t.Helper()
	_, pw, err := w.ids().CreateAccount(context.Background(), audit.Meta{RequestID: "test"}, access.Principal{Kind: access.Operator, Name: "test"},
		identity.NewAccount{Username: username, DisplayName: name, Agency: "STP-HN", Roles: roles})
	if err != nil {
		w.t.Fatal(err)
	}
	return pw
}

// submit sends a petition through the API and returns its id.
func (w *website) submit(sub petition.Submission) string {
	w.t.Helper()
	id, _, _ := w.submitWithCodes(sub)
	return id
}

// submitWithCodes sends a petition through the API and returns its id and
// its receipt's tracking code and lookup secret.
func (w *website) submitWithCodes(sub petition.Submission) (id, code, secret string) {
	w.t.Helper()
	body, _ := json.Marshal(sub)
	resp, err := http.Post(w.base+"/api/v1/petitions", "application/json", bytes.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var rc struct {
		TrackingCode string `json:"tracking_code"`
		LookupSecret string `json:"lookup_secret"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&rc); err != nil || resp.StatusCode != http.StatusCreated {
		w.t.Fatalf("submit: %d %v", resp.StatusCode, err)
	}
	if err := w.s.db.Pool.QueryRow(context.Background(), `SELECT id FROM petitions WHERE tracking_code = $1`, rc.TrackingCode).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	return id, rc.TrackingCode, rc.LookupSecret
}

// totpCode is the TOTP code of secret at time at.
func totpCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: credential.TOTPPeriod, Digits: credential.TOTPDigits})
	if err != nil {
		t.Fatal(err)
	}
	return code
}
