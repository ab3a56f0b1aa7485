package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// A citizen, in a real browser, sends a petition with an attachment, keeps
// the receipt's codes, follows the petition, and once the staff have
// answered it (through the API), downloads the signed reply from the
// tracking page and checks it on /verify, by upload and where its QR code
// leads. Every page passes axe-core's WCAG 2.1 AA rules in both languages.
func TestCitizenSendsFollowsAndVerifies(t *testing.T) {
	w := newWebsite(t)
	dir := t.TempDir()
	scan := filepath.Join(dir, "ban-chup.pdf")
	if err := os.WriteFile(scan, []byte("%PDF-1.7\n% bản chụp giấy tờ\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The home page, in Vietnamese, then in English.
	w.do("home", chromedp.Navigate(w.base+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	if h := w.text("h1"); h != "Gửi và theo dõi phản ánh, kiến nghị" {
		t.Fatalf("home heading %q", h)
	}
	if notice := w.text("#privacy"); !strings.Contains(notice, "Sở Tư pháp thành phố Hà Nội") || !strings.Contains(notice, "dulieucanhan@example.vn") {
		t.Fatalf("the personal-data notice does not name the operator: %s", notice)
	}
	w.accessible("home (vi)")
	w.shot("home")
	w.do("home in English", chromedp.Click(chromedp.CSS("a.lang")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"]`)))
	w.accessible("home (en)")
	w.do("back to Vietnamese", chromedp.Navigate(w.base+"/?lang=vi"), chromedp.WaitVisible(chromedp.CSS(`html[lang="vi"]`)))

	code, secret := w.sendPetition(scan)
	var files int
	if err := w.s.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM petition_attachments a JOIN petitions p ON p.id = a.petition_id
		WHERE p.tracking_code = $1`, code).Scan(&files); err != nil || files != 1 {
		t.Fatalf("the petition has %d attachments (%v), want the one sent", files, err)
	}
	// The signed receipt, from the receipt page, checks as the agency's.
	receipt := filepath.Join(dir, "bien-nhan.pdf")
	if err := os.WriteFile(receipt, w.download("#receipt-pdf", dir), 0o600); err != nil {
		t.Fatal(err)
	}
	w.verifyFile(receipt)
	if v := w.text(".verdict"); !strings.Contains(v, "giấy biên nhận phản ánh "+code) || !strings.Contains(v, "Sở Tư pháp") {
		t.Fatalf("verdict on the receipt: %s", v)
	}
	w.shot("verify-receipt")

	// Following it: received, no reply yet.
	w.track(code, secret)
	if state := w.text("dl.facts"); !strings.Contains(state, "Đã tiếp nhận") {
		t.Fatalf("tracking page: %s", state)
	}
	w.accessible("tracking")
	w.shot("track")

	// The staff answer; the citizen downloads the signed reply and checks it.
	replyID := w.answer(code)
	w.track(code, secret)
	if state := w.text("main"); !strings.Contains(state, "Đã công bố kết quả") || !strings.Contains(state, "1/STP-HN-PAKN") ||
		strings.Contains(state, "Hạn cập nhật tiếp theo") {
		t.Fatalf("tracking page after the answer (published: no update due): %s", state)
	}
	w.shot("track-answered")
	// The language switch sends the codes again: the same petition, in English.
	w.do("the tracking page in English", chromedp.Click(chromedp.CSS("button.lang")), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] dl.facts`)))
	if state := w.text("main"); !strings.Contains(state, "The answer is published") || !strings.Contains(state, code) {
		t.Fatalf("the tracking page in English: %s", state)
	}
	w.accessible("tracking (en)")
	w.do("back to Vietnamese", chromedp.Click(chromedp.CSS("button.lang")), chromedp.WaitVisible(chromedp.CSS(`html[lang="vi"] dl.facts`)))
	pdf := w.download(`form[action="/track/reply"] button`, dir)
	if !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("the reply downloaded is not a PDF: %.40q", pdf)
	}
	replyFile := filepath.Join(dir, "tra-loi.pdf")
	if err := os.WriteFile(replyFile, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	w.checkReply(dir, replyFile, replyID, pdf)
	w.registerShows(dir)
}

// registerShows finds the published reply in the public register by words
// typed without diacritics, opens its page, which names nobody, and checks
// its public version, downloaded there, on /verify.
func (w *website) registerShows(dir string) {
	t := w.t
	t.Helper()
	// From a search that finds nothing, so the list that appears is the new search's.
	w.do("register", chromedp.Navigate(w.base+"/register?q=khong+co+van+ban+nay"), chromedp.WaitVisible(chromedp.ID("f-q")))
	eval[bool](w, `document.getElementById("f-q").value = ""; true`)
	w.do("search the register", chromedp.SendKeys(chromedp.ID("f-q"), "mo cua sang thu bay"),
		chromedp.Click(chromedp.CSS(`form.filters button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("ol.register")))
	if n := w.text("#results"); n != "1 văn bản" {
		t.Fatalf("the register found %q for words without diacritics", n)
	}
	w.accessible("register")
	w.shot("register")
	w.do("the reply's page", chromedp.Click(chromedp.CSS(`ol.register a`)), chromedp.WaitVisible(chromedp.CSS(`a.button[href$="/pdf"]`)))
	if page := w.text("main"); strings.Contains(page, "Phạm Thu Hà") || !strings.Contains(page, "sáng thứ Bảy") {
		t.Fatalf("the register's page of the reply: %s", page)
	}
	w.accessible("register entry")
	w.shot("register-entry")
	public := filepath.Join(dir, "cong-khai.pdf")
	if err := os.WriteFile(public, w.download(`a.button[href$="/pdf"]`, dir), 0o600); err != nil {
		t.Fatal(err)
	}
	w.verifyFile(public)
	if v := w.text(".verdict"); !strings.Contains(v, "Văn bản thật và còn nguyên vẹn") || !strings.Contains(v, "1/STP-HN-PAKN") {
		t.Fatalf("verdict on the public version: %s", v)
	}
}

// sendPetition sends the petition form: empty first (every problem named
// beside its field), then filled in with the file scan but no consent (the
// values typed are kept, the file must be chosen again), then with consent;
// it returns the receipt's codes.
func (w *website) sendPetition(scan string) (code, secret string) {
	t := w.t
	t.Helper()
	// The form: sent empty first, every problem is named beside its field.
	w.do("form", chromedp.Navigate(w.base+"/submit"), chromedp.WaitVisible(chromedp.CSS("form")))
	w.accessible("form")
	w.shot("submit")
	w.do("empty form", chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	summary := w.text(".error-summary")
	for _, want := range []string{"Họ tên", "Tiêu đề", "Nội dung", "Chọn một trong bốn nhóm nội dung", "Cần bạn đồng ý"} {
		if !strings.Contains(summary, want) {
			t.Errorf("the error summary lacks %q: %s", want, summary)
		}
	}
	if focused := eval[string](w, `document.activeElement.id`); focused != "error-summary" {
		t.Errorf("after an error the focus is on %q, not the summary", focused)
	}
	w.accessible("form with errors")
	w.shot("submit-errors")

	// Filled in, with a file; the values typed are kept after an error.
	w.do("fill the form",
		chromedp.SendKeys(chromedp.ID("f-petitioner-name"), "Phạm Thu Hà"),
		chromedp.SendKeys(chromedp.ID("f-petitioner-email"), "ha@example.vn"),
		chromedp.SendKeys(chromedp.ID("f-title"), "Giờ làm việc của bộ phận một cửa"),
		chromedp.SendKeys(chromedp.ID("f-body"), "Đề nghị Sở mở cửa bộ phận một cửa vào sáng thứ Bảy để người đi làm nộp hồ sơ."),
		chromedp.Click(chromedp.ID("category-proposal")),
		chromedp.SetValue(chromedp.ID("f-target-agency"), "STP-HN"),
		chromedp.SetUploadFiles(chromedp.ID("f-attachments"), []string{scan}),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	if v := eval[string](w, `document.getElementById("f-title").value`); v != "Giờ làm việc của bộ phận một cửa" {
		t.Fatalf("the title typed was not kept: %q", v)
	}
	if notice := w.text(".notice.warn"); !strings.Contains(notice, "chọn lại") {
		t.Fatalf("no word that the files must be chosen again: %q", notice)
	}
	w.do("consent and send",
		chromedp.SetUploadFiles(chromedp.ID("f-attachments"), []string{scan}),
		chromedp.Click(chromedp.ID("f-consent")),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.ID("tracking-code")))
	code, secret = w.text("#tracking-code"), w.text("#lookup-secret")
	if !strings.HasPrefix(code, "PAKN-") || len(secret) < 20 {
		t.Fatalf("receipt codes %q %q", code, secret)
	}
	w.accessible("receipt")
	w.shot("receipt")
	// The language switch sends the codes again: the same receipt, in English.
	w.do("the receipt in English", chromedp.Click(chromedp.CSS("button.lang")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] #tracking-code`)))
	if c, s := w.text("#tracking-code"), w.text("#lookup-secret"); c != code || s != secret || !strings.Contains(w.text("h1"), "has been received") {
		t.Fatalf("the receipt in English shows %q %q under %q, want the codes %q %q", c, s, w.text("h1"), code, secret)
	}
	w.accessible("receipt in English")
	w.do("the receipt in Vietnamese again", chromedp.Click(chromedp.CSS("button.lang")),
		chromedp.WaitVisible(chromedp.CSS(`html[lang="vi"] #tracking-code`)))
	if c := w.text("#tracking-code"); c != code {
		t.Fatalf("the receipt in Vietnamese again shows %q, want %q", c, code)
	}

	return code, secret
}

// checkReply checks the downloaded reply (saved as replyFile) on /verify:
// green by upload, recognised on its own page (where its QR code leads),
// and red once altered.
func (w *website) checkReply(dir, replyFile, replyID string, pdf []byte) {
	t := w.t
	t.Helper()
	w.do("verify by upload", chromedp.Navigate(w.base+"/verify"), chromedp.WaitVisible(chromedp.ID("f-file")))
	w.accessible("verify form")
	w.do("upload the reply", chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{replyFile}),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".verdict")))
	if v := w.text(".verdict"); !strings.Contains(v, "Văn bản thật và còn nguyên vẹn") || !strings.Contains(v, "1/STP-HN-PAKN") ||
		!eval[bool](w, `document.querySelector(".verdict").classList.contains("ok")`) {
		t.Fatalf("verdict on the genuine reply: %s", v)
	}
	w.accessible("verdict")
	w.shot("verify-genuine")

	// Where its QR code leads: the register's entry, and the same check.
	w.do("the reply's page", chromedp.Navigate(w.base+"/verify/"+replyID), chromedp.WaitVisible(chromedp.CSS(".entry")))
	w.do("upload on the reply's page", chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{replyFile}),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".verdict")))
	if v := w.text("main"); !strings.Contains(v, "Tệp này đúng là văn bản của trang này") {
		t.Fatalf("the reply's page does not recognise its file: %s", v)
	}
	w.accessible("reply page")

	// An altered copy is red.
	altered := []byte(strings.Replace(string(pdf), "Từ ngày", "Tu ngay", 1))
	if string(altered) == string(pdf) {
		altered = append(append([]byte{}, pdf...), "\n% edited\n"...)
	}
	alteredFile := filepath.Join(dir, "sua.pdf")
	_ = os.WriteFile(alteredFile, altered, 0o600)
	w.do("upload an altered copy", chromedp.Navigate(w.base+"/verify"), chromedp.WaitVisible(chromedp.ID("f-file")),
		chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{alteredFile}),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".verdict")))
	if !eval[bool](w, `document.querySelector(".verdict").classList.contains("bad")`) {
		t.Fatalf("verdict on an altered copy: %s", w.text(".verdict"))
	}
	w.shot("verify-altered")
}

