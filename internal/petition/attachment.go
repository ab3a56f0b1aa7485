package petition

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
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

// Attachment is a file sent with a petition.
type Attachment struct {
	Name      string // as sent, cleaned; never trusted for the type
	MediaType string // detected from the content
	Size      int64
	SHA256    string // hex
	Data      []byte
}

// DetectType returns the media type of data, judged by its content (magic
// bytes, and for Office files the package parts), or "" when it is none of
// PDF, JPEG, PNG, DOCX or XLSX.
func DetectType(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte("%PDF-")):
		return TypePDF
	case bytes.HasPrefix(data, []byte{0xFF, 0xD8, 0xFF}):
		return TypeJPEG
	case bytes.HasPrefix(data, []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}):
		return TypePNG
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return officeType(data)
	}
	return ""
}

// officeType tells DOCX from XLSX by their required parts.
func officeType(data []byte) string {
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
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
func NewAttachment(field, name string, data []byte) (*Attachment, *FieldError) {
	name = Clean(name, false)
	if len([]rune(name)) > 200 {
		name = string([]rune(name)[:200])
	}
	if len(data) == 0 {
		return nil, &FieldError{field, "Tệp đính kèm rỗng.", "The attachment is empty."}
	}
	if len(data) > MaxAttachmentSize {
		return nil, &FieldError{field, "Mỗi tệp đính kèm tối đa 10 MB.", "Each attachment may be at most 10 MB."}
	}
	t := DetectType(data)
	if t == "" {
		return nil, &FieldError{field, "Chỉ nhận tệp PDF, JPEG, PNG, DOCX hoặc XLSX (theo nội dung tệp).",
			"Only PDF, JPEG, PNG, DOCX or XLSX files are accepted (judged by their content)."}
	}
	sum := sha256.Sum256(data)
	return &Attachment{Name: name, MediaType: t, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Data: data}, nil
}
