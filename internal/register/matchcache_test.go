package register

import (
	"context"
	"errors"
	"testing"
	"time"

	"pakn/internal/verify"
)

// CachedFinder asks the register once per document and ttl, gives each
// caller its own copy, forgets answers when they expire, and does not
// remember failures.
func TestCachedFinder(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	calls, status, fail := 0, "current", false
	find := func(_ context.Context, binding, _ string) (*verify.Match, error) {
		calls++
		if fail {
			return nil, errors.New("register down")
		}
		if binding == "unknown" {
			return nil, nil
		}
		return &verify.Match{Found: true, ReplyID: binding, Status: status}, nil
	}
	c := CachedFinder(find, time.Second, func() time.Time { return now })
	ctx := context.Background()
	for _, step := range []struct {
		name      string
		advance   time.Duration
		binding   string
		fail      bool
		wantCalls int
		wantFound bool
		wantErr   bool
		status    string
	}{
		{"first asks", 0, "r1", false, 1, true, false, "current"},
		{"again within the second: remembered", 500 * time.Millisecond, "r1", false, 1, true, false, "current"},
		{"another document asks", 0, "r2", false, 2, true, false, "current"},
		{"not issued asks", 0, "unknown", false, 3, false, false, ""},
		{"not issued again: remembered", 0, "unknown", false, 3, false, false, ""},
		{"expired: asks again, sees the change", 600 * time.Millisecond, "r1", false, 4, true, false, "superseded"},
		{"a failure is not remembered", 2 * time.Second, "r1", true, 5, false, true, ""},
		{"after a failure, asks again", 0, "r1", false, 6, true, false, "superseded"},
	} {
		now = now.Add(step.advance)
		fail = step.fail
		if step.name == "expired: asks again, sees the change" {
			status = "superseded"
		}
		m, err := c(ctx, step.binding, "sum")
		if calls != step.wantCalls || (err != nil) != step.wantErr || (m != nil) != step.wantFound {
			t.Fatalf("%s: %d calls, match %v, err %v", step.name, calls, m, err)
		}
		if m != nil && m.Status != step.status {
			t.Fatalf("%s: status %q, want %q", step.name, m.Status, step.status)
		}
		if m != nil {
			m.Status = "changed by a caller" // a copy: the next caller does not see it
		}
	}
}
