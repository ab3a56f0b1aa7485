package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"pakn/internal/audit"
	"pakn/internal/auditlog"
	"pakn/internal/guard"
	"pakn/internal/postgres"
)

// cmdAuditVerify walks the chain and prints OK with the count, or where and
// how it first breaks. It returns the exit status.
func cmdAuditVerify(ctx context.Context, args []string, e env) int {
	fs := newFlags("audit verify", e)
	anchorFlag := fs.String("anchor", "", "a head recorded earlier, SEQ:HASH, that must still be in the chain")
	if err := fs.Parse(args); err != nil {
		return exitError
	}
	fail := func(err error) int {
		fmt.Fprintln(e.stderr, "pakn audit verify:", err)
		return exitError
	}
	var anchor *audit.Anchor
	if *anchorFlag != "" {
		a, err := audit.ParseAnchor(*anchorFlag)
		if err != nil {
			return fail(err)
		}
		anchor = &a
	}
	pool, err := e.openAppDB(ctx)
	if err != nil {
		return fail(err)
	}
	defer pool.Close()

	store := &postgres.AuditStore{DB: &postgres.DB{Pool: pool}}
	total, err := store.AuditHead(ctx)
	if err != nil {
		return fail(err)
	}
	last := time.Now()
	v, brk, err := store.Verify(ctx, anchor, func(done int64) {
		if time.Since(last) >= e.progressEvery {
			last = time.Now()
			progress(e, done, total)
		}
	})
	if err != nil {
		return fail(err)
	}
	if brk != nil {
		fmt.Fprintf(e.stdout, "BROKEN at seq %d (%s): %s\n", brk.Seq, brk.Kind, brk.Reason)
		fmt.Fprintf(e.stdout, "%d events verified before the break\n", v.Count())
		return exitBroken
	}
	h := v.Head()
	fmt.Fprintf(e.stdout, "OK: %d events verified\nhead: %d:%s\n", v.Count(), h.Seq, hex.EncodeToString(h.Hash))
	return exitOK
}

func progress(e env, done, total int64) {
	pct := 100.0
	if total > 0 {
		pct = 100 * float64(done) / float64(total)
	}
	if e.stderrIsTTY {
		fmt.Fprintf(e.stderr, "\rverified %d of %d events (%.0f%%)", done, total, pct)
		return
	}
	fmt.Fprintf(e.stderr, "verified %d of %d events (%.0f%%)\n", done, total, pct)
}

func cmdAuditExport(ctx context.Context, args []string, e env) error {
	fs := newFlags("audit export", e)
	after := fs.Int64("after", 0, "export events with a sequence number above this")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := e.openAppDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := postgres.Stores(pool, nil)
	svc := &auditlog.Service{Audit: st.Audit, Guard: &guard.Guard{Audit: st.Audit, Now: time.Now}}
	// The export is audited as the operator's, like any other export.
	return svc.Export(ctx, audit.Meta{}, e.operator(), *after, e.stdout)
}