// verifyFile uploads file on /verify and waits for the verdict.
func (w *website) verifyFile(file string) {
	w.t.Helper()
	w.do("verify "+filepath.Base(file), chromedp.Navigate(w.base+"/verify"), chromedp.WaitVisible(chromedp.ID("f-file")),
		chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{file}),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".verdict")))
}

// track looks the petition up on /track.
func (w *website) track(code, secret string) {
	w.t.Helper()
	w.do("track", chromedp.Navigate(w.base+"/track"), chromedp.WaitVisible(chromedp.ID("f-tracking-code")),
		chromedp.SendKeys(chromedp.ID("f-tracking-code"), code), chromedp.SendKeys(chromedp.ID("f-lookup-secret"), secret),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("dl.facts, .error-summary")))
}

// Every page in English passes axe-core too; mistakes (a wrong code, a file
// that is not a PDF, one over 20 MB) get a clear message on a page, never a
// raw error; the petition form can be filled and sent with the keyboard
// alone.
func TestWebsiteInEnglishMistakesAndKeyboard(t *testing.T) {
	w := newWebsite(t)
	dir := t.TempDir()
	for _, path := range []string{"/", "/submit", "/track", "/verify"} {
		w.do("open "+path, chromedp.Navigate(w.base+path+"?lang=en"), chromedp.WaitVisible(chromedp.CSS(`html[lang="en"] h1`)))
		w.accessible(path + " (en)")
	}
	// The check itself can fail: an input without a label is a critical violation.
	eval[bool](w, `document.querySelector("main").insertAdjacentHTML("beforeend", "<input type=text>"), true`)
	if vs := w.violations(); !slices.ContainsFunc(vs, func(v violation) bool { return v.ID == "label" && v.Impact == "critical" }) {
		t.Fatalf("axe did not find an unlabelled input: %+v", vs)
	}

	// A wrong code and secret: answered as an unknown pair, in English.
	w.track("PAKN-2026-AAAA-AAAA", "WRONGSECRETWRONGSECRETWRONG")
	if msg := w.text(".error-summary"); !strings.Contains(msg, "The tracking code or secret is wrong.") {
		t.Fatalf("wrong code: %q", msg)
	}
	w.accessible("wrong code (en)")
	w.shot("track-wrong-en")

	// A file that is not a PDF: a red verdict with the reason.
	text := filepath.Join(dir, "ghi-chu.txt")
	_ = os.WriteFile(text, []byte("not a PDF at all"), 0o600)
	w.do("verify a text file", chromedp.Navigate(w.base+"/verify"), chromedp.WaitVisible(chromedp.ID("f-file")),
		chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{text}),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(".verdict")))
	if v := w.text(".verdict"); !strings.Contains(v, "Altered or not genuine.") || !strings.Contains(v, "Why") {
		t.Fatalf("verdict on a text file: %q", v)
	}
	w.accessible("not a PDF (en)")

	// Over 20 MB: refused before it is read, said on a page.
	big := filepath.Join(dir, "lon.pdf")
	f, _ := os.Create(big)
	_ = f.Truncate(21 << 20)
	f.Close()
	w.do("verify 21 MB", chromedp.Navigate(w.base+"/verify"), chromedp.WaitVisible(chromedp.ID("f-file")),
		chromedp.SetUploadFiles(chromedp.ID("f-file"), []string{big}),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS("main .notice")))
	if msg := w.text("main"); !strings.Contains(msg, "20 MB") {
		t.Fatalf("a 21 MB upload: %q", msg)
	}
	w.accessible("too large (en)")
	w.shot("verify-too-large-en")

	// A file over 10 MB: refused, with what was typed kept.
	large := filepath.Join(dir, "lon.docx")
	f, _ = os.Create(large)
	_ = f.Truncate(11 << 20)
	f.Close()
	w.do("send an 11 MB attachment", chromedp.Navigate(w.base+"/submit"), chromedp.WaitVisible(chromedp.ID("f-title")),
		chromedp.SendKeys(chromedp.ID("f-petitioner-name"), "Phạm Thu Hà"),
		chromedp.SendKeys(chromedp.ID("f-petitioner-email"), "ha@example.vn"),
		chromedp.SendKeys(chromedp.ID("f-title"), "Bản vẽ thiết kế"),
		chromedp.SendKeys(chromedp.ID("f-body"), "Bản vẽ thiết kế kèm theo cho thấy lối đi chung bị lấn chiếm."),
		chromedp.Click(chromedp.ID("category-other")), chromedp.Click(chromedp.ID("f-consent")),
		chromedp.SetUploadFiles(chromedp.ID("f-attachments"), []string{large}),
		chromedp.Click(chromedp.ID("send")), chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	if msg := w.text(".error-summary"); !strings.Contains(msg, "10 MB") {
		t.Fatalf("an 11 MB attachment: %q", msg)
	}
	if v := eval[string](w, `document.getElementById("f-title").value`); v != "Bản vẽ thiết kế" {
		t.Fatalf("after a refused attachment the title typed is lost: %q", v)
	}

	w.sendWithKeyboard()
}

