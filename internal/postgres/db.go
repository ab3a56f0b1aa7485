// Package postgres is pakn's PostgreSQL adapter (pgx/v5): the connection
// pool, embedded migrations, the one transaction helper, and the stores.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"pakn/internal/apperr"
	"pakn/internal/msg"
	"pakn/internal/store"
)

// Open connects a pool to url and checks that the server answers.
func Open(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgx's message may echo the URL, password included: keep it out.
		return nil, errors.New("database URL cannot be parsed")
	}
	cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	cfg.ConnConfig.RuntimeParams["application_name"] = "pakn"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database unreachable: %w", err)
	}
	return pool, nil
}

// DB is the connection pool with pakn's one transaction helper. A
// transaction travels in the context: a store method given a context from
// InTx runs in that transaction, any other context runs on the pool.
type DB struct {
	Pool *pgxpool.Pool
}

// errNoTx is returned by the writes that only make sense inside InTx.
var errNoTx = errors.New("postgres: the chain is appended to only inside InTx")

// txKey is the context key of the transaction InTx runs.
type txKey struct{}

// conn is the transaction ctx carries, or the pool.
func (db *DB) conn(ctx context.Context) Querier {
	if tx, ok := ctx.Value(txKey{}).(pgx.Tx); ok {
		return tx
	}
	return db.Pool
}

// inTx reports whether ctx carries a transaction.
func inTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(pgx.Tx)
	return ok
}

// InTx runs fn in a new READ COMMITTED transaction, carried by the context
// fn receives, and commits it if fn returns nil; otherwise it rolls back
// and returns fn's error. Every write of pakn goes through here, so an
// action and its audit event commit together or not at all. (READ
// COMMITTED is required by the audit append: it must see the chain head
// committed by others after it takes the append lock.) A call inside fn
// starts a transaction of its own, as a call outside would.
func (db *DB) InTx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	tx, err := db.Pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return unavailable("begin transaction", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err = fn(context.WithValue(ctx, txKey{}, tx)); err != nil {
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return unavailable("commit", err)
	}
	return nil
}

// txPipe is one READ COMMITTED transaction on one connection, sent as
// pipelined batches and COPYs: BEGIN travels with the first of them.
type txPipe struct {
	conn  *pgx.Conn
	begun bool                   // BEGIN sent
	ends  []func(committed bool) // called in order once the transaction has ended
}

// onEnd has f called once the transaction has ended: with true once
// COMMIT has been answered, with false once it has failed or its outcome
// is unknown (before its ROLLBACK is sent: f must not need the
// transaction's locks to be released).
func (p *txPipe) onEnd(f func(committed bool)) { p.ends = append(p.ends, f) }

// send sends b, BEGIN first when it has not been sent, and reads b's
// results with read (BEGIN's already read).
func (p *txPipe) send(ctx context.Context, b *pgx.Batch, read func(pgx.BatchResults) error) (err error) {
	if !p.begun {
		b = &pgx.Batch{QueuedQueries: append([]*pgx.QueuedQuery{{SQL: "BEGIN ISOLATION LEVEL READ COMMITTED"}}, b.QueuedQueries...)}
	}
	res := p.conn.SendBatch(ctx, b)
	defer func() {
		if cerr := res.Close(); err == nil {
			err = cerr
		}
	}()
	if !p.begun {
		if _, err := res.Exec(); err != nil {
			return err
		}
		p.begun = true
	}
	return read(res)
}

// copy writes src's rows into table's columns (BEGIN sent first, in a
// round trip of its own, when it has not been).
func (p *txPipe) copy(ctx context.Context, table string, columns []string, src pgx.CopyFromSource) (int64, error) {
	if !p.begun {
		if err := p.send(ctx, &pgx.Batch{}, func(pgx.BatchResults) error { return nil }); err != nil {
			return 0, err
		}
	}
	return p.conn.CopyFrom(ctx, pgx.Identifier{table}, columns, src)
}

// rollbackTimeout bounds the ROLLBACK of a failed pipelined transaction;
// past it the connection is closed, which ends the transaction too.
const rollbackTimeout = 10 * time.Second

// inTxPipe runs one READ COMMITTED transaction on one connection, for a
// group commit: fn sends its steps through the pipe and returns the last
// batch, which COMMIT joins. On any error the transaction is rolled back,
// or the connection closed when its state is unknown, and nothing is
// written.
func (db *DB) inTxPipe(ctx context.Context, fn func(p *txPipe) (*pgx.Batch, error)) (err error) {
	conn, err := db.Pool.Acquire(ctx)
	if err != nil {
		return unavailable("acquire connection", err)
	}
	defer conn.Release()
	p := &txPipe{conn: conn.Conn()}
	committed := false
	defer func() {
		for _, f := range p.ends { // first: nothing waits on a rollback but the connection
			f(committed)
		}
		if !committed && p.begun {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
			defer cancel()
			if _, rerr := conn.Exec(rctx, "ROLLBACK"); rerr != nil {
				conn.Conn().Close(rctx) // do not return a connection in an unknown state
			}
		}
	}()
	last, err := fn(p)
	if err != nil {
		return err
	}
	last.Queue("COMMIT")
	if err = p.send(ctx, last, func(pgx.BatchResults) error { return nil }); err != nil {
		return err
	}
	committed, p.begun = true, false
	return nil
}

// unavailable marks connection-level failures as Unavailable and everything
// else as Internal, keeping the cause for logs.
func unavailable(op string, err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return apperr.Wrap(err, apperr.Internal, op, msg.InternalError)
	}
	return apperr.Wrap(err, apperr.Unavailable, op, msg.DatabaseUnavailable)
}

// Stores returns every store over pool; now is the audit log's clock
// (time.Now when nil).
func Stores(pool *pgxpool.Pool, now func() time.Time) store.Set {
	db := &DB{Pool: pool}
	events := &AuditStore{DB: db, Now: now}
	return store.Set{Tx: db, Audit: events, Agencies: &AgencyStore{DB: db, Audit: events},
		Petitions: &PetitionStore{DB: db, Audit: events}, Replies: &ReplyStore{DB: db}, Receipts: &ReceiptStore{DB: db},
		Accounts: &IdentityStore{DB: db}}
}

// uuidOf is id as a uuid parameter when it is one, written as PostgreSQL
// writes it (lower case, hyphens), the only form pakn hands out; any other
// text is no id of pakn's, found without a query. Compared as a uuid, a
// primary key's index finds the row; compared as text (id::text = $1)
// every row of the table was read.
func uuidOf(id string) (pgtype.UUID, bool) {
	var u pgtype.UUID
	if u.Scan(id) != nil || u.String() != id {
		return pgtype.UUID{}, false
	}
	return u, true
}
