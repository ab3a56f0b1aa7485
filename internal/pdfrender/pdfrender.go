// Package pdfrender lays out a reply as an A4 Vietnamese administrative
// document (the form of an official letter in Decree 30/2020/NĐ-CP, Annex I):
// issuing agency and number top left, national heading top right, place and
// date, subject line, recipient, body, recipients list, signer's title and
// name, and a QR code to the reply's public verification page. Text is set in
// Liberation Serif (metric-compatible with Times New Roman), embedded as a
// subset with a ToUnicode map, so every Vietnamese letter renders and
// extracts intact.
package pdfrender

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"pakn/internal/deadline"

	"github.com/boombuler/barcode/qr"
	"github.com/go-fonts/liberation/liberationserifbold"
	"github.com/go-fonts/liberation/liberationserifbolditalic"
	"github.com/go-fonts/liberation/liberationserifitalic"
	"github.com/go-fonts/liberation/liberationserifregular"
	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
)

// Document is everything printed on a reply (or on another document the
// desk issues in the same layout, such as a petition's receipt).
type Document struct {
	Kind          string    // what it is, for the file's metadata: "Trả lời phản ánh, kiến nghị" when empty
	ParentAgency  string    // the governing body above the issuer, e.g. "UBND THÀNH PHỐ HÀ NỘI" ("" for none)
	Agency        string    // the issuing agency, e.g. "SỞ TƯ PHÁP"
	Number        string    // number and symbol, e.g. "15/STP-HN-PAKN"
	Place         string    // e.g. "Hà Nội"
	Date          time.Time // the date of issue (printed in Vietnam's time zone)
	Subject       string    // "V/v trả lời phản ánh, kiến nghị ..."
	Recipient     string    // "Bà Nguyễn Thị Hồng Nhung"
	RecipientAddr string    // the recipient's address, if any
	Paragraphs    []string  // the body
	CC            []string  // "Nơi nhận" lines
	OnBehalf      string    // "KT. GIÁM ĐỐC" when signing for the head, else ""
	SignerTitle   string    // "PHÓ GIÁM ĐỐC"
	SignerName    string    // full name
	VerifyURL     string    // the QR code's target
	ShortCode     string    // a short verification code printed beside the QR code (also accepted at /verify/{code})
	TrackingCode  string    // metadata
	ReplyID       string    // metadata: the document's id
	// Preview, when set, makes the document a preview, not an issued one:
	// this notice is printed in red across the top of every page, and the
	// footer says it has no value instead of a QR code (VerifyURL is then
	// not needed).
	Preview string
}

// Limits on what a document may hold, so a reply cannot grow without bound.
const (
	MaxParagraphs = 60
	MaxTextRunes  = 40000
)

// fonts holds the TTF files once; fpdf copies what it needs per document.
var fonts = []struct {
	style string
	ttf   []byte
}{
	{"", liberationserifregular.TTF},
	{"B", liberationserifbold.TTF},
	{"I", liberationserifitalic.TTF},
	{"BI", liberationserifbolditalic.TTF},
}

const family = "LiberationSerif"

// Page geometry in millimetres (Decree 30: margins top/bottom 20–25, left
// 30–35, right 15–20).
const (
	pageW, pageH                      = 210.0, 297.0
	marginL, marginR, marginT, margin = 30.0, 20.0, 20.0, 20.0
	textW                             = pageW - marginL - marginR
)

// Render returns the document as a PDF (unsigned, ready for pdfsign).
func Render(d Document) ([]byte, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	d = d.nfc()
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(marginL, marginT, marginR)
	pdf.SetAutoPageBreak(true, margin+8)
	for _, f := range fonts {
		pdf.AddUTF8FontFromBytes(family, f.style, f.ttf)
	}
	pdf.SetCatalogSort(true)
	pdf.SetCreationDate(d.Date)
	pdf.SetModificationDate(d.Date)
	pdf.SetTitle(d.Subject, true)
	kind := d.Kind
	if kind == "" {
		kind = "Trả lời phản ánh, kiến nghị"
	}
	pdf.SetSubject(kind+" "+d.TrackingCode, true)
	pdf.SetKeywords("pakn-tracking-code:"+d.TrackingCode+" pakn-reply-id:"+d.ReplyID, true)
	pdf.SetAuthor(d.Agency, true)
	pdf.SetCreator("pakn", false)
	pdf.SetProducer("pakn", false)
	pdf.SetLang("vi-VN")
	pdf.AliasNbPages("")
	pdf.SetFooterFunc(func() { footer(pdf, d) })
	if d.Preview != "" {
		pdf.SetHeaderFunc(func() { previewNotice(pdf, d.Preview, margin-12) })
	}
	pdf.AddPage()

	header(pdf, d)
	body(pdf, d)
	signature(pdf, d)

	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, fmt.Errorf("render: %w", err)
	}
	return out.Bytes(), nil
}

