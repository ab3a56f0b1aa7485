package pdfrender

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Sample is a reply with the Vietnamese text the tests look for.
func sample() Document {
	return Document{
		ParentAgency:  "Ủy ban nhân dân thành phố Hà Nội",
		Agency:        "Sở Tư pháp",
		Number:        "15/STP-HN-PAKN",
		Place:         "Hà Nội",
		Date:          time.Date(2026, 3, 5, 2, 0, 0, 0, time.UTC),
		Subject:       "V/v trả lời phản ánh, kiến nghị về thủ tục chứng thực",
		Recipient:     "Bà Nguyễn Thị Hồng Nhung",
		RecipientAddr: "phường Điện Biên, quận Ba Đình",
		Paragraphs: []string{
			"Ngày 02/3/2026, Sở Tư pháp nhận được phản ánh, kiến nghị của bà (mã PAKN-2026-ABCD-EFGH) về thời hạn chứng thực bản sao.",
			strings.Repeat("Về nội dung này, Sở Tư pháp trả lời như sau: việc chứng thực được thực hiện trong ngày làm việc. ", 8),
			"Căn cứ pháp lý: Nghị định số 23/2015/NĐ-CP, Điều 20; Thông tư số 01/2020/TT-BTP, Điều 5.",
		},
		CC:           []string{"Như trên;", "Lưu: VT, PAKN."},
		OnBehalf:     "KT. Giám đốc",
		SignerTitle:  "Phó Giám đốc",
		SignerName:   "Trần Văn Đức",
		VerifyURL:    "https://pakn.example.vn/verify/0190f3c2-7a1b-7c2d-8e3f-0123456789ab",
		ShortCode:    "PAKN-2026-ABCD-EFGH",
		TrackingCode: "PAKN-2026-ABCD-EFGH",
		ReplyID:      "0190f3c2-7a1b-7c2d-8e3f-0123456789ab",
	}
}

func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is required (tools/stack.sh pdf-tools installs it): %v", name, err)
	}
	return p
}

func TestRenderTextAndStructure(t *testing.T) {
	out, err := Render(sample())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := filepath.Join(dir, "reply.pdf")
	if err := os.WriteFile(f, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(tool(t, "qpdf"), "--check", f).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, b)
	}
	text, err := exec.Command(tool(t, "pdftotext"), "-layout", "-enc", "UTF-8", f, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	flat, _ := exec.Command("pdftotext", "-raw", "-enc", "UTF-8", f, "-").Output()
	for _, want := range []string{
		"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "SỞ TƯ PHÁP",
		"Số: 15/STP-HN-PAKN", "Hà Nội, ngày 05 tháng 3 năm 2026", "V/v trả lời phản ánh, kiến nghị",
		"Nguyễn Thị Hồng Nhung, phường Điện Biên, quận Ba Đình", "Nơi nhận:", "PHÓ GIÁM ĐỐC", "KT. GIÁM ĐỐC",
		"Trần Văn Đức", "Nghị định số 23/2015/NĐ-CP, Điều 20", "PAKN-2026-ABCD-EFGH",
	} {
		if !strings.Contains(string(text), want) && !strings.Contains(strings.ReplaceAll(string(flat), "\n", " "), want) {
			t.Errorf("pdftotext lost %q:\n%s", want, text)
		}
	}
	info, err := exec.Command("pdfinfo", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"A4", "pakn-reply-id:0190f3c2-7a1b-7c2d-8e3f-0123456789ab", "pakn-tracking-code:PAKN-2026-ABCD-EFGH"} {
		if !bytes.Contains(info, []byte(want)) {
			t.Errorf("pdfinfo lacks %q:\n%s", want, info)
		}
	}
	fontsOut, err := exec.Command("pdffonts", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(fontsOut)), "\n")[2:]
	if len(lines) != 4 {
		t.Fatalf("want the four Liberation Serif faces:\n%s", fontsOut)
	}
	for _, ln := range lines {
		f := strings.Fields(ln)
		// name type type encoding emb sub uni id gen
		if !strings.Contains(f[0], "liberationserif") || f[len(f)-5] != "yes" || f[len(f)-3] != "yes" {
			t.Errorf("font not embedded with a Unicode map: %s", ln)
		}
	}
	if len(out) > 400<<10 {
		t.Errorf("a one-page reply of %d KiB: fonts not subset?", len(out)>>10)
	}
}

