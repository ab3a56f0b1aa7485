package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"pakn/internal/agency"
	"pakn/internal/audit"
	"pakn/internal/petition"
	"pakn/internal/postgres"
)

const agencyUsage = `usage: pakn agency import FILE
  adds the agencies of FILE (JSON: agencies, parents before children, and the routing of petitions
  by category) to the directory, renames those whose names changed, and replaces the routing, in one
  audited transaction (PAKN_DATABASE_URL); an agency is never moved or deleted (README: The agency directory)`

// cmdAgency is `pakn agency import FILE`.
func cmdAgency(ctx context.Context, args []string, e env) error {
	if len(args) < 1 || args[0] != "import" {
		return errors.New(agencyUsage)
	}
	fs := newFlags("agency import", e)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(agencyUsage)
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	pool, err := e.openAppDB(ctx)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := postgres.Stores(pool, nil)
	existing, err := st.Agencies.List(ctx)
	if err != nil {
		return err
	}
	known := func(code string) bool {
		return slices.ContainsFunc(existing, func(a agency.Agency) bool { return a.Code == code })
	}
	category := func(c string) bool { return slices.Contains(petition.Categories, petition.Category(c)) }
	d, err := agency.ParseDirectory(f, known, category)
	if err != nil {
		return fmt.Errorf("%s:\n%w", fs.Arg(0), err)
	}
	op := e.operator()
	created, renamed, rerouted, err := st.Agencies.Import(ctx, d, audit.Event{Actor: audit.ActorOf(op), Role: audit.RoleOf(op)})
	if err != nil {
		return err
	}
	routing := "unchanged"
	if rerouted {
		routing = "replaced"
	}
	fmt.Fprintf(e.stdout, "agency import: %d agencies added, %d renamed, %d unchanged; routing %s\n",
		created, renamed, len(d.Agencies)-created-renamed, routing)
	return nil
}
