package audit

import (
	"encoding/hex"
	"testing"
	"time"
)

// A fixed chain of three events and the hashes the format defines for it
// ("pakn-audit-v1": SHA-256 of the previous hash, the first zeros, and the
// canonical encoding: the version tag, then seq as 8 bytes, the time as
// 2006-01-02T15:04:05.000000Z, actor, role, action, object type, object id,
// outcome, request id, client hash and details, each behind a 4-byte
// big-endian length). The hashes were computed from that description by a
// separate program, not by this package: a change of encoding or hash
// fails here, before it breaks every recorded chain head.
func TestChainKnownAnswer(t *testing.T) {
	at := func(s string) time.Time { v, _ := time.Parse(time.RFC3339Nano, s); return v }
	events := []struct {
		e    Event
		hash string
	}{
		{Event{Time: at("2026-01-02T03:04:05.678901Z"), Actor: "system", Role: "seed", Action: "agency.create", ObjectType: "agency",
			ObjectID: "STP-HN", Outcome: Success, Details: []byte(`{"kind":"department","parent":"UBND-HN"}`)},
			"7755e323fa52cdb62cf7735f82163bb3817f4307c6a5f0bd2f1b9e3e6ff65c83"},
		{Event{Time: at("2026-01-02T03:04:06Z"), Actor: "account:00000000-0000-4000-8000-000000000001", Role: "official",
			Action: "petition.accept", ObjectType: "petition", ObjectID: "0190f3a2-7b1c-7def-8abc-0123456789ab", Outcome: Success,
			RequestID: "req-1", ClientHash: "3f1e", Details: []byte(`{"from":"received","note":"Đã tiếp nhận","to":"accepted"}`)},
			"3c45b8ab463ded3d746251b723051d6c261e2d04d143e175cfa7c4d12ea03e0b"},
		{Event{Time: at("2026-01-02T03:04:07.1Z"), Actor: "anonymous", Role: "anonymous", Action: "access.denied", ObjectType: "petition",
			Outcome: Denied, RequestID: "req-2", Details: []byte(`{}`)},
			"fecc3911d3bb2d974e59271ffeb1ae259a07e6642ab460d9e9e00e737637c879"},
	}
	var seq int64
	var head []byte
	v := NewVerifier(nil)
	for i := range events {
		e := &events[i].e
		if err := e.Normalize(time.Time{}); err != nil {
			t.Fatal(err)
		}
		e.Seal(seq, head)
		if got := hex.EncodeToString(e.Hash); got != events[i].hash {
			t.Fatalf("event %d hashes to %s, the format says %s", e.Seq, got, events[i].hash)
		}
		if brk := v.Check(e); brk != nil {
			t.Fatalf("the verifier refuses event %d: %v", e.Seq, brk)
		}
		seq, head = e.Seq, e.Hash
	}
	if h := v.Head(); h.Seq != 3 || hex.EncodeToString(h.Hash) != events[2].hash {
		t.Fatalf("head %v", h)
	}
}
