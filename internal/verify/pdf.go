package verify

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
)

// sigDict is one signature dictionary found in a file.
type sigDict struct {
	ByteRange     []int64 // as written
	ContentsStart int64   // offset of '<' of the /Contents hex string
	ContentsEnd   int64   // offset just past its '>'
	Contents      []byte  // the decoded CMS (trailing zero padding kept)
	SubFilter     string
	Err           error // why it could not be read; such a signature fails
}

// findSignatures returns every signature dictionary in data: each object
// holding a /ByteRange key. It does not follow cross-reference tables or
// inflate streams, so /Prev loops, huge /Size values and Flate bombs have
// nothing to act on; a signature it cannot read is returned with Err set,
// never skipped.
func findSignatures(data []byte) []sigDict {
	var out []sigDict
	seen := map[int64]bool{}
	key := []byte("/ByteRange")
	for from := 0; ; {
		i := bytes.Index(data[from:], key)
		if i < 0 {
			break
		}
		at := from + i
		from = at + len(key)
		start := objectStart(data, at)
		if start < 0 {
			out = append(out, sigDict{Err: fmt.Errorf("a /ByteRange at byte %d outside any indirect object", at)})
			continue
		}
		if seen[int64(start)] {
			continue
		}
		seen[int64(start)] = true
		out = append(out, parseSigObject(data, start))
	}
	return out
}

// objectStart finds the "N G obj" that the byte at pos belongs to: the
// nearest one before it with no "endobj" in between.
func objectStart(data []byte, pos int) int {
	head := data[:pos]
	o := bytes.LastIndex(head, []byte("obj"))
	for o >= 0 {
		// skip "endobj"
		if o >= 3 && bytes.Equal(head[o-3:o], []byte("end")) {
			return -1
		}
		// "N G obj": walk back over whitespace, digits, whitespace, digits.
		j := o
		j = skipBackSpace(head, j)
		g := j
		for j > 0 && isDigit(head[j-1]) {
			j--
		}
		if j == g {
			o = bytes.LastIndex(head[:o], []byte("obj"))
			continue
		}
		j2 := skipBackSpace(head, j)
		if j2 == j {
			o = bytes.LastIndex(head[:o], []byte("obj"))
			continue
		}
		n := j2
		for j2 > 0 && isDigit(head[j2-1]) {
			j2--
		}
		if j2 == n {
			o = bytes.LastIndex(head[:o], []byte("obj"))
			continue
		}
		return o + 3
	}
	return -1
}

func skipBackSpace(b []byte, j int) int {
	for j > 0 && isSpace(b[j-1]) {
		j--
	}
	return j
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	return isSpace(c) || c == '(' || c == ')' || c == '<' || c == '>' || c == '[' || c == ']' || c == '{' || c == '}' || c == '/' || c == '%'
}

// parseSigObject parses the dictionary that starts the object body at start.
func parseSigObject(data []byte, start int) sigDict {
	var d sigDict
	p := &lexer{data: data, pos: start, budget: maxTokens}
	v, err := p.value(0)
	if err != nil {
		d.Err = fmt.Errorf("signature dictionary at %d: %w", start, err)
		return d
	}
	dict, ok := v.(pdfDict)
	if !ok {
		d.Err = fmt.Errorf("object at %d is not a dictionary", start)
		return d
	}
	br, ok := dict.entries["ByteRange"].(pdfArray)
	if !ok {
		d.Err = errors.New("/ByteRange is not an array")
		return d
	}
	for _, e := range br {
		n, ok := e.(pdfInt)
		if !ok {
			d.Err = errors.New("/ByteRange holds something other than integers")
			return d
		}
		d.ByteRange = append(d.ByteRange, int64(n))
	}
	c, ok := dict.entries["Contents"].(pdfHex)
	if !ok {
		d.Err = errors.New("/Contents is not a hex string")
		return d
	}
	d.ContentsStart, d.ContentsEnd, d.Contents = c.start, c.end, c.data
	if sf, ok := dict.entries["SubFilter"].(pdfName); ok {
		d.SubFilter = string(sf)
	}
	return d
}

// The PDF values the dictionary parser knows.
type (
	pdfDict struct {
		entries map[string]any
	}
	pdfArray []any
	pdfInt   int64
	pdfReal  float64
	pdfName  string
	pdfStr   []byte
	pdfHex   struct {
		start, end int64
		data       []byte
	}
	pdfRef  struct{ num, gen int64 }
	pdfBool bool
	pdfNull struct{}
)

// Bounds of the dictionary parser: nesting and tokens.
const (
	maxDepth  = 32
	maxTokens = 100000
)

type lexer struct {
	data   []byte
	pos    int
	budget int
}

var errEOF = errors.New("unexpected end of file")

func (l *lexer) skip() {
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		if isSpace(c) {
			l.pos++
			continue
		}
		if c == '%' { // comment to end of line
			for l.pos < len(l.data) && l.data[l.pos] != '\n' && l.data[l.pos] != '\r' {
				l.pos++
			}
			continue
		}
		return
	}
}

