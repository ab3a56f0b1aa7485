package web

import (
	"bytes"
	"html/template"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/language"

	"pakn/internal/apperr"
	"pakn/internal/credential"
	"pakn/internal/deadline"
	"pakn/internal/msg"
	"pakn/internal/petition"
	"pakn/internal/petitions"
	"pakn/internal/register"
	"pakn/internal/reply"
	"pakn/internal/verify"
)

// Every page renders in both languages with the data it can show, so a
// template naming a message the catalogue lacks, or a field its data does
// not have, fails here rather than in front of a citizen.
func TestEveryPageRendersInBothLanguages(t *testing.T) {
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	signed := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	rep := &verify.Report{Indication: verify.TotalPassed, SHA256: strings.Repeat("ab", 32), VerifiedAt: signed,
		Register: &verify.Match{Found: true, Number: "1/STP-HN-PAKN", AgencyName: "Sở Tư pháp", SignedAt: signed, Status: "current"},
		Signatures: []verify.Signature{{Signer: &verify.Certificate{CommonName: "Lê Hoàng Cường", Serial: "01"},
			Checks: []verify.Check{{Name: "cms", Result: verify.Passed}}}}}
	data := map[string]any{
		"home":   nil,
		"error":  &errorData{Message: "Không tìm thấy.", RetryAfter: 5},
		"submit": &submitData{Key: "form-1", Categories: categoryChoices, HadFiles: true},
		"receipt": &receiptData{Receipt: &petitions.Receipt{TrackingCode: "PAKN-2026-AAAA-BBBB", LookupSecret: "SECRET",
			ReceivedAt: signed, NextUpdateDue: deadline.NewDate(2026, 12, 30)}, Agency: "Sở Tư pháp", Calendar: "2026.1"},
		"track": &trackData{Code: "PAKN-2026-AAAA-BBBB", Secret: "SECRET", DaysLeft: 4, View: &petitions.PublicView{
			TrackingCode: "PAKN-2026-AAAA-BBBB", State: petition.Closed, Title: "Giờ làm việc", ReceivedAt: signed, CanReopen: true,
			DeadlineStatus: deadline.DueSoon, NextUpdateDue: deadline.NewDate(2026, 12, 30),
			Timeline: []petitions.PublicEvent{{At: signed, Kind: "received"}, {At: signed, Kind: "public_update", Message: "Đang xử lý"}},
			Reply:    &petitions.IssuedReply{ID: "r1", Number: "1/STP-HN-PAKN", ShortCode: "AAAA-BBBB-CCCC", SignedAt: signed}}},
		"register": &registerData{Query: url.Values{"q": {"phí"}, "page": {"2"}}, Total: 45, Page: 2, Last: 3,
			Categories: []option{{Value: "regulation", Label: "Quy định", Selected: true}}, Outcomes: []option{{Value: "explained", Label: "Giải thích"}},
			Rows: []registerRow{{ID: "r1", Number: "1/STP-HN-PAKN", AgencyName: "Sở Tư pháp", Date: "02/12/2026", Category: "Quy định",
				Outcome: "Giải thích", Summary: "Phí", Superseded: true}}},
		"register_entry": &register.Published{Entry: &register.Entry{Number: "1/STP-HN-PAKN", Status: "superseded", SupersededBy: "r2"},
			Content: reply.Content{Summary: "Phí", Answer: "Một.\n\nHai.", LegalBasis: []reply.LegalRef{{Document: "Nghị định", Articles: "Điều 1"}},
				Outcome: reply.Explained}},
		"verify": &verifyData{Entry: &register.Entry{Number: "1/STP-HN-PAKN", Status: "superseded"}, Report: rep,
			Verdict: &verdict{Class: "ok", Sentence: "…"}, Matches: true},
	}
	maps.Copy(data, deskPageData(signed))
	for name := range pages {
		if _, ok := data[name]; !ok {
			t.Errorf("page %s has no data in this test", name)
		}
	}
	renderEach(t, pages, data)
	// The administration's pages again with their own forms (above: the
	// step-up form in their place).
	forms := frame
	forms.NeedCode = false
	data = deskPageData(signed)
	for name, d := range data {
		switch d := d.(type) {
		case *accountsData:
			d.adminFrame = forms
		case *accountData:
			d.adminFrame = forms
		case *tokensData:
			d.adminFrame = forms
		default:
			delete(data, name)
		}
	}
	renderEach(t, pages, data)
}

