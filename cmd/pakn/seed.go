package main

import (
	"context"
	"fmt"

	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/postgres"
)

func cmdSeed(ctx context.Context, args []string, e env) error {
	fs := newFlags("seed", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := e.openAppDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	store := &postgres.AgencyStore{Audit: &postgres.AuditStore{}}
	actor := audit.Event{Actor: "system", Role: "seed"}
	n := 0
	for _, a := range agency.DemoDirectory() {
		created, err := store.Ensure(ctx, pool, a, actor)
		if err != nil {
			return err
		}
		if created {
			n++
		}
	}
	fmt.Fprintf(e.stdout, "seed: %d demo agencies added (%d already present)\n", n, len(agency.DemoDirectory())-n)
	return nil
}
