package verify

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
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

// MaxSignatures is how many signature dictionaries a document may hold;
// a document with more is refused as malformed ("too many signatures")
// without examining any of them.
const MaxSignatures = 8

// errTooManySignatures refuses a document with more than MaxSignatures
// signature dictionaries.
var errTooManySignatures = fmt.Errorf("too many signatures (more than %d)", MaxSignatures)

// findSignatures returns every signature dictionary in data: each object
// holding a /ByteRange key. It does not follow cross-reference tables or
// inflate streams, so /Prev loops, huge /Size values and Flate bombs have
// nothing to act on; a signature it cannot read is returned with Err set,
// never skipped.
//
// Its cost is linear in len(data) whatever the input: one forward pass
// finds both the "N G obj" headers and the /ByteRange keys (each search
// starts where the last one of its kind ended, never from either end of
// the file), an object holding the key many times is parsed once, and
// after MaxSignatures dictionaries it stops with errTooManySignatures. The
// dictionaries share one token budget, and one that starts inside another
// is refused (errOverlap), so no byte is parsed twice. It checks ctx as it
// goes and returns ctx's error when it ends early.
func findSignatures(ctx context.Context, data []byte) ([]sigDict, error) {
	var out []sigDict
	budget := maxTokens // shared by every dictionary of the document
	parsedTo := 0       // where the last dictionary read ended: the next must start after it
	key, objKey := []byte("/ByteRange"), []byte("obj")
	cur := -1 // where the body of the indirect object around the scan position starts; -1 outside any
	seen := -1
	nextObj := indexObj(data, 0)
	for from, n := 0, 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		i := bytes.Index(data[from:], key)
		if i < 0 {
			return out, nil
		}
		at := from + i
		from = at + len(key)
		// Every "obj" before the key, in order: "endobj" closes the current
		// object, "N G obj" opens one.
		for m := 0; nextObj >= 0 && nextObj < at; m++ {
			if m%1024 == 1023 && ctx.Err() != nil {
				return nil, ctx.Err()
			}
			switch {
			case nextObj >= 3 && data[nextObj-3] == 'e' && data[nextObj-2] == 'n' && data[nextObj-1] == 'd':
				cur = -1
			case objectHeader(data, nextObj):
				cur = nextObj + len(objKey)
			}
			nextObj = indexObj(data, nextObj+len(objKey))
		}
		if cur == seen && cur >= 0 {
			continue // this object's dictionary is already read
		}
		if len(out) == MaxSignatures {
			return nil, errTooManySignatures
		}
		if cur < 0 {
			out = append(out, sigDict{Err: fmt.Errorf("a /ByteRange at byte %d outside any indirect object", at)})
			continue
		}
		if cur < parsedTo {
			// An object header inside the dictionary before (commented out there, say):
			// reading both would read the same bytes twice.
			return nil, errOverlap
		}
		seen = cur
		d, end := parseSigObject(ctx, data, cur, &budget)
		out = append(out, d)
		parsedTo = end
	}
}

// errOverlap refuses a document in which one signature dictionary starts
// inside another.
var errOverlap = errors.New("signature dictionaries overlap")

// trailingZeros counts the '0' digits that end raw, eight at a time (a
// signature's padding is thousands).
func trailingZeros(raw []byte) int {
	const eight = 0x3030303030303030 // "00000000"
	n := len(raw)
	for n >= 8 && binary.LittleEndian.Uint64(raw[n-8:]) == eight {
		n -= 8
	}
	for n > 0 && raw[n-1] == '0' {
		n--
	}
	return len(raw) - n
}

// indexObj is the offset of the first "obj" in data at or after from, or
// -1 (a crafted file packs them four bytes apart: a look for its 'o' and
// two comparisons cost less there than bytes.Index's set-up each time).
func indexObj(data []byte, from int) int {
	for from < len(data)-2 {
		i := bytes.IndexByte(data[from:len(data)-2], 'o')
		if i < 0 {
			return -1
		}
		from += i
		if data[from+1] == 'b' && data[from+2] == 'j' {
			return from
		}
		from++
	}
	return -1
}

