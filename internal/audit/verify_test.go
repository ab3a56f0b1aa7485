package audit

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// chain builds n sealed events.
func chain(t *testing.T, n int) []Event {
	t.Helper()
	var out []Event
	var head []byte
	for i := 0; i < n; i++ {
		e := Event{Actor: "u", Action: "a", Outcome: Success, ObjectID: fmt.Sprint(i)}
		if err := e.Normalize(t0); err != nil {
			t.Fatal(err)
		}
		e.Seal(int64(i), head)
		head = e.Hash
		out = append(out, e)
	}
	return out
}

func verify(evs []Event, anchor *Anchor) (*Verifier, *Break) {
	v := NewVerifier(anchor)
	for i := range evs {
		if b := v.Check(&evs[i]); b != nil {
			return v, b
		}
	}
	return v, v.Finish()
}

func TestVerifier(t *testing.T) {
	good := chain(t, 6)
	head := Anchor{Seq: 6, Hash: good[5].Hash}
	tests := []struct {
		name     string
		mutate   func([]Event) []Event
		anchor   *Anchor
		wantSeq  int64
		wantKind BreakKind
	}{
		{"intact", func(e []Event) []Event { return e }, nil, 0, ""},
		{"intact with anchor", func(e []Event) []Event { return e }, &head, 0, ""},
		{"empty", func(e []Event) []Event { return nil }, nil, 0, ""},
		{"edited field", func(e []Event) []Event { e[2].Actor = "mallory"; return e }, nil, 3, Edited},
		{"edited details", func(e []Event) []Event { e[3].Details = json.RawMessage(`{"x":1}`); return e }, nil, 4, Edited},
		{"edited with recomputed hash", func(e []Event) []Event {
			e[2].Actor = "mallory"
			e[2].Hash = ChainHash(e[2].PrevHash, &e[2])
			return e
		}, nil, 4, Relinked},
		{"deleted middle", func(e []Event) []Event { return append(e[:2:2], e[3:]...) }, nil, 3, Deleted},
		{"deleted first", func(e []Event) []Event { return e[1:] }, nil, 1, Deleted},
		{"reordered", func(e []Event) []Event { e[2], e[3] = e[3], e[2]; return e }, nil, 3, Deleted},
		{"reordered with swapped seq", func(e []Event) []Event {
			e[2], e[3] = e[3], e[2]
			e[2].Seq, e[3].Seq = 3, 4
			return e
		}, nil, 3, Edited},
		{"inserted and resealed", func(e []Event) []Event {
			ins := Event{Actor: "mallory", Action: "a", Outcome: Success}
			_ = ins.Normalize(t0)
			ins.Seal(2, e[1].Hash)
			rest := append([]Event(nil), e[2:]...)
			for i := range rest {
				rest[i].Seq++
				rest[i].Hash = ChainHash(rest[i].PrevHash, &rest[i])
			}
			return append(append(e[:2:2], ins), rest...)
		}, nil, 4, Relinked},
		{"duplicate seq", func(e []Event) []Event { return append(e[:3:3], e[2:]...) }, nil, 3, Relinked},
		{"truncated tail with anchor", func(e []Event) []Event { return e[:4] }, &head, 5, Truncated},
		{"rewritten whole chain", func(e []Event) []Event {
			var h []byte
			for i := range e {
				e[i].Actor = "mallory"
				e[i].Seal(int64(i), h)
				h = e[i].Hash
			}
			return e
		}, &head, 6, Diverged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := tt.mutate(append([]Event(nil), good...))
			v, b := verify(evs, tt.anchor)
			if tt.wantKind == "" {
				if b != nil {
					t.Fatalf("unexpected break: %v", b)
				}
				if v.Count() != int64(len(evs)) {
					t.Fatalf("count %d, want %d", v.Count(), len(evs))
				}
				return
			}
			if b == nil {
				t.Fatal("break not detected")
			}
			if b.Seq != tt.wantSeq || b.Kind != tt.wantKind {
				t.Fatalf("break at %d (%s), want %d (%s): %s", b.Seq, b.Kind, tt.wantSeq, tt.wantKind, b.Reason)
			}
			if !strings.Contains(b.Error(), fmt.Sprint(tt.wantSeq)) {
				t.Errorf("message %q does not name the sequence", b.Error())
			}
		})
	}
}

func TestParseAnchor(t *testing.T) {
	h := strings.Repeat("ab", HashSize)
	tests := []struct {
		in  string
		ok  bool
		seq int64
	}{
		{"12:" + h, true, 12},
		{"1:" + h, true, 1},
		{"0:" + h, false, 0},
		{"-1:" + h, false, 0},
		{"x:" + h, false, 0},
		{"12:" + h[:10], false, 0},
		{"12:" + h + "00", false, 0},
		{"12", false, 0},
		{"12x:" + h, false, 0},
		{" 12:" + h, false, 0},
		{"", false, 0},
		{"12:zz" + h[2:], false, 0},
	}
	for _, tt := range tests {
		a, err := ParseAnchor(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseAnchor(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if tt.ok && (a.Seq != tt.seq || a.String() != tt.in) {
			t.Errorf("ParseAnchor(%q) = %v", tt.in, a)
		}
	}
}

func FuzzParseAnchor(f *testing.F) {
	f.Add("12:" + strings.Repeat("ab", HashSize))
	f.Add("1:")
	f.Add(":::")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAnchor(s)
		if err != nil {
			return
		}
		if a.Seq < 1 || len(a.Hash) != HashSize {
			t.Fatalf("accepted invalid anchor %q: %+v", s, a)
		}
		b, err := ParseAnchor(a.String())
		if err != nil || b.Seq != a.Seq || string(b.Hash) != string(a.Hash) {
			t.Fatalf("round trip of %q failed", s)
		}
	})
}
