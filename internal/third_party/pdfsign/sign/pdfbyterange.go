package sign

import (
	"bytes"
	"fmt"
	"strings"
)

func (context *SignContext) updateByteRange() error {
	if _, err := context.OutputBuffer.Seek(0, 0); err != nil {
		return err
	}

	// Set ByteRangeValues by looking for the /Contents< filled with zeros.
	// pakn patch: in the new signature object, not from the file's start:
	// searching the whole file for the run of zeros compared it at every
	// byte of an earlier signature's zero padding (quadratic in the
	// reservation; a document time-stamp after a signature took most of
	// the signing time).
	from := 0
	if len(context.newXrefEntries) > 0 {
		from = int(context.newXrefEntries[0].Offset)
	}
	buf := context.OutputBuffer.Buff.Bytes()
	contentsIndex := -1
	if i := bytes.Index(buf[from:], []byte("/Contents<")); i >= 0 {
		contentsIndex = from + i + len("/Contents<")
		end := contentsIndex + int(context.SignatureMaxLength)
		if end > len(buf) || len(bytes.Trim(buf[contentsIndex:end], "0")) != 0 {
			contentsIndex = -1
		}
	}
	if contentsIndex == -1 {
		return fmt.Errorf("failed to find contents placeholder")
	}

	// Calculate ByteRangeValues
	signatureContentsStart := int64(contentsIndex) - 1
	signatureContentsEnd := signatureContentsStart + int64(context.SignatureMaxLength) + 2
	context.ByteRangeValues = []int64{
		0,
		signatureContentsStart,
		signatureContentsEnd,
		int64(context.OutputBuffer.Buff.Len()) - signatureContentsEnd,
	}

	new_byte_range := fmt.Sprintf("/ByteRange [%d %d %d %d]", context.ByteRangeValues[0], context.ByteRangeValues[1], context.ByteRangeValues[2], context.ByteRangeValues[3])

	// Make sure our ByteRange string has the same length as the placeholder.
	if len(new_byte_range) < len(signatureByteRangePlaceholder) {
		new_byte_range += strings.Repeat(" ", len(signatureByteRangePlaceholder)-len(new_byte_range))
	} else if len(new_byte_range) != len(signatureByteRangePlaceholder) {
		return fmt.Errorf("new byte range string is the same lenght as the placeholder")
	}

	// Find the placeholder in the buffer
	placeholderIndex := bytes.Index(context.OutputBuffer.Buff.Bytes()[from:], []byte(signatureByteRangePlaceholder))
	if placeholderIndex == -1 {
		return fmt.Errorf("failed to find ByteRange placeholder")
	}
	placeholderIndex += from

	// Replace the placeholder with the new byte range
	bufferBytes := context.OutputBuffer.Buff.Bytes()
	copy(bufferBytes[placeholderIndex:placeholderIndex+len(new_byte_range)], []byte(new_byte_range))

	// Rewrite the buffer with the updated bytes
	context.OutputBuffer.Buff.Reset()
	if _, err := context.OutputBuffer.Buff.Write(bufferBytes); err != nil {
		return err
	}

	return nil
}
