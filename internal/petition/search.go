package petition

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
)

// SearchTokens is the blind index of text: each distinct word of its
// folded form (see Fold) as the first eight bytes of its HMAC-SHA-256
// under key, sorted. Stored instead of the words, it lets a search find
// the petitions holding every word asked for, while a copy of the
// database without the key shows no word (only which petitions share
// one). A word of more than MaxSearchWord bytes is cut there.
func SearchTokens(key []byte, text string) []int64 {
	folded := Fold(text)
	if folded == "" {
		return nil
	}
	// Each distinct word is hashed once: petitions repeat their words.
	words := make([]string, 0, strings.Count(folded, " ")+1)
	for w := range strings.SplitSeq(folded, " ") { // Fold leaves single spaces only
		words = append(words, w[:min(len(w), MaxSearchWord)])
	}
	slices.Sort(words)
	words = slices.Compact(words)
	mac := hmac.New(sha256.New, key)
	out := make([]int64, 0, len(words))
	var sum [sha256.Size]byte
	buf := make([]byte, 0, MaxSearchWord)
	for _, w := range words {
		mac.Reset()
		mac.Write(append(buf[:0], w...))
		out = append(out, int64(binary.BigEndian.Uint64(mac.Sum(sum[:0]))))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// MaxSearchWord bounds a word's length in the blind index, in bytes.
const MaxSearchWord = 64

// MaxSearchWords bounds the words a search asks for: a longer query uses
// its first MaxSearchWords distinct words.
const MaxSearchWords = 16