// renderEach renders each page of data in both languages.
func renderEach(t *testing.T, pages map[string]*template.Template, data map[string]any) {
	t.Helper()
	for name, d := range data {
		for _, lang := range []language.Tag{msg.Vietnamese, msg.English} {
			v := &view{Lang: lang, M: msg.Texts(lang), Title: msg.SiteName, Path: "/" + name, Data: d, Values: url.Values{"title": {"<b>x</b>"}},
				Desk: strings.HasPrefix(name, "desk_"), Staff: &staffBar{Name: "<b>x</b>", Username: "a", Agency: "Sở Tư pháp", Roles: []string{"chuyên viên"}},
				Repost:   map[bool]*repost{true: {Action: "/track", Fields: [][2]string{{"tracking_code", "PAKN-2026-AAAA-BBBB"}}}}[name == "track"],
				Operator: Operator{Name: "Sở Tư pháp", Contact: "dulieu@example.vn"},
				Errors:   []fieldProblem{{Field: "title", Message: "Sai"}, {Field: "attachments[0]", Message: "Lớn"}, {Message: "Chung"}}}
			var b bytes.Buffer
			if err := pages[name].ExecuteTemplate(&b, "layout", v); err != nil {
				t.Errorf("%s in %s: %v", name, lang, err)
				continue
			}
			out := b.String()
			if !strings.Contains(out, `<html lang="`+lang.String()+`">`) || strings.Contains(out, "<b>x</b>") {
				t.Errorf("%s in %s: language or escaping wrong", name, lang)
			}
			if name == "track" && !strings.Contains(out, `<form method="post" action="/track?lang=`) {
				t.Errorf("track in %s: the language switch does not send the codes again", lang)
			}
			if (name == "home" || name == "submit") && !strings.Contains(out, "dulieu@example.vn") {
				t.Errorf("%s in %s: the notice does not name the operator's contact", name, lang)
			}
		}
	}
}

// The verdict says a report in one sentence, with its colour.
func TestVerdict(t *testing.T) {
	signed := time.Date(2026, 12, 2, 3, 0, 0, 0, time.UTC)
	match := func(status string) *verify.Match {
		return &verify.Match{Found: true, Number: "7/STP-HN-PAKN", AgencyName: "Sở Tư pháp", SignedAt: signed, Status: status}
	}
	tests := []struct {
		name  string
		rep   verify.Report
		class string
		says  string
	}{
		{"genuine", verify.Report{Indication: verify.TotalPassed, Register: match("current")}, "ok", "Genuine and unaltered: reply no. 7/STP-HN-PAKN, issued by Sở Tư pháp on 02/12/2026."},
		{"superseded", verify.Report{Indication: verify.TotalPassed, Register: match("superseded")}, "warn", "replaced by a correction"},
		{"not in the register", verify.Report{Indication: verify.TotalFailed, SubIndication: verify.NotInRegister, Register: &verify.Match{}}, "bad",
			"not in the system's register"},
		{"register unreachable", verify.Report{Indication: verify.Indeterminate, SubIndication: verify.TryLater,
			Checks: []verify.Check{{Name: "register", Result: verify.Failed, Detail: "the register of issued replies could not be searched"}}}, "warn", "cannot be searched now"},
		{"receipt", verify.Report{Indication: verify.TotalPassed, Register: &verify.Match{Found: true, Kind: "receipt", TrackingCode: "PAKN-2026-AAAA-BBBB",
			AgencyName: "Sở Tư pháp", SignedAt: signed, Status: "current"}}, "ok", "the receipt of petition PAKN-2026-AAAA-BBBB, signed by Sở Tư pháp on 02/12/2026."},
		{"altered", verify.Report{Indication: verify.TotalFailed, SummaryEN: "the signature does not match"}, "bad", "Altered or not genuine."},
		{"undecided", verify.Report{Indication: verify.Indeterminate, SummaryEN: "revocation could not be checked"}, "warn", "It cannot be decided now."},
	}
	for _, tt := range tests {
		v := &view{Lang: msg.English, M: msg.Texts(msg.English)}
		got := v.verdictOf(&tt.rep)
		if got.Class != tt.class || !strings.Contains(got.Sentence, tt.says) {
			t.Errorf("%s: %s %q", tt.name, got.Class, got.Sentence)
		}
		if tt.class == "bad" && got.Why != tt.rep.SummaryEN {
			t.Errorf("%s: why %q", tt.name, got.Why)
		}
	}
}