// objectHeader reports whether the "obj" at o ends an "N G obj" header:
// two unsigned integers separated and followed by white space. It looks
// back over at most a few dozen bytes, so headers cost nothing in total.
func objectHeader(data []byte, o int) bool {
	const maxBack = 64 // white space and digits looked at before "obj"
	lo := max(0, o-maxBack)
	head := data[lo:o]
	j := skipBackSpace(head, len(head))
	if j == len(head) {
		return false
	}
	g := j
	for j > 0 && isDigit(head[j-1]) {
		j--
	}
	if j == g {
		return false
	}
	j2 := skipBackSpace(head, j)
	if j2 == j {
		return false
	}
	n := j2
	for j2 > 0 && isDigit(head[j2-1]) {
		j2--
	}
	return j2 < n
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

// parseSigObject parses the dictionary that starts the object body at
// start, spending tokens from budget, and returns it with where the parse
// ended.
func parseSigObject(ctx context.Context, data []byte, start int, budget *int) (sigDict, int) {
	p := &lexer{ctx: ctx, data: data, pos: start, budget: budget}
	d := readSigObject(p, start)
	return d, max(p.pos, p.far)
}

func readSigObject(p *lexer, start int) sigDict {
	var d sigDict
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
	if len(br) > 4 {
		d.Err = fmt.Errorf("/ByteRange has %d values; four are required", len(br))
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

// Bounds of the dictionary parser: nesting, tokens (for all the
// signature dictionaries of a document together; a real one has about
// twenty) and the size of a hex string (a signature's CMS).
const (
	maxDepth   = 32
	maxTokens  = 20000
	tokenCheck = 1024 // tokens between two checks of the context
	maxHex     = MaxCMSSize
)

type lexer struct {
	ctx    context.Context // checked every tokenCheck tokens
	data   []byte
	pos    int
	far    int  // the furthest byte read: a look-ahead may step back from it
	budget *int // tokens left
}

var errEOF = errors.New("unexpected end of file")

// back steps back to pos after a look-ahead, remembering how far it read.
func (l *lexer) back(pos int) {
	l.far = max(l.far, l.pos)
	l.pos = pos
}

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
	if *l.budget--; *l.budget < 0 {
		return nil, errors.New("dictionary too large")
	}
	if *l.budget%tokenCheck == 0 && l.ctx.Err() != nil {
		return nil, l.ctx.Err()
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
		return l.name()
	case c == '+' || c == '-' || c == '.' || isDigit(c):
		return l.number()
	default:
		w, err := l.word()
		if err != nil {
			return nil, err
		}
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
		return nil, fmt.Errorf("unexpected %s at %d", quote(w), l.pos)
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
		kn, err := l.name()
		if err != nil {
			return nil, err
		}
		k := string(kn)
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
						l.back(save)
					}
				} else {
					l.back(save)
				}
			} else {
				l.back(save)
			}
		}
		if _, dup := d.entries[k]; dup {
			return nil, fmt.Errorf("key /%s twice in one dictionary", quote(k)[1:len(quote(k))-1])
		}
		d.entries[k] = v
	}
}

func (l *lexer) hex() (any, error) {
	start := l.pos
	l.pos++
	const maxRaw = 2*maxHex + 4096 // its digits and some white space
	window := l.data[l.pos:min(len(l.data), l.pos+maxRaw+1)]
	end := bytes.IndexByte(window, '>')
	if end < 0 {
		l.far = max(l.far, l.pos+len(window))
		if len(window) > maxRaw {
			return nil, fmt.Errorf("hex string at %d longer than %d bytes", start, maxHex)
		}
		return nil, errEOF
	}
	raw := l.data[l.pos : l.pos+end]
	l.pos += end + 1
	if len(raw)%2 == 0 { // most are digits only, as pdfsign writes them: decoded at once
		out := make([]byte, len(raw)/2)
		n := len(raw) - trailingZeros(raw) // a signature's padding: zero bytes, as out already holds
		n += n % 2
		if _, err := hex.Decode(out[:n/2], raw[:n]); err == nil {
			return pdfHex{start: int64(start), end: int64(l.pos), data: out}, nil
		}
	}
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

// maxWord bounds a name, number or keyword: PDF names are at most 127
// bytes, and no number or keyword of a signature dictionary is longer. A
// longer one is refused as soon as it is seen, not read to its end.
const maxWord = 127

var errLongWord = fmt.Errorf("a name, number or keyword longer than %d bytes", maxWord)

func (l *lexer) name() (pdfName, error) {
	l.pos++ // '/'
	start := l.pos
	for l.pos < len(l.data) && !isDelim(l.data[l.pos]) {
		if l.pos-start == maxWord {
			return "", errLongWord
		}
		l.pos++
	}
	return pdfName(l.data[start:l.pos]), nil
}

func (l *lexer) word() (string, error) {
	start := l.pos
	for l.pos < len(l.data) && !isDelim(l.data[l.pos]) {
		if l.pos-start == maxWord {
			return "", errLongWord
		}
		l.pos++
	}
	if l.pos == start { // a lone delimiter
		l.pos++
	}
	return string(l.data[start:l.pos]), nil
}

func (l *lexer) number() (any, error) {
	w, err := l.word()
	if err != nil {
		return nil, err
	}
	if n, err := strconv.ParseInt(w, 10, 64); err == nil {
		return pdfInt(n), nil
	}
	if f, err := strconv.ParseFloat(w, 64); err == nil {
		return pdfReal(f), nil
	}
	return nil, fmt.Errorf("bad number %s", quote(w))
}

// quote quotes a word of the document for a report, cut to a few dozen
// bytes: a report's size must not grow with the input.
func quote(w string) string {
	const maxQuoted = 32
	if len(w) > maxQuoted {
		return strconv.Quote(w[:maxQuoted]) + "…"
	}
	return strconv.Quote(w)
}
