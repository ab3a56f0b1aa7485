package reply

import (
	"strings"
	"testing"
	"time"

	"pakn/internal/petition"
)

func valid() Content {
	return Content{
		Summary:    "Thời hạn chứng thực bản sao kéo dài",
		Answer:     "Việc chứng thực được thực hiện trong ngày.\nSở đã chấn chỉnh bộ phận một cửa.",
		LegalBasis: []LegalRef{{Document: "Nghị định số 23/2015/NĐ-CP", Articles: "Điều 7"}},
		Outcome:    Explained,
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*Content)
		fields []string
	}{
		{"valid", func(*Content) {}, nil},
		{"NFC and trimming", func(c *Content) { c.Summary = "  Tho\u0302\u0300i ha\u0323n chu\u031bng thu\u031b\u0323c  " }, nil},
		{"short summary", func(c *Content) { c.Summary = "ngắn" }, []string{"summary"}},
		{"empty answer", func(c *Content) { c.Answer = " " }, []string{"answer"}},
		{"answer too long", func(c *Content) { c.Answer = strings.Repeat("a", MaxAnswer+1) }, []string{"answer"}},
		{"no legal basis", func(c *Content) { c.LegalBasis = nil }, []string{"legal_basis"}},
		{"too many references", func(c *Content) {
			for range MaxLegalRefs {
				c.LegalBasis = append(c.LegalBasis, LegalRef{Document: "Luật số 1"})
			}
		}, []string{"legal_basis"}},
		{"bad reference", func(c *Content) { c.LegalBasis[0].Document = "x" }, []string{"legal_basis[0]"}},
		{"unknown outcome", func(c *Content) { c.Outcome = "maybe" }, []string{"outcome"}},
		{"transferred without authority", func(c *Content) { c.Outcome = Transferred }, []string{"outcome_note"}},
		{"transferred", func(c *Content) { c.Outcome, c.OutcomeNote = Transferred, "Bộ Tư pháp" }, nil},
		{"control characters dropped", func(c *Content) { c.Summary = "Thời hạn\x00 chứng thực\u0007 kéo dài" }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid()
			tt.mod(&c)
			errs := c.Normalize()
			var got []string
			for _, e := range errs {
				if e.VI == "" || e.EN == "" {
					t.Errorf("%s: not bilingual", e.Field)
				}
				got = append(got, e.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("fields %v, want %v", got, tt.fields)
			}
			if strings.ContainsAny(c.Summary, "\x00\x07") || c.Summary != strings.TrimSpace(c.Summary) {
				t.Errorf("summary not cleaned: %q", c.Summary)
			}
		})
	}
	c := valid()
	c.Summary = "Tho\u031b\u0300i ha\u0323n chứng thực bản sao"
	c.Normalize()
	if c.Summary != "Thời hạn chứng thực bản sao" {
		t.Errorf("not NFC: %q", c.Summary)
	}
}

func TestParagraphs(t *testing.T) {
	c := valid()
	c.OutcomeNote = "Sở sẽ kiểm tra định kỳ."
	l := Letter{AgencyName: "Sở Tư pháp", TrackingCode: "PAKN-2026-ABCD-EFGH",
		Petitioner: petition.Petitioner{Kind: petition.Individual, Name: "Nguyễn Thị Hồng Nhung"},
		ReceivedAt: time.Date(2026, 3, 1, 20, 0, 0, 0, time.UTC), Replaces: "Văn bản số 1/STP-HN-PAKN ngày 05/03/2026"}
	got := c.Paragraphs(l)
	want := []string{
		"Ngày 02/03/2026, Sở Tư pháp nhận được phản ánh, kiến nghị của Ông/Bà Nguyễn Thị Hồng Nhung (mã tra cứu PAKN-2026-ABCD-EFGH) với nội dung: Thời hạn chứng thực bản sao kéo dài.",
		"Về nội dung này, Sở Tư pháp trả lời như sau:",
		"Việc chứng thực được thực hiện trong ngày.",
		"Sở đã chấn chỉnh bộ phận một cửa.",
		"Căn cứ pháp lý: Nghị định số 23/2015/NĐ-CP, Điều 7.",
		"Kết quả xử lý: Giải thích, hướng dẫn quy định hiện hành. Sở sẽ kiểm tra định kỳ.",
		"Văn bản này thay thế Văn bản số 1/STP-HN-PAKN ngày 05/03/2026.",
		"Sở Tư pháp trân trọng thông báo để Ông/Bà Nguyễn Thị Hồng Nhung được biết./.",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("paragraphs\n got %q\nwant %q", got, want)
	}
	org := petition.Petitioner{Kind: petition.Organisation, Name: "Công ty TNHH Sao Mai"}
	if Salutation(org) != "Công ty TNHH Sao Mai" {
		t.Error("an organisation is addressed by its name")
	}
	// The public version names nobody: "Người phản ánh", lower-case inside a sentence.
	l.Petitioner = petition.Petitioner{}
	pub := c.Paragraphs(l)
	if Salutation(l.Petitioner) != "Người phản ánh" || !strings.Contains(pub[0], "kiến nghị của người phản ánh (mã tra cứu") ||
		pub[len(pub)-1] != "Sở Tư pháp trân trọng thông báo để người phản ánh được biết./." {
		t.Errorf("the public version's paragraphs: %q", pub)
	}
	if Number(15, "STP-HN") != "15/STP-HN-PAKN" {
		t.Error(Number(15, "STP-HN"))
	}
}

func TestShortCode(t *testing.T) {
	id := "0190f3c2-7a1b-7c2d-8e3f-0123456789ab"
	if c := ShortCode(id); c != "0123-4567-89AB" {
		t.Fatalf("ShortCode = %q", c)
	}
	for in, want := range map[string]string{"0123-4567-89AB": "0123456789ab", " 0123456789ab ": "0123456789ab", "0123-4567-89ag": "", "0123": ""} {
		got, ok := ParseShortCode(in)
		if got != want || ok != (want != "") {
			t.Errorf("ParseShortCode(%q) = %q %v", in, got, ok)
		}
	}
}
