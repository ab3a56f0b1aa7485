package petition

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
	"testing"
)

// searchTokensByWord is the blind index as first written, a hash per word
// of the text: indexes stored by it must keep matching, so SearchTokens
// must give the same tokens.
func searchTokensByWord(key []byte, text string) []int64 {
	words := strings.Fields(Fold(text))
	if len(words) == 0 {
		return nil
	}
	var out []int64
	for _, w := range words {
		if len(w) > MaxSearchWord {
			w = w[:MaxSearchWord]
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(w))
		out = append(out, int64(binary.BigEndian.Uint64(mac.Sum(nil))))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestSearchTokens(t *testing.T) {
	key := []byte("search key of the test, 32 bytes")
	long := strings.Repeat("a", MaxSearchWord)
	tests := []struct {
		name, text string
		words      int // distinct tokens expected
		same       string
	}{
		{"empty", "", 0, "  \t\n"},
		{"punctuation only", "…, / ; !", 0, ""},
		{"one word", "đăng", 1, "DANG"},
		{"accents and case fold", "Thủ tục ĐĂNG KÝ", 4, "thu tuc dang ky"},
		{"repeated words count once", "hộ kinh doanh, hộ kinh doanh", 3, "kinh doanh hộ"},
		{"decomposed text", "Nghi\u0323 đi\u0323nh", 2, "nghị định"},
		{"long words are cut", long + "bc " + long + "xyz", 1, long},
		{"numbers and codes", "Nghị định 01/2021/NĐ-CP", 6, "nghi dinh 01 2021 nd cp"},
		{"other scripts", "中文 τεστ", 2, "中文 ΤΕΣΤ"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := SearchTokens(key, tc.text)
			if len(got) != tc.words {
				t.Fatalf("%d tokens, want %d: %v", len(got), tc.words, got)
			}
			if want := searchTokensByWord(key, tc.text); !slices.Equal(got, want) {
				t.Fatalf("tokens %v, the index as stored so far has %v", got, want)
			}
			if other := SearchTokens(key, tc.same); !slices.Equal(got, other) {
				t.Fatalf("%q gives %v, %q gives %v", tc.text, got, tc.same, other)
			}
			if !slices.IsSorted(got) {
				t.Fatalf("tokens not sorted: %v", got)
			}
			if len(got) > 0 && slices.Equal(got, SearchTokens([]byte("another key"), tc.text)) {
				t.Fatal("the tokens do not depend on the key")
			}
		})
	}
}

// FuzzSearchTokens checks the blind index of any text against the index as
// stored so far.
func FuzzSearchTokens(f *testing.F) {
	for _, s := range []string{"", "Thủ tục đăng ký hộ kinh doanh kéo dài", strings.Repeat("xyz ", 100), "\xff\xfe đ\u0323"} {
		f.Add(s)
	}
	key := []byte("fuzz key")
	f.Fuzz(func(t *testing.T, text string) {
		if got, want := SearchTokens(key, text), searchTokensByWord(key, text); !slices.Equal(got, want) {
			t.Fatalf("SearchTokens(%q) = %v, want %v", text, got, want)
		}
	})
}
