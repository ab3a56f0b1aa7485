package register

import (
	"context"
	"sync"
	"time"

	"pakn/internal/verify"
)

// MatchCacheTTL is how long CachedFinder reuses the register's answer for
// a document: when thousands check the same reply, the register is asked
// once a second, not once a verification. A reply superseded meanwhile is
// shown as current for at most that long (the CAs' revocation lists, read
// every five minutes, are older still).
const MatchCacheTTL = time.Second

// matchCacheSize bounds how many answers CachedFinder keeps; when full it
// starts again, so a flood of distinct documents costs queries, not memory.
const matchCacheSize = 4096

// CachedFinder is find with its answers (a match, or none) remembered for
// ttl by what they were asked with; errors are not remembered. Each caller
// gets its own copy of a match. now is the clock (time.Now when nil).
func CachedFinder(find verify.FindIssued, ttl time.Duration, now func() time.Time) verify.FindIssued {
	if now == nil {
		now = time.Now
	}
	c := &matchCache{find: find, ttl: ttl, now: now}
	return c.lookup
}

type matchCache struct {
	find    verify.FindIssued
	ttl     time.Duration
	now     func() time.Time
	mu      sync.Mutex
	entries map[[2]string]cachedMatch
}

type cachedMatch struct {
	m       *verify.Match // nil: not issued
	expires time.Time
}

func (c *matchCache) lookup(ctx context.Context, binding, sum string) (*verify.Match, error) {
	k := [2]string{binding, sum}
	c.mu.Lock()
	e, ok := c.entries[k]
	c.mu.Unlock()
	if !ok || !c.now().Before(e.expires) {
		m, err := c.find(ctx, binding, sum)
		if err != nil {
			return nil, err
		}
		e = cachedMatch{m: m, expires: c.now().Add(c.ttl)}
		c.mu.Lock()
		if c.entries == nil || len(c.entries) >= matchCacheSize {
			c.entries = map[[2]string]cachedMatch{}
		}
		c.entries[k] = e
		c.mu.Unlock()
	}
	if e.m == nil {
		return nil, nil
	}
	m := *e.m
	return &m, nil
}
