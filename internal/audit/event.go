// Package audit is pakn's tamper-evident audit log, in domain terms: what an
// event holds and who it names as actor (EventOf), how it is encoded
// canonically, how each event is chained to the one before it, and how a
// chain is checked. It knows nothing of SQL or HTTP;
// internal/postgres stores events and walks them.
package audit

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Outcome says how an audited action ended.
type Outcome string

// The outcomes an event may record.
const (
	Success Outcome = "success"
	Denied  Outcome = "denied"
	Failure Outcome = "failure"
)

// HashSize is the size of an event hash (SHA-256).
const HashSize = sha256.Size

// Limits on event fields, so that one event stays small and bounded.
const (
	MaxFieldLen   = 256      // bytes, for each short text field
	MaxDetailsLen = 16 << 10 // bytes of details JSON
)

// Event is one entry of the audit log.
type Event struct {
	Seq        int64           // position in the chain, from 1, assigned at append
	Time       time.Time       // UTC, truncated to microseconds (what PostgreSQL keeps)
	Actor      string          // who acted: an account id, "system", or "anonymous"
	Role       string          // the role the actor acted in
	Action     string          // what was done, e.g. "agency.create"
	ObjectType string          // the kind of object acted on
	ObjectID   string          // its id
	Outcome    Outcome         // success, denied or failure
	RequestID  string          // the request that caused it, if any
	ClientHash string          // keyed hash of the client address (see ClientHasher), if any
	Details    json.RawMessage // compact JSON object with further facts; never secrets or personal data
	PrevHash   []byte          // Hash of the event before (zeros for the first)
	Hash       []byte          // SHA-256(PrevHash || Canonical())
}

// Meta is what a request contributes to the events it causes.
type Meta struct {
	RequestID  string
	ClientHash string // see ClientHasher
}

// GenesisHash is the PrevHash of the first event.
var GenesisHash = make([]byte, HashSize)

// Normalize prepares an event for appending: it sets UTC microsecond time,
// compacts Details (defaulting to {}), and checks every field's bounds. It
// returns an error naming the first field that is out of bounds.
func (e *Event) Normalize(now time.Time) error {
	if e.Time.IsZero() {
		e.Time = now
	}
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if e.Actor == "" || e.Action == "" || e.Outcome == "" {
		return errors.New("audit event needs actor, action and outcome")
	}
	switch e.Outcome {
	case Success, Denied, Failure:
	default:
		return fmt.Errorf("audit event outcome %q is not one of success, denied, failure", e.Outcome)
	}
	// An array, not a map: no allocation per event, and the first bad
	// field in a fixed order is the one named.
	for _, f := range [...]struct{ name, v string }{
		{"actor", e.Actor}, {"role", e.Role}, {"action", e.Action}, {"object_type", e.ObjectType},
		{"object_id", e.ObjectID}, {"request_id", e.RequestID}, {"client_hash", e.ClientHash},
	} {
		if len(f.v) > MaxFieldLen {
			return fmt.Errorf("audit event %s is longer than %d bytes", f.name, MaxFieldLen)
		}
		if !utf8.ValidString(f.v) || strings.ContainsRune(f.v, 0) {
			return fmt.Errorf("audit event %s is not valid text", f.name)
		}
	}
	if len(e.Details) == 0 {
		e.Details = json.RawMessage(`{}`)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, e.Details); err != nil {
		return fmt.Errorf("audit event details: %w", err)
	}
	if buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return errors.New("audit event details must be a JSON object")
	}
	if buf.Len() > MaxDetailsLen {
		return fmt.Errorf("audit event details are longer than %d bytes", MaxDetailsLen)
	}
	if bytes.Contains(buf.Bytes(), []byte(`\u0000`)) {
		return errors.New("audit event details contain a NUL character")
	}
	e.Details = json.RawMessage(buf.Bytes())
	return nil
}

// canonicalVersion tags the encoding, so that a future change of encoding
// cannot be confused with this one.
const canonicalVersion = "pakn-audit-v1"

// Canonical returns the unambiguous byte encoding of the event's own fields
// (everything but PrevHash and Hash): a version tag, then every field as a
// 4-byte big-endian length followed by its bytes.
func (e *Event) Canonical() []byte {
	var b bytes.Buffer
	field := func(s []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		b.Write(n[:])
		b.Write(s)
	}
	field([]byte(canonicalVersion))
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], uint64(e.Seq))
	field(seq[:])
	field([]byte(e.Time.UTC().Format("2006-01-02T15:04:05.000000Z")))
	for _, s := range []string{e.Actor, e.Role, e.Action, e.ObjectType, e.ObjectID, string(e.Outcome), e.RequestID, e.ClientHash} {
		field([]byte(s))
	}
	field(e.Details)
	return b.Bytes()
}

// ChainHash returns SHA-256(prev || e.Canonical()).
func ChainHash(prev []byte, e *Event) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(e.Canonical())
	return h.Sum(nil)
}

// Seal sets e's Seq, PrevHash and Hash to follow the event (headSeq, headHash);
// a headSeq of 0 means the chain is empty.
func (e *Event) Seal(headSeq int64, headHash []byte) {
	if headSeq == 0 {
		headHash = GenesisHash
	}
	e.Seq = headSeq + 1
	e.PrevHash = append([]byte(nil), headHash...)
	e.Hash = ChainHash(e.PrevHash, e)
}

// ClientHasher turns client addresses into keyed hashes, so the log can link
// requests from one address without storing the address itself.
type ClientHasher struct{ key []byte }

// MinClientKeyLen is the shortest HMAC key NewClientHasher accepts.
const MinClientKeyLen = 32

// NewClientHasher returns a ClientHasher with the given HMAC-SHA256 key.
func NewClientHasher(key []byte) (*ClientHasher, error) {
	if len(key) < MinClientKeyLen {
		return nil, fmt.Errorf("client address key must be at least %d bytes, got %d", MinClientKeyLen, len(key))
	}
	return &ClientHasher{key: append([]byte(nil), key...)}, nil
}

// Hash returns the hex HMAC-SHA256 of addr, or "" for an empty addr.
func (h *ClientHasher) Hash(addr string) string {
	if addr == "" {
		return ""
	}
	m := hmac.New(sha256.New, h.key)
	m.Write([]byte(addr))
	return hex.EncodeToString(m.Sum(nil))
}