// sendWithKeyboard fills the petition form and sends it with the keyboard
// only: Tab to each field, type, Space to tick, Enter to send.
func (w *website) sendWithKeyboard() {
	t := w.t
	t.Helper()
	w.do("form in Vietnamese", chromedp.Navigate(w.base+"/submit?lang=vi"), chromedp.WaitVisible(chromedp.CSS("form")))
	for _, step := range []struct{ id, keys string }{
		{"f-petitioner-name", "Nguyễn Văn Bình"},
		{"f-petitioner-phone", "0912345678"},
		{"f-title", "Thủ tục cấp phép kéo dài"},
		{"f-body", "Hồ sơ xin cấp phép nộp đã hai tháng chưa có kết quả, đề nghị xem xét."},
		{"category-regulation", " "},
		{"f-consent", " "},
	} {
		w.tabTo(step.id)
		w.do("type into "+step.id, chromedp.KeyEvent(step.keys))
	}
	w.tabTo("send")
	w.do("send with Enter", chromedp.KeyEvent("\r"), chromedp.WaitVisible(chromedp.ID("tracking-code")))
	if code := w.text("#tracking-code"); !strings.HasPrefix(code, "PAKN-") {
		t.Fatalf("keyboard submission: %q", code)
	}
}

// tabTo presses Tab until the element with id has the focus.
func (w *website) tabTo(id string) {
	w.t.Helper()
	for range 80 {
		if eval[string](w, `document.activeElement ? document.activeElement.id : ""`) == id {
			return
		}
		w.do("Tab", chromedp.KeyEvent("\t"))
	}
	w.t.Fatalf("Tab never reached #%s", id)
}