func (d Document) check() error {
	if d.Agency == "" || d.Number == "" || d.Subject == "" || d.Recipient == "" || d.SignerName == "" ||
		d.SignerTitle == "" || (d.VerifyURL == "" && d.Preview == "") || d.Date.IsZero() || len(d.Paragraphs) == 0 {
		return errors.New("render: agency, number, date, subject, recipient, body, signer and verification URL are required")
	}
	if len(d.Paragraphs) > MaxParagraphs || len(d.CC) > 20 {
		return errors.New("render: too many paragraphs or recipients")
	}
	n := 0
	for _, p := range append(append([]string{}, d.Paragraphs...), d.CC...) {
		if !utf8.ValidString(p) {
			return errors.New("render: text is not UTF-8")
		}
		n += utf8.RuneCountInString(p)
	}
	if n > MaxTextRunes {
		return errors.New("render: text too long")
	}
	return nil
}

// nfc puts every text in composed form: the font maps precomposed
// Vietnamese letters, and text extraction then gives them back unchanged.
// Characters the font cannot draw (emoji, other scripts, controls) become
// '?', so what is printed is what is extracted.
func (d Document) nfc() Document {
	flat := strings.NewReplacer("\r\n", " ", "\n", " ", "\t", " ")
	s := func(v *string) { *v = printable(norm.NFC.String(flat.Replace(*v))) }
	for _, v := range []*string{&d.ParentAgency, &d.Agency, &d.Number, &d.Place, &d.Subject, &d.Recipient, &d.RecipientAddr,
		&d.OnBehalf, &d.SignerTitle, &d.SignerName, &d.Preview} {
		s(v)
	}
	d.Paragraphs = append([]string(nil), d.Paragraphs...)
	for i := range d.Paragraphs {
		s(&d.Paragraphs[i])
	}
	d.CC = append([]string(nil), d.CC...)
	for i := range d.CC {
		s(&d.CC[i])
	}
	return d
}

var (
	glyphsOnce sync.Once
	glyphFaces []*sfnt.Font
)

// printable replaces every rune that one of the four faces lacks, and every
// control character, by '?'.
func printable(s string) string {
	glyphsOnce.Do(func() {
		for _, f := range fonts {
			face, err := sfnt.Parse(f.ttf)
			if err != nil {
				panic("pdfrender: embedded font: " + err.Error())
			}
			glyphFaces = append(glyphFaces, face)
		}
	})
	var buf sfnt.Buffer
	return strings.Map(func(r rune) rune {
		if r == ' ' {
			return r
		}
		if unicode.IsControl(r) || r > 0xFFFF || !unicode.IsPrint(r) {
			return '?'
		}
		for _, face := range glyphFaces {
			if g, err := face.GlyphIndex(&buf, r); err != nil || g == 0 {
				return '?'
			}
		}
		return r
	}, s)
}

// Column widths of the header: the agency block left, the national heading right.
const (
	leftColW  = 70.0
	rightColX = marginL + 62.0
	rightColW = pageW - marginR - rightColX
)

