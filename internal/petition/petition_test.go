package petition

import (
	"archive/zip"
	"bytes"
	"strings"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"
)

func valid() Submission {
	return Submission{
		Petitioner: Petitioner{Kind: Individual, Name: "Nguyễn Thị Hồng Nhung", Email: "nhung@example.vn", Phone: "0912 345 678",
			Address: "phường Điện Biên, quận Ba Đình, Hà Nội"},
		Title:    "Thủ tục đăng ký hộ kinh doanh kéo dài",
		Body:     "Hồ sơ đăng ký hộ kinh doanh nộp ngày 01/10 đến nay chưa có kết quả, quá thời hạn quy định.",
		Category: CatConduct,
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct {
		name   string
		mod    func(*Submission)
		fields []string
	}{
		{"valid", func(*Submission) {}, nil},
		{"organisation with tax code", func(s *Submission) { s.Petitioner.Kind, s.Petitioner.TaxCode = Organisation, "0101234567" }, nil},
		{"organisation branch tax code", func(s *Submission) { s.Petitioner.Kind, s.Petitioner.TaxCode = Organisation, "0101234567-001" }, nil},
		{"organisation without tax code", func(s *Submission) { s.Petitioner.Kind = Organisation }, []string{"petitioner.tax_code"}},
		{"unknown kind", func(s *Submission) { s.Petitioner.Kind = "robot" }, []string{"petitioner.kind"}},
		{"no contact", func(s *Submission) { s.Petitioner.Email, s.Petitioner.Phone = "", "" }, []string{"petitioner.contact"}},
		{"phone only", func(s *Submission) { s.Petitioner.Email = "" }, nil},
		{"bad email", func(s *Submission) { s.Petitioner.Email = "nhung at example" }, []string{"petitioner.email"}},
		{"email with display name", func(s *Submission) { s.Petitioner.Email = "Nhung <n@example.vn>" }, []string{"petitioner.email"}},
		{"bad phone", func(s *Submission) { s.Petitioner.Phone = "call me" }, []string{"petitioner.phone"}},
		{"identity number", func(s *Submission) { s.Petitioner.IdentityNumber = "001 203 004 567" }, nil},
		{"bad identity number", func(s *Submission) { s.Petitioner.IdentityNumber = "12" }, []string{"petitioner.identity_number"}},
		{"short title", func(s *Submission) { s.Title = "Hỏi" }, []string{"title"}},
		{"short body", func(s *Submission) { s.Body = "Quá chậm." }, []string{"body"}},
		{"long body", func(s *Submission) { s.Body = strings.Repeat("ữ", MaxBody+1) }, []string{"body"}},
		{"bad category", func(s *Submission) { s.Category = "5" }, []string{"category"}},
		{"bad agency", func(s *Submission) { s.TargetAgency = "x y" }, []string{"target_agency"}},
		{"bad channel", func(s *Submission) { s.Channel = "pigeon" }, []string{"channel"}},
		{"several", func(s *Submission) { s.Title, s.Category = "", "" }, []string{"title", "category"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := valid()
			tt.mod(&s)
			errs := s.Normalize()
			var got []string
			for _, e := range errs {
				got = append(got, e.Field)
				if e.VI == "" || e.EN == "" {
					t.Errorf("field %s lacks a Vietnamese or English message", e.Field)
				}
			}
			if strings.Join(got, ",") != strings.Join(tt.fields, ",") {
				t.Fatalf("errors on %v, want %v", got, tt.fields)
			}
		})
	}
}

func TestNormalizeCleansText(t *testing.T) {
	s := valid()
	s.Title = "  " + norm.NFD.String("Thủ tục\tđăng ký\x00") + "  "
	s.Body = norm.NFD.String("Dòng một\r\nDòng hai\u200b có dấu tiếng Việt đầy đủ.")
	if errs := s.Normalize(); len(errs) != 0 {
		t.Fatal(errs)
	}
	if s.Title != "Thủ tục đăng ký" || !norm.NFC.IsNormalString(s.Body) || strings.Contains(s.Body, "\r") || s.Channel != Online {
		t.Fatalf("not cleaned: %q / %q", s.Title, s.Body)
	}
}

func TestRouting(t *testing.T) {
	r := Routing{Default: "UBND-HN", ByCategory: map[Category]string{CatRegulation: "STP-HN"}}
	known := func(c string) bool { return c == "SKHDT-HN" }
	for _, tt := range []struct {
		cat    Category
		target string
		want   string
	}{
		{CatRegulation, "", "STP-HN"},
		{CatConduct, "", "UBND-HN"},
		{CatConduct, "SKHDT-HN", "SKHDT-HN"},
		{CatRegulation, "NOPE", "STP-HN"},
	} {
		s := Submission{Category: tt.cat, TargetAgency: tt.target}
		if got := r.Route(&s, known); got != tt.want {
			t.Errorf("%s/%s routed to %s, want %s", tt.cat, tt.target, got, tt.want)
		}
	}
}

func TestFold(t *testing.T) {
	for in, want := range map[string]string{
		"Thủ tục ĐĂNG KÝ":                "thu tuc dang ky",
		"thu tuc":                        "thu tuc",
		norm.NFD.String("Điện Biên Phủ"): "dien bien phu",
		"Nghị định 92/2017/NĐ-CP":        "nghi dinh 92 2017 nd cp",
		"  ":                             "",
	} {
		if got := Fold(in); got != want {
			t.Errorf("Fold(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLifecycle(t *testing.T) {
	happy := []struct {
		t    Transition
		want State
	}{
		{Accept, Accepted}, {Transfer, Accepted}, {Start, InProgress}, {Transfer, Accepted}, {Start, InProgress},
		{DraftReply, ReplyDrafted}, {SendBack, InProgress}, {DraftReply, ReplyDrafted}, {ApproveReply, ReplyApproved},
		{SignReply, ReplySigned}, {Publish, Published}, {Close, Closed}, {Reopen, InProgress},
	}
	s := Received
	for _, step := range happy {
		next, ok := Next(s, step.t)
		if !ok || next != step.want {
			t.Fatalf("%s from %s: %s %v, want %s", step.t, s, next, ok, step.want)
		}
		s = next
	}
	// Every state refuses every transition not in Allowed.
	for _, st := range []State{Received, Accepted, Rejected, InProgress, ReplyDrafted, ReplyApproved, ReplySigned, Published, Closed} {
		allowed := map[Transition]bool{}
		for _, tr := range Allowed(st) {
			allowed[tr] = true
		}
		for _, tr := range AllTransitions {
			if _, ok := Next(st, tr); ok != allowed[tr] {
				t.Errorf("%s from %s: ok=%v, Allowed says %v", tr, st, ok, allowed[tr])
			}
		}
	}
	if len(Allowed(Rejected)) != 0 {
		t.Error("a rejected petition must be final")
	}
	if PublicUpdate(Transfer) {
		t.Error("a transfer must not reset the deadline")
	}
	closed := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	if !CanReopen(closed, 0, closed.Add(29*24*time.Hour)) || CanReopen(closed, 0, closed.Add(31*24*time.Hour)) || CanReopen(closed, 1, closed.Add(time.Hour)) {
		t.Error("reopen must be possible once, within 30 days")
	}
}

func TestTrackingCodes(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 300; i++ {
		c, err := NewTrackingCode(2026)
		if err != nil {
			t.Fatal(err)
		}
		if seen[c] {
			t.Fatalf("duplicate code %s", c)
		}
		seen[c] = true
		n, ok := NormalizeTrackingCode(strings.ToLower(c))
		if !ok || n != c {
			t.Fatalf("%s does not read back (%s %v)", c, n, ok)
		}
		if strings.ContainsAny(c[10:], "ILOU*~$=") {
			t.Fatalf("%s has characters that read badly", c)
		}
		// Any one mistyped character is caught by the check character.
		for _, pos := range []int{10, 11, 12, 13, 15, 16, 17, 18} {
			for _, sub := range crockford {
				b := []byte(c)
				if byte(sub) == b[pos] {
					continue
				}
				b[pos] = byte(sub)
				if _, ok := NormalizeTrackingCode(string(b)); ok {
					t.Fatalf("typo in %s -> %s not caught", c, b)
				}
			}
		}
	}
	for _, bad := range []string{"", "PAKN-2026-ABCD", "XXXX-2026-ABCD-EFGH", "PAKN-20X6-ABCD-EFGH", "PAKN-2026-ABCD-EFGHI"} {
		if _, ok := NormalizeTrackingCode(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
	s, h, err := NewLookupSecret()
	if err != nil || len(s) != 26 || string(HashLookupSecret(strings.ToLower(s))) != string(h) {
		t.Fatalf("lookup secret %q", s)
	}
}

func zipWith(t testing.TB, names ...string) []byte {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, n := range names {
		w, _ := z.Create(n)
		_, _ = w.Write([]byte("<x/>"))
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDetectType(t *testing.T) {
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"pdf", []byte("%PDF-1.7\n..."), TypePDF},
		{"jpeg", []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10}, TypeJPEG},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00"), TypePNG},
		{"docx", zipWith(t, "[Content_Types].xml", "word/document.xml"), TypeDOCX},
		{"xlsx", zipWith(t, "[Content_Types].xml", "xl/workbook.xml"), TypeXLSX},
		{"plain zip", zipWith(t, "a.txt"), ""},
		{"windows executable", append([]byte("MZ\x90\x00"), make([]byte, 100)...), ""},
		{"elf", []byte("\x7fELF\x02\x01"), ""},
		{"html", []byte("<html><script>alert(1)</script>"), ""},
		{"pdf magic late", []byte("  %PDF-1.7"), ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		if got := DetectType(bytes.NewReader(tt.data)); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, fe := NewAttachment("attachments[0]", "hoa-don.pdf", bytes.NewReader(append([]byte("MZ"), make([]byte, 64)...))); fe == nil {
		t.Fatal("an executable named .pdf was accepted")
	}
	if _, fe := NewAttachment("attachments[0]", "big.pdf", bytes.NewReader(append([]byte("%PDF-"), make([]byte, MaxAttachmentSize)...))); fe == nil {
		t.Fatal("an 10 MB + 5 B file was accepted")
	}
	a, fe := NewAttachment("attachments[0]", "đơn.pdf", bytes.NewReader([]byte("%PDF-1.4 x")))
	if fe != nil || a.MediaType != TypePDF || len(a.SHA256) != 64 || a.Name != "đơn.pdf" {
		t.Fatalf("%+v %v", a, fe)
	}
}

func FuzzDetectType(f *testing.F) {
	f.Add([]byte("%PDF-1.7"))
	f.Add(zipWith(f, "[Content_Types].xml", "word/document.xml"))
	f.Add([]byte("PK\x03\x04garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		switch DetectType(bytes.NewReader(data)) {
		case "", TypePDF, TypeJPEG, TypePNG, TypeDOCX, TypeXLSX:
		default:
			t.Fatal("unknown type")
		}
	})
}

func FuzzNormalizeTrackingCode(f *testing.F) {
	c, _ := NewTrackingCode(2026)
	f.Add(c)
	f.Add("pakn-2026-o1l0-0000")
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := NormalizeTrackingCode(s)
		if !ok {
			return
		}
		if n2, ok2 := NormalizeTrackingCode(n); !ok2 || n2 != n {
			t.Fatalf("%q normalises to %q, which does not normalise to itself", s, n)
		}
	})
}

func FuzzNormalize(f *testing.F) {
	f.Add("Nguyễn Văn A", "a@b.vn", "Tiêu đề phản ánh", "Nội dung phản ánh đủ dài để hợp lệ.", "regulation")
	f.Fuzz(func(t *testing.T, name, email, title, body, cat string) {
		s := Submission{Petitioner: Petitioner{Kind: Individual, Name: name, Email: email}, Title: title, Body: body, Category: Category(cat)}
		errs := s.Normalize()
		if len(errs) == 0 && (!norm.NFC.IsNormalString(s.Title) || len([]rune(s.Body)) > MaxBody) {
			t.Fatal("accepted unnormalised or oversized text")
		}
	})
}

// An attachment's name loses what can disguise it and ends with an
// extension of the type its content has.
func TestAttachmentName(t *testing.T) {
	for _, tt := range []struct{ name, typ, want string }{
		{"Đơn đề nghị.pdf", TypePDF, "Đơn đề nghị.pdf"},
		{"scan.PDF", TypePDF, "scan.PDF"},
		{"inv\u202efdp.exe", TypePDF, "invfdp.exe.pdf"},
		{"a\u200bb\u200d.png", TypePNG, "ab.png"},
		{"page.html", TypePDF, "page.html.pdf"},
		{"photo.jpeg", TypeJPEG, "photo.jpeg"},
		{"photo", TypeJPEG, "photo.jpg"},
		{"../../etc/passwd", TypePDF, "_.._etc_passwd.pdf"},
		{"C:\\Users\\a.docx", TypeDOCX, "C__Users_a.docx"},
		{" . ", TypeXLSX, "tep-dinh-kem.xlsx"},
		{".pdf", TypePDF, "pdf.pdf"},
		{strings.Repeat("ă", 300) + ".pdf", TypePDF, strings.Repeat("ă", 196) + ".pdf"},
	} {
		if got := AttachmentName(tt.name, tt.typ); got != tt.want {
			t.Errorf("AttachmentName(%q, %s) = %q, want %q", tt.name, tt.typ, got, tt.want)
		}
	}
}
