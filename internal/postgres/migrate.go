package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/tern/v2/migrate"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// versionTable records the applied migration version.
const versionTable = "public.schema_version"

var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// Migrations returns the embedded migration files.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embed pattern guarantees the folder
	}
	return sub
}

// Migrate applies all pending migrations. ownerURL must connect as the role
// that owns the schema; appRole is the application role that receives only
// the grants it needs. It returns the version before and after.
func Migrate(ctx context.Context, ownerURL, appRole string) (from, to int32, err error) {
	if !roleName.MatchString(appRole) {
		return 0, 0, fmt.Errorf("application role %q is not a plain lower-case SQL identifier", appRole)
	}
	cfg, err := pgx.ParseConfig(ownerURL)
	if err != nil {
		return 0, 0, errors.New("owner database URL cannot be parsed")
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return 0, 0, fmt.Errorf("connect as owner: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	m, err := migrate.NewMigrator(ctx, conn, versionTable)
	if err != nil {
		return 0, 0, fmt.Errorf("migrator: %w", err)
	}
	m.Data["app_role"] = appRole
	if err := m.LoadMigrations(Migrations()); err != nil {
		return 0, 0, fmt.Errorf("load migrations: %w", err)
	}
	if from, err = m.GetCurrentVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("current version: %w", err)
	}
	if err := m.Migrate(ctx); err != nil {
		return from, 0, fmt.Errorf("migrate: %w", err)
	}
	to, err = m.GetCurrentVersion(ctx)
	if err != nil {
		return from, 0, err
	}
	if _, err := conn.Exec(ctx, "GRANT SELECT ON "+versionTable+" TO "+appRole); err != nil {
		return from, to, fmt.Errorf("grant version table: %w", err)
	}
	return from, to, nil
}

// LatestVersion is the version of the newest embedded migration.
func LatestVersion() (int32, error) {
	names, err := migrate.FindMigrations(Migrations())
	if err != nil {
		return 0, err
	}
	return int32(len(names)), nil
}

// SchemaVersion returns the applied migration version (0 when none).
func SchemaVersion(ctx context.Context, db interface {
	QueryRow(context.Context, string, ...any) pgx.Row
}) (int32, error) {
	var v int32
	err := db.QueryRow(ctx, "SELECT version FROM "+versionTable).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return v, err
}
