package audit

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// BreakKind names how a chain is broken.
type BreakKind string

// The ways a chain can break.
const (
	// Edited: the row's stored hash does not match its own contents.
	Edited BreakKind = "edited"
	// Deleted: sequence numbers jump, so rows are missing.
	Deleted BreakKind = "deleted"
	// Relinked: the row is intact but does not follow the row before it: a row
	// was inserted or reordered, or the row before was rewritten together with
	// its hash.
	Relinked BreakKind = "relinked"
	// Truncated: the chain ends before a head recorded earlier.
	Truncated BreakKind = "truncated"
	// Diverged: the event at a recorded head has another hash than recorded.
	Diverged BreakKind = "diverged"
)

// Break is the first place where a chain fails verification.
type Break struct {
	Seq    int64     // the first sequence number that is broken
	Kind   BreakKind // how it is broken
	Reason string    // a sentence for people
}

// Error implements error.
func (b *Break) Error() string {
	return fmt.Sprintf("audit chain broken at seq %d (%s): %s", b.Seq, b.Kind, b.Reason)
}

// Anchor is a chain head recorded earlier (for example printed by a previous
// verification): the event at Seq must still exist with this Hash.
type Anchor struct {
	Seq  int64
	Hash []byte
}

// ParseAnchor parses "SEQ:HEXHASH".
func ParseAnchor(s string) (Anchor, error) {
	seqStr, hexHash, ok := strings.Cut(s, ":")
	seq, err := strconv.ParseInt(seqStr, 10, 64)
	if !ok || err != nil || seq < 1 {
		return Anchor{}, fmt.Errorf("anchor %q: want SEQ:HASH with a positive sequence number", s)
	}
	h, err := hex.DecodeString(hexHash)
	if err != nil || len(h) != HashSize {
		return Anchor{}, fmt.Errorf("anchor %q: want SEQ:HASH with a %d-byte hex hash", s, HashSize)
	}
	return Anchor{Seq: seq, Hash: h}, nil
}

// String formats the anchor as "SEQ:HEXHASH".
func (a Anchor) String() string { return fmt.Sprintf("%d:%x", a.Seq, a.Hash) }

// Verifier checks a chain one event at a time, in sequence order, keeping only
// the previous event's hash: memory does not grow with the chain.
type Verifier struct {
	next     int64
	prevHash []byte
	count    int64
	anchor   *Anchor
}

// NewVerifier returns a Verifier for a chain that starts at seq 1. A non-nil
// anchor is checked as well: the chain must reach it with the same hash.
func NewVerifier(anchor *Anchor) *Verifier {
	return &Verifier{next: 1, prevHash: GenesisHash, anchor: anchor}
}

// Check verifies the next event. It returns the first Break found, or nil.
func (v *Verifier) Check(e *Event) *Break {
	if e.Seq != v.next {
		if e.Seq > v.next {
			return &Break{Seq: v.next, Kind: Deleted,
				Reason: fmt.Sprintf("events %d to %d are missing (deleted)", v.next, e.Seq-1)}
		}
		return &Break{Seq: e.Seq, Kind: Relinked,
			Reason: fmt.Sprintf("sequence %d appears after %d (reordered or duplicated)", e.Seq, v.next-1)}
	}
	if !bytes.Equal(ChainHash(e.PrevHash, e), e.Hash) {
		return &Break{Seq: e.Seq, Kind: Edited,
			Reason: "the stored hash does not match the event's contents (the row was edited)"}
	}
	if !bytes.Equal(e.PrevHash, v.prevHash) {
		return &Break{Seq: e.Seq, Kind: Relinked,
			Reason: fmt.Sprintf("the event does not link to event %d (a row was inserted or reordered, or event %d was rewritten with a new hash)", e.Seq-1, e.Seq-1)}
	}
	if v.anchor != nil && e.Seq == v.anchor.Seq && !bytes.Equal(e.Hash, v.anchor.Hash) {
		return &Break{Seq: e.Seq, Kind: Diverged,
			Reason: fmt.Sprintf("the event's hash %x differs from the recorded anchor %x (the chain was rewritten)", e.Hash, v.anchor.Hash)}
	}
	v.prevHash = append(v.prevHash[:0:0], e.Hash...)
	v.next++
	v.count++
	return nil
}

// Finish reports a Break if the chain ended before the anchor.
func (v *Verifier) Finish() *Break {
	if v.anchor != nil && v.count < v.anchor.Seq {
		return &Break{Seq: v.count + 1, Kind: Truncated,
			Reason: fmt.Sprintf("the chain ends at %d but event %d was recorded earlier (events were deleted from the end)", v.count, v.anchor.Seq)}
	}
	return nil
}

// Count is the number of events verified so far.
func (v *Verifier) Count() int64 { return v.count }

// Head is the last verified event as an Anchor (Seq 0 for an empty chain).
func (v *Verifier) Head() Anchor {
	return Anchor{Seq: v.count, Hash: append([]byte(nil), v.prevHash...)}
}