func header(pdf *fpdf.Fpdf, d Document) {
	top := pdf.GetY()
	// Left column: governing body (regular), issuing agency (bold), a short rule, number.
	pdf.SetXY(marginL-8, top)
	if d.ParentAgency != "" {
		pdf.SetFont(family, "", 12.5)
		pdf.MultiCell(leftColW, 5.5, strings.ToUpper(d.ParentAgency), "", "C", false)
		pdf.SetX(marginL - 8)
	}
	pdf.SetFont(family, "B", 12.5)
	pdf.MultiCell(leftColW, 5.5, strings.ToUpper(d.Agency), "", "C", false)
	ruleY := pdf.GetY() + 0.8
	cx := marginL - 8 + leftColW/2
	pdf.SetLineWidth(0.3)
	pdf.Line(cx-12, ruleY, cx+12, ruleY)
	pdf.SetXY(marginL-8, ruleY+2.5)
	pdf.SetFont(family, "", 13)
	pdf.CellFormat(leftColW, 6, "Số: "+d.Number, "", 2, "C", false, 0, "")
	pdf.SetX(marginL - 8)
	pdf.SetFont(family, "", 12)
	pdf.MultiCell(leftColW, 5, d.Subject, "", "C", false)
	leftBottom := pdf.GetY()

	// Right column: national heading, motto underlined by a rule, place and date.
	pdf.SetXY(rightColX, top)
	pdf.SetFont(family, "B", 12.5)
	pdf.CellFormat(rightColW, 5.5, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "", 2, "C", false, 0, "")
	pdf.SetFont(family, "B", 13.5)
	motto := "Độc lập - Tự do - Hạnh phúc"
	pdf.CellFormat(rightColW, 6, motto, "", 2, "C", false, 0, "")
	mw := pdf.GetStringWidth(motto)
	my := pdf.GetY() + 0.6
	mx := rightColX + (rightColW-mw)/2
	pdf.Line(mx, my, mx+mw, my)
	pdf.SetXY(rightColX, my+5)
	pdf.SetFont(family, "I", 13)
	pdf.CellFormat(rightColW, 6, placeDate(d.Place, d.Date), "", 2, "C", false, 0, "")
	rightBottom := pdf.GetY()

	pdf.SetY(max(leftBottom, rightBottom) + 6)
}

// placeDate writes "Hà Nội, ngày 05 tháng 3 năm 2026": days and months
// below 10 take a leading zero only for days 1–9 and months 1–2 (Decree 30).
func placeDate(place string, t time.Time) string {
	t = t.In(deadline.ICT)
	day := fmt.Sprintf("%02d", t.Day())
	month := fmt.Sprint(int(t.Month()))
	if t.Month() <= 2 {
		month = fmt.Sprintf("%02d", int(t.Month()))
	}
	s := fmt.Sprintf("ngày %s tháng %s năm %d", day, month, t.Year())
	if place != "" {
		s = place + ", " + s
	}
	return s
}

func body(pdf *fpdf.Fpdf, d Document) {
	pdf.SetFont(family, "", 14)
	label := "Kính gửi: "
	lw := pdf.GetStringWidth(label)
	recipient := d.Recipient
	if d.RecipientAddr != "" {
		recipient += ", " + d.RecipientAddr
	}
	// Centre short recipients, as the form does; wrap long ones under the label.
	rw := pdf.GetStringWidth(recipient)
	if lw+rw <= textW {
		pdf.SetX(marginL + (textW-lw-rw)/2)
		pdf.CellFormat(lw+rw, 7, label+recipient, "", 1, "L", false, 0, "")
	} else {
		x := marginL + 25
		pdf.SetX(x)
		pdf.CellFormat(lw, 7, label, "", 0, "L", false, 0, "")
		pdf.MultiCell(textW-25-lw, 7, recipient, "", "L", false)
	}
	pdf.Ln(3)
	for _, p := range d.Paragraphs {
		paragraph(pdf, p)
		pdf.Ln(2)
	}
}

// paragraph sets p justified with a first-line indent of 1 cm; the last
// line is left-aligned.
func paragraph(pdf *fpdf.Fpdf, p string) {
	const indent, lineH = 10.0, 6.8
	first := pdf.SplitText(p, textW-indent)
	if len(first) == 0 {
		return
	}
	head := first[0]
	rest := strings.TrimSpace(string([]rune(p)[min(len([]rune(p)), len([]rune(head))):]))
	lines := []string{head}
	if rest != "" {
		lines = append(lines, pdf.SplitText(rest, textW)...)
	}
	for i, ln := range lines {
		x, w := marginL, textW
		if i == 0 {
			x, w = marginL+indent, textW-indent
		}
		align := "J"
		if i == len(lines)-1 {
			align = "L"
		}
		pdf.SetX(x)
		pdf.CellFormat(w, lineH, ln, "", 1, align, false, 0, "")
	}
}