// Vietnamese by default; ?lang= chooses and is remembered in a cookie.
func TestLanguage(t *testing.T) {
	tests := []struct {
		url, cookie string
		want        language.Tag
		sets        bool
	}{
		{"/", "", msg.Vietnamese, false},
		{"/?lang=en", "", msg.English, true},
		{"/", "en", msg.English, false},
		{"/?lang=vi", "en", msg.Vietnamese, true},
		{"/?lang=fr", "", msg.Vietnamese, false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", tt.url, nil)
		if tt.cookie != "" {
			r.AddCookie(&http.Cookie{Name: langCookie, Value: tt.cookie})
		}
		w := httptest.NewRecorder()
		if got := langOf(w, r); got != tt.want {
			t.Errorf("%s with cookie %q: %s, want %s", tt.url, tt.cookie, got, tt.want)
		}
		if set := w.Header().Get("Set-Cookie") != ""; set != tt.sets {
			t.Errorf("%s: cookie set %v", tt.url, set)
		}
	}
}

// Field problems are shown in the page's language, each tied to its field.
func TestProblems(t *testing.T) {
	err := petition.Invalid(petition.Problem("title", msg.TitleLength), petition.Problem("consent", msg.ConsentRequired))
	got := problems(err, msg.English)
	if len(got) != 2 || got[0].Field != "title" || got[0].Message != msg.TitleLength.EN() || got[1].Message != msg.ConsentRequired.EN() {
		t.Fatalf("problems: %+v", got)
	}
	got = problems(apperr.New(apperr.NotFound, msg.WrongTrackingCodeOrSecret), msg.Vietnamese)
	if len(got) != 1 || got[0].Field != "" || got[0].Message != msg.WrongTrackingCodeOrSecret.VI() {
		t.Fatalf("an error without fields: %+v", got)
	}
	if fieldID("petitioner.identity_number") != "f-petitioner-identity-number" || funcs["anchor"].(func(string) string)("attachments[2]") != "f-attachments" {
		t.Fatal("field ids")
	}
}

// The language link stays on the page, whatever path the request had (a
// path like //evil.example/x must not make it a link to another site).
func TestOtherLanguageLinkStaysOnThePage(t *testing.T) {
	for _, path := range []string{"/", "/track", "//evil.example/x", "/\\evil.example"} {
		v := &view{Lang: msg.Vietnamese, M: msg.Texts(msg.Vietnamese), Path: path}
		if got := v.OtherLangURL(); got != "?lang=en" {
			t.Errorf("on %q the link is %q", path, got)
		}
	}
}

// An error page offers to try again from the site's own forms only.
func TestRetryURL(t *testing.T) {
	for path, want := range map[string]string{"/verify": "/verify", "/submit": "/submit", "/verify/abc": "/verify/abc",
		"//evil.example/verify": "", "/verify//evil.example": "", "/": "", "/api/v1/x": ""} {
		if got := (&view{Path: path}).RetryURL(); got != want {
			t.Errorf("%q: %q, want %q", path, got, want)
		}
	}
}

// The next update's due date is said in words that fit the count.
func TestDueLabel(t *testing.T) {
	v := &view{Lang: msg.English, M: msg.Texts(msg.English)}
	for _, tt := range []struct {
		status     deadline.Status
		left, late int
		want       string
	}{
		{deadline.OnTime, 12, 0, "12 working days left"},
		{deadline.DueSoon, 2, 0, "due soon: 2 working days left"},
		{deadline.DueSoon, 1, 0, "due soon: 1 working day left"},
		{deadline.DueSoon, 0, 0, "due today"},
		{deadline.Overdue, 0, 0, "overdue"},
		{deadline.Overdue, 0, 1, "overdue by 1 working day"},
		{deadline.Overdue, 0, 4, "overdue by 4 working days"},
	} {
		if got := v.DueLabel(tt.status, tt.left, tt.late); got != tt.want {
			t.Errorf("%s %d %d: %q, want %q", tt.status, tt.left, tt.late, got, tt.want)
		}
	}
}

// A required field carries no "optional" mark; an optional one does,
// unless Required says a hint explains when it is needed.
func TestOptionalMarks(t *testing.T) {
	v := &view{Lang: msg.English, M: msg.Texts(msg.English)}
	req, _ := v.Input("title", "FormSubject", "", "text", "off", false, 300)
	opt, _ := v.Input("legal_ref", "FormLegalRef", "", "text", "off", true, 500)
	if req.OptionalText != "" || opt.OptionalText != "optional" || opt.Required().OptionalText != "" || !opt.Required().Optional {
		t.Fatalf("marks: %q %q %q", req.OptionalText, opt.OptionalText, opt.Required().OptionalText)
	}
}

// The register's filters come from the URL, checked; paging and feed links
// keep them.
func TestRegisterQuery(t *testing.T) {
	q, err := registerQuery(url.Values{"q": {" phi trong giu "}, "category": {"regulation"}, "outcome": {"explained"},
		"from": {"2026-12-01"}, "to": {"2026-12-02"}})
	if err != nil || q.Query != "phi trong giu" || q.From.Format(time.RFC3339) != "2026-12-01T00:00:00+07:00" ||
		q.To.Format(time.RFC3339) != "2026-12-03T00:00:00+07:00" {
		t.Fatalf("query %+v %v", q, err)
	}
	_, err = registerQuery(url.Values{"category": {"x"}, "outcome": {"y"}, "from": {"01/12/2026"}})
	if e := apperr.As(err); e == nil || len(e.Fields) != 3 {
		t.Fatalf("bad filters: %v", err)
	}
	d := &registerData{Query: url.Values{"q": {"phí"}, "page": {"3"}, "lang": {"en"}}}
	if got := d.PageURL(4); got != "/register?page=4&q=%C3%AD" && got != "/register?page=4&q=ph%C3%AD" {
		t.Errorf("page link %q", got)
	}
	if got := d.FeedURL("csv"); got != "/register.csv?q=ph%C3%AD" {
		t.Errorf("feed link %q", got)
	}
	if csvSafe("=cmd()") != "'=cmd()" || csvSafe("Phí") != "Phí" {
		t.Error("csv cells")
	}
}

// deskPageData is what each desk page shows in TestEveryPageRendersInBothLanguages.
func deskPageData(signed time.Time) map[string]any {
	return map[string]any{
		"desk_signin":   &signInData{Username: "<b>x</b>", Next: "/desk/"},
		"desk_code":     &signInData{Username: "a", Next: "/desk/", Ticket: "t"},
		"desk_password": &passwordData{First: true, Min: 12},
		"desk_mfa":      &mfaData{Secret: "JBSWY3DPEHPK3PXP", QR: template.URL("data:image/png;base64,iVBORw0KGgo=")},
		"desk_recovery": &mfaData{Recovery: []string{"aaaa-bbbb", "cccc-dddd"}},
		"desk_queue": &queueData{Query: url.Values{"q": {"<b>x</b>"}}, Overdue: "2", DueSoon: "1", OnTime: "1000+", Due: "overdue", Total: 60, Page: 2, Last: 3, More: true,
			States: []option{{Value: "received", Label: "Đã tiếp nhận", Selected: true}}, Categories: []option{{Value: "other", Label: "Khác"}},
			Rows: []queueRow{{ID: "p1", Code: "PAKN-2026-AAAA-BBBB", Title: "<b>x</b>", State: "Đã tiếp nhận", Category: "Khác", Received: "02/12/2026",
				Due: "30/12/2026", Status: "còn 4 ngày làm việc", Class: "soon", DaysLeft: 4}}},
		"desk_draft": &draftData{PetitionID: "p1", Code: "PAKN-2026-AAAA-BBBB", Title: "<b>x</b>", Supersedes: "r0",
			Content:  reply.Content{Summary: "<b>x</b>", Answer: "Một.\nHai.", Outcome: reply.Explained},
			Legal:    []reply.LegalRef{{Document: "Nghị định", Articles: "Điều 1"}, {}},
			Outcomes: []option{{Value: "explained", Label: "Giải thích", Selected: true}}},
		"desk_reply": &replyData{Reply: &reply.Reply{ID: "r1", Content: reply.Content{Summary: "<b>x</b>", LegalBasis: []reply.LegalRef{{Document: "Nghị định"}}},
			Document: &reply.Document{Number: "1/STP-HN-PAKN", SHA256: "ab", SignerName: "Lê", SignerTitle: "Phó Giám đốc"}},
			Status: "Đã ký số", Outcome: "Giải thích", Paragraphs: []string{"Một."}, CanReview: true, CanSign: true, NeedCode: true,
			Done: "Đã ký.", DoneName: "signed", VerifyPath: "/verify/r1", SignedAt: "02/12/2026 10:00 (UTC+7)", PetitionPath: "/desk/petitions/p1",
			ReviewComment: "<b>x</b>", ReviewNeedsFix: true},
		"desk_petition": &petitionData{Detail: &petitions.Detail{Summary: petitions.Summary{ID: "p1", TrackingCode: "PAKN-2026-AAAA-BBBB", Title: "<b>x</b>",
			ReceivedAt: signed}, Body: "Một.\n\nHai.", ProcedureRef: "Thủ tục", Petitioner: petition.Petitioner{Name: "Nguyễn Văn A", Email: "a@example.vn"},
			Attachments: []petition.AttachmentInfo{{Name: "scan.pdf", Size: 12}}},
			Personal: true, State: "Đã tiếp nhận", Agency: "Sở Tư pháp", Due: "30/12/2026", Done: "Đã thực hiện.", DoneName: "accept",
			Actions: []action{{Name: "accept", Label: "Tiếp nhận", Category: true}, {Name: "transfer", Label: "Chuyển", Agency: true, Note: true, NoteNeeded: true},
				{Name: "reject", Label: "Không tiếp nhận", Reason: true, Note: true}},
			Agencies: []option{{Value: "SKHDT-HN", Label: "Sở KH&ĐT"}}, Categories: []option{{Value: "other", Label: "Khác"}},
			Reasons: []option{{Value: "out_of_scope", Label: "Ngoài phạm vi"}}, CanUpdate: true, CanDraft: true,
			Replies: []replyRow{{ID: "r1", Number: "1/STP-HN-PAKN", Status: "Đã ký số", At: "02/12/2026"}},
			Events:  []eventRow{{At: "02/12/2026 10:00 (UTC+7)", What: "Đã tiếp nhận", Note: "<b>x</b>", Public: false}}},
		"desk_admin_accounts": &accountsData{adminFrame: frame, Username: "<b>x</b>", DisplayName: "<b>x</b>",
			Rows:  []accountRow{{ID: "a1", Name: "<b>x</b>", Username: "x", Roles: "chuyên viên", Status: "Đang hoạt động"}, {ID: "a2", Disabled: true}},
			Roles: []option{{Value: "official", Label: "chuyên viên", Selected: true}}},
		"desk_admin_account": &accountData{adminFrame: frame, Account: &credential.Account{ID: "a1", DisplayName: "<b>x</b>", Username: "x", MFAEnabled: true},
			Roles: []option{{Value: "official", Label: "chuyên viên", Selected: true}}, Names: "chuyên viên", Status: "Đang hoạt động", Created: "02/12/2026"},
		"desk_admin_tokens": &tokensData{adminFrame: frame, Name: "<b>x</b>", Scopes: []option{{Value: "petition.submit", Label: "petition.submit"}},
			Days: []option{{Value: "90", Label: "90 ngày", Selected: true}},
			Rows: []tokenRow{{ID: "t1", Name: "<b>x</b>", Scopes: "petition.submit", Created: "02/12/2026", Expires: "02/03/2027", Status: "Còn hiệu lực", Active: true}}},
		"desk_admin_signers": &signersData{adminFrame: frame, Rows: []signerRow{{Name: "<b>x</b>", Title: "Phó Giám đốc", Key: "pakn-signer-x v1 (ecdsa-p256)",
			Serial: "0a", Until: "02/12/2027", Status: "Đang dùng", Certificate: "Còn hiệu lực", CertClass: "valid"}}},
		"desk_admin_report": &reportData{adminFrame: frame, Rows: []reportRow{{Agency: "<b>x</b>", Overdue: 2, DueSoon: 1}}, TotalOverdue: 2, TotalDueSoon: 1,
			SoonDays: 3, Today: "02/12/2026"},
		"desk_admin_secret": &secretData{Heading: "<b>x</b>", Lead: "<b>x</b>", Secret: "abc", Back: "/desk/admin/", BackLabel: "Về"},
		"desk_stepup":       &stepUpData{Here: "/desk/admin/"},
	}
}

// frame is an administration page's frame, for the pages' tests: with the
// step-up form shown (the other forms are shown by the account's test).
var frame = adminFrame{Here: "/desk/admin/", Tabs: []adminTab{{Path: "/desk/admin/", Label: "Tài khoản", Current: true}}, CanManage: true,
	NeedCode: true, Done: "Đã lưu.", DoneName: "roles"}

// After signing in, the desk returns only to one of its own pages: never
// another site, another part of this one, or a path that leaves /desk/
// once cleaned.
func TestLocalNext(t *testing.T) {
	for next, want := range map[string]string{
		"/desk/petitions/p1":         "/desk/petitions/p1",
		"/desk/?due=overdue&page=2":  "/desk/?due=overdue&page=2",
		"/desk/":                     "/desk/",
		"":                           "/desk/",
		"https://evil.example/desk/": "/desk/",
		"//evil.example/desk/":       "/desk/",
		"/\\evil.example":            "/desk/",
		"/desk/../api/v1/accounts":   "/desk/",
		"/desk/..%2fapi":             "/desk/",
		"/desk/%2e%2e/api":           "/desk/",
		"/desk//evil":                "/desk/",
		"/desk/signin?next=/x":       "/desk/",
		"/register":                  "/desk/",
		"javascript:alert(1)":        "/desk/",
		"/desk/p\r\nSet-Cookie: a=b": "/desk/",
	} {
		if got := localNext(next); got != want {
			t.Errorf("localNext(%q) = %q, want %q", next, got, want)
		}
	}
}

// A queue row says how its deadline stands in the page's words: an overdue
// petition reads "quá hạn", with nothing left over from formatting.
func TestQueueRowDeadlines(t *testing.T) {
	v := &view{Lang: msg.Vietnamese, M: msg.Texts(msg.Vietnamese)}
	due := deadline.NewDate(2026, 12, 30)
	for status, want := range map[deadline.Status][3]string{
		deadline.Overdue: {"overdue", "quá hạn", "30/12/2026"},
		deadline.DueSoon: {"soon", "còn 2 ngày làm việc", "30/12/2026"},
		deadline.OnTime:  {"ok", "còn 2 ngày làm việc", "30/12/2026"},
		"":               {"", "", ""},
	} {
		row := v.queueRow(petitions.Summary{DeadlineStatus: status, WorkingDaysLeft: 2, NextUpdateDue: due})
		if got := [3]string{row.Class, row.Status, row.Due}; got != want {
			t.Errorf("%q: %q, want %q", status, got, want)
		}
	}
}

// The queue's received period is read as a date field sends it or as a
// person types it where a browser has none; anything else is the field's
// problem.
func TestReceivedPeriod(t *testing.T) {
	day := func(y int, m time.Month, d int) *deadline.Date { x := deadline.NewDate(y, m, d); return &x }
	for _, tt := range []struct {
		from, to         string
		wantFrom, wantTo *deadline.Date
		bad              string
	}{
		{"", "", nil, nil, ""},
		{"2026-12-01", "", day(2026, 12, 1), nil, ""},
		{"", "31/12/2026", nil, day(2026, 12, 31), ""},
		{"1/2/2026", "2026-02-28", day(2026, 2, 1), day(2026, 2, 28), ""},
		{"2026-13-01", "", nil, nil, "received_from"},
		{"", "hôm qua", nil, nil, "received_to"},
	} {
		from, to, err := receivedPeriod(url.Values{"received_from": {tt.from}, "received_to": {tt.to}})
		if tt.bad != "" {
			if e := apperr.As(err); e == nil || len(e.Fields) != 1 || e.Fields[0].Field != tt.bad {
				t.Errorf("%q–%q: %v, want a problem with %s", tt.from, tt.to, err, tt.bad)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(from, tt.wantFrom) || !reflect.DeepEqual(to, tt.wantTo) {
			t.Errorf("%q–%q: %v–%v %v", tt.from, tt.to, from, to, err)
		}
	}
}
