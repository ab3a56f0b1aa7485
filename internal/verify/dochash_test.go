package verify

import (
	"bytes"
	"context"
	"crypto"
	_ "crypto/sha512" // SHA-384 for the case that does not resume
	"math/rand/v2"
	"testing"
)

// hashRanges gives the hash of its parts whether or not it resumes from
// the document's saved states: ranges from the first byte (at, before and
// after a saved state, the whole file), from elsewhere, of another
// document, with another algorithm.
func TestHashRangesResumesCorrectly(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{1, hashStep - 1, hashStep, hashStep + 1, 3*hashStep + 77, 5 * hashStep} {
		doc := make([]byte, size)
		for i := range doc {
			doc[i] = byte(r.Uint32())
		}
		dh, err := hashDocument(context.Background(), doc)
		if err != nil {
			t.Fatal(err)
		}
		if want := sum(crypto.SHA256, doc); !bytes.Equal(dh.sum, want) {
			t.Fatalf("size %d: the document's hash is wrong", size)
		}
		ctx := withDocHash(context.Background(), dh)
		other := bytes.Clone(doc)
		for _, tc := range []struct {
			name  string
			alg   crypto.Hash
			parts [][]byte
		}{
			{"the whole file", crypto.SHA256, [][]byte{doc}},
			{"one byte", crypto.SHA256, [][]byte{doc[:1]}},
			{"up to a saved state", crypto.SHA256, [][]byte{doc[:min(size, hashStep)], doc[min(size, hashStep):]}},
			{"two ranges around a gap", crypto.SHA256, [][]byte{doc[:size/2], doc[size*3/4:]}},
			{"not from the first byte", crypto.SHA256, [][]byte{doc[size/3:], doc[:size/3]}},
			{"an equal copy, not the document", crypto.SHA256, [][]byte{other[:size/2], other[size/2:]}},
			{"another algorithm", crypto.SHA384, [][]byte{doc[:size/2], doc[size*3/4:]}},
			{"an empty first range", crypto.SHA256, [][]byte{doc[:0], doc}},
		} {
			got, err := hashRanges(ctx, tc.alg, tc.parts...)
			if err != nil {
				t.Fatal(err)
			}
			if want := sum(tc.alg, bytes.Join(tc.parts, nil)); !bytes.Equal(got, want) {
				t.Errorf("size %d, %s: wrong hash", size, tc.name)
			}
		}
	}
}

func sum(alg crypto.Hash, b []byte) []byte {
	h := alg.New()
	h.Write(b)
	return h.Sum(nil)
}
