package verifytest

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// CraftedSet maps the name of a crafted input to its maker.
type CraftedSet map[string]func() []byte

// Names lists the set's names in order.
func (c CraftedSet) Names() []string {
	names := make([]string, 0, len(c))
	for n := range c {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// CPUTime is the CPU time this process has used so far: a test reads it
// before and after a pause to show that no work goes on for an answered
// request.
func CPUTime(t testing.TB) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Crafted returns makers of documents of about size bytes each (made one at
// a time, so that twenty megabytes each do not all sit in memory at once) whose cost would grow
// faster than their size in a naive scanner or parser: the tokens the
// scanner looks for repeated, thousands of signature dictionaries, huge
// arrays and strings, deep nesting. Each has a PDF header and an end
// marker, so it reaches the signature scan. The verifier must answer each
// with a definite verdict (none is genuine) in time linear in its size.
func Crafted(size int) CraftedSet {
	set := CraftedSet{
		// Eight signature dictionaries sharing one /Contents: the headers after the
		// first are comments inside it, so a parser that reads each would read it eight times.
		"eight dictionaries sharing one /Contents": func() []byte { return sharedContents(8, size) },
	}
	for name, body := range craftedBodies {
		set[name] = func() []byte {
			var b bytes.Buffer
			b.Grow(size + 128)
			b.WriteString("%PDF-1.7\n")
			body(&b, func(unit string) {
				for b.Len() < size {
					b.WriteString(unit)
				}
			})
			b.WriteString("\n%%EOF\n")
			return b.Bytes()
		}
	}
	return set
}

// craftedBodies write the bodies of Crafted's documents between the PDF
// header and the end-of-file marker; fill repeats its unit up to the size.
var craftedBodies = map[string]func(b *bytes.Buffer, fill func(string)){
	// One object repeating the key the scanner looks for (the 1.1 MB attack, at full size).
	"one object repeating /ByteRange": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n<< ")
		fill("/ByteRange ")
	},
	// The key repeated outside any object, between "endobj"s.
	"/ByteRange outside objects": func(b *bytes.Buffer, fill func(string)) { fill("endobj /ByteRange ") },
	// Many "obj" words without a header before each /ByteRange: a backward search would walk them all, each time.
	"obj words before each /ByteRange": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n")
		fill(strings.Repeat("obj ", 256) + "/ByteRange ")
	},
	// Thousands of small signature dictionaries.
	"thousands of signature dictionaries": func(b *bytes.Buffer, fill func(string)) {
		fill("9 0 obj\n<< /Type /Sig /ByteRange [0 10 20 30] /Contents <00> /SubFilter /adbe.pkcs7.detached >>\nendobj\n")
	},
	// Thousands of objects, each holding the key in an unterminated dictionary.
	"thousands of unterminated dictionaries": func(b *bytes.Buffer, fill func(string)) { fill("9 0 obj << /ByteRange [0 1 2 3 ") },
	// One huge /ByteRange array.
	"huge /ByteRange array": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n<< /ByteRange [")
		fill("0 ")
	},
	// One huge hex string as /Contents, then a /ByteRange.
	"huge /Contents hex string": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n<< /Contents <")
		fill("00")
		b.WriteString("> /ByteRange [0 1 2 3] /SubFilter /adbe.pkcs7.detached >>\nendobj")
	},
	// Hex strings opened again and again: each search for '>' must not restart.
	"many unterminated hex strings": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n<< /ByteRange [0 1 2 3] /K [")
		fill("<0")
	},
	// A huge literal string.
	"huge literal string": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n<< /ByteRange [0 1 2 3] /T (")
		fill("a(b)c\\)")
	},
	// One huge name and one huge number, echoed in error messages by a naive parser.
	"huge name": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n<< /ByteRange [0 1 2 3] /")
		fill("N")
	},
	"huge number": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n<< /ByteRange [0 1 2 3] /K 1")
		fill("0")
	},
	// Deep nesting of arrays and of dictionaries.
	"deep array nesting": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n<< /ByteRange ")
		fill("[")
	},
	"deep dictionary nesting": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n<< /ByteRange [0 1 2 3] ")
		fill("/K 1 << ")
	},
	// A comment as long as the file, and white space before an object header.
	"huge comment": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0 obj\n<< /ByteRange [0 1 2 3] %")
		fill("x")
	},
	"huge white space before obj": func(b *bytes.Buffer, fill func(string)) {
		b.WriteString("1 0")
		fill(" ")
		b.WriteString("obj << /ByteRange [0 1 2 3] >> endobj")
	},
}

// sharedContents is n signature dictionaries whose headers after the first
// are comments inside the first, all ending at one /Contents hex string
// that fills the document to about size bytes, with byte ranges that point
// exactly around it.
func sharedContents(n, size int) []byte {
	header := func(k, a, b, c int) string {
		return fmt.Sprintf("%d 0 obj <</Type/Sig/SubFilter/adbe.pkcs7.detached/ByteRange[0 %010d %010d %010d]\n", k, a, b, c)
	}
	var head strings.Builder
	head.WriteString("%PDF-1.7\n")
	for k := 1; k <= n; k++ {
		if k > 1 {
			head.WriteString("%")
		}
		head.WriteString(header(k, 0, 0, 0))
	}
	head.WriteString("/Contents ")
	tail := ">>\nendobj\n%%EOF\n"
	hexLen := max(2, (size-head.Len()-len(tail)-2)/2*2)
	start := head.Len()
	end := start + 1 + hexLen + 1
	total := end + len(tail)
	var b bytes.Buffer
	b.Grow(total)
	b.WriteString("%PDF-1.7\n")
	for k := 1; k <= n; k++ {
		if k > 1 {
			b.WriteString("%")
		}
		b.WriteString(header(k, start, end, total-end))
	}
	b.WriteString("/Contents <")
	b.WriteString(strings.Repeat("0", hexLen))
	b.WriteString(">")
	b.WriteString(tail)
	return b.Bytes()
}
