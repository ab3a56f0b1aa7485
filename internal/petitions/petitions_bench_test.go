package petitions_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"

	"pakn/internal/gc"
	"pakn/internal/servicetest"
)

// BenchmarkSubmit measures durable submission: a petition and its audit
// event committed together, the petitioner's data sealed, from
// PAKN_BENCH_CLIENTS concurrent submitters (64 by default), as a public
// intake sees them. `make bench` prints it beside pgbench's insert-only rate
// with as many clients on the same server, in the same run.
func BenchmarkSubmit(b *testing.B) {
	defer gc.Tune(gc.Default)() // as paknd serves
	e := servicetest.New(b)
	ctx := context.Background()
	clients := 64
	if v, err := strconv.Atoi(os.Getenv("PAKN_BENCH_CLIENTS")); err == nil && v > 0 {
		clients = v
	}
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Petitions.Submit(ctx, e.M, servicetest.Anon, "", servicetest.Submission(), nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "petitions/s")
}
