// Package gc sets how Go's garbage collector trades memory for CPU in
// paknd: how far the heap grows over what is live before a collection (the
// percent, Go's GOGC) and the soft limit on all the memory the Go runtime
// holds (Go's GOMEMLIMIT), which makes the collector work harder as the
// process nears it.
//
// pakn's live heap is small (about 5 MB under full load) and its requests
// allocate quickly, so with Go's default percent (100) it collects every
// few MB: about a fifth of the CPU paknd spends on a submission. Default's
// percent collects about a quarter as often; its limit keeps the memory Go
// holds below a bound under floods, where the percent alone would let a
// large live heap grow to five times its size. The limit is soft: past it
// Go collects as often as it must (spending up to half the CPU), it does
// not fail.
package gc

import (
	"runtime/debug"
	"runtime/metrics"
)

// Settings is a setting of the collector.
type Settings struct {
	Percent int   // heap growth over live data that starts a collection, in percent (Go's GOGC)
	Limit   int64 // soft limit on the Go runtime's memory, in bytes (Go's GOMEMLIMIT)
}

// Default is paknd's setting unless configured otherwise, and the one its
// benchmarks measure.
var Default = Settings{Percent: 400, Limit: 512 << 20}

// Bounds of the two settings that paknd accepts.
const (
	MinPercent = 50
	MaxPercent = 1000
	MinLimit   = 64 << 20
	MaxLimit   = 1 << 40
)

// Tune sets the process's collector to s, within the bounds above, and
// returns a function that puts back what was set before.
func Tune(s Settings) (restore func()) {
	percent := debug.SetGCPercent(s.Percent)
	limit := debug.SetMemoryLimit(s.Limit)
	return func() {
		debug.SetGCPercent(percent)
		debug.SetMemoryLimit(limit)
	}
}

// Current is the process's setting of the collector now, read without
// changing it.
func Current() Settings {
	m := []metrics.Sample{{Name: "/gc/gogc:percent"}, {Name: "/gc/gomemlimit:bytes"}}
	metrics.Read(m)
	return Settings{Percent: int(m[0].Value.Uint64()), Limit: int64(m[1].Value.Uint64())}
}
