package verify

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Hex strings decode the same whether they take the fast path (digits
// only, an even count, the padding's zeros not decoded) or the digit by
// digit one (white space, an odd count: a last digit stands for d0).
func TestHexStrings(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte
		bad  bool
	}{
		{"<>", []byte{}, false},
		{"<00>", []byte{0}, false},
		{"<a0>", []byte{0xa0}, false},
		{"<A0b1>", []byte{0xa0, 0xb1}, false},
		{"<a000>", []byte{0xa0, 0}, false},
		{"<0a00>", []byte{0x0a, 0}, false},
		{"<30820100" + strings.Repeat("0", 40) + ">", append([]byte{0x30, 0x82, 0x01, 0x00}, make([]byte, 20)...), false},
		{"<a0 b1\n00>", []byte{0xa0, 0xb1, 0}, false},
		{"<abc>", []byte{0xab, 0xc0}, false},
		{"<1>", []byte{0x10}, false},
		{"<0000000>", []byte{0, 0, 0, 0}, false},
		{"<zz>", nil, true},
		{"<a0g0>", nil, true},
		{"<" + strings.Repeat("0", 10) + "x>", nil, true},
	} {
		budget := 100
		l := &lexer{ctx: context.Background(), data: []byte(tc.in), budget: &budget}
		v, err := l.hex()
		if tc.bad {
			if err == nil {
				t.Errorf("%q: no error", tc.in)
			}
			continue
		}
		h, ok := v.(pdfHex)
		if err != nil || !ok || !bytes.Equal(h.data, tc.want) || h.end != int64(len(tc.in)) {
			t.Errorf("%q: %x %v, want %x", tc.in, h.data, err, tc.want)
		}
	}
}

// indexObj finds what bytes.Index finds, from any position.
func TestIndexObj(t *testing.T) {
	for _, s := range []string{"", "o", "ob", "obj", "xobj", "oobj", "obobj", "endobj 1 0 obj", "o b j", "objobj", "xxob", "ooo", "ob j obj"} {
		data := []byte(s)
		for from := 0; from <= len(data); from++ {
			want := bytes.Index(data[from:], []byte("obj"))
			if want >= 0 {
				want += from
			}
			if got := indexObj(data, from); got != want {
				t.Errorf("%q from %d: %d, want %d", s, from, got, want)
			}
		}
	}
}

// trailingZeros counts what bytes.TrimRight trims.
func TestTrailingZeros(t *testing.T) {
	for _, s := range []string{"", "0", "1", "10", "01", "a0000000", "a00000000", "000000000000000000", "1" + strings.Repeat("0", 17), strings.Repeat("0", 7) + "x" + strings.Repeat("0", 9)} {
		if got, want := trailingZeros([]byte(s)), len(s)-len(bytes.TrimRight([]byte(s), "0")); got != want {
			t.Errorf("%q: %d, want %d", s, got, want)
		}
	}
}
