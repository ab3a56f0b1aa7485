package main

import (
	"context"
	"fmt"

	"pakn/internal/postgres"
)

func cmdMigrate(ctx context.Context, args []string, e env) error {
	fs := newFlags("migrate", e)
	if err := fs.Parse(args); err != nil {
		return err
	}
	url, err := e.need("PAKN_DATABASE_OWNER_URL", "the database URL of the owner role")
	if err != nil {
		return err
	}
	role := e.getenv("PAKN_DB_APP_ROLE")
	if role == "" {
		role = "pakn_app"
	}
	from, to, err := postgres.Migrate(ctx, url, role)
	if err != nil {
		return err
	}
	if from == to {
		fmt.Fprintf(e.stdout, "database schema is up to date (version %d)\n", to)
	} else {
		fmt.Fprintf(e.stdout, "database schema migrated from version %d to %d\n", from, to)
	}
	return nil
}
