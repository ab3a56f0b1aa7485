// Package quota bounds what clients may hold: how many requests of a kind
// one client has running at once (PerClient), how many bytes one client may
// send in a day (Daily), and how many bytes all clients hold together
// (Budget). Clients are named by a key (pakn uses the IPv4 address or the
// IPv6 /64 network); the package knows nothing of HTTP.
package quota

import (
	"sync"
	"time"

	"pakn/internal/deadline"
)

// PerClient bounds the requests of a kind that one client has running at once.
type PerClient struct {
	Max int // per client; no bound when zero or less

	mu      sync.Mutex
	running map[string]int
}

// Acquire takes one of key's places; ok is false when key already holds
// Max. The release function gives the place back; call it once.
func (q *PerClient) Acquire(key string) (release func(), ok bool) {
	if q.Max <= 0 {
		return func() {}, true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.running == nil {
		q.running = map[string]int{}
	}
	if q.running[key] >= q.Max {
		return nil, false
	}
	q.running[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			q.mu.Lock()
			defer q.mu.Unlock()
			if q.running[key]--; q.running[key] <= 0 {
				delete(q.running, key)
			}
		})
	}, true
}

// Running is how many places key holds now.
func (q *PerClient) Running(key string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.running[key]
}

// Daily bounds the bytes one client may send per day (days as in Vietnam).
type Daily struct {
	Max int64            // per client and day; no bound when zero or less
	Now func() time.Time // time.Now when nil

	mu   sync.Mutex
	day  string
	used map[string]int64
}

// Add counts n more bytes for key today and reports whether key is still
// within Max. Bytes are counted even when they go over: they were sent.
func (d *Daily) Add(key string, n int64) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.roll()
	d.used[key] += n
	return d.Max <= 0 || d.used[key] <= d.Max
}

// Left is how many bytes key may still send today (0 when none).
func (d *Daily) Left(key string) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.roll()
	if d.Max <= 0 {
		return 1<<63 - 1
	}
	return max(0, d.Max-d.used[key])
}

// UntilTomorrow is how long until the day's counts start again.
func (d *Daily) UntilTomorrow() time.Duration {
	now := d.now().In(deadline.ICT)
	y, m, day := now.Date()
	return time.Date(y, m, day+1, 0, 0, 0, 0, deadline.ICT).Sub(now)
}

func (d *Daily) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// roll forgets yesterday's counts. d.mu is held.
func (d *Daily) roll() {
	today := d.now().In(deadline.ICT).Format(time.DateOnly)
	if d.day != today || d.used == nil {
		d.day, d.used = today, map[string]int64{}
	}
}

// Budget bounds the bytes that all clients hold at once.
type Budget struct {
	Max int64 // no bound when zero or less

	mu   sync.Mutex
	used int64
}

// Take reserves n bytes and reports whether they fit; give them back with Give.
func (b *Budget) Take(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Max > 0 && b.used+n > b.Max {
		return false
	}
	b.used += n
	return true
}

// Give returns n bytes taken with Take.
func (b *Budget) Give(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= n
}

// Used is how many bytes are reserved now.
func (b *Budget) Used() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}