func (l *lexer) value(depth int) (any, error) {
	if depth > maxDepth {
		return nil, errors.New("nesting too deep")
	}
	if l.budget--; l.budget < 0 {
		return nil, errors.New("dictionary too large")
	}
	l.skip()
	if l.pos >= len(l.data) {
		return nil, errEOF
	}
	c := l.data[l.pos]
	switch {
	case c == '<' && l.pos+1 < len(l.data) && l.data[l.pos+1] == '<':
		l.pos += 2
		return l.dict(depth)
	case c == '<':
		return l.hex()
	case c == '[':
		l.pos++
		var arr pdfArray
		for {
			l.skip()
			if l.pos >= len(l.data) {
				return nil, errEOF
			}
			if l.data[l.pos] == ']' {
				l.pos++
				return arr, nil
			}
			v, err := l.value(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			if len(arr) > maxTokens {
				return nil, errors.New("array too long")
			}
			arr = l.foldRef(arr)
		}
	case c == '(':
		return l.literal()
	case c == '/':
		return l.name(), nil
	case c == '+' || c == '-' || c == '.' || isDigit(c):
		return l.number()
	default:
		w := l.word()
		switch w {
		case "true":
			return pdfBool(true), nil
		case "false":
			return pdfBool(false), nil
		case "null":
			return pdfNull{}, nil
		case "R":
			return pdfName("\x00R"), nil // folded into a reference by the caller
		}
		return nil, fmt.Errorf("unexpected %q at %d", w, l.pos)
	}
}

// foldRef turns "n g R" at the end of arr into one reference.
func (l *lexer) foldRef(arr pdfArray) pdfArray {
	if n := len(arr); n >= 3 {
		if r, ok := arr[n-1].(pdfName); ok && r == "\x00R" {
			num, ok1 := arr[n-3].(pdfInt)
			gen, ok2 := arr[n-2].(pdfInt)
			if ok1 && ok2 {
				return append(arr[:n-3], pdfRef{int64(num), int64(gen)})
			}
		}
	}
	return arr
}

func (l *lexer) dict(depth int) (any, error) {
	d := pdfDict{entries: map[string]any{}}
	for {
		l.skip()
		if l.pos+1 >= len(l.data) {
			return nil, errEOF
		}
		if l.data[l.pos] == '>' && l.data[l.pos+1] == '>' {
			l.pos += 2
			return d, nil
		}
		if l.data[l.pos] != '/' {
			return nil, fmt.Errorf("dictionary key expected at %d", l.pos)
		}
		k := string(l.name())
		v, err := l.value(depth + 1)
		if err != nil {
			return nil, err
		}
		// "n g R" as a value: read two more tokens when the first is an integer.
		if n, ok := v.(pdfInt); ok {
			save := l.pos
			if g, err := l.value(depth + 1); err == nil {
				if gi, ok := g.(pdfInt); ok {
					if r, err := l.value(depth + 1); err == nil && r == pdfName("\x00R") {
						v = pdfRef{int64(n), int64(gi)}
					} else {
						l.pos = save
					}
				} else {
					l.pos = save
				}
			} else {
				l.pos = save
			}
		}
		if _, dup := d.entries[k]; dup {
			return nil, fmt.Errorf("key /%s twice in one dictionary", k)
		}
		d.entries[k] = v
	}
}

func (l *lexer) hex() (any, error) {
	start := l.pos
	l.pos++
	end := bytes.IndexByte(l.data[l.pos:], '>')
	if end < 0 {
		return nil, errEOF
	}
	raw := l.data[l.pos : l.pos+end]
	l.pos += end + 1
	out := make([]byte, 0, len(raw)/2+1)
	var hi byte
	half := false
	for _, c := range raw {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		case isSpace(c):
			continue
		default:
			return nil, fmt.Errorf("not a hex digit in hex string at %d", start)
		}
		if half {
			out = append(out, hi<<4|v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		out = append(out, hi<<4)
	}
	return pdfHex{start: int64(start), end: int64(l.pos), data: out}, nil
}

func (l *lexer) literal() (any, error) {
	l.pos++
	depth := 1
	var out []byte
	for l.pos < len(l.data) {
		c := l.data[l.pos]
		l.pos++
		switch c {
		case '\\':
			if l.pos < len(l.data) {
				out = append(out, l.data[l.pos])
				l.pos++
			}
		case '(':
			depth++
			out = append(out, c)
		case ')':
			depth--
			if depth == 0 {
				return pdfStr(out), nil
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
		if len(out) > 1<<20 {
			return nil, errors.New("string too long")
		}
	}
	return nil, errEOF
}

func (l *lexer) name() pdfName {
	l.pos++ // '/'
	start := l.pos
	for l.pos < len(l.data) && !isDelim(l.data[l.pos]) {
		l.pos++
	}
	return pdfName(l.data[start:l.pos])
}

func (l *lexer) word() string {
	start := l.pos
	for l.pos < len(l.data) && !isDelim(l.data[l.pos]) {
		l.pos++
	}
	if l.pos == start { // a lone delimiter
		l.pos++
	}
	return string(l.data[start:l.pos])
}

func (l *lexer) number() (any, error) {
	w := l.word()
	if n, err := strconv.ParseInt(w, 10, 64); err == nil {
		return pdfInt(n), nil
	}
	if f, err := strconv.ParseFloat(w, 64); err == nil {
		return pdfReal(f), nil
	}
	return nil, fmt.Errorf("bad number %q", w)
}