func TestLongReplyFlowsOntoMorePages(t *testing.T) {
	d := sample()
	d.Paragraphs = nil
	for i := 0; i < 40; i++ {
		d.Paragraphs = append(d.Paragraphs, strings.Repeat("Nội dung trả lời chi tiết về thủ tục hành chính. ", 6))
	}
	d.Paragraphs = append(d.Paragraphs, "Đoạn cuối cùng của văn bản.")
	out, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "long.pdf")
	if err := os.WriteFile(f, out, 0o600); err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command("pdfinfo", f).Output()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(info, []byte("Pages:           1\n")) {
		t.Fatalf("a long reply fits on one page?\n%s", info)
	}
	text, _ := exec.Command("pdftotext", "-raw", "-enc", "UTF-8", f, "-").Output()
	for _, want := range []string{"Đoạn cuối cùng của văn bản.", "Trần Văn Đức", "2/"} {
		if !bytes.Contains(text, []byte(want)) {
			t.Errorf("lost %q", want)
		}
	}
	if c := bytes.Count(text, []byte("Kiểm tra tính xác thực")); c < 2 {
		t.Errorf("the verification footer is on %d pages", c)
	}
}

func TestRenderRefusesIncompleteOrOversizedDocuments(t *testing.T) {
	for name, mod := range map[string]func(*Document){
		"no signer":      func(d *Document) { d.SignerName = "" },
		"no body":        func(d *Document) { d.Paragraphs = nil },
		"no QR target":   func(d *Document) { d.VerifyURL = "" },
		"too many parts": func(d *Document) { d.Paragraphs = make([]string, MaxParagraphs+1) },
		"too long":       func(d *Document) { d.Paragraphs = []string{strings.Repeat("a", MaxTextRunes+1)} },
		"not UTF-8":      func(d *Document) { d.Paragraphs = []string{"\xff"} },
	} {
		d := sample()
		mod(&d)
		if _, err := Render(d); err == nil {
			t.Errorf("%s: rendered", name)
		}
	}
}

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Nguyễn Thị Hồng Nhung, Điện Biên": "Nguyễn Thị Hồng Nhung, Điện Biên",
		"Số 5 – “trích dẫn” (a) \\ b":      "Số 5 – “trích dẫn” (a) \\ b",
		"emoji 😀 và 漢字":                    "emoji ? và ??",
		"ctl\x00\u202e":                    "ctl??",
	} {
		if got := printable(in); got != want {
			t.Errorf("printable(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRender feeds arbitrary text (what officials type is untrusted) to the
// renderer: an error is fine, a panic is not.
func FuzzRender(f *testing.F) {
	f.Add("Nguyễn Thị Hồng Nhung", "phường Điện Biên", "Văn bản (có ngoặc) \\ và ký tự đặc biệt")
	f.Add("", "\x00\x01", "\u202e\ufeff𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀")
	f.Fuzz(func(t *testing.T, name, addr, body string) {
		d := sample()
		d.Recipient, d.RecipientAddr, d.Paragraphs = "Bà "+name, addr, []string{body, name + body}
		_, _ = Render(d)
	})
}

// A preview says so at the top and the foot of every page, has no QR code
// or verification address (it is not issued), and is still a valid PDF.
func TestPreviewSaysItIsNotIssued(t *testing.T) {
	d := sample()
	d.VerifyURL, d.ShortCode = "", ""
	d.Paragraphs = append(d.Paragraphs, strings.Repeat("Nội dung dài để sang trang thứ hai. ", 150))
	d.Preview = "BẢN XEM TRƯỚC – CHƯA KÝ SỐ, CHƯA CÓ SỐ VĂN BẢN"
	out, err := Render(d)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "preview.pdf")
	if err := os.WriteFile(f, out, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(tool(t, "qpdf"), "--check", f).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --check: %v\n%s", err, b)
	}
	for page := 1; page <= 2; page++ {
		b, err := exec.Command(tool(t, "pdftotext"), "-f", string(rune('0'+page)), "-l", string(rune('0'+page)), "-layout", f, "-").CombinedOutput()
		if err != nil {
			t.Fatalf("pdftotext: %v\n%s", err, b)
		}
		text := string(b)
		if strings.Count(text, "BẢN XEM TRƯỚC") != 2 || strings.Contains(text, "quét mã QR") || strings.Contains(text, "Đã ký số") {
			t.Fatalf("page %d of the preview:\n%s", page, text)
		}
	}
	if _, err := Render(sample()); err != nil { // an issued document still needs its verification address
		t.Fatal(err)
	}
	noURL := sample()
	noURL.VerifyURL = ""
	if _, err := Render(noURL); err == nil {
		t.Fatal("an issued document without a verification address rendered")
	}
}
