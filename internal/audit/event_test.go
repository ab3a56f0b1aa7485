package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 28, 10, 30, 0, 123456789, time.FixedZone("ICT", 7*3600))

func TestNormalize(t *testing.T) {
	long := strings.Repeat("a", MaxFieldLen+1)
	tests := []struct {
		name    string
		e       Event
		wantErr string
	}{
		{"ok", Event{Actor: "u1", Action: "x.y", Outcome: Success}, ""},
		{"details compacted", Event{Actor: "u1", Action: "x", Outcome: Denied, Details: json.RawMessage(`{ "a" : 1 }`)}, ""},
		{"no actor", Event{Action: "x", Outcome: Success}, "needs actor"},
		{"no action", Event{Actor: "u", Outcome: Success}, "needs actor"},
		{"bad outcome", Event{Actor: "u", Action: "x", Outcome: "maybe"}, "outcome"},
		{"long actor", Event{Actor: long, Action: "x", Outcome: Success}, "actor is longer"},
		{"long object id", Event{Actor: "u", Action: "x", ObjectID: long, Outcome: Success}, "object_id is longer"},
		{"invalid utf8", Event{Actor: "u\xff", Action: "x", Outcome: Success}, "not valid text"},
		{"nul byte", Event{Actor: "u", Action: "x\x00", Outcome: Success}, "not valid text"},
		{"details not object", Event{Actor: "u", Action: "x", Outcome: Success, Details: json.RawMessage(`[1]`)}, "JSON object"},
		{"details invalid", Event{Actor: "u", Action: "x", Outcome: Success, Details: json.RawMessage(`{`)}, "details"},
		{"details nul", Event{Actor: "u", Action: "x", Outcome: Success, Details: json.RawMessage(`{"a":"\u0000"}`)}, "NUL"},
		{"details too long", Event{Actor: "u", Action: "x", Outcome: Success, Details: json.RawMessage(`{"a":"` + strings.Repeat("b", MaxDetailsLen) + `"}`)}, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.e.Normalize(t0)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Normalize: %v", err)
				}
				if tt.e.Time.Location() != time.UTC || tt.e.Time.Nanosecond()%1000 != 0 {
					t.Errorf("time %v is not UTC microseconds", tt.e.Time)
				}
				if !json.Valid(tt.e.Details) || bytes.ContainsAny(tt.e.Details, " \n") {
					t.Errorf("details %q not compact JSON", tt.e.Details)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Normalize error = %v, want it to mention %q", err, tt.wantErr)
			}
		})
	}
}

func TestCanonicalIsUnambiguous(t *testing.T) {
	base := Event{Seq: 1, Time: t0.UTC(), Actor: "ab", Role: "c", Action: "x", Outcome: Success, Details: json.RawMessage(`{}`)}
	shifted := base
	shifted.Actor, shifted.Role = "a", "bc"
	if bytes.Equal(base.Canonical(), shifted.Canonical()) {
		t.Fatal("moving a byte between fields must change the encoding")
	}
	for name, mutate := range map[string]func(*Event){
		"seq":         func(e *Event) { e.Seq = 2 },
		"time":        func(e *Event) { e.Time = e.Time.Add(time.Microsecond) },
		"actor":       func(e *Event) { e.Actor = "ac" },
		"role":        func(e *Event) { e.Role = "d" },
		"action":      func(e *Event) { e.Action = "y" },
		"object_type": func(e *Event) { e.ObjectType = "t" },
		"object_id":   func(e *Event) { e.ObjectID = "1" },
		"outcome":     func(e *Event) { e.Outcome = Failure },
		"request_id":  func(e *Event) { e.RequestID = "r" },
		"client_hash": func(e *Event) { e.ClientHash = "h" },
		"details":     func(e *Event) { e.Details = json.RawMessage(`{"a":1}`) },
	} {
		e := base
		mutate(&e)
		if bytes.Equal(ChainHash(GenesisHash, &base), ChainHash(GenesisHash, &e)) {
			t.Errorf("changing %s does not change the hash", name)
		}
	}
}

func TestClientHasher(t *testing.T) {
	if _, err := NewClientHasher(make([]byte, 31)); err == nil {
		t.Fatal("a 31-byte key must be refused")
	}
	k1 := bytes.Repeat([]byte{1}, 32)
	k2 := bytes.Repeat([]byte{2}, 32)
	h1, _ := NewClientHasher(k1)
	h2, _ := NewClientHasher(k2)
	a := h1.Hash("203.0.113.7")
	if a != h1.Hash("203.0.113.7") {
		t.Error("hash is not deterministic")
	}
	if a == h1.Hash("203.0.113.8") || a == h2.Hash("203.0.113.7") {
		t.Error("hash must depend on address and key")
	}
	if strings.Contains(a, "203.0.113.7") || len(a) != 64 {
		t.Errorf("hash %q leaks the address or has the wrong size", a)
	}
	if h1.Hash("") != "" {
		t.Error("empty address must give empty hash")
	}
}
