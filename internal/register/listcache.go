package register

import (
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"pakn/internal/reply"
)

// listCacheTTL is how long the register reuses a list it has read: the
// register is public and changes when an answer is published, so a page
// may be that much behind; many citizens opening the same page, or the
// same search, cost one query.
const listCacheTTL = 5 * time.Second

// listCacheSize bounds how many different lists are kept.
const listCacheSize = 512

// listCache keeps recent lists of the register, one query at a time per
// key (concurrent requests for the same list wait for the one query).
type listCache struct {
	mu      sync.Mutex
	entries map[string]cachedList
	group   singleflight.Group
	now     func() time.Time
}

type cachedList struct {
	list    []reply.Listed
	total   int
	expires time.Time
}

// key is the cache key of a query.
func listKey(q reply.RegisterQuery) string {
	return fmt.Sprintf("%q|%s|%s|%s|%d|%d|%d|%d", q.Query, q.Agency, q.Category, q.Outcome, q.From.Unix(), q.To.Unix(), q.Limit, q.Offset)
}

// get returns the list of q, from the cache or by load.
func (c *listCache) get(q reply.RegisterQuery, load func() ([]reply.Listed, int, error)) ([]reply.Listed, int, error) {
	key := listKey(q)
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && c.now().Before(e.expires) {
		c.mu.Unlock()
		return e.list, e.total, nil
	}
	c.mu.Unlock()
	v, err, _ := c.group.Do(key, func() (any, error) {
		list, total, err := load()
		if err != nil {
			return nil, err
		}
		e := cachedList{list: list, total: total, expires: c.now().Add(listCacheTTL)}
		c.mu.Lock()
		if c.entries == nil || len(c.entries) >= listCacheSize {
			c.entries = map[string]cachedList{} // simple and bounded: start again when full
		}
		c.entries[key] = e
		c.mu.Unlock()
		return e, nil
	})
	if err != nil {
		return nil, 0, err
	}
	e := v.(cachedList)
	return e.list, e.total, nil
}