func signature(pdf *fpdf.Fpdf, d Document) {
	const blockH = 60.0
	if pdf.GetY()+blockH > pageH-margin-8 {
		pdf.AddPage()
	}
	pdf.Ln(3)
	top := pdf.GetY()
	// Left: recipients list.
	pdf.SetXY(marginL-8, top)
	pdf.SetFont(family, "BI", 12)
	pdf.CellFormat(70, 5.5, "Nơi nhận:", "", 2, "L", false, 0, "")
	pdf.SetFont(family, "", 11)
	for _, cc := range d.CC {
		pdf.SetX(marginL - 8)
		pdf.MultiCell(75, 5, "- "+cc, "", "L", false)
	}
	// Right: authority, title, space for the signature, full name.
	x := marginL + 75
	w := pageW - marginR - x
	pdf.SetXY(x, top)
	pdf.SetFont(family, "B", 13.5)
	if d.OnBehalf != "" {
		pdf.CellFormat(w, 6.2, strings.ToUpper(d.OnBehalf), "", 2, "C", false, 0, "")
	}
	pdf.CellFormat(w, 6.2, strings.ToUpper(d.SignerTitle), "", 2, "C", false, 0, "")
	pdf.SetFont(family, "I", 11)
	signed := "(Đã ký số)"
	if d.Preview != "" {
		signed = "(Chưa ký)" // a preview is not signed, whatever it shows
	}
	pdf.CellFormat(w, 5, signed, "", 2, "C", false, 0, "")
	pdf.SetY(pdf.GetY() + 18)
	pdf.SetX(x)
	pdf.SetFont(family, "B", 13.5)
	pdf.CellFormat(w, 6.2, d.SignerName, "", 2, "C", false, 0, "")
}

// footer prints, on every page, the QR code to the verification page with
// the short code and the URL, and the page number.
func footer(pdf *fpdf.Fpdf, d Document) {
	const size = 20.0
	y := pageH - margin - size + 6
	if d.Preview != "" {
		previewNotice(pdf, d.Preview, y+6)
		pdf.SetXY(marginL, pageH-margin+7)
		pdf.SetFont(family, "", 9)
		pdf.CellFormat(textW, 4, fmt.Sprintf("%d/{nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
		return
	}
	drawQR(pdf, d.VerifyURL, marginL-8, y, size)
	pdf.SetXY(marginL-8+size+3, y+2)
	pdf.SetFont(family, "", 9.5)
	w := pageW - marginR - (marginL - 8 + size + 3)
	pdf.MultiCell(w, 4.4, "Kiểm tra tính xác thực của văn bản này: quét mã QR hoặc truy cập "+d.VerifyURL+
		" (mã kiểm tra "+d.ShortCode+", mã phản ánh "+d.TrackingCode+"). Văn bản được ký số; bản in không thay thế tệp đã ký.", "", "L", false)
	pdf.SetXY(marginL, pageH-margin+7)
	pdf.SetFont(family, "", 9)
	pdf.CellFormat(textW, 4, fmt.Sprintf("%d/{nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
}

// previewNotice prints a preview's notice in red bold across the text
// width at height y, then returns to black.
func previewNotice(pdf *fpdf.Fpdf, notice string, y float64) {
	pdf.SetXY(marginL, y)
	pdf.SetFont(family, "B", 9.5)
	pdf.SetTextColor(179, 38, 30)
	pdf.MultiCell(textW, 5, notice, "", "C", false)
	pdf.SetTextColor(0, 0, 0)
}

// drawQR draws the QR code of s as filled squares (vector, sharp at any zoom).
func drawQR(pdf *fpdf.Fpdf, s string, x, y, size float64) {
	code, err := qr.Encode(s, qr.M, qr.Auto)
	if err != nil {
		pdf.SetError(fmt.Errorf("QR code: %w", err))
		return
	}
	b := code.Bounds()
	modules := make([][]bool, b.Dy())
	for j := range modules {
		modules[j] = make([]bool, b.Dx())
		for i := range modules[j] {
			r, _, _, _ := code.At(b.Min.X+i, b.Min.Y+j).RGBA()
			modules[j][i] = r == 0
		}
	}
	cell := size / float64(len(modules))
	pdf.SetFillColor(0, 0, 0)
	for j, row := range modules {
		for i, dark := range row {
			if dark {
				pdf.Rect(x+float64(i)*cell, y+float64(j)*cell, cell+0.01, cell+0.01, "F")
			}
		}
	}
}
