package register

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"pakn/internal/reply"
)

// The register reuses a list for five seconds, one query for concurrent
// requests of the same list; another query, or the same after five
// seconds, is read again; errors are not kept.
func TestListCache(t *testing.T) {
	now := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	c := listCache{now: func() time.Time { return now }}
	loads := 0
	load := func() ([]reply.Listed, int, error) {
		loads++
		return []reply.Listed{{ReplyID: fmt.Sprint(loads)}}, loads, nil
	}
	q := reply.RegisterQuery{Query: "phí", Limit: 20}
	for range 3 {
		if l, total, _ := c.get(q, load); total != 1 || l[0].ReplyID != "1" {
			t.Fatalf("cached list: %v %d", l, total)
		}
	}
	if _, total, _ := c.get(reply.RegisterQuery{Query: "phí", Limit: 20, Offset: 20}, load); total != 2 {
		t.Fatal("another page was not read")
	}
	now = now.Add(listCacheTTL)
	if _, total, _ := c.get(q, load); total != 3 {
		t.Fatal("an old list was reused")
	}
	if _, _, err := c.get(reply.RegisterQuery{Query: "x"}, func() ([]reply.Listed, int, error) { return nil, 0, errors.New("down") }); err == nil {
		t.Fatal("the error was lost")
	}
	if _, total, _ := c.get(reply.RegisterQuery{Query: "x"}, load); total != 4 {
		t.Fatal("an error was kept")
	}
}
