package verify

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding"
)

// docHash is a document's SHA-256 with the hash's state saved every
// hashStep bytes: a signature's and a document time-stamp's first signed
// range start at the file's first byte and are most of it, so their
// hashes resume from the nearest saved state instead of hashing again
// what Verify has just hashed whole (a B-LTA reply was hashed three times
// over).
type docHash struct {
	doc    []byte
	states [][]byte // states[i]: the state after doc[:i*hashStep]
	sum    []byte
}

// hashStep is the distance between two saved states: at most this much of
// a range's start is hashed again; the states take 108 bytes each (some
// 140 KB for a 20 MB file).
const hashStep = 16 << 10

// hashDocument hashes doc, saving the states, checking ctx between chunks.
func hashDocument(ctx context.Context, doc []byte) (*docHash, error) {
	d := &docHash{doc: doc, states: make([][]byte, 0, len(doc)/hashStep+1)}
	h := sha256.New()
	for off := 0; off < len(doc); off += hashStep {
		if off%hashChunk == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		st, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, err
		}
		d.states = append(d.states, st)
		h.Write(doc[off:min(off+hashStep, len(doc))])
	}
	d.sum = h.Sum(nil)
	return d, nil
}

type docHashKey struct{}

// withDocHash gives the verification in ctx its document's hash states.
func withDocHash(ctx context.Context, d *docHash) context.Context {
	return context.WithValue(ctx, docHashKey{}, d)
}

// hashRanges is the hash with alg of parts, slices of the document under
// verification: when alg is SHA-256 and the first part starts at the
// document's first byte, its hash resumes from the document's saved
// states (withDocHash); else every byte is hashed. Like hashInto, it
// checks ctx between chunks.
func hashRanges(ctx context.Context, alg crypto.Hash, parts ...[]byte) ([]byte, error) {
	h := alg.New()
	d, _ := ctx.Value(docHashKey{}).(*docHash)
	if alg == crypto.SHA256 && d != nil && len(parts) > 0 && len(parts[0]) > 0 && len(d.states) > 0 &&
		&parts[0][0] == &d.doc[0] && len(parts[0]) <= len(d.doc) {
		i := min(len(parts[0])/hashStep, len(d.states)-1)
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(d.states[i]); err != nil {
			return nil, err
		}
		parts = append([][]byte{parts[0][i*hashStep:]}, parts[1:]...)
	}
	for _, p := range parts {
		if err := hashInto(ctx, h, p); err != nil {
			return nil, err
		}
	}
	return h.Sum(nil), nil
}
