package petition

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"strings"
	"unicode"

	"pakn/internal/msg"
)

// Attachment limits.
const (
	MaxAttachments    = 5
	MaxAttachmentSize = 10 << 20
	maxZipEntries     = 10000
)

// Attachment types recognised by content.
const (
	TypePDF  = "application/pdf"
	TypeJPEG = "image/jpeg"
	TypePNG  = "image/png"
	TypeDOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
	TypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// Content is a file's bytes, read where they lie (in memory or in a
// spooled file) rather than loaded whole: *bytes.Reader is one.
type Content interface {
	io.ReaderAt
	Size() int64
}

// Attachment is a file sent with a petition.
type Attachment struct {
	Name      string // as sent, cleaned; never trusted for the type
	MediaType string // detected from the content
	Size      int64
	SHA256    string  // hex
	Content   Content // the bytes; stored as they are read, never loaded whole
	// ID, when set, is the stored attachment's id (else the store makes
	// one), and SealChunk turns each chunk of the content (numbered from 0)
	// into what is stored: internal/sealed sets both.
	ID        string
	SealChunk func(seq int, chunk []byte) ([]byte, error)
}

// DetectType returns the media type of c, judged by its content (magic
// bytes, and for Office files the package parts), or "" when it is none of
// PDF, JPEG, PNG, DOCX or XLSX.
func DetectType(c Content) string {
	data := make([]byte, 8)
	n, err := c.ReadAt(data, 0)
	if err != nil && err != io.EOF {
		return ""
	}
	data = data[:n]
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return TypePDF
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG
	case bytes.HasPrefix(data, []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}):
		return TypePNG
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return officeType(c)
	}
	return ""
}

// officeType tells DOCX from XLSX by their required parts (reading only the
// zip's central directory).
func officeType(c Content) string {
	z, err := zip.NewReader(c, c.Size())
	if err != nil || len(z.File) > maxZipEntries {
		return ""
	}
	var ct, word, xl bool
	for _, f := range z.File {
		switch f.Name {
		case "[Content_Types].xml":
			ct = true
		case "word/document.xml":
			word = true
		case "xl/workbook.xml":
			xl = true
		}
	}
	switch {
	case ct && word && !xl:
		return TypeDOCX
	case ct && xl && !word:
		return TypeXLSX
	}
	return ""
}

// NewAttachment checks a file and describes it. It returns a field error
// when the file is empty, too large, or not of an accepted type.
func NewAttachment(field, name string, c Content) (*Attachment, *FieldError) {
	if c.Size() == 0 {
		return nil, ptr(Problem(field, msg.AttachmentEmpty))
	}
	if c.Size() > MaxAttachmentSize {
		return nil, ptr(Problem(field, msg.AttachmentTooLarge))
	}
	t := DetectType(c)
	if t == "" {
		return nil, ptr(Problem(field, msg.AttachmentType))
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(c, 0, c.Size())); err != nil {
		return nil, ptr(Problem(field, msg.AttachmentUnreadable))
	}
	return &Attachment{Name: AttachmentName(name, t), MediaType: t, Size: c.Size(), SHA256: hex.EncodeToString(h.Sum(nil)), Content: c}, nil
}

// extensions are the file extensions each accepted type may carry, the
// one given to a name without them first.
var extensions = map[string][]string{
	TypePDF: {".pdf"}, TypeJPEG: {".jpg", ".jpeg"}, TypePNG: {".png"}, TypeDOCX: {".docx"}, TypeXLSX: {".xlsx"},
}

// maxNameRunes bounds an attachment's name.
const maxNameRunes = 200

// AttachmentName is the name an attachment of type t is kept and served
// under: name as sent, without control or formatting characters (a
// right-to-left override or a zero-width space can make "inv‮fdp.exe"
// show as "invexe.pdf") or path separators, and ending with an extension
// of its detected type ("page.html" holding a PDF becomes "page.html.pdf").
func AttachmentName(name, t string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.Is(unicode.Cf, r):
			return -1
		case r == '/' || r == '\\' || r == ':':
			return '_'
		}
		return r
	}, Clean(name, false))
	name = strings.Trim(name, " .")
	exts := extensions[t]
	if len(exts) == 0 {
		return cut(name, maxNameRunes)
	}
	lower := strings.ToLower(name)
	for _, e := range exts {
		if strings.HasSuffix(lower, e) && len(lower) > len(e) {
			return cut(name[:len(name)-len(e)], maxNameRunes-len(e)) + name[len(name)-len(e):]
		}
	}
	if name == "" {
		name = "tep-dinh-kem"
	}
	return cut(name, maxNameRunes-len(exts[0])) + exts[0]
}

// cut keeps the first n runes of s.
func cut(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n])
	}
	return s
}

// ptr returns a pointer to a copy of fe.
func ptr(fe FieldError) *FieldError { return &fe }
