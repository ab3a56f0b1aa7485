// Package pgtest gives each test its own real PostgreSQL database, cloned
// from a template that is migrated once per cluster and migration set.
//
// It needs a running cluster with the pakn_owner and pakn_app roles, named by
// PAKN_TEST_SUPERUSER_URL, PAKN_TEST_OWNER_URL and PAKN_TEST_APP_URL (`make
// test` starts one and sets them). When they are missing the test fails: it
// never skips.
package pgtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"pakn/internal/postgres"
	"pakn/internal/store"
)

// DB is one test's database.
type DB struct {
	Name     string
	SuperURL string        // the cluster superuser, on this database
	OwnerURL string        // the owner role
	AppURL   string        // the application role
	Pool     *pgxpool.Pool // a pool of the application role
	PG       *postgres.DB  // the same pool with the transaction helper
}

// Stores returns the stores over the application role's pool, with the
// audit log's clock now (time.Now when nil).
func (db *DB) Stores(now func() time.Time) store.Set { return postgres.Stores(db.Pool, now) }

// env reads the cluster URLs or fails the test.
func env(t testing.TB) (super, owner, app string) {
	t.Helper()
	get := func(k string) string {
		v := os.Getenv(k)
		if v == "" {
			t.Fatalf("%s is not set: integration tests need the real PostgreSQL that `make test` starts", k)
		}
		return v
	}
	return get("PAKN_TEST_SUPERUSER_URL"), get("PAKN_TEST_OWNER_URL"), get("PAKN_TEST_APP_URL")
}

// WithDB returns u with its database name replaced.
func WithDB(u, db string) string {
	p, err := url.Parse(u)
	if err != nil {
		panic(err)
	}
	p.Path = "/" + db
	return p.String()
}

var (
	tmplOnce sync.Once
	tmplName string
	tmplErr  error
)

// New creates a fresh migrated database for t, dropped when t ends.
func New(t testing.TB) *DB {
	t.Helper()
	super, owner, app := env(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmplOnce.Do(func() { tmplName, tmplErr = ensureTemplate(ctx, super, owner) })
	if tmplErr != nil {
		t.Fatalf("pgtest: template database: %v", tmplErr)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "pakn_t_" + hex.EncodeToString(b[:])
	sc, err := pgx.Connect(ctx, WithDB(super, "postgres"))
	if err != nil {
		t.Fatalf("pgtest: connect as superuser: %v", err)
	}
	defer sc.Close(ctx)
	for _, q := range []string{
		fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s OWNER pakn_owner", name, tmplName),
		fmt.Sprintf("REVOKE ALL ON DATABASE %s FROM PUBLIC", name),
		fmt.Sprintf("GRANT CONNECT, TEMPORARY ON DATABASE %s TO pakn_app", name),
	} {
		if _, err := sc.Exec(ctx, q); err != nil {
			t.Fatalf("pgtest: %s: %v", q, err)
		}
	}
	db := &DB{Name: name, SuperURL: WithDB(super, name), OwnerURL: WithDB(owner, name), AppURL: WithDB(app, name)}
	t.Cleanup(func() {
		if db.Pool != nil {
			db.Pool.Close()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, WithDB(super, "postgres"))
		if err != nil {
			t.Errorf("pgtest: cleanup connect: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop %s: %v", name, err)
		}
	})
	db.Pool, err = postgres.Open(ctx, db.AppURL)
	if err != nil {
		t.Fatalf("pgtest: open app pool: %v", err)
	}
	db.PG = &postgres.DB{Pool: db.Pool}
	return db
}

// Superuser runs statements on t's database as the cluster superuser, as an
// attacker with full database rights would (for example to disable triggers).
func (db *DB) Superuser(t testing.TB, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, db.SuperURL)
	if err != nil {
		t.Fatalf("pgtest: connect as superuser: %v", err)
	}
	defer c.Close(ctx)
	for _, s := range stmts {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("pgtest: %s: %v", s, err)
		}
	}
}

// RefuseAuditInserts revokes the application role's INSERT on audit_events
// in t's database, so that every audit append fails there: for the tests
// of "audit before act".
func (db *DB) RefuseAuditInserts(t testing.TB) {
	t.Helper()
	u, err := url.Parse(db.AppURL)
	if err != nil {
		t.Fatal(err)
	}
	db.Superuser(t, "REVOKE INSERT ON audit_events FROM "+pgx.Identifier{u.User.Username()}.Sanitize())
}

// ensureTemplate creates, once per cluster and set of migrations, a migrated
// template database; concurrent test binaries wait on an advisory lock.
func ensureTemplate(ctx context.Context, super, owner string) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(postgres.Migrations(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(postgres.Migrations(), p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	name := "pakn_tmpl_" + hex.EncodeToString(h.Sum(nil))[:16]
	c, err := pgx.Connect(ctx, WithDB(super, "postgres"))
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "SELECT pg_advisory_lock(7361001)"); err != nil {
		return "", err
	}
	defer c.Exec(ctx, "SELECT pg_advisory_unlock(7361001)") //nolint:errcheck
	var exists bool
	if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
		return "", err
	}
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name+" OWNER pakn_owner"); err != nil {
		return "", err
	}
	if _, _, err := postgres.Migrate(ctx, WithDB(owner, name), "pakn_app"); err != nil {
		return "", err
	}
	if _, err := c.Exec(ctx, "ALTER DATABASE "+name+" WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"); err != nil {
		return "", err
	}
	return name, nil
}
